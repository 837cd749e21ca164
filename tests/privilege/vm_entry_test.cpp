// VM entry's checks (privilege/hw_sim/vm_entry.h, SDM vol. 3C, chapter 27):
// a multiboot guest's state under KVM's controls enters; each bad field
// fails the first check it breaks, named with the field, its value and
// the SDM section, as a control (VM-instruction error 7), host-state
// (error 8) or guest-state (basic exit reason 33) failure; a non-zero
// MSR-load count that passes its checks stops as not modelled.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "core/cpu_state.h"
#include "privilege/hw_sim/vm_entry.h"

namespace vtlab::vmx {

namespace {
// What VM entry says for a multiboot guest with `settings` applied ("" when it enters).
std::string entry(const std::vector<std::string>& settings, bool nested = true) {
  CpuState s;
  reset_cpu_state(s);
  set_flat_protected_mode(s);
  Controls c = Controls::defaults(nested);
  for (const std::string& kv : settings) {
    const size_t eq = kv.find('=');
    c.set(kv.substr(0, eq), kv.substr(eq + 1));
  }
  const std::optional<EntryFailure> f = check_vm_entry(c, entry_controls(s, c), guest_state(s, c));
  return f ? f->text() : "";
}

const std::string kControl = "VM entry failed with VM-instruction error 7 (VM entry with invalid control field(s)): ";
const std::string kHost = "VM entry failed with VM-instruction error 8 (VM entry with invalid host-state field(s)): ";
const std::string kGuest = "VM entry failed with basic exit reason 33 (VM-entry failure due to invalid guest state): ";
}  // namespace

TEST(VmEntry, AMultibootGuestEntersUnderKvmsControls) {
  EXPECT_EQ(entry({}), "");
  EXPECT_EQ(entry({}, false), "");
  EXPECT_EQ(entry({"guest_activity_state=1"}), "");  // HLT with SS.DPL 0
}

TEST(VmEntry, ControlChecks) {
  const std::string s1 = " (SDM 27.2.1.1 VM-Execution Control Fields)";
  EXPECT_EQ(entry({"pin_based_controls=0x1"}),
            kControl + "pin_based_controls = 0x1: bit 1 must be 1: IA32_VMX_TRUE_PINBASED_CTLS allows it no 0-setting" + s1);
  EXPECT_EQ(entry({"pin_based_controls=0x37"}),
            kControl + "pin_based_controls = 0x37: bit 5 must be 0: IA32_VMX_TRUE_PINBASED_CTLS allows it no 1-setting "
                       "(reserved, or not modelled)" + s1);
  EXPECT_EQ(entry({"secondary_processor_based_controls=0xab"}),
            kControl + "secondary_processor_based_controls = 0xab: bit 0 must be 0: IA32_VMX_PROCBASED_CTLS2 allows it no "
                       "1-setting (reserved, or not modelled)" + s1);
  EXPECT_EQ(entry({"cr3_target_count=5"}),
            kControl + "cr3_target_count = 0x5: the CR3-target count must not be greater than 4" + s1);
  EXPECT_EQ(entry({"vpid=0"}), kControl + "vpid = 0x0: with \"enable VPID\" 1 the VPID must not be 0000H" + s1);
  EXPECT_EQ(entry({"ept_pointer=0x1019"}),
            kControl + "ept_pointer = 0x1019: the EPT paging-structure memory type (bits 2:0) must be 0 (UC) or 6 (WB), "
                       "as IA32_VMX_EPT_VPID_CAP bits 8 and 14 allow" + s1);
  EXPECT_EQ(entry({"ept_pointer=0x1026"}),
            kControl + "ept_pointer = 0x1026: bits 5:3 (EPT page-walk length - 1) must be 3: the modelled processor walks "
                       "4 levels (IA32_VMX_EPT_VPID_CAP bit 6)" + s1);
  EXPECT_EQ(entry({"ept_pointer=0x105e"}),
            kControl + "ept_pointer = 0x105e: bit 6 (accessed and dirty flags for EPT) must be 0: IA32_VMX_EPT_VPID_CAP bit "
                       "21 is 0 on the modelled processor" + s1);
  EXPECT_EQ(entry({"ept_pointer=0x100000101e"}),
            kControl + "ept_pointer = 0x100000101e: bits 63:36 (beyond MAXPHYADDR) must be 0" + s1);
  EXPECT_EQ(entry({"vm_exit_controls=0"}),
            kControl + "vm_exit_controls = 0x0: bit 0 must be 1: IA32_VMX_TRUE_EXIT_CTLS allows it no 0-setting "
                       "(SDM 27.2.1.2 VM-Exit Control Fields)");
  EXPECT_EQ(entry({"vm_entry_controls=0x95fb"}),
            kControl + "vm_entry_controls = 0x95fb: \"entry to SMM\" (bit 10) must be 0 outside SMM "
                       "(SDM 27.2.1.3 VM-Entry Control Fields)");
}

TEST(VmEntry, HostStateChecks) {
  const std::string s2 = " (SDM 27.2.2 Checks on Host Control Registers, MSRs, and SSP)";
  const std::string s3 = " (SDM 27.2.3 Checks on Host Segment and Descriptor-Table Registers)";
  EXPECT_EQ(entry({"host_cr0=0x80000011"}),
            kHost + "host_cr0 = 0x80000011: bit 5 must be 1: IA32_VMX_CR0_FIXED0 (PE, NE, PG)" + s2);
  EXPECT_EQ(entry({"host_cr4=0x6b0"}), kHost + "host_cr4 = 0x6b0: bit 13 (VMXE) must be 1: IA32_VMX_CR4_FIXED0" + s2);
  EXPECT_EQ(entry({"host_cr4=0x1026b0"}), kHost + "host_cr4 = 0x1026b0: bit 20 must be 0: IA32_VMX_CR4_FIXED1" + s2);
  EXPECT_EQ(entry({"host_cs_selector=0x13"}),
            kHost + "host_cs_selector = 0x13: RPL (bits 1:0) and TI (bit 2) must be 0" + s3);
  EXPECT_EQ(entry({"host_tr_selector=0"}), kHost + "host_tr_selector = 0x0: the selector for TR must not be 0000H" + s3);
  EXPECT_EQ(entry({"vm_exit_controls=0x3fedff"}),
            kHost + "vm_exit_controls = 0x3fedff: the processor is in IA-32e mode (the monitor is a 64-bit host), so "
                    "\"host address-space size\" (bit 9) must be 1 (SDM 27.2.4 Checks Related to Address-Space Size)");
}

TEST(VmEntry, GuestStateChecks) {
  const std::string crs = " (SDM 27.3.1.1 Checks on Guest Control Registers, Debug Registers, and MSRs)";
  const std::string segs = " (SDM 27.3.1.2 Checks on Guest Segment Registers)";
  const std::string flags = " (SDM 27.3.1.4 Checks on Guest RIP, RFLAGS, and SSP)";
  EXPECT_EQ(entry({"guest_cr0=0x80000020"}),
            kGuest + "guest_cr0 = 0x80000020: with bit 31 (PG) set, bit 0 (PE) must be set" + crs);
  EXPECT_EQ(entry({"guest_cr0=0x11"}, false),
            kGuest + "guest_cr0 = 0x11: bit 5 must be 1: IA32_VMX_CR0_FIXED0" + crs);
  EXPECT_EQ(entry({"guest_cr0=0x30"}), "");  // real mode: PE and PG go unchecked with "unrestricted guest"
  EXPECT_EQ(entry({"guest_cr4=0"}), kGuest + "guest_cr4 = 0x0: bit 13 (VMXE) must be 1: IA32_VMX_CR4_FIXED0" + crs);
  EXPECT_EQ(entry({"guest_ia32_efer=0x500"}),
            kGuest + "guest_ia32_efer = 0x500: bit 10 (LMA) must equal \"IA-32e mode guest\" with \"load IA32_EFER\" 1" + crs);
  EXPECT_EQ(entry({"guest_tr_selector=0x2c"}), kGuest + "guest_tr_selector = 0x2c: TI (bit 2) must be 0" + segs);
  EXPECT_EQ(entry({"guest_ss_selector=0x13"}, false),
            kGuest + "guest_ss_selector = 0x13: RPL (bits 1:0) must equal CS's RPL (0)" + segs);
  EXPECT_EQ(entry({"guest_cs_access_rights=0xc0fb"}),
            kGuest + "guest_cs_access_rights = 0xc0fb: a non-conforming code segment's DPL (3) must equal SS's DPL (0)" + segs);
  EXPECT_EQ(entry({"guest_cs_access_rights=0xc093"}, false),
            kGuest + "guest_cs_access_rights = 0xc093: the type must be 9, 11, 13 or 15 (accessed code), not 3" + segs);
  EXPECT_EQ(entry({"guest_ss_access_rights=0xc09b"}),
            kGuest + "guest_ss_access_rights = 0xc09b: the type must be 3 or 7 (read/write accessed data), not 11" + segs);
  EXPECT_EQ(entry({"guest_ds_access_rights=0xc092"}),
            kGuest + "guest_ds_access_rights = 0xc092: the type's accessed bit (bit 0) must be 1" + segs);
  EXPECT_EQ(entry({"guest_ds_access_rights=0x4093"}),
            kGuest + "guest_ds_access_rights = 0x4093: G (bit 15) must be 1: limit 0xffffffff has a 1 in bits 31:20" + segs);
  EXPECT_EQ(entry({"guest_cs_access_rights=0xc01b"}),
            kGuest + "guest_cs_access_rights = 0xc01b: P (bit 7) must be 1" + segs);
  EXPECT_EQ(entry({"guest_tr_access_rights=0x9b"}),
            kGuest + "guest_tr_access_rights = 0x9b: S (bit 4) must be 0: a system segment" + segs);
  EXPECT_EQ(entry({"guest_tr_access_rights=0x89"}),
            kGuest + "guest_tr_access_rights = 0x89: the type must be 3 or 11 (a busy TSS), not 9" + segs);
  EXPECT_EQ(entry({"guest_rflags=0"}), kGuest + "guest_rflags = 0x0: bit 1 must be 1" + flags);
  EXPECT_EQ(entry({"guest_rflags=0x8002"}),
            kGuest + "guest_rflags = 0x8002: reserved bit 15 must be 0 (bits 63:22, 15, 5 and 3)" + flags);
  EXPECT_EQ(entry({"guest_rip=0x100000000"}),
            kGuest + "guest_rip = 0x100000000: bits 63:32 must be 0 outside 64-bit code (\"IA-32e mode guest\" 0 or CS.L 0)" +
                flags);
  EXPECT_EQ(entry({"guest_gdtr_limit=0x10000"}),
            kGuest + "guest_gdtr_limit = 0x10000: bits 31:16 must be 0 (SDM 27.3.1.3 Checks on Guest Descriptor-Table "
                     "Registers)");
  EXPECT_EQ(entry({"guest_activity_state=2"}),
            kGuest + "guest_activity_state = 0x2: shutdown (2) is not supported: IA32_VMX_MISC bit 7 is 0 on the modelled "
                     "processor (SDM 27.3.1.5 Checks on Guest Non-Register State)");
  EXPECT_EQ(entry({"guest_ss_access_rights=0xc0f3", "guest_ss_selector=0x13", "guest_cs_access_rights=0xc0fb",
                   "guest_cs_selector=0x1b", "guest_activity_state=1"}),
            kGuest + "guest_activity_state = 0x1: HLT (1) needs SS.DPL 0, and SS.DPL is 3 (SDM 27.3.1.5 Checks on Guest "
                     "Non-Register State)");
}

TEST(VmEntry, NonRegisterStateChecks) {
  const std::string s5 = " (SDM 27.3.1.5 Checks on Guest Non-Register State)";
  // The multiboot guest runs with RFLAGS 0x2: IF and TF clear.
  EXPECT_EQ(entry({"guest_interruptibility_state=0x20"}),
            kGuest + "guest_interruptibility_state = 0x20: reserved bit 5 must be 0 (bits 31:5)" + s5);
  EXPECT_EQ(entry({"guest_interruptibility_state=3", "guest_rflags=0x202"}),
            kGuest + "guest_interruptibility_state = 0x3: bits 0 (blocking by STI) and 1 (blocking by MOV SS) cannot "
                     "both be 1" + s5);
  EXPECT_EQ(entry({"guest_interruptibility_state=1"}),
            kGuest + "guest_interruptibility_state = 0x1: bit 0 (blocking by STI) must be 0 while RFLAGS.IF is 0 "
                     "(guest_rflags = 0x2)" + s5);
  EXPECT_EQ(entry({"guest_interruptibility_state=1", "guest_rflags=0x202"}), "");
  EXPECT_EQ(entry({"guest_interruptibility_state=2"}), "");
  EXPECT_EQ(entry({"guest_interruptibility_state=4"}),
            kGuest + "guest_interruptibility_state = 0x4: bit 2 (blocking by SMI) must be 0 outside SMM" + s5);
  EXPECT_EQ(entry({"guest_interruptibility_state=0x10"}),
            kGuest + "guest_interruptibility_state = 0x10: bit 4 (enclave interruption) must be 0: the modelled processor "
                     "has no SGX (CPUID.(EAX=07H,ECX=0):EBX[2] = 0)" + s5);
  EXPECT_EQ(entry({"guest_interruptibility_state=2", "guest_activity_state=1"}),
            kGuest + "guest_activity_state = 0x1: must be 0 (active) while the interruptibility state (0x2) blocks by "
                     "MOV SS" + s5);

  EXPECT_EQ(entry({"guest_pending_debug_exceptions=0x10"}),
            kGuest + "guest_pending_debug_exceptions = 0x10: reserved bit 4 must be 0 (bits 11:4, 13, 15 and 63:17)" + s5);
  EXPECT_EQ(entry({"guest_pending_debug_exceptions=0x100000000"}),
            kGuest + "guest_pending_debug_exceptions = 0x100000000: reserved bit 32 must be 0 (bits 11:4, 13, 15 and "
                     "63:17)" + s5);
  EXPECT_EQ(entry({"guest_pending_debug_exceptions=0x10000"}),
            kGuest + "guest_pending_debug_exceptions = 0x10000: bit 16 (RTM) must be 0: the modelled processor has no "
                     "RTM (CPUID.(EAX=07H,ECX=0):EBX[11] = 0)" + s5);
  // BS against TF only counts with blocking by STI or MOV SS, or in HLT.
  EXPECT_EQ(entry({"guest_pending_debug_exceptions=0x4000"}), "");
  EXPECT_EQ(entry({"guest_pending_debug_exceptions=0x4000", "guest_interruptibility_state=2"}),
            kGuest + "guest_pending_debug_exceptions = 0x4000: bit 14 (BS) must be 0: RFLAGS.TF is 0 with blocking by "
                     "STI or MOV SS" + s5);
  EXPECT_EQ(entry({"guest_rflags=0x102", "guest_activity_state=1"}),
            kGuest + "guest_pending_debug_exceptions = 0x0: bit 14 (BS) must be 1: RFLAGS.TF is 1 (and "
                     "IA32_DEBUGCTL.BTF 0) with the activity state HLT" + s5);
  EXPECT_EQ(entry({"guest_rflags=0x102", "guest_activity_state=1", "guest_pending_debug_exceptions=0x4001"}), "");

  EXPECT_EQ(entry({"vmcs_link_pointer=0xffffffffffffffff"}), "");
  EXPECT_EQ(entry({"vmcs_link_pointer=0x1001"}),
            kGuest + "vmcs_link_pointer = 0x1001: bits 11:0 must be 0 (4-KByte aligned) unless the field is "
                     "FFFFFFFF_FFFFFFFFH" + s5);
  EXPECT_EQ(entry({"vmcs_link_pointer=0x1000000000"}),
            kGuest + "vmcs_link_pointer = 0x1000000000: bits 63:36 (beyond MAXPHYADDR) must be 0" + s5);
  EXPECT_EQ(entry({"vmcs_link_pointer=0"}),
            kGuest + "vmcs_link_pointer = 0x0: the 4 bytes it points at must hold the VMCS revision identifier, with "
                     "bit 31 equal to \"VMCS shadowing\" (0): vtlab keeps no VMCS regions in guest memory and does not "
                     "model VMCS shadowing, so the field must be FFFFFFFF_FFFFFFFFH" + s5);
}

TEST(VmEntry, MsrLoadArea) {
  const std::string s3 = " (SDM 27.2.1.3 VM-Entry Control Fields)";
  EXPECT_EQ(entry({"vm_entry_msr_load_address=0x1008"}), "");  // no count: the address goes unchecked
  EXPECT_EQ(entry({"vm_entry_msr_load_count=1", "vm_entry_msr_load_address=0x1008"}),
            kControl + "vm_entry_msr_load_address = 0x1008: with a non-zero MSR-load count, bits 3:0 must be 0 (16-byte "
                       "aligned)" + s3);
  EXPECT_EQ(entry({"vm_entry_msr_load_count=1", "vm_entry_msr_load_address=0x1000000000"}),
            kControl + "vm_entry_msr_load_address = 0x1000000000: bits 63:36 (beyond MAXPHYADDR) must be 0" + s3);
  EXPECT_EQ(entry({"vm_entry_msr_load_count=17", "vm_entry_msr_load_address=0xfffffff00"}),
            kControl + "vm_entry_msr_load_address = 0xfffffff00: the area's last byte (0x100000000f, 17 entries of 16 "
                       "bytes) must lie below MAXPHYADDR (36 bits)" + s3);
  // A well-formed area passes every check; loading it is what vtlab lacks.
  EXPECT_EQ(entry({"vm_entry_msr_load_count=2", "vm_entry_msr_load_address=0x1000"}),
            "VM entry stopped (not modelled by vtlab): vm_entry_msr_load_count = 0x2: loading MSRs on VM entry is not "
            "modelled: the count must be 0 (SDM 27.4 Loading MSRs)");
  // Guest state is checked first: a bad field there is the failure.
  EXPECT_EQ(entry({"vm_entry_msr_load_count=2", "vm_entry_msr_load_address=0x1000", "guest_rflags=0"}),
            kGuest + "guest_rflags = 0x0: bit 1 must be 1 (SDM 27.3.1.4 Checks on Guest RIP, RFLAGS, and SSP)");
}

// RFLAGS.VM = 1: CS, SS, DS, ES, FS and GS must look like real-mode
// segments, checked base first, then limit, then access rights.
TEST(VmEntry, Virtual8086GuestSegments) {
  const std::string segs = " (SDM 27.3.1.2 Checks on Guest Segment Registers)";
  std::vector<std::string> v86 = {"guest_rflags=0x20002"};
  EXPECT_EQ(entry(v86), kGuest + "guest_cs_base = 0x0: with RFLAGS.VM 1 (a virtual-8086 guest) the base must be the "
                                 "selector shifted left 4 bits (0x80)" + segs);
  for (const char* seg : {"cs", "ss", "ds", "es", "fs", "gs"}) v86.push_back(fmt::format("guest_{}_selector=0", seg));
  EXPECT_EQ(entry(v86), kGuest + "guest_cs_limit = 0xffffffff: with RFLAGS.VM 1 (a virtual-8086 guest) the limit must "
                                 "be 0xffff" + segs);
  for (const char* seg : {"cs", "ss", "ds", "es", "fs", "gs"}) v86.push_back(fmt::format("guest_{}_limit=0xffff", seg));
  EXPECT_EQ(entry(v86), kGuest + "guest_cs_access_rights = 0xc09b: with RFLAGS.VM 1 (a virtual-8086 guest) the access "
                                 "rights must be 0xf3 (present, DPL 3, read/write accessed data, usable)" + segs);
  for (const char* seg : {"cs", "ss", "ds", "es", "fs", "gs"})
    v86.push_back(fmt::format("guest_{}_access_rights=0xf3", seg));
  EXPECT_EQ(entry(v86), "");
  v86.push_back("guest_gs_base=0x10");
  EXPECT_EQ(entry(v86), kGuest + "guest_gs_base = 0x10: with RFLAGS.VM 1 (a virtual-8086 guest) the base must be the "
                                 "selector shifted left 4 bits (0x0)" + segs);
}

}  // namespace vtlab::vmx
