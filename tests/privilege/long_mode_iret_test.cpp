// IRET in IA-32e mode (SDM vol. 2, IRET "IA-32e-MODE"): IRETQ's 8-byte
// frame, SS:RSP popped in 64-bit mode even to the same level, returns to
// 64-bit and compatibility mode, the null SS below CPL 3, the canonical
// RIP check, and no task return (NT=1 is #GP(0)).
#include <gtest/gtest.h>

#include "long_mode_fixture.h"

namespace vtlab::test {

class LongModeIret : public LongModeTest {
 protected:
  static constexpr uint64_t kFrame = 0x50000;

  // Runs the IRET form `insn` with RSP at a frame of quadwords (or of
  // `width`-byte values).
  Status iret(const char* insn, std::initializer_list<uint64_t> values, unsigned width = 8) {
    uint64_t at = kFrame;
    for (uint64_t v : values) {
      h.mem.write(at, width, v);
      at += width;
    }
    h.cpu.s.gpr[RSP] = kFrame;
    h.load_asm(insn);
    return h.execute_one();
  }
  void expect_fault(Status st, uint8_t vector, uint32_t error) {
    ASSERT_EQ(st, Status::Exception);
    EXPECT_EQ(h.cpu.pending().vector, vector);
    EXPECT_EQ(h.cpu.pending().error, error);
    EXPECT_EQ(h.cpu.s.seg[CS].selector, kCode64) << "nothing committed";
    EXPECT_EQ(rsp(), kFrame);
  }
};

TEST_F(LongModeIret, IretqToTheSameLevelPopsSsAndRspToo) {
  CpuState& s = h.cpu.s;
  s.flags.set_bits(flag::kReserved1);
  const uint64_t fl = flag::kReserved1 | flag::IF | flag::CF | flag::AC | (3u << flag::kIoplShift);
  ASSERT_EQ(iret("iretq", {0xFFFF'8000'1234'5678, kCode64, fl, 0x4'0000'0010, kData0}), Status::Ok);
  EXPECT_EQ(s.rip, 0xFFFF'8000'1234'5678u);
  EXPECT_EQ(rsp(), 0x4'0000'0010u);  // the popped RSP, not the frame's end
  EXPECT_EQ(s.seg[SS].selector, kData0);
  EXPECT_EQ(h.flags(), fl);  // CPL 0 loads IOPL and IF
}

TEST_F(LongModeIret, IretqToRingThreeNullsRingZeroDataSegments) {
  CpuState& s = h.cpu.s;
  ASSERT_EQ(iret("iretq", {0x40'1000, kCode64User, flag::kReserved1 | flag::IF, 0x6FF00, kData3}), Status::Ok);
  EXPECT_EQ(s.cpl(), 3u);
  EXPECT_EQ(s.seg[CS].selector, kCode64User);
  EXPECT_EQ(s.seg[SS].selector, kData3);
  EXPECT_EQ(rsp(), 0x6FF00u);
  EXPECT_EQ(s.rip, 0x40'1000u);
  for (unsigned r : {ES, DS, FS, GS}) {
    EXPECT_EQ(s.seg[r].selector, 0u) << r;
    EXPECT_FALSE(s.seg[r].present()) << r;
  }
}

TEST_F(LongModeIret, NullSsIsAllowedBackToRingZeroIn64BitMode) {
  CpuState& s = h.cpu.s;
  ASSERT_EQ(iret("iretq", {0x2000, kCode64, flag::kReserved1, 0x51000, 0}), Status::Ok);
  EXPECT_EQ(s.seg[SS].selector, 0u);
  EXPECT_EQ(s.cpl(), 0u);
  EXPECT_EQ(rsp(), 0x51000u);
}

TEST_F(LongModeIret, NullSsWithTheWrongRplIsGpZero) {
  expect_fault(iret("iretq", {0x2000, kCode64, flag::kReserved1, 0x51000, 2}), vec::GP, 0);
}

TEST_F(LongModeIret, NullSsBackToRingThreeIsGpZero) {
  expect_fault(iret("iretq", {0x2000, kCode64User, flag::kReserved1, 0x51000, 3}), vec::GP, 0);
}

TEST_F(LongModeIret, ToCompatibilityModeWithANullSsIsGpZero) {
  expect_fault(iret("iretq", {0x2000, kCompat0, flag::kReserved1, 0x51000, 0}), vec::GP, 0);
}

TEST_F(LongModeIret, IretqToCompatibilityModeAtRingThree) {
  CpuState& s = h.cpu.s;
  ASSERT_EQ(iret("iretq", {0x0804'8000, kCompatUser, flag::kReserved1, 0xBFFF'F000, kData3}), Status::Ok);
  EXPECT_EQ(s.code_size(), 4u);
  EXPECT_EQ(s.cpl(), 3u);
  EXPECT_EQ(s.rip, 0x0804'8000u);
  EXPECT_EQ(rsp(), 0xBFFF'F000u);
}

TEST_F(LongModeIret, NonCanonicalRipIsGpZero) {
  expect_fault(iret("iretq", {0x0000'8000'0000'0000, kCode64, flag::kReserved1, 0x51000, kData0}), vec::GP, 0);
}

TEST_F(LongModeIret, CompatibilityTargetBeyondItsLimitIsGpZero) {
  set_gdt(12, segment_descriptor(0, 0x0FFF, acc::kCode0, 0x4));  // 0x60: 32-bit, 4 KiB, byte-granular
  expect_fault(iret("iretq", {0x1000, 0x60, flag::kReserved1, 0x51000, kData0}), vec::GP, 0);
}

TEST_F(LongModeIret, LongAndBigCodeSegmentIsGpSelector) {
  expect_fault(iret("iretq", {0x2000, kLongBig, flag::kReserved1, 0x51000, kData0}), vec::GP, kLongBig);
}

TEST_F(LongModeIret, NestedTaskFlagIsGpZeroNotATaskReturn) {
  h.cpu.s.flags.set_bits(flag::kReserved1 | flag::NT);
  expect_fault(iret("iretq", {0x2000, kCode64, flag::kReserved1, 0x51000, kData0}), vec::GP, 0);
}

TEST_F(LongModeIret, IretdIn64BitModePopsFiveDoublewords) {
  CpuState& s = h.cpu.s;
  ASSERT_EQ(iret("iretd", {0x3000, kCode64, flag::kReserved1 | flag::DF, 0x5'2000, kData0}, 4), Status::Ok);
  EXPECT_EQ(s.rip, 0x3000u);
  EXPECT_EQ(rsp(), 0x5'2000u);
  EXPECT_EQ(h.flags(), flag::kReserved1 | flag::DF);
}

TEST_F(LongModeIret, SameLevelIretInCompatibilityModeLeavesSsAlone) {
  CpuState& s = h.cpu.s;
  s.seg[CS] = segment_cache(kCompat0, gdt(7));
  ASSERT_EQ(iret("iretd", {0x3000, kCompat0, flag::kReserved1, 0xDEAD, 0xBEEF}, 4), Status::Ok);
  EXPECT_EQ(s.rip, 0x3000u);
  EXPECT_EQ(rsp(), kFrame + 12);
  EXPECT_EQ(s.seg[SS].selector, kData0);
}

TEST_F(LongModeIret, IretdFromCompatibilityModeReturnsTo64BitMode) {
  CpuState& s = h.cpu.s;
  s.seg[CS] = segment_cache(kCompat0, gdt(7));
  ASSERT_EQ(iret("iretd", {0x2000, kCode64, flag::kReserved1, 0xDEAD, 0xBEEF}, 4), Status::Ok);
  EXPECT_EQ(s.rip, 0x2000u);
  EXPECT_EQ(s.code_size(), 8u);
  EXPECT_EQ(rsp(), kFrame + 12);  // the same level from compatibility mode: no SS:ESP
  EXPECT_EQ(s.seg[SS].selector, kData0);
}

}  // namespace vtlab::test
