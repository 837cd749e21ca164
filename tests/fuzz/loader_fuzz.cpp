// libFuzzer target: the loaders (core/loader/) on arbitrary files.  Each
// input is tried as a multiboot kernel, a flat binary and a 64 KiB ROM
// (tests/support/fuzz_inputs.h); a refusal must be a LoadError, never a
// crash, a sanitizer report or another exception.
#include "support/fuzz_inputs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vtlab::test::fuzz::run_loader_input(data, size);
  return 0;
}
