// Protection control: LLDT, LTR, SLDT, STR, LAR, LSL, VERR, VERW, ARPL,
// against the SDM vol. 2 pages of each, with the descriptors they read
// built in guest memory.  The unprivileged ones (LAR, LSL, VERR, VERW,
// ARPL) were cross-checked on the host (an Intel Xeon, Linux, ring 3, ARPL
// in compatibility mode): only ZF changes, a failing LAR/LSL leaves its
// destination alone, LAR's 32-bit result has bits 19:16 clear, and an ARPL
// that clears ZF does not write its memory operand.
#include <gtest/gtest.h>

#include "priv_fixture.h"

namespace vtlab::test {

namespace {

constexpr uint32_t kBit1 = flag::kReserved1;
// Every arithmetic flag but ZF: LAR and friends must keep these.
constexpr uint32_t kOtherFlags = flag::CF | flag::PF | flag::AF | flag::SF | flag::OF;

constexpr const char* kEveryInstruction[] = {"lldt ax",    "ltr ax",     "sldt ax", "str ax",     "lar ax, bx",
                                             "lsl ax, bx", "verr ax",    "verw ax", "arpl ax, bx"};

class ProtectCtrl : public PrivTest {
 protected:
  static constexpr uint64_t kLdt = 0x13000, kTss2 = 0x14000;
  // GDT entries of these tests (index * 8).
  static constexpr uint16_t kLdtSel = 0x38, kLdtNotPresent = 0x40, kTss32 = 0x48, kTss16 = 0x50,
                            kTssNotPresent = 0x58, kData2Type = 0x60, kReadOnlyData = 0x68, kProbe = 0x80,
                            kLast = 0xF8;
  // LDT entries: index 1 is a DPL 3 data segment at 0x00ABC000, index 2 a
  // DPL 0 readable code segment; the LDT's limit covers three entries.
  static constexpr uint16_t kLdtData = 0x0C | 3, kLdtCode = 0x14;
  static constexpr uint32_t kLdtDataBase = 0x00ABC000;

  ProtectCtrl() {
    set_gdt(7, segment_descriptor(kLdt, 0x17, 0x82, 0));              // LDT
    set_gdt(8, segment_descriptor(kLdt, 0x17, 0x02, 0));              // LDT, not present
    set_gdt(9, segment_descriptor(kTss2, 0x67, 0x89, 0));             // available 32-bit TSS
    set_gdt(10, segment_descriptor(kTss2, 0x2B, 0x81, 0));            // available 16-bit TSS
    set_gdt(11, segment_descriptor(kTss2, 0x67, 0x09, 0));            // available 32-bit TSS, not present
    set_gdt(12, segment_descriptor(kLdt, 0x17, 0x92, 0));             // data segment of type 2, not an LDT
    set_gdt(13, segment_descriptor(0, 0xFFFFF, 0x91));                // read-only data
    set_gdt(31, segment_descriptor(0, 0xFFFFF, acc::kData3));         // the last entry the GDT limit covers
    h.mem.write(kLdt + 8, 8, segment_descriptor(kLdtDataBase, 0xFFFF, acc::kData3, 0x4));
    h.mem.write(kLdt + 16, 8, segment_descriptor(0, 0xFFFFF, acc::kCode0));
    h.cpu.s.ldtr = SegmentCache{kLdtSel, kLdt, 0x17, ar::kPresent | sys_type::kLdt};
  }

  // Runs one instruction that must retire (no fault delivered): RIP ends
  // just past it, short of the handlers.
  void retire() {
    ASSERT_EQ(h.run(1), StopReason::BudgetExhausted) << h.cpu.stop_detail();
    EXPECT_GT(h.cpu.s.rip, CpuHarness::kCode);
    EXPECT_LT(h.cpu.s.rip, CpuHarness::kCode + 16) << "a fault was delivered";
  }

  // Runs `insn` (already loaded) once more from the start, with AX = sel,
  // and checks the fault and its error code (on the ring-0 stack).
  void expect_selector_fault(uint16_t sel, uint8_t vector, uint32_t error) {
    SCOPED_TRACE(testing::Message() << "selector " << std::hex << sel);
    const uint32_t sp = esp();
    h.cpu.s.rip = CpuHarness::kCode;
    h.cpu.s.gpr[RAX] = sel;
    expect_fault(vector);
    EXPECT_EQ(stack32(0), error);
    EXPECT_EQ(stack32(1), CpuHarness::kCode);
    h.cpu.s.gpr[RSP] = sp;
  }

  // Identity-maps the first 4 MiB with 4 KiB pages, `read_only` without
  // write permission, and turns paging on with CR0.WP so that supervisor
  // stores to that page fault too.
  void map_read_only_page(uint32_t read_only) {
    const uint32_t pd = 0x200000, pt = 0x201000;
    h.write32(pd, pt | 3);
    for (uint32_t i = 0; i < 1024; ++i) h.write32(pt + 4 * i, (i << 12) | ((i << 12) == read_only ? 1 : 3));
    h.cpu.s.cr3 = pd;
    h.cpu.s.cr0 |= cr0::PG | cr0::WP;
    h.cpu.paging_changed(false);
  }

  // LAR/LSL/VERR/VERW with the selector in BX, EAX preset to a marker and
  // every other arithmetic flag set: returns ZF, checks the rest survived.
  bool probe(uint16_t sel, bool zf_in = false) {
    SCOPED_TRACE(testing::Message() << "selector " << std::hex << sel);
    h.cpu.s.rip = CpuHarness::kCode;
    h.cpu.s.gpr[RAX] = 0xDEADBEEF;
    h.cpu.s.gpr[RBX] = sel;
    h.cpu.s.flags.set_bits(kOtherFlags | (zf_in ? flag::ZF : 0u));
    retire();
    EXPECT_EQ(h.flags() & ~flag::ZF, kOtherFlags | kBit1);
    return h.flags() & flag::ZF;
  }
};

// The descriptor probe() reads at kProbe: base 0xAB123456, limit 0x5ABCD,
// AVL and D/B set (flags nibble 0x5), G as given.  For gates the same bits
// are a selector and an offset, which LAR does not care about.
uint64_t probe_descriptor(uint8_t access, bool g = false) {
  return segment_descriptor(0xAB123456, 0x5ABCD, access, g ? 0xD : 0x5);
}

}  // namespace

// --- LLDT -------------------------------------------------------------------------

TEST_F(ProtectCtrl, LldtLoadsLdtrFromTheGdt) {
  h.cpu.s.ldtr = SegmentCache{};
  h.cpu.s.gpr[RAX] = kLdtSel | 3;  // the RPL is kept in LDTR, and ignored
  h.load_asm("lldt ax");
  retire();
  EXPECT_EQ(h.cpu.s.ldtr.selector, kLdtSel | 3);
  EXPECT_EQ(h.cpu.s.ldtr.base, kLdt);
  EXPECT_EQ(h.cpu.s.ldtr.limit, 0x17u);
  EXPECT_EQ(h.cpu.s.ldtr.attrs, ar::kPresent | sys_type::kLdt);
  EXPECT_EQ(gdt(7).hi, static_cast<uint32_t>(segment_descriptor(kLdt, 0x17, 0x82, 0) >> 32));  // no accessed bit

  // TI=1 selectors now index that table.
  h.cpu.s.gpr[RCX] = kLdtData;
  h.load_asm("mov ds, cx");
  retire();
  EXPECT_EQ(h.cpu.s.seg[DS].base, kLdtDataBase);
  EXPECT_EQ(h.cpu.s.seg[DS].selector, kLdtData);
}

TEST_F(ProtectCtrl, LldtReadsAWordFromMemory) {
  h.cpu.s.ldtr = SegmentCache{};
  h.write32(CpuHarness::kData, 0xFFFF0000u | kLdtSel);  // the word above is not part of it
  h.load_asm("lldt [0x20000]");
  retire();
  EXPECT_EQ(h.cpu.s.ldtr.selector, kLdtSel);
  EXPECT_EQ(h.cpu.s.ldtr.base, kLdt);
}

// "If bits 2-15 of the source operand are 0, LDTR is marked invalid": the
// selector stays readable (SLDT), every TI=1 reference then faults, and
// LAR/LSL/VERR/VERW see nothing there.
TEST_F(ProtectCtrl, LldtNullSelectorMakesTheLdtUnusable) {
  h.cpu.s.gpr[RAX] = 3;
  h.load_asm("lldt ax");
  retire();
  EXPECT_EQ(h.cpu.s.ldtr.selector, 3u);
  EXPECT_FALSE(h.cpu.s.ldtr.present());

  h.load_asm("sldt ecx");
  retire();
  EXPECT_EQ(h.reg32(RCX), 3u);

  h.load_asm("lar eax, ebx");
  EXPECT_FALSE(probe(kLdtData));

  h.cpu.s.gpr[RAX] = kLdtData;
  h.load_asm("mov es, ax");
  expect_fault(vec::GP);
  EXPECT_EQ(stack32(0), static_cast<uint32_t>(kLdtData & ~3));
}

TEST_F(ProtectCtrl, LldtFaults) {
  const SegmentCache before = h.cpu.s.ldtr;
  h.load_asm("lldt ax");
  expect_selector_fault(kLdtSel | 4, vec::GP, kLdtSel | 4);   // TI=1: an LDT is described in the GDT
  expect_selector_fault(0x0004, vec::GP, 0x0004);             // TI=1 with index 0 is not null
  expect_selector_fault(0x0100, vec::GP, 0x0100);             // beyond the GDT limit
  expect_selector_fault(kData0, vec::GP, kData0);             // a data segment
  expect_selector_fault(kData2Type, vec::GP, kData2Type);     // type 2, but S=1
  expect_selector_fault(kTssSel, vec::GP, kTssSel);           // a TSS
  expect_selector_fault(kLdtNotPresent | 1, vec::NP, kLdtNotPresent);
  EXPECT_EQ(h.cpu.s.ldtr.selector, before.selector);
  EXPECT_EQ(h.cpu.s.ldtr.attrs, before.attrs);
}

// The CPL check comes first: at CPL 3 even a bad selector gives #GP(0).
TEST_F(ProtectCtrl, LldtIsPrivileged) {
  enter_ring3();
  h.cpu.s.gpr[RAX] = 0x0104;
  h.load_asm("lldt ax");
  expect_fault(vec::GP);
  EXPECT_EQ(stack32(0), 0u);
  EXPECT_EQ(stack32(2), kCode3);  // the fault came from ring 3
  EXPECT_EQ(h.cpu.s.ldtr.selector, kLdtSel);
}

// --- LTR --------------------------------------------------------------------------

TEST_F(ProtectCtrl, LtrLoadsTrAndMarksTheTssBusy) {
  const uint64_t raw = h.mem.read(kGdt + 9 * 8, 8);
  h.cpu.s.gpr[RAX] = kTss32 | 2;
  h.load_asm("ltr ax");
  retire();
  EXPECT_EQ(h.cpu.s.tr.selector, kTss32 | 2);
  EXPECT_EQ(h.cpu.s.tr.base, kTss2);
  EXPECT_EQ(h.cpu.s.tr.limit, 0x67u);
  EXPECT_EQ(h.cpu.s.tr.attrs, ar::kPresent | sys_type::kTss32Busy);
  EXPECT_EQ(h.mem.read(kGdt + 9 * 8, 8), raw | (uint64_t{2} << 40));  // type 9 -> B, nothing else

  // A second LTR of the same TSS finds it busy.
  h.load_asm("ltr ax");
  expect_selector_fault(kTss32, vec::GP, kTss32);
}

TEST_F(ProtectCtrl, LtrAccepts16BitTss) {
  h.write32(CpuHarness::kData, kTss16);
  h.load_asm("ltr [0x20000]");
  retire();
  EXPECT_EQ(h.cpu.s.tr.selector, kTss16);
  EXPECT_EQ(h.cpu.s.tr.limit, 0x2Bu);
  EXPECT_EQ(h.cpu.s.tr.attrs, ar::kPresent | sys_type::kTss16Busy);
  EXPECT_EQ(gdt(10).type(), sys_type::kTss16Busy);
}

TEST_F(ProtectCtrl, LtrFaults) {
  const uint64_t not_present = h.mem.read(kGdt + 11 * 8, 8);
  h.load_asm("ltr ax");
  expect_selector_fault(0x0000, vec::GP, 0);               // null
  expect_selector_fault(0x0003, vec::GP, 0);               // null with an RPL
  expect_selector_fault(kTss32 | 4, vec::GP, kTss32 | 4);  // TI=1
  expect_selector_fault(0x0100, vec::GP, 0x0100);          // beyond the GDT limit
  expect_selector_fault(kTssSel, vec::GP, kTssSel);        // busy
  expect_selector_fault(kLdtSel, vec::GP, kLdtSel);        // an LDT
  expect_selector_fault(kData0, vec::GP, kData0);          // a data segment (type 3: not a busy 16-bit TSS)
  set_gdt(14, probe_descriptor(0x89 | 0x10));               // type 9 with S=1: code/data, not a TSS
  expect_selector_fault(0x70, vec::GP, 0x70);
  set_gdt(15, gate_descriptor(kCode0, 0x1234, acc::kCallGate32));
  expect_selector_fault(0x78, vec::GP, 0x78);
  expect_selector_fault(kTssNotPresent, vec::NP, kTssNotPresent);
  EXPECT_EQ(h.mem.read(kGdt + 11 * 8, 8), not_present);  // not marked busy
  EXPECT_EQ(h.cpu.s.tr.selector, kTssSel);
}

TEST_F(ProtectCtrl, LtrIsPrivileged) {
  enter_ring3();
  h.cpu.s.gpr[RAX] = kTss32;
  h.load_asm("ltr ax");
  expect_fault(vec::GP);
  EXPECT_EQ(stack32(0), 0u);
  EXPECT_EQ(gdt(9).type(), sys_type::kTss32Available);
}

// Setting the busy bit is a store to the GDT: on a read-only page (CR0.WP)
// it page-faults, and neither TR nor the descriptor has changed.
TEST_F(ProtectCtrl, LtrBusyBitStoreCanPageFault) {
  map_read_only_page(kGdt);
  h.cpu.s.gpr[RAX] = kTss32;
  h.load_asm("ltr ax");
  expect_fault(vec::PF);
  EXPECT_EQ(stack32(0), 3u);  // present, write, supervisor
  EXPECT_EQ(h.cpu.s.cr2, kGdt + kTss32 + 5);
  EXPECT_EQ(h.cpu.s.tr.selector, kTssSel);
  EXPECT_EQ(gdt(9).type(), sys_type::kTss32Available);
}

// --- SLDT, STR ----------------------------------------------------------------

TEST_F(ProtectCtrl, SldtAndStrStoreTheSelectors) {
  h.write32(CpuHarness::kData, 0xDEADBEEF);
  h.write32(CpuHarness::kData + 4, 0xDEADBEEF);
  h.cpu.s.gpr[RAX] = h.cpu.s.gpr[RBX] = h.cpu.s.gpr[RCX] = h.cpu.s.gpr[RDX] = 0xDEADBEEF;
  h.load_asm(R"(
    sldt eax
    sldt bx
    str ecx
    str dx
    sldt word ptr [0x20000]
    str word ptr [0x20004]
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RAX), 0x00000038u);  // a 32-bit register: zero-extended
  EXPECT_EQ(h.reg32(RBX), 0xDEAD0038u);  // a 16-bit register: the upper half stays
  EXPECT_EQ(h.reg32(RCX), 0x00000028u);
  EXPECT_EQ(h.reg32(RDX), 0xDEAD0028u);
  EXPECT_EQ(h.read32(CpuHarness::kData), 0xDEAD0038u);  // memory: 16 bits
  EXPECT_EQ(h.read32(CpuHarness::kData + 4), 0xDEAD0028u);
}

// Not privileged: ring 3 reads LDTR and TR (a virtualization hole).
TEST_F(ProtectCtrl, SldtAndStrWorkAtCpl3) {
  enter_ring3();
  h.load_asm("sldt eax\nstr ecx");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RAX), kLdtSel);
  EXPECT_EQ(h.reg32(RCX), kTssSel);
}

TEST_F(ProtectCtrl, SldtToAReadOnlySegmentFaults) {
  h.cpu.s.seg[ES] = segment_cache(kReadOnlyData, gdt(13));
  h.load_asm("sldt word ptr es:[0x20000]");
  expect_fault(vec::GP);
  EXPECT_EQ(stack32(0), 0u);
}

// --- LAR, LSL ---------------------------------------------------------------------

// Every system type at DPL 3, so that only the type decides (SDM vol. 2,
// the LAR and LSL tables for protected mode).
TEST_F(ProtectCtrl, LarAndLslAcceptTheSystemTypesTheSdmLists) {
  //                                  0  1  2  3  4  5  6  7  8  9  A  B  C  D  E  F
  constexpr bool kLarValid[16] = {0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0};
  constexpr bool kLslValid[16] = {0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0};
  for (unsigned type = 0; type < 16; ++type) {
    SCOPED_TRACE(testing::Message() << "type " << type);
    const uint8_t access = static_cast<uint8_t>(0xE0 | type);  // P, DPL 3, S=0
    set_gdt(16, probe_descriptor(access));
    h.load_asm("lar eax, ebx");
    EXPECT_EQ(probe(kProbe), kLarValid[type]);
    EXPECT_EQ(h.reg32(RAX), kLarValid[type] ? 0x00500000u | (access << 8) : 0xDEADBEEF);
    h.load_asm("lsl eax, ebx");
    EXPECT_EQ(probe(kProbe, /*zf_in=*/true), kLslValid[type]);
    EXPECT_EQ(h.reg32(RAX), kLslValid[type] ? 0x0005ABCDu : 0xDEADBEEF);
  }
}

// Every code and data type qualifies; the access rights are reported as the
// descriptor holds them (accessed bit, present bit and all), and reading
// them sets no accessed bit.
TEST_F(ProtectCtrl, LarAndLslAcceptEveryCodeAndDataType) {
  for (unsigned type = 0; type < 16; ++type) {
    SCOPED_TRACE(testing::Message() << "type " << type);
    for (uint8_t present : {0x80, 0x00}) {
      const auto access = static_cast<uint8_t>(present | 0x70 | type);  // DPL 3, S=1
      set_gdt(16, probe_descriptor(access, /*g=*/true));
      h.load_asm("lar eax, ebx");
      EXPECT_TRUE(probe(kProbe | 3));
      EXPECT_EQ(h.reg32(RAX), 0x00D00000u | (access << 8));
      h.load_asm("lsl eax, ebx");
      EXPECT_TRUE(probe(kProbe | 3));
      EXPECT_EQ(h.reg32(RAX), 0x5ABCDFFFu);  // G: limit * 4096 + 4095
      EXPECT_EQ(gdt(16).hi, static_cast<uint32_t>(probe_descriptor(access, true) >> 32));
    }
  }
}

TEST_F(ProtectCtrl, LarAndLsl16BitForms) {
  set_gdt(16, probe_descriptor(0xF2, /*g=*/true));
  h.write32(CpuHarness::kData, 0xFFFF0000u | kProbe);  // the word above is junk
  h.load_asm("lar ax, bx");
  EXPECT_TRUE(probe(kProbe));
  EXPECT_EQ(h.reg32(RAX), 0xDEADF200u);  // mask FF00, the upper half kept
  h.load_asm("lsl ax, bx");
  EXPECT_TRUE(probe(kProbe));
  EXPECT_EQ(h.reg32(RAX), 0xDEADDFFFu);  // the low word of 5ABCDFFF
  h.load_asm("lsl ax, word ptr [0x20000]");
  EXPECT_TRUE(probe(0));
  EXPECT_EQ(h.reg32(RAX), 0xDEADDFFFu);
  h.load_asm("lar eax, word ptr [0x20000]");
  EXPECT_TRUE(probe(0));
  EXPECT_EQ(h.reg32(RAX), 0x00D0F200u);
  // A 32-bit source register: only its low word is the selector.
  h.load_asm("lar eax, ebx");
  h.cpu.s.gpr[RBX] = 0xFFFF0000u | kProbe;
  retire();
  EXPECT_TRUE(h.flags() & flag::ZF);
  EXPECT_EQ(h.reg32(RAX), 0x00D0F200u);
}

// LSL reports the limit field, expanded by G, whatever the segment's
// direction: for an expand-down segment that is the bound below the valid
// offsets.
TEST_F(ProtectCtrl, LslOfExpandDownAndByteGranularSegments) {
  set_gdt(16, segment_descriptor(0, 0x0FFF, 0xF7, 0x4));  // expand-down, writable, G=0
  h.load_asm("lsl eax, ebx");
  EXPECT_TRUE(probe(kProbe));
  EXPECT_EQ(h.reg32(RAX), 0x00000FFFu);
  set_gdt(16, segment_descriptor(0, 0x00000, 0xF3, 0xC));  // G=1, limit 0: 4 KiB
  EXPECT_TRUE(probe(kProbe));
  EXPECT_EQ(h.reg32(RAX), 0x00000FFFu);
}

// --- visibility (shared by LAR, LSL, VERR, VERW) ----------------------------------

struct Visibility {
  uint8_t access;  // of the descriptor at kProbe
  unsigned cpl, rpl;
  bool lar, lsl, verr, verw;
};

TEST_F(ProtectCtrl, VisibilityFollowsCplRplAndDpl) {
  const Visibility cases[] = {
      {0x93, 0, 0, true, true, true, true},      // data DPL 0 at CPL 0
      {0x93, 0, 1, false, false, false, false},  // RPL 1 > DPL 0
      {0x93, 3, 3, false, false, false, false},  // CPL 3 > DPL 0
      {0xB3, 1, 1, true, true, true, true},      // data DPL 1 at CPL 1
      {0xD3, 3, 2, false, false, false, false},  // data DPL 2, CPL 3
      {0xD3, 0, 3, false, false, false, false},  // data DPL 2, RPL 3
      {0xF3, 3, 3, true, true, true, true},      // data DPL 3 from anywhere
      {0x9B, 3, 3, false, false, false, false},  // non-conforming code DPL 0 at CPL 3
      {0xFB, 3, 3, true, true, true, false},     // code DPL 3: readable, never writable
      {0x9F, 3, 3, true, true, true, false},     // conforming readable code DPL 0: visible from ring 3
      {0x9D, 3, 3, true, true, false, false},    // conforming execute-only code
      {0x89, 3, 3, false, false, false, false},  // a TSS (system descriptors get no exemption)
      {0x89, 0, 0, true, true, false, false},    // a TSS at CPL 0
      {0xE9, 3, 3, true, true, false, false},    // a DPL 3 TSS
      {0xEC, 3, 3, true, false, false, false},   // a DPL 3 call gate: access rights, no limit
      {0xE2, 3, 3, true, true, false, false},    // a DPL 3 LDT
  };
  for (const Visibility& c : cases) {
    SCOPED_TRACE(testing::Message() << "access " << std::hex << int(c.access) << " cpl " << c.cpl << " rpl "
                                    << c.rpl);
    set_gdt(16, probe_descriptor(c.access));
    // CPL is SS.DPL; CS follows for realism, but only SS decides.
    h.cpu.s.seg[SS].attrs = (h.cpu.s.seg[SS].attrs & ~ar::kDplMask) | (c.cpl << ar::kDplShift);
    h.cpu.s.seg[CS].attrs = (h.cpu.s.seg[CS].attrs & ~ar::kDplMask) | (c.cpl << ar::kDplShift);
    const uint16_t sel = static_cast<uint16_t>(kProbe | c.rpl);
    h.load_asm("lar eax, ebx");
    EXPECT_EQ(probe(sel), c.lar);
    h.load_asm("lsl eax, ebx");
    EXPECT_EQ(probe(sel, true), c.lsl);
    h.load_asm("verr bx");
    EXPECT_EQ(probe(sel), c.verr);
    h.load_asm("verw bx");
    EXPECT_EQ(probe(sel, true), c.verw);
  }
}

// Selectors that name no descriptor clear ZF and nothing faults.  GDT entry
// 0 holds a valid data descriptor here, so only the null check refuses it.
TEST_F(ProtectCtrl, UnreachableSelectorsClearZf) {
  set_gdt(0, segment_descriptor(0, 0xFFFFF, acc::kData3));
  for (const char* insn : {"lar eax, ebx", "lsl eax, ebx", "verr bx", "verw bx"}) {
    SCOPED_TRACE(insn);
    h.load_asm(insn);
    EXPECT_FALSE(probe(0x0000, true));
    EXPECT_FALSE(probe(0x0003, true));
    EXPECT_TRUE(probe(kLast | 3));           // the last entry inside the GDT limit
    EXPECT_FALSE(probe(kLast + 8, true));    // the first beyond it
    EXPECT_TRUE(probe(kLdtData));            // TI=1: the LDT's entry 1
    EXPECT_FALSE(probe(0x001C | 3, true));   // TI=1 beyond the LDT's limit (3 entries)
    EXPECT_EQ(h.reg32(RAX), 0xDEADBEEF);
  }
  // The LDT's own entries, read through TI=1.
  h.load_asm("lar eax, ebx");
  EXPECT_TRUE(probe(kLdtCode));
  EXPECT_EQ(h.reg32(RAX), 0x00C09B00u);
  h.load_asm("lsl eax, ebx");
  EXPECT_TRUE(probe(kLdtData));
  EXPECT_EQ(h.reg32(RAX), 0x0000FFFFu);
}

// --- VERR, VERW -------------------------------------------------------------------

TEST_F(ProtectCtrl, VerrAndVerwByType) {
  for (unsigned type = 0; type < 16; ++type) {
    SCOPED_TRACE(testing::Message() << "type " << type);
    const bool code = type & 8;
    const bool readable = !code || (type & 2);
    const bool writable = !code && (type & 2);
    set_gdt(16, probe_descriptor(static_cast<uint8_t>(0xF0 | type)));  // DPL 3, S=1
    h.load_asm("verr bx");
    EXPECT_EQ(probe(kProbe | 3), readable);
    h.load_asm("verw bx");
    EXPECT_EQ(probe(kProbe | 3, true), writable);
    set_gdt(16, probe_descriptor(static_cast<uint8_t>(0xE0 | type)));  // the same type, S=0
    h.load_asm("verr bx");
    EXPECT_FALSE(probe(kProbe | 3, true));
    h.load_asm("verw bx");
    EXPECT_FALSE(probe(kProbe | 3, true));
  }
}

// The presence of the segment is not checked; a memory operand gives 16 bits.
TEST_F(ProtectCtrl, VerrAndVerwIgnorePresenceAndReadMemory) {
  set_gdt(16, probe_descriptor(0x73));  // data DPL 3, not present
  h.write32(CpuHarness::kData, 0x00070000u | kProbe);
  h.load_asm("verr word ptr [0x20000]");
  EXPECT_TRUE(probe(0));
  h.load_asm("verw word ptr [0x20000]");
  EXPECT_TRUE(probe(0));
}

// --- ARPL ------------------------------------------------------------------------

// All 16 RPL pairs, as measured on the host: ZF=1 and the RPL raised when
// the destination's is lower, otherwise nothing but ZF=0.
TEST_F(ProtectCtrl, ArplRaisesTheRpl) {
  h.load_asm("arpl ax, cx");
  for (uint32_t dst = 0; dst < 4; ++dst) {
    for (uint32_t src = 0; src < 4; ++src) {
      SCOPED_TRACE(testing::Message() << "dst " << dst << " src " << src);
      h.cpu.s.rip = CpuHarness::kCode;
      h.cpu.s.gpr[RAX] = 0xABCD1230 | dst;
      h.cpu.s.gpr[RCX] = 0x55550000 | src;
      h.cpu.s.flags.set_bits(kOtherFlags | (dst < src ? 0u : flag::ZF));
      retire();
      EXPECT_EQ(h.reg32(RAX), 0xABCD1230 | std::max(dst, src));
      EXPECT_EQ(h.reg32(RCX), 0x55550000 | src);
      EXPECT_EQ(h.flags(), kOtherFlags | kBit1 | (dst < src ? flag::ZF : 0u));
    }
  }
}

TEST_F(ProtectCtrl, ArplMemoryDestination) {
  h.write32(CpuHarness::kData, 0xFFFF1231);
  h.cpu.s.gpr[RCX] = 3;
  h.load_asm("arpl [0x20000], cx");
  retire();
  EXPECT_EQ(h.read32(CpuHarness::kData), 0xFFFF1233u);
  EXPECT_TRUE(h.flags() & flag::ZF);
}

// An ARPL that leaves the selector alone does not store it: no fault on a
// read-only page (the host agrees); one that raises the RPL does fault.
TEST_F(ProtectCtrl, ArplStoresOnlyWhenItChangesTheSelector) {
  map_read_only_page(CpuHarness::kData);
  h.write32(CpuHarness::kData, 0x1231);
  h.cpu.s.gpr[RCX] = 0;
  h.load_asm("arpl [0x20000], cx");
  retire();
  EXPECT_FALSE(h.flags() & flag::ZF);

  h.cpu.s.gpr[RCX] = 3;
  h.cpu.s.rip = CpuHarness::kCode;
  expect_fault(vec::PF);
  EXPECT_EQ(stack32(0), 3u);
  EXPECT_EQ(h.cpu.s.cr2, CpuHarness::kData);
  EXPECT_EQ(h.read32(CpuHarness::kData), 0x1231u);
}

// A destination in a read-only segment is #GP(0) whatever the outcome (the
// SDM lists it unconditionally).
TEST_F(ProtectCtrl, ArplIntoAReadOnlySegmentFaults) {
  h.cpu.s.seg[ES] = segment_cache(kReadOnlyData, gdt(13));
  h.write32(CpuHarness::kData, 0x1233);
  h.cpu.s.gpr[RCX] = 0;
  h.load_asm("arpl es:[0x20000], cx");
  expect_fault(vec::GP);
  EXPECT_EQ(stack32(0), 0u);
}

// --- modes --------------------------------------------------------------------------

// None of the nine exists in real-address mode.
TEST(ProtectCtrlModes, RealModeRaisesUd) {
  for (const char* insn : kEveryInstruction) {
    SCOPED_TRACE(insn);
    CpuHarness h(16);
    h.cpu.s.gpr[RAX] = 0x38;
    h.cpu.s.gpr[RBX] = 0x10;
    h.load_asm(insn);
    ASSERT_EQ(h.execute_one(), Status::Exception);
    EXPECT_EQ(h.cpu.pending().vector, vec::UD);
    EXPECT_EQ(h.reg32(RAX), 0x38u);
    EXPECT_EQ(h.cpu.s.rip, CpuHarness::kCode);
  }
}

// Nor in virtual-8086 mode, where the CPL is 3: #UD, not the #GP(0) of a
// privileged instruction.  (execute_one: the engine cannot deliver an
// exception from virtual-8086 mode yet.)
TEST_F(ProtectCtrl, Virtual8086ModeRaisesUd) {
  enter_ring3();
  for (SegmentCache& sc : h.cpu.s.seg) sc.limit = 0xFFFF;
  h.cpu.s.flags.set(flag::VM, true);
  for (const char* insn : kEveryInstruction) {
    SCOPED_TRACE(insn);
    h.cpu.s.gpr[RAX] = kLdtSel;
    h.cpu.s.gpr[RBX] = kData0;
    h.load_asm(insn);
    ASSERT_EQ(h.execute_one(), Status::Exception);
    EXPECT_EQ(h.cpu.pending().vector, vec::UD);
    EXPECT_EQ(h.reg32(RAX), kLdtSel);
  }
}

}  // namespace vtlab::test
