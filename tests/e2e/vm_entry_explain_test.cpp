// Failed VM entries through the CLI: each check of SDM vol. 3C, 27.3.1.5
// and 27.2.1.3 that privilege/hw_sim/vm_entry.cpp adds, reached from
// `--vmcs-set`, stops the run before the first instruction with the field,
// its value and the check (tests/privilege/vm_entry_test.cpp has every
// check; these show the words a user reads).
#include <gtest/gtest.h>

#include "support/boot.h"

namespace vtlab::test {
namespace {

const std::string kCli = VTLAB_CLI;

CommandResult enter(const std::string& settings) {
  return run_command(kCli + " run --mode hw --serial none " + settings + " " + sample_binary("hello.elf"));
}

const std::string kStop = "vtlab: unsupported: hw-sim: ";
const std::string kAt = " (after 0 instructions, at 0008:0010000c)\n";

TEST(VmEntryExplained, GuestNonRegisterStateNamesTheCheck) {
  CommandResult r = enter("--vmcs-set vmcs_link_pointer=0x5000");
  EXPECT_EQ(r.status, 8);
  EXPECT_EQ(r.err, kStop +
                       "VM entry failed with basic exit reason 33 (VM-entry failure due to invalid guest state): "
                       "vmcs_link_pointer = 0x5000: the 4 bytes it points at must hold the VMCS revision identifier, "
                       "with bit 31 equal to \"VMCS shadowing\" (0): vtlab keeps no VMCS regions in guest memory and "
                       "does not model VMCS shadowing, so the field must be FFFFFFFF_FFFFFFFFH (SDM 27.3.1.5 Checks on "
                       "Guest Non-Register State)" + kAt);
  r = enter("--vmcs-set guest_interruptibility_state=1");
  EXPECT_EQ(r.status, 8);
  EXPECT_EQ(r.err, kStop +
                       "VM entry failed with basic exit reason 33 (VM-entry failure due to invalid guest state): "
                       "guest_interruptibility_state = 0x1: bit 0 (blocking by STI) must be 0 while RFLAGS.IF is 0 "
                       "(guest_rflags = 0x2) (SDM 27.3.1.5 Checks on Guest Non-Register State)" + kAt);
  r = enter("--vmcs-set guest_rflags=0x20002");
  EXPECT_EQ(r.status, 8);
  EXPECT_EQ(r.err, kStop +
                       "VM entry failed with basic exit reason 33 (VM-entry failure due to invalid guest state): "
                       "guest_cs_base = 0x0: with RFLAGS.VM 1 (a virtual-8086 guest) the base must be the selector "
                       "shifted left 4 bits (0x80) (SDM 27.3.1.2 Checks on Guest Segment Registers)" + kAt);
}

TEST(VmEntryExplained, MsrLoadAreaIsCheckedThenRefusedAsNotModelled) {
  CommandResult r = enter("--vmcs-set vm_entry_msr_load_count=1 --vmcs-set vm_entry_msr_load_address=0x2004");
  EXPECT_EQ(r.status, 8);
  EXPECT_EQ(r.err, kStop +
                       "VM entry failed with VM-instruction error 7 (VM entry with invalid control field(s)): "
                       "vm_entry_msr_load_address = 0x2004: with a non-zero MSR-load count, bits 3:0 must be 0 "
                       "(16-byte aligned) (SDM 27.2.1.3 VM-Entry Control Fields)" + kAt);
  r = enter("--vmcs-set vm_entry_msr_load_count=1 --vmcs-set vm_entry_msr_load_address=0x2000");
  EXPECT_EQ(r.status, 8);
  EXPECT_EQ(r.err, kStop +
                       "VM entry stopped (not modelled by vtlab): vm_entry_msr_load_count = 0x1: loading MSRs on VM "
                       "entry is not modelled: the count must be 0 (SDM 27.4 Loading MSRs)" + kAt);
}

}  // namespace
}  // namespace vtlab::test
