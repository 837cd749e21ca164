// Segment-register loads and stores: MOV Sreg, POP Sreg, LDS..LSS, MOV
// r/m,Sreg, with every protected-mode check of SDM vol. 2 "MOV" and the
// real-mode rules; plus BOUND and MOV CS.
#include <gtest/gtest.h>

#include "priv_fixture.h"
#include "privilege/segment_load.h"

namespace vtlab::test {

namespace {

// Extra descriptors for these tests (GDT index -> selector index * 8).
constexpr uint16_t kNotPresentData = 0x38, kExecOnly = 0x40, kReadOnlyData = 0x50, kUnaccessedData = 0x58,
                   kUnaccessedData3 = 0x68, kConformingExecOnly = 0x70, kDataDpl1 = 0x78;

class SegmentLoad : public PrivTest {
 protected:
  SegmentLoad() {
    set_gdt(7, segment_descriptor(0, 0xFFFFF, 0x13));                  // data, DPL 0, not present
    set_gdt(8, segment_descriptor(0, 0xFFFFF, 0x99));                  // code, execute-only
    set_gdt(10, segment_descriptor(0, 0xFFFFF, 0x91));                 // data, read-only
    set_gdt(11, segment_descriptor(0x12345000, 0x00FFF, 0x92, 0x4));   // data, not accessed
    set_gdt(13, segment_descriptor(0, 0xFFFFF, 0xF2));                 // data DPL 3, not accessed
    set_gdt(14, segment_descriptor(0, 0xFFFFF, 0x9D));                 // conforming, execute-only
    set_gdt(15, segment_descriptor(0, 0xFFFFF, 0xB3));                 // data, DPL 1
  }

  // Runs `mov <seg>, ax` with AX = sel and checks the fault it raises.
  void expect_load_fault(const char* seg, uint16_t sel, uint8_t vector, uint32_t error) {
    SCOPED_TRACE(testing::Message() << seg << " <- " << std::hex << sel);
    const uint32_t sp = esp();
    h.cpu.s.gpr[RAX] = sel;
    h.load_asm(std::string("mov ") + seg + ", ax");
    expect_fault(vector);
    EXPECT_EQ(stack32(0), error);
    EXPECT_EQ(stack32(1), CpuHarness::kCode);
    h.cpu.s.gpr[RSP] = sp;
  }
};

}  // namespace

TEST_F(SegmentLoad, DataSegmentChecksAtCpl0) {
  h.cpu.s.ldtr.attrs &= ~ar::kPresent;  // no LDT
  expect_load_fault("ds", 0x0100, vec::GP, 0x0100);       // beyond the GDT limit
  expect_load_fault("ds", 0x0104, vec::GP, 0x0104);       // TI=1 without an LDT
  expect_load_fault("es", kTssSel, vec::GP, kTssSel);     // system descriptor
  expect_load_fault("fs", kExecOnly, vec::GP, kExecOnly); // code, not readable
  expect_load_fault("gs", kConformingExecOnly, vec::GP, kConformingExecOnly);
  expect_load_fault("ds", kData0 | 3, vec::GP, kData0);   // RPL 3 > DPL 0
  expect_load_fault("ds", kNotPresentData, vec::NP, kNotPresentData);
}

TEST_F(SegmentLoad, DataSegmentChecksAtCpl3) {
  enter_ring3();
  // The #GP handler switches to the ring-0 stack; the frame is there.
  expect_load_fault("ds", kData0, vec::GP, kData0);            // CPL 3 > DPL 0
  h.cpu.s.seg[SS] = segment_cache(kData3, gdt(4));             // back to ring 3 for the next
  h.cpu.s.seg[CS] = segment_cache(kCode3, gdt(3));
  h.cpu.s.gpr[RSP] = kUserStack;
  expect_load_fault("es", kCode0 | 3, vec::GP, kCode0);        // non-conforming code, DPL 0
  h.cpu.s.seg[SS] = segment_cache(kData3, gdt(4));
  h.cpu.s.seg[CS] = segment_cache(kCode3, gdt(3));
  h.cpu.s.gpr[RSP] = kUserStack;
  expect_load_fault("fs", kDataDpl1 | 3, vec::GP, kDataDpl1);  // DPL 1
}

TEST_F(SegmentLoad, LegalDataSegmentLoads) {
  h.cpu.s.gpr[RAX] = kCode0;  // readable code
  h.cpu.s.gpr[RBX] = kReadOnlyData;
  h.load_asm("mov ds, ax\nmov es, bx");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.s.seg[DS].selector, kCode0);
  EXPECT_EQ(h.cpu.s.seg[DS].attrs, gdt(1).attrs());
  EXPECT_EQ(h.cpu.s.seg[ES].selector, kReadOnlyData);
  EXPECT_EQ(h.cpu.s.seg[ES].attrs, gdt(10).attrs() | ar::kAccessed);

  // Conforming readable code may be loaded from any level, with any RPL.
  enter_ring3();
  h.cpu.s.gpr[RAX] = kConf0 | 3;
  h.load_asm("mov gs, ax");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.s.seg[GS].selector, kConf0 | 3);
  EXPECT_TRUE(h.cpu.s.seg[GS].present());
}

TEST_F(SegmentLoad, AccessedBitIsWrittenBackAndCacheFilled) {
  EXPECT_EQ(h.mem.read(kGdt + kUnaccessedData + 5, 1), 0x92u);
  h.cpu.s.gpr[RAX] = kUnaccessedData;
  h.load_asm("mov fs, ax");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.mem.read(kGdt + kUnaccessedData + 5, 1), 0x93u);
  const SegmentCache& fs = h.cpu.s.seg[FS];
  EXPECT_EQ(fs.base, 0x12345000u);
  EXPECT_EQ(fs.limit, 0xFFFu);
  EXPECT_EQ(fs.attrs, ar::kPresent | ar::kS | ar::kWritable | ar::kAccessed | ar::kDb);
}

TEST_F(SegmentLoad, AFailedLoadLeavesTheRegisterAndTheAccessedBit) {
  set_gdt(11, segment_descriptor(0, 0xFFFFF, 0x12));  // not accessed and not present
  const SegmentCache before = h.cpu.s.seg[DS];
  expect_load_fault("ds", kUnaccessedData, vec::NP, kUnaccessedData);
  EXPECT_EQ(h.mem.read(kGdt + kUnaccessedData + 5, 1), 0x12u);
  EXPECT_EQ(h.cpu.s.seg[DS].selector, before.selector);
  EXPECT_EQ(h.cpu.s.seg[DS].attrs, before.attrs);
}

TEST_F(SegmentLoad, NullDataSegmentLoadsButFaultsOnUse) {
  h.cpu.s.gpr[RAX] = 0x0003;  // null, with RPL 3
  h.load_asm("mov ds, ax\nmov eax, dword ptr [0x100]");
  h.run(1);
  EXPECT_EQ(h.cpu.s.seg[DS].selector, 0x0003);
  EXPECT_FALSE(h.cpu.s.seg[DS].present());
  expect_fault(vec::GP);
  EXPECT_EQ(stack32(0), 0u);
  EXPECT_EQ(stack32(1), CpuHarness::kCode + 2);  // the MOV that used DS
}

TEST_F(SegmentLoad, StackSegmentChecks) {
  set_gdt(16, segment_descriptor(0, 0xFFFFF, 0x13));  // 0x80: data DPL 0 not present, for #SS
  expect_load_fault("ss", 0x0000, vec::GP, 0);
  expect_load_fault("ss", 0x0003, vec::GP, 0);
  expect_load_fault("ss", 0x0100, vec::GP, 0x0100);       // beyond the GDT
  expect_load_fault("ss", kData0 | 3, vec::GP, kData0);   // RPL != CPL
  expect_load_fault("ss", kData3 & ~3, vec::GP, 0x20);    // DPL 3 != CPL 0
  expect_load_fault("ss", kReadOnlyData, vec::GP, kReadOnlyData);
  expect_load_fault("ss", kCode0, vec::GP, kCode0);
  expect_load_fault("ss", 0x80, vec::SS, 0x80);
}

TEST_F(SegmentLoad, StackSegmentLoadAtCpl3) {
  enter_ring3();
  h.cpu.s.gpr[RAX] = kUnaccessedData3 | 3;
  h.load_asm("mov ss, ax");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.s.seg[SS].selector, kUnaccessedData3 | 3);
  EXPECT_EQ(h.cpu.s.cpl(), 3u);
  EXPECT_EQ(h.mem.read(kGdt + kUnaccessedData3 + 5, 1), 0xF3u);
}

TEST_F(SegmentLoad, PopSregLoadsThenMovesEsp) {
  h.write32(CpuHarness::kStack - 8, kData3);
  h.write32(CpuHarness::kStack - 4, kUnaccessedData);
  h.cpu.s.gpr[RSP] = CpuHarness::kStack - 8;
  h.load_asm("pop es\npopw ss");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.s.seg[ES].selector, kData3);
  EXPECT_EQ(h.cpu.s.seg[SS].selector, kUnaccessedData);
  EXPECT_EQ(esp(), CpuHarness::kStack - 2);  // 4 for POP ES, 2 for POPW SS
}

TEST_F(SegmentLoad, PopSsThatFaultsLeavesEsp) {
  h.write32(CpuHarness::kStack - 4, kReadOnlyData);
  h.cpu.s.gpr[RSP] = CpuHarness::kStack - 4;
  h.load_asm("pop ss");
  expect_fault(vec::GP);
  EXPECT_EQ(esp(), CpuHarness::kStack - 4 - 12 - 4);  // the frame sits right below the unpopped value
  EXPECT_EQ(stack32(0), kReadOnlyData);
  EXPECT_EQ(stack32(4), kReadOnlyData);
  EXPECT_EQ(h.cpu.s.seg[SS].selector, kData0);
}

TEST_F(SegmentLoad, LoadFarPointerInstructions) {
  h.write32(0x20000, 0x12345678);
  h.mem.write(0x20004, 2, kData3);
  h.write32(0x20010, 0x0008'5000);
  h.mem.write(0x20014, 2, kUnaccessedData);
  h.load_asm(R"(
    lds ebx, [0x20000]
    lss edx, [0x20010]
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RBX), 0x12345678u);
  EXPECT_EQ(h.cpu.s.seg[DS].selector, kData3);
  EXPECT_EQ(h.reg32(RDX), 0x0008'5000u);
  EXPECT_EQ(h.cpu.s.seg[SS].selector, kUnaccessedData);
  EXPECT_EQ(h.cpu.s.seg[SS].base, 0x12345000u);
}

TEST_F(SegmentLoad, LoadFarPointerFaultLeavesTheRegister) {
  h.write32(0x20000, 0x12345678);
  h.mem.write(0x20004, 2, kNotPresentData);
  h.cpu.s.gpr[RCX] = 0xCAFE;
  h.load_asm("les ecx, [0x20000]");
  expect_fault(vec::NP);
  EXPECT_EQ(stack32(0), kNotPresentData);
  EXPECT_EQ(h.reg32(RCX), 0xCAFEu);
  EXPECT_EQ(h.cpu.s.seg[ES].selector, kData0);
}

TEST_F(SegmentLoad, SixteenBitLoadFarPointer) {
  h.mem.write(0x20010, 2, 0xBEEF);
  h.mem.write(0x20012, 2, kUnaccessedData);
  h.cpu.s.gpr[RCX] = 0x1234'5678;
  h.load_asm("lgs cx, [0x20010]");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RCX), 0x1234'BEEFu);
  EXPECT_EQ(h.cpu.s.seg[GS].selector, kUnaccessedData);
}

TEST_F(SegmentLoad, MovFromSegmentRegister) {
  h.cpu.s.gpr[RAX] = 0xFFFF'FFFF;
  h.cpu.s.gpr[RBX] = 0xFFFF'FFFF;
  h.write32(0x20000, 0xAAAA'AAAA);
  h.cpu.s.seg[ES].selector = 0x1234;
  h.load_asm(R"(
    mov eax, ds
    mov bx, es
    mov word ptr [0x20000], es
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  // Matches this host: `mov eax, ss` gives 0x0000002b, `mov ax, ss` keeps
  // the upper half, and the memory form stores 16 bits.
  EXPECT_EQ(h.reg32(RAX), kData0);
  EXPECT_EQ(h.reg32(RBX), 0xFFFF'1234u);
  EXPECT_EQ(h.read32(0x20000), 0xAAAA'1234u);
}

TEST_F(SegmentLoad, MovCsIsUndefined) {
  h.load({0x8E, 0xC8});  // mov cs, ax
  expect_fault(vec::UD);
  EXPECT_EQ(h.cpu.s.seg[CS].selector, kCode0);
}

TEST_F(SegmentLoad, LdtSelectorsUseTheLdt) {
  const uint64_t ldt = 0x13000;
  h.mem.write(ldt + 8, 8, segment_descriptor(0x5000, 0xFFFF, 0x92, 0x4));
  h.cpu.s.ldtr = SegmentCache{0x0040, ldt, 0xF, ar::kPresent | 0x2};  // two entries
  h.cpu.s.gpr[RAX] = 0x000C;                                          // LDT index 1
  h.load_asm("mov ds, ax");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.s.seg[DS].base, 0x5000u);
  EXPECT_EQ(h.mem.read(ldt + 8 + 5, 1), 0x93u);
  expect_load_fault("es", 0x0014, vec::GP, 0x0014);  // LDT index 2: beyond its limit
}

// --- real mode ----------------------------------------------------------------

TEST(RealModeSegmentLoad, SelectorAndBaseOnlyKeepingUnrealLimits) {
  CpuHarness h(16);
  CpuState& s = h.cpu.s;
  s.seg[DS].limit = 0xFFFF'FFFF;  // "unreal" mode, left over from protected mode
  s.seg[SS].attrs |= 3u << ar::kDplShift;
  s.gpr[RAX] = 0x1234;
  s.gpr[RBX] = 0x2000;
  h.load_asm("mov ds, ax\nmov ss, bx");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(s.seg[DS].selector, 0x1234);
  EXPECT_EQ(s.seg[DS].base, 0x12340u);
  EXPECT_EQ(s.seg[DS].limit, 0xFFFF'FFFFu);
  EXPECT_EQ(s.seg[SS].base, 0x20000u);
  EXPECT_EQ(s.cpl(), 0u);  // real mode runs at CPL 0
}

TEST(RealModeSegmentLoad, LdsReadsOffsetThenSegment) {
  CpuHarness h(16);
  h.mem.write(0x0500, 2, 0x1111);
  h.mem.write(0x0502, 2, 0xB800);
  h.load_asm("lds si, [0x500]");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RSI) & 0xFFFF, 0x1111u);
  EXPECT_EQ(h.cpu.s.seg[DS].base, 0xB8000u);
}

// --- BOUND --------------------------------------------------------------------

TEST_F(SegmentLoad, BoundChecksSignedBounds) {
  h.write32(0x20000, static_cast<uint32_t>(-5));
  h.write32(0x20004, 10);
  h.cpu.s.gpr[RAX] = 10;
  h.cpu.s.gpr[RBX] = static_cast<uint32_t>(-5);
  h.load_asm("bound eax, [0x20000]\nbound ebx, [0x20000]");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);

  for (uint32_t v : {11u, static_cast<uint32_t>(-6)}) {
    SCOPED_TRACE(v);
    h.cpu.s.gpr[RSP] = CpuHarness::kStack;
    h.cpu.s.gpr[RAX] = v;
    h.load_asm("bound eax, [0x20000]");
    expect_fault(vec::BR);
    EXPECT_EQ(esp(), CpuHarness::kStack - 12);  // #BR has no error code
    EXPECT_EQ(stack32(0), CpuHarness::kCode);   // a fault: returns to the BOUND
  }
}

TEST_F(SegmentLoad, SixteenBitBound) {
  h.mem.write(0x20000, 2, 0x0010);
  h.mem.write(0x20002, 2, 0x0020);
  h.cpu.s.gpr[RAX] = 0xFFFF'0021;  // only AX counts
  h.load_asm("bound ax, [0x20000]");
  expect_fault(vec::BR);
}

}  // namespace vtlab::test
