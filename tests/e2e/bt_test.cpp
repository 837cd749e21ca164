// `bt` on whole guests: the kernel's code is translated, so minios prints
// what it prints on bare metal and samples/holes sees bare metal's answers
// at every site.  The counts are exact (virtual time): translations,
// callouts by instruction, trace faults, retranslations, flushes.
#include <gtest/gtest.h>

#include "support/boot.h"

namespace vtlab::test {

namespace {
constexpr uint64_t kBudget = 100'000'000;
}  // namespace

TEST(BtMode, MiniOsPrintsTheNativeTranscriptWithExactCounts) {
  BootOutcome o = boot_kernel(sample_binary("minios.elf"), "", kBudget, 128ull << 20, "bt");
  EXPECT_EQ(o.serial, read_text_file(sample_source("minios/expected.txt")));
  ASSERT_EQ(o.result.reason, StopReason::GuestExit) << o.result.detail;
  EXPECT_EQ(o.result.guest_status, 67u);
  EXPECT_EQ(o.instructions, 8'095'844u);
  EXPECT_EQ(o.result.virtual_time, 15'755'776u);
  EXPECT_EQ(o.exit_count(ExitReason::BtTranslate), 467u);  // 454 blocks + 13 retranslations
  EXPECT_EQ(o.exit_count(ExitReason::BtCallout), 10'499u);
  EXPECT_EQ(o.exit_count(ExitReason::PageTableWrite), 59u);  // trace faults before retranslation
  EXPECT_EQ(o.exit_count(ExitReason::TcFlush), 0u);
  // No trap on CLI/STI/POPF or port I/O from the kernel: those are inline
  // or callouts.  What still traps is user code (SYSENTER from ring 3).
  EXPECT_EQ(o.exit_count(ExitReason::Io), 0u);
  EXPECT_EQ(o.exit_count(ExitReason::PrivilegedInsn), 18u);
  EXPECT_EQ(o.exit_count(ExitReason::HiddenPageFault), 1'423u);
  EXPECT_EQ(o.exit_total, 12'604u);
  const std::map<std::string, uint64_t> counters = {
      {"blocks_translated", 454},  {"ident_instructions", 2041}, {"inline_instructions", 84},
      {"callout_instructions", 64}, {"inline_runs", 1694},       {"callout_runs", 10499},
      {"retranslations", 13},      {"tc_flushes", 0}};
  EXPECT_EQ(o.counters, counters);
}

// Every hole is closed by translation: the guest's own lines say ok, and
// it runs exactly as many instructions as on bare metal.
TEST(BtMode, HolesGuestGetsBareMetalAnswersEverywhere) {
  BootOutcome o = boot_kernel(sample_binary("holes.elf"), "", kBudget, 128ull << 20, "bt");
  EXPECT_EQ(o.serial, read_text_file(sample_source("holes/expected.txt")));
  ASSERT_EQ(o.result.reason, StopReason::GuestExit) << o.result.detail;
  EXPECT_EQ(o.instructions, 68'194u);
  EXPECT_TRUE(o.holes.empty());
  EXPECT_EQ(o.counters.at("blocks_translated"), 228u);
  EXPECT_EQ(o.counters.at("inline_instructions"), 34u);
}

// A translation cache of 128 kernel blocks is flushed 8 times during
// minios; the guest cannot tell.
TEST(BtMode, ASmallTranslationCacheFlushesAndTheGuestCannotTell) {
  BootOutcome o = boot_kernel(sample_binary("minios.elf"), "", kBudget, 128ull << 20, "bt",
                              [](MachineConfig& c) { c.bt_tc_blocks = 128; });
  EXPECT_EQ(o.serial, read_text_file(sample_source("minios/expected.txt")));
  EXPECT_EQ(o.exit_count(ExitReason::TcFlush), 8u);
  EXPECT_EQ(o.counters.at("tc_flushes"), 8u);
  EXPECT_EQ(o.counters.at("blocks_translated"), 1093u);
}

}  // namespace vtlab::test
