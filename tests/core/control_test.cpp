// Near control transfer: Jcc (every condition, every displacement width),
// JMP/CALL/RET near, LOOP/LOOPcc, JCXZ/JECXZ, operand-size truncation of
// EIP and the CS-limit #GP(0).
#include <gtest/gtest.h>

#include <vector>

#include "core/decoder.h"
#include "support/cpu_harness.h"

namespace vtlab::test {

namespace {

// The SDM's Jcc table (vol. 2, Jcc), one row per condition code 0..15.
bool sdm_condition(unsigned cc, uint32_t f) {
  const bool cf = f & flag::CF, pf = f & flag::PF, zf = f & flag::ZF, sf = f & flag::SF, of = f & flag::OF;
  switch (cc) {
    case 0x0: return of;                     // JO
    case 0x1: return !of;                    // JNO
    case 0x2: return cf;                     // JB/JC/JNAE
    case 0x3: return !cf;                    // JAE/JNB/JNC
    case 0x4: return zf;                     // JE/JZ
    case 0x5: return !zf;                    // JNE/JNZ
    case 0x6: return cf || zf;               // JBE/JNA
    case 0x7: return !cf && !zf;             // JA/JNBE
    case 0x8: return sf;                     // JS
    case 0x9: return !sf;                    // JNS
    case 0xA: return pf;                     // JP/JPE
    case 0xB: return !pf;                    // JNP/JPO
    case 0xC: return sf != of;               // JL/JNGE
    case 0xD: return sf == of;               // JGE/JNL
    case 0xE: return zf || sf != of;         // JLE/JNG
    default: return !zf && sf == of;         // JG/JNLE
  }
}

// Every combination of the five status flags Jcc can test (AF is never tested).
std::vector<uint32_t> flag_images() {
  const uint32_t bits[] = {flag::CF, flag::PF, flag::ZF, flag::SF, flag::OF};
  std::vector<uint32_t> out;
  for (unsigned m = 0; m < 32; ++m) {
    uint32_t f = 0;
    for (unsigned b = 0; b < 5; ++b)
      if (m & (1u << b)) f |= bits[b];
    out.push_back(f);
  }
  return out;
}

}  // namespace

TEST(Control, JccEveryConditionEveryFlagCombination) {
  CpuHarness h;
  // Jcc rel8 (70+cc, +0x10) at 0x2000 + cc*0x100; Jcc rel32 (0F 80+cc,
  // +0x100) at 0x4000 + cc*0x100.
  for (unsigned cc = 0; cc < 16; ++cc) {
    h.load({uint8_t(0x70 + cc), 0x10}, 0x2000 + cc * 0x100);
    h.load({0x0F, uint8_t(0x80 + cc), 0x00, 0x01, 0x00, 0x00}, 0x4000 + cc * 0x100);
  }
  for (uint32_t f : flag_images()) {
    for (unsigned cc = 0; cc < 16; ++cc) {
      const bool taken = sdm_condition(cc, f);
      const uint64_t short_at = 0x2000 + cc * 0x100, near_at = 0x4000 + cc * 0x100;

      h.cpu.s.rip = short_at;
      h.cpu.s.flags.set_bits(f);
      ASSERT_EQ(h.run(1), StopReason::BudgetExhausted);
      EXPECT_EQ(h.cpu.s.rip, taken ? short_at + 2 + 0x10 : short_at + 2) << "rel8 cc=" << cc << " flags=" << f;

      h.cpu.s.rip = near_at;
      h.cpu.s.flags.set_bits(f);
      ASSERT_EQ(h.run(1), StopReason::BudgetExhausted);
      EXPECT_EQ(h.cpu.s.rip, taken ? near_at + 6 + 0x100 : near_at + 6) << "rel32 cc=" << cc << " flags=" << f;
      EXPECT_EQ(h.flags() & flag::kArith, f);  // a branch leaves the flags alone
    }
  }
}

TEST(Control, JccBackwardAndRel16InRealMode) {
  CpuHarness h(16);
  h.load({0x0F, 0x84, 0x00, 0x01}, 0x1000);  // jz +0x100 (rel16)
  h.load({0x75, 0xFE}, 0x1200);              // jnz to itself (rel8 -2)
  h.cpu.s.rip = 0x1000;
  h.cpu.s.flags.set_bits(flag::ZF);
  ASSERT_EQ(h.run(1), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.s.rip, 0x1104u);
  h.cpu.s.rip = 0x1200;
  h.cpu.s.flags.set_bits(0);
  ASSERT_EQ(h.run(1), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.s.rip, 0x1200u);
}

// With a 16-bit operand size the new EIP is truncated to 16 bits (SDM Jcc,
// JMP): from 0x12345 a zero displacement lands at 0x2345.
TEST(Control, OperandSize16TruncatesEip) {
  CpuHarness h;
  h.load({0x66, 0x0F, 0x84, 0x00, 0x00}, 0x12340);  // jz rel16 +0
  h.cpu.s.flags.set_bits(flag::ZF);
  ASSERT_EQ(h.run(1), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.s.rip, 0x2345u);

  h.load({0x66, 0x0F, 0x84, 0x00, 0x00}, 0x12340);  // not taken: falls through untruncated
  h.cpu.s.flags.set_bits(0);
  ASSERT_EQ(h.run(1), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.s.rip, 0x12345u);

  h.load({0x66, 0xE9, 0x10, 0x00}, 0x12340);  // jmp rel16 +0x10
  ASSERT_EQ(h.run(1), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.s.rip, 0x2354u);
}

TEST(Control, JmpRelativeRegisterAndMemory) {
  CpuHarness h;
  h.load_asm(R"(
    mov eax, offset t1
    jmp eax
    mov ebx, 1
  t1:
    mov dword ptr [0x20000], offset t2
    jmp dword ptr [0x20000]
    mov ebx, 2
  t2:
    jmp t3
    mov ebx, 3
  t3:
    mov ecx, 4
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RBX), 0u);
  EXPECT_EQ(h.reg32(RCX), 4u);
  EXPECT_EQ(h.cpu.icount, 6u);
}

TEST(Control, CallPushesNextEipAndRetPopsIt) {
  CpuHarness h;
  h.load_asm(R"(
    call f
  after:
    mov ebx, eax
    jmp done
  f:
    mov eax, [esp]
    mov ecx, esp
    ret
  done:
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RAX), 0x1005u);  // call rel32 at 0x1000 is 5 bytes long
  EXPECT_EQ(h.reg32(RBX), 0x1005u);
  EXPECT_EQ(h.reg32(RCX), 0x8FFFCu);
  EXPECT_EQ(h.reg32(RSP), 0x90000u);
  EXPECT_EQ(h.cpu.icount, 6u);
}

// CALL r/m reads its target before pushing: `call [esp]` uses the old ESP.
TEST(Control, CallIndirectReadsTargetBeforePush) {
  CpuHarness h;
  h.load_asm(R"(
    push offset f
    call dword ptr [esp]
    jmp done
  f:
    mov eax, esp
    mov ebx, [esp]
    ret
  done:
    mov ecx, offset f
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RAX), 0x8FFF8u);
  EXPECT_EQ(h.reg32(RBX), 0x1008u);  // push imm32 (5) + call [esp] (3)
  EXPECT_EQ(h.read32(0x8FFFC), h.reg32(RCX));
  EXPECT_EQ(h.reg32(RSP), 0x8FFFCu);
}

TEST(Control, CallRegisterAndRetImmReleasesArguments) {
  CpuHarness h;
  h.load_asm(R"(
    push 0x11
    push 0x22
    mov eax, offset f
    call eax
    jmp done
  f:
    mov ebx, [esp + 4]
    ret 8
  done:
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RBX), 0x22u);
  EXPECT_EQ(h.reg32(RSP), 0x90000u);
  EXPECT_EQ(h.cpu.icount, 7u);
}

TEST(Control, RealModeCallAndRetImmUse16BitSlots) {
  CpuHarness h(16);
  h.load_asm(R"(
    mov esp, 0x8000
    push 0x1234
    call f
    jmp done
  f:
    mov ax, sp
    mov bx, [0x7FFC]
    ret 2
  done:
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RAX) & 0xFFFF, 0x7FFCu);
  EXPECT_EQ(h.reg32(RBX) & 0xFFFF, 0x100Cu);  // mov esp (6) + push (3) + call (3)
  EXPECT_EQ(h.mem.read(0x7FFE, 2), 0x1234u);
  EXPECT_EQ(h.reg32(RSP), 0x8000u);
}

TEST(Control, LoopCountsEcxDown) {
  CpuHarness h;
  h.load_asm(R"(
    mov ecx, 5
    mov eax, 0
  l:
    lea eax, [eax + 1]
    loop l
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RAX), 5u);
  EXPECT_EQ(h.reg32(RCX), 0u);
  EXPECT_EQ(h.cpu.icount, 2u + 5 * 2);
}

// The address size picks the counter: CX under a 67 prefix, upper half kept.
TEST(Control, LoopWithAddressSize16CountsCxOnly) {
  CpuHarness h;
  h.load_asm(R"(
    mov ecx, 0x00010003
    mov eax, 0
  l:
    lea eax, [eax + 1]
    addr16 loop l
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RAX), 3u);
  EXPECT_EQ(h.reg32(RCX), 0x00010000u);
}

TEST(Control, RealModeLoopUsesCx) {
  CpuHarness h(16);
  h.load_asm(R"(
    mov ecx, 0x00020002
    mov bx, 0
  l:
    lea bx, [bx + 1]
    loop l
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RBX), 2u);
  EXPECT_EQ(h.reg32(RCX), 0x00020000u);
}

TEST(Control, LoopeAndLoopneTestZfAfterTheCount) {
  struct Case {
    uint8_t opcode;  // E1 LOOPE, E0 LOOPNE
    uint32_t ecx;
    uint32_t flags;
    bool taken;
    uint32_t ecx_after;
  };
  const Case cases[] = {
      {0xE1, 10, flag::ZF, true, 9}, {0xE1, 10, 0, false, 9}, {0xE1, 1, flag::ZF, false, 0},
      {0xE0, 10, 0, true, 9},        {0xE0, 10, flag::ZF, false, 9}, {0xE0, 1, 0, false, 0},
      {0xE0, 0, 0, true, 0xFFFFFFFF},  // a zero count wraps and keeps looping
  };
  for (const Case& c : cases) {
    CpuHarness h;
    h.load({c.opcode, 0x10});
    h.cpu.s.gpr[RCX] = c.ecx;
    h.cpu.s.flags.set_bits(c.flags);
    ASSERT_EQ(h.run(1), StopReason::BudgetExhausted);
    EXPECT_EQ(h.cpu.s.rip, c.taken ? 0x1012u : 0x1002u) << std::hex << int(c.opcode) << " ecx=" << c.ecx;
    EXPECT_EQ(h.reg32(RCX), c.ecx_after);
    EXPECT_EQ(h.flags() & flag::kArith, c.flags);
  }
}

TEST(Control, JcxzAndJecxzTestTheAddressSizeCounter) {
  struct Case {
    std::vector<uint8_t> bytes;
    uint32_t ecx;
    bool taken;
  };
  const Case cases[] = {
      {{0xE3, 0x10}, 0x00010000, false},        // jecxz: ECX != 0
      {{0x67, 0xE3, 0x10}, 0x00010000, true},   // jcxz: CX == 0
      {{0xE3, 0x10}, 0, true},
      {{0x67, 0xE3, 0x10}, 0x00000001, false},
  };
  for (const Case& c : cases) {
    CpuHarness h;
    h.load(c.bytes);
    h.cpu.s.gpr[RCX] = c.ecx;
    ASSERT_EQ(h.run(1), StopReason::BudgetExhausted);
    const uint64_t next = 0x1000 + c.bytes.size();
    EXPECT_EQ(h.cpu.s.rip, c.taken ? next + 0x10 : next) << c.bytes.size() << " ecx=" << c.ecx;
    EXPECT_EQ(h.reg32(RCX), c.ecx);
  }
}

TEST(Control, RealModeJcxz) {
  CpuHarness h(16);
  h.load({0xE3, 0x10});
  h.cpu.s.gpr[RCX] = 0x00030000;
  ASSERT_EQ(h.run(1), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.s.rip, 0x1012u);
}

// A target beyond the CS limit raises #GP(0) before anything is committed:
// no push for CALL, no pop for RET, no count update for LOOP.
TEST(Control, TargetBeyondCsLimitFaultsWithoutSideEffects) {
  CpuHarness h;
  h.cpu.s.seg[CS].limit = 0xFFFF;
  h.load({0xFF, 0xE0});  // jmp eax
  h.cpu.s.gpr[RAX] = 0x10000;
  ASSERT_EQ(h.execute_one(), Status::Exception);
  EXPECT_EQ(h.cpu.pending().vector, vec::GP);
  EXPECT_EQ(h.cpu.pending().error, 0u);
  EXPECT_EQ(h.cpu.s.rip, 0x1000u);

  h.cpu.s.gpr[RAX] = 0xFFFF;  // the last byte inside the limit is fine
  ASSERT_EQ(h.execute_one(), Status::Ok);
  EXPECT_EQ(h.cpu.s.rip, 0xFFFFu);

  h.load({0xFF, 0xD0});  // call eax
  h.cpu.s.gpr[RAX] = 0x10000;
  ASSERT_EQ(h.execute_one(), Status::Exception);
  EXPECT_EQ(h.reg32(RSP), 0x90000u);
  EXPECT_EQ(h.read32(0x8FFFC), 0u);

  h.load({0xC3});  // ret
  h.cpu.s.gpr[RSP] = 0x8FFFC;
  h.write32(0x8FFFC, 0x20000);
  ASSERT_EQ(h.execute_one(), Status::Exception);
  EXPECT_EQ(h.reg32(RSP), 0x8FFFCu);

  h.load({0xE2, 0x7F});  // loop to 0x1081, with the limit lowered below it
  h.cpu.s.seg[CS].limit = 0x1080;
  h.cpu.s.gpr[RCX] = 2;
  ASSERT_EQ(h.execute_one(), Status::Exception);
  EXPECT_EQ(h.reg32(RCX), 2u);

  h.load({0x74, 0x7F});  // jz not taken: the target is never checked
  h.cpu.s.flags.set_bits(0);
  ASSERT_EQ(h.execute_one(), Status::Ok);
  EXPECT_EQ(h.cpu.s.rip, 0x1002u);
}

}  // namespace vtlab::test
