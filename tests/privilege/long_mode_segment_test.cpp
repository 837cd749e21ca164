// Segment loads and the protection-control instructions in IA-32e mode:
// the null SS of 64-bit mode (SDM vol. 2, MOV 64-bit mode exceptions), the
// 64-bit forms of POP FS/GS, LSS and MOV from Sreg, LLDT/LTR with 16-byte
// descriptors (vol. 3, 7.2.3), and the IA-32e columns of the LAR and LSL
// type tables.
#include <gtest/gtest.h>

#include <vector>

#include "long_mode_fixture.h"

namespace vtlab::test {

class LongModeSegment : public LongModeTest {
 protected:
  static constexpr uint16_t kFree = 0x60;  // GDT entries 12 and 13

  Status run_asm(const std::string& source) {
    h.load_asm(source);
    return h.execute_one();
  }
  Status run_bytes(const std::vector<uint8_t>& code) {
    h.load(code);
    return h.execute_one();
  }
  void expect_fault(Status st, uint8_t vector, uint32_t error) {
    ASSERT_EQ(st, Status::Exception);
    EXPECT_EQ(h.cpu.pending().vector, vector);
    EXPECT_EQ(h.cpu.pending().error, error);
  }
};

// --- SS ------------------------------------------------------------------------

TEST_F(LongModeSegment, NullSsLoadsAtRingZeroIn64BitMode) {
  h.cpu.s.gpr[RAX] = 0;
  ASSERT_EQ(run_asm("mov ss, ax"), Status::Ok);
  EXPECT_EQ(h.cpu.s.seg[SS].selector, 0u);
  EXPECT_EQ(h.cpu.s.cpl(), 0u);
}

TEST_F(LongModeSegment, NullSsWithRplOtherThanCplIsGpZero) {
  h.cpu.s.gpr[RAX] = 1;
  expect_fault(run_asm("mov ss, ax"), vec::GP, 0);
  EXPECT_EQ(h.cpu.s.seg[SS].selector, kData0);
}

TEST_F(LongModeSegment, NullSsAtRingThreeIsGpZero) {
  enter_ring3();
  h.cpu.s.gpr[RAX] = 3;
  expect_fault(run_asm("mov ss, ax"), vec::GP, 0);
}

TEST_F(LongModeSegment, NullSsInCompatibilityModeIsGpZero) {
  h.cpu.s.seg[CS] = segment_cache(kCompat0, gdt(7));
  h.cpu.s.gpr[RAX] = 0;
  expect_fault(run_asm("mov ss, ax"), vec::GP, 0);
}

// --- 64-bit forms -----------------------------------------------------------------

TEST_F(LongModeSegment, PopFsPopsAQuadword) {
  h.cpu.s.gpr[RSP] = 0x50000;
  h.mem.write(0x50000, 8, 0xFFFF'0000'0000'0000 | kData3);  // the upper bits are ignored
  ASSERT_EQ(run_asm("pop fs"), Status::Ok);
  EXPECT_EQ(h.cpu.s.seg[FS].selector, kData3);
  EXPECT_EQ(rsp(), 0x50008u);
}

TEST_F(LongModeSegment, LssWithRexWReadsAnM16_64Pointer) {
  h.mem.write(0x20000, 8, 0x1234'5678'9ABC'DEF0);
  h.mem.write(0x20008, 2, kData0);
  h.cpu.s.gpr[RBX] = 0x20000;
  ASSERT_EQ(run_bytes({0x48, 0x0F, 0xB2, 0x03}), Status::Ok);  // lss rax, [rbx]
  EXPECT_EQ(h.cpu.s.gpr[RAX], 0x1234'5678'9ABC'DEF0u);
  EXPECT_EQ(h.cpu.s.seg[SS].selector, kData0);
}

TEST_F(LongModeSegment, MovFromSregTo64BitRegisterZeroExtends) {
  h.cpu.s.gpr[RAX] = ~uint64_t{0};
  ASSERT_EQ(run_asm("mov rax, ds"), Status::Ok);
  EXPECT_EQ(h.cpu.s.gpr[RAX], kData0);
}

// --- LTR and LLDT: 16-byte descriptors ---------------------------------------------

TEST_F(LongModeSegment, LtrLoadsA64BitBaseAndMarksTheTssBusy) {
  set_gdt16(kFree >> 3, system64(0x1234'5678'9000, 0x67, 0x89));
  h.cpu.s.gpr[RAX] = kFree;
  ASSERT_EQ(run_asm("ltr ax"), Status::Ok);
  EXPECT_EQ(h.cpu.s.tr.selector, kFree);
  EXPECT_EQ(h.cpu.s.tr.base, 0x1234'5678'9000u);
  EXPECT_EQ(h.cpu.s.tr.limit, 0x67u);
  EXPECT_EQ(h.mem.read(kGdt + kFree + 5, 1), 0x8Bu);  // busy
}

TEST_F(LongModeSegment, LtrRefusesEveryMalformed16ByteDescriptor) {
  const struct {
    const char* what;
    Wide d;
    uint32_t gdt_limit;
  } cases[] = {
      {"upper type not 0", {system64(0x9000, 0x67, 0x89).lo, uint64_t{0x09} << 40}, kGdtEntries * 8 - 1},
      {"non-canonical base", system64(0x0000'8000'0000'0000, 0x67, 0x89), kGdtEntries * 8 - 1},
      {"16-bit TSS", system64(0x9000, 0x67, 0x81), kGdtEntries * 8 - 1},
      {"upper half beyond the GDT limit", system64(0x9000, 0x67, 0x89), 13 * 8 - 1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    set_gdt16(kFree >> 3, c.d);
    h.cpu.s.gdtr.limit = c.gdt_limit;
    h.cpu.s.gpr[RAX] = kFree;
    expect_fault(run_asm("ltr ax"), vec::GP, kFree);
    EXPECT_EQ(h.cpu.s.tr.selector, kTssSel);
  }
}

TEST_F(LongModeSegment, LldtLoadsA64BitBase) {
  set_gdt16(kFree >> 3, system64(0xFFFF'8000'0001'0000, 0xFFF, 0x82));
  h.cpu.s.gpr[RAX] = kFree;
  ASSERT_EQ(run_asm("lldt ax"), Status::Ok);
  EXPECT_EQ(h.cpu.s.ldtr.base, 0xFFFF'8000'0001'0000u);
  EXPECT_EQ(h.cpu.s.ldtr.limit, 0xFFFu);
}

TEST_F(LongModeSegment, LldtWithANonZeroUpperTypeIsGpSelector) {
  set_gdt16(kFree >> 3, Wide{system64(0x9000, 0xFFF, 0x82).lo, uint64_t{0x02} << 40});
  h.cpu.s.gpr[RAX] = kFree;
  expect_fault(run_asm("lldt ax"), vec::GP, kFree);
}

// --- LAR and LSL: the IA-32e columns ------------------------------------------------

TEST_F(LongModeSegment, LarAndLslJudgeSystemTypesByTheIa32eTables) {
  const struct {
    const char* what;
    uint8_t access;
    bool lar, lsl;
  } cases[] = {
      {"available 64-bit TSS", 0x89, true, true},
      {"busy 64-bit TSS", 0x8B, true, true},
      {"LDT", 0x82, false, true},
      {"64-bit call gate", 0x8C, true, false},
      {"16-bit TSS", 0x81, false, false},
      {"16-bit call gate", 0x84, false, false},
      {"task gate", 0x85, false, false},
      {"64-bit interrupt gate", 0x8E, false, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    set_gdt16(kFree >> 3, system64(0x9000, 0x0067, c.access));
    h.cpu.s.gpr[RCX] = kFree;
    h.cpu.s.gpr[RAX] = 0x5555;
    ASSERT_EQ(run_asm("lar eax, cx"), Status::Ok);
    EXPECT_EQ(h.cpu.s.flags.test(flag::ZF), c.lar);
    EXPECT_EQ(h.cpu.s.gpr[RAX], c.lar ? uint64_t{c.access} << 8 : 0x5555u);
    h.cpu.s.gpr[RAX] = 0x5555;
    ASSERT_EQ(run_asm("lsl rax, cx"), Status::Ok);
    EXPECT_EQ(h.cpu.s.flags.test(flag::ZF), c.lsl);
    EXPECT_EQ(h.cpu.s.gpr[RAX], c.lsl ? 0x67u : 0x5555u);
  }
}

}  // namespace vtlab::test
