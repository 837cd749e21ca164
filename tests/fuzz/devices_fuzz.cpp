// libFuzzer target: devices and the I/O paths.  The input is a sequence of
// port reads and writes (widths 1, 2, 4; any port or a wired device's
// ports), local APIC MMIO reads and writes (widths 1, 2, 4, 8 at any
// offset) and short CPU runs in which timers fire and interrupts are taken
// (tests/support/fuzz_inputs.h).  None may crash or trip a sanitizer.
#include "support/fuzz_inputs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vtlab::test::fuzz::run_device_input(data, size);
  return 0;
}
