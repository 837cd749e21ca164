// The I/O APIC, following the Intel 82093AA datasheet (the one the ICH
// southbridges carry on): memory-mapped at 0xFEC00000 behind an index
// (IOREGSEL, offset 0x00) and a data window (IOWIN, offset 0x10), with
// the ID, version (0x00170011: version 0x11, 24 pins), arbitration and
// 24 redirection-table registers, each entry sending an interrupt message
// to the local APIC (devices/local_apic.h) when its pin asserts.
//
// Inputs are pin levels as the board drives them (set_irq); the entry's
// polarity bit says which level asserts.  Edge-triggered entries send one
// message per assertion, and an edge while the entry is masked is lost
// (datasheet: "neither delivered nor held pending").  Level-triggered
// entries send a message while the pin is asserted and remote IRR is
// clear; an accepted one sets remote IRR, and the local APIC's EOI of that
// vector (eoi()) clears it and re-sends if the pin is still asserted.
//
// Choices:
// * Writing an entry with the trigger mode set to edge clears remote IRR.
//   The datasheet calls the bit undefined for edge entries; Linux's EOI
//   for I/O APICs older than version 0x20 (which lack an EOI register)
//   relies on exactly this, as do QEMU and KVM.
// * Delivery is instant: the delivery-status bit reads 0.  There is one
//   APIC bus agent to arbitrate with, so the arbitration ID is the ID as
//   last written (the datasheet loads both from one write) and never
//   rotates.
// * Registers are 32-bit; other access sizes, offsets other than IOREGSEL
//   and IOWIN, and indexes with no register read 0, ignore writes and are
//   counted.
//
// At reset every entry is masked (0x00010000) and the ID is 0, so a guest
// that never programs the chip sees only the 8259A (through LINT0).
#pragma once

#include <array>
#include <cstdint>
#include <functional>

#include "devices/bus.h"
#include "devices/local_apic.h"

namespace vtlab {

class SnapshotReader;
class SnapshotWriter;

class IoApic : public BusDevice {
 public:
  static constexpr uint64_t kBase = 0xFEC00000, kSize = 0x1000;
  static constexpr unsigned kPins = 24;
  static constexpr uint32_t kVersion = 0x00170011;
  // MMIO offsets, and the indexes IOREGSEL selects.
  enum Offset : uint32_t { IOREGSEL = 0x00, IOWIN = 0x10 };
  enum Index : uint8_t { ID = 0x00, VER = 0x01, ARB = 0x02, REDTBL = 0x10 };
  // Redirection entry bits (datasheet 3.2.4).
  static constexpr uint64_t kDeliveryStatus = 1u << 12, kPolarityLow = 1u << 13, kRemoteIrr = 1u << 14,
                            kLevelTriggered = 1u << 15, kMasked = 1u << 16;

  // `deliver` puts a message on the APIC bus; true when an APIC accepted it.
  using Deliver = std::function<bool(const ApicMessage&)>;
  explicit IoApic(Deliver deliver);

  uint64_t read(uint64_t offset, unsigned size) override;
  void write(uint64_t offset, unsigned size, uint64_t value) override;
  std::string_view name() const override { return "ioapic"; }

  // The level the board drives on `pin` (pins past 23 are ignored).
  void set_irq(unsigned pin, bool level);
  // The local APIC's EOI broadcast for a level-triggered vector.
  void eoi(uint8_t vector);

  // Back to the reset state: ID 0, every entry masked, inputs kept.
  void reset();

  // Read-only views for a debugger and tests.
  uint64_t entry(unsigned pin) const { return pin < kPins ? s_.redirection[pin] : 0; }
  uint32_t id() const { return s_.id; }
  bool input(unsigned pin) const { return pin < kPins && (s_.inputs >> pin & 1); }
  // Accesses of the wrong size or place, and messages no APIC accepted.
  uint64_t bad_accesses() const { return bad_accesses_; }
  uint64_t undelivered() const { return undelivered_; }

  // Checkpoints (core/snapshot.h): the registers and input levels, not the
  // wiring.  load() is false for a snapshot this device did not write.
  void save(SnapshotWriter& w) const;
  bool load(SnapshotReader& r);

 private:
  uint32_t read_register(uint8_t index);
  void write_register(uint8_t index, uint32_t v);
  bool asserted(unsigned pin) const;
  // Sends the pin's message if it is due (level-triggered: asserted,
  // unmasked, no remote IRR; edge-triggered: called on the edge only).
  void send(unsigned pin);

  struct State {
    uint32_t index = 0;  // IOREGSEL
    uint32_t id = 0;     // bits 27:24
    std::array<uint64_t, kPins> redirection{};
    uint32_t inputs = 0;  // one bit per pin: the level driven
  };
  static State reset_state(uint32_t inputs);

  Deliver deliver_;
  State s_;
  uint64_t bad_accesses_ = 0, undelivered_ = 0;
};

}  // namespace vtlab
