// The PC/AT's two cascaded Intel 8259A programmable interrupt controllers:
// the master at ports 0x20-0x21 drives the CPU's INTR pin, the slave at
// 0xA0-0xA1 drives the master's IR2, so ISA IRQs 0-7 reach the master and
// 8-15 the slave.  Follows the Intel 8259A datasheet (initialization
// command words ICW1-ICW4, operation command words OCW1-OCW3, the priority
// resolver, cascade and the INTA sequence), plus the edge/level control
// registers (ELCR) at 0x4D0-0x4D1 that PIIX chipsets (and QEMU) add.
//
// Before its first ICW1 a chip is uninitialised: the datasheet leaves its
// behaviour undefined, so here it raises no INTR (requests still latch in
// IRR, and ICW1 then clears the edge-latched ones), the IMR reads 0 and the
// vector base is 0.  A PC BIOS initialises both chips before any OS runs;
// vtlab loads kernels without a BIOS, so the guest must do it.
//
// Edge or level: an input is level-triggered when ICW1.LTIM is set (all
// eight) or its ELCR bit is; otherwise a rising edge latches IRR and the
// input going low again does not clear the latched request.
//
// The CPU's INTA cycle is one call (acknowledge()), so the only way to see
// a spurious interrupt is a request that went away between the CPU seeing
// INTR and acknowledging it: the chip then answers with its IR7 vector
// and sets no ISR bit.  A spurious slave interrupt still sets the master's
// IR2 ISR bit, as on hardware (the master did acknowledge its IR2).
#pragma once

#include <cstdint>

#include "core/interrupt_controller.h"
#include "devices/byte_registers.h"

namespace vtlab {

class SnapshotReader;
class SnapshotWriter;

class DualPic : public InterruptController {
 public:
  enum Which : unsigned { kMaster = 0, kSlave = 1 };
  static constexpr unsigned kCascadeIr = 2;  // the master input the slave drives
  static constexpr unsigned kIrqs = 16;
  static constexpr uint64_t kPorts = 2;      // each chip; the ELCR pair too

  explicit DualPic(IntrChanged changed);

  // The level of ISA IRQ line `irq` (0-15).  IRQ 2 is the cascade on an AT:
  // the slot wire is routed to IRQ 9, so set_irq(2, ...) drives IRQ 9 as a
  // PC board does.  Numbers past 15 are ignored.
  void set_irq(unsigned irq, bool level);

  // InterruptController: the master's INTR output and the INTA cycle.
  bool intr_pending() override;
  uint8_t acknowledge() override;

  // Port views: the machine inserts master() at 0x20, slave() at 0xA0 and
  // elcr() at 0x4D0, each kPorts wide.
  BusDevice& master() { return master_port_; }
  BusDevice& slave() { return slave_port_; }
  BusDevice& elcr() { return elcr_port_; }

  // Power-on state: both chips uninitialised, ELCR all edge.
  void reset();

  // For a debugger: what the chip holds, read without side effects.
  uint8_t irr(Which w) const { return chips_[w].irr; }
  uint8_t isr(Which w) const { return chips_[w].isr; }
  uint8_t imr(Which w) const { return chips_[w].imr; }
  uint8_t vector_base(Which w) const { return chips_[w].vector_base; }
  uint8_t elcr_bits(Which w) const { return chips_[w].elcr; }
  uint8_t input_lines(Which w) const { return chips_[w].lines; }
  // The IR with the lowest priority (7 after ICW1; rotation moves it).
  uint8_t lowest_priority(Which w) const { return chips_[w].lowest; }
  bool initialised(Which w) const { return chips_[w].initialised; }
  bool auto_eoi(Which w) const { return chips_[w].aeoi; }
  bool special_mask(Which w) const { return chips_[w].special_mask; }
  bool level_triggered(Which w, unsigned ir) const {
    return chips_[w].level_mask() & (1u << (ir & 7));
  }

  // Checkpoints (core/snapshot.h): the registers and internal state, not
  // the wiring.  load() is false for a snapshot this device did not write.
  void save(SnapshotWriter& w) const;
  bool load(SnapshotReader& r);

 private:
  enum class InitStep : uint8_t { kReady, kIcw2, kIcw3, kIcw4 };

  // One 8259A.  Bits are IR numbers (bit 0 = IR0).
  struct Chip {
    bool is_master = false;  // the SP/EN pin: fixed by the board
    uint8_t irr = 0, isr = 0, imr = 0;
    uint8_t lines = 0;  // the IR input levels as last driven
    uint8_t elcr = 0;
    uint8_t vector_base = 0;
    uint8_t icw3 = 0;  // master: which IRs have slaves; slave: its ID
    uint8_t lowest = 7;
    InitStep step = InitStep::kReady;
    bool initialised = false;
    bool needs_icw4 = false, single = false, ltim = false;
    bool upm = false, aeoi = false, buffered = false, sfnm = false;
    bool rotate_on_aeoi = false, special_mask = false, read_isr = false, poll = false;

    uint8_t level_mask() const { return ltim ? 0xFF : elcr; }
    bool cascade(unsigned ir) const { return is_master && !single && (icw3 & (1u << ir)); }
    int highest(uint8_t bits) const;
    int resolve() const;
    bool intr() const { return resolve() >= 0; }
    void take(unsigned ir);
    void set_line(unsigned ir, bool level);
    void write_icw1(uint8_t v);
    void write_ocw2(uint8_t v);
    void write_ocw3(uint8_t v);
    void write_data(uint8_t v);
    uint8_t vector(unsigned ir) const { return static_cast<uint8_t>(vector_base | ir); }
  };

  class ChipPort : public ByteRegisters {
   public:
    ChipPort(DualPic& pic, Which w) : ByteRegisters(kPorts), pic_(pic), which_(w) {}
    std::string_view name() const override { return which_ == kMaster ? "pic-master" : "pic-slave"; }

   protected:
    uint8_t read_reg(unsigned reg) override { return pic_.read_port(which_, reg); }
    void write_reg(unsigned reg, uint8_t v) override { pic_.write_port(which_, reg, v); }

   private:
    DualPic& pic_;
    Which which_;
  };

  class ElcrPort : public ByteRegisters {
   public:
    explicit ElcrPort(DualPic& pic) : ByteRegisters(kPorts), pic_(pic) {}
    std::string_view name() const override { return "pic-elcr"; }

   protected:
    uint8_t read_reg(unsigned reg) override { return pic_.chips_[reg].elcr; }
    void write_reg(unsigned reg, uint8_t v) override { pic_.write_elcr(reg == 0 ? kMaster : kSlave, v); }

   private:
    DualPic& pic_;
  };

  uint8_t read_port(Which w, unsigned reg);
  void write_port(Which w, unsigned reg, uint8_t v);
  void write_elcr(Which w, uint8_t v);
  uint8_t poll(Which w);
  // Feeds the slave's INTR into the master's IR2 and reports a change of
  // the master's INTR to the CPU.
  void update();

  Chip chips_[2];
  ChipPort master_port_{*this, kMaster};
  ChipPort slave_port_{*this, kSlave};
  ElcrPort elcr_port_{*this};
  IntrChanged changed_;
  bool intr_ = false;
};

}  // namespace vtlab
