// The A20 gate as real-mode code sees it: with the gate closed through
// port 0x92, FFFF:0010 wraps to physical 0 as on an 8086; opened, it
// reaches 1 MiB.  (The devices' own register behaviour is in
// tests/devices/port92_test.cpp.)
#include <gtest/gtest.h>

#include "devices/port92.h"
#include "support/cpu_harness.h"

namespace vtlab::test {
namespace {

TEST(A20Gate, Port92ClosesAndOpensTheWrapAtOneMegabyte) {
  CpuHarness h(16);
  SystemControlPortA port92([&](bool on) { h.cpu.set_a20(on); }, [&] { return h.cpu.a20_mask == ~uint64_t{0}; },
                            [](const char*) {});
  ASSERT_TRUE(h.io.insert(0x92, SystemControlPortA::kPorts, &port92));
  h.write32(0x000000, 0x11111111);
  h.write32(0x100000, 0x22222222);
  h.load_asm(
      "mov ax, 0xFFFF\n"
      "mov ds, ax\n"
      "in al, 0x92\n"
      "and al, 0xFD\n"
      "out 0x92, al\n"  // gate closed
      "mov ebx, dword ptr [0x10]\n"
      "in al, 0x92\n"
      "mov cl, al\n"
      "or al, 2\n"
      "out 0x92, al\n"  // gate open
      "mov edx, dword ptr [0x10]\n"
      "in al, 0x92\n");
  h.run_to_end();
  EXPECT_EQ(h.reg32(RBX), 0x11111111u);  // FFFF0 + 10 = 100000 -> 0
  EXPECT_EQ(h.reg32(RCX) & 2, 0u);
  EXPECT_EQ(h.reg32(RDX), 0x22222222u);
  EXPECT_EQ(h.reg32(RAX) & 2, 2u);
}

// A translation cached before the gate closed must not outlive it.
TEST(A20Gate, ClosingTheGateDropsCachedTranslations) {
  CpuHarness h;
  h.identity_paging();
  h.write32(0x100000, 0x22222222);
  h.write32(0x000000, 0x11111111);
  uint64_t phys = 0;
  ASSERT_EQ(h.cpu.translate(0x100000, Access::Read, false, phys), Status::Ok);
  EXPECT_EQ(phys, 0x100000u);
  h.cpu.set_a20(false);
  ASSERT_EQ(h.cpu.translate(0x100000, Access::Read, false, phys), Status::Ok);
  EXPECT_EQ(phys, 0u);
}

}  // namespace
}  // namespace vtlab::test
