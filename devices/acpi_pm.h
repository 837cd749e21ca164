// The ACPI fixed-hardware power-management registers a PC chipset decodes
// in I/O space, following the ACPI 6.x specification, section 4.8 ("ACPI
// Hardware Specification": PM1 event and control registers, the power
// management timer), at the ports QEMU's PIIX4 and ICH9 use: PM1a_EVT_BLK
// at 0x600 (status, then enable), PM1a_CNT_BLK at 0x604, PM_TMR_BLK at
// 0x608.  The FADT (devices/acpi_tables.h) points the OS here.
//
// The machine is always in ACPI mode (the FADT's SMI_CMD is 0), so
// PM1_CNT.SCI_EN reads 1 and ignores writes.  Writing SLP_EN with SLP_TYP
// 5 (the \_S5 package in the DSDT) powers the machine off; the machine
// has no other sleeping state, so other sleep requests are counted and
// ignored.
//
// The timer counts at 3.579545 MHz on virtual time, 24 bits wide (the
// FADT leaves TMR_VAL_EXT clear; bits 31:24 read 0): the count at virtual
// time t ns is floor(t * 3579545 / 10^9) mod 2^24, so it reads the same
// every run.  TMR_STS sets each time bit 23 of the count changes, and
// with TMR_EN raises the SCI.  No other status source is modelled (no
// power button, no RTC alarm, no global lock owner to release): their
// status bits read 0, and their enable bits are stored.
//
// Registers take byte, word and dword accesses; bytes of the block with no
// register (0x606-0x607) read 0xFF and ignore writes.
#pragma once

#include <cstdint>
#include <functional>

#include "core/clock.h"
#include "devices/bus.h"

namespace vtlab {

class SnapshotReader;
class SnapshotWriter;

class AcpiPm : public BusDevice {
 public:
  static constexpr uint16_t kBase = 0x600;
  static constexpr uint64_t kPorts = 12;
  // Offsets from kBase, and the block lengths the FADT declares.
  enum Offset : uint8_t { PM1_STS = 0, PM1_EN = 2, PM1_CNT = 4, PM_TMR = 8 };
  static constexpr uint8_t kEvtLen = 4, kCntLen = 2, kTmrLen = 4;
  static constexpr uint64_t kTimerHz = 3'579'545;
  static constexpr unsigned kTimerBits = 24;
  static constexpr uint16_t kSlpTypS5 = 5;

  // PM1 status/enable bits (ACPI 6.x tables 4.16, 4.17).
  static constexpr uint16_t kTmr = 1u << 0, kGbl = 1u << 5, kPwrBtn = 1u << 8, kSlpBtn = 1u << 9,
                            kRtc = 1u << 10, kPciExpWake = 1u << 14, kWak = 1u << 15;
  // PM1 control bits (table 4.18).
  static constexpr uint16_t kSciEn = 1u << 0, kBmRld = 1u << 1, kGblRls = 1u << 2, kSlpEn = 1u << 13;

  // `sci` drives the SCI line (true: asserted); `power_off` is the S5 entry.
  AcpiPm(VirtualClock& clock, std::function<void(bool)> sci, std::function<void()> power_off);
  AcpiPm(const AcpiPm&) = delete;
  AcpiPm& operator=(const AcpiPm&) = delete;

  uint64_t read(uint64_t offset, unsigned size) override;
  void write(uint64_t offset, unsigned size, uint64_t value) override;
  std::string_view name() const override { return "acpi-pm"; }

  // Read-only views (no side effects) for a debugger and tests.
  uint32_t timer() const;
  uint16_t status() const;
  uint16_t enable() const { return s_.enable; }
  uint16_t control() const { return static_cast<uint16_t>(s_.control | kSciEn); }
  bool sci() const { return sci_level_; }
  uint64_t ignored_sleeps() const { return ignored_sleeps_; }

  // Power-on state: nothing enabled, SLP_TYP 0, TMR_STS clear from now on.
  void reset();

  // Checkpoints (core/snapshot.h): registers, not the wiring or the clock.
  void save(SnapshotWriter& w) const;
  bool load(SnapshotReader& r);

 private:
  uint8_t read_byte(unsigned offset);
  void write_byte(unsigned offset, uint8_t v);
  void write_control_high(uint8_t v);
  // Times bit 23 of the count has changed by virtual time `t`.
  static uint64_t msb_changes(uint64_t t);
  void update();

  VirtualClock& clock_;
  VirtualClock::TimerId timer_id_;
  std::function<void(bool)> sci_;
  std::function<void()> power_off_;

  struct State {
    uint16_t enable = 0;
    uint16_t control = 0;        // BM_RLD and SLP_TYP as written
    uint64_t msb_changes_seen = 0;  // the count of changes TMR_STS was last cleared at
  } s_;
  bool sci_level_ = false;
  uint64_t ignored_sleeps_ = 0;
};

}  // namespace vtlab
