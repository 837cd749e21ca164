// A one-vCPU KVM virtual machine with RAM at guest-physical 0, for the
// differential tests (kvm_diff, kvm_diff64).  Every failure is a reason
// string, never an abort: a host whose /dev/kvm cannot serve is skipped.
#pragma once

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

namespace vtlab::kvmtest {

struct KvmVm {
  int sys = -1, vm = -1, vcpu = -1;
  kvm_run* run = nullptr;
  uint8_t* ram = nullptr;
  std::string why_not;

  bool open(uint64_t ram_bytes) {
    sys = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (sys < 0) return fail(std::string("cannot open /dev/kvm: ") + std::strerror(errno));
    if (ioctl(sys, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) return fail("unexpected KVM API version");
    vm = ioctl(sys, KVM_CREATE_VM, 0);
    if (vm < 0) return fail(std::string("KVM_CREATE_VM: ") + std::strerror(errno));
    void* p = mmap(nullptr, ram_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return fail("cannot map guest RAM");
    ram = static_cast<uint8_t*>(p);
    kvm_userspace_memory_region region{0, 0, 0, ram_bytes, reinterpret_cast<uint64_t>(ram)};
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) return fail("KVM_SET_USER_MEMORY_REGION failed");
    vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0) return fail(std::string("KVM_CREATE_VCPU: ") + std::strerror(errno));
    const int size = ioctl(sys, KVM_GET_VCPU_MMAP_SIZE, 0);
    void* r = mmap(nullptr, size_t(size), PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (r == MAP_FAILED) return fail("cannot map kvm_run");
    run = static_cast<kvm_run*>(r);
    return true;
  }
  bool fail(std::string why) {
    why_not = std::move(why);
    return false;
  }
};

}  // namespace vtlab::kvmtest
