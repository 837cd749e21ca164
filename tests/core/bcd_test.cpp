// Decimal adjusts (core/isa/bcd.cpp): DAA DAS AAA AAS AAM AAD, their
// carries between digits, AAM 0 (#DE), and their absence from 64-bit mode.
//
// The SDM leaves some of their flags undefined; the expected values are
// those of the Intel host, measured exhaustively in 32-bit code (see
// docs/UNDEFINED_FLAGS.md): DAA/DAS OF = 0; AAA/AAS SF ZF PF from the final
// AL and OF = 0; AAM OF AF CF = 0; AAD OF AF CF as for AL + AH * imm8.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/decoder.h"
#include "support/cpu_harness.h"

namespace vtlab::test {

namespace {

// One instruction with EAX and the flags preset.
struct Case {
  const char* insn;
  uint32_t eax, flags_in;
  uint32_t eax_out, flags_out;
};

// The shared runner; BCD instructions touch only EAX and the flags.
void run_cases(const std::vector<Case>& cases) {
  std::vector<RegCase> all;
  for (const Case& c : cases) all.push_back({c.insn, c.eax, 0, 0, c.flags_in, c.eax_out, 0, c.flags_out});
  run_reg_cases(all);
}

}  // namespace

// DAA after ADD: 79 + 35 = 114 (0x79 + 0x35 = 0xAE -> 0x14, carry).
TEST(Bcd, DaaAfterAdd) {
  CpuHarness h;
  h.load_asm(R"(
    mov al, 0x79
    add al, 0x35
    daa
    mov bl, al
    mov al, 0x38
    add al, 0x29
    daa
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RBX) & 0xFF, 0x14u);
  EXPECT_EQ(h.reg32(RAX) & 0xFF, 0x67u);  // 38 + 29 = 67: 0x61 with AF from the add
  EXPECT_EQ(h.arith_flags(), AF);
}

TEST(Bcd, DecimalAdjustFlags) {
  run_cases({
      {"daa", 0x123456AE, 0, 0x12345614, AF | PF | CF},
      {"daa", 0x0000009A, kAll & ~(AF | CF), 0x00000000, ZF | AF | PF | CF},  // OF reads 0
      {"daa", 0x00000012, 0, 0x00000012, PF},
      {"daa", 0x00000012, CF, 0x00000072, PF | CF},
      {"daa", 0x00000080, AF, 0x00000086, SF | AF},
      // DAS after 35 - 47: 0xEE with CF and AF -> 88, borrow.
      {"das", 0x000000EE, AF | CF, 0x00000088, SF | AF | PF | CF},
      // DAS keeps the borrow of the low-digit step even without CF in
      // (SDM pseudocode; the second step does not clear CF).
      {"das", 0x00000003, AF, 0x000000FD, SF | AF | CF},
      {"das", 0x000000A0, OF, 0x00000040, CF},
      {"das", 0x00000055, kAll & ~(AF | CF), 0x00000055, PF},
  });
}

// AAA/AAS adjust AX: the modern AX + 106H (and AX - 106H) carry a digit
// overflow of AL into AH as well.
TEST(Bcd, AsciiAdjustAddSub) {
  run_cases({
      {"aaa", 0x00000011, AF, 0x00000107, AF | CF},      // 9 + 8 = 17
      {"aaa", 0x000000FA, 0, 0x00000200, ZF | AF | PF | CF},  // AL + 6 carries into AH
      {"aaa", 0x00001235, kAll & ~AF, 0x00001205, PF},   // no adjust: AL masked only
      {"aaa", 0x0000FF0B, 0, 0x00000001, AF | CF},       // AH wraps
      {"aas", 0x000002FE, AF | CF, 0x00000108, AF | CF},  // 23 - 5 = 18
      {"aas", 0x00000203, AF, 0x0000000D, AF | CF},      // AL - 6 borrows from AH
      {"aas", 0x00000000, AF, 0x0000FE0A, AF | CF | PF},
      {"aas", 0x00000539, kAll & ~AF, 0x00000509, PF},
  });
}

// AAM divides AL by its immediate base; AAD folds AH back in.
TEST(Bcd, AsciiAdjustMultiplyDivide) {
  run_cases({
      {"aam", 0x0000004F, kAll, 0x00000709, PF},          // 79 -> 7, 9
      {"aam 16", 0x123400AB, 0, 0x12340A0B, 0},
      {"aam 1", 0x00000080, 0, 0x00008000, ZF | PF},
      {"aad", 0x00000709, kAll, 0x0000004F, 0},           // 7 * 10 + 9 = 79
      {"aad 16", 0x00000F0F, 0, 0x000000FF, SF | PF},
      {"aad", 0x00000850, 0, 0x000000A0, OF | SF | PF},   // 0x50 + 0x50 overflows as an add
      {"aad", 0x00001964, 0, 0x0000005E, CF},             // 100 + 250 carries out
      {"aad 0", 0x0000FF00, 0, 0x00000000, ZF | PF},
  });
}

TEST(Bcd, AamZeroIsDivideError) {
  CpuHarness h;
  h.load_asm("aam 0");
  h.cpu.s.gpr[RAX] = 0x1234;
  h.cpu.s.flags.set_bits(flag::kReserved1 | CF);
  ASSERT_EQ(h.execute_one(), Status::Exception);
  EXPECT_EQ(h.cpu.pending().vector, vec::DE);
  EXPECT_EQ(h.reg32(RAX), 0x1234u);
  EXPECT_EQ(h.arith_flags(), CF);
}

// The six adjusts do not exist in 64-bit mode: their opcodes are #UD there.
TEST(Bcd, InvalidInSixtyFourBitMode) {
  const Decoder dec;
  DecodedInsn d;
  for (const uint8_t op : {0x27, 0x2F, 0x37, 0x3F}) {
    const uint8_t bytes[] = {op};
    EXPECT_EQ(dec.decode(bytes, 1, 8, d), DecodeStatus::Invalid) << std::hex << int(op);
    EXPECT_EQ(dec.decode(bytes, 1, 4, d), DecodeStatus::Ok) << std::hex << int(op);
  }
  const uint8_t aam[] = {0xD4, 0x0A}, aad[] = {0xD5, 0x0A};
  EXPECT_EQ(dec.decode(aam, 2, 8, d), DecodeStatus::Invalid);
  EXPECT_EQ(dec.decode(aad, 2, 8, d), DecodeStatus::Invalid);
}

TEST(Bcd, RealMode) {
  CpuHarness h(16);
  h.load_asm(R"(
    mov ax, 0x0099
    add al, 1
    daa
    mov bx, ax
    mov ax, 0x0905
    aad
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RBX) & 0xFFFF, 0x0000u);  // 99 + 1 = 100: AL 00, carry
  EXPECT_EQ(h.reg32(RAX) & 0xFFFF, 0x005Fu);  // 9 * 10 + 5 = 95
  EXPECT_EQ(h.arith_flags(), PF);
}

}  // namespace vtlab::test
