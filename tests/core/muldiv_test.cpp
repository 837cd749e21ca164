// Multiply and divide (core/isa/muldiv.cpp): MUL, IMUL in its one-, two-
// and three-operand forms, DIV, IDIV at each width; #DE for a zero divisor
// and for every kind of quotient overflow, with nothing modified.
//
// MUL/IMUL define only CF = OF; SF ZF AF PF are undefined and vtlab gives
// the Intel host's values (SF and PF from the low half, ZF = AF = 0).
// DIV/IDIV leave every flag undefined; the host leaves them unchanged.
// See docs/UNDEFINED_FLAGS.md.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/decoder.h"
#include "support/cpu_harness.h"

namespace vtlab::test {

namespace {

// One instruction with EAX, ECX (the r/m source) and EDX preset.
struct Case {
  const char* insn;
  uint32_t eax, ecx, edx, flags_in;
  uint32_t eax_out, edx_out, flags_out;
};

// The shared runner; EDX is a result here.
void run_cases(const std::vector<Case>& cases) {
  std::vector<RegCase> all;
  for (const Case& c : cases) all.push_back({c.insn, c.eax, c.ecx, c.edx, c.flags_in, c.eax_out, c.edx_out, c.flags_out});
  run_reg_cases(all);
}

}  // namespace

TEST(MulDiv, UnsignedMultiply) {
  run_cases({
      {"mul cl", 0x00000080, 0x02, 0x1234, 0, 0x00000100, 0x1234, OF | PF | CF},
      {"mul cl", 0xAAAA0010, 0x0F, 0x1234, kAll, 0xAAAA00F0, 0x1234, SF | PF},
      {"mul cx", 0x1111FFFF, 0xFFFF, 0x22220000, 0, 0x11110001, 0x2222FFFE, OF | CF},
      {"mul ecx", 0x80000000, 0x02, 0xFFFFFFFF, 0, 0x00000000, 0x00000001, OF | PF | CF},
      {"mul ecx", 0xFFFFFFFF, 0xFFFFFFFF, 0, 0, 0x00000001, 0xFFFFFFFE, OF | CF},
      // A zero product does not set ZF (undefined; the Intel host clears it).
      {"mul ecx", 0x00000000, 0x05, 0x77, kAll, 0x00000000, 0x00000000, PF},
      {"mul eax", 0x00010000, 0, 0, 0, 0x00000000, 0x00000001, OF | PF | CF},
  });
}

// IMUL: CF = OF = the product does not fit the destination, signed.
TEST(MulDiv, SignedMultiplyOneOperand) {
  run_cases({
      {"imul cl", 0x000000FF, 0x80, 0, 0, 0x00000080, 0, OF | SF | CF},  // -1 * -128 = 128
      {"imul cl", 0x000000FE, 0x03, 0, 0, 0x0000FFFA, 0, SF | PF},        // -2 * 3 = -6 fits
      {"imul cx", 0x00008000, 0x8000, 0, 0, 0x00000000, 0x4000, OF | PF | CF},
      {"imul ecx", 0xFFFFFFFF, 0xFFFFFFFF, 0x1234, 0, 0x00000001, 0x00000000, 0},
      {"imul ecx", 0x7FFFFFFF, 0x7FFFFFFF, 0, 0, 0x00000001, 0x3FFFFFFF, OF | CF},
      {"imul ecx", 0xFFFFFFFE, 0x40000000, 0, 0, 0x80000000, 0xFFFFFFFF, SF | PF},  // exactly INT_MIN
  });
}

// The two- and three-operand forms keep only the low half (EDX untouched).
TEST(MulDiv, SignedMultiplyTruncating) {
  run_cases({
      {"imul eax, ecx", 0x40000000, 0x02, 0x5555, 0, 0x80000000, 0x5555, OF | SF | PF | CF},
      {"imul eax, ecx", 0x80000000, 0xFFFFFFFF, 0, 0, 0x80000000, 0, OF | SF | PF | CF},
      {"imul eax, ecx", 0xFFFFFFFD, 0x05, 0, kAll, 0xFFFFFFF1, 0, SF},
      {"imul eax, ecx, 5", 0x00000999, 0xFFFFFFFD, 0, 0, 0xFFFFFFF1, 0, SF},
      {"imul eax, ecx, -1", 0x00000999, 0x80000000, 0, 0, 0x80000000, 0, OF | SF | PF | CF},
      {"imul ax, cx, 0x100", 0x77770000, 0x0080, 0, 0, 0x77778000, 0, OF | SF | PF | CF},
      {"imul ax, cx", 0x7777FFFF, 0xFFFF, 0, 0, 0x77770001, 0, 0},
  });
}

// DIV/IDIV: quotient in (E)AX / AL, remainder in (E)DX / AH; the flags
// keep their values.  IDIV truncates toward zero; the remainder has the
// dividend's sign; -2^(w-1) is a valid quotient.
TEST(MulDiv, Divide) {
  run_cases({
      {"div cl", 0x00000107, 0x02, 0, kAll, 0x00000183, 0, kAll},
      {"div ecx", 0x00000000, 0x02, 0x00000001, 0, 0x80000000, 0x00000000, 0},
      {"div cx", 0x11110003, 0x0100, 0x22220002, OF | CF, 0x11110200, 0x22220003, OF | CF},
      {"div ecx", 0x12345678, 0x10000, 0, SF, 0x00001234, 0x00005678, SF},
      {"idiv cl", 0x0000FFF9, 0x02, 0, 0, 0x0000FFFD, 0, 0},  // -7 / 2 = -3 rem -1
      {"idiv cl", 0x0000FF00, 0x02, 0, 0, 0x00000080, 0, 0},  // -256 / 2 = -128
      {"idiv ecx", 0x00000007, 0xFFFFFFFE, 0, 0, 0xFFFFFFFD, 0x00000001, 0},
      {"idiv ecx", 0xFFFFFFF9, 0x02, 0xFFFFFFFF, 0, 0xFFFFFFFD, 0xFFFFFFFF, 0},
      {"idiv cx", 0x00000000, 0x0002, 0xFFFF, 0, 0x00008000, 0x0000, 0},  // -65536 / 2 = -32768
  });
}

// #DE: a zero divisor, or a quotient that does not fit, including
// INT_MIN / -1.  The handler faults before writing anything.
TEST(MulDiv, DivideErrors) {
  struct Fault {
    const char* insn;
    uint32_t eax, ecx, edx;
  };
  const Fault faults[] = {
      {"div ecx", 0x00000005, 0x00000000, 0},
      {"div cl", 0x00000005, 0xFFFFFF00, 0},           // CL = 0, the rest of ECX is not the divisor
      {"idiv ecx", 0x00000005, 0x00000000, 0},
      {"div ecx", 0x00000000, 0x00000002, 0x00000002},  // quotient 2^32
      {"div cl", 0x00000200, 0x02, 0},                  // quotient 0x100
      {"div cx", 0x00000000, 0x0001, 0x0001},           // quotient 0x10000
      {"idiv ecx", 0x80000000, 0xFFFFFFFF, 0xFFFFFFFF}, // INT_MIN / -1
      {"idiv cx", 0x00008000, 0xFFFF, 0xFFFF},          // -32768 / -1
      {"idiv cl", 0x00000080, 0x01, 0},                 // 128 / 1 > 127
      {"idiv cl", 0x00008000, 0xFF, 0},                 // -32768 / -1
      {"idiv ecx", 0x00000000, 0x00000002, 0x00000001}, // 2^32 / 2 = 2^31 > INT_MAX
  };
  for (const Fault& f : faults) {
    SCOPED_TRACE(::testing::Message() << f.insn << " eax=" << std::hex << f.eax << " ecx=" << f.ecx
                                      << " edx=" << f.edx);
    CpuHarness h;
    h.load_asm(f.insn);
    h.cpu.s.gpr[RAX] = f.eax;
    h.cpu.s.gpr[RCX] = f.ecx;
    h.cpu.s.gpr[RDX] = f.edx;
    h.cpu.s.flags.set_bits(flag::kReserved1 | ZF | CF);
    ASSERT_EQ(h.execute_one(), Status::Exception);
    EXPECT_EQ(h.cpu.pending().vector, vec::DE);
    EXPECT_FALSE(h.cpu.pending().has_error);
    EXPECT_EQ(h.reg32(RAX), f.eax);
    EXPECT_EQ(h.reg32(RCX), f.ecx);
    EXPECT_EQ(h.reg32(RDX), f.edx);
    EXPECT_EQ(h.arith_flags(), ZF | CF);
    EXPECT_EQ(h.cpu.s.rip, CpuHarness::kCode);
  }
}

TEST(MulDiv, MemoryOperands) {
  CpuHarness h;
  h.load_asm(R"(
    mov dword ptr [0x20000], 0x00010001
    mov eax, 0x00010000
    mul dword ptr [0x20000]
    mov esi, eax
    mov edi, edx
    mov word ptr [0x20004], 7
    mov ax, 100
    xor dx, dx
    div word ptr [0x20004]
    mov ebx, eax
    imul ecx, dword ptr [0x20000], -2
    mov byte ptr [0x20006], 0xFD
    mov al, 4
    imul byte ptr [0x20006]
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RSI), 0x00010000u);  // 0x10000 * 0x10001 = 0x1_0001_0000
  EXPECT_EQ(h.reg32(RDI), 0x00000001u);
  EXPECT_EQ(h.reg32(RBX) & 0xFFFF, 14u);
  EXPECT_EQ(h.reg32(RDX) & 0xFFFF, 2u);
  EXPECT_EQ(h.reg32(RCX), 0xFFFDFFFEu);  // 0x10001 * -2
  EXPECT_EQ(h.reg32(RAX) & 0xFFFF, 0xFFF4u);  // 4 * -3
  EXPECT_EQ(h.arith_flags(), SF);
}

TEST(MulDiv, RealMode) {
  CpuHarness h(16);
  h.load_asm(R"(
    mov ax, 300
    mov bx, 300
    mul bx
    mov cx, 7
    div cx
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RAX) & 0xFFFF, 12857u);  // 90000 / 7
  EXPECT_EQ(h.reg32(RDX) & 0xFFFF, 1u);
  EXPECT_EQ(h.arith_flags(), OF | PF | CF);  // from MUL: 90000 = 0x15F90
}

}  // namespace vtlab::test
