// Regression tests from the differential test against the silicon
// (tests/fuzz/kvm_diff64.cpp, docs/FUZZING.md): each case is a reproducer
// on which vtlab and the CPU disagreed, reduced to one instruction, with the
// CPU's result.  Alignment checking (SDM vol. 3, 6.15 "#AC"), RDPMC, UD0/
// UD1, TF under REP (17.3.1.4, RF in 17.3.1.1), the 32-bit-address REP
// forms in 64-bit mode, and SSE/MMX state and exception flags (EMMS, UE
// and PE with unmasked underflow or overflow, 16-byte operands and #AC).
#include "core/system_fixture.h"

namespace vtlab::test::system {
namespace {

constexpr uint64_t kUpper = 0xAAAA000000000000ull;

// CPL 3 with CR0.AM and EFLAGS.AC: a misaligned data access faults #AC(0)
// and changes nothing; aligned ones, CPL 0, or AM or AC clear do not.
TEST(SiliconDiff, MisalignedUserAccessWithAmAndAcFaultsAc) {
  const auto load = [](unsigned cpl, bool am, bool ac, uint64_t disp) {
    CpuHarness h(64);
    set_cpl(h, cpl);
    if (am) h.cpu.s.cr0 |= cr0::AM;
    h.cpu.s.flags.set(flag::AC, ac);
    h.cpu.s.gpr[RBX] = CpuHarness::kData;
    h.mem.write(CpuHarness::kData, 8, 0);
    return std::pair{step(h, "mov rax, [rbx + " + std::to_string(disp) + "]"), h.cpu.pending()};
  };
  const auto [status, ev] = load(3, true, true, 4);
  EXPECT_EQ(status, Status::Exception);
  EXPECT_EQ(ev.vector, vec::AC);
  EXPECT_TRUE(ev.has_error);
  EXPECT_EQ(ev.error, 0u);
  EXPECT_EQ(load(3, true, true, 8).first, Status::Ok);
  EXPECT_EQ(load(0, true, true, 4).first, Status::Ok);
  EXPECT_EQ(load(3, false, true, 4).first, Status::Ok);
  EXPECT_EQ(load(3, true, false, 4).first, Status::Ok);
}

// A push at CPL 3 to a misaligned RSP is a data access too.
TEST(SiliconDiff, PushToMisalignedStackFaultsAcAndLeavesRsp) {
  CpuHarness h(64);
  set_cpl(h, 3);
  h.cpu.s.cr0 |= cr0::AM;
  h.cpu.s.flags.set(flag::AC, true);
  h.cpu.s.gpr[RSP] = CpuHarness::kStack - 2;
  ASSERT_EQ(step(h, "push rax"), Status::Exception);
  expect_fault(h, vec::AC, 0u);
  EXPECT_EQ(h.cpu.s.gpr[RSP], CpuHarness::kStack - 2);
}

// This CPU has no performance counters: RDPMC is #GP(0) at every CPL.
TEST(SiliconDiff, RdpmcFaultsGp) {
  for (unsigned cpl : {0u, 3u}) {
    CpuHarness h(64);
    set_cpl(h, cpl);
    ASSERT_EQ(step(h, "rdpmc"), Status::Exception);
    expect_gp0(h);
  }
}

TEST(SiliconDiff, Ud1AndUd0AreUndefined) {
  for (const std::vector<uint8_t>& code : {std::vector<uint8_t>{0x0F, 0xB9, 0xC0}, {0x0F, 0xFF, 0xC0}}) {
    CpuHarness h(64);
    h.load(code);
    ASSERT_EQ(h.execute_one(), Status::Exception);
    expect_fault(h, vec::UD, std::nullopt);
  }
}

// Under TF a REP instruction runs one iteration per execution, so the
// single-step trap follows each; RIP stays on it and RF is set while
// iterations remain (the frame's RF), and the last one leaves RF alone.
TEST(SiliconDiff, RepUnderTrapFlagRunsOneIterationAtATime) {
  CpuHarness h(64);
  h.cpu.s.flags.set(flag::TF, true);
  h.cpu.s.gpr[RCX] = 2;
  h.cpu.s.gpr[RSI] = CpuHarness::kData;
  h.cpu.s.gpr[RDI] = CpuHarness::kData + 0x100;
  h.mem.write(CpuHarness::kData, 2, 0xBBAA);
  h.load_asm("rep movsb");
  ASSERT_EQ(h.execute_one(), Status::Ok);
  EXPECT_EQ(h.cpu.s.gpr[RCX], 1u);
  EXPECT_EQ(h.cpu.s.rip, CpuHarness::kCode);
  EXPECT_TRUE(h.cpu.s.flags.test(flag::RF));
  EXPECT_EQ(h.mem.read(CpuHarness::kData + 0x100, 2), 0xAAu);
  h.cpu.s.flags.set(flag::RF, false);  // as the #DB delivery leaves it
  ASSERT_EQ(h.execute_one(), Status::Ok);
  EXPECT_EQ(h.cpu.s.gpr[RCX], 0u);
  EXPECT_EQ(h.cpu.s.rip, CpuHarness::kCode + 2);
  EXPECT_FALSE(h.cpu.s.flags.test(flag::RF));
  EXPECT_EQ(h.mem.read(CpuHarness::kData + 0x100, 2), 0xBBAAu);
}

// In 64-bit mode a REP with the 0x67 prefix writes ECX, and MOVS/STOS
// ESI/EDI, before any iteration: their upper halves clear even for a count
// of zero.  LODS leaves RSI alone then.
TEST(SiliconDiff, AddressSize32RepClearsUpperHalvesEvenWithCountZero) {
  {
    CpuHarness h(64);
    h.cpu.s.gpr[RCX] = kUpper;
    h.cpu.s.gpr[RSI] = kUpper | CpuHarness::kData;
    h.cpu.s.gpr[RDI] = kUpper | (CpuHarness::kData + 0x100);
    h.load({0x67, 0xF3, 0xA4});  // REP MOVSB with ECX, ESI, EDI
    ASSERT_EQ(h.execute_one(), Status::Ok);
    EXPECT_EQ(h.cpu.s.gpr[RCX], 0u);
    EXPECT_EQ(h.cpu.s.gpr[RSI], CpuHarness::kData);
    EXPECT_EQ(h.cpu.s.gpr[RDI], CpuHarness::kData + 0x100);
  }
  {
    CpuHarness h(64);
    h.cpu.s.gpr[RCX] = kUpper;
    h.cpu.s.gpr[RSI] = kUpper | CpuHarness::kData;
    h.load({0x67, 0xF3, 0xAC});  // REP LODSB
    ASSERT_EQ(h.execute_one(), Status::Ok);
    EXPECT_EQ(h.cpu.s.gpr[RCX], 0u);
    EXPECT_EQ(h.cpu.s.gpr[RSI], kUpper | CpuHarness::kData);
  }
}

// --- x87/MMX/SSE (kvm_diff64's SIMD forms) -------------------------------

// Alignment checking leaves 16-byte SSE operands alone on the silicon
// (MOVUPS/MOVDQU; the SDM leaves it to the implementation), while 8-byte
// ones fault #AC(0) as integer accesses do.
TEST(SiliconDiff, SixteenByteSseOperandsAreNotAlignmentChecked) {
  const auto run = [](const std::string& insn) {
    CpuHarness h(64);
    h.cpu.s.cr4 |= cr4::OSFXSR | cr4::OSXMMEXCPT;
    set_cpl(h, 3);
    h.cpu.s.cr0 |= cr0::AM;
    h.cpu.s.flags.set(flag::AC, true);
    h.cpu.s.gpr[RBX] = CpuHarness::kData + 4;
    h.mem.write(CpuHarness::kData + 4, 8, 0x1122334455667788);
    const Status st = step(h, insn);
    return std::pair{st, st == Status::Exception ? h.cpu.pending().vector : 0xFF};
  };
  EXPECT_EQ(run("movups xmm0, [rbx]"), (std::pair{Status::Ok, 0xFF}));
  EXPECT_EQ(run("movdqu [rbx], xmm1"), (std::pair{Status::Ok, 0xFF}));
  EXPECT_EQ(run("movq xmm0, [rbx]"), (std::pair{Status::Exception, int{vec::AC}}));
}

// EMMS sets TOP to 0 besides emptying every tag (SDM vol. 1, table 9-3).
TEST(SiliconDiff, EmmsClearsTop) {
  CpuHarness h(64);
  h.cpu.s.fpu.fsw = 0x2800 | 0x0001;  // TOP = 5, IE
  h.cpu.s.fpu.ftw = 0x0F00;
  ASSERT_EQ(step(h, "emms"), Status::Ok);
  EXPECT_EQ(h.cpu.s.fpu.fsw, 0x0001);
  EXPECT_EQ(h.cpu.s.fpu.ftw, 0xFFFF);
}

// With underflow unmasked, a tiny result is an underflow even when exact
// (SDM vol. 1, 11.5.2.5): #XM, UE and DE set; masked, only DE (the
// silicon's MXCSR after the same SUBPS is 0x1F82).
TEST(SiliconDiff, ExactTinyResultUnderflowsWhenUnmasked) {
  for (const uint32_t mxcsr : {0x1780u, 0x1F80u}) {
    CpuHarness h(64);
    h.cpu.s.cr4 |= cr4::OSFXSR | cr4::OSXMMEXCPT;
    h.cpu.s.sse.mxcsr = mxcsr;
    h.cpu.s.sse.xmm[0] = {0xFF, 0};  // denormal lanes: 0xFF - 0x0F is exact
    h.cpu.s.sse.xmm[1] = {0x0F, 0};
    const Status st = step(h, "subps xmm0, xmm1");
    if (mxcsr == 0x1780) {
      ASSERT_EQ(st, Status::Exception);
      EXPECT_EQ(h.cpu.pending().vector, vec::XM);
      EXPECT_EQ(h.cpu.s.sse.mxcsr, 0x1792u);
      EXPECT_EQ(h.cpu.s.sse.xmm[0][0], 0xFFu);  // the destination unchanged
    } else {
      ASSERT_EQ(st, Status::Ok);
      EXPECT_EQ(h.cpu.s.sse.mxcsr, 0x1F82u);
      EXPECT_EQ(h.cpu.s.sse.xmm[0][0], 0xF0u);
    }
  }
}

// After an unmasked overflow or underflow, PE says whether the result
// rounded to single precision with an unbounded exponent is inexact; the
// masked responses (infinity, a denormal) are always inexact.  MXCSR
// after each on the silicon (SIGFPE's saved MXCSR on the host).
TEST(SiliconDiff, UnmaskedOverflowOrUnderflowSetsPeOnlyWhenInexact) {
  struct Case {
    const char* insn;
    uint32_t a, b, mxcsr, after;
    bool faults;
  };
  const Case cases[] = {
      {"divss xmm0, xmm1", 0x7F000000, 0x3E800000, 0x1B80, 0x1B88, true},   // 2^127 / 2^-2: OE alone
      {"divss xmm0, xmm1", 0x7F000000, 0x3E800000, 0x1F80, 0x1FA8, false},  // masked: OE PE, infinity
      {"mulss xmm0, xmm1", 0x00800001, 0x3E000000, 0x1780, 0x1790, true},   // (1+2^-23)2^-126 * 2^-3: UE alone
      {"mulss xmm0, xmm1", 0x00800001, 0x3E000000, 0x1F80, 0x1FB0, false},  // masked: UE PE
      {"mulss xmm0, xmm1", 0x00800001, 0x3E000001, 0x1780, 0x17B0, true},   // times (1+2^-23)2^-3: inexact
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.mxcsr);
    CpuHarness h(64);
    h.cpu.s.cr4 |= cr4::OSFXSR | cr4::OSXMMEXCPT;
    h.cpu.s.sse.mxcsr = c.mxcsr;
    h.cpu.s.sse.xmm[0] = {c.a, 0};
    h.cpu.s.sse.xmm[1] = {c.b, 0};
    const Status st = step(h, c.insn);
    EXPECT_EQ(h.cpu.s.sse.mxcsr, c.after);
    if (c.faults) {
      ASSERT_EQ(st, Status::Exception);
      EXPECT_EQ(h.cpu.pending().vector, vec::XM);
      EXPECT_EQ(h.cpu.s.sse.xmm[0][0], c.a);
    } else {
      EXPECT_EQ(st, Status::Ok);
    }
  }
}

}  // namespace
}  // namespace vtlab::test::system
