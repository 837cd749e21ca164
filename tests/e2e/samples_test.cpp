// The sample guests booted on the real machine: exact serial bytes, exit
// status and instruction counts (virtual time makes counts exact; a change
// in them is a change in behaviour and must be explained).
#include <gtest/gtest.h>

#include "support/boot.h"

namespace vtlab::test {

namespace {
const std::string kSamples = VTLAB_SAMPLES_DIR;
const std::string kSamplesSrc = std::string(VTLAB_GUESTS_SRC_DIR) + "/../../samples";
}  // namespace

TEST(Samples, HelloPrintsAndExits) {
  BootOutcome o = boot_kernel(kSamples + "/hello.elf");
  EXPECT_EQ(o.serial, "Hello from vtlab guest!\n");
  ASSERT_EQ(o.result.reason, StopReason::GuestExit) << o.result.detail;
  EXPECT_EQ(o.result.guest_status, 1u);
  EXPECT_EQ(o.serial, read_text_file(kSamplesSrc + "/hello/expected.txt"));
  EXPECT_EQ(o.instructions, 415u);
}

TEST(Samples, HelloIsDeterministic) {
  BootOutcome a = boot_kernel(kSamples + "/hello.elf");
  BootOutcome b = boot_kernel(kSamples + "/hello.elf");
  EXPECT_EQ(a.instructions, b.instructions);
  EXPECT_EQ(a.serial, b.serial);
}

TEST(Samples, IsaTestAllPass) {
  BootOutcome o = boot_kernel(kSamples + "/isatest.elf");
  EXPECT_EQ(o.serial.find("FAIL"), std::string::npos) << o.serial;
  EXPECT_EQ(o.serial, read_text_file(kSamplesSrc + "/isatest/expected.txt"));
  ASSERT_EQ(o.result.reason, StopReason::GuestExit) << o.result.detail;
  EXPECT_EQ(o.result.guest_status, 1u);  // zero failures
  EXPECT_EQ(o.instructions, 159397u);
}

// The speed workload (integer mix, paging on) gives QEMU's answer; its
// transcript was recorded from qemu-system-i386.
TEST(Samples, CpuBoundMatchesQemu) {
  BootOutcome o = boot_kernel(kSamples + "/cpubound.elf", "rounds=1");
  EXPECT_EQ(o.serial, read_text_file(kSamplesSrc + "/cpubound/expected.txt"));
  ASSERT_EQ(o.result.reason, StopReason::GuestExit) << o.result.detail;
  EXPECT_EQ(o.result.guest_status, 1u);
  EXPECT_EQ(o.instructions, 11275556u);
}

}  // namespace vtlab::test
