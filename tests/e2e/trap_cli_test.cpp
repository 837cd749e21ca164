// `vtlab run --mode trap` and `vtlab compare` with trap, as a user runs them.
#include <gtest/gtest.h>

#include "support/boot.h"

namespace vtlab::test {

namespace {
const std::string kCli = VTLAB_CLI;
const std::string kSamples = VTLAB_SAMPLES_DIR;
}  // namespace
// (used again below)

TEST(TrapCli, RunListsTheHolesAfterTheGuestExits) {
  CommandResult r = run_command(kCli + " run --mode trap --serial none " + kSamples + "/holes.elf");
  EXPECT_EQ(r.status, 47);
  EXPECT_EQ(r.err.rfind("vtlab: trap: 18 virtualization holes found\n", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("  hole at 0x00101904  sgdt [eax]               got stored 0xffc00000 at 0x00106fd6; "
                       "bare metal: stored 0x00107310 at 0x00106fd6\n"),
            std::string::npos)
      << r.err;
}

TEST(TrapCli, StrictHolesStopsAtTheFirst) {
  CommandResult r = run_command(kCli + " run --mode trap --strict-holes --serial none " + kSamples + "/holes.elf");
  EXPECT_EQ(r.status, 8);  // unsupported
  EXPECT_NE(r.err.find("vtlab: unsupported: virtualization hole at 0x001018aa (mov ax, cs): got EAX 0x00000009; "
                       "bare metal: EAX 0x00000008 (--strict-holes)"),
            std::string::npos)
      << r.err;
}

TEST(TrapCli, StatsCarryTheMonitorAndItsHoles) {
  CommandResult r = run_command(kCli + " run --mode trap --serial none --stats - " + kSamples + "/holes.elf");
  EXPECT_NE(r.out.find("\"monitor\": \"trap\""), std::string::npos);
  EXPECT_NE(r.out.find("\"bare_metal\": \"ZF 0\""), std::string::npos);
  EXPECT_NE(r.out.find("\"sti\": 2"), std::string::npos) << r.out;  // privileged-insn keys are instruction names
}

// Two compares of minios give byte-identical JSON, and trap's and bt's
// transcripts match native's.
TEST(TrapCli, CompareJsonIsByteIdenticalAcrossRuns) {
  const std::string cmd = kCli + " compare --modes native,trap,bt --format json " + kSamples + "/minios.elf";
  CommandResult a = run_command(cmd);
  CommandResult b = run_command(cmd);
  EXPECT_EQ(a.status, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.out.find("\"mode\": \"trap\""), std::string::npos);
  EXPECT_NE(a.out.find("\"mode\": \"bt\""), std::string::npos);
  EXPECT_EQ(a.out.find("\"transcript_matches_native\": false"), std::string::npos);
  EXPECT_NE(a.out.find("\"total\": 11876"), std::string::npos) << a.out;
}

}  // namespace vtlab::test

namespace vtlab::test {

TEST(BtCli, BtLogShowsGuestCodeBesideItsTranslation) {
  const std::string log = ::testing::TempDir() + "/vtlab-bt.log";
  CommandResult r =
      run_command(kCli + " run --mode bt --serial none --bt-log " + log + " " + kSamples + "/minios.elf");
  EXPECT_EQ(r.status, 67) << r.err;
  const std::string text = read_text_file(log);
  EXPECT_EQ(text.rfind("translated kernel block at 0x0010000c (physical 0x0010000c), 9 instructions:\n"
                       "  0x0010000c  cli                              inline   virtual IF := 0\n"
                       "  0x0010000d  cld                              ident    runs as written\n",
                       0),
            0u)
      << text.substr(0, 400);
  EXPECT_EQ(run_command(kCli + " run --bt-log " + log + " " + kSamples + "/minios.elf").status, 2);
  CommandResult holes = run_command(kCli + " run --mode bt --serial none " + kSamples + "/holes.elf");
  EXPECT_EQ(holes.status, 47);
  EXPECT_EQ(holes.err,
            "vtlab: bt: no virtualization holes: the kernel's sensitive instructions run translated, on the "
            "virtual CPU\n");
}

// An exit's modelled cost can carry virtual time past --max-insns within
// one slice: the run still stops there (the budget used to wrap around and
// the guest ran to its end).
TEST(TrapCli, MaxInsnsStopsAMonitoredRunThoughAnExitCostCarriesPastIt) {
  const CommandResult r =
      run_command(kCli + " run --mode trap --serial none --max-insns 9000000 " + kSamples + "/minios.elf");
  EXPECT_EQ(r.status, 4) << r.err;
  EXPECT_NE(r.err.find("max-insns"), std::string::npos) << r.err;
}

}  // namespace vtlab::test
