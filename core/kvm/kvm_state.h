// CpuState <-> a KVM vCPU: general registers (kvm_regs), system registers
// with the segment caches (kvm_sregs: vtlab keeps access rights in the VMX
// layout, SDM vol. 3C table 24-2, which kvm_segment splits into fields) and
// the MSRs a 64-bit guest programs (SYSCALL targets, SYSENTER, KERNEL_GS
// base; FS/GS bases travel in the segment caches, EFER in kvm_sregs), and
// the x87/MMX/SSE state through an XSAVE image (KVM_GET_XSAVE/SET_XSAVE).
// Not carried: debug registers, pending events.
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

// The x87 and SSE state in an XSAVE image in the standard format (SDM
// vol. 1, 13.4) of at least 576 bytes: the legacy region's FCW, FSW, the
// abridged tag, FOP, FIP and FDP (the 64-bit layout, which has no FCS or
// FDS: those keep vtlab's values), MXCSR, ST0-ST7 in stack order and
// XMM0-XMM15, and XSTATE_BV bits 0 and 1, set so that XRSTOR loads the
// region rather than the initial state.  Everything else in the image
// (MXCSR_MASK, AVX and later components) keeps what it held.
inline constexpr size_t kXsaveLegacyBytes = 576;
void to_kvm_xsave(const CpuState& s, uint8_t* image);
void from_kvm_xsave(const uint8_t* image, CpuState& s);

}  // namespace vtlab
