// samples/micro under every mode: each workload's transcript is QEMU's
// (native) and native's (trap, bt), and the exits one iteration costs are
// exact.  Per iteration = (count at n=20 - count at n=10) / 10: boot,
// printing and first-time costs (translations, shadow fills of the code)
// cancel out; the printed line has the same length for both n.  Why each
// count is what it is: docs/RESULTS.md.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "support/boot.h"

namespace vtlab::test {

namespace {

using PerIteration = std::map<ExitReason, uint64_t>;

struct Expectation {
  const char* workload;
  uint64_t instructions;  // retired per iteration, the same in every mode
  PerIteration trap, bt, hw;  // hw: the sim backend with its default controls and nested paging
};

constexpr auto kPriv = ExitReason::PrivilegedInsn;
constexpr auto kExc = ExitReason::GuestException;
constexpr auto kIo = ExitReason::Io;
constexpr auto kCr = ExitReason::CrAccess;
constexpr auto kInvlpg = ExitReason::Invlpg;
constexpr auto kPtWrite = ExitReason::PageTableWrite;
constexpr auto kHidden = ExitReason::HiddenPageFault;
constexpr auto kCallout = ExitReason::BtCallout;

const Expectation kExpected[] = {
    // INT 0x80 is reflected through the guest's IDT (trap and bt); the
    // handler's IRET to ring 3 runs direct at ring 1 under trap, and is a
    // callout in bt's translation.
    // hw: nothing exits; the guest owns its IDT and rings.
    {"int80", 10, {{kExc, 1}}, {{kExc, 1}, {kCallout, 1}}, {}},
    // SYSENTER from ring 3 traps in both (SYSENTER_CS is 0 in the real MSR);
    // SYSEXIT from ring 1 traps under trap and is a callout under bt.
    // hw: the SYSENTER MSRs are the guest's; nothing exits.
    {"sysenter", 12, {{kPriv, 2}}, {{kPriv, 1}, {kCallout, 1}}, {}},
    // #PF reflected; MOV from CR2 and the IRET to RPL 0 in the handler and
    // the kernel's INVLPG each trap (bt: callouts, plus one for the unmapping
    // PTE store, retranslated after four trace faults; under trap that store
    // stays a page-table-write); three shadow fills (--trace): the handler's
    // PTE store, the retried read, the write after it.
    {"pagefault", 55, {{kExc, 1}, {kCr, 1}, {kPriv, 1}, {kInvlpg, 1}, {kPtWrite, 1}, {kHidden, 3}},
     {{kExc, 1}, {kCallout, 4}, {kHidden, 3}},
     {}},  // hw with EPT: the guest's own #PF, CR2 and INVLPG, no exit
    // OUT 0x70 and IN 0x71: two I/O exits, or two callouts.
    {"cmos", 8, {{kIo, 2}}, {{kCallout, 2}}, {{kIo, 2}}},  // the I/O bitmap covers every port
    // MOV to CR3 drops the one shadow table: the code page and the data page
    // fill again.
    {"cr3", 9, {{kCr, 1}, {kHidden, 2}}, {{kCallout, 1}, {kHidden, 2}}, {}},  // no CR3-load exiting with EPT
    // CLI and STI trap at IOPL 0, OUT exits; bt runs CLI and STI inline.
    {"pic-mask", 6, {{kPriv, 2}, {kIo, 1}}, {{kCallout, 1}}, {{kIo, 1}}},  // CLI/STI run unexited
    // Nothing sensitive: no exit in any mode.
    {"call", 11, {}, {}, {}},
    // Two CR3 loads, each dropping the shadow; eighteen fills rebuild it
    // (code, stack, the child's pages, the tables being zeroed and filled).
    {"forkwait", 145, {{kCr, 2}, {kHidden, 18}}, {{kCallout, 2}, {kHidden, 18}}, {}},
};

BootOutcome boot_micro(const std::string& workload, int n, const std::string& mode) {
  return boot_kernel(sample_binary("micro.elf"), "w=" + workload + " n=" + std::to_string(n), 50'000'000,
                     128ull << 20, mode);
}

// QEMU's line for this workload at n=10, from samples/micro/expected.txt.
std::string qemu_line(const std::string& workload) {
  std::istringstream lines(read_text_file(sample_source("micro/expected.txt")));
  const std::string prefix = "micro " + workload + " ";
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(prefix, 0) == 0) return line + "\n";
  return "(no line for " + workload + ")";
}

}  // namespace

TEST(MicroSuite, NativeTranscriptsAreQemus) {
  for (const Expectation& e : kExpected) {
    const BootOutcome o = boot_micro(e.workload, 10, "native");
    EXPECT_EQ(o.result.reason, StopReason::GuestExit) << e.workload;
    EXPECT_EQ(o.serial, qemu_line(e.workload));
  }
}

TEST(MicroSuite, AnUnknownWorkloadListsTheNames) {
  const BootOutcome o = boot_kernel(sample_binary("micro.elf"), "w=nope");
  EXPECT_EQ(o.serial, "micro: w=NAME n=N, NAME one of: int80 sysenter pagefault cmos cr3 pic-mask call forkwait\n");
}

TEST(MicroSuite, ExitsPerIterationAreExactInTrapBtAndHw) {
  for (const Expectation& e : kExpected) {
    for (const std::string mode : {"native", "trap", "bt", "hw"}) {
      SCOPED_TRACE(std::string(e.workload) + " " + mode);
      const BootOutcome a = boot_micro(e.workload, 10, mode);
      const BootOutcome b = boot_micro(e.workload, 20, mode);
      ASSERT_EQ(a.result.reason, StopReason::GuestExit);
      ASSERT_EQ(b.result.reason, StopReason::GuestExit);
      EXPECT_EQ(a.serial, boot_micro(e.workload, 10, "native").serial);
      EXPECT_EQ(b.instructions - a.instructions, e.instructions * 10);
      const PerIteration none;
      const PerIteration& want = mode == "trap" ? e.trap : mode == "bt" ? e.bt : mode == "hw" ? e.hw : none;
      for (size_t i = 0; i < kExitReasons; ++i) {
        const auto reason = static_cast<ExitReason>(i);
        const uint64_t diff = b.exit_count(reason) - a.exit_count(reason);
        const auto it = want.find(reason);
        EXPECT_EQ(diff, (it == want.end() ? 0 : it->second) * 10) << exit_reason_name(reason);
      }
    }
  }
}

TEST(MicroSuite, CompareSuiteJsonIsByteIdenticalAndEveryTranscriptMatches) {
  const std::string cmd = std::string(VTLAB_CLI) + " compare --suite micro --format json --append n=50 " +
                          sample_binary("micro.elf");
  const CommandResult a = run_command(cmd);
  const CommandResult b = run_command(cmd);
  EXPECT_EQ(a.status, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  size_t previous = 0;  // every workload, in the guest's order
  for (const Expectation& e : kExpected) {
    const size_t at = a.out.find(std::string("\"workload\": \"") + e.workload + "\"");
    ASSERT_NE(at, std::string::npos) << e.workload;
    EXPECT_GT(at, previous) << e.workload;
    previous = at;
  }
  EXPECT_NE(a.out.find("\"ratio_to_native\": 1.0"), std::string::npos);
  EXPECT_EQ(a.out.find("\"transcript_matches_native\": false"), std::string::npos);
  EXPECT_EQ(a.out.find("host"), std::string::npos);
}

// --repeat runs each mode again (figures must agree) and --output writes
// the report where stdout would have had it.
TEST(MicroSuite, CompareSuiteRepeatAndOutputGiveTheSameJson) {
  const std::string base = std::string(VTLAB_CLI) + " compare --suite micro --modes bt --format json --append n=5 " +
                           sample_binary("micro.elf");
  const std::string file = testing::TempDir() + "micro_compare.json";
  const CommandResult once = run_command(base);
  const CommandResult repeated = run_command(base + " --repeat 2 --output " + file);
  EXPECT_EQ(repeated.status, 0) << repeated.err;
  EXPECT_EQ(repeated.out, "");
  EXPECT_EQ(read_text_file(file), once.out);
  EXPECT_NE(once.out.find("\"mode\": \"bt\""), std::string::npos);
  EXPECT_EQ(once.out.find("\"mode\": \"trap\""), std::string::npos);
}

TEST(MicroSuite, CompareSuiteWithoutItsGuestFailsWithOneLine) {
  const CommandResult r =
      run_command(std::string(VTLAB_CLI) + " compare --suite micro /nonexistent/micro.elf");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "vtlab: /nonexistent/micro.elf: micro suite guest not found (build the vtlab_guests target, or "
                   "name it as KERNEL)\n");
}

}  // namespace vtlab::test
