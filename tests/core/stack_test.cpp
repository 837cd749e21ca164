// PUSH/POP in every operand form, PUSH Sreg, PUSHA/POPA images, ENTER with
// nesting levels, LEAVE; the ESP-relative corner cases the SDM spells out.
#include <gtest/gtest.h>

#include "core/decoder.h"
#include "support/cpu_harness.h"

namespace vtlab::test {

namespace {

}  // namespace

TEST(Stack, PushPopRegisterAndImmediateForms) {
  CpuHarness h;
  h.load_asm(R"(
    mov eax, 0x11223344
    mov ebx, 0xAAAA0000
    push eax
    push 0x55667788
    push -128
    pushw -2
    pop bx
    pop ecx
    pop edx
    pop esi
  )");
  ASSERT_EQ(h.run(6), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RSP), 0x8FFF2u);
  EXPECT_EQ(h.read32(0x8FFFC), 0x11223344u);
  EXPECT_EQ(h.read32(0x8FFF8), 0x55667788u);
  EXPECT_EQ(h.read32(0x8FFF4), 0xFFFFFF80u);  // imm8 sign-extended to 32 bits
  EXPECT_EQ(h.mem.read(0x8FFF2, 2), 0xFFFEu);  // 16-bit push: two bytes
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RBX), 0xAAAAFFFEu);  // POP r16 keeps the upper half
  EXPECT_EQ(h.reg32(RCX), 0xFFFFFF80u);
  EXPECT_EQ(h.reg32(RDX), 0x55667788u);
  EXPECT_EQ(h.reg32(RSI), 0x11223344u);
  EXPECT_EQ(h.reg32(RSP), 0x90000u);
}

TEST(Stack, PushEspPushesTheValueBeforeTheDecrement) {
  CpuHarness h;
  h.load_asm(R"(
    push esp
    pushw sp
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.read32(0x8FFFC), 0x90000u);
  EXPECT_EQ(h.mem.read(0x8FFFA, 2), 0xFFFCu);
  EXPECT_EQ(h.reg32(RSP), 0x8FFFAu);
}

TEST(Stack, PopEspLoadsThePoppedValue) {
  CpuHarness h;
  h.load_asm(R"(
    push 0x12340
    pop esp
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RSP), 0x12340u);  // not 0x12344: the increment is overwritten
}

TEST(Stack, PushMemoryAddressesWithTheOldEsp) {
  CpuHarness h;
  h.write32(0x90000, 0xB0B0B0B0);
  h.write32(0x90004, 0xC0C0C0C0);
  h.load_asm("push dword ptr [esp + 4]");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.read32(0x8FFFC), 0xC0C0C0C0u);
  EXPECT_EQ(h.reg32(RSP), 0x8FFFCu);
}

// POP r/m computes the address after ESP has moved (SDM vol. 2, POP).
TEST(Stack, PopMemoryAddressesWithTheNewEsp) {
  CpuHarness h;
  h.write32(0x90000, 0xA);
  h.write32(0x90004, 0xB);
  h.write32(0x90008, 0xC);
  h.load_asm("pop dword ptr [esp + 4]");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RSP), 0x90004u);
  EXPECT_EQ(h.read32(0x90004), 0xBu);
  EXPECT_EQ(h.read32(0x90008), 0xAu);
}

TEST(Stack, PopMemoryFaultLeavesEspUnchanged) {
  CpuHarness h;
  h.cpu.s.seg[DS].limit = 0x1FFFF;
  h.write32(0x90000, 0x1234);
  h.load_asm("pop dword ptr [0x20000]");
  ASSERT_EQ(h.execute_one(), Status::Exception);
  EXPECT_EQ(h.cpu.pending().vector, vec::GP);
  EXPECT_EQ(h.cpu.pending().error, 0u);
  EXPECT_EQ(h.reg32(RSP), 0x90000u);
  EXPECT_EQ(h.cpu.s.rip, 0x1000u);
}

// A 32-bit PUSH Sreg stores the selector with a 16-bit move and leaves the
// upper half of the slot alone (recent Intel processors; the SDM allows a
// zero-extended push too).  A 16-bit push stores two bytes.
TEST(Stack, PushSregWritesOnlyTheLowWordOfA32BitSlot) {
  CpuHarness h;
  h.cpu.s.seg[ES].selector = 0x2B;
  h.write32(0x8FFFC, 0xDEADBEEF);
  h.write32(0x8FFF8, 0xCAFEF00D);
  h.load_asm(R"(
    push ds
    pushw es
    push cs
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.read32(0x8FFFC), 0xDEAD0010u);
  EXPECT_EQ(h.mem.read(0x8FFFA, 2), 0x002Bu);
  EXPECT_EQ(h.mem.read(0x8FFF6, 2), 0x0008u);  // push cs: the slot is 8FFF6..8FFF9,
  EXPECT_EQ(h.mem.read(0x8FFF8, 2), 0xF00Du);  // and its upper half keeps what was there
  EXPECT_EQ(h.reg32(RSP), 0x8FFF6u);
}

TEST(Stack, RealModePushSreg) {
  CpuHarness h(16);
  h.cpu.s.seg[DS].selector = 0x1234;
  h.load_asm(R"(
    mov esp, 0x8000
    push ds
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.mem.read(0x7FFE, 2), 0x1234u);
  EXPECT_EQ(h.reg32(RSP), 0x7FFEu);
}

TEST(Stack, PushadPopadImage) {
  CpuHarness h;
  h.load_asm(R"(
    mov eax, 0xA0
    mov ecx, 0xC0
    mov edx, 0xD0
    mov ebx, 0xB0
    mov ebp, 0xB9
    mov esi, 0x51
    mov edi, 0xD1
    pushad
    mov eax, 0
    mov ecx, 0
    mov edx, 0
    mov ebx, 0
    mov ebp, 0
    mov esi, 0
    mov edi, 0
    mov dword ptr [esp + 12], 0x12345678
    popad
  )");
  ASSERT_EQ(h.run(8), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RSP), 0x8FFE0u);
  const uint32_t image[8] = {0xD1, 0x51, 0xB9, 0x90000, 0xB0, 0xD0, 0xC0, 0xA0};  // from ESP up
  for (unsigned k = 0; k < 8; ++k) EXPECT_EQ(h.read32(0x8FFE0 + 4 * k), image[k]) << k;
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RAX), 0xA0u);
  EXPECT_EQ(h.reg32(RCX), 0xC0u);
  EXPECT_EQ(h.reg32(RDX), 0xD0u);
  EXPECT_EQ(h.reg32(RBX), 0xB0u);
  EXPECT_EQ(h.reg32(RBP), 0xB9u);
  EXPECT_EQ(h.reg32(RSI), 0x51u);
  EXPECT_EQ(h.reg32(RDI), 0xD1u);
  EXPECT_EQ(h.reg32(RSP), 0x90000u);  // the ESP slot was skipped
}

TEST(Stack, RealModePushaPopa) {
  CpuHarness h(16);
  h.load_asm(R"(
    mov esp, 0x8000
    mov ax, 1
    mov cx, 2
    mov dx, 3
    mov bx, 4
    mov bp, 5
    mov si, 6
    mov di, 7
    pusha
    mov ax, 0
    mov di, 0
    popa
  )");
  ASSERT_EQ(h.run(9), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RSP), 0x7FF0u);
  const uint16_t image[8] = {7, 6, 5, 0x8000, 4, 3, 2, 1};
  for (unsigned k = 0; k < 8; ++k) EXPECT_EQ(h.mem.read(0x7FF0 + 2 * k, 2), image[k]) << k;
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RAX), 1u);
  EXPECT_EQ(h.reg32(RDI), 7u);
  EXPECT_EQ(h.reg32(RSP), 0x8000u);
}

TEST(Stack, EnterLevelZeroAndLeave) {
  CpuHarness h;
  h.load_asm(R"(
    mov ebp, 0x12345678
    enter 0x20, 0
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.read32(0x8FFFC), 0x12345678u);
  EXPECT_EQ(h.reg32(RBP), 0x8FFFCu);
  EXPECT_EQ(h.reg32(RSP), 0x8FFDCu);

  h.load_asm("leave");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RBP), 0x12345678u);
  EXPECT_EQ(h.reg32(RSP), 0x90000u);
}

// ENTER 0x10, 3: push EBP, copy two frame pointers from the caller's
// display ([EBP-4], [EBP-8]), push the new frame pointer, allocate.
TEST(Stack, EnterNestedCopiesTheDisplay) {
  CpuHarness h;
  h.write32(0x8EFFC, 0x1111);
  h.write32(0x8EFF8, 0x2222);
  h.write32(0x8EFF4, 0x3333);  // level 3 copies only two
  h.load_asm(R"(
    mov ebp, 0x8F000
    enter 0x10, 3
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.read32(0x8FFFC), 0x8F000u);
  EXPECT_EQ(h.read32(0x8FFF8), 0x1111u);
  EXPECT_EQ(h.read32(0x8FFF4), 0x2222u);
  EXPECT_EQ(h.read32(0x8FFF0), 0x8FFFCu);
  EXPECT_EQ(h.read32(0x8FFEC), 0u);
  EXPECT_EQ(h.reg32(RBP), 0x8FFFCu);
  EXPECT_EQ(h.reg32(RSP), 0x8FFE0u);
}

// Level 1 pushes only EBP and the new frame pointer; the level is taken
// modulo 32, so 33 behaves as 1.
TEST(Stack, EnterLevelOneAndLevelModulo32) {
  for (uint8_t level : {uint8_t{1}, uint8_t{33}}) {
    CpuHarness h;
    h.load({0xC8, 0x08, 0x00, level});  // enter 8, level
    h.cpu.s.gpr[RBP] = 0x8F000;
    ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
    EXPECT_EQ(h.read32(0x8FFFC), 0x8F000u) << int(level);
    EXPECT_EQ(h.read32(0x8FFF8), 0x8FFFCu) << int(level);
    EXPECT_EQ(h.reg32(RBP), 0x8FFFCu);
    EXPECT_EQ(h.reg32(RSP), 0x8FFF0u);
  }
}

TEST(Stack, RealModeEnterAndLeave) {
  CpuHarness h(16);
  h.mem.write(0x6FFE, 2, 0x4444);
  h.load_asm(R"(
    mov esp, 0x8000
    mov ebp, 0x7000
    enter 4, 2
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.mem.read(0x7FFE, 2), 0x7000u);
  EXPECT_EQ(h.mem.read(0x7FFC, 2), 0x4444u);
  EXPECT_EQ(h.mem.read(0x7FFA, 2), 0x7FFEu);
  EXPECT_EQ(h.reg32(RBP), 0x7FFEu);
  EXPECT_EQ(h.reg32(RSP), 0x7FF6u);

  h.load_asm("leave");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RBP), 0x7000u);
  EXPECT_EQ(h.reg32(RSP), 0x8000u);
}

}  // namespace vtlab::test
