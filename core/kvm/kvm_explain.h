// One-line explanations for the ways a guest can stop under KVM: which
// kernel module serves /dev/kvm, the guest's mode, and why a shutdown or an
// emulation failure happened on a host like this one (docs/KVM.md, the
// kvm_pvm facts in the design notes).  Pure functions of the state vtlab
// pulled from the vCPU and the code bytes at CS:RIP.
#pragma once

#include <cstdint>
#include <string>

#include "core/cpu.h"

namespace vtlab {

// "kvm_intel", "kvm_amd", "kvm_pvm" (software KVM, no VT-x/AMD-V), or
// "unknown": the module that serves /dev/kvm here.
std::string kvm_host_module();
// KVM_EXIT_* by number ("io", "hlt", "shutdown", ...).
std::string kvm_exit_name(uint32_t reason);
// "64-bit long mode, CPL 3, paging on" and the like.
std::string describe_mode(const CpuState& s);
// KVM_SET_SREGS dropped CR0.PG.
std::string paging_refused_reason();
// KVM_EXIT_SHUTDOWN, with the state pulled and the bytes at CS:RIP.
std::string explain_shutdown(const Cpu& cpu, const std::string& code);
// KVM_EXIT_INTERNAL_ERROR / emulation.
std::string explain_emulation_failure(const Cpu& cpu, const std::string& code);

}  // namespace vtlab
