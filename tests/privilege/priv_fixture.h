// Test support for the privilege tests: a flat 32-bit protected-mode
// machine with a real GDT, IDT and TSS in guest memory, so segment loads,
// gates and stack switches read genuine descriptors.
//
// Every IDT vector v has a 32-bit interrupt gate to 0x08:handler(v); the
// handler stubs are NOPs.  The engine's budget is virtual time, and a
// delivered event costs one unit: h.run(2) on a faulting instruction is the
// delivery plus the handler's first NOP, ending with EIP = handler(v) + 1.
// INT n retires and is delivered (two units), so h.run(1) on it ends with
// EIP = handler(v).  A fault while delivering INT n is raised by
// software_int(), which calls deliver_event() as the engine does.
#pragma once

#include <gtest/gtest.h>

#include "privilege/descriptors.h"
#include "privilege/interrupts.h"
#include "support/cpu_harness.h"

namespace vtlab::test {

// Descriptor access bytes (P, DPL, S, type) as the SDM draws them.
namespace acc {
inline constexpr uint8_t kCode0 = 0x9B, kData0 = 0x93, kCode3 = 0xFB, kData3 = 0xF3;
inline constexpr uint8_t kConforming0 = 0x9F;  // conforming, readable, DPL 0
inline constexpr uint8_t kTss32Busy = 0x8B;
inline constexpr uint8_t kIntGate32 = 0x8E, kTrapGate32 = 0x8F, kIntGate16 = 0x86, kTaskGate = 0x85;
inline constexpr uint8_t kCallGate32 = 0x8C;
}  // namespace acc

inline uint64_t segment_descriptor(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags = 0xC) {
  return (limit & 0xFFFF) | (uint64_t{base & 0xFFFFFF} << 16) | (uint64_t{access} << 40) |
         (uint64_t{(limit >> 16) & 0xF} << 48) | (uint64_t{flags & 0xFu} << 52) | (uint64_t{base >> 24} << 56);
}

inline uint64_t gate_descriptor(uint16_t sel, uint32_t offset, uint8_t access) {
  return (offset & 0xFFFF) | (uint64_t{sel} << 16) | (uint64_t{access} << 40) | (uint64_t{offset >> 16} << 48);
}

class PrivTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kGdt = 0x10000, kIdt = 0x11000, kTss = 0x12000, kHandlers = 0x40000;
  static constexpr uint32_t kKernelStack = 0x80000, kUserStack = 0x70000;
  // Selectors of the standard GDT.
  static constexpr uint16_t kCode0 = 0x08, kData0 = 0x10, kCode3 = 0x1B, kData3 = 0x23, kTssSel = 0x28,
                            kConf0 = 0x30;
  static constexpr unsigned kGdtEntries = 32;  // 0x38..0xF8 are free for tests

  PrivTest() : h(32) {
    set_gdt(1, segment_descriptor(0, 0xFFFFF, acc::kCode0));
    set_gdt(2, segment_descriptor(0, 0xFFFFF, acc::kData0));
    set_gdt(3, segment_descriptor(0, 0xFFFFF, acc::kCode3));
    set_gdt(4, segment_descriptor(0, 0xFFFFF, acc::kData3));
    set_gdt(5, segment_descriptor(kTss, 0x67, acc::kTss32Busy, 0));
    set_gdt(6, segment_descriptor(0, 0xFFFFF, acc::kConforming0));
    h.cpu.s.gdtr = {kGdt, kGdtEntries * 8 - 1};
    for (unsigned v = 0; v < 256; ++v) {
      set_idt(v, gate_descriptor(kCode0, handler(v), acc::kIntGate32));
      for (unsigned b = 0; b < 16; ++b) h.mem.write(handler(v) + b, 1, 0x90);  // NOP
    }
    h.cpu.s.idtr = {kIdt, 256 * 8 - 1};
    h.write32(kTss + 4, kKernelStack);  // ESP0
    h.write32(kTss + 8, kData0);        // SS0
    h.cpu.s.tr = segment_cache(kTssSel, gdt(5));
    h.cpu.s.seg[CS] = segment_cache(kCode0, gdt(1));
    for (unsigned s : {ES, SS, DS, FS, GS}) h.cpu.s.seg[s] = segment_cache(kData0, gdt(2));
  }

  static uint32_t handler(unsigned v) { return static_cast<uint32_t>(kHandlers + v * 16); }

  void set_gdt(unsigned index, uint64_t raw) { h.mem.write(kGdt + index * 8, 8, raw); }
  void set_idt(unsigned vector, uint64_t raw) { h.mem.write(kIdt + vector * 8, 8, raw); }
  Descriptor gdt(unsigned index) {
    Descriptor d;
    const uint64_t raw = h.mem.read(kGdt + index * 8, 8);
    d.lo = static_cast<uint32_t>(raw);
    d.hi = static_cast<uint32_t>(raw >> 32);
    d.addr = kGdt + index * 8;
    return d;
  }

  // Puts the CPU at CPL 3 the way an IRET would leave it: CS, SS and the
  // data segments from the ring-3 descriptors, ESP on the user stack.
  void enter_ring3() {
    h.cpu.s.seg[CS] = segment_cache(kCode3, gdt(3));
    for (unsigned s : {ES, SS, DS, FS, GS}) h.cpu.s.seg[s] = segment_cache(kData3, gdt(4));
    h.cpu.s.gpr[RSP] = kUserStack;
  }

  uint32_t esp() const { return h.reg32(RSP); }
  // The i-th doubleword above ESP (segments are flat, paging is off).
  uint32_t stack32(unsigned i) { return h.read32(esp() + 4 * i); }

  // Runs one instruction that faults with `vector`, and checks that the
  // handler was entered (EIP just past its first NOP).
  void expect_fault(uint8_t vector) {
    h.run(2);
    EXPECT_EQ(h.cpu.stop_requested(), StopReason::None) << h.cpu.stop_detail();
    EXPECT_EQ(h.cpu.s.rip, handler(vector) + 1) << "expected vector " << int(vector);
  }

  // INT `vector` at kCode (`len` bytes long) raised and delivered the way
  // the engine does it: the return address is the next instruction.
  void software_int(uint8_t vector, unsigned len = 2) {
    h.cpu.s.rip = CpuHarness::kCode;
    h.cpu.raise_software_int(vector);
    deliver_event(h.cpu, h.cpu.pending(), CpuHarness::kCode + len);
  }
  void expect_delivered(uint8_t vector) {
    EXPECT_EQ(h.cpu.stop_requested(), StopReason::None) << h.cpu.stop_detail();
    EXPECT_EQ(h.cpu.s.rip, handler(vector)) << "expected vector " << int(vector);
  }

  CpuHarness h;
};

}  // namespace vtlab::test
