// libFuzzer target: the CPU on arbitrary code under `hw --hw-backend kvm`.
// The input layout is fuzz_cpu's (tests/support/fuzz_inputs.h; its mode
// bits are ignored): the start state runs on /dev/kvm through KvmEngine for
// kKvmBudgetNs of host time.  The run must end for a stated reason (a
// guest's triple fault as a shutdown, a start this host's KVM cannot run as
// unsupported, each with its explanation) without a hang, a crash, a
// sanitizer report or an exception.  Exits 77 with the reason where
// /dev/kvm cannot serve.
#include <cstdio>
#include <cstdlib>

#include "core/kvm/kvm_vm.h"
#include "support/fuzz_inputs.h"

namespace {

uint64_t total_runs = 0, stops[8] = {};

void print_totals() {
  std::fprintf(stderr, "stat::kvm_runs: %llu\n", (unsigned long long)total_runs);
  for (unsigned i = 0; i < 8; ++i)
    if (stops[i])
      std::fprintf(stderr, "stat::stop_%s: %llu\n", vtlab::stop_reason_name(static_cast<vtlab::StopReason>(i)),
                   (unsigned long long)stops[i]);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  vtlab::KvmVm vm;
  if (!vm.open()) {
    std::printf("fuzz_cpu_kvm: skipped: %s\n", vm.why().c_str());
    std::fflush(stdout);
    std::exit(77);
  }
  std::atexit(print_totals);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const vtlab::RunResult r = vtlab::test::fuzz::run_kvm_input(data, size);
  ++total_runs;
  ++stops[static_cast<unsigned>(r.reason) & 7];
  if (r.reason == vtlab::StopReason::None || r.detail.empty()) {
    std::fprintf(stderr, "cpu_kvm_fuzz: run ended without a stated stop reason\n");
    std::abort();
  }
  return 0;
}
