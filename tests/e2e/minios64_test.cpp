// samples/minios64 booted on the real machine: the 64-bit teaching kernel.
// Its transcript was recorded from qemu-system-x86_64 (TCG; identical over
// runs and with -icount shift=0/4/7); vtlab must print the same bytes.
// Exit status (0x21 << 1) | 1 = 67; a failed self-check gives 95, a panic 125.
#include <gtest/gtest.h>

#include "support/boot.h"

namespace vtlab::test {

namespace {
const std::string kMiniOs64 = sample_binary("minios64.elf");
const std::string kExpected = sample_source("minios64/expected.txt");
constexpr uint64_t kBudget = 200'000'000;  // ~25 M instructions plus idle time
}  // namespace

TEST(MiniOs64, TranscriptRecordedAndGuestBuilt) {
  ASSERT_TRUE(file_exists(kMiniOs64)) << "guest not built: " << kMiniOs64;
  const std::string expected = read_text_file(kExpected);
  EXPECT_EQ(expected.rfind("minios64: a small 64-bit kernel", 0), 0u);
  EXPECT_NE(expected.find("\nminios64: all checks passed, exit code 0x21\n"), std::string::npos);
  EXPECT_EQ(expected.find("FAILED"), std::string::npos);
}

TEST(MiniOs64, MatchesQemuTranscriptAndStatus) {
  const std::string expected = read_text_file(kExpected);
  BootOutcome o = boot_kernel(kMiniOs64, "", kBudget);
  EXPECT_EQ(o.serial, expected);
  ASSERT_EQ(o.result.reason, StopReason::GuestExit) << o.result.detail;
  EXPECT_EQ(o.result.guest_status, 67u);
  // Exact, because virtual time makes it so (preemption included).
  EXPECT_EQ(o.instructions, 17'301'330u);
  EXPECT_EQ(o.result.virtual_time, 17'425'943u);
}

// The timer interleaves the processes: on virtual time the interleaving,
// and so the instruction count, must be the same on every run.
TEST(MiniOs64, TwoRunsAreIdentical) {
  BootOutcome a = boot_kernel(kMiniOs64, "", kBudget);
  BootOutcome b = boot_kernel(kMiniOs64, "", kBudget);
  EXPECT_EQ(a.instructions, b.instructions);
  EXPECT_EQ(a.serial, b.serial);
  EXPECT_EQ(a.result.reason, b.result.reason);
}

}  // namespace vtlab::test
