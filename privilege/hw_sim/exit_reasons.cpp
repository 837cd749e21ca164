#include "privilege/hw_sim/exit_reasons.h"

#include <array>

namespace vtlab::vmx {

namespace {
// SDM vol. 3C, table C-1.  Unassigned numbers are empty.
constexpr std::array<std::string_view, kMaxExitReason + 1> kNames = {
    "Exception or non-maskable interrupt (NMI)",
    "External interrupt",
    "Triple fault",
    "INIT signal",
    "Start-up IPI (SIPI)",
    "I/O system-management interrupt (SMI)",
    "Other SMI",
    "Interrupt window",
    "NMI window",
    "Task switch",
    "CPUID",
    "GETSEC",
    "HLT",
    "INVD",
    "INVLPG",
    "RDPMC",
    "RDTSC",
    "RSM",
    "VMCALL",
    "VMCLEAR",
    "VMLAUNCH",
    "VMPTRLD",
    "VMPTRST",
    "VMREAD",
    "VMRESUME",
    "VMWRITE",
    "VMXOFF",
    "VMXON",
    "Control-register accesses",
    "MOV DR",
    "I/O instruction",
    "RDMSR",
    "WRMSR",
    "VM-entry failure due to invalid guest state",
    "VM-entry failure due to MSR loading",
    "",
    "MWAIT",
    "Monitor trap flag",
    "",
    "MONITOR",
    "PAUSE",
    "VM-entry failure due to machine-check event",
    "",
    "TPR below threshold",
    "APIC access",
    "Virtualized EOI",
    "Access to GDTR or IDTR",
    "Access to LDTR or TR",
    "EPT violation",
    "EPT misconfiguration",
    "INVEPT",
    "RDTSCP",
    "VMX-preemption timer expired",
    "INVVPID",
    "WBINVD or WBNOINVD",
    "XSETBV",
    "APIC write",
    "RDRAND",
    "INVPCID",
    "VMFUNC",
    "ENCLS",
    "RDSEED",
    "Page-modification log full",
    "XSAVES",
    "XRSTORS",
    "PCONFIG",
    "SPP-related event",
    "UMWAIT",
    "TPAUSE",
    "LOADIWKEY",
};
}  // namespace

std::string_view exit_reason_name(unsigned n) { return n < kNames.size() ? kNames[n] : std::string_view{}; }

uint64_t cr_qualification(unsigned cr, CrAccessType type, unsigned gpr, uint16_t lmsw_source) {
  return (cr & 0xF) | (uint64_t{static_cast<uint8_t>(type)} << 4) | (uint64_t{gpr & 0xF} << 8) |
         (uint64_t{lmsw_source} << 16);
}

uint64_t dr_qualification(unsigned dr, bool from_dr, unsigned gpr) {
  return (dr & 7) | (uint64_t{from_dr} << 4) | (uint64_t{gpr & 0xF} << 8);
}

uint64_t io_qualification(unsigned size, bool in, bool string, bool rep, bool immediate, uint16_t port) {
  return ((size - 1) & 7) | (uint64_t{in} << 3) | (uint64_t{string} << 4) | (uint64_t{rep} << 5) |
         (uint64_t{immediate} << 6) | (uint64_t{port} << 16);
}

uint64_t ept_violation_qualification(bool read, bool write, bool fetch, unsigned allowed_rwx,
                                     bool linear_valid, bool final_translation) {
  return uint64_t{read} | (uint64_t{write} << 1) | (uint64_t{fetch} << 2) | (uint64_t{allowed_rwx & 7} << 3) |
         (uint64_t{linear_valid} << 7) | (uint64_t{linear_valid && final_translation} << 8);
}

}  // namespace vtlab::vmx
