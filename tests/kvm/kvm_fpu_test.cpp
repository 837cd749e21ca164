// The x87/SSE state under hw-kvm (core/kvm/kvm_state.cpp, to_kvm_xsave):
// vtlab's CpuState::fpu/sse goes into the vCPU before KVM_RUN and comes
// back after.  A 64-bit ring-3 guest (which this host's KVM runs on the CPU
// itself) computes from a state vtlab set, with an MXCSR rounding mode and
// an x87 precision control that are not the reset ones, so the results
// (SDM vol. 1, 4.8 and 8.1.5) show the state went in, and their equality
// with the interpreter's shows it came back.
#include <gtest/gtest.h>

#include <cstring>

#include "kvm/kvm_fixture.h"
#include "support/fuzz_inputs.h"

namespace vtlab::test {

namespace {

using fuzz::CpuStart;

uint64_t bits(double d) {
  uint64_t v;
  std::memcpy(&v, &d, 8);
  return v;
}

// x87 register contents: significand (integer bit explicit), sign and
// exponent.
std::array<uint8_t, 10> extended(uint64_t significand, uint16_t sign_exponent) {
  std::array<uint8_t, 10> r{};
  std::memcpy(r.data(), &significand, 8);
  std::memcpy(r.data() + 8, &sign_exponent, 2);
  return r;
}

// DIVSS xmm0, xmm1; MULPD xmm2, xmm3; FDIV ST(0), ST(1); UD2, whose #UD
// goes through a ring-0 gate to the HLT.
const std::vector<uint8_t> kCode = {0xF3, 0x0F, 0x5E, 0xC1, 0x66, 0x0F, 0x59, 0xD3, 0xD8, 0xF1, 0x0F, 0x0B, 0xF4};
constexpr uint32_t kHandler = 12;

void prepare(Machine& m) {
  fuzz::prepare_cpu(m, CpuStart::Long3, kHandler, kCode.data(), kCode.size());
  CpuState& s = m.cpu().s;
  s.cr0 = (s.cr0 | cr0::MP) & ~(cr0::EM | cr0::TS);
  s.cr4 |= cr4::OSFXSR | cr4::OSXMMEXCPT;
  s.sse.mxcsr = 0x3F80;  // round down, every exception masked
  s.sse.xmm[0] = {0x3F800000, 0};                   // 1.0f
  s.sse.xmm[1] = {0x40400000, 0};                   // 3.0f
  s.sse.xmm[2] = {bits(1.5), bits(1e308)};
  s.sse.xmm[3] = {bits(3.0), bits(10.0)};
  s.fpu.fcw = 0x007F;  // single precision, round to nearest, every exception masked
  s.fpu.fsw = 6 << 11;  // TOP = 6: ST(0) = R6, ST(1) = R7
  s.fpu.regs[6] = extended(1ull << 63, 0x3FFF);  // 1.0
  s.fpu.regs[7] = extended(3ull << 62, 0x4000);  // 3.0
  s.fpu.ftw = 0x0FFF;  // R6, R7 valid, the rest empty
}

}  // namespace

TEST(KvmFpuState, SseAndX87ResultsUnderKvmEqualNative) {
  SKIP_WITHOUT_KVM();
  Machine native{MachineConfig{}};
  prepare(native);
  ASSERT_EQ(native.run(1'000'000).reason, StopReason::Halted);
  Machine m(kvm_config());
  prepare(m);
  const RunResult r = m.run(1'000'000'000);
  ASSERT_EQ(r.reason, StopReason::Halted) << r.detail;
  ASSERT_EQ(m.engine().name(), "kvm");
  ASSERT_EQ(m.cpu().s.rip, native.cpu().s.rip);  // past the HLT after the #UD
  const CpuState &k = m.cpu().s, &n = native.cpu().s;
  // 1/3 rounded down, not to nearest (3EAAAAAB); 1e309 rounded down to the
  // largest double, not to infinity; PE and OE set.
  EXPECT_EQ(k.sse.xmm[0][0], 0x3EAAAAAAu);
  EXPECT_EQ(k.sse.xmm[2][0], bits(4.5));
  EXPECT_EQ(k.sse.xmm[2][1], 0x7FEFFFFFFFFFFFFFu);
  EXPECT_EQ(k.sse.mxcsr, 0x3FA8u);
  // 1/3 rounded to 24 bits (up, so C1 = 1), not to 64; PE; TOP unchanged.
  EXPECT_EQ(k.fpu.regs[6], extended(0xAAAAAB0000000000, 0x3FFD));
  EXPECT_EQ(k.fpu.fsw, 0x3220u);
  EXPECT_EQ(k.fpu.fcw, 0x007Fu);
  EXPECT_EQ(k.fpu.ftw, 0x0FFFu);
  // Everything else the interpreter computed too.
  EXPECT_EQ(k.sse.xmm, n.sse.xmm);
  EXPECT_EQ(k.sse.mxcsr, n.sse.mxcsr);
  EXPECT_EQ(k.fpu.regs, n.fpu.regs);
  EXPECT_EQ(k.fpu.fsw, n.fpu.fsw);
  EXPECT_EQ(k.fpu.ftw, n.fpu.ftw);
}

}  // namespace vtlab::test
