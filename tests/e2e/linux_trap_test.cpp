// Debian 12's i386 kernel under `trap --holes trap` (docs/TRAP_AND_EMULATE.md,
// "If x86 were virtualizable"): with every hole trapping, the kernel's
// PUSHF/POPF interrupt bookkeeping works at ring 1, and it boots to the
// busybox initramfs and powers off, as under native.  One boot, from
// scripts/fetch-linux's cache; skipped without it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/boot.h"
#include "support/linux_cache.h"

namespace vtlab::test {

TEST(LinuxTrap, I386BootsToUserlandAndPowersOffWithHolesTrapped) {
  std::string why;
  const auto files = linux_kernel("i386", why);
  if (!files) GTEST_SKIP() << why;
  const std::string stats = ::testing::TempDir() + "/linux_trap_stats.json";
  CommandResult r = run_command(std::string(VTLAB_CLI) + " run --mode trap --holes trap --kernel-linux " +
                                files->bzimage + " --initrd " + files->initrd +
                                " --append 'console=ttyS0 cryptomgr.notests' --stats " + stats);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find(files->marker), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("reboot: Power down"), std::string::npos) << r.out;
  // What the default (real x86) gets wrong: IF from PUSHF, then the BUG.
  EXPECT_EQ(r.out.find("Interrupts were enabled early"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("WARNING:"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("BUG"), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find("virtualization hole"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("sensitive-but-unprivileged sites trapped"), std::string::npos) << r.err;

  const nlohmann::json j = nlohmann::json::parse(read_text_file(stats));
  EXPECT_EQ(j["hole_policy"], "trap");
  EXPECT_TRUE(j["holes"].empty());
  const nlohmann::json& keys = j["exits"]["by_reason"]["privileged-insn"]["keys"];
  for (const char* hole : {"pushfd", "popfd", "iretd", "push"})
    EXPECT_GT(keys.value(hole, 0), 0) << hole << " never trapped: " << keys.dump();
}

}  // namespace vtlab::test
