#include "devices/debug_exit.h"

#include <utility>

namespace vtlab {

DebugExit::DebugExit(std::function<void(uint32_t)> on_exit) : on_exit_(std::move(on_exit)) {}

uint64_t DebugExit::read(uint64_t, unsigned) { return 0; }

void DebugExit::write(uint64_t, unsigned size, uint64_t value) {
  if (on_exit_) on_exit_(status_for(value & all_ones(size)));
}

}  // namespace vtlab
