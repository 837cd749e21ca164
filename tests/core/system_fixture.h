// Shared by the system-instruction tests: run one instruction without
// delivery, check a fault, drop the CPU to a given CPL, snapshot state.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <map>
#include <optional>
#include <string>

#include "core/decoder.h"
#include "core/isa/registry.h"
#include "support/cpu_harness.h"

namespace vtlab::test::system {

// Loads `source` and runs its first instruction through execute_one.
inline Status step(CpuHarness& h, const std::string& source, DecodedInsn* decoded = nullptr) {
  h.load_asm(source);
  return h.execute_one(decoded);
}

inline void expect_fault(const CpuHarness& h, uint8_t vector, std::optional<uint32_t> error) {
  EXPECT_EQ(h.cpu.pending().kind, PendingEvent::Kind::Fault);
  EXPECT_EQ(h.cpu.pending().vector, vector);
  EXPECT_EQ(h.cpu.pending().has_error, error.has_value());
  if (error) {
    EXPECT_EQ(h.cpu.pending().error, *error);
  }
}
inline void expect_gp0(const CpuHarness& h) { expect_fault(h, vec::GP, 0u); }

inline void set_cpl(CpuHarness& h, unsigned cpl) {
  for (SegmentCache& sc : h.cpu.s.seg) {
    sc.attrs = (sc.attrs & ~ar::kDplMask) | (cpl << ar::kDplShift);
    sc.selector = static_cast<uint16_t>((sc.selector & ~3u) | cpl);
  }
}

// What a faulting instruction must leave alone.
struct Snapshot {
  std::array<uint64_t, 16> gpr;
  uint64_t rip, cr0, cr2, cr3, cr4, cr8, efer;
  std::array<uint64_t, 4> pdpte;
  std::array<uint64_t, 8> dr;
  uint64_t gdt_base, idt_base;
  uint32_t gdt_limit, idt_limit;
  std::map<uint32_t, uint64_t> msrs;
  uint16_t fcw, fsw, ftw;
  uint64_t tlb_flushes, data;
  bool operator==(const Snapshot&) const = default;
};

inline Snapshot snapshot(CpuHarness& h) {
  const CpuState& s = h.cpu.s;
  return Snapshot{s.gpr,
                  s.rip,
                  s.cr0, s.cr2, s.cr3, s.cr4, s.cr8,
                  s.efer,
                  s.pdpte,
                  s.dr,
                  s.gdtr.base, s.idtr.base, s.gdtr.limit, s.idtr.limit,
                  s.msrs,
                  s.fpu.fcw, s.fpu.fsw, s.fpu.ftw,
                  h.cpu.tlb.flushes(),
                  h.mem.read(CpuHarness::kData, 8)};
}

}  // namespace vtlab::test::system
