// samples/minios64 booted with syscall=ud2 in the interpreter: the user
// image's SYSCALLs become UD2 and the #UD handler runs the calls, with the
// same transcript as the default SYSCALL path (which KVM on kvm_pvm needs;
// docs/KVM.md).  The debug console says the patch happened.
#include <gtest/gtest.h>

#include "support/boot.h"

namespace vtlab::test {

TEST(MiniOs64Ud2, SameTranscriptAsSyscallAndANote) {
  const BootOutcome o = boot_kernel(sample_binary("minios64.elf"), "syscall=ud2", 200'000'000);
  EXPECT_EQ(o.serial, read_text_file(sample_source("minios64/expected.txt")));
  ASSERT_EQ(o.result.reason, StopReason::GuestExit) << o.result.detail;
  EXPECT_EQ(o.result.guest_status, 67u);
  EXPECT_EQ(o.debugcon,
            "minios64: syscall=ud2: every SYSCALL in the user image is now UD2; #UD from ring 3 runs the system "
            "call and returns by IRETQ\n");
  // Exact, as the default path's 17,301,330 (tests/e2e/minios64_test.cpp):
  // the patch and the #UD path through trap_common cost 1,992 more.
  EXPECT_EQ(o.instructions, 17'303'322u);
}

TEST(MiniOs64Ud2, DefaultBootLeavesSyscallAlone) {
  const BootOutcome o = boot_kernel(sample_binary("minios64.elf"), "", 200'000'000);
  EXPECT_EQ(o.debugcon, "");
  EXPECT_EQ(o.result.guest_status, 67u);
}

}  // namespace vtlab::test
