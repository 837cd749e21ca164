// libFuzzer target: the CPU on arbitrary code bytes.  Byte 0 picks the
// start state (real mode; flat protected mode at CPL 0 or 3, paging off,
// 32-bit or PAE paging on), bytes 1-2 where every interrupt vector points
// in the code; a full native-mode Machine runs it for kCpuBudget units of
// virtual time (tests/support/fuzz_inputs.h).  It must stop for a stated
// reason without a crash, a sanitizer report or an exception.
#include <cstdlib>
#include <cstdio>

#include "support/fuzz_inputs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const vtlab::RunResult r = vtlab::test::fuzz::run_cpu_input(data, size);
  // A run that neither used its budget nor stopped for a reason is a hang
  // the engine hid; the budget is virtual time, so it always ends.
  if (size >= 3 && r.reason == vtlab::StopReason::None) {
    std::fprintf(stderr, "cpu_fuzz: run ended without a stop reason\n");
    std::abort();
  }
  return 0;
}
