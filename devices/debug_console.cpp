#include "devices/debug_console.h"

#include <utility>

namespace vtlab {

DebugConsole::DebugConsole(std::function<void(uint8_t)> out) : out_(std::move(out)) {}

uint64_t DebugConsole::read(uint64_t, unsigned) { return kReadback; }

void DebugConsole::write(uint64_t, unsigned, uint64_t value) {
  if (out_) out_(static_cast<uint8_t>(value));
}

}  // namespace vtlab
