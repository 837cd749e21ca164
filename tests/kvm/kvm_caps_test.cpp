// The capability probe (core/kvm/kvm_caps.h) on this host: the questions
// every usable KVM must answer yes to, and, on kvm_pvm, the limits the
// design notes list (measured there, so a change of host module shows up).
#include <gtest/gtest.h>

#include "kvm/kvm_fixture.h"
#include "support/boot.h"

namespace vtlab::test {

TEST(KvmCaps, EveryUsableHostRunsFlatAndLongModeCode) {
  SKIP_WITHOUT_KVM();
  const KvmCaps& c = host_kvm();
  EXPECT_EQ(c.api_version, 12);
  EXPECT_NE(c.user_memory, 0);
  EXPECT_TRUE(c.cpl0_32.ran) << c.cpl0_32.note;
  EXPECT_TRUE(c.long_cpl0.ran) << c.long_cpl0.note;
  EXPECT_TRUE(c.long_cpl3.ran) << c.long_cpl3.note;
  EXPECT_EQ(c.io_exit_samples, 1000u);
  const std::string text = format_kvm_caps(c);
  EXPECT_EQ(text.rfind("/dev/kvm: usable\n", 0), 0u) << text;
  EXPECT_NE(text.find("32-bit paging"), std::string::npos);
}

TEST(KvmCaps, KvmPvmLimitsAreTheMeasuredOnes) {
  SKIP_WITHOUT_KVM();
  const KvmCaps& c = host_kvm();
  if (c.module != "kvm_pvm") GTEST_SKIP() << "the host module is " << c.module << ", not kvm_pvm";
  EXPECT_TRUE(c.cpl0_emulated) << c.cpl0_32.note;
  EXPECT_TRUE(c.cpl3_native) << c.long_cpl3.note;
  EXPECT_FALSE(c.paging_32.ran) << c.paging_32.note;
  EXPECT_EQ(c.paging_32.note, "MOV CR0 with PG=1, EFER.LME=0: stopped with KVM exit shutdown");
  EXPECT_EQ(c.int_from_cpl3.note, "INT 0x80: raised #UD (seen at CPL 0)");
  EXPECT_EQ(c.syscall_from_cpl3.note, "SYSCALL: reached LSTAR (seen at CPL 3)");
  EXPECT_TRUE(c.single_step.ran) << c.single_step.note;
  EXPECT_EQ(c.guest_debug_hw_bps, 0);
  EXPECT_EQ(c.io_exit_emulated, 1001u);  // every OUT from CPL 3, and the last one
}

TEST(KvmCaps, InfoCommandPrintsTheProbe) {
  SKIP_WITHOUT_KVM();
  const CommandResult r = run_command(std::string(VTLAB_CLI) + " info");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("/dev/kvm: usable\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\nvtlab under --mode hw --hw-backend kvm: "), std::string::npos) << r.out;
}

}  // namespace vtlab::test
