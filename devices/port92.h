// System control port A at 0x92 (the "fast A20 and reset" port of PS/2
// machines, kept by every PC chipset since), as the IBM PS/2 technical
// reference and Intel's PIIX datasheets describe it:
//   bit 0  fast reset: writing 1 where it read 0 resets the machine
//   bit 1  A20 gate
//   bit 3  power-on password lock, bits 6-7 disk activity light: stored
//          only, nothing here drives them.
// Bit 1 reads back the A20 gate as it is now, which the keyboard
// controller may also have changed since this port was written.
#pragma once

#include <cstdint>
#include <functional>

#include "devices/bus.h"

namespace vtlab {

class SnapshotReader;
class SnapshotWriter;

class SystemControlPortA : public BusDevice {
 public:
  static constexpr uint64_t kPorts = 1;

  // `a20` drives the gate, `a20_enabled` reports its current state, and
  // `reset` resets the machine.
  SystemControlPortA(std::function<void(bool enabled)> a20, std::function<bool()> a20_enabled,
                     std::function<void(const char* why)> reset);

  uint64_t read(uint64_t offset, unsigned size) override;
  void write(uint64_t offset, unsigned size, uint64_t value) override;
  std::string_view name() const override { return "port92"; }

  // Checkpoints (core/snapshot.h): the registers and internal state, not
  // the wiring.  load() is false for a snapshot this device did not write.
  void save(SnapshotWriter& w) const;
  bool load(SnapshotReader& r);

 private:
  std::function<void(bool)> a20_;
  std::function<bool()> a20_enabled_;
  std::function<void(const char*)> reset_;
  uint8_t value_ = 0;
};

}  // namespace vtlab
