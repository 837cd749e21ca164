// A one-vCPU KVM virtual machine with `ram_bytes` of RAM at guest-physical
// 0, for the differential tests (kvm_diff, kvm_diff64): core/kvm's KvmVm
// (the backend's own VM object) plus an anonymous RAM mapping, with the
// descriptors the tests' ioctls use.  Every failure is a reason string,
// never an abort: a host whose /dev/kvm cannot serve is skipped.
#pragma once

#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cstdint>
#include <string>

#include "core/kvm/kvm_vm.h"

namespace vtlab::kvmtest {

struct KvmVm {
  vtlab::KvmVm vm;
  int vcpu = -1;
  kvm_run* run = nullptr;
  uint8_t* ram = nullptr;
  std::string why_not;

  bool open(uint64_t ram_bytes) {
    if (!vm.open()) return fail(vm.why());
    void* p = mmap(nullptr, ram_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return fail("cannot map guest RAM");
    ram = static_cast<uint8_t*>(p);
    if (!vm.map(0, 0, ram, ram_bytes)) return fail(vm.why());
    vcpu = vm.vcpu_fd();
    run = vm.run();
    return true;
  }
  bool fail(std::string why) {
    why_not = std::move(why);
    return false;
  }
};

}  // namespace vtlab::kvmtest
