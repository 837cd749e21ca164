#include <gtest/gtest.h>

#include "support/cpu_harness.h"

namespace vtlab::test {

TEST(Data, MovRegImmRegMem) {
  CpuHarness h;
  h.load_asm(R"(
    mov eax, 0x12345678
    mov ebx, eax
    mov dword ptr [0x20000], ebx
    mov cl, byte ptr [0x20001]
    mov ah, cl
    lea edx, [eax + ebx*2 + 8]
    mov si, 0xBEEF
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RAX), (0x12345678u & 0xFFFF00FFu) | 0x5600u);
  EXPECT_EQ(h.reg32(RBX), 0x12345678u);
  EXPECT_EQ(h.read32(0x20000), 0x12345678u);
  EXPECT_EQ(h.reg32(RCX) & 0xFF, 0x56u);
  EXPECT_EQ(h.reg32(RDX), 0x12345678u + 2 * 0x12345678u + 8);
  EXPECT_EQ(h.reg32(RSI) & 0xFFFF, 0xBEEFu);
  EXPECT_EQ(h.cpu.icount, 7u);
}

TEST(Data, MovSixteenBitRealMode) {
  CpuHarness h(16);
  h.load_asm(R"(
    mov ax, 0x1234
    mov word ptr [0x2000], ax
    mov bx, word ptr [0x2000]
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RBX) & 0xFFFF, 0x1234u);
  EXPECT_EQ(h.mem.read(0x2000, 2), 0x1234u);
}

}  // namespace vtlab::test
