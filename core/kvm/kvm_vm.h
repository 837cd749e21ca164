// One KVM virtual machine with one vCPU, as the KVM API document
// (Documentation/virt/kvm/api.rst) describes the objects: /dev/kvm, the VM,
// the vCPU and its shared kvm_run page, guest RAM slots and the vCPU's
// CPUID.  Used by the capability probe and by the engine; it knows nothing
// about vtlab's machine.  Every failure leaves a one-line reason in why().
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <string>

namespace vtlab {

// <linux/kvm.h> declares kvm_cpuid2 and kvm_msrs with __DECLARE_FLEX_ARRAY,
// which g++ sizes at 12 and 16 bytes where C has 8, and an ioctl number
// encodes its argument's size: these are the C numbers, which the kernel
// expects (a count, padding, then the entries).
struct KvmListHeader {
  uint32_t count, pad;
};
inline constexpr unsigned long kKvmGetSupportedCpuid = _IOWR(KVMIO, 0x05, KvmListHeader);
inline constexpr unsigned long kKvmSetCpuid2 = _IOW(KVMIO, 0x90, KvmListHeader);
inline constexpr unsigned long kKvmGetMsrs = _IOWR(KVMIO, 0x88, KvmListHeader);
inline constexpr unsigned long kKvmSetMsrs = _IOW(KVMIO, 0x89, KvmListHeader);
// struct kvm_xsave ends in a flexible array as well (C: 4096 bytes, C++:
// 4100): KVM_GET_XSAVE/KVM_SET_XSAVE/KVM_GET_XSAVE2 with the C size.
struct KvmXsaveRegion {
  uint32_t region[1024];
};
inline constexpr unsigned long kKvmGetXsave = _IOR(KVMIO, 0xa4, KvmXsaveRegion);
inline constexpr unsigned long kKvmSetXsave = _IOW(KVMIO, 0xa5, KvmXsaveRegion);
inline constexpr unsigned long kKvmGetXsave2 = _IOR(KVMIO, 0xcf, KvmXsaveRegion);

class KvmVm {
 public:
  KvmVm() = default;
  ~KvmVm();
  KvmVm(const KvmVm&) = delete;
  KvmVm& operator=(const KvmVm&) = delete;

  // Opens /dev/kvm, checks the API version, creates the VM and vCPU 0,
  // maps kvm_run and gives the vCPU the CPUID leaves the host supports
  // (KVM refuses EFER.LME/SCE a guest's CPUID does not offer).
  bool open();
  // Backs guest-physical [gpa, gpa+bytes) with host memory (slot `slot`).
  bool map(uint32_t slot, uint64_t gpa, void* host, uint64_t bytes);
  // KVM_CHECK_EXTENSION on the VM: 0 when absent, else the cap's value.
  int check(long cap) const;
  // An ioctl on one of the descriptors; false + why() on failure.
  bool vcpu_ioctl(unsigned long request, void* arg, const char* what);
  bool vm_ioctl(unsigned long request, void* arg, const char* what);

  kvm_run* run() const { return run_; }
  uint64_t run_size() const { return run_size_; }
  int vcpu_fd() const { return vcpu_; }
  int vm_fd() const { return vm_; }
  int api_version() const { return api_; }
  const std::string& why() const { return why_; }
  bool fail(std::string why) {
    why_ = std::move(why);
    return false;
  }

 private:
  bool set_cpuid();

  int sys_ = -1, vm_ = -1, vcpu_ = -1, api_ = 0;
  kvm_run* run_ = nullptr;
  uint64_t run_size_ = 0;
  std::string why_;
};

}  // namespace vtlab
