// Register semantics follow the National Semiconductor PC16550D datasheet:
// its register summary, the interrupt identification table and the
// loopback ("diagnostic mode") description of the MCR.
#include "devices/uart16550.h"

#include "core/snapshot.h"

#include <utility>

namespace vtlab {

namespace {

// IER
constexpr uint8_t kIerRx = 0x01, kIerThre = 0x02, kIerLine = 0x04, kIerModem = 0x08;
// IIR interrupt identification (bits 0-3); bit 0 set means "none pending".
constexpr uint8_t kIirNone = 0x01, kIirLine = 0x06, kIirRx = 0x04, kIirTimeout = 0x0C,
                  kIirThre = 0x02, kIirModem = 0x00, kIirFifos = 0xC0;
// FCR
constexpr uint8_t kFcrEnable = 0x01, kFcrClearRx = 0x02, kFcrKept = 0xC9;  // enable, DMA, trigger
// LSR
constexpr uint8_t kLsrDr = 0x01, kLsrOe = 0x02, kLsrThre = 0x20, kLsrTemt = 0x40;
// MCR outputs and the MSR inputs loopback wires them to.
constexpr uint8_t kMcrDtr = 0x01, kMcrRts = 0x02, kMcrOut1 = 0x04;  // OUT2, LOOP: in the class
constexpr uint8_t kMsrCts = 0x10, kMsrDsr = 0x20, kMsrRi = 0x40, kMsrDcd = 0x80;
constexpr uint8_t kMsrDcts = 0x01, kMsrDdsr = 0x02, kMsrTeri = 0x04, kMsrDdcd = 0x08;

// Outside loopback nothing drives the modem inputs, so pretend a terminal is
// attached and ready (as QEMU does): guests that wait for CTS/DSR/DCD before
// sending would otherwise never print.
constexpr uint8_t kMsrAttached = kMsrCts | kMsrDsr | kMsrDcd;

}  // namespace

Uart16550::Uart16550(std::function<void(uint8_t)> tx, std::function<void(bool)> irq)
    : tx_(std::move(tx)), irq_(std::move(irq)) {}

void Uart16550::reset() {
  s_ = State{};
  update_irq();
}

void Uart16550::update_irq() {
  const bool level = board_irq();
  if (level == irq_level_) return;
  irq_level_ = level;
  if (irq_) irq_(level);
}

// The UART's ports are byte registers on an 8-bit ISA device; a wider
// access reaches consecutive registers one byte at a time, as the ISA bus
// splits it.  Bytes past the last register float high.
uint64_t Uart16550::read(uint64_t offset, unsigned size) {
  uint64_t v = 0;
  for (unsigned i = 0; i < size; ++i) {
    uint64_t b = offset + i < kPorts ? read_reg(static_cast<unsigned>(offset + i)) : 0xFF;
    v |= b << (8 * i);
  }
  update_irq();  // reading IIR, LSR, MSR or RBR can acknowledge the interrupt
  return v;
}

void Uart16550::write(uint64_t offset, unsigned size, uint64_t value) {
  for (unsigned i = 0; i < size && offset + i < kPorts; ++i)
    write_reg(static_cast<unsigned>(offset + i), static_cast<uint8_t>(value >> (8 * i)));
  update_irq();
}

uint8_t Uart16550::read_reg(unsigned reg) {
  switch (reg) {
    case RBR_THR:
      return dlab() ? s_.dll : pop_rx();
    case IER:
      return dlab() ? s_.dlm : s_.ier;
    case IIR_FCR: {
      uint8_t v = iir();
      // Reading IIR is what acknowledges a THRE interrupt, but only when
      // THRE is the source this read reports.
      if ((v & 0x0F) == kIirThre) s_.thre_pending = false;
      return v;
    }
    case LCR:
      return s_.lcr;
    case MCR:
      return s_.mcr;
    case LSR: {
      // LSR bit 7 (error in RCVR FIFO) needs a PE/FE/BI byte queued; the
      // model never receives one, so it stays 0.
      uint8_t v = kLsrThre | kLsrTemt | s_.lsr_errors | (s_.rx_count ? kLsrDr : 0);
      s_.lsr_errors = 0;  // reading LSR clears the error bits and the line interrupt
      return v;
    }
    case MSR: {
      uint8_t v = modem_inputs() | s_.msr_deltas;
      s_.msr_deltas = 0;
      return v;
    }
    default:
      return s_.scr;
  }
}

void Uart16550::write_reg(unsigned reg, uint8_t v) {
  switch (reg) {
    case RBR_THR:
      if (dlab())
        s_.dll = v;
      else
        transmit(v);
      break;
    case IER:
      if (dlab()) {
        s_.dlm = v;
      } else {
        // Enabling the THRE interrupt while THR is empty (always, here)
        // raises it at once; drivers rely on this to kick off transmission.
        if ((v & kIerThre) && !(s_.ier & kIerThre)) s_.thre_pending = true;
        s_.ier = v & 0x0F;
      }
      break;
    case IIR_FCR:
      write_fcr(v);
      break;
    case LCR:
      s_.lcr = v;
      break;
    case MCR:
      write_mcr(v);
      break;
    case LSR:  // factory test on the chip; not modelled
    case MSR:  // read-only
      break;
    default:
      s_.scr = v;
      break;
  }
}

void Uart16550::write_fcr(uint8_t v) {
  // Changing the FIFO mode empties the FIFOs.
  if ((v ^ s_.fcr) & kFcrEnable) s_.rx_head = s_.rx_count = 0;
  // The other FCR bits are only programmed together with FCR0 = 1.
  if (!(v & kFcrEnable)) {
    s_.fcr = 0;
    return;
  }
  if (v & kFcrClearRx) s_.rx_head = s_.rx_count = 0;
  // Bit 2 (clear XMIT FIFO) has nothing to clear: transmission is instant.
  s_.fcr = v & kFcrKept;
}

void Uart16550::write_mcr(uint8_t v) {
  uint8_t before = modem_inputs();
  s_.mcr = v & 0x1F;
  uint8_t after = modem_inputs();
  uint8_t changed = before ^ after;
  if (changed & kMsrCts) s_.msr_deltas |= kMsrDcts;
  if (changed & kMsrDsr) s_.msr_deltas |= kMsrDdsr;
  if ((before & kMsrRi) && !(after & kMsrRi)) s_.msr_deltas |= kMsrTeri;  // trailing edge only
  if (changed & kMsrDcd) s_.msr_deltas |= kMsrDdcd;
}

void Uart16550::transmit(uint8_t byte) {
  if (loopback())
    push_rx(byte);
  else if (tx_)
    tx_(byte);
  // Writing THR acknowledged any THRE interrupt, and the byte left at once,
  // so THR is empty again: a new THRE interrupt is due.
  s_.thre_pending = true;
}

void Uart16550::receive(uint8_t byte) {
  if (!loopback()) push_rx(byte);
  update_irq();
}

void Uart16550::push_rx(uint8_t byte) {
  if (s_.rx_count == rx_capacity()) {
    s_.lsr_errors |= kLsrOe;
    // In 16450 mode the new character overwrites the unread one; in FIFO
    // mode it stays in the shift register and is lost.
    if (!fifo_enabled()) s_.rx[s_.rx_head] = byte;
    return;
  }
  s_.rx[(s_.rx_head + s_.rx_count) % kFifoSize] = byte;
  ++s_.rx_count;
}

uint8_t Uart16550::pop_rx() {
  if (s_.rx_count) {
    s_.rbr = s_.rx[s_.rx_head];
    s_.rx_head = (s_.rx_head + 1) % kFifoSize;
    --s_.rx_count;
  }
  return s_.rbr;
}

size_t Uart16550::rx_trigger() const {
  static constexpr size_t kLevels[4] = {1, 4, 8, 14};
  return kLevels[s_.fcr >> 6];
}

uint8_t Uart16550::modem_inputs() const {
  if (!loopback()) return kMsrAttached;
  uint8_t m = s_.mcr;
  return ((m & kMcrRts) ? kMsrCts : 0) | ((m & kMcrDtr) ? kMsrDsr : 0) |
         ((m & kMcrOut1) ? kMsrRi : 0) | ((m & kMcrOut2) ? kMsrDcd : 0);
}

uint8_t Uart16550::iir() const {
  uint8_t id = kIirNone;
  if ((s_.ier & kIerLine) && s_.lsr_errors)
    id = kIirLine;
  else if ((s_.ier & kIerRx) && s_.rx_count)
    id = (fifo_enabled() && s_.rx_count < rx_trigger()) ? kIirTimeout : kIirRx;
  else if ((s_.ier & kIerThre) && s_.thre_pending)
    id = kIirThre;
  else if ((s_.ier & kIerModem) && s_.msr_deltas)
    id = kIirModem;
  return id | (fifo_enabled() ? kIirFifos : 0);
}

void Uart16550::save(SnapshotWriter& w) const { w.put(s_); }

bool Uart16550::load(SnapshotReader& r) {
  State s;
  r.get(s);
  if (!r.require(s.rx_head < kFifoSize && s.rx_count <= kFifoSize)) return false;
  s_ = s;
  // The line's receivers keep their own saved state: no callback.
  irq_level_ = board_irq();
  return true;
}

}  // namespace vtlab
