// SSE2/MMX packed integer, shuffle and move instructions (core/isa/
// sse_integer.cpp, sse_shuffle.cpp, sse_move.cpp) lane by lane, and the
// loops glibc's SSE2 strlen and memchr are built on (PCMPEQB, PMOVMSKB,
// BSF, the byte broadcast by PUNPCKLBW/PUNPCKLWD/PSHUFD) run in the
// interpreter with exact results.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "isa/simd_harness.h"

namespace vtlab::test {

namespace {

// xmm0 <- op(xmm0, xmm1): the exact 128-bit result.
struct LaneCase {
  const char* insn;
  uint64_t a_lo, a_hi, b_lo, b_hi;
  uint64_t r_lo, r_hi;
};

void run_lane_cases(const std::vector<LaneCase>& cases) {
  for (const LaneCase& c : cases) {
    SCOPED_TRACE(c.insn);
    SimdHarness h;
    h.set_xmm(0, c.a_lo, c.a_hi);
    h.set_xmm(1, c.b_lo, c.b_hi);
    ASSERT_EQ(h.step(c.insn), Status::Ok);
    EXPECT_EQ(h.lo(0), c.r_lo);
    EXPECT_EQ(h.hi(0), c.r_hi);
    EXPECT_EQ(h.lo(1), c.b_lo);  // the source is never written
    EXPECT_EQ(h.hi(1), c.b_hi);
  }
}

}  // namespace

TEST(SseInteger, ArithmeticLanes) {
  run_lane_cases({
      {"paddusb xmm0, xmm1", 0xFF807F000102F0F0, 0, 0x01800100FF022010, 0, 0xFFFF8000FF04FFFF, 0},
      {"psubsw xmm0, xmm1", 0xFFFF00017FFF8000, 0, 0x80000002FFFF0001, 0, 0x7FFFFFFF7FFF8000, 0},
      {"pmaddwd xmm0, xmm1", 0x0003000280008000, 0, 0x0005000480008000, 0, 0x0000001780000000, 0},
      {"pmulhw xmm0, xmm1", 0x80004000, 0, 0x00020004, 0, 0xFFFF0001, 0},
      {"pmuludq xmm0, xmm1", 0x12345678FFFFFFFF, 2, 0xAAAAAAAAFFFFFFFF, 3, 0xFFFFFFFE00000001, 6},
      {"psadbw xmm0, xmm1", 0x0807060504030201, 0xFF, 0x0102030405060708, 0, 0x20, 0xFF},
      {"pminub xmm0, xmm1", 0x0102030405060708, 0, 0x0807060504030201, 0, 0x0102030404030201, 0},
      {"pcmpgtb xmm0, xmm1", 0x00000000007F8001, 0, 0x0000000000807F00, 0, 0x0000000000FF00FF, 0},
      {"pcmpeqb xmm0, xmm1", 0x0011223344556677, 1, 0x0011FF3344FF6677, 1, 0xFFFF00FFFF00FFFF, 0xFFFFFFFFFFFFFFFF},
      {"psubb xmm0, xmm1", 0x0000000000000100, 0, 0x0000000000000201, 0, 0x000000000000FFFF, 0},
      {"paddq xmm0, xmm1", 0xFFFFFFFFFFFFFFFF, 1, 1, 2, 0, 3},
      {"pandn xmm0, xmm1", 0xFF00FF00FF00FF00, 0, 0x0F0F0F0F0F0F0F0F, 0, 0x000F000F000F000F, 0},
      {"xorps xmm0, xmm1", 0xFFFF, 0xF0, 0xFF00, 0x0F, 0x00FF, 0xFF},
  });
}

TEST(SseInteger, ShiftLanes) {
  run_lane_cases({
      {"psraw xmm0, 4", 0x0010FFF07FF08000, 0, 0, 0, 0x0001FFFF07FFF800, 0},
      {"psrlq xmm0, xmm1", 0x123, 0x456, 64, 0, 0, 0},  // count >= 64 zeroes
      {"psllw xmm0, xmm1", 0x8001, 0x1, 1, 0xFF, 0x0002, 0x2},  // only the low quadword counts
      {"psrad xmm0, 40", 0x80000000, 0, 0, 0, 0xFFFFFFFF, 0},
      {"pslldq xmm0, 3", 0x0706050403020100, 0x0F0E0D0C0B0A0908, 0, 0, 0x0403020100000000, 0x0C0B0A0908070605},
      {"psrldq xmm0, 9", 0x0706050403020100, 0x0F0E0D0C0B0A0908, 0, 0, 0x000F0E0D0C0B0A09, 0},
  });
}

TEST(SseInteger, ShuffleAndUnpackLanes) {
  run_lane_cases({
      {"pshufd xmm0, xmm1, 0x1B", 0, 0, 0x1111111100000000, 0x3333333322222222, 0x2222222233333333, 0x0000000011111111},
      {"pshuflw xmm0, xmm1, 0", 0, 0, 0x4444333322221234, 0xAAAA, 0x1234123412341234, 0xAAAA},
      {"pshufhw xmm0, xmm1, 0x1B", 0, 0, 0x5555, 0x4444333322221111, 0x5555, 0x1111222233334444},
      {"punpcklbw xmm0, xmm1", 0x0706050403020100, 0, 0x1716151413121110, 0, 0x1303120211011000, 0x1707160615051404},
      {"punpckhqdq xmm0, xmm1", 0, 0xAAAA, 0, 0xBBBB, 0xAAAA, 0xBBBB},
      {"punpcklqdq xmm0, xmm1", 0xAAAA, 1, 0xBBBB, 2, 0xAAAA, 0xBBBB},
      {"punpckhwd xmm0, xmm1", 0, 0x4444333322221111, 0, 0x8888777766665555, 0x6666222255551111, 0x8888444477773333},
      {"packuswb xmm0, xmm1", 0x0080007FFFFF0100, 5, 0x0000000000FF8000, 0, 0x00000005807F00FF, 0xFF00},
      {"packsswb xmm0, xmm1", 0x0080FF80007FFF00, 0, 0, 0, 0x7F807F80, 0},
      {"shufps xmm0, xmm1, 0x4E", 0x1111111100000000, 0x3333333322222222, 0x5555555544444444, 0x7777777766666666,
       0x3333333322222222, 0x5555555544444444},
      {"unpcklps xmm0, xmm1", 0x1111111100000000, 0x3333333322222222, 0x5555555544444444, 0x7777777766666666,
       0x4444444400000000, 0x5555555511111111},
      {"unpckhpd xmm0, xmm1", 1, 2, 3, 4, 2, 4},
      {"shufpd xmm0, xmm1, 1", 1, 2, 3, 4, 2, 3},
      {"movhlps xmm0, xmm1", 1, 2, 3, 4, 4, 2},
      {"movlhps xmm0, xmm1", 1, 2, 3, 4, 1, 3},
      {"movss xmm0, xmm1", 0x1111111122222222, 5, 0x33333333, 6, 0x1111111133333333, 5},
      {"movq xmm0, xmm1", 1, 2, 3, 4, 3, 0},
  });
}

TEST(SseInteger, MovesToAndFromGeneralRegisters) {
  SimdHarness h;
  h.set_xmm(1, 0x8000000080000000, 0x0000000080000000);
  ASSERT_EQ(h.step("movmskps eax, xmm1"), Status::Ok);
  EXPECT_EQ(h.reg32(RAX), 0b0111u);
  ASSERT_EQ(h.step("pmovmskb eax, xmm1"), Status::Ok);
  EXPECT_EQ(h.reg32(RAX), 0x0888u);
  h.set_xmm(2, 0x0000BEEF00000000, 0);
  ASSERT_EQ(h.step("pextrw ecx, xmm2, 2"), Status::Ok);
  EXPECT_EQ(h.reg32(RCX), 0xBEEFu);
  h.cpu.s.gpr[RDX] = 0x12345678;
  ASSERT_EQ(h.step("pinsrw xmm2, edx, 7"), Status::Ok);
  EXPECT_EQ(h.hi(2), 0x5678000000000000u);
  ASSERT_EQ(h.step("movd xmm3, edx"), Status::Ok);
  EXPECT_EQ(h.lo(3), 0x12345678u);
  EXPECT_EQ(h.hi(3), 0u);
  ASSERT_EQ(h.step("movd esi, xmm2"), Status::Ok);
  EXPECT_EQ(h.reg32(RSI), 0u);
  h.write64(0x20000, 0x1122334455667788);
  ASSERT_EQ(h.step("movhps xmm3, [0x20000]"), Status::Ok);
  EXPECT_EQ(h.lo(3), 0x12345678u);
  EXPECT_EQ(h.hi(3), 0x1122334455667788u);
  ASSERT_EQ(h.step("movq [0x20010], xmm3"), Status::Ok);
  EXPECT_EQ(h.read64(0x20010), 0x12345678u);
}

TEST(SseInteger, MovqIn64BitMode) {
  SimdHarness h(64);
  h.cpu.s.gpr[R9] = 0x8877665544332211;
  ASSERT_EQ(h.step("movq xmm9, r9"), Status::Ok);
  EXPECT_EQ(h.lo(9), 0x8877665544332211u);
  ASSERT_EQ(h.step("movq rax, xmm9"), Status::Ok);
  EXPECT_EQ(h.cpu.s.gpr[RAX], 0x8877665544332211u);
}

// The same operations on MMX registers: 8-byte lanes, m64 operands.
TEST(SseInteger, MmxForms) {
  SimdHarness h;
  h.write64(0x20000, 0x7F7F7F7F80808080);
  h.cpu.s.gpr[RAX] = 0x01010101;
  ASSERT_EQ(h.step("movd mm1, eax"), Status::Ok);
  ASSERT_EQ(h.step("punpckldq mm1, mm1"), Status::Ok);
  ASSERT_EQ(h.step("movq mm0, [0x20000]"), Status::Ok);
  ASSERT_EQ(h.step("paddsb mm0, mm1"), Status::Ok);
  EXPECT_EQ(h.mem.read(0x20000, 8), 0x7F7F7F7F80808080u);
  ASSERT_EQ(h.step("movq [0x20008], mm0"), Status::Ok);
  EXPECT_EQ(h.read64(0x20008), 0x7F7F7F7F81818181u);
  ASSERT_EQ(h.step("pshufw mm2, mm0, 0xB1"), Status::Ok);
  ASSERT_EQ(h.step("pmovmskb ecx, mm2"), Status::Ok);
  EXPECT_EQ(h.reg32(RCX), 0x0Fu);
  ASSERT_EQ(h.step("psrlq mm2, 32"), Status::Ok);
  ASSERT_EQ(h.step("movq2dq xmm4, mm2"), Status::Ok);
  EXPECT_EQ(h.lo(4), 0x7F7F7F7Fu);
  EXPECT_EQ(h.hi(4), 0u);
}

// glibc's strlen: align down, mask off the bytes before the string, then
// 16 bytes per round until PCMPEQB against zero finds the terminator.
TEST(SseInteger, StrlenLoop) {
  for (unsigned start : {0x20000u, 0x20003u, 0x2000Fu}) {
    for (unsigned len : {0u, 5u, 12u, 13u, 37u, 200u}) {
      SCOPED_TRACE(std::to_string(start) + "+" + std::to_string(len));
      SimdHarness h;
      for (unsigned k = 0; k < len; ++k) h.mem.write(start + k, 1, 'a' + (k % 26));
      h.mem.write(start + len, 1, 0);
      h.mem.write(start + len + 1, 1, 'x');
      h.cpu.s.gpr[RDI] = start;
      h.load_asm(R"(
        mov eax, edi
        mov ecx, edi
        and eax, -16
        and ecx, 15
        pxor xmm0, xmm0
        movdqa xmm1, [eax]
        pcmpeqb xmm1, xmm0
        pmovmskb edx, xmm1
        shr edx, cl
        test edx, edx
        jnz 2f
      1:
        add eax, 16
        movdqa xmm1, [eax]
        pcmpeqb xmm1, xmm0
        pmovmskb edx, xmm1
        test edx, edx
        jz 1b
        bsf edx, edx
        add eax, edx
        sub eax, edi
        jmp 3f
      2:
        bsf eax, edx
      3:
      )");
      ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
      EXPECT_EQ(h.reg32(RAX), len);
    }
  }
}

// memchr's core: the byte broadcast to all 16 lanes, then PCMPEQB rounds.
TEST(SseInteger, MemchrLoop) {
  SimdHarness h;
  for (unsigned k = 0; k < 128; ++k) h.mem.write(0x20100 + k, 1, k == 50 || k == 90 ? 'Z' : '.');
  h.cpu.s.gpr[RSI] = 'Z';
  h.load_asm(R"(
    movd xmm1, esi
    punpcklbw xmm1, xmm1
    punpcklwd xmm1, xmm1
    pshufd xmm1, xmm1, 0
    mov eax, 0x20100
  1:
    movdqu xmm0, [eax]
    pcmpeqb xmm0, xmm1
    pmovmskb edx, xmm0
    add eax, 16
    test edx, edx
    jz 1b
    bsf edx, edx
    lea eax, [eax + edx - 16]
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RAX), 0x20100u + 50);
  EXPECT_EQ(h.lo(1), 0x5A5A5A5A5A5A5A5Au);
  EXPECT_EQ(h.hi(1), 0x5A5A5A5A5A5A5A5Au);
}

}  // namespace vtlab::test
