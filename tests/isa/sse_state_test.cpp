// SSE/MMX availability and state (core/isa/sse_common.h, sse_control.cpp,
// fxsave.cpp): the #UD/#NM/#GP/#MF rules, LDMXCSR/STMXCSR, FXSAVE's exact
// image (compared with the host's own FXSAVE64 for the same state), an
// FXSAVE/FXRSTOR round trip with the rebuilt tag word, MMX registers
// aliasing the x87 significands, EMMS, and CR4.OSFXSR/OSXMMEXCPT settable.
#include <gtest/gtest.h>

#include <array>
#include <cstring>

#include "isa/simd_harness.h"

namespace vtlab::test {

namespace {

void expect_fault(const SimdHarness& h, uint8_t vector, uint32_t error = 0) {
  EXPECT_EQ(h.cpu.pending().vector, vector);
  if (vector == vec::GP) {
    EXPECT_EQ(h.cpu.pending().error, error);
  }
}

}  // namespace

TEST(SseState, UndefinedWithoutOsfxsrOrWithEm) {
  SimdHarness h;
  h.cpu.s.cr4 &= ~cr4::OSFXSR;
  h.set_xmm(1, 5, 6);
  ASSERT_EQ(h.step("movdqa xmm0, xmm1"), Status::Exception);
  expect_fault(h, vec::UD);
  EXPECT_EQ(h.lo(0), 0u);
  // EM wins over TS: #UD, not #NM.
  h.cpu.s.cr4 |= cr4::OSFXSR;
  h.cpu.s.cr0 |= cr0::EM | cr0::TS;
  ASSERT_EQ(h.step("pxor xmm0, xmm1"), Status::Exception);
  expect_fault(h, vec::UD);
}

TEST(SseState, DeviceNotAvailableWithTs) {
  SimdHarness h;
  h.cpu.s.cr0 |= cr0::TS;
  ASSERT_EQ(h.step("addps xmm0, xmm1"), Status::Exception);
  expect_fault(h, vec::NM);
  // The fences, prefetches and MOVNTI need no SSE state: no #NM.
  EXPECT_EQ(h.step("mfence"), Status::Ok);
  EXPECT_EQ(h.step("prefetcht0 [0x20000]"), Status::Ok);
}

// #NM is a decode-time fault: it comes before the alignment #GP.
TEST(SseState, MisalignedMovdqaIsGp0AfterNm) {
  SimdHarness h;
  h.cpu.s.gpr[RBX] = 0x20008;
  ASSERT_EQ(h.step("movdqa xmm0, [ebx]"), Status::Exception);
  expect_fault(h, vec::GP, 0);
  ASSERT_EQ(h.step("movaps [ebx], xmm0"), Status::Exception);
  expect_fault(h, vec::GP, 0);
  ASSERT_EQ(h.step("paddb xmm0, [ebx]"), Status::Exception);
  expect_fault(h, vec::GP, 0);
  h.cpu.s.cr0 |= cr0::TS;
  ASSERT_EQ(h.step("movdqa xmm0, [ebx]"), Status::Exception);
  expect_fault(h, vec::NM);
  h.cpu.s.cr0 &= ~cr0::TS;
  // MOVDQU and scalar operands need no alignment.
  h.write64(0x20008, 0x1122334455667788);
  h.write64(0x20010, 0x99AABBCCDDEEFF00);
  ASSERT_EQ(h.step("movdqu xmm2, [ebx]"), Status::Ok);
  EXPECT_EQ(h.lo(2), 0x1122334455667788u);
  EXPECT_EQ(h.hi(2), 0x99AABBCCDDEEFF00u);
  ASSERT_EQ(h.step("movsd xmm3, [ebx+4]"), Status::Ok);
  EXPECT_EQ(h.lo(3), 0xDDEEFF0011223344u);
  EXPECT_EQ(h.hi(3), 0u);
}

// A 16-byte store straddling into a not-present page writes nothing.
TEST(SseState, StraddlingStoreFaultsBeforeWriting) {
  SimdHarness h;
  h.identity_paging(0x21000, 0);
  h.set_xmm(0, 0x0102030405060708, 0x1112131415161718);
  h.cpu.s.gpr[RBX] = 0x20FF8;
  h.write64(0x20FF8, 0xCCCCCCCCCCCCCCCC);
  ASSERT_EQ(h.step("movdqu [ebx], xmm0"), Status::Exception);
  expect_fault(h, vec::PF);
  EXPECT_EQ(h.cpu.s.cr2, 0x21000u);
  EXPECT_EQ(h.read64(0x20FF8), 0xCCCCCCCCCCCCCCCCu);
}

TEST(SseState, LdmxcsrStmxcsr) {
  SimdHarness h;
  h.write32(0x20000, 0x0000FFFF);
  ASSERT_EQ(h.step("ldmxcsr [0x20000]"), Status::Ok);
  EXPECT_EQ(h.cpu.s.sse.mxcsr, 0xFFFFu);
  h.write32(0x20000, 0x00011F80);  // bit 16 is reserved
  ASSERT_EQ(h.step("ldmxcsr [0x20000]"), Status::Exception);
  expect_fault(h, vec::GP, 0);
  EXPECT_EQ(h.cpu.s.sse.mxcsr, 0xFFFFu);
  ASSERT_EQ(h.step("stmxcsr [0x20004]"), Status::Ok);
  EXPECT_EQ(h.read32(0x20004), 0xFFFFu);
}

TEST(SseState, Cr4OsfxsrAndOsxmmexcptAreSettable) {
  CpuHarness h;
  h.cpu.s.gpr[RAX] = cr4::OSFXSR | cr4::OSXMMEXCPT;
  h.load_asm("mov cr4, eax");
  ASSERT_EQ(h.execute_one(), Status::Ok);
  EXPECT_EQ(h.cpu.s.cr4, cr4::OSFXSR | cr4::OSXMMEXCPT);
}

// --- FXSAVE / FXRSTOR ----------------------------------------------------

namespace {

// A recognisable state, the host's after FNINIT, FLD1, FLDPI: TOP = 6,
// R7 = 1.0, R6 = pi (valid),
// the rest empty, MXCSR 1F80 | RC=01, XMMn = n in every byte.
void load_state(CpuHarness& h) {
  X87State& f = h.cpu.s.fpu;
  f.fcw = 0x037F;
  f.fsw = 0x3000;
  f.ftw = 0x0FFF;
  f.regs = {};
  const std::array<uint8_t, 10> one{0, 0, 0, 0, 0, 0, 0, 0x80, 0xFF, 0x3F};
  const std::array<uint8_t, 10> pi{0x35, 0xC2, 0x68, 0x21, 0xA2, 0xDA, 0x0F, 0xC9, 0x00, 0x40};
  f.regs[7] = one;
  f.regs[6] = pi;
  h.cpu.s.sse.mxcsr = 0x3F80;
  for (unsigned n = 0; n < 16; ++n) {
    const uint64_t v = 0x0101010101010101ull * n;
    h.cpu.s.sse.xmm[n] = {v, v};
  }
}

}  // namespace

// The image compared with the host's FXSAVE64 of the same x87/SSE state:
// every byte of 0-415, and 416-511 left alone.
TEST(SseState, Fxsave64ImageMatchesHost) {
  alignas(16) std::array<uint8_t, 512> host;
  host.fill(0xAA);
  {
    alignas(16) std::array<uint8_t, 512> saved;
    uint32_t csr = 0x3F80;
    alignas(16) uint8_t xmm_in[16][16];
    for (unsigned n = 0; n < 16; ++n) std::memset(xmm_in[n], int(n), 16);
    // FNINIT empties the registers but keeps their contents, which an
    // earlier test's MMX or x87 work left there: eight FLDZ zero them all.
    asm volatile("fxsave64 %[saved]\n\t"
                 "fninit\n\tfldz\n\tfldz\n\tfldz\n\tfldz\n\tfldz\n\tfldz\n\tfldz\n\tfldz\n\t"
                 "fninit\n\tfld1\n\tfldpi\n\tldmxcsr %[csr]\n\t"
                 "movdqa 0(%[x]), %%xmm0\n\tmovdqa 16(%[x]), %%xmm1\n\tmovdqa 32(%[x]), %%xmm2\n\t"
                 "movdqa 48(%[x]), %%xmm3\n\tmovdqa 64(%[x]), %%xmm4\n\tmovdqa 80(%[x]), %%xmm5\n\t"
                 "movdqa 96(%[x]), %%xmm6\n\tmovdqa 112(%[x]), %%xmm7\n\tmovdqa 128(%[x]), %%xmm8\n\t"
                 "movdqa 144(%[x]), %%xmm9\n\tmovdqa 160(%[x]), %%xmm10\n\tmovdqa 176(%[x]), %%xmm11\n\t"
                 "movdqa 192(%[x]), %%xmm12\n\tmovdqa 208(%[x]), %%xmm13\n\tmovdqa 224(%[x]), %%xmm14\n\t"
                 "movdqa 240(%[x]), %%xmm15\n\t"
                 "fxsave64 %[host]\n\tfxrstor64 %[saved]"
                 : [host] "+m"(host), [saved] "=m"(saved)
                 : [csr] "m"(csr), [x] "r"(xmm_in)
                 : "memory");
  }
  // FOP, FIP, FDP are left as the x87 work of this host put them; take
  // them from the host image so the comparison is about the layout.
  SimdHarness h(64);
  load_state(h);
  uint16_t fop;
  std::memcpy(&fop, &host[6], 2);
  h.cpu.s.fpu.fop = fop;
  std::memcpy(&h.cpu.s.fpu.fip, &host[8], 8);
  std::memcpy(&h.cpu.s.fpu.fdp, &host[16], 8);
  for (uint64_t a = 0x20000; a < 0x20200; a += 8) h.write64(a, 0xAAAAAAAAAAAAAAAA);
  ASSERT_EQ(h.step("fxsave64 [0x20000]"), Status::Ok);
  for (unsigned k = 0; k < 512; ++k) {
    SCOPED_TRACE(k);
    EXPECT_EQ(h.mem.read(0x20000 + k, 1), host[k]);
  }
}

// The legacy image outside 64-bit mode: FIP:FCS and FDP:FDS, XMM0-7 only.
TEST(SseState, FxsaveLegacyLayout) {
  SimdHarness h;
  load_state(h);
  h.cpu.s.fpu.fop = 0x7DE;
  h.cpu.s.fpu.fip = 0x12345678;
  h.cpu.s.fpu.fcs = 0x0008;
  h.cpu.s.fpu.fdp = 0x9ABCDEF0;
  h.cpu.s.fpu.fds = 0x0010;
  for (uint64_t a = 0x20000; a < 0x20200; a += 8) h.write64(a, 0xAAAAAAAAAAAAAAAA);
  ASSERT_EQ(h.step("fxsave [0x20000]"), Status::Ok);
  EXPECT_EQ(h.read64(0x20000), 0x07DE00C03000037Fu);  // FCW FSW FTW(R6,R7) 0 FOP
  EXPECT_EQ(h.read64(0x20008), 0x0000000812345678u);
  EXPECT_EQ(h.read64(0x20010), 0x000000109ABCDEF0u);
  EXPECT_EQ(h.read64(0x20018), 0x0000FFFF00003F80u);
  EXPECT_EQ(h.read64(0x20020), 0xC90FDAA22168C235u);  // ST0 = R6 = pi
  EXPECT_EQ(h.read64(0x20028), 0x4000u);
  EXPECT_EQ(h.read64(0x20030), 0x8000000000000000u);  // ST1 = R7 = 1.0
  EXPECT_EQ(h.read64(0x20038), 0x3FFFu);
  EXPECT_EQ(h.read64(0x200A0 + 16 * 7), 0x0707070707070707u);
  EXPECT_EQ(h.read64(0x20120), 0xAAAAAAAAAAAAAAAAu);  // XMM8's slot: not written
  // Misaligned: #GP(0), nothing written.
  h.write64(0x20400, 0x5555555555555555);
  ASSERT_EQ(h.step("fxsave [0x20408]"), Status::Exception);
  expect_fault(h, vec::GP, 0);
  EXPECT_EQ(h.read64(0x20408), 0u);
}

TEST(SseState, FxrstorRoundTripRebuildsTags) {
  SimdHarness h;
  load_state(h);
  // R5 holds zero, R4 a denormal, R3 an unnormal: FXRSTOR classifies
  // them (01 zero, 10 special, 10 special) when marked non-empty.
  h.cpu.s.fpu.regs[4] = {1, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  h.cpu.s.fpu.regs[3] = {0, 0, 0, 0, 0, 0, 0, 0x40, 0xFF, 0x3F};
  ASSERT_EQ(h.step("fxsave [0x20000]"), Status::Ok);
  h.mem.write(0x20004, 1, 0xF8);  // R3-R7 non-empty
  const CpuState saved = h.cpu.s;
  h.cpu.s.fpu = X87State{};
  h.cpu.s.sse = SseState{};
  ASSERT_EQ(h.step("fxrstor [0x20000]"), Status::Ok);
  EXPECT_EQ(h.cpu.s.fpu.ftw, 0x06BF);  // R7 00, R6 00, R5 01, R4 10, R3 10, R2-R0 11
  EXPECT_EQ(h.cpu.s.fpu.fsw, saved.fpu.fsw);
  EXPECT_EQ(h.cpu.s.fpu.regs, saved.fpu.regs);
  EXPECT_EQ(h.cpu.s.sse.mxcsr, 0x3F80u);
  for (unsigned n = 0; n < 8; ++n) EXPECT_EQ(h.cpu.s.sse.xmm[n], saved.sse.xmm[n]);
  EXPECT_EQ(h.cpu.s.sse.xmm[8][0], 0u);  // not restored outside 64-bit mode
  // A reserved MXCSR bit in the image: #GP(0), nothing loaded.
  h.write32(0x20018, 0x00021F80);
  h.cpu.s.fpu.fcw = 0x0040;
  ASSERT_EQ(h.step("fxrstor [0x20000]"), Status::Exception);
  expect_fault(h, vec::GP, 0);
  EXPECT_EQ(h.cpu.s.fpu.fcw, 0x0040);
}

TEST(SseState, FxsaveWithoutOsfxsrSkipsSseState) {
  SimdHarness h;
  load_state(h);
  h.cpu.s.cr4 &= ~cr4::OSFXSR;
  for (uint64_t a = 0x20000; a < 0x20200; a += 8) h.write64(a, 0xAAAAAAAAAAAAAAAA);
  ASSERT_EQ(h.step("fxsave [0x20000]"), Status::Ok);
  EXPECT_EQ(h.read32(0x20000), 0x3000037Fu);
  EXPECT_EQ(h.read64(0x20018), 0xAAAAAAAAAAAAAAAAu);  // MXCSR, MXCSR_MASK
  EXPECT_EQ(h.read64(0x200A0), 0xAAAAAAAAAAAAAAAAu);  // XMM0
  h.cpu.s.cr0 |= cr0::EM;  // FXSAVE with EM: #UD
  ASSERT_EQ(h.step("fxsave [0x20000]"), Status::Exception);
  expect_fault(h, vec::UD);
}

// --- MMX -------------------------------------------------------------------

TEST(Mmx, RegistersAliasTheX87Significands) {
  SimdHarness h;
  h.cpu.s.fpu.fsw = 0x3800;  // TOP = 7
  h.cpu.s.fpu.ftw = 0xFFFF;
  h.cpu.s.fpu.regs[2] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x12, 0x34};
  h.cpu.s.gpr[RAX] = 0xCAFEBABE;
  ASSERT_EQ(h.step("movq mm3, mm2"), Status::Ok);
  EXPECT_EQ(h.cpu.s.fpu.regs[3], (std::array<uint8_t, 10>{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0xFF, 0xFF}));
  EXPECT_EQ(h.cpu.s.fpu.regs[2][9], 0x34);  // a source keeps its exponent
  EXPECT_EQ(h.cpu.s.fpu.fsw & 0x3800, 0);   // TOP = 0
  EXPECT_EQ(h.cpu.s.fpu.ftw, 0);            // all valid
  ASSERT_EQ(h.step("movd mm0, eax"), Status::Ok);
  EXPECT_EQ(h.cpu.s.fpu.regs[0], (std::array<uint8_t, 10>{0xBE, 0xBA, 0xFE, 0xCA, 0, 0, 0, 0, 0xFF, 0xFF}));
  ASSERT_EQ(h.step("paddb mm0, mm3"), Status::Ok);
  EXPECT_EQ(h.cpu.s.fpu.regs[0][0], 0xCF);
  EXPECT_EQ(h.cpu.s.fpu.regs[0][3], 0x0E);
  EXPECT_EQ(h.cpu.s.fpu.regs[0][7], 0x88);
  ASSERT_EQ(h.step("emms"), Status::Ok);
  EXPECT_EQ(h.cpu.s.fpu.ftw, 0xFFFF);
}

TEST(Mmx, Faults) {
  SimdHarness h;
  h.cpu.s.cr4 &= ~cr4::OSFXSR;  // MMX does not need it
  EXPECT_EQ(h.step("pxor mm0, mm0"), Status::Ok);
  h.cpu.s.cr0 |= cr0::TS;
  ASSERT_EQ(h.step("emms"), Status::Exception);
  expect_fault(h, vec::NM);
  h.cpu.s.cr0 = (h.cpu.s.cr0 & ~cr0::TS) | cr0::EM;
  ASSERT_EQ(h.step("paddw mm1, mm2"), Status::Exception);
  expect_fault(h, vec::UD);
  // A pending x87 exception (FSW.ES) with CR0.NE: #MF, tags untouched.
  h.cpu.s.cr0 = (h.cpu.s.cr0 & ~cr0::EM) | cr0::NE;
  h.cpu.s.fpu.fsw = 0x0081;
  h.cpu.s.fpu.ftw = 0xFFFF;
  ASSERT_EQ(h.step("movq mm1, mm2"), Status::Exception);
  expect_fault(h, vec::MF);
  EXPECT_EQ(h.cpu.s.fpu.ftw, 0xFFFF);
}

}  // namespace vtlab::test
