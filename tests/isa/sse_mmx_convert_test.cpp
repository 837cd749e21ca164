// The conversions between MMX registers and XMM lanes (CVTPI2PS, CVTPI2PD,
// CVT(T)PS2PI, CVT(T)PD2PI; core/isa/sse_convert.cpp) against the host CPU
// as oracle: each runs on the host and in the guest from the same MXCSR,
// XMM0, XMM1, MM1, memory operand and x87 stack (TOP = 2), and the results,
// MXCSR, TOP and the tag word must match, so the MMX transition (TOP = 0,
// tags valid) is the silicon's: with an MMX register operand only, also
// for CVTPI2PS xmm, m64, whose SDM page says it transitions.  Then an unmasked exception: #XM and nothing written.
#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <string>
#include <vector>

#include "isa/simd_harness.h"

namespace vtlab::test {

namespace {

// Shared with the host stub by offset.
struct alignas(16) HostContext {
  uint32_t mxcsr;       // 0
  uint32_t host_mxcsr;  // 4
  uint64_t pad0;        // 8
  uint64_t xmm0[2];     // 16
  uint64_t xmm1[2];     // 32
  uint64_t mm1;         // 48
  uint64_t mm0;         // 56: the result of the MMX-destination forms
  uint64_t mem[2];      // 64: the memory operand, 16-byte aligned
  uint64_t pad1[2];     // 80
  uint32_t env[7];      // 96: FNSTENV's image (FCW, FSW, FTW, ...)
};
static_assert(offsetof(HostContext, mem) == 64 && offsetof(HostContext, env) == 96);

constexpr uint16_t kTop2 = 0x1000;

// Runs `insn` on the host: x87 with TOP = 2 (and MM1 loaded first when the
// instruction reads it, which makes every tag valid), MXCSR, XMM0, XMM1.
void run_on_host(const std::string& insn, bool uses_mm1, HostContext& ctx) {
  const std::vector<uint8_t> code = assemble(std::string(R"(
    stmxcsr [rdi+4]
    movdqu xmm0, [rdi+16]
    movdqu xmm1, [rdi+32]
    fninit
    )") + (uses_mm1 ? "movq mm1, [rdi+48]\n" : "") + R"(
    fincstp
    fincstp
    ldmxcsr [rdi]
    )" + insn + R"(
    stmxcsr [rdi]
    ldmxcsr [rdi+4]
    fnstenv [rdi+96]
    movdqu [rdi+16], xmm0
    movq [rdi+56], mm0
    emms
    fninit
    ret
  )", 64, 0);
  run_host_code(code, &ctx);
}

struct Case {
  std::string insn;
  uint64_t x1_lo, x1_hi;  // XMM1
  uint64_t mm1;
  uint64_t mem_lo, mem_hi;
  uint32_t mxcsr = 0x1F80;
};

uint64_t f32x2(float lo, float hi) {
  return uint64_t(std::bit_cast<uint32_t>(lo)) | (uint64_t(std::bit_cast<uint32_t>(hi)) << 32);
}
uint64_t i32x2(int32_t lo, int32_t hi) { return uint64_t(uint32_t(lo)) | (uint64_t(uint32_t(hi)) << 32); }
uint64_t f64(double d) { return std::bit_cast<uint64_t>(d); }

// FNSTENV's tag word classes each valid register by its contents (00
// valid, 01 zero, 10 special); what the transition sets is which ones are
// empty (11).
uint8_t abridged(uint16_t ftw) {
  uint8_t valid = 0;
  for (unsigned k = 0; k < 8; ++k) valid |= uint8_t(((ftw >> (2 * k)) & 3) != 3) << k;
  return valid;
}

void compare_with_host(const Case& c) {
  SCOPED_TRACE(c.insn + " mxcsr " + std::to_string(c.mxcsr));
  const bool uses_mm1 = c.insn.find("mm1") != std::string::npos && c.insn.find("xmm1") == std::string::npos;
  const bool writes_mm0 = c.insn.find(" mm0") != std::string::npos;
  HostContext ctx{};
  ctx.mxcsr = c.mxcsr;
  ctx.xmm0[0] = 0x1111111122222222, ctx.xmm0[1] = 0x3333333344444444;
  ctx.xmm1[0] = c.x1_lo, ctx.xmm1[1] = c.x1_hi;
  ctx.mm1 = c.mm1;
  ctx.mem[0] = c.mem_lo, ctx.mem[1] = c.mem_hi;
  SimdHarness h(64);
  h.cpu.s.sse.mxcsr = c.mxcsr;
  h.set_xmm(0, ctx.xmm0[0], ctx.xmm0[1]);
  h.set_xmm(1, c.x1_lo, c.x1_hi);
  h.cpu.s.fpu.fcw = 0x037F;
  h.cpu.s.fpu.fsw = kTop2;
  h.cpu.s.fpu.ftw = uses_mm1 ? 0x0000 : 0xFFFF;
  std::memcpy(h.cpu.s.fpu.regs[1].data(), &c.mm1, 8);
  h.cpu.s.fpu.regs[1][8] = h.cpu.s.fpu.regs[1][9] = 0xFF;
  h.cpu.s.gpr[RDI] = CpuHarness::kData;
  h.write64(CpuHarness::kData + 64, c.mem_lo);
  h.write64(CpuHarness::kData + 72, c.mem_hi);
  run_on_host(c.insn, uses_mm1, ctx);
  ASSERT_EQ(h.step(c.insn), Status::Ok);
  EXPECT_EQ(h.cpu.s.sse.mxcsr, ctx.mxcsr);
  EXPECT_EQ(h.lo(0), ctx.xmm0[0]);
  EXPECT_EQ(h.hi(0), ctx.xmm0[1]);
  if (writes_mm0) {
    uint64_t mm0;
    std::memcpy(&mm0, h.cpu.s.fpu.regs[0].data(), 8);
    EXPECT_EQ(mm0, ctx.mm0);
  }
  EXPECT_EQ(h.cpu.s.fpu.fsw & 0x3800, ctx.env[1] & 0x3800);  // TOP
  EXPECT_EQ(abridged(h.cpu.s.fpu.ftw), abridged(uint16_t(ctx.env[2])));
}

const uint32_t kRoundings[] = {0x1F80, 0x3F80, 0x5F80, 0x7F80};

TEST(SseMmxConvert, IntegersToFloatsMatchHost) {
  const uint64_t ints[] = {i32x2(1, -3), i32x2(0x7FFFFFFF, 16777217), i32x2(INT32_MIN, -16777219), 0};
  for (const uint32_t mxcsr : kRoundings)
    for (const uint64_t v : ints) {
      compare_with_host({"cvtpi2ps xmm0, mm1", 0, 0, v, 0, 0, mxcsr});
      compare_with_host({"cvtpi2ps xmm0, qword ptr [rdi+64]", 0, 0, 0, v, 0, mxcsr});
      compare_with_host({"cvtpi2pd xmm0, mm1", 0, 0, v, 0, 0, mxcsr});
      compare_with_host({"cvtpi2pd xmm0, qword ptr [rdi+64]", 0, 0, 0, v, 0, mxcsr});
    }
}

TEST(SseMmxConvert, FloatsToIntegersMatchHost) {
  const uint64_t singles[] = {f32x2(1.5f, -2.5f), f32x2(3e9f, __builtin_nanf("")), f32x2(-0.5f, 0x1p-140f),
                              f32x2(-2147483648.0f, 2147483520.0f)};
  const double doubles[][2] = {{1.5, -2.5}, {1e10, __builtin_nan("")}, {-0.5, 0x1p-1070}, {-2147483648.5, 2147483647.5}};
  for (const uint32_t base : kRoundings)
    for (const uint32_t mxcsr : {base, base | 0x8040}) {  // and with FTZ, DAZ
      for (const uint64_t v : singles) {
        for (const char* m : {"cvtps2pi", "cvttps2pi"}) {
          compare_with_host({std::string(m) + " mm0, xmm1", v, 0x7F8000007F800000, 0, 0, 0, mxcsr});
          compare_with_host({std::string(m) + " mm0, qword ptr [rdi+64]", 0, 0, 0, v, 0x7F800000, mxcsr});
        }
      }
      for (const auto& d : doubles) {
        for (const char* m : {"cvtpd2pi", "cvttpd2pi"}) {
          compare_with_host({std::string(m) + " mm0, xmm1", f64(d[0]), f64(d[1]), 0, 0, 0, mxcsr});
          compare_with_host({std::string(m) + " mm0, xmmword ptr [rdi+64]", 0, 0, 0, f64(d[0]), f64(d[1]), mxcsr});
        }
      }
    }
}

// An unmasked exception (PE here) raises #XM and writes no destination,
// but the x87 is in MMX state already (kvm_diff64 against the silicon).
TEST(SseMmxConvert, UnmaskedExceptionWritesNothingButEntersMmxState) {
  SimdHarness h(64);
  h.cpu.s.sse.mxcsr = 0x1F80 & ~0x1000u;  // PM clear
  h.cpu.s.fpu.fsw = kTop2;
  h.cpu.s.fpu.ftw = 0xFFFF;
  h.set_xmm(0, 0x1111111122222222, 0);
  const uint64_t inexact = i32x2(16777217, 1);
  std::memcpy(h.cpu.s.fpu.regs[1].data(), &inexact, 8);
  ASSERT_EQ(h.step("cvtpi2ps xmm0, mm1"), Status::Exception);
  EXPECT_EQ(h.cpu.pending().vector, vec::XM);
  EXPECT_EQ(h.cpu.s.sse.mxcsr, 0x0FA0u);
  EXPECT_EQ(h.lo(0), 0x1111111122222222u);
  EXPECT_EQ(h.cpu.s.fpu.fsw, 0u);
  EXPECT_EQ(h.cpu.s.fpu.ftw, 0u);
}

// CVTPD2PI's 16-byte memory operand must be aligned: #GP(0).
TEST(SseMmxConvert, MisalignedPd2PiFaultsGp) {
  SimdHarness h(64);
  h.cpu.s.gpr[RDI] = CpuHarness::kData + 8;
  ASSERT_EQ(h.step("cvtpd2pi mm0, xmmword ptr [rdi]"), Status::Exception);
  EXPECT_EQ(h.cpu.pending().vector, vec::GP);
  ASSERT_EQ(h.step("cvtps2pi mm0, qword ptr [rdi]"), Status::Ok);
}

}  // namespace

}  // namespace vtlab::test
