// libFuzzer target: the CPU on arbitrary code bytes.  Byte 0 (and a bit of
// bytes 1-2) picks the start state (real mode; flat protected mode at CPL
// 0, 1, 2 or 3 with paging off or 32-bit paging; PAE paging at CPL 3;
// 64-bit mode at CPL 0 or 3), bytes 1-2 where every interrupt vector
// points in the code and the monitor mode; a full Machine runs it for
// kCpuBudget units of virtual time (tests/support/fuzz_inputs.h).  It must stop for a stated
// reason without a crash, a sanitizer report or an exception.
#include <cstdio>
#include <cstdlib>

#include "support/fuzz_inputs.h"

namespace {

// Guest instructions retired over the whole fuzzing run, printed at exit
// for scripts/fuzz (libFuzzer exits through exit() when its time is up).
uint64_t total_instructions = 0;

void print_total() { std::fprintf(stderr, "stat::guest_instructions: %llu\n", (unsigned long long)total_instructions); }

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::atexit(print_total);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const vtlab::RunResult r = vtlab::test::fuzz::run_cpu_input(data, size);
  total_instructions += r.instructions;
  // A run that neither used its budget nor stopped for a reason is a hang
  // the engine hid; the budget is virtual time, so it always ends.
  if (size >= 3 && r.reason == vtlab::StopReason::None) {
    std::fprintf(stderr, "cpu_fuzz: run ended without a stop reason\n");
    std::abort();
  }
  return 0;
}
