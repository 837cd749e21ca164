// Random bytes as guest code: whatever a guest executes, vtlab must stop
// for a stated reason, never crash (the ASan/UBSan run of this suite is the
// real check), and give the same result twice.  A smoke test, not the
// fuzzer: a few hundred thousand instructions over fixed seeds.
#include <gtest/gtest.h>

#include <random>

#include "support/cpu_harness.h"

namespace vtlab::test {

namespace {

struct Outcome {
  StopReason reason;
  uint64_t icount;
  uint64_t rip;
  std::array<uint64_t, 16> gpr;
  uint64_t flags;
};

// An IDT whose 32 gates all point at random code too, so faults keep the
// guest running instead of ending in a triple fault at once.
void install_idt(CpuHarness& h, std::mt19937& rng) {
  const uint64_t idt = 0x8000;
  for (unsigned v = 0; v < 32; ++v) {
    const uint32_t target = 0x1000 + (rng() % 0xF000);
    const uint64_t gate = (target & 0xFFFF) | (uint64_t{0x08} << 16) | (uint64_t{0x8E00} << 32) |
                          (uint64_t{target >> 16} << 48);
    h.mem.write(idt + v * 8, 8, gate);
  }
  h.cpu.s.idtr = {idt, 32 * 8 - 1};
  // A flat GDT so the gates' selector 0x08 and any 0x10 load make sense.
  const uint64_t gdt = 0x7000;
  h.mem.write(gdt + 8, 8, 0x00CF9A000000FFFFull);
  h.mem.write(gdt + 16, 8, 0x00CF92000000FFFFull);
  h.cpu.s.gdtr = {gdt, 23};
}

Outcome run_random(unsigned seed, unsigned bits, bool with_idt) {
  CpuHarness h(bits);
  std::mt19937 rng(seed);
  std::vector<uint8_t> code(0xF000);
  for (uint8_t& b : code) b = static_cast<uint8_t>(rng());
  h.load(code, 0x1000);
  if (with_idt) install_idt(h, rng);
  for (uint64_t& r : h.cpu.s.gpr) r = rng();
  h.cpu.s.gpr[RSP] = bits == 16 ? 0x8000 : 0x90000;
  const StopReason r = h.run(20000);
  return Outcome{r, h.cpu.icount, h.cpu.s.rip, h.cpu.s.gpr, h.cpu.s.flags.bits()};
}

}  // namespace

TEST(RandomCode, NeverCrashesAndIsDeterministic) {
  for (unsigned bits : {16u, 32u}) {
    for (bool idt : {false, true}) {
      for (unsigned seed = 1; seed <= 12; ++seed) {
        SCOPED_TRACE(testing::Message() << "bits=" << bits << " idt=" << idt << " seed=" << seed);
        const Outcome a = run_random(seed, bits, idt);
        const Outcome b = run_random(seed, bits, idt);
        EXPECT_NE(a.reason, StopReason::None);
        EXPECT_EQ(a.reason, b.reason);
        EXPECT_EQ(a.icount, b.icount);
        EXPECT_EQ(a.rip, b.rip);
        EXPECT_EQ(a.gpr, b.gpr);
        EXPECT_EQ(a.flags, b.flags);
      }
    }
  }
}

}  // namespace vtlab::test
