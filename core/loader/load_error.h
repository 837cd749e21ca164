// The one error type every loader throws: a single line meant for the user,
// naming the file first ("kernel.elf: not a multiboot kernel: ..."), so the
// CLI and GUI can print what() as is.
#pragma once

#include <stdexcept>

namespace vtlab {

struct LoadError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace vtlab
