// Kernels in tests/guests/ were written for QEMU's i386 PC, in styles
// unlike the samples; their expected serial bytes and exit status were
// recorded from qemu-system-i386 (TCG).  vtlab must reproduce both exactly.
// A case "<kernel>.<variant>" (e.g. suite_segmentation.strict) boots
// <kernel> with the variant's own .args; its .expected is written from the
// SDM where QEMU deviates (see tests/guests/README.md).
#include <gtest/gtest.h>

#include <dirent.h>

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

#include "support/boot.h"

namespace vtlab::test {

namespace {

struct GuestCase {
  std::string name;
};
void PrintTo(const GuestCase& c, std::ostream* os) { *os << c.name; }

std::vector<GuestCase> discover() {
  std::vector<GuestCase> cases;
  if (DIR* d = opendir(VTLAB_GUESTS_SRC_DIR)) {
    while (dirent* e = readdir(d)) {
      std::string f = e->d_name;
      const std::string ext = ".expected";
      if (f.size() > ext.size() && f.compare(f.size() - ext.size(), ext.size(), ext) == 0)
        cases.push_back({f.substr(0, f.size() - ext.size())});
    }
    closedir(d);
  }
  std::sort(cases.begin(), cases.end(), [](const GuestCase& a, const GuestCase& b) { return a.name < b.name; });
  return cases;
}

// The .args file holds extra arguments as given to vtlab/QEMU; today only
// --append "text" is used.
std::string cmdline_from_args(const std::string& args) {
  const std::string key = "--append";
  size_t k = args.find(key);
  if (k == std::string::npos) return "";
  size_t q1 = args.find('"', k);
  size_t q2 = q1 == std::string::npos ? q1 : args.find('"', q1 + 1);
  if (q2 == std::string::npos) return "";
  return args.substr(q1 + 1, q2 - q1 - 1);
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

class QemuGuest : public ::testing::TestWithParam<GuestCase> {};

TEST_P(QemuGuest, SameSerialBytesAndExitStatusAsQemu) {
  const std::string name = GetParam().name;
  const std::string src = std::string(VTLAB_GUESTS_SRC_DIR) + "/" + name;
  const std::string kname = name.substr(0, name.find('.'));
  std::string kernel = std::string(VTLAB_GUESTS_DIR) + "/" + kname + ".elf";
  if (!file_exists(kernel)) kernel = std::string(VTLAB_GUESTS_DIR) + "/" + kname + ".bin";
  ASSERT_TRUE(file_exists(kernel)) << "guest not built: " << kernel;

  const std::string expected = read_text_file(src + ".expected");
  const int status = std::stoi(trim(read_text_file(src + ".status")));
  const std::string cmdline = cmdline_from_args(read_text_file(src + ".args"));

  BootOutcome o = boot_kernel(kernel, cmdline);
  // <name>.pending: vtlab does not model a feature the guest needs yet.  Until
  // it does, the run must stop as "unsupported" after a prefix of the expected
  // output; once it runs through, the file has to go.
  if (file_exists(src + ".pending")) {
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

INSTANTIATE_TEST_SUITE_P(Recorded, QemuGuest, ::testing::ValuesIn(discover()),
                         [](const ::testing::TestParamInfo<GuestCase>& i) {
                           std::string n = i.param.name;
                           std::replace(n.begin(), n.end(), '.', '_');
                           return n;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(QemuGuest);

}  // namespace

}  // namespace vtlab::test
