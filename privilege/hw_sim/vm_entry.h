// VM entry's checks, as the Intel SDM vol. 3C, chapter 27 ("VM Entries")
// lists them: 27.2 "Checks on VMX Controls and Host-State Area" (a
// failure is VMLAUNCH failing with VM-instruction error 7 or 8, no VM
// exit) and 27.3.1 "Checks on the Guest-State Area" (a failure is a VM
// exit with basic exit reason 33, "VM-entry failure due to invalid guest
// state", bit 31 of the exit reason set).  Only the checks the model's
// fields can fail are made: control words against the modelled
// processor's capability MSRs (vmcs.h, caps), CR3-target count, VPID, the
// EPT pointer; host CR0/CR3/CR4 and selectors, address-space size; guest
// CR0/CR3/CR4, IA32_EFER, the segment registers (selector, base, limit,
// access rights, and the virtual-8086 rules when RFLAGS.VM is 1), GDTR/IDTR
// limits, RIP, RFLAGS, the activity state, the interruptibility state, the
// pending debug exceptions and the VMCS link pointer; the VM-entry
// MSR-load count and address.  Loading MSRs on entry (27.4, exit reason
// 34) is not modelled: a non-zero count that passes the address checks is
// refused as not modelled.  The interruptibility state and pending debug
// exceptions are checked, not loaded.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "core/cpu_state.h"
#include "privilege/hw_sim/vmcs.h"

namespace vtlab::vmx {

// The guest-state area as VM entry reads it (SDM vol. 3C, 25.4).
struct GuestState {
  struct Segment {
    uint16_t selector = 0;
    uint64_t base = 0;
    uint32_t limit = 0;
    uint32_t access_rights = 0;  // VMX layout; bit 16: unusable
  };
  enum Seg { ES, CS, SS, DS, FS, GS, LDTR, TR, kSegs };
  uint64_t cr0 = 0, cr3 = 0, cr4 = 0, efer = 0, rflags = 0, rip = 0;
  std::array<Segment, kSegs> seg{};
  uint32_t gdtr_limit = 0, idtr_limit = 0;
  uint32_t activity_state = 0;
  uint32_t interruptibility = 0;     // SDM 25.4.2, table 25-3
  uint64_t pending_debug = 0;        // table 25-4
  uint64_t vmcs_link_pointer = ~uint64_t{0};
};

// The fields from the CPU as a monitor writes them at VM entry (the bits
// of CR0 and CR4 VMX operation requires set where the monitor owns them,
// a null or not-present segment marked unusable), then each guest_* field
// --vmcs-set gave.
GuestState guest_state(const CpuState& s, const Controls& c);
// The VM-entry controls in effect: the ones given, else KVM's for this guest.
uint32_t entry_controls(const CpuState& s, const Controls& c);

struct EntryFailure {
  // NotModelled: a real processor would go on (loading MSRs, 27.4); vtlab
  // stops there and says so.
  enum class Kind { Control, HostState, GuestState, NotModelled } kind;
  std::string section;  // "27.3.1.2 Checks on Guest Segment Registers"
  std::string field;    // "guest_cs_access_rights"
  uint64_t value;
  std::string check;    // what the field must satisfy, in the SDM's terms
  // "VM entry failed with basic exit reason 33 (...): FIELD = VALUE: CHECK (SDM SECTION)"
  std::string text() const;
};

// The first check that fails, in the SDM's order (controls, host state,
// guest state); nothing when VM entry succeeds.
std::optional<EntryFailure> check_vm_entry(const Controls& c, uint32_t entry, const GuestState& g);

// Loads the guest_* fields that were given into the CPU, as VM entry
// loads guest state (access rights without the unusable bit).
void load_given_guest_state(CpuState& s, const Controls& c, const GuestState& g);

}  // namespace vtlab::vmx
