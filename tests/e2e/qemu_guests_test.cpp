// Kernels in tests/guests/ were written for QEMU's i386 PC, in styles
// unlike the samples; their expected serial bytes and exit status were
// recorded from qemu-system-i386 (TCG).  vtlab must reproduce both exactly.
// A case "<kernel>.<variant>" (e.g. suite_segmentation.strict) boots
// <kernel> with the variant's own .args; its .expected is written from the
// SDM where QEMU deviates (see tests/guests/README.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

#include "support/boot.h"
#include "support/guest_cases.h"

namespace vtlab::test {

namespace {

class QemuGuest : public ::testing::TestWithParam<GuestCase> {};

TEST_P(QemuGuest, SameSerialBytesAndExitStatusAsQemu) {
  const GuestCase& c = GetParam();
  const std::string name = c.name;
  const std::string src = guest_source(c);
  const std::string kernel = guest_kernel(c);
  ASSERT_TRUE(file_exists(kernel)) << "guest not built: " << kernel;

  const std::string expected = read_text_file(src + ".expected");
  const int status = guest_status(c);
  const std::string cmdline = guest_cmdline(c);

  BootOutcome o = boot_kernel(kernel, cmdline);
  // <name>.pending: vtlab does not model a feature the guest needs yet.  Until
  // it does, the run must stop as "unsupported" after a prefix of the expected
  // output; once it runs through, the file has to go.  A kernel's .pending
  // covers its variants too.
  if (guest_pending(c)) {
    ASSERT_NE(o.result.reason, StopReason::GuestExit)
        << "runs to the end now: delete " << name << ".pending";
    EXPECT_EQ(o.result.reason, StopReason::Unsupported) << o.result.detail;
    EXPECT_EQ(expected.compare(0, o.serial.size(), o.serial), 0) << "output is no prefix of the recording:\n"
                                                                 << o.serial;
    return;
  }
  EXPECT_EQ(o.serial, expected) << "stop: " << o.result.detail;
  ASSERT_EQ(o.result.reason, StopReason::GuestExit) << o.result.detail;
  EXPECT_EQ(static_cast<int>(o.result.guest_status & 0xFF), status);
  // Port 0xE9 output, where QEMU's -debugcon was recorded too.
  if (file_exists(src + ".debugcon")) {
    EXPECT_EQ(o.debugcon, read_text_file(src + ".debugcon"));
  }
}

INSTANTIATE_TEST_SUITE_P(Recorded, QemuGuest, ::testing::ValuesIn(discover_guest_cases()),
                         [](const ::testing::TestParamInfo<GuestCase>& i) {
                           std::string n = i.param.name;
                           std::replace(n.begin(), n.end(), '.', '_');
                           return n;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(QemuGuest);

}  // namespace

}  // namespace vtlab::test
