// CpuState <-> a KVM vCPU: general registers (kvm_regs), system registers
// with the segment caches (kvm_sregs: vtlab keeps access rights in the VMX
// layout, SDM vol. 3C table 24-2, which kvm_segment splits into fields) and
// the MSRs a 64-bit guest programs (SYSCALL targets, SYSENTER, KERNEL_GS
// base; FS/GS bases travel in the segment caches, EFER in kvm_sregs).
// Not carried: x87/SSE state, debug registers, pending events.
#pragma once

#include <linux/kvm.h>

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/cpu_state.h"

namespace vtlab {

kvm_segment to_kvm(const SegmentCache& s);
SegmentCache from_kvm(const kvm_segment& s);

void to_kvm(const CpuState& s, kvm_regs& r);
void from_kvm(const kvm_regs& r, CpuState& s);
// Only the fields vtlab models are written; the rest (the pending
// interrupt bitmap, APIC base) keep what `r` held.
void to_kvm(const CpuState& s, kvm_sregs& r);
void from_kvm(const kvm_sregs& r, CpuState& s);

// The MSRs moved with KVM_GET_MSRS / KVM_SET_MSRS.
inline constexpr std::array<uint32_t, 8> kKvmMsrs = {msr::kStar,        msr::kLstar,       msr::kCstar,
                                                     msr::kFmask,       msr::kKernelGsBase, msr::kSysenterCs,
                                                     msr::kSysenterEsp, msr::kSysenterEip};
// Laid out as struct kvm_msrs (nmsrs, pad, entries[]) with the entries inline.
struct KvmMsrs {
  uint32_t nmsrs = 0, pad = 0;
  kvm_msr_entry entries[kKvmMsrs.size()]{};
};
void to_kvm(const CpuState& s, KvmMsrs& m);
void from_kvm(const KvmMsrs& m, CpuState& s);

}  // namespace vtlab
