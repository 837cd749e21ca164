// Test support for the MMX/SSE tests: a CpuHarness with CR4.OSFXSR set (and
// CR0.EM/TS clear), XMM and MMX register access by quadword, and one
// instruction stepped alone so a test sees its fault, not its delivery.
#pragma once

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstring>
#include <string>
#include <vector>

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

// Runs `code` (64-bit, assembled at origin 0, ending in RET) on the host
// CPU itself as a function taking `arg` in RDI: the oracle the SIMD tests
// compare the interpreter with.
inline void run_host_code(const std::vector<uint8_t>& code, void* arg) {
  void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(page, MAP_FAILED);
  ASSERT_LE(code.size(), 4096u);
  std::memcpy(page, code.data(), code.size());
  ASSERT_EQ(mprotect(page, 4096, PROT_READ | PROT_EXEC), 0);
  reinterpret_cast<void (*)(void*)>(page)(arg);
  munmap(page, 4096);
}

}  // namespace vtlab::test
