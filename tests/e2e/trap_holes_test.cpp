// `trap --holes trap`: the trap monitor as if x86 met Popek and Goldberg's
// condition (docs/TRAP_AND_EMULATE.md, "If x86 were virtualizable").  Every
// hole samples/holes runs at ring 1 traps and is emulated on the virtual
// CPU, so the guest prints bare metal's transcript (no WRONG line), the
// detector finds nothing, and the price is exactly one privileged-insn exit
// per trapped hole.  Every number is exact: virtual time makes runs
// repeatable.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/boot.h"

namespace vtlab::test {

namespace {
constexpr uint64_t kBudget = 100'000'000;
const std::string kCli = VTLAB_CLI;

BootOutcome boot_holes(bool trap_holes) {
  return boot_kernel(sample_binary("holes.elf"), "", kBudget, 128ull << 20, "trap",
                     [trap_holes](MachineConfig& cfg) { cfg.trap_holes = trap_holes; });
}
}  // namespace

TEST(TrapHoles, TrappedHolesGiveTheNativeTranscriptWithExactExits) {
  BootOutcome o = boot_holes(true);
  EXPECT_EQ(o.serial, read_text_file(sample_source("holes/expected.txt")));  // bare metal's, from QEMU
  EXPECT_EQ(o.serial.find("WRONG"), std::string::npos) << o.serial;
  ASSERT_EQ(o.result.reason, StopReason::GuestExit) << o.result.detail;
  EXPECT_EQ(o.result.guest_status, (0x17u << 1) | 1);
  EXPECT_TRUE(o.holes.empty());
  EXPECT_EQ(o.instructions, 68'194u);  // native's count: the guest takes the same path
  // 9 privileged and IOPL-sensitive traps (CLI 3, STI 2, LGDT, LIDT, LLDT,
  // LTR) as in the default, plus 36 trapped holes.
  EXPECT_EQ(o.exit_count(ExitReason::PrivilegedInsn), 45u);
  EXPECT_EQ(o.exit_count(ExitReason::Io), 5'308u);
  EXPECT_EQ(o.exit_count(ExitReason::CrAccess), 3u);
  EXPECT_EQ(o.exit_count(ExitReason::GuestException), 2u);  // the two INT n
  EXPECT_EQ(o.exit_count(ExitReason::HiddenPageFault), 8u);
  EXPECT_EQ(o.exit_count(ExitReason::PageTableWrite), 160u);
  EXPECT_EQ(o.exit_total, 5'526u);
  EXPECT_EQ(o.exit_cycles, 11'049'000u);
}

// The default is real x86: the same guest sees ring 1 and only the
// instructions that really fault trap.
TEST(TrapHoles, DefaultStaysRealX86) {
  BootOutcome o = boot_holes(false);
  EXPECT_EQ(o.serial, read_text_file(sample_source("holes/expected-trap.txt")));
  EXPECT_EQ(o.holes.size(), 18u);
  EXPECT_EQ(o.instructions, 69'183u);
  EXPECT_EQ(o.exit_count(ExitReason::PrivilegedInsn), 14u);
  EXPECT_EQ(o.exit_total, 5'603u);
}

TEST(TrapHoles, CliReportsTrappedSitesAndCauses) {
  CommandResult r = run_command(kCli + " run --mode trap --holes trap --serial none --trace /dev/stdout " +
                                sample_binary("holes.elf"));
  EXPECT_EQ(r.status, 47);
  EXPECT_EQ(r.err,
            "vtlab: trap: 31 sensitive-but-unprivileged sites trapped (36 traps), as a classically virtualizable "
            "x86 would (--holes trap)\n");
  EXPECT_NE(r.out.find("\"reason\":\"privileged-insn\",\"key\":608,\"rip\":1048619,\"cpl\":0,\"cost\":2000,"
                       "\"cause\":\"POPFD at CPL 1 is a virtualization hole (silently drops IF): with --holes trap it "
                       "traps as if privileged\"}"),
            std::string::npos)
      << r.out;
}

TEST(TrapHoles, OptionNeedsTrapModeAndExcludesStrictHoles) {
  CommandResult a = run_command(kCli + " run --mode bt --holes trap --serial none " + sample_binary("holes.elf"));
  EXPECT_EQ(a.status, 2);
  EXPECT_NE(a.err.find("--holes"), std::string::npos) << a.err;
  CommandResult b = run_command(kCli + " run --mode trap --holes trap --strict-holes --serial none " +
                                sample_binary("holes.elf"));
  EXPECT_EQ(b.status, 2);
  EXPECT_NE(b.err.find("--strict-holes has none to stop at"), std::string::npos) << b.err;
  CommandResult c = run_command(kCli + " run --mode trap --holes maybe --serial none " + sample_binary("holes.elf"));
  EXPECT_EQ(c.status, 2);
}

// In compare, --holes is the trap column's policy; the other modes run as
// always (the native reference would refuse it otherwise).
TEST(TrapHoles, CompareAppliesItToTheTrapColumn) {
  CommandResult r = run_command(kCli + " compare --format json --modes trap,bt --holes trap " +
                                sample_binary("holes.elf"));
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const auto& m : j["modes"]) {
    SCOPED_TRACE(m["mode"].get<std::string>());
    EXPECT_EQ(m["transcript_matches_native"], true);
  }
  EXPECT_EQ(j["modes"][1]["mode"], "trap");
  EXPECT_EQ(j["modes"][1]["holes"].size(), 0u);
  EXPECT_EQ(j["modes"][1]["exits"]["by_reason"]["privileged-insn"]["count"], 45);
}

}  // namespace vtlab::test
