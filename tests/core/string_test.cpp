// MOVS STOS LODS CMPS SCAS, with and without REP/REPE/REPNE: registers,
// memory and flags after each form, per the SDM string-instruction pages.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "core/decoder.h"
#include "support/cpu_harness.h"

namespace vtlab::test {

namespace {

void put(CpuHarness& h, uint64_t at, const std::string& bytes) { h.mem.write_bytes(at, bytes.data(), bytes.size()); }

constexpr uint32_t kCF = flag::CF, kPF = flag::PF, kAF = flag::AF, kZF = flag::ZF, kSF = flag::SF, kOF = flag::OF;

}  // namespace

TEST(String, MovsByteWordDwordForward) {
  CpuHarness h;
  put(h, 0x20000, "\x11\x22\x33\x44\x55\x66\x77");
  h.load_asm(R"(
    mov esi, 0x20000
    mov edi, 0x21000
    movsb
    movsw
    movsd
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.read32(0x21000), 0x44332211u);
  EXPECT_EQ(h.read32(0x21004), 0x00776655u);
  EXPECT_EQ(h.reg32(RSI), 0x20007u);
  EXPECT_EQ(h.reg32(RDI), 0x21007u);
  EXPECT_EQ(h.cpu.icount, 5u);
}

TEST(String, DirectionFlagWalksDown) {
  CpuHarness h;
  put(h, 0x20000, "\x11\x22\x33\x44\x55\x66\x77\x88");
  h.load_asm(R"(
    std
    mov esi, 0x20004
    mov edi, 0x21004
    movsd
    movsw
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.read32(0x21004), 0x88776655u);
  EXPECT_EQ(h.read32(0x21000), 0x00002211u);  // the word came from 0x20000 after ESI stepped back 4
  EXPECT_EQ(h.reg32(RSI), 0x1FFFEu);
  EXPECT_EQ(h.reg32(RDI), 0x20FFEu);
  EXPECT_TRUE(h.flags() & flag::DF);
}

TEST(String, RepMovsdCopiesCountElements) {
  CpuHarness h;
  for (uint32_t k = 0; k < 6; ++k) h.write32(0x20000 + 4 * k, 0xA0A0A000u + k);
  h.load_asm(R"(
    mov esi, 0x20000
    mov edi, 0x21000
    mov ecx, 5
    rep movsd
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  for (uint32_t k = 0; k < 5; ++k) EXPECT_EQ(h.read32(0x21000 + 4 * k), 0xA0A0A000u + k) << k;
  EXPECT_EQ(h.read32(0x21014), 0u);  // the sixth element stays behind
  EXPECT_EQ(h.reg32(RCX), 0u);
  EXPECT_EQ(h.reg32(RSI), 0x20014u);
  EXPECT_EQ(h.reg32(RDI), 0x21014u);
  EXPECT_EQ(h.cpu.icount, 4u);
}

TEST(String, RepWithZeroCountDoesNothing) {
  CpuHarness h;
  put(h, 0x20000, "\xAA");
  put(h, 0x21000, "\xBB");
  h.load_asm(R"(
    mov esi, 0x20000
    mov edi, 0x21000
    mov ecx, 0
    mov eax, 0xBB
    push 0x893
    popfd
    repe cmpsb
    rep movsb
    repne scasb
    rep stosd
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RSI), 0x20000u);
  EXPECT_EQ(h.reg32(RDI), 0x21000u);
  EXPECT_EQ(h.reg32(RCX), 0u);
  EXPECT_EQ(h.read32(0x21000), 0xBBu);
  EXPECT_EQ(h.arith_flags(), kOF | kSF | kAF | kCF);  // 0x893 as popped: no compare ran
}

TEST(String, RepeCmpsbStopsAtFirstMismatchWithItsFlags) {
  CpuHarness h;
  put(h, 0x20000, "abcXefgh");
  put(h, 0x21000, "abcYefgh");
  h.load_asm(R"(
    mov esi, 0x20000
    mov edi, 0x21000
    mov ecx, 10
    repe cmpsb
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RCX), 6u);
  EXPECT_EQ(h.reg32(RSI), 0x20004u);
  EXPECT_EQ(h.reg32(RDI), 0x21004u);
  // 'X' - 'Y' = 0x58 - 0x59 = 0xFF: borrow, sign, nibble borrow, even parity.
  EXPECT_EQ(h.arith_flags(), kCF | kPF | kAF | kSF);
}

TEST(String, RepeCmpswRunsOutOfCountOnEqualData) {
  CpuHarness h;
  put(h, 0x20000, "\x01\x02\x03\x04\x05\x06\x07");
  put(h, 0x21000, "\x01\x02\x03\x04\x05\x06\x08");
  h.load_asm(R"(
    mov esi, 0x20000
    mov edi, 0x21000
    mov ecx, 3
    repe cmpsw
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RCX), 0u);
  EXPECT_EQ(h.reg32(RSI), 0x20006u);
  EXPECT_EQ(h.reg32(RDI), 0x21006u);
  EXPECT_EQ(h.arith_flags(), kZF | kPF);
}

TEST(String, RepneScasbFindsTheTerminator) {
  CpuHarness h;
  put(h, 0x21000, std::string("hello\0zz", 8));
  h.load_asm(R"(
    mov edi, 0x21000
    mov ecx, 0xFFFFFFFF
    mov eax, 0x12345600
    repne scasb
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RCX), 0xFFFFFFFFu - 6);  // six bytes scanned, the NUL included
  EXPECT_EQ(h.reg32(RDI), 0x21006u);
  EXPECT_EQ(h.arith_flags(), kZF | kPF);
}

TEST(String, RepneCmpsdStopsAtFirstMatchGoingDown) {
  CpuHarness h;
  h.write32(0x20000, 7);  // the match, reached third when walking down
  h.write32(0x20004, 1);
  h.write32(0x20008, 2);
  h.write32(0x21000, 7);
  h.write32(0x21004, 5);
  h.write32(0x21008, 1);
  h.load_asm(R"(
    std
    mov esi, 0x20008
    mov edi, 0x21008
    mov ecx, 8
    repne cmpsd
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RCX), 5u);
  EXPECT_EQ(h.reg32(RSI), 0x1FFFCu);
  EXPECT_EQ(h.reg32(RDI), 0x20FFCu);
  EXPECT_EQ(h.arith_flags(), kZF | kPF);
}

TEST(String, ScaswSetsSubtractionFlags) {
  CpuHarness h;
  h.mem.write(0x21000, 2, 0x8000);
  h.load_asm(R"(
    mov edi, 0x21000
    mov eax, 0xFFFF7FFF
    scasw
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  // 0x7FFF - 0x8000 = 0xFFFF: borrow, signed overflow (positive - negative
  // went negative), sign, no nibble borrow (F - 0), even parity.
  EXPECT_EQ(h.arith_flags(), kCF | kOF | kSF | kPF);
  EXPECT_EQ(h.reg32(RDI), 0x21002u);
  EXPECT_EQ(h.reg32(RAX), 0xFFFF7FFFu);
}

TEST(String, RepStoswThenLodsdAndLodsb) {
  CpuHarness h;
  put(h, 0x20000, "\x9A");
  h.load_asm(R"(
    mov eax, 0x12345678
    mov edi, 0x21000
    mov ecx, 3
    rep stosw
    mov esi, 0x21002
    lodsd
    mov esi, 0x20000
    lodsb
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.read32(0x21000), 0x56785678u);
  EXPECT_EQ(h.mem.read(0x21004, 4), 0x00005678u);
  EXPECT_EQ(h.reg32(RDI), 0x21006u);
  EXPECT_EQ(h.reg32(RAX), 0x5678569Au);  // LODSB replaced AL only
  EXPECT_EQ(h.reg32(RSI), 0x20001u);
}

TEST(String, SourceTakesOverrideDestinationIsAlwaysEs) {
  CpuHarness h;
  h.cpu.s.seg[FS].base = 0x3000;
  h.cpu.s.seg[ES].base = 0x5000;
  put(h, 0x3100, "\x5A");
  put(h, 0x0101, "\xA5");
  h.load_asm(R"(
    mov esi, 0x100
    mov edi, 0x200
    movs byte ptr es:[edi], byte ptr fs:[esi]
    movsb
    mov eax, 0xC3
    .byte 0x64
    stosb
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.mem.read(0x5200, 1), 0x5Au);  // FS:0x100 -> ES:0x200
  EXPECT_EQ(h.mem.read(0x5201, 1), 0xA5u);  // DS:0x101 -> ES:0x201
  EXPECT_EQ(h.mem.read(0x5202, 1), 0xC3u);  // an FS prefix cannot move STOS off ES
  EXPECT_EQ(h.mem.read(0x3202, 1), 0u);
}

TEST(String, AddressSize16WrapsSiDiAndUsesCx) {
  CpuHarness h;
  h.cpu.s.seg[ES].base = 0x10000;
  put(h, 0xFFFF, "\x77");
  h.load_asm(R"(
    mov esi, 0x1234FFFF
    mov edi, 0x5678FFFF
    addr16 movsb
    mov ecx, 0x00050002
    mov eax, 0xEE
    addr16 rep stosb
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.mem.read(0x1FFFF, 1), 0x77u);
  EXPECT_EQ(h.reg32(RSI), 0x12340000u);  // low halves wrapped, upper halves kept
  EXPECT_EQ(h.reg32(RCX), 0x00050000u);  // only CX counted
  EXPECT_EQ(h.reg32(RDI), 0x56780002u);
  EXPECT_EQ(h.mem.read(0x10000, 2), 0xEEEEu);
  EXPECT_EQ(h.mem.read(0x10002, 1), 0u);
}

TEST(String, RealModeRepMovswUsesCxSiDi) {
  CpuHarness h(16);
  put(h, 0x2000, "\x01\x02\x03\x04\x05\x06\x07\x08");
  h.load_asm(R"(
    mov ecx, 0x00070003
    mov esi, 0x00012000
    mov edi, 0x00013000
    rep movsw
    std
    mov si, 0xFFFF
    mov di, 0x0000
    movsb
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.mem.read(0x3000, 4), 0x04030201u);
  EXPECT_EQ(h.mem.read(0x3004, 4), 0x00000605u);
  EXPECT_EQ(h.reg32(RCX), 0x00070000u);
  EXPECT_EQ(h.reg32(RSI), 0x0001FFFEu);  // set to FFFF, stepped down
  EXPECT_EQ(h.reg32(RDI), 0x0001FFFFu);  // 0000 stepped down wraps to FFFF
}

TEST(String, RepneOnMovsRepeatsLikeRep) {
  CpuHarness h;
  put(h, 0x20000, "xyz!");
  h.load_asm(R"(
    mov esi, 0x20000
    mov edi, 0x21000
    mov ecx, 3
    .byte 0xF2
    movsb
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.read32(0x21000), 0x007A7978u);
  EXPECT_EQ(h.reg32(RCX), 0u);
}

// A count above the per-call cap (4096) re-executes the instruction: RIP
// stays on it until the count is exhausted, and each call retires once.
TEST(String, LongRepResumesItselfInChunks) {
  CpuHarness h;
  h.load_asm(R"(
    mov edi, 0x30000
    mov ecx, 10000
    mov eax, 0xCC
    rep stosb
  )");
  ASSERT_EQ(h.run(3), StopReason::BudgetExhausted);
  const uint64_t rep_rip = h.cpu.s.rip;
  ASSERT_EQ(h.run(1), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.s.rip, rep_rip);
  EXPECT_EQ(h.reg32(RCX), 10000u - 4096);
  EXPECT_EQ(h.reg32(RDI), 0x30000u + 4096);
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RCX), 0u);
  EXPECT_EQ(h.reg32(RDI), 0x30000u + 10000);
  EXPECT_EQ(h.mem.read(0x30000 + 9999, 1), 0xCCu);
  EXPECT_EQ(h.mem.read(0x30000 + 10000, 1), 0u);
  EXPECT_EQ(h.cpu.icount, 3u + 3);  // 4096 + 4096 + 1808
}

// The same inside one engine run: a REP ends its decoded block, so the
// instruction after it only runs once the count is exhausted.
TEST(String, LongRepInsideABlockFinishesBeforeTheNextInstruction) {
  CpuHarness h;
  h.load_asm(R"(
    mov edi, 0x30000
    mov ecx, 10000
    mov eax, 0xCC
    rep stosb
    mov ebx, ecx
  )");
  h.cpu.s.gpr[RBX] = 0xFFFF;
  ASSERT_EQ(h.run(7), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RCX), 0u);
  EXPECT_EQ(h.reg32(RBX), 0u);  // the MOV saw the finished count
  EXPECT_EQ(h.cpu.s.rip, CpuHarness::kCode + 5 + 5 + 5 + 2 + 2);
}

// A fault part-way leaves the completed iterations' registers and stores,
// and RIP on the instruction, so it can resume.
TEST(String, FaultMidRepKeepsCompletedIterations) {
  CpuHarness h;
  h.cpu.s.seg[ES].limit = 0x20007;
  h.write32(0x40000, 0x11111111);
  h.write32(0x40004, 0x22222222);
  h.write32(0x40008, 0x33333333);
  h.load_asm(R"(
    mov esi, 0x40000
    mov edi, 0x20000
    mov ecx, 4
    rep movsd
  )");
  ASSERT_EQ(h.run(3), StopReason::BudgetExhausted);
  const uint64_t rep_rip = h.cpu.s.rip;
  ASSERT_EQ(h.execute_one(), Status::Exception);
  EXPECT_EQ(h.cpu.pending().vector, vec::GP);
  EXPECT_EQ(h.cpu.pending().error, 0u);
  EXPECT_EQ(h.cpu.s.rip, rep_rip);
  EXPECT_EQ(h.reg32(RCX), 2u);
  EXPECT_EQ(h.reg32(RSI), 0x40008u);
  EXPECT_EQ(h.reg32(RDI), 0x20008u);
  EXPECT_EQ(h.read32(0x20000), 0x11111111u);
  EXPECT_EQ(h.read32(0x20004), 0x22222222u);
  EXPECT_EQ(h.read32(0x20008), 0u);
}

}  // namespace vtlab::test
