// The Bochs/QEMU debug console ("port E9 hack") at 0xE9: each byte written
// goes straight to the host, with no UART to program.  Reading the port
// returns 0xE9, which is how a guest detects that the console is there.
#pragma once

#include <cstdint>
#include <functional>

#include "devices/bus.h"

namespace vtlab {

class DebugConsole : public BusDevice {
 public:
  static constexpr uint8_t kReadback = 0xE9;

  explicit DebugConsole(std::function<void(uint8_t)> out);

  uint64_t read(uint64_t offset, unsigned size) override;
  // Only the low byte of a wider write is a character.
  void write(uint64_t offset, unsigned size, uint64_t value) override;
  std::string_view name() const override { return "debug_console"; }

 private:
  std::function<void(uint8_t)> out_;
};

}  // namespace vtlab
