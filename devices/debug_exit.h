// QEMU's isa-debug-exit: a port a test guest writes to end the run with a
// status.  QEMU exits with (value << 1) | 1, so a guest can never produce
// status 0 (success of the emulator itself) by accident; the machine
// places it at 0xF4, four ports wide, as test kernels written for
// `-device isa-debug-exit,iobase=0xf4,iosize=0x04` expect.
#pragma once

#include <cstdint>
#include <functional>

#include "devices/bus.h"

namespace vtlab {

class DebugExit : public BusDevice {
 public:
  explicit DebugExit(std::function<void(uint32_t status)> on_exit);

  // Reads have no meaning on this port; like QEMU, they return 0.
  uint64_t read(uint64_t offset, unsigned size) override;
  // Any write in the range exits (QEMU ignores the offset too), with the
  // status computed in 32 bits: the top bit of a 32-bit value falls off.
  void write(uint64_t offset, unsigned size, uint64_t value) override;
  std::string_view name() const override { return "debug_exit"; }

  static uint32_t status_for(uint64_t value) { return (static_cast<uint32_t>(value) << 1) | 1; }

 private:
  std::function<void(uint32_t)> on_exit_;
};

}  // namespace vtlab
