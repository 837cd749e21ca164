// samples/minios booted on the real machine: the multitasking guest every
// virtualization mode must run unchanged.  Its transcript was recorded from
// qemu-system-i386 (TCG, also identical with -icount shift=0..7), so this
// needs the PIC, the PIT and SYSENTER (with CPUID.SEP on a signature that
// is not an early Pentium Pro) to match.  Its exit status is
// (0x21 << 1) | 1 = 67; any failed self-check exits with 95, a kernel panic
// with 125.
#include <gtest/gtest.h>

#include "support/boot.h"

namespace vtlab::test {

namespace {
const std::string kMiniOs = std::string(VTLAB_SAMPLES_DIR) + "/minios.elf";
const std::string kExpected = std::string(VTLAB_GUESTS_SRC_DIR) + "/../../samples/minios/expected.txt";
constexpr uint64_t kBudget = 50'000'000;  // a few million instructions plus idle time
}  // namespace

TEST(MiniOs, MatchesQemuTranscriptAndStatus) {
  BootOutcome o = boot_kernel(kMiniOs, "", kBudget);
  EXPECT_EQ(o.serial, read_text_file(kExpected));
  ASSERT_EQ(o.result.reason, StopReason::GuestExit) << o.result.detail;
  EXPECT_EQ(o.result.guest_status, 67u);
  // Exact, because virtual time makes it so: instructions retired, and
  // virtual time (which adds ~100 exceptions and interrupts delivered and
  // the time the idle loop slept in HLT until the next PIT tick).
  EXPECT_EQ(o.instructions, 8'091'955u);
  EXPECT_EQ(o.result.virtual_time, 8'416'647u);
}

// The timer interleaves four processes: on virtual time the interleaving,
// and so the instruction count, must be the same on every run.
TEST(MiniOs, TwoRunsAreIdentical) {
  BootOutcome a = boot_kernel(kMiniOs, "", kBudget);
  BootOutcome b = boot_kernel(kMiniOs, "", kBudget);
  EXPECT_EQ(a.result.reason, StopReason::GuestExit) << a.result.detail;
  EXPECT_EQ(a.instructions, b.instructions);
  EXPECT_EQ(a.serial, b.serial);
  EXPECT_EQ(a.result.reason, b.result.reason);
}

}  // namespace vtlab::test
