// SYSENTER and SYSEXIT (SDM vol. 2): the fixed flat caches built from
// IA32_SYSENTER_CS, the ESP/EIP loads, the flags, and every #GP(0) case.
#include <gtest/gtest.h>

#include "priv_fixture.h"

namespace vtlab::test {

namespace {

constexpr uint32_t kEntry = 0x3000, kEntryStack = 0x7F000, kReturn = 0x1100, kReturnStack = 0x6F000;
// Flat 4 GiB, 32-bit, granular, present, S=1: code type 11 and data type 3.
constexpr uint32_t kFlat = ar::kS | ar::kPresent | ar::kDb | ar::kGranularity;
constexpr uint32_t kRing0Code = kFlat | 0xB, kRing0Stack = kFlat | 0x3;
constexpr uint32_t kRing3Code = kRing0Code | (3u << ar::kDplShift), kRing3Stack = kRing0Stack | (3u << ar::kDplShift);

class FastSyscall : public PrivTest {
 protected:
  void set_msrs(uint64_t cs) {
    h.cpu.s.msrs[msr::kSysenterCs] = cs;
    h.cpu.s.msrs[msr::kSysenterEsp] = kEntryStack;
    h.cpu.s.msrs[msr::kSysenterEip] = kEntry;
  }
  void expect_flat(unsigned seg, uint16_t sel, uint32_t attrs) {
    const SegmentCache& sc = h.cpu.s.seg[seg];
    EXPECT_EQ(sc.selector, sel) << seg;
    EXPECT_EQ(sc.base, 0u) << seg;
    EXPECT_EQ(sc.limit, 0xFFFFFFFFu) << seg;
    EXPECT_EQ(sc.attrs, attrs) << seg;
  }
  // Runs the instruction alone and expects #GP(0) with nothing changed.
  void expect_gp0(const char* insn) {
    SCOPED_TRACE(insn);
    h.load_asm(insn);
    const CpuState before = h.cpu.s;
    EXPECT_EQ(h.execute_one(), Status::Exception);
    EXPECT_EQ(h.cpu.pending().vector, vec::GP);
    EXPECT_EQ(h.cpu.pending().error, 0u);
    EXPECT_EQ(h.cpu.s.seg[CS].selector, before.seg[CS].selector);
    EXPECT_EQ(h.cpu.s.rip, before.rip);
    EXPECT_EQ(esp(), static_cast<uint32_t>(before.gpr[RSP]));
  }
};

}  // namespace

TEST_F(FastSyscall, SysenterAndSysexitRoundTrip) {
  // The MSR's RPL bits: SYSENTER masks them off, SYSEXIT adds 16 and 24 to
  // the raw value and then ORs in 3.
  set_msrs(kCode0 | 3);
  enter_ring3();
  CpuState& s = h.cpu.s;
  s.flags.set_bits(flag::kReserved1 | flag::IF | flag::RF | flag::CF);
  h.load({0x0F, 0x35}, kEntry);  // sysexit
  h.load_asm("sysenter");
  h.run(1);
  EXPECT_EQ(s.cpl(), 0u);
  expect_flat(CS, kCode0, kRing0Code);
  expect_flat(SS, kData0, kRing0Stack);
  EXPECT_EQ(s.rip, kEntry);
  EXPECT_EQ(esp(), kEntryStack);
  EXPECT_EQ(h.flags(), flag::kReserved1 | flag::CF);  // IF and RF cleared
  EXPECT_EQ(s.seg[DS].selector, kData3);  // untouched

  s.gpr[RCX] = kReturnStack;
  s.gpr[RDX] = kReturn;
  h.run(1);
  EXPECT_EQ(s.cpl(), 3u);
  expect_flat(CS, kCode3, kRing3Code);
  expect_flat(SS, kData3, kRing3Stack);
  EXPECT_EQ(s.rip, kReturn);
  EXPECT_EQ(esp(), kReturnStack);
  EXPECT_EQ(h.flags(), flag::kReserved1 | flag::CF);
}

TEST_F(FastSyscall, SysenterTakesOnlyTheLow32BitsOfEspAndEip) {
  set_msrs(kCode0);
  h.cpu.s.msrs[msr::kSysenterEsp] = 0x1'0000'8000;
  h.cpu.s.msrs[msr::kSysenterEip] = 0x1'0000'3000;
  h.load_asm("sysenter");
  h.run(1);
  EXPECT_EQ(h.cpu.s.rip, 0x3000u);
  EXPECT_EQ(esp(), 0x8000u);
}

TEST_F(FastSyscall, NullSysenterCsIsGp) {
  set_msrs(0);
  enter_ring3();
  expect_gp0("sysenter");
  set_msrs(3);  // bits 15:2 are what count
  expect_gp0("sysenter");
  set_msrs(0);
  h.cpu.s.seg[CS] = segment_cache(kCode0, gdt(1));
  h.cpu.s.seg[SS] = segment_cache(kData0, gdt(2));
  expect_gp0("sysexit");
}

TEST_F(FastSyscall, SysexitAboveCpl0IsGp) {
  set_msrs(kCode0);
  enter_ring3();
  expect_gp0("sysexit");
}

TEST(FastSyscallRealMode, BothAreGpInRealMode) {
  CpuHarness h(16);
  h.cpu.s.msrs[msr::kSysenterCs] = 0x08;
  for (const char* insn : {"sysenter", "sysexit"}) {
    SCOPED_TRACE(insn);
    h.load_asm(insn);
    EXPECT_EQ(h.execute_one(), Status::Exception);
    EXPECT_EQ(h.cpu.pending().vector, vec::GP);
    EXPECT_EQ(h.cpu.s.seg[CS].selector, 0);
  }
}

}  // namespace vtlab::test
