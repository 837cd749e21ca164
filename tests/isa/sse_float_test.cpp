// SSE/SSE2 floating point (core/isa/sse_float.cpp, sse_convert.cpp)
// against the host CPU as oracle: each instruction is assembled once for
// the interpreter and once into a host stub (load MXCSR, XMM0, XMM1, EAX;
// run it; store them and RFLAGS back), so results, MXCSR flags and EFLAGS
// are compared bit for bit with the silicon, including NaNs, denormals,
// DAZ/FTZ and every rounding mode.  Then the unmasked-exception rules:
// #XM with CR4.OSXMMEXCPT, #UD without, destination unchanged, flags
// sticky.
#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <string>
#include <vector>

#include "isa/simd_harness.h"

namespace vtlab::test {

namespace {

uint64_t f32x2(float lo, float hi) {
  return uint64_t(std::bit_cast<uint32_t>(lo)) | (uint64_t(std::bit_cast<uint32_t>(hi)) << 32);
}
uint64_t f64(double d) { return std::bit_cast<uint64_t>(d); }

constexpr float kInf = __builtin_inff();
constexpr float kQnan = __builtin_nanf("");
const float kSnan = std::bit_cast<float>(0x7FA00000u);
const float kDenormF = std::bit_cast<float>(0x00000123u);
const double kDenormD = std::bit_cast<double>(uint64_t{0x0000000000000321});

struct HostContext {
  uint32_t mxcsr;
  uint32_t host_mxcsr;
  uint64_t rflags;
  uint64_t xmm0[2];
  uint64_t xmm1[2];
  uint64_t rax;
};

// Runs `insn` on the host with the context's MXCSR, XMM0, XMM1 and RAX.
void run_on_host(const std::string& insn, HostContext& ctx) {
  const std::vector<uint8_t> code = assemble(R"(
    stmxcsr [rdi+4]
    mov rax, [rdi+48]
    movdqu xmm0, [rdi+16]
    movdqu xmm1, [rdi+32]
    ldmxcsr [rdi]
    )" + insn + R"(
    stmxcsr [rdi]
    ldmxcsr [rdi+4]
    movdqu [rdi+16], xmm0
    mov [rdi+48], rax
    pushfq
    pop qword ptr [rdi+8]
    ret
  )", 64, 0);
  run_host_code(code, &ctx);
}

struct FloatCase {
  const char* insn;
  uint64_t a_lo, a_hi, b_lo, b_hi;
  uint32_t mxcsr = 0x1F80;  // all masked, round to nearest
  uint32_t eax = 0;
};

// The interpreter's XMM0, EAX, MXCSR and arithmetic flags after the
// instruction equal the host's.
void compare_with_host(const std::vector<FloatCase>& cases) {
  for (const FloatCase& c : cases) {
    SCOPED_TRACE(std::string(c.insn) + " mxcsr " + std::to_string(c.mxcsr));
    HostContext ctx{c.mxcsr, 0, 0, {c.a_lo, c.a_hi}, {c.b_lo, c.b_hi}, 0x5555555500000000ull | c.eax};
    run_on_host(c.insn, ctx);
    SimdHarness h;
    h.cpu.s.sse.mxcsr = c.mxcsr;
    h.set_xmm(0, c.a_lo, c.a_hi);
    h.set_xmm(1, c.b_lo, c.b_hi);
    h.cpu.s.gpr[RAX] = c.eax;
    h.cpu.s.flags.set_arith(flag::kArith);
    ASSERT_EQ(h.step(c.insn), Status::Ok);
    EXPECT_EQ(h.lo(0), ctx.xmm0[0]);
    EXPECT_EQ(h.hi(0), ctx.xmm0[1]);
    EXPECT_EQ(h.cpu.s.sse.mxcsr, ctx.mxcsr);
    EXPECT_EQ(h.reg32(RAX), uint32_t(ctx.rax));
    if (std::string(c.insn).find("comis") != std::string::npos) {
      EXPECT_EQ(h.arith_flags(), uint32_t(ctx.rflags) & flag::kArith);
    }
  }
}

}  // namespace

TEST(SseFloat, ArithmeticMatchesHost) {
  const uint64_t a = f32x2(1.5f, -2.25f), a2 = f32x2(3e38f, 1e-38f);
  const uint64_t b = f32x2(2.5f, 0.1f), b2 = f32x2(3e38f, kDenormF);
  compare_with_host({
      {"addps xmm0, xmm1", a, a2, b, b2},
      {"addps xmm0, xmm1", a, a2, b, b2, 0x1FC0},  // DAZ
      {"subps xmm0, xmm1", a, a2, b, b2, 0x7F80},  // toward zero
      {"mulps xmm0, xmm1", a, f32x2(1e-30f, 1e-20f), b, f32x2(1e-10f, 1e-30f)},
      {"mulps xmm0, xmm1", a, f32x2(1e-30f, 1e-20f), b, f32x2(1e-10f, 1e-30f), 0x9F80},  // FTZ
      {"divps xmm0, xmm1", a, a2, f32x2(0.0f, 3.0f), f32x2(kInf, -0.0f)},
      {"divss xmm0, xmm1", a, a2, f32x2(3.0f, 0), 0, 0x3F80},  // round down
      {"divss xmm0, xmm1", a, a2, f32x2(3.0f, 0), 0, 0x5F80},  // round up
      {"sqrtps xmm0, xmm1", 0, 0, f32x2(2.0f, -1.0f), f32x2(kSnan, kDenormF)},
      {"minps xmm0, xmm1", f32x2(kQnan, 1.0f), f32x2(-0.0f, 2.0f), f32x2(1.0f, kQnan), f32x2(0.0f, kSnan)},
      {"maxps xmm0, xmm1", f32x2(kQnan, 1.0f), f32x2(-0.0f, 2.0f), f32x2(1.0f, kQnan), f32x2(0.0f, kSnan)},
      {"addsd xmm0, xmm1", f64(0.1), f64(7.0), f64(0.2), f64(9.0)},
      {"subsd xmm0, xmm1", f64(1e308), 1, f64(-1e308), 2},
      {"mulsd xmm0, xmm1", f64(kDenormD), 1, f64(0.5), 2, 0x1F80},
      {"mulsd xmm0, xmm1", f64(kDenormD), 1, f64(0.5), 2, 0x9FC0},
      {"divsd xmm0, xmm1", f64(0.0), 1, f64(0.0), 2},
      {"divpd xmm0, xmm1", f64(1.0), f64(-1.0), f64(3.0), f64(0.0)},
      {"sqrtsd xmm0, xmm1", f64(4.0), 7, f64(2.0), 9},
      {"sqrtpd xmm0, xmm1", 0, 0, f64(-4.0), f64(1e-320)},
      {"minsd xmm0, xmm1", f64(-0.0), 5, f64(0.0), 6},
      {"maxpd xmm0, xmm1", f64(kQnan), f64(1.0), f64(1.0), f64(kQnan)},
      {"addpd xmm0, xmm1", f64(1.0), f64(kInf), f64(1e-17), f64(-kInf)},
      {"rcpps xmm0, xmm1", 0, 0, f32x2(3.0f, 0.0f), f32x2(-7.5f, kInf)},
      {"rsqrtss xmm0, xmm1", a, a2, f32x2(2.0f, 0.0f), 0},
  });
}

TEST(SseFloat, ComparesMatchHost) {
  const uint64_t a = f32x2(1.0f, kQnan), a2 = f32x2(-0.0f, 3.0f);
  const uint64_t b = f32x2(2.0f, 1.0f), b2 = f32x2(0.0f, kSnan);
  std::vector<FloatCase> cases;
  for (const char* insn : {"cmpps xmm0, xmm1, 0", "cmpps xmm0, xmm1, 1", "cmpps xmm0, xmm1, 2", "cmpps xmm0, xmm1, 3",
                           "cmpps xmm0, xmm1, 4", "cmpps xmm0, xmm1, 5", "cmpps xmm0, xmm1, 6", "cmpps xmm0, xmm1, 7",
                           "cmpss xmm0, xmm1, 1", "cmppd xmm0, xmm1, 2", "cmpsd xmm0, xmm1, 3"})
    cases.push_back({insn, a, a2, b, b2});
  for (const char* insn : {"comiss xmm0, xmm1", "ucomiss xmm0, xmm1"}) {
    cases.push_back({insn, f32x2(1.0f, 0), 0, f32x2(2.0f, 0), 0});
    cases.push_back({insn, f32x2(2.0f, 0), 0, f32x2(1.0f, 0), 0});
    cases.push_back({insn, f32x2(-0.0f, 0), 0, f32x2(0.0f, 0), 0});
    cases.push_back({insn, f32x2(kQnan, 0), 0, f32x2(0.0f, 0), 0});
    cases.push_back({insn, f32x2(1.0f, 0), 0, f32x2(kSnan, 0), 0});
  }
  for (const char* insn : {"comisd xmm0, xmm1", "ucomisd xmm0, xmm1"}) {
    cases.push_back({insn, f64(1.0), 0, f64(kQnan), 0});
    cases.push_back({insn, f64(-3.0), 0, f64(-4.0), 0});
  }
  compare_with_host(cases);
}

TEST(SseFloat, ConversionsMatchHost) {
  const uint64_t d = f64(2.5), d2 = f64(-1e20);
  const uint64_t s = f32x2(2.5f, -3.5f), s2 = f32x2(1e10f, kQnan);
  std::vector<FloatCase> cases;
  for (uint32_t mxcsr : {0x1F80u, 0x3F80u, 0x5F80u, 0x7F80u}) {
    for (const char* insn : {"cvtsd2si eax, xmm1", "cvttsd2si eax, xmm1", "cvtss2si eax, xmm1", "cvttss2si eax, xmm1",
                             "cvtps2dq xmm0, xmm1", "cvttps2dq xmm0, xmm1", "cvtpd2dq xmm0, xmm1",
                             "cvttpd2dq xmm0, xmm1", "cvtsd2ss xmm0, xmm1", "cvtpd2ps xmm0, xmm1"})
      cases.push_back({insn, 0x1111, 0x2222, std::string(insn).find("ss") != std::string::npos ||
                                                     std::string(insn).find("ps") != std::string::npos
                                                 ? s
                                                 : d,
                       std::string(insn).find("ps") != std::string::npos ? s2 : d2, mxcsr});
    cases.push_back({"cvtsd2ss xmm0, xmm1", 0x1111, 0x2222, f64(0.1), 0, mxcsr});
    cases.push_back({"cvtsi2sd xmm0, eax", 0x1111, 0x2222, 0, 0, mxcsr, 0x80000001});
    cases.push_back({"cvtsi2ss xmm0, eax", 0x1111, 0x2222, 0, 0, mxcsr, 0x7FFFFFFF});
    cases.push_back({"cvtdq2ps xmm0, xmm1", 0, 0, 0x800000017FFFFFFF, 0x0000000100FFFFFF, mxcsr});
  }
  cases.push_back({"cvtss2sd xmm0, xmm1", 5, 6, f32x2(kSnan, 0), 0});
  cases.push_back({"cvtps2pd xmm0, xmm1", 5, 6, f32x2(kDenormF, -1.5f), 0, 0x1FC0});
  cases.push_back({"cvtdq2pd xmm0, xmm1", 5, 6, 0x80000000FFFFFFFF, 0});
  cases.push_back({"cvtsd2si eax, xmm1", 0, 0, f64(kQnan), 0});
  compare_with_host(cases);
}

TEST(SseFloat, Cvt64BitForms) {
  SimdHarness h(64);
  h.set_xmm(1, f64(-12345678901.75), 0);
  ASSERT_EQ(h.step("cvttsd2si rax, xmm1"), Status::Ok);
  EXPECT_EQ(h.cpu.s.gpr[RAX], uint64_t(int64_t{-12345678901}));
  h.cpu.s.gpr[RCX] = uint64_t{1} << 60;
  ASSERT_EQ(h.step("cvtsi2sd xmm2, rcx"), Status::Ok);
  EXPECT_EQ(h.lo(2), f64(0x1p60));
  ASSERT_EQ(h.step("cvtsd2si eax, xmm2"), Status::Ok);  // too large: the integer indefinite
  EXPECT_EQ(h.cpu.s.gpr[RAX], 0x80000000u);
  EXPECT_EQ(h.cpu.s.sse.mxcsr, 0x1FA1u);  // PE from the truncation above, IE
}

// An unmasked divide-by-zero: #XM with OSXMMEXCPT, #UD without; the
// destination is unchanged and ZE is set (sticky, with what was there).
TEST(SseFloat, UnmaskedExceptionRaisesXmOrUd) {
  for (bool osxmmexcpt : {true, false}) {
    SCOPED_TRACE(osxmmexcpt);
    SimdHarness h;
    if (!osxmmexcpt) h.cpu.s.cr4 &= ~cr4::OSXMMEXCPT;
    h.cpu.s.sse.mxcsr = 0x1D80 | 0x20;  // ZM clear, PE already set
    h.set_xmm(0, f64(1.0), 7);
    h.set_xmm(1, f64(0.0), 8);
    ASSERT_EQ(h.step("divsd xmm0, xmm1"), Status::Exception);
    EXPECT_EQ(h.cpu.pending().vector, osxmmexcpt ? vec::XM : vec::UD);
    EXPECT_EQ(h.lo(0), f64(1.0));
    EXPECT_EQ(h.hi(0), 7u);
    EXPECT_EQ(h.cpu.s.sse.mxcsr, 0x1D80u | 0x20 | 0x04);
  }
  // The same divide with ZM set: infinity, ZE set, no fault.
  SimdHarness h;
  h.set_xmm(0, f64(1.0), 7);
  ASSERT_EQ(h.step("divsd xmm0, xmm1"), Status::Ok);
  EXPECT_EQ(h.lo(0), f64(__builtin_inf()));
  EXPECT_EQ(h.cpu.s.sse.mxcsr, 0x1F84u);
}

// A COMISS with an unmasked invalid (QNaN operand) leaves EFLAGS alone.
TEST(SseFloat, UnmaskedComissLeavesFlags) {
  SimdHarness h;
  h.cpu.s.sse.mxcsr = 0x1F00;  // IM clear
  h.cpu.s.flags.set_arith(flag::OF | flag::SF);
  h.set_xmm(0, f32x2(kQnan, 0), 0);
  ASSERT_EQ(h.step("comiss xmm0, xmm1"), Status::Exception);
  EXPECT_EQ(h.cpu.pending().vector, vec::XM);
  EXPECT_EQ(h.arith_flags(), flag::OF | flag::SF);
  EXPECT_EQ(h.cpu.s.sse.mxcsr, 0x1F01u);
  ASSERT_EQ(h.step("ucomiss xmm0, xmm1"), Status::Ok);  // a QNaN is quiet for UCOMISS
  EXPECT_EQ(h.arith_flags(), flag::ZF | flag::PF | flag::CF);
}

}  // namespace vtlab::test
