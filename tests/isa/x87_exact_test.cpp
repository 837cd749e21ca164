// x87 cases with their exact expected bits written out (SDM vol. 1,
// chapter 8 and each instruction's page): the Pentium FDIV check Linux
// runs, stack overflow and underflow masked and unmasked, the pending #MF,
// precision and rounding control, FIST's integer indefinite, FCOMI's flags,
// #NM, a faulting store, and the last-instruction pointers.
#include "isa/x87_fixture.h"

namespace vtlab::test::x87 {
namespace {

F80 st(const CpuHarness& h, unsigned i) {
  const X87State& f = h.cpu.s.fpu;
  return get_f80(f.regs[(((f.fsw >> 11) & 7) + i) & 7].data());
}
void expect_f80(F80 got, F80 want) {
  EXPECT_EQ(got.se, want.se) << std::hex << got.se << ":" << got.sig;
  EXPECT_EQ(got.sig, want.sig) << std::hex << got.se << ":" << got.sig;
}
constexpr F80 kIndefinite{0xFFFF, 0xC000000000000000};
constexpr F80 kOne{0x3FFF, 0x8000000000000000};

void put64(CpuHarness& h, uint64_t at, uint64_t v) { h.mem.write(at, 8, v); }

// arch/x86/kernel/cpu/bugs.c's check_fpu, as the 686 kernel runs it.
TEST(X87Exact, PentiumFdivCheckFindsNoBug) {
  CpuHarness h;
  put64(h, 0x20000, 0x4150017EC0000000);  // 4195835.0
  put64(h, 0x20008, 0x4147FFFF80000000);  // 3145727.0
  h.write32(0x20100, 0xCCCCCCCC);
  h.load_asm(R"(
    fninit
    fld qword ptr [0x20000]
    fdiv qword ptr [0x20008]
    fst qword ptr [0x20108]
    fmul qword ptr [0x20008]
    fld qword ptr [0x20000]
    fsubp st(1), st
    fistp dword ptr [0x20100]
    fwait
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.read32(0x20100), 0u);
  EXPECT_EQ(h.mem.read(0x20108, 8), 0x3FF557541C7C6B43u);  // 1.333820449136241
  EXPECT_EQ(h.cpu.s.fpu.fsw, 0x0020);  // precision (inexact) only, stack empty
  EXPECT_EQ(h.cpu.s.fpu.ftw, 0xFFFF);
}

TEST(X87Exact, MaskedStackOverflowPushesTheIndefinite) {
  CpuHarness h;
  h.load_asm("fninit\nfld1\nfld1\nfld1\nfld1\nfld1\nfld1\nfld1\nfld1\nfld1");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.s.fpu.fsw, 0x3A41);  // TOP 7, C1 (overflow), SF, IE
  expect_f80(st(h, 0), kIndefinite);
  expect_f80(st(h, 1), kOne);
  EXPECT_EQ((h.cpu.s.fpu.ftw >> 14) & 3, 2u);  // R7 holds a NaN: special
  EXPECT_EQ(h.cpu.s.fpu.ftw & 0x3FFF, 0u);     // R0-R6 hold 1.0: valid
}

TEST(X87Exact, UnmaskedStackOverflowIsPendingUntilTheNextFwait) {
  CpuHarness h;
  h.mem.write(0x20000, 2, 0x037E);  // IE unmasked
  h.load_asm("fninit\nfldcw [0x20000]\nfld1\nfld1\nfld1\nfld1\nfld1\nfld1\nfld1\nfld1\nfldz\nfwait");
  ASSERT_EQ(h.run(11), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.s.fpu.fsw, 0x82C1);  // B, C1, ES, SF, IE; TOP still 0
  expect_f80(st(h, 0), kOne);           // destination untouched
  EXPECT_EQ(h.cpu.s.fpu.ftw, 0x0000);
  const uint64_t fldz = h.cpu.s.fpu.fip;
  EXPECT_EQ(fldz, h.cpu.s.rip - 2);  // FIP names the faulting FLDZ (D9 EE)
  EXPECT_EQ(h.cpu.s.fpu.fop, 0x1EE);
  const uint64_t fwait_rip = h.cpu.s.rip;
  EXPECT_EQ(h.execute_one(), Status::Exception);
  EXPECT_EQ(h.cpu.pending().vector, vec::MF);
  EXPECT_EQ(h.cpu.s.rip, fwait_rip);  // a fault: FWAIT did not retire
}

TEST(X87Exact, MaskedStackUnderflowWritesTheIndefinite) {
  CpuHarness h;
  h.load_asm("fninit\nfld1\nfadd st, st(1)");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.s.fpu.fsw, 0x3841);  // TOP 7, C1 = 0 (underflow), SF, IE
  expect_f80(st(h, 0), kIndefinite);
}

TEST(X87Exact, UnmaskedZeroDivideLeavesTheDestinationAndFaultsTheNextInsn) {
  CpuHarness h;
  h.mem.write(0x20000, 2, 0x037B);  // ZE unmasked
  h.load_asm("fninit\nfldcw [0x20000]\nfldz\nfld1\nfdiv st, st(1)\nfld1");
  ASSERT_EQ(h.run(5), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.s.fpu.fsw, 0xB084);  // B, TOP 6, ES, ZE
  expect_f80(st(h, 0), kOne);
  EXPECT_EQ(h.execute_one(), Status::Exception);
  EXPECT_EQ(h.cpu.pending().vector, vec::MF);
  EXPECT_EQ(h.cpu.s.fpu.fop, 0x0F1);  // D8 F1: still the FDIV's
}

TEST(X87Exact, PrecisionControl24Bits) {
  CpuHarness h;
  h.mem.write(0x20000, 2, 0x007F);            // PC = 00: 24-bit significand
  h.mem.write(0x20004, 4, 0x40400000);        // 3.0f
  h.load_asm("fninit\nfldcw [0x20000]\nfld1\nfdiv dword ptr [0x20004]");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  expect_f80(st(h, 0), {0x3FFD, 0xAAAAAB0000000000});
  EXPECT_EQ(h.cpu.s.fpu.fsw, 0x3A20);  // TOP 7, C1 (rounded up), PE
}

TEST(X87Exact, RoundingControlOnFrndintAndFist) {
  const struct {
    uint16_t rc;
    int32_t plus, minus;
  } cases[] = {{0, 2, -2}, {1, 2, -3}, {2, 3, -2}, {3, 2, -2}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.rc);
    CpuHarness h;
    h.mem.write(0x20000, 2, 0x037F | (c.rc << 10));
    put64(h, 0x20008, 0x4004000000000000);  // 2.5
    put64(h, 0x20010, 0xC004000000000000);  // -2.5
    h.load_asm(R"(
      fninit
      fldcw [0x20000]
      fld qword ptr [0x20008]
      frndint
      fistp dword ptr [0x20100]
      fld qword ptr [0x20010]
      frndint
      fistp dword ptr [0x20104]
      fld qword ptr [0x20008]
      fistp dword ptr [0x20108]
      fld qword ptr [0x20010]
      fistp dword ptr [0x2010C]
    )");
    ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
    EXPECT_EQ(static_cast<int32_t>(h.read32(0x20100)), c.plus);
    EXPECT_EQ(static_cast<int32_t>(h.read32(0x20104)), c.minus);
    EXPECT_EQ(static_cast<int32_t>(h.read32(0x20108)), c.plus);
    EXPECT_EQ(static_cast<int32_t>(h.read32(0x2010C)), c.minus);
    EXPECT_EQ(h.cpu.s.fpu.fsw & 0x3F, 0x20);
  }
}

TEST(X87Exact, FistOverflowStoresTheIntegerIndefinite) {
  CpuHarness h;
  put64(h, 0x20008, 0x4202A05F20000000);  // 1e10
  h.load_asm("fninit\nfld qword ptr [0x20008]\nfist dword ptr [0x20100]\nfistp word ptr [0x20104]");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.read32(0x20100), 0x80000000u);
  EXPECT_EQ(h.mem.read(0x20104, 2), 0x8000u);
  EXPECT_EQ(h.cpu.s.fpu.fsw, 0x0001);  // IE only; popped back to empty
}

TEST(X87Exact, UnmaskedInvalidFistStoresNothing) {
  CpuHarness h;
  put64(h, 0x20008, 0x4202A05F20000000);  // 1e10
  h.mem.write(0x20000, 2, 0x037E);
  h.write32(0x20100, 0x11223344);
  h.load_asm("fninit\nfldcw [0x20000]\nfld qword ptr [0x20008]\nfistp dword ptr [0x20100]");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.read32(0x20100), 0x11223344u);
  EXPECT_EQ(h.cpu.s.fpu.fsw, 0xB881);  // not popped: TOP 7
}

TEST(X87Exact, FcomiSetsZfPfCfAndClearsTheRest) {
  const struct {
    uint64_t a, b;  // ST(0), ST(1) as doubles
    uint32_t flags;
  } cases[] = {{0x3FF0000000000000, 0x4000000000000000, CF},     // 1 < 2
               {0x4000000000000000, 0x3FF0000000000000, 0},      // 2 > 1
               {0x4000000000000000, 0x4000000000000000, ZF},     // equal
               {0x7FF8000000000000, 0x4000000000000000, ZF | PF | CF}};  // unordered
  for (const auto& c : cases) {
    CpuHarness h;
    put64(h, 0x20000, c.a);
    put64(h, 0x20008, c.b);
    h.cpu.s.flags.set_arith(OF | SF | AF);
    h.load_asm("fninit\nfld qword ptr [0x20008]\nfld qword ptr [0x20000]\nfucomi st, st(1)");
    ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
    EXPECT_EQ(h.arith_flags(), c.flags) << std::hex << c.a;
    EXPECT_EQ(h.cpu.s.fpu.fsw & 0x3F, 0u);  // FUCOMI: a QNaN is not invalid
  }
}

TEST(X87Exact, DeviceNotAvailableOnEveryX87Instruction) {
  for (uint64_t bits : {cr0::TS, cr0::EM}) {
    for (const char* insn : {"fadd st, st(1)", "fld dword ptr [0x20000]", "fnstenv [0x20000]", "fnsave [0x20000]",
                             "frstor [0x20000]", "fnclex", "fcomi st, st(1)"}) {
      SCOPED_TRACE(insn);
      CpuHarness h;
      h.cpu.s.cr0 |= bits;
      h.load_asm(insn);
      const X87State before = h.cpu.s.fpu;
      EXPECT_EQ(h.execute_one(), Status::Exception);
      EXPECT_EQ(h.cpu.pending().vector, vec::NM);
      EXPECT_EQ(h.cpu.s.fpu.fsw, before.fsw);
      EXPECT_EQ(h.cpu.s.fpu.fip, before.fip);
    }
  }
  CpuHarness h;
  h.cpu.s.cr0 |= cr0::TS;
  h.load_asm("fwait");
  EXPECT_EQ(h.execute_one(), Status::Ok);  // FWAIT needs MP too
}

TEST(X87Exact, FaultingStoreLeavesMemoryAndTheFpuAlone) {
  CpuHarness h;
  h.identity_paging(0x21000, 0);  // 0x21000 not present
  h.write32(0x20FF8, 0x55555555);
  h.write32(0x20FFC, 0x66666666);
  h.load_asm("fninit\nfld1\nfstp tbyte ptr [0x20FFA]");
  ASSERT_EQ(h.run(2), StopReason::BudgetExhausted);
  const X87State before = h.cpu.s.fpu;
  EXPECT_EQ(h.execute_one(), Status::Exception);
  EXPECT_EQ(h.cpu.pending().vector, vec::PF);
  EXPECT_EQ(h.cpu.s.cr2, 0x21000u);
  EXPECT_EQ(h.cpu.s.fpu.fsw, before.fsw);
  EXPECT_EQ(h.cpu.s.fpu.ftw, before.ftw);
  EXPECT_EQ(h.cpu.s.fpu.fip, before.fip);
  EXPECT_EQ(h.read32(0x20FFC), 0x66666666u);
}

TEST(X87Exact, LastInstructionAndDataPointers) {
  CpuHarness h;
  h.cpu.s.gpr[RBX] = 0x20000;
  h.load_asm("fninit\nfadd dword ptr [ebx+4]\nfnop\nfnstcw [0x20100]");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  const X87State& f = h.cpu.s.fpu;
  EXPECT_EQ(f.fip, CpuHarness::kCode + 2 + 3);  // FNOP; FNSTCW is a control instruction
  EXPECT_EQ(f.fop, 0x1D0);                      // D9 D0
  EXPECT_EQ(f.fdp, 0x20004u);                   // from FADD m32 (D8 43 04)
  EXPECT_EQ(f.fcs, h.cpu.s.seg[CS].selector);
  EXPECT_EQ(f.fds, h.cpu.s.seg[DS].selector);
}

}  // namespace
}  // namespace vtlab::test::x87
