// A National Semiconductor PC16550D-compatible UART ("16550A"), eight ports
// wide (the PC puts COM1 at 0x3F8, IRQ 4).
//
// The model has no notion of time: a byte written to THR leaves at once, so
// THR is always empty (LSR.THRE and LSR.TEMT always read 1) and there is no
// transmit FIFO to fill.  The same holds for the receiver's character
// timeout: a FIFO holding fewer bytes than the trigger level reports the
// timeout interrupt straight away, since "four character times" have no
// meaning here.  Everything else follows the datasheet register by register,
// so guests that probe for a 16550A (scratch register, FIFO bits in IIR,
// loopback self-test) find one.
//
// No host threads: the host pushes input with receive() and is told about
// output through the tx callback, both synchronously.
//
// The interrupt: the chip's INTR pin gated by MCR.OUT2, as a PC board wires
// it to ISA IRQ 4 (OUT2 is forced inactive in loopback, so the gate is
// closed there).  The irq callback is told each change of that line after
// the register access or received byte that caused it; the PIC or IOAPIC
// it drives latches the rising edge, as on ISA.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "devices/bus.h"

namespace vtlab {

class SnapshotReader;
class SnapshotWriter;

class Uart16550 : public BusDevice {
 public:
  // Register offsets from the base port.  Offsets 0 and 1 are the divisor
  // latch instead while LCR.DLAB is set.
  enum Reg : uint8_t {
    RBR_THR = 0, IER = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7
  };
  static constexpr uint64_t kPorts = 8;
  static constexpr size_t kFifoSize = 16;

  explicit Uart16550(std::function<void(uint8_t)> tx, std::function<void(bool)> irq = {});

  uint64_t read(uint64_t offset, unsigned size) override;
  void write(uint64_t offset, unsigned size, uint64_t value) override;
  std::string_view name() const override { return "uart16550"; }

  // Back to the datasheet's master-reset state (the divisor latch, which
  // the datasheet leaves undefined, goes to 0).
  void reset();

  // A byte arriving on the serial line.  With FIFOs enabled up to 16 wait;
  // without, there is one holding register and an unread byte is replaced.
  // Either way an overrun sets LSR.OE, as on the chip; a host that wants no
  // loss checks rx_space() first (flow control, as a real modem would).
  // In loopback mode the serial input is disconnected: the byte is lost
  // and rx_space() is 0.
  void receive(uint8_t byte);
  size_t rx_space() const { return loopback() ? 0 : rx_capacity() - s_.rx_count; }
  size_t rx_pending() const { return s_.rx_count; }

  // The chip's INTR pin.  On a PC the board gates it with OUT2 before it
  // reaches the PIC; a machine that models that wiring uses out2().
  bool irq_line() const { return (iir() & 1) == 0; }
  bool out2() const { return (s_.mcr & kMcrOut2) && !loopback(); }
  // What the board's IRQ line carries: irq_line() gated by out2().
  bool board_irq() const { return irq_line() && out2(); }

  uint16_t divisor() const { return static_cast<uint16_t>(s_.dll | (s_.dlm << 8)); }
  bool loopback() const { return s_.mcr & kMcrLoop; }

  // Checkpoints (core/snapshot.h): the registers and internal state, not
  // the wiring.  load() is false for a snapshot this device did not write.
  void save(SnapshotWriter& w) const;
  bool load(SnapshotReader& r);

 private:
  uint8_t read_reg(unsigned reg);
  void write_reg(unsigned reg, uint8_t v);
  void write_fcr(uint8_t v);
  void write_mcr(uint8_t v);
  void transmit(uint8_t byte);
  void push_rx(uint8_t byte);
  uint8_t pop_rx();
  void update_irq();

  static constexpr uint8_t kMcrOut2 = 0x08, kMcrLoop = 0x10;

  bool fifo_enabled() const { return s_.fcr & 0x01; }
  bool dlab() const { return s_.lcr & 0x80; }
  size_t rx_capacity() const { return fifo_enabled() ? kFifoSize : 1; }
  size_t rx_trigger() const;
  uint8_t modem_inputs() const;
  // The IIR value the chip would return now, without read side effects.
  uint8_t iir() const;

  std::function<void(uint8_t)> tx_;
  std::function<void(bool)> irq_;
  bool irq_level_ = false;  // board_irq() as irq_ was last told

  // Everything reset() restores, in one aggregate so it cannot miss a field.
  struct State {
    std::array<uint8_t, kFifoSize> rx{};
    size_t rx_head = 0;
    size_t rx_count = 0;
    uint8_t rbr = 0;  // last byte handed to the guest; re-read when empty
    uint8_t ier = 0;
    uint8_t fcr = 0;  // write-only on the chip; kept for FIFO enable/trigger
    uint8_t lcr = 0;
    uint8_t mcr = 0;
    uint8_t lsr_errors = 0;  // OE/PE/FE/BI; DR, THRE and TEMT are derived
    uint8_t msr_deltas = 0;  // MSR bits 0-3, cleared by reading MSR
    uint8_t scr = 0;
    uint8_t dll = 0;
    uint8_t dlm = 0;
    bool thre_pending = false;
  } s_;
};

}  // namespace vtlab
