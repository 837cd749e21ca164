// libFuzzer target: a paravirtual kernel's code under `pv`.  Byte 0 picks
// how far the kernel's set-up got (boot, kernel, paged, user) and extras,
// bytes 1-2 where its trap table points in the code; the rest is a script
// of raw code, hypercalls, data and virtio register stores
// (tests/support/fuzz_pv.h).  A full Machine in pv mode runs it for
// kPvBudget units of virtual time.  It must stop for a stated reason
// without a crash, a sanitizer report or an exception.
#include <cstdio>
#include <cstdlib>

#include "support/fuzz_pv.h"

namespace {

// Over the whole fuzzing run, printed at exit for scripts/fuzz.
uint64_t total_instructions = 0, total_hypercalls = 0;

void print_totals() {
  std::fprintf(stderr, "stat::guest_instructions: %llu\nstat::hypercalls: %llu\n",
               (unsigned long long)total_instructions, (unsigned long long)total_hypercalls);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::atexit(print_totals);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  uint64_t hypercalls = 0;
  const vtlab::RunResult r = vtlab::test::fuzz::run_pv_input(data, size, vtlab::test::fuzz::kPvBudget, &hypercalls);
  total_instructions += r.instructions;
  total_hypercalls += hypercalls;
  if (size >= 3 && (r.reason == vtlab::StopReason::None || r.detail.empty())) {
    std::fprintf(stderr, "pv_fuzz: run ended without a stated stop reason\n");
    std::abort();
  }
  return 0;
}
