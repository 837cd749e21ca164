// Far JMP, far CALL, far RET and IRET: real mode, protected mode at the
// same level, returns to an outer level, and the checks of SDM vol. 2.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "priv_fixture.h"

namespace vtlab::test {

namespace {

constexpr uint32_t kTarget = 0x3000;
constexpr uint16_t kNotPresentCode = 0x38, kSmallCode = 0x40,
                   kUnaccessedCode = 0x60, kConforming3 = 0x68, kNotPresentData3 = 0x70;

class FarTransfer : public PrivTest {
 protected:
  FarTransfer() {
    set_gdt(7, segment_descriptor(0, 0xFFFFF, 0x1B));              // code, not present
    set_gdt(8, segment_descriptor(0, 0x3FFFF, acc::kCode0, 0x4));  // code, limit 256 KiB - 1
    set_gdt(12, segment_descriptor(0, 0xFFFFF, 0x9A));             // code, not accessed
    set_gdt(13, segment_descriptor(0, 0xFFFFF, 0xFF));             // conforming, DPL 3
    set_gdt(14, segment_descriptor(0, 0xFFFFF, 0x73));             // data DPL 3, not present
  }

  void jmp_expect_fault(uint16_t sel, uint32_t offset, uint8_t vector, uint32_t error) {
    SCOPED_TRACE(fmt::format("jmp {:#x}:{:#x}", sel, offset));
    const uint32_t sp = esp();
    const SegmentCache cs = h.cpu.s.seg[CS];
    h.load_asm(fmt::format("jmp {:#x}:{:#x}", sel, offset));
    expect_fault(vector);
    EXPECT_EQ(stack32(0), error);
    EXPECT_EQ(stack32(1), CpuHarness::kCode);
    EXPECT_EQ(stack32(2), cs.selector);
    h.cpu.s.gpr[RSP] = sp;
  }

  // Places doublewords on the stack (first = lowest) and points ESP at them.
  void stack_image(std::initializer_list<uint32_t> words, uint32_t top = CpuHarness::kStack) {
    uint32_t at = top - 4 * static_cast<uint32_t>(words.size());
    h.cpu.s.gpr[RSP] = at;
    for (uint32_t w : words) {
      h.write32(at, w);
      at += 4;
    }
  }
};

}  // namespace

// --- real mode -----------------------------------------------------------------

TEST(RealModeFarTransfer, JmpLoadsSelectorAndBase) {
  CpuHarness h(16);
  h.load_asm("jmp 0x200:0x10");
  h.run(1);
  EXPECT_EQ(h.cpu.s.seg[CS].selector, 0x200);
  EXPECT_EQ(h.cpu.s.seg[CS].base, 0x2000u);
  EXPECT_EQ(h.cpu.s.seg[CS].limit, 0xFFFFu);
  EXPECT_EQ(h.cpu.s.rip, 0x10u);
}

TEST(RealModeFarTransfer, CallAndRetfImmRoundTrip) {
  CpuHarness h(16);
  h.cpu.s.gpr[RSP] = 0x0100;
  h.mem.write(0x2010, 1, 0xCA);  // retf 4
  h.mem.write(0x2011, 2, 4);
  h.load_asm("call 0x200:0x10");
  h.run(1);
  EXPECT_EQ(h.cpu.s.seg[CS].base, 0x2000u);
  EXPECT_EQ(h.cpu.s.rip, 0x10u);
  EXPECT_EQ(h.reg32(RSP), 0x00FCu);
  EXPECT_EQ(h.mem.read(0xFC, 2), 0x1005u);  // IP after the 5-byte CALL
  EXPECT_EQ(h.mem.read(0xFE, 2), 0x0000u);  // CS
  h.run(1);
  EXPECT_EQ(h.cpu.s.seg[CS].selector, 0);
  EXPECT_EQ(h.cpu.s.seg[CS].base, 0u);
  EXPECT_EQ(h.cpu.s.rip, 0x1005u);
  EXPECT_EQ(h.reg32(RSP), 0x0104u);
}

TEST(RealModeFarTransfer, TargetBeyondCsLimitIsGp) {
  CpuHarness h(16);
  h.mem.write(13 * 4, 4, 0x0000'3000);
  h.mem.write(0x3000, 1, 0x90);
  h.cpu.s.gpr[RSP] = 0x0100;
  h.load({0x66, 0xEA, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00});  // jmp dword 0000:00010000
  h.run(2);  // the #GP delivery, then the handler's NOP
  EXPECT_EQ(h.cpu.s.rip, 0x3001u);
  EXPECT_EQ(h.mem.read(0xFA, 2), 0x1000u);
}

TEST(RealModeFarTransfer, Iretd32BitKeepsVmVifVip) {
  CpuHarness h(16);
  h.cpu.s.gpr[RSP] = 0x0100;
  h.write32(0x100, 0x0000'2000);
  h.write32(0x104, 0xFFFF'0300);  // only the low 16 bits: CS 0x0300
  h.write32(0x108, flag::AC | flag::VIF | flag::VIP | flag::IF | flag::CF | flag::NT | (3u << flag::kIoplShift));
  h.load({0x66, 0xCF});  // iretd
  h.run(1);
  EXPECT_EQ(h.cpu.s.seg[CS].selector, 0x0300);
  EXPECT_EQ(h.cpu.s.seg[CS].base, 0x3000u);
  EXPECT_EQ(h.cpu.s.rip, 0x2000u);
  EXPECT_EQ(h.reg32(RSP), 0x010Cu);
  EXPECT_EQ(h.flags(),
            flag::kReserved1 | flag::AC | flag::IF | flag::CF | flag::NT | (3u << flag::kIoplShift));
}

// --- protected mode: JMP and CALL ------------------------------------------------

TEST_F(FarTransfer, JmpPointerSameLevel) {
  h.load_asm("jmp 0x08:0x3000");
  h.run(1);
  EXPECT_EQ(h.cpu.s.seg[CS].selector, kCode0);
  EXPECT_EQ(h.cpu.s.rip, kTarget);
}

TEST_F(FarTransfer, JmpThroughMemoryPointer) {
  h.write32(0x20000, kTarget);
  h.mem.write(0x20004, 2, kSmallCode);
  h.load_asm("jmp fword ptr [0x20000]");
  h.run(1);
  EXPECT_EQ(h.cpu.s.seg[CS].selector, kSmallCode);
  EXPECT_EQ(h.cpu.s.seg[CS].limit, 0x3FFFFu);
  EXPECT_EQ(h.cpu.s.rip, kTarget);
}

TEST_F(FarTransfer, JmpToConformingCodeKeepsCpl) {
  enter_ring3();
  h.load_asm("jmp 0x30:0x3000");
  h.run(1);
  EXPECT_EQ(h.cpu.s.seg[CS].selector, kConf0 | 3);  // RPL := CPL
  EXPECT_EQ(h.cpu.s.cpl(), 3u);
  EXPECT_EQ(h.cpu.s.rip, kTarget);
}

TEST_F(FarTransfer, JmpTargetChecks) {
  jmp_expect_fault(0x0000, kTarget, vec::GP, 0);
  jmp_expect_fault(0x0100, kTarget, vec::GP, 0x100);               // beyond the GDT
  jmp_expect_fault(kData0, kTarget, vec::GP, kData0);              // data
  jmp_expect_fault(kTssSel, kTarget, vec::GP, kTssSel);            // busy TSS
  jmp_expect_fault(kCode3, kTarget, vec::GP, kCode3 & ~3);         // DPL 3 != CPL 0
  jmp_expect_fault(kCode0 | 3, kTarget, vec::GP, kCode0);          // RPL 3 > CPL 0
  jmp_expect_fault(kConforming3, kTarget, vec::GP, kConforming3);  // conforming, DPL 3 > CPL 0
  jmp_expect_fault(kNotPresentCode, kTarget, vec::NP, kNotPresentCode);
  jmp_expect_fault(kSmallCode, 0x40000, vec::GP, 0);               // offset beyond the limit
  EXPECT_EQ(h.mem.read(kGdt + kNotPresentCode + 5, 1), 0x1Bu);     // nothing written back
}

TEST_F(FarTransfer, JmpToLessPrivilegedCodeFromRing3IsGp) {
  enter_ring3();
  jmp_expect_fault(kCode0 | 3, kTarget, vec::GP, kCode0);
  EXPECT_EQ(h.cpu.s.seg[CS].selector, kCode0);  // the #GP handler's
}

TEST_F(FarTransfer, JmpToTheLastByteOfTheLimit) {
  h.load_asm("jmp 0x40:0x3ffff");
  h.run(1);
  EXPECT_EQ(h.cpu.s.rip, 0x3FFFFu);
}

TEST_F(FarTransfer, JmpSetsTheAccessedBit) {
  h.load_asm("jmp 0x60:0x3000");
  h.run(1);
  EXPECT_EQ(h.mem.read(kGdt + kUnaccessedCode + 5, 1), 0x9Bu);
  EXPECT_EQ(h.cpu.s.seg[CS].attrs & ar::kAccessed, ar::kAccessed);
}

TEST_F(FarTransfer, CallPushesZeroPaddedCsAndReturnAddress) {
  h.write32(CpuHarness::kStack - 4, 0xFFFF'FFFF);
  h.load_asm("call 0x08:0x3000");
  h.run(1);
  EXPECT_EQ(h.cpu.s.rip, kTarget);
  EXPECT_EQ(esp(), CpuHarness::kStack - 8);
  EXPECT_EQ(stack32(0), CpuHarness::kCode + 7);
  EXPECT_EQ(stack32(1), kCode0);
}

TEST_F(FarTransfer, SixteenBitCallPushesWords) {
  h.load({0x66, 0x9A, 0x00, 0x30, 0x08, 0x00});  // callw 0x08:0x3000
  h.run(1);
  EXPECT_EQ(h.cpu.s.rip, kTarget);
  EXPECT_EQ(esp(), CpuHarness::kStack - 4);
  EXPECT_EQ(h.mem.read(esp(), 2), CpuHarness::kCode + 6);
  EXPECT_EQ(h.mem.read(esp() + 2, 2), kCode0);
}

TEST_F(FarTransfer, CallWithNoRoomOnTheStackIsSsZero) {
  set_gdt(15, segment_descriptor(0, 0x8FFFF, acc::kData0, 0x4));  // 0x78: limit 0x8FFFF
  h.cpu.s.seg[SS] = segment_cache(0x78, gdt(15));
  h.cpu.s.gpr[RSP] = 0x90004;  // CS would go to 0x90000..0x90003: beyond the limit
  h.load_asm("call 0x08:0x3000");
  h.run(1);
  // The #SS frame does not fit either (#SS(EXT) while delivering #SS: a
  // #DF), nor does the #DF's: shutdown, with nothing committed.
  EXPECT_EQ(h.cpu.stop_requested(), StopReason::Shutdown);
  EXPECT_EQ(h.cpu.stop_detail(),
            "triple fault: #SS(0x0001) while delivering #DF (the #DF came from #SS(0x0001) while delivering "
            "#SS(0x0000))");
  EXPECT_EQ(h.cpu.s.rip, CpuHarness::kCode);
  EXPECT_EQ(esp(), 0x90004u);
}

// --- protected mode: RETF ---------------------------------------------------------

TEST_F(FarTransfer, RetfSameLevelReleasesParameters) {
  stack_image({kTarget, kCode0, 0x1111, 0x2222});
  h.load_asm("retf 8");
  h.run(1);
  EXPECT_EQ(h.cpu.s.rip, kTarget);
  EXPECT_EQ(h.cpu.s.seg[CS].selector, kCode0);
  EXPECT_EQ(esp(), CpuHarness::kStack);
}

TEST_F(FarTransfer, RetfToOuterRingSwitchesStacksAndNullsDataSegments) {
  CpuState& s = h.cpu.s;
  s.seg[ES] = segment_cache(kData3, gdt(4));
  s.seg[FS] = segment_cache(kConf0, gdt(6));
  s.seg[GS] = segment_cache(kCode0, gdt(1));
  stack_image({kTarget, kCode3, kUserStack, kData3});
  h.load_asm("retf");
  h.run(1);
  EXPECT_EQ(s.cpl(), 3u);
  EXPECT_EQ(s.seg[CS].selector, kCode3);
  EXPECT_EQ(s.seg[SS].selector, kData3);
  EXPECT_EQ(esp(), kUserStack);
  EXPECT_EQ(s.rip, kTarget);
  EXPECT_EQ(s.seg[DS].selector, 0);  // ring-0 data: nulled
  EXPECT_FALSE(s.seg[DS].present());
  EXPECT_EQ(s.seg[GS].selector, 0);  // ring-0 non-conforming code: nulled
  EXPECT_FALSE(s.seg[GS].present());
  EXPECT_EQ(s.seg[ES].selector, kData3);  // usable at ring 3: kept
  EXPECT_TRUE(s.seg[ES].present());
  EXPECT_EQ(s.seg[FS].selector, kConf0);  // conforming code: kept
  EXPECT_TRUE(s.seg[FS].present());
}

TEST_F(FarTransfer, RetfImmToOuterRingDropsParametersFromBothStacks) {
  stack_image({kTarget, kCode3, 0x1111, 0x2222, kUserStack, kData3});
  h.load_asm("retf 8");
  h.run(1);
  EXPECT_EQ(h.cpu.s.cpl(), 3u);
  EXPECT_EQ(esp(), kUserStack + 8);
}

TEST_F(FarTransfer, RetfToOuterRingStackChecks) {
  struct Case {
    uint16_t ss;
    uint8_t vector;
    uint32_t error;
  };
  const Case cases[] = {
      {0x0003, vec::GP, 0},                       // null
      {kData3 & ~3, vec::GP, kData3 & ~3},        // RPL 0 != RPL 3 of CS
      {kData0 | 3, vec::GP, kData0},              // DPL 0 != 3
      {kCode3, vec::GP, kCode3 & ~3},             // not writable data
      {0x0103, vec::GP, 0x100},                   // beyond the GDT
      {kNotPresentData3 | 3, vec::SS, kNotPresentData3},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.ss);
    stack_image({kTarget, kCode3, kUserStack, c.ss});
    h.load_asm("retf");
    expect_fault(c.vector);
    EXPECT_EQ(stack32(0), c.error);
    EXPECT_EQ(stack32(4), kTarget);  // the RETF's operands are still there
    EXPECT_EQ(h.cpu.s.seg[DS].selector, kData0);
  }
}

TEST_F(FarTransfer, RetfReturnCodeSegmentChecks) {
  struct Case {
    uint16_t cs;
    uint8_t vector;
    uint32_t error;
  };
  set_gdt(15, segment_descriptor(0, 0xFFFFF, 0x9F & 0x7F));  // 0x78: conforming, not present
  const Case cases[] = {
      {0x0000, vec::GP, 0},
      {kData0, vec::GP, kData0},               // not code
      {kCode3 & ~3, vec::GP, kCode3 & ~3},     // non-conforming: DPL 3 != RPL 0
      {kConforming3, vec::GP, kConforming3},   // conforming: DPL 3 > RPL 0
      {kNotPresentCode, vec::NP, kNotPresentCode},
      {0x78, vec::NP, 0x78},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.cs);
    stack_image({kTarget, c.cs});
    h.load_asm("retf");
    expect_fault(c.vector);
    EXPECT_EQ(stack32(0), c.error);
  }
}

TEST_F(FarTransfer, RetfToAMorePrivilegedLevelIsGp) {
  enter_ring3();
  stack_image({kTarget, kCode0}, kUserStack);
  h.load_asm("retf");
  expect_fault(vec::GP);  // on the ring-0 stack
  EXPECT_EQ(stack32(0), kCode0);
  EXPECT_EQ(stack32(4), kUserStack - 8);  // the user ESP, not popped
}

// --- IRET -----------------------------------------------------------------------

TEST_F(FarTransfer, IretToRing3) {
  const uint32_t fl = flag::kReserved1 | flag::IF | flag::CF | (3u << flag::kIoplShift);
  stack_image({kTarget, kCode3, fl, kUserStack, kData3});
  h.load_asm("iretd");
  h.run(1);
  EXPECT_EQ(h.cpu.s.cpl(), 3u);
  EXPECT_EQ(h.cpu.s.seg[CS].selector, kCode3);
  EXPECT_EQ(h.cpu.s.seg[SS].selector, kData3);
  EXPECT_EQ(esp(), kUserStack);
  EXPECT_EQ(h.cpu.s.rip, kTarget);
  EXPECT_EQ(h.flags(), fl);  // at CPL 0 IOPL and IF both load
  EXPECT_EQ(h.cpu.s.seg[DS].selector, 0);
  EXPECT_FALSE(h.cpu.s.seg[DS].present());
}

TEST_F(FarTransfer, IretAtCpl3CannotChangeIoplOrIf) {
  enter_ring3();
  h.cpu.s.flags.set_bits(flag::kReserved1 | flag::IF);
  stack_image({kTarget, kCode3, flag::CF | flag::DF | (3u << flag::kIoplShift)}, kUserStack);
  h.load_asm("iretd");
  h.run(1);
  EXPECT_EQ(h.flags(), flag::kReserved1 | flag::IF | flag::CF | flag::DF);
  EXPECT_EQ(esp(), kUserStack);
}

TEST_F(FarTransfer, IretAtCpl3WithIopl3ChangesIfButNotIopl) {
  enter_ring3();
  h.cpu.s.flags.set_bits(flag::kReserved1 | flag::IF | (3u << flag::kIoplShift));
  stack_image({kTarget, kCode3, flag::ZF}, kUserStack);
  h.load_asm("iretd");
  h.run(1);
  EXPECT_EQ(h.flags(), flag::kReserved1 | flag::ZF | (3u << flag::kIoplShift));
}

TEST_F(FarTransfer, SixteenBitIretLeavesTheUpperFlags) {
  h.cpu.s.flags.set_bits(flag::kReserved1 | flag::AC | flag::ID);
  h.mem.write(CpuHarness::kStack - 6, 2, kTarget);
  h.mem.write(CpuHarness::kStack - 4, 2, kCode0);
  h.mem.write(CpuHarness::kStack - 2, 2, flag::SF | flag::IF);
  h.cpu.s.gpr[RSP] = CpuHarness::kStack - 6;
  h.load_asm("iretw");
  h.run(1);
  EXPECT_EQ(h.cpu.s.rip, kTarget);
  EXPECT_EQ(esp(), CpuHarness::kStack);
  EXPECT_EQ(h.flags(), flag::kReserved1 | flag::AC | flag::ID | flag::SF | flag::IF);
}

TEST_F(FarTransfer, IretReturnCodeSegmentMustNotBeMorePrivileged) {
  enter_ring3();
  stack_image({kTarget, kCode0, flag::kReserved1}, kUserStack);
  h.load_asm("iretd");
  expect_fault(vec::GP);
  EXPECT_EQ(stack32(0), kCode0);
}

TEST_F(FarTransfer, IretBeyondTheCodeLimitIsGpZero) {
  stack_image({0x40000, kSmallCode, flag::kReserved1});
  h.load_asm("iretd");
  expect_fault(vec::GP);
  EXPECT_EQ(stack32(0), 0u);
  EXPECT_EQ(h.cpu.s.seg[CS].selector, kCode0);
}

TEST_F(FarTransfer, IretToVirtual8086ModeStopsAsUnsupported) {
  stack_image({0x1234, 0x5678, flag::VM | flag::kReserved1, 0, 0, 0, 0, 0, 0});
  h.load_asm("iretd");
  EXPECT_EQ(h.run(1), StopReason::Unsupported);
  EXPECT_EQ(h.cpu.stop_detail(), "IRET to virtual-8086 mode (5678:1234) comes with the virtual-8086 issue");
  EXPECT_EQ(h.cpu.s.rip, CpuHarness::kCode);
}

}  // namespace vtlab::test
