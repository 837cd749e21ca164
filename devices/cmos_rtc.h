// The PC's real-time clock and CMOS RAM: a Motorola MC146818A behind the
// index/data port pair 0x70/0x71 (IRQ 8), following the MC146818A
// datasheet register by register, with the memory-size bytes a PC BIOS
// (and QEMU) leave in CMOS RAM.
//
// Time is virtual: the clock reads `epoch` (Unix seconds, UTC) at the
// moment the device is built and then counts virtual time (1 tick = 1 ns),
// so every run reads the same dates.  The 32.768 kHz time base is exact:
// the divider chain, the periodic-interrupt taps, the once-a-second update
// and the 244 us UIP warning before it are all derived from virtual ticks
// by integer arithmetic, with no drift.
//
// Nothing is counted while nobody looks.  Flags are worked out when
// register C is read (or the state they depend on changes), and a clock
// timer is armed only while an enabled interrupt could fire and IRQ 8 is
// not already asserted.
//
// Simplifications, each invisible to guests that use the chip as PCs do:
//   - only divider setting 010 (the PC's 32.768 kHz crystal) runs the
//     clock; every other DV value holds the divider chain in reset;
//   - the daylight-saving bit (DSE) and the square-wave enable are stored
//     but have no effect (a PC does not wire the SQW pin);
//   - time written while the clock is set is read back as written, and a
//     nonsensical date (month 13, minute 75) is normalised arithmetically
//     when the clock restarts rather than counting as the chip would.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "core/clock.h"
#include "devices/bus.h"

namespace vtlab {

class SnapshotReader;
class SnapshotWriter;

class CmosRtc : public BusDevice {
 public:
  static constexpr uint64_t kPorts = 2;  // 0x70 index (bit 7 masks NMI), 0x71 data
  static constexpr size_t kRamSize = 128;
  // 2025-01-01 00:00:00 UTC.
  static constexpr int64_t kDefaultEpoch = 1'735'689'600;

  // Register indexes the model gives meaning to.
  enum Index : uint8_t {
    kSeconds = 0x00, kSecondsAlarm = 0x01, kMinutes = 0x02, kMinutesAlarm = 0x03,
    kHours = 0x04, kHoursAlarm = 0x05, kDayOfWeek = 0x06, kDayOfMonth = 0x07,
    kMonth = 0x08, kYear = 0x09, kRegA = 0x0A, kRegB = 0x0B, kRegC = 0x0C, kRegD = 0x0D,
    kEquipment = 0x14, kBaseMemLo = 0x15, kBaseMemHi = 0x16, kExtMemLo = 0x17,
    kExtMemHi = 0x18, kChecksumHi = 0x2E, kChecksumLo = 0x2F, kExtMem2Lo = 0x30,
    kExtMem2Hi = 0x31, kCentury = 0x32, kHighMemLo = 0x34, kHighMemHi = 0x35,
  };

  // `irq` receives the level of the chip's IRQ output (true = interrupt
  // requested); `ram_bytes` is the guest RAM size the memory bytes report.
  CmosRtc(VirtualClock& clock, std::function<void(bool level)> irq, uint64_t ram_bytes,
          int64_t epoch = kDefaultEpoch);

  // Byte accesses; a wider access reaches the two ports one byte at a
  // time, as the ISA bus splits it.
  uint64_t read(uint64_t offset, unsigned size) override;
  void write(uint64_t offset, unsigned size, uint64_t value) override;
  std::string_view name() const override { return "cmos_rtc"; }

  bool nmi_masked() const { return nmi_masked_; }
  bool irq_line() const { return irq_line_; }
  // The Unix time the clock shows now (frozen while SET is on or the
  // divider is in reset), for tests and debuggers.
  int64_t unix_time() const;

  // Checkpoints (core/snapshot.h): the registers and internal state, not
  // the wiring.  load() is false for a snapshot this device did not write.
  void save(SnapshotWriter& w) const;
  bool load(SnapshotReader& r);

 private:
  struct Civil;  // broken-down UTC time

  uint8_t read_reg(unsigned index);
  void write_reg(unsigned index, uint8_t v);
  void write_reg_a(uint8_t v);
  void write_reg_b(uint8_t v);
  void write_time_byte(unsigned index, uint8_t v);
  uint8_t read_reg_c();

  bool divider_running() const { return (ram_[kRegA] & 0x70) == 0x20; }
  bool time_running() const { return divider_running() && !(ram_[kRegB] & 0x80); }
  bool binary() const { return ram_[kRegB] & 0x04; }
  bool hours24() const { return ram_[kRegB] & 0x02; }

  // 32.768 kHz cycles of the divider chain completed at `tick`.
  uint64_t cycles_at(uint64_t tick) const;
  // The first tick at which `cycles` divider cycles have completed.
  uint64_t tick_of_cycle(uint64_t cycles) const;
  // Divider cycles between periodic-interrupt edges; 0 when none.
  uint64_t periodic_cycles() const;
  bool update_in_progress() const;

  // Running time <-> the frozen register bytes.
  int64_t running_time(uint64_t tick) const;
  void store_time(int64_t t);
  int64_t parse_time() const;
  void anchor_time(int64_t t);
  uint8_t to_reg(unsigned v) const;
  unsigned from_reg(uint8_t b) const;
  uint8_t hours_reg(unsigned h) const;
  bool alarm_matches(int64_t t) const;
  uint8_t render(unsigned index, int64_t t) const;

  // Sets PF/UF/AF for every divider edge and update between the last
  // catch-up and now, then raises or lowers IRQ 8 and re-arms the timer.
  void catch_up();
  void settle();
  void timer_fired();

  void init_memory_bytes(uint64_t ram_bytes);

  VirtualClock& clock_;
  std::function<void(bool)> irq_;
  VirtualClock::TimerId timer_;

  std::array<uint8_t, kRamSize> ram_{};
  uint8_t index_ = 0;
  bool nmi_masked_ = false;

  // While time runs: the divider chain was at a second boundary at tick
  // `origin_` (it may lie before tick 0: the first update comes half a
  // second after the divider leaves reset), when the clock read
  // `time_at_origin_`.  Updates happen at origin_ + k seconds.
  int64_t origin_ = 0;
  int64_t time_at_origin_ = 0;
  // The day-of-week register counts on its own; this is how far the
  // guest set it from the true weekday.
  unsigned weekday_offset_ = 0;

  uint8_t flags_ = 0;  // register C bits 6-4 (PF, AF, UF)
  uint64_t checked_until_ = 0;
  bool irq_line_ = false;
};

}  // namespace vtlab
