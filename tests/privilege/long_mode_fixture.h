// Test support for the IA-32e-mode privilege tests: a CpuHarness in 64-bit
// mode (4-level paging identity-maps the first 16 MiB) with a GDT holding 64-bit, compatibility-mode and data segments and
// a 16-byte 64-bit TSS descriptor, a 16-byte IDT and a 64-bit TSS (RSP0-2,
// IST1-7) in guest memory (SDM vol. 3, 3.5.2, 6.14.1, 7.7).
//
// Every IDT vector v has a 64-bit interrupt gate to kCode64:handler(v),
// whose stubs are NOPs.  Stacks are chosen so each test can assert every
// pushed quadword at a known address.
#pragma once

#include <gtest/gtest.h>

#include "priv_fixture.h"
#include "privilege/descriptors.h"
#include "privilege/interrupts.h"
#include "support/cpu_harness.h"

namespace vtlab::test {

// Descriptor flag nibbles (G, D/B, L, AVL) for segment_descriptor().
namespace seg_flags {
inline constexpr uint8_t kCode64 = 0xA, kCode32 = 0xC, kData = 0xC, kCodeLongBig = 0xE;
}

// A 16-byte IA-32e system descriptor or gate as two quadwords.
struct Wide {
  uint64_t lo, hi;
};

// 64-bit interrupt/trap gate (type E/F in `access`) with an IST index.
inline Wide gate64(uint16_t sel, uint64_t offset, uint8_t access, unsigned ist = 0) {
  const uint64_t lo = (offset & 0xFFFF) | (uint64_t{sel} << 16) | (uint64_t{ist & 7} << 32) |
                      (uint64_t{access} << 40) | (((offset >> 16) & 0xFFFF) << 48);
  return {lo, offset >> 32};
}

// 16-byte LDT or TSS descriptor: the 8-byte layout plus base 63:32.
inline Wide system64(uint64_t base, uint32_t limit, uint8_t access) {
  return {segment_descriptor(static_cast<uint32_t>(base), limit, access, 0), base >> 32};
}

class LongModeTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kGdt = 0x10000, kIdt = 0x11000, kTss = 0x12000, kHandlers = 0x40000;
  static constexpr uint64_t kKernelStack = 0x7E000, kUserStack = 0x70000, kIst1 = 0x6F008, kRsp1 = 0x6D000;
  // Selectors of the standard GDT.  0x28 is a 16-byte TSS descriptor (two
  // entries); 0x60 onwards are free for tests.
  static constexpr uint16_t kCode64 = 0x08, kData0 = 0x10, kCode64User = 0x1B, kData3 = 0x23, kTssSel = 0x28,
                            kCompat0 = 0x38, kCompatUser = 0x43, kConforming64 = 0x48, kLongBig = 0x50,
                            kCode64Ring1 = 0x59;
  static constexpr unsigned kGdtEntries = 32;

  LongModeTest() : h(64) {
    set_gdt(1, segment_descriptor(0, 0xFFFFF, acc::kCode0, seg_flags::kCode64));
    set_gdt(2, segment_descriptor(0, 0xFFFFF, acc::kData0, seg_flags::kData));
    set_gdt(3, segment_descriptor(0, 0xFFFFF, acc::kCode3, seg_flags::kCode64));
    set_gdt(4, segment_descriptor(0, 0xFFFFF, acc::kData3, seg_flags::kData));
    set_gdt16(5, system64(kTss, 0x67, acc::kTss32Busy));
    set_gdt(7, segment_descriptor(0, 0xFFFFF, acc::kCode0, seg_flags::kCode32));
    set_gdt(8, segment_descriptor(0, 0xFFFFF, acc::kCode3, seg_flags::kCode32));
    set_gdt(9, segment_descriptor(0, 0xFFFFF, acc::kConforming0, seg_flags::kCode64));
    set_gdt(10, segment_descriptor(0, 0xFFFFF, acc::kCode0, seg_flags::kCodeLongBig));
    set_gdt(11, segment_descriptor(0, 0xFFFFF, 0xBB, seg_flags::kCode64));  // DPL 1
    h.cpu.s.gdtr = {kGdt, kGdtEntries * 8 - 1};
    for (unsigned v = 0; v < 256; ++v) {
      set_idt(v, gate64(kCode64, handler(v), acc::kIntGate32));
      for (unsigned b = 0; b < 16; ++b) h.mem.write(handler(v) + b, 1, 0x90);  // NOP
    }
    h.cpu.s.idtr = {kIdt, 256 * 16 - 1};
    h.mem.write(kTss + 4, 8, kKernelStack);  // RSP0
    h.mem.write(kTss + 12, 8, kRsp1);        // RSP1
    h.mem.write(kTss + 36, 8, kIst1);        // IST1
    h.cpu.s.tr = segment_cache(kTssSel, gdt(5));
    h.cpu.s.seg[CS] = segment_cache(kCode64, gdt(1));
    for (unsigned s : {ES, SS, DS, FS, GS}) h.cpu.s.seg[s] = segment_cache(kData0, gdt(2));
  }

  static uint64_t handler(unsigned v) { return kHandlers + v * 16; }

  void set_gdt(unsigned index, uint64_t raw) { h.mem.write(kGdt + index * 8, 8, raw); }
  void set_gdt16(unsigned index, Wide d) {
    h.mem.write(kGdt + index * 8, 8, d.lo);
    h.mem.write(kGdt + index * 8 + 8, 8, d.hi);
  }
  void set_idt(unsigned vector, Wide g) {
    h.mem.write(kIdt + vector * 16, 8, g.lo);
    h.mem.write(kIdt + vector * 16 + 8, 8, g.hi);
  }
  Descriptor gdt(unsigned index) {
    Descriptor d;
    const uint64_t raw = h.mem.read(kGdt + index * 8, 8);
    d.lo = static_cast<uint32_t>(raw);
    d.hi = static_cast<uint32_t>(raw >> 32);
    d.addr = kGdt + index * 8;
    return d;
  }

  // CPL 3 in 64-bit mode (or compatibility mode with `compat`), as an IRET
  // would leave it.
  void enter_ring3(bool compat = false) {
    h.cpu.s.seg[CS] = compat ? segment_cache(kCompatUser, gdt(8)) : segment_cache(kCode64User, gdt(3));
    for (unsigned s : {ES, SS, DS, FS, GS}) h.cpu.s.seg[s] = segment_cache(kData3, gdt(4));
    h.cpu.s.gpr[RSP] = kUserStack;
  }

  uint64_t rsp() const { return h.cpu.s.gpr[RSP]; }
  // The i-th quadword above RSP.
  uint64_t stack64(unsigned i) { return h.mem.read(rsp() + 8 * i, 8); }
  // Writes quadwords upwards from `at` (a frame for IRETQ or RETFQ).
  void put_frame(uint64_t at, std::initializer_list<uint64_t> qwords) {
    for (uint64_t q : qwords) {
      h.mem.write(at, 8, q);
      at += 8;
    }
  }

  // An event delivered as the engine delivers it.
  void deliver(const PendingEvent& ev, uint64_t return_rip) { deliver_event(h.cpu, ev, return_rip); }
  void software_int(uint8_t vector, uint64_t return_rip) {
    h.cpu.raise_software_int(vector);
    deliver(h.cpu.pending(), return_rip);
  }
  void fault(uint8_t vector, uint32_t error, uint64_t return_rip) {
    h.cpu.raise(vector, error);
    deliver(h.cpu.pending(), return_rip);
  }

  CpuHarness h;
};

}  // namespace vtlab::test
