// Integer arithmetic and logic (core/isa/alu.cpp): ADD ADC SUB SBB CMP AND
// OR XOR TEST INC DEC NEG NOT at each width, register, memory and
// immediate forms, the LOCK prefix rules, real mode.
//
// Expected values come from the SDM's definitions, worked by hand; the same
// instructions were run against the host CPU with a differential fuzzer
// (docs/UNDEFINED_FLAGS.md, "How the values were measured").
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/decoder.h"
#include "support/cpu_harness.h"

namespace vtlab::test {

// Carry, overflow and auxiliary carry at each width's boundary; byte and
// word forms leave the rest of the register alone.
TEST(Alu, AddAndAdcAtEachWidth) {
  run_eax_ecx_cases({
      {"add al, cl", 0xAABBCC7F, 0x01, kAll, 0xAABBCC80, OF | SF | AF},
      {"add al, cl", 0x000000FF, 0x01, 0, 0x00000000, CF | ZF | AF | PF},
      {"add ax, cx", 0x11117FFF, 0x01, 0, 0x11118000, OF | SF | AF | PF},
      {"add ax, cx", 0x0000FFFF, 0x01, 0, 0x00000000, CF | ZF | AF | PF},
      {"add eax, ecx", 0x7FFFFFFF, 0x01, 0, 0x80000000, OF | SF | AF | PF},
      {"add eax, ecx", 0x80000000, 0x80000000, 0, 0x00000000, CF | OF | ZF | PF},
      {"add eax, ecx", 0x12345678, 0x11111111, kAll, 0x23456789, 0},
      {"add al, 0x08", 0x00000008, 0, 0, 0x00000010, AF},
      {"add ah, cl", 0x0000F000, 0x10, 0, 0x00000000, CF | ZF | PF},
      // ADC: the carry in joins the sum, and CF must survive a + b + 1
      // wrapping exactly onto a.
      {"adc al, cl", 0x000000FF, 0x00, CF, 0x00000000, CF | ZF | AF | PF},
      {"adc al, cl", 0x00000000, 0xFF, CF, 0x00000000, CF | ZF | AF | PF},
      {"adc al, cl", 0x000000FF, 0x00, 0, 0x000000FF, SF | PF},
      {"adc eax, ecx", 0x7FFFFFFF, 0x00, CF, 0x80000000, OF | SF | AF | PF},
      {"adc ax, cx", 0x00008000, 0x7FFF, CF, 0x00000000, CF | ZF | AF | PF},
  });
}

TEST(Alu, SubSbbAndCmp) {
  run_eax_ecx_cases({
      {"sub al, cl", 0x00000000, 0x01, 0, 0x000000FF, CF | SF | AF | PF},
      {"sub al, cl", 0x00000080, 0x01, 0, 0x0000007F, OF | AF},
      {"sub eax, ecx", 0x80000000, 0x01, 0, 0x7FFFFFFF, OF | AF | PF},
      {"sub ax, cx", 0x55551234, 0x1234, 0, 0x55550000, ZF | PF},
      {"sbb al, cl", 0x00000000, 0xFF, CF, 0x00000000, CF | ZF | AF | PF},
      {"sbb eax, ecx", 0x80000000, 0x00, CF, 0x7FFFFFFF, OF | AF | PF},
      {"sbb eax, ecx", 0x00000005, 0x03, kAll & ~CF, 0x00000002, 0},
      {"sbb ax, cx", 0x00000000, 0x0000, CF, 0x0000FFFF, CF | SF | AF | PF},
      // CMP computes SUB's flags and writes nothing.
      {"cmp eax, ecx", 0x00000005, 0x05, 0, 0x00000005, ZF | PF},
      {"cmp al, 0x80", 0x0000007F, 0, 0, 0x0000007F, CF | OF | SF | PF},
      {"cmp ecx, eax", 0x00000001, 0x80000000, 0, 0x00000001, OF | AF | PF},
  });
}

// AND/OR/XOR/TEST clear CF and OF; AF is undefined and reads 0 (as on the
// Intel host); SF ZF PF follow the result.
TEST(Alu, LogicOperations) {
  run_eax_ecx_cases({
      {"and eax, ecx", 0xF0F0F0F0, 0x0FF00FF0, kAll, 0x00F000F0, PF},
      {"or eax, ecx", 0x80000000, 0x01, kAll, 0x80000001, SF},
      {"xor eax, eax", 0x00001234, 0, kAll, 0x00000000, ZF | PF},
      {"xor al, 0xFF", 0x12345601, 0, 0, 0x123456FE, SF},
      {"and ah, cl", 0x0000F000, 0x3C, kAll, 0x00003000, PF},
      {"or ax, cx", 0xFFFF0000, 0x0000, kAll, 0xFFFF0000, ZF | PF},
      // TEST writes nothing.
      {"test al, 0x80", 0x00000080, 0, kAll, 0x00000080, SF},
      {"test eax, ecx", 0x0000FF00, 0x00FF, kAll, 0x0000FF00, ZF | PF},
  });
}

// INC and DEC leave CF as it was.
TEST(Alu, IncDecKeepCarry) {
  run_eax_ecx_cases({
      {"inc eax", 0x7FFFFFFF, 0, CF, 0x80000000, OF | SF | AF | PF | CF},
      {"inc ax", 0x0000FFFF, 0, 0, 0x00000000, ZF | AF | PF},
      {"dec al", 0x00000080, 0, 0, 0x0000007F, OF | AF},
      {"dec eax", 0x00000001, 0, CF | SF, 0x00000000, ZF | PF | CF},
      {"dec ah", 0x00000000, 0, 0, 0x0000FF00, SF | AF | PF},
  });
}

TEST(Alu, IncByteRegisterWraps) {
  CpuHarness h;
  h.load_asm("mov ecx, 0x123456FF\n inc cl");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RCX), 0x12345600u);
  EXPECT_EQ(h.arith_flags(), ZF | AF | PF);
}

TEST(Alu, NegAndNot) {
  run_eax_ecx_cases({
      {"neg eax", 0x00000000, 0, kAll, 0x00000000, ZF | PF},  // CF = (source != 0)
      {"neg eax", 0x80000000, 0, 0, 0x80000000, CF | OF | SF | PF},
      {"neg al", 0x00000001, 0, 0, 0x000000FF, CF | SF | AF | PF},
      {"neg ax", 0xABCD0010, 0, 0, 0xABCDFFF0, CF | SF | PF},
      // NOT affects no flags.
      {"not eax", 0x0F0F0F0F, 0, kAll, 0xF0F0F0F0, kAll},
      {"not ah", 0x00000000, 0, OF | CF, 0x0000FF00, OF | CF},
  });
}

// 83 /0 ib sign-extends its byte immediate to the operand size.
TEST(Alu, SignExtendedImmediates) {
  run_eax_ecx_cases({
      {"add eax, -1", 0x12345678, 0, 0, 0x12345677, CF | AF | PF},
      {"add ax, -1", 0xAAAA0000, 0, 0, 0xAAAAFFFF, SF | PF},
      {"sub eax, -2", 0xFFFFFFFE, 0, 0, 0x00000000, ZF | PF},
      {"and eax, -16", 0x1234567F, 0, kAll, 0x12345670, 0},
      {"cmp eax, 0x7F", 0x0000007F, 0, 0, 0x0000007F, ZF | PF},
  });
}

TEST(Alu, MemoryDestinationsAndSources) {
  CpuHarness h;
  h.load_asm(R"(
    mov dword ptr [0x20000], 0x7FFFFFFF
    mov ecx, 1
    add dword ptr [0x20000], ecx
    mov word ptr [0x20004], 5
    sub word ptr [0x20004], 7
    lock inc byte ptr [0x20008]
    mov dword ptr [0x2000C], 5
    neg dword ptr [0x2000C]
    not byte ptr [0x20010]
    mov edx, 0x40
    adc dl, byte ptr [0x20008]
    mov dword ptr [0x20014], 0xFF00FF00
    lock xor dword ptr [0x20014], 0x0FF00FF0
    mov ebx, 0x0000FFFF
    and ebx, dword ptr [0x20014]
    cmp dword ptr [0x20000], 0x80000000
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.read32(0x20000), 0x80000000u);  // CMP did not write
  EXPECT_EQ(h.mem.read(0x20004, 2), 0xFFFEu);
  EXPECT_EQ(h.mem.read(0x20008, 1), 0x01u);
  EXPECT_EQ(h.read32(0x2000C), 0xFFFFFFFBu);
  EXPECT_EQ(h.mem.read(0x20010, 1), 0xFFu);
  EXPECT_EQ(h.read32(0x20014), 0xF0F0F0F0u);
  EXPECT_EQ(h.reg32(RBX), 0x0000F0F0u);
  EXPECT_EQ(h.reg32(RDX), 0x42u);  // NOT left NEG's CF=1 for ADC
  EXPECT_EQ(h.arith_flags(), ZF | PF);
}

// LOCK is legal only on the read-modify-write forms with a memory
// destination; elsewhere the decoder (Zydis) refuses the bytes and the
// engine raises #UD.
TEST(Alu, LockPrefixRules) {
  const Decoder dec;
  DecodedInsn d;
  const uint8_t lock_add_mem[] = {0xF0, 0x01, 0x18};      // lock add [eax], ebx
  const uint8_t lock_add_reg[] = {0xF0, 0x01, 0xD8};      // lock add eax, ebx
  const uint8_t lock_cmp_mem[] = {0xF0, 0x39, 0x18};      // lock cmp [eax], ebx
  const uint8_t lock_test_mem[] = {0xF0, 0x85, 0x18};     // lock test [eax], ebx
  const uint8_t lock_not_reg[] = {0xF0, 0xF7, 0xD0};      // lock not eax
  const uint8_t lock_neg_mem[] = {0xF0, 0xF7, 0x18};      // lock neg dword [eax]
  EXPECT_EQ(dec.decode(lock_add_mem, sizeof lock_add_mem, 4, d), DecodeStatus::Ok);
  EXPECT_TRUE(d.prefixes & prefix::kLock);
  EXPECT_EQ(dec.decode(lock_neg_mem, sizeof lock_neg_mem, 4, d), DecodeStatus::Ok);
  EXPECT_EQ(dec.decode(lock_add_reg, sizeof lock_add_reg, 4, d), DecodeStatus::Invalid);
  EXPECT_EQ(dec.decode(lock_cmp_mem, sizeof lock_cmp_mem, 4, d), DecodeStatus::Invalid);
  EXPECT_EQ(dec.decode(lock_test_mem, sizeof lock_test_mem, 4, d), DecodeStatus::Invalid);
  EXPECT_EQ(dec.decode(lock_not_reg, sizeof lock_not_reg, 4, d), DecodeStatus::Invalid);
}

// The destination is checked for writing before anything happens: a
// read-only data segment faults with #GP(0) and leaves memory and flags.
TEST(Alu, ReadOnlyDestinationFaultsBeforeAnyChange) {
  CpuHarness h;
  h.write32(0x20000, 0x11111111);
  h.cpu.s.seg[DS].attrs &= ~ar::kWritable;
  h.cpu.s.gpr[RAX] = 0x22222222;
  h.cpu.s.flags.set_bits(flag::kReserved1 | CF | ZF);
  h.load_asm("add dword ptr [0x20000], eax\n cmp dword ptr [0x20000], eax");
  ASSERT_EQ(h.execute_one(), Status::Exception);
  EXPECT_EQ(h.cpu.pending().vector, vec::GP);
  EXPECT_EQ(h.cpu.pending().error, 0u);
  EXPECT_EQ(h.read32(0x20000), 0x11111111u);
  EXPECT_EQ(h.arith_flags(), CF | ZF);
  // CMP only reads, so the same operand is fine for it.
  h.cpu.s.rip += 6;
  ASSERT_EQ(h.execute_one(), Status::Ok);
  EXPECT_EQ(h.arith_flags(), CF | SF | AF);  // 0x11111111 - 0x22222222
}

// A page that can be read but not written: the read succeeds, the store
// faults with #PF, and the flags the instruction computed are not kept.
TEST(Alu, FaultingStoreCommitsNoFlags) {
  CpuHarness h;
  h.write32(0x20000, 0xFFFFFFFF);
  h.identity_paging(0x20000, /*read-only*/ 1);
  h.cpu.s.cr0 |= cr0::WP;  // CPL 0 stores fault too
  h.cpu.s.gpr[RAX] = 1;
  h.cpu.s.flags.set_bits(flag::kReserved1 | SF);
  h.load_asm("add dword ptr [0x20000], eax");
  ASSERT_EQ(h.execute_one(), Status::Exception);
  EXPECT_EQ(h.cpu.pending().vector, vec::PF);
  EXPECT_EQ(h.cpu.pending().error, pfec::P | pfec::W);
  EXPECT_EQ(h.cpu.s.cr2, 0x20000u);
  EXPECT_EQ(h.read32(0x20000), 0xFFFFFFFFu);
  EXPECT_EQ(h.arith_flags(), SF);
}

TEST(Alu, RealModeSixteenBitDefaults) {
  CpuHarness h(16);
  h.load_asm(R"(
    mov word ptr [0x2000], 0x00FF
    add byte ptr [0x2000], 1
    adc byte ptr [0x2001], 0
    mov ecx, 0xFFFFFFFF
    add ecx, 1
    mov ax, 0x7FFF
    add ax, 1
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.mem.read(0x2000, 2), 0x0100u);
  EXPECT_EQ(h.reg32(RCX), 0u);  // 66-prefixed 32-bit add in real mode
  EXPECT_EQ(h.reg32(RAX) & 0xFFFF, 0x8000u);
  EXPECT_EQ(h.arith_flags(), OF | SF | AF | PF);
}

}  // namespace vtlab::test
