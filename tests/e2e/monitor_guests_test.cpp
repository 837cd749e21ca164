// The kernels in tests/guests/ (written for QEMU, unlike the samples) under
// the ring-1 monitors.  `bt` closes the kernel's holes, so each prints what
// QEMU recorded, except where direct execution of user code shows the real
// IOPL (suite_iopl) and where the monitors refuse a guest (PAE paging, a
// return to real mode).  `trap` leaves the holes open: the self-checking
// suites report exactly which checks ring 1 got wrong.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "support/boot.h"
#include "support/guest_cases.h"

namespace vtlab::test {

namespace {
constexpr uint64_t kBudget = 500'000'000;

BootOutcome boot_case(const GuestCase& c, const std::string& mode) {
  return boot_kernel(guest_kernel(c), guest_cmdline(c), kBudget, 128ull << 20, mode);
}

// "FAIL name: ..." lines, by check name.
std::vector<std::string> failed_checks(const std::string& serial) {
  std::vector<std::string> out;
  std::istringstream in(serial);
  for (std::string l; std::getline(in, l);)
    if (l.rfind("FAIL ", 0) == 0) out.push_back(l.substr(5, l.find(':') - 5));
  return out;
}

// PAE paging (long mode needs it too) or CR0.PE cleared: the monitors refuse
// both; or a feature vtlab lacks altogether (<kernel>.pending).
bool refused(const GuestCase& c) {
  for (const char* prefix : {"suite_paging", "suite_segmentation", "long_mode"})
    if (c.name.rfind(prefix, 0) == 0) return true;
  return guest_pending(c);
}

class MonitorGuest : public ::testing::TestWithParam<GuestCase> {};
}  // namespace

TEST_P(MonitorGuest, BtPrintsWhatQemuRecorded) {
  const GuestCase& c = GetParam();
  const std::string expected = read_text_file(guest_source(c) + ".expected");
  BootOutcome o = boot_case(c, "bt");
  if (refused(c)) {  // PAE paging, or CR0.PE cleared: a one-line refusal, after a prefix
    EXPECT_EQ(o.result.reason, StopReason::Unsupported) << o.result.detail;
    EXPECT_EQ(expected.compare(0, o.serial.size(), o.serial), 0) << o.serial;
    return;
  }
  ASSERT_EQ(o.result.reason, StopReason::GuestExit) << o.result.detail;
  if (c.name == "suite_iopl") {
    // Guest user code runs as written at ring 3 with the real IOPL 0, so
    // its own POPF, PUSHF and IRET see IOPL 0 where its kernel set 3 (CLI
    // and STI fault, and the monitor emulates them with the guest's IOPL).
    const std::vector<std::string> user_iopl = {
        "iopl.popf_cpl3_iopl0_keeps_if_iopl",
        "iopl.popf_cpl3_iopl3_sets_if_keeps_iopl", "iopl.pushf_cpl3_reads_iopl",
        "iopl.iret_cpl3_iopl0_keeps_if_iopl",      "iopl.iret_cpl3_iopl3_sets_if_keeps_iopl",
        "iopl.iret_from_ring0_sets_iopl1"};
    EXPECT_EQ(failed_checks(o.serial), user_iopl);
    return;
  }
  EXPECT_EQ(o.serial, expected);
  EXPECT_EQ(static_cast<int>(o.result.guest_status & 0xFF), guest_status(c));
  EXPECT_TRUE(o.holes.empty());
}

TEST_P(MonitorGuest, TrapGetsExactlyTheHolesWrong) {
  const GuestCase& c = GetParam();
  BootOutcome o = boot_case(c, "trap");
  if (refused(c)) {
    EXPECT_EQ(o.result.reason, StopReason::Unsupported) << o.result.detail;
    return;
  }
  ASSERT_EQ(o.result.reason, StopReason::GuestExit) << o.result.detail;
  // How many of each suite's checks ring 1 answers differently; every one
  // is a hole the detector also names (its list is in the run's summary).
  static const std::map<std::string, size_t> wrong = {
      {"suite_gates", 6}, {"suite_gates.strict", 6}, {"suite_interrupts", 2}, {"suite_interrupts.strict", 2},
      {"suite_iopl", 11}, {"suite_tasks", 4}};
  const auto it = wrong.find(c.name);
  EXPECT_EQ(failed_checks(o.serial).size(), it == wrong.end() ? 0u : it->second) << o.serial;
  if (it != wrong.end()) {
    EXPECT_FALSE(o.holes.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Recorded, MonitorGuest, ::testing::ValuesIn(discover_guest_cases()),
                         [](const ::testing::TestParamInfo<GuestCase>& i) {
                           std::string n = i.param.name;
                           std::replace(n.begin(), n.end(), '.', '_');
                           return n;
                         });

}  // namespace vtlab::test
