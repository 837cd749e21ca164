// Runs one case of the 64-bit differential tests (kvm_diff64, the fault
// priority matrix kvm_priority64) on both sides: in a KVM guest, where this
// host runs long-mode CPL-3 code on the CPU itself (docs/KVM.md), and in
// vtlab's interpreter from the same state (the image build_guest writes,
// the same segment caches and control registers).  Each side runs to the
// first exception's ring-0 HLT (kvm_cases64.h) and reports an Outcome.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/kvm/kvm_stats.h"
#include "kvm_cases64.h"
#include "kvm_guest.h"

namespace vtlab::kvmtest {

struct Kvm64 : KvmVm {
  enum Result { Ok, Failed };
  std::vector<uint8_t> image = std::vector<uint8_t>(kImageBytes);

  // Opens the VM and writes the guest's image (build_guest).
  bool setup();
  // Ok with `out` filled, or Failed: the guest did not end at one of the
  // handlers' HLTs (why_not says how).  `cr3`: the PML4 to run on (the
  // image may hold more than one tree).
  Result run_case(const std::vector<uint8_t>& code, const State& in, Outcome& out, uint64_t cr3 = kPml4);

 private:
  bool set_fpu(const FpuState& in);
  bool get_fpu(FpuState& out);

  kvm_sregs sregs_{};
  KvmStats stats_;
  // The vCPU's XSAVE image as KVM_GET_XSAVE(2) gave it at setup: each
  // case writes its x87/SSE state into a copy's legacy region.
  std::vector<uint32_t> xsave_;
  unsigned long get_xsave_ = kKvmGetXsave;
};

// The same case in the interpreter; false if it did not end at a
// handler's HLT within the budget.
bool run_interpreter(const std::vector<uint8_t>& image, const std::vector<uint8_t>& code, const State& in,
                     Outcome& out, uint64_t cr3 = kPml4);

bool same(const FpuState& a, const FpuState& b);
bool same(const Outcome& a, const Outcome& b);

// The vector an outcome ended with (the HLT at kHandler + vector).
inline unsigned outcome_vector(const Outcome& o) { return unsigned(o.rip - kHandler - 1); }

}  // namespace vtlab::kvmtest
