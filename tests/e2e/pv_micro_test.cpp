// samples/micro's paravirtual build (micro-pv.elf) under `pv`: each
// workload that applies prints native's line (samples/micro/expected.txt)
// and costs exactly these exits per iteration; the ones a pv kernel cannot
// do (SYSENTER, port I/O, an 8259A mask) say so and exit with 2.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "support/boot.h"

namespace vtlab::test {

namespace {
struct PerIteration {
  const char* workload;
  std::map<ExitReason, uint64_t> exits;
};

// int80: the fast trap, no exit; pagefault: the #PF, then mmu-update to map
// and to unmap; cr3: one new-baseptr; forkwait: seal-and-switch and
// switch-back-and-unseal, one multicall each; call: nothing.
const PerIteration kPv[] = {
    {"int80", {}},
    {"pagefault", {{ExitReason::GuestException, 1}, {ExitReason::Hypercall, 2}}},
    {"cr3", {{ExitReason::Hypercall, 1}}},
    {"call", {}},
    {"forkwait", {{ExitReason::Hypercall, 2}}},
};

BootOutcome run(const std::string& workload, unsigned n) {
  return boot_kernel(sample_binary("micro-pv.elf"), "w=" + workload + " n=" + std::to_string(n), 10'000'000,
                     128ull << 20, "pv");
}

std::string expected_line(const std::string& workload) {
  std::istringstream in(read_text_file(sample_source("micro/expected.txt")));
  for (std::string line; std::getline(in, line);)
    if (line.rfind("micro " + workload + " ", 0) == 0) return line + "\n";
  return "";
}
}  // namespace

TEST(PvMicro, EachWorkloadPrintsNativesLineWithExactExitsPerIteration) {
  for (const PerIteration& w : kPv) {
    SCOPED_TRACE(w.workload);
    const BootOutcome a = run(w.workload, 10), b = run(w.workload, 20);
    ASSERT_EQ(a.result.reason, StopReason::GuestExit) << a.result.detail;
    EXPECT_EQ(a.result.guest_status, 1u);
    EXPECT_EQ(a.serial, expected_line(w.workload));
    for (size_t i = 0; i < kExitReasons; ++i) {
      const auto reason = static_cast<ExitReason>(i);
      const auto it = w.exits.find(reason);
      EXPECT_EQ(b.exit_count(reason) - a.exit_count(reason), (it == w.exits.end() ? 0 : it->second) * 10)
          << exit_reason_name(reason);
    }
  }
}

TEST(PvMicro, SetUpCostsSixHypercalls) {
  const BootOutcome o = run("call", 10);
  EXPECT_EQ(o.exit_total, 6u);  // shared info, descriptors (a multicall), trap table, paging, console, shutdown
  EXPECT_EQ(o.exit_count(ExitReason::Hypercall), 6u);
}

TEST(PvMicro, WorkloadsAPvKernelCannotRunSaySo) {
  for (const char* w : {"sysenter", "cmos", "pic-mask"}) {
    const BootOutcome o = run(w, 10);
    EXPECT_EQ(o.serial, std::string("micro ") + w + ": does not apply under pv\n");
    EXPECT_EQ(o.result.guest_status, 5u);  // (2 << 1) | 1
  }
}

}  // namespace vtlab::test
