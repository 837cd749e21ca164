#include "core/kvm/kvm_vm.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace vtlab {

namespace {
std::string error_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }
}  // namespace

KvmVm::~KvmVm() {
  if (run_) munmap(run_, run_size_);
  for (int fd : {vcpu_, vm_, sys_})
    if (fd >= 0) close(fd);
}

bool KvmVm::open() {
  sys_ = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (sys_ < 0)
    return fail(errno == ENOENT ? "/dev/kvm does not exist (no KVM module loaded on this host)"
                                : error_text("cannot open /dev/kvm"));
  api_ = ioctl(sys_, KVM_GET_API_VERSION, 0);
  if (api_ != KVM_API_VERSION)
    return fail("/dev/kvm speaks API version " + std::to_string(api_) + ", vtlab needs " +
                std::to_string(KVM_API_VERSION));
  vm_ = ioctl(sys_, KVM_CREATE_VM, 0);
  if (vm_ < 0) return fail(error_text("KVM_CREATE_VM"));
  vcpu_ = ioctl(vm_, KVM_CREATE_VCPU, 0);
  if (vcpu_ < 0) return fail(error_text("KVM_CREATE_VCPU"));
  const int size = ioctl(sys_, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (size < static_cast<int>(sizeof(kvm_run))) return fail(error_text("KVM_GET_VCPU_MMAP_SIZE"));
  void* r = mmap(nullptr, static_cast<size_t>(size), PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_, 0);
  if (r == MAP_FAILED) return fail(error_text("cannot map the vCPU's kvm_run page"));
  run_ = static_cast<kvm_run*>(r);
  run_size_ = static_cast<uint64_t>(size);
  return set_cpuid();
}

bool KvmVm::set_cpuid() {
  // The host's list, grown until it fits (E2BIG means "too small").
  for (uint32_t n = 64; n <= 4096; n *= 2) {
    std::vector<uint8_t> buf(sizeof(kvm_cpuid2) + n * sizeof(kvm_cpuid_entry2));
    auto* cpuid = reinterpret_cast<kvm_cpuid2*>(buf.data());
    cpuid->nent = n;
    if (ioctl(sys_, kKvmGetSupportedCpuid, cpuid) < 0) {
      if (errno == E2BIG) continue;
      return fail(error_text("KVM_GET_SUPPORTED_CPUID"));
    }
    if (ioctl(vcpu_, kKvmSetCpuid2, cpuid) < 0) return fail(error_text("KVM_SET_CPUID2"));
    return true;
  }
  return fail("KVM_GET_SUPPORTED_CPUID: more than 4096 leaves");
}

bool KvmVm::map(uint32_t slot, uint64_t gpa, void* host, uint64_t bytes) {
  kvm_userspace_memory_region region{slot, 0, gpa, bytes, reinterpret_cast<uint64_t>(host)};
  return vm_ioctl(KVM_SET_USER_MEMORY_REGION, &region, "KVM_SET_USER_MEMORY_REGION");
}

int KvmVm::check(long cap) const {
  const int r = ioctl(vm_ >= 0 ? vm_ : sys_, KVM_CHECK_EXTENSION, cap);
  return r < 0 ? 0 : r;
}

bool KvmVm::vcpu_ioctl(unsigned long request, void* arg, const char* what) {
  if (ioctl(vcpu_, request, arg) < 0) return fail(error_text(what));
  return true;
}

bool KvmVm::vm_ioctl(unsigned long request, void* arg, const char* what) {
  if (ioctl(vm_, request, arg) < 0) return fail(error_text(what));
  return true;
}

}  // namespace vtlab
