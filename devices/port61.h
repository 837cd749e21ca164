// System control port B at 0x61, the PC/AT's odd mix of timer and
// speaker control with status bits (IBM PC/AT Technical Reference, as
// later chipsets such as the PIIX keep it):
//   bit 0  timer 2 GATE (read/write)        bit 4  refresh request toggle (read-only)
//   bit 1  speaker data enable (read/write)  bit 5  timer 2 OUT (read-only)
//   bit 2  parity check disable (stored)    bit 6  channel check (reads 0)
//   bit 3  channel check disable (stored)   bit 7  parity error (reads 0)
// The refresh bit flips every 15.085 us of virtual time, the DRAM refresh
// period PIT channel 1 used to pace: BIOSes and kernels busy-wait on it to
// time short delays, so it must move with virtual time, not host time.
#pragma once

#include <cstdint>

#include "core/clock.h"
#include "devices/byte_registers.h"
#include "devices/pit8254.h"

namespace vtlab {

class SnapshotReader;
class SnapshotWriter;

class SystemControlPortB : public ByteRegisters {
 public:
  static constexpr uint64_t kPorts = 1;
  static constexpr uint64_t kRefreshTicks = 15'085;  // 15.085 us, one tick = 1 ns

  SystemControlPortB(VirtualClock& clock, Pit8254& pit);
  std::string_view name() const override { return "port61"; }

  // Power-on: everything 0, so timer 2's gate is low.
  void reset();

  // The speaker sounds timer 2's OUT while the data bit is set.
  bool speaker_enabled() const { return bits_ & kSpeakerData; }
  bool speaker_level() const { return speaker_enabled() && pit_.out(2); }

  // Checkpoints (core/snapshot.h): the registers and internal state, not
  // the wiring.  load() is false for a snapshot this device did not write.
  void save(SnapshotWriter& w) const;
  bool load(SnapshotReader& r);

 protected:
  uint8_t read_reg(unsigned reg) override;
  void write_reg(unsigned reg, uint8_t value) override;

 private:
  static constexpr uint8_t kTimer2Gate = 0x01, kSpeakerData = 0x02, kStored = 0x0F,
                           kRefresh = 0x10, kTimer2Out = 0x20;

  VirtualClock& clock_;
  Pit8254& pit_;
  uint8_t bits_ = 0;
};

}  // namespace vtlab
