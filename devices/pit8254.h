// The PC's Intel 8254 programmable interval timer at ports 0x40-0x43: three
// 16-bit down-counters clocked at 1193182 Hz.  Channel 0's OUT drives
// IRQ0; channel 2's GATE comes from port 0x61 bit 0 and its OUT goes to the
// speaker and back to port 0x61 bit 5; channels 0 and 1 have GATE tied high.
// Follows the Intel 8254 datasheet (control word, counter latch and
// read-back commands, the six modes, BCD counting).
//
// Nothing is decremented per clock: each counter remembers the CLK edge at
// which it was last loaded and derives its count and OUT for any later
// edge, so reads at any virtual time are exact.  CLK edge k falls at the
// first virtual tick by which k whole 1193182 Hz periods have elapsed
// (clocks_at / time_of_clock).  Channel 0 arms one VirtualClock timer for
// its next OUT change and reports every change through `irq`.
//
// Modes 0-5 follow the datasheet's descriptions, including GATE (counting
// enable in 0, 2, 3, 4; trigger in 1, 2, 3, 5), a new count loaded at the
// end of the current cycle (mode 2) or half-cycle (mode 3), and odd counts
// in mode 3 (high (N+1)/2, low (N-1)/2 clocks).  Where the datasheet is
// silent: a count of 1, "illegal" in modes 2 and 3, keeps OUT high; a
// count written in modes 2/3 while GATE is low waits for the trigger; BCD
// digits above 9 count with their binary weight; reading the control
// port returns the floating bus (0xFF).
//
// Power-on: the datasheet leaves mode, count and OUT undefined.  Every
// counter starts as a PC BIOS leaves it (and as QEMU resets it): mode 3,
// LSB-then-MSB access, binary, count 0 (65536), so channel 0 ticks IRQ0 at
// 18.2 Hz until the guest reprograms it; channel 2 waits for its gate.
#pragma once

#include <cstdint>
#include <functional>

#include "core/clock.h"
#include "devices/byte_registers.h"

namespace vtlab {

class SnapshotReader;
class SnapshotWriter;

class Pit8254 : public ByteRegisters {
 public:
  static constexpr uint64_t kHz = 1'193'182;
  static constexpr unsigned kChannels = 3;
  static constexpr uint64_t kPorts = 4;  // counters 0-2, then the control word
  static constexpr uint64_t kNeverClock = ~uint64_t{0};

  Pit8254(VirtualClock& clock, std::function<void(bool level)> irq);
  std::string_view name() const override { return "pit8254"; }

  void reset();

  // GATE input of `channel`; on a PC only channel 2's is wired (port 0x61).
  void set_gate(unsigned channel, bool level);
  bool gate(unsigned channel) const { return counters_[channel % kChannels].gate; }
  // OUT of `channel` now.
  bool out(unsigned channel) const;

  // CLK edges elapsed by virtual time `ticks`, and the tick at which edge
  // `clock` falls.  Consistent: clocks_at(time_of_clock(k)) == k and
  // clocks_at(time_of_clock(k) - 1) == k - 1.
  static uint64_t clocks_at(uint64_t ticks);
  static uint64_t time_of_clock(uint64_t clock);

  // For a debugger: a counter as the chip holds it now, without the side
  // effects a guest read has.
  struct CounterView {
    uint8_t mode;        // 0-5
    uint8_t access;      // RW bits: 1 LSB, 2 MSB, 3 LSB then MSB
    bool bcd;
    uint16_t initial;    // the count register as written (0 = 65536 / 10000)
    uint16_t count;      // what an unlatched read returns now (BCD if bcd)
    bool out;
    bool gate;
    bool null_count;     // a written count not yet in the counting element
    bool count_latched;
    bool status_latched;
  };
  CounterView counter(unsigned channel) const;
  // Virtual time of channel 0's next OUT change, VirtualClock::kNever if none.
  uint64_t next_irq_change() const;

  // Checkpoints (core/snapshot.h): the registers and internal state, not
  // the wiring.  load() is false for a snapshot this device did not write.
  void save(SnapshotWriter& w) const;
  bool load(SnapshotReader& r);

 protected:
  uint8_t read_reg(unsigned reg) override;
  void write_reg(unsigned reg, uint8_t value) override;

 private:
  // A stretch of counting that starts at CLK edge `start`.  One-shot modes
  // (0, 1, 4, 5): the counting element holds `value` (1..modulus) at
  // `start` and decrements on each edge while `counting`.  Periodic modes
  // (2, 3): `value` is the reload count N and `start` lies `phase` edges
  // into a cycle.  Before `start` (kNeverClock: idle) the element holds
  // Counter::held and does not count.
  struct Segment {
    uint64_t start = kNeverClock;
    uint32_t value = 0;
    uint32_t phase = 0;
    bool counting = false;
    bool expired = false;  // one-shot: terminal count reached before start
  };

  struct Counter {
    uint8_t mode_bits = 3;  // M2-M1-M0 as written (6 and 7 are modes 2, 3)
    uint8_t access = 3;
    bool bcd = false;
    uint16_t cr = 0;  // count register, as written
    bool count_written = false;  // since the last control word
    uint32_t held = 0;           // counting element while idle, binary
    Segment seg;
    Segment next;  // modes 2/3: the new count, loaded at next.start
    bool has_next = false;
    uint64_t cr_load = kNeverClock;  // edge at which `cr` reaches the element
    bool gate = true;
    bool write_msb = false;  // the write flip-flop: LSB written, MSB next
    uint8_t written_lsb = 0;
    bool read_msb = false;  // the read flip-flop
    bool count_latched = false;
    uint16_t latched_count = 0;
    bool status_latched = false;
    uint8_t latched_status = 0;

    unsigned mode() const { return mode_bits >= 6 ? mode_bits - 4u : mode_bits; }
    bool periodic() const { return mode() == 2 || mode() == 3; }
    uint32_t modulus() const { return bcd ? 10000 : 65536; }
    uint32_t reload() const;  // cr as a count, 1..modulus
    const Segment& at(uint64_t c) const { return has_next && c >= next.start ? next : seg; }
    void settle(uint64_t c);
    uint32_t element(uint64_t c) const;  // the counting element, binary
    uint16_t visible(uint64_t c) const;  // as the data port shows it
    bool out(uint64_t c) const;
    uint64_t next_change(uint64_t c) const;
    uint64_t cycle_end(uint64_t c, bool* low_half) const;
    uint8_t status(uint64_t c) const;
    void program(uint8_t control, uint64_t c);
    void load(uint64_t c);
    void set_gate(bool level, uint64_t c);
    uint8_t read_data(uint64_t c);
    void write_data(uint8_t v, uint64_t c);
    void latch_count(uint64_t c);
  };

  void reset_counters();
  uint64_t now_clock() const { return clocks_at(clock_.now()); }
  void write_control(uint8_t v, uint64_t c);
  // Brings IRQ0 up to date with channel 0's OUT and re-arms the timer.
  void sync_irq();

  VirtualClock& clock_;
  std::function<void(bool)> irq_;
  VirtualClock::TimerId timer_;
  Counter counters_[kChannels];
  bool irq_level_ = false;
  uint64_t armed_clock_ = kNeverClock;
};

}  // namespace vtlab
