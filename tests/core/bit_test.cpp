// Bit test and scan (core/isa/bit.cpp): BT BTS BTR BTC with register and
// immediate offsets, bit base addressing in memory (signed offsets reaching
// outside the operand), BSF BSR including the zero source.
//
// Undefined flags take the Intel host's values (docs/UNDEFINED_FLAGS.md):
// BTx leaves OF SF AF PF (and ZF, which the SDM keeps) unchanged; BSF/BSR
// clear CF OF SF AF and set PF from the index found.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/decoder.h"
#include "support/cpu_harness.h"

namespace vtlab::test {

// A register destination: the offset, register or immediate, is taken
// modulo the width.  CF gets the old bit; nothing else changes.
TEST(Bit, TestAndModifyRegister) {
  run_eax_ecx_cases({
      {"bt eax, 5", 0x00000020, 0, kAll & ~CF, 0x00000020, kAll},
      {"bt eax, 4", 0x00000020, 0, kAll, 0x00000020, kAll & ~CF},
      {"bt eax, ecx", 0x00000020, 37, 0, 0x00000020, CF},  // 37 mod 32 = 5
      {"bts eax, ecx", 0x00000000, 31, ZF, 0x80000000, ZF},
      {"bts eax, 31", 0x80000000, 0, 0, 0x80000000, CF},
      {"btr ax, cx", 0xFFFFFFFF, 17, 0, 0xFFFFFFFD, CF},   // 17 mod 16 = 1
      {"btr eax, 0", 0x00000002, 0, SF | PF, 0x00000002, SF | PF},
      {"btc eax, ecx", 0x00000000, 0xFFFFFFFF, 0, 0x80000000, 0},  // -1 mod 32 = 31
      {"btc ax, 15", 0x12348000, 0, OF, 0x12340000, OF | CF},
      {"btc eax, 40", 0x00000100, 0, 0, 0x00000000, CF},   // imm 40 masked to 8
  });
}

// A memory destination with an immediate offset: the offset is masked to
// the operand size, so the bit is always inside the addressed operand.
TEST(Bit, MemoryWithImmediateOffset) {
  CpuHarness h;
  h.write32(0x20000, 0x00000008);
  h.write32(0x20004, 0x00000000);
  h.load_asm(R"(
    bt dword ptr [0x20000], 35
    mov ebx, 0
    adc ebx, 0
    bts dword ptr [0x20000], 33
    btr word ptr [0x20000], 19
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RBX), 1u);  // CF: bit 3 of [0x20000], not of [0x20004]
  EXPECT_EQ(h.read32(0x20000), 0x00000002u);   // bit 1 set, then bit 3 (19 mod 16) cleared
  EXPECT_EQ(h.read32(0x20004), 0u);
  EXPECT_EQ(h.arith_flags() & CF, CF);
}

// A memory destination with a register offset: the offset is a signed bit
// index from the operand's address ("bit base addressing"); the operand-
// sized unit that holds the bit is the one accessed.
TEST(Bit, MemoryWithRegisterOffsetReachesOutsideTheOperand) {
  CpuHarness h;
  h.load_asm(R"(
    mov ebx, 0x20010
    mov ecx, 35
    bts dword ptr [ebx], ecx
    mov ecx, -1
    bts dword ptr [ebx], ecx
    mov ecx, 0x100
    btc dword ptr [ebx], ecx
    mov cx, -16
    btc word ptr [ebx], cx
    mov ecx, -33
    bt dword ptr [ebx], ecx
  )");
  h.write32(0x20008, 0x80000000);
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.read32(0x20014), 0x00000008u);  // +35: bit 3 of the next dword
  EXPECT_EQ(h.read32(0x20030), 0x00000001u);  // +256: 32 bytes up
  // -1: bit 31 of the dword below; then -16 as a word offset: bit 0 of the
  // word below, which is that dword's upper half.
  EXPECT_EQ(h.read32(0x2000C), 0x80010000u);
  EXPECT_EQ(h.read32(0x20010), 0u);
  EXPECT_EQ(h.arith_flags() & CF, CF);        // -33: bit 31 of [0x20008]
}

// Bit base addressing wraps at the address size like any effective address.
TEST(Bit, RegisterOffsetWrapsInSixteenBitAddressing) {
  CpuHarness h(16);
  h.load_asm(R"(
    mov bx, 0x0002
    mov cx, -32
    bts word ptr [bx], cx
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.mem.read(0xFFFE, 2), 0x0001u);  // 2 + 2 * (-32 >> 4) = -2 -> 0xFFFE
  EXPECT_EQ(h.mem.read(0x0002, 2), 0u);
}

// BSF/BSR: the index of the lowest / highest set bit; ZF says whether the
// source was zero, PF is the parity of the index, CF OF SF AF read 0.  A
// zero source leaves the destination alone.
TEST(Bit, ScanForward) {
  run_eax_ecx_cases({
      {"bsf eax, ecx", 0xFFFFFFFF, 0x00018000, kAll, 15, PF},
      {"bsf eax, ecx", 0xFFFFFFFF, 0x80000000, kAll, 31, 0},
      {"bsf eax, ecx", 0xFFFFFFFF, 0x00000001, 0, 0, PF},
      {"bsf eax, ecx", 0x12345678, 0x00000000, CF | SF | OF | AF, 0x12345678, ZF | PF},
      {"bsf ax, cx", 0xABCD1234, 0x00000000, 0, 0xABCD1234, ZF | PF},
      {"bsf ax, cx", 0xABCD1234, 0xFFFF0100, 0, 0xABCD0008, 0},
      // F3 0F BC is BSF on a CPU without BMI1 (this one): TZCNT would write
      // 32 and set CF.  Linux's __ffs is "rep; bsf".
      {"rep bsf eax, ecx", 0x12345678, 0x00000000, CF, 0x12345678, ZF | PF},
      {"rep bsf eax, ecx", 0xFFFFFFFF, 0x00018000, 0, 15, PF},
      {"rep bsr eax, ecx", 0xFFFFFFFF, 0x00018000, 0, 16, 0},
  });
}

TEST(Bit, ScanReverse) {
  run_eax_ecx_cases({
      {"bsr eax, ecx", 0xFFFFFFFF, 0x00018000, kAll, 16, 0},
      {"bsr eax, ecx", 0x00000000, 0x80000001, 0, 31, 0},
      {"bsr eax, ecx", 0x00000000, 0x00000007, kAll, 2, 0},
      {"bsr eax, ecx", 0x00000000, 0x00000008, kAll, 3, PF},
      {"bsr eax, ecx", 0x12345678, 0x00000000, kAll, 0x12345678, ZF | PF},
      {"bsr ax, cx", 0xABCD1234, 0x80000001, 0, 0xABCD0000, PF},
  });
}

TEST(Bit, ScanMemorySource) {
  CpuHarness h;
  h.write32(0x20000, 0x00F00000);
  h.load_asm(R"(
    bsf edx, dword ptr [0x20000]
    bsr esi, dword ptr [0x20000]
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RDX), 20u);
  EXPECT_EQ(h.reg32(RSI), 23u);
  EXPECT_EQ(h.arith_flags(), PF);  // parity of 23
}

// LOCK is legal on BTS/BTR/BTC with a memory destination only; the
// decoder refuses the rest (#UD).
TEST(Bit, LockPrefixRules) {
  const Decoder dec;
  DecodedInsn d;
  const uint8_t lock_bts_mem[] = {0xF0, 0x0F, 0xAB, 0x08};  // lock bts [eax], ecx
  const uint8_t lock_btc_imm[] = {0xF0, 0x0F, 0xBA, 0x38, 0x05};  // lock btc dword [eax], 5
  const uint8_t lock_bt_mem[] = {0xF0, 0x0F, 0xA3, 0x08};   // lock bt [eax], ecx
  const uint8_t lock_bts_reg[] = {0xF0, 0x0F, 0xAB, 0xC8};  // lock bts eax, ecx
  const uint8_t lock_bsf[] = {0xF0, 0x0F, 0xBC, 0x08};      // lock bsf ecx, [eax]
  EXPECT_EQ(dec.decode(lock_bts_mem, sizeof lock_bts_mem, 4, d), DecodeStatus::Ok);
  EXPECT_EQ(dec.decode(lock_btc_imm, sizeof lock_btc_imm, 4, d), DecodeStatus::Ok);
  EXPECT_EQ(dec.decode(lock_bt_mem, sizeof lock_bt_mem, 4, d), DecodeStatus::Invalid);
  EXPECT_EQ(dec.decode(lock_bts_reg, sizeof lock_bts_reg, 4, d), DecodeStatus::Invalid);
  EXPECT_EQ(dec.decode(lock_bsf, sizeof lock_bsf, 4, d), DecodeStatus::Invalid);
}

// BTS/BTR/BTC write, BT only reads: on a read-only segment the first faults
// with #GP(0) before changing anything, the second runs.
TEST(Bit, WritingFormsCheckTheDestination) {
  CpuHarness h;
  h.write32(0x20000, 0x00000001);
  h.cpu.s.seg[DS].attrs &= ~ar::kWritable;
  h.cpu.s.flags.set_bits(flag::kReserved1 | ZF);
  h.load_asm("bts dword ptr [0x20000], 0\n bt dword ptr [0x20000], 0");
  ASSERT_EQ(h.execute_one(), Status::Exception);
  EXPECT_EQ(h.cpu.pending().vector, vec::GP);
  EXPECT_EQ(h.read32(0x20000), 1u);
  EXPECT_EQ(h.arith_flags(), ZF);
  h.cpu.s.rip += 8;  // BTS [disp32], imm8 is 8 bytes
  ASSERT_EQ(h.execute_one(), Status::Ok);
  EXPECT_EQ(h.arith_flags(), ZF | CF);
}

}  // namespace vtlab::test
