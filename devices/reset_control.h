// The reset control register at port 0xCF9 (Intel PIIX/ICH chipsets, and
// QEMU's PC): writing bit 2 (RST_CPU) resets the machine, bit 1 (SYS_RST)
// choosing a hard reset, bit 3 (FULL_RST) a full power cycle.  Bits 1 and 3
// read back; bit 2 always reads 0.  A reset request goes to the machine,
// which stops (or, with --reboot, restarts at the reset vector).
#pragma once

#include <cstdint>
#include <functional>

#include "devices/bus.h"

namespace vtlab {

class SnapshotReader;
class SnapshotWriter;

class ResetControl : public BusDevice {
 public:
  static constexpr uint64_t kPorts = 1;
  explicit ResetControl(std::function<void(const char* why)> reset) : reset_(std::move(reset)) {}

  uint64_t read(uint64_t offset, unsigned size) override;
  void write(uint64_t offset, unsigned size, uint64_t value) override;
  std::string_view name() const override { return "reset_control"; }

  // Checkpoints (core/snapshot.h): the registers and internal state, not
  // the wiring.  load() is false for a snapshot this device did not write.
  void save(SnapshotWriter& w) const;
  bool load(SnapshotReader& r);

 private:
  static constexpr uint8_t kSysRst = 1u << 1, kRstCpu = 1u << 2, kFullRst = 1u << 3;
  std::function<void(const char* why)> reset_;
  uint8_t value_ = 0;
};

}  // namespace vtlab
