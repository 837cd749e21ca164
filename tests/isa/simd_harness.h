// Test support for the MMX/SSE tests: a CpuHarness with CR4.OSFXSR set (and
// CR0.EM/TS clear), XMM and MMX register access by quadword, and one
// instruction stepped alone so a test sees its fault, not its delivery.
#pragma once

#include <string>

#include "support/cpu_harness.h"

namespace vtlab::test {

struct SimdHarness : CpuHarness {
  explicit SimdHarness(unsigned bits = 32) : CpuHarness(bits) {
    cpu.s.cr4 |= cr4::OSFXSR | cr4::OSXMMEXCPT;
    cpu.s.cr0 &= ~(cr0::EM | cr0::TS);
  }
  void set_xmm(unsigned n, uint64_t lo, uint64_t hi) { cpu.s.sse.xmm[n] = {lo, hi}; }
  uint64_t lo(unsigned n) const { return cpu.s.sse.xmm[n][0]; }
  uint64_t hi(unsigned n) const { return cpu.s.sse.xmm[n][1]; }
  void write64(uint64_t paddr, uint64_t v) { mem.write(paddr, 8, v); }
  uint64_t read64(uint64_t paddr) { return mem.read(paddr, 8); }
  // Assembles `insn` at kCode and runs it through its handler alone.
  Status step(const std::string& insn) {
    load_asm(insn);
    return execute_one();
  }
};

}  // namespace vtlab::test
