// Controller commands, status and output-port bits follow the IBM PC AT
// Technical Reference (keyboard controller); keyboard commands and replies
// follow IBM's PS/2 keyboard interface description.
#include "devices/i8042.h"

#include "core/snapshot.h"

#include <cstdio>
#include <utility>

namespace vtlab {

namespace {

// Controller commands (written to 0x64).
constexpr uint8_t kReadRamFirst = 0x20, kReadRamLast = 0x3F, kWriteRamFirst = 0x60,
                  kWriteRamLast = 0x7F, kDisableAux = 0xA7, kEnableAux = 0xA8, kTestAux = 0xA9,
                  kSelfTest = 0xAA, kTestKeyboard = 0xAB, kDisableKeyboard = 0xAD,
                  kEnableKeyboard = 0xAE, kReadInputPort = 0xC0, kReadOutputPort = 0xD0, kWriteOutputPort = 0xD1,
                  kWriteKeyboardBuffer = 0xD2, kWriteAuxBuffer = 0xD3, kWriteAux = 0xD4,
                  kA20Off = 0xDD, kA20On = 0xDF, kPulseFirst = 0xF0;
constexpr uint8_t kSelfTestPassed = 0x55, kInterfaceOk = 0x00;

// Keyboard commands (written to 0x60) and replies.
constexpr uint8_t kKbdSetLeds = 0xED, kKbdEcho = 0xEE, kKbdScanCodeSet = 0xF0,
                  kKbdIdentify = 0xF2, kKbdTypematic = 0xF3, kKbdReset = 0xFF;
constexpr uint8_t kAck = 0xFA, kBatPassed = 0xAA, kIdFirst = 0xAB, kIdSecond = 0x83;
// With translation on, the controller hands on scan code set 2 bytes as
// set 1; of the bytes a keyless keyboard sends only 0x83 (set 2's F7) is
// in the table, which is why a translated identify reads 0xAB 0x41.
constexpr uint8_t kIdSecondTranslated = 0x41;

// What an AT BIOS leaves after POST: keyboard interrupt, system flag
// (self-test passed), set 2 to set 1 translation.
constexpr uint8_t kCommandBytePowerOn = 0x45;
// Output port: reset line high (running), A20 on, and the bits the 8042
// firmware keeps at 1; bits 4 and 5 are the live IRQ 1 / IRQ 12 outputs.
constexpr uint8_t kOutputPortPowerOn = 0xCF, kOutKbdIrq = 0x10, kOutAuxIrq = 0x20;

}  // namespace

I8042::I8042(std::function<void(bool)> irq, std::function<void(bool)> a20,
             std::function<void(const char*)> reset)
    : irq_(std::move(irq)), a20_(std::move(a20)), reset_(std::move(reset)),
      output_port_(kOutputPortPowerOn) {
  ram_[0] = kCommandBytePowerOn;
}

uint8_t I8042::status() const {
  uint8_t s = kStatusUnlocked;  // IBF is always 0: input is taken at once
  if (count_) s |= kStatusObf | (queue_src_[head_] == Source::Aux ? kStatusAuxObf : 0);
  if (ram_[0] & kCmdSys) s |= kStatusSys;
  if (last_write_was_command_) s |= kStatusCommand;
  return s;
}

// Both registers are a byte wide; the bytes of a wider access past them
// float high.
uint64_t I8042::read(uint64_t offset, unsigned size) {
  const uint8_t v = offset == kDataOffset ? read_data() : status();
  return (all_ones(size) & ~uint64_t{0xFF}) | v;
}

void I8042::write(uint64_t offset, unsigned, uint64_t value) {
  const auto v = static_cast<uint8_t>(value);
  if (offset == kDataOffset) {
    last_write_was_command_ = false;
    write_data(v);
  } else {
    last_write_was_command_ = true;
    controller_command(v);
  }
}

uint8_t I8042::read_data() {
  if (count_) {
    last_read_ = queue_[head_];
    head_ = (head_ + 1) % kQueueSize;
    --count_;
    update_irq(true);
  }
  return last_read_;
}

void I8042::controller_command(uint8_t cmd) {
  pending_command_ = 0;
  if (cmd >= kReadRamFirst && cmd <= kReadRamLast) {
    push(ram_[cmd - kReadRamFirst], Source::Keyboard);
    return;
  }
  if (cmd >= kWriteRamFirst && cmd <= kWriteRamLast) {
    pending_command_ = cmd;
    return;
  }
  if (cmd >= kPulseFirst) {
    // Pulses the output-port bits 0-3 whose command bit is 0; only bit 0,
    // the CPU reset line, is wired to anything.
    if (!(cmd & kOutReset) && reset_) {
      std::snprintf(reset_reason_, sizeof reset_reason_, "i8042 command 0x%02X", cmd);
      reset_(reset_reason_);
    }
    return;
  }
  switch (cmd) {
    case kDisableAux: ram_[0] |= kCmdAuxDisabled; break;
    case kEnableAux: ram_[0] &= static_cast<uint8_t>(~kCmdAuxDisabled); break;
    case kTestAux:
    case kTestKeyboard: push(kInterfaceOk, Source::Keyboard); break;
    case kSelfTest:
      ram_[0] |= kCmdSys;
      push(kSelfTestPassed, Source::Keyboard);
      break;
    case kDisableKeyboard: ram_[0] |= kCmdKbdDisabled; break;
    case kEnableKeyboard: ram_[0] &= static_cast<uint8_t>(~kCmdKbdDisabled); break;
    case kReadOutputPort: {
      uint8_t v = output_port_ & static_cast<uint8_t>(~(kOutKbdIrq | kOutAuxIrq));
      if (count_ && queue_src_[head_] == Source::Keyboard) v |= kOutKbdIrq;
      if (count_ && queue_src_[head_] == Source::Aux) v |= kOutAuxIrq;
      push(v, Source::Keyboard);
      break;
    }
    case kWriteOutputPort:
    case kWriteKeyboardBuffer:
    case kWriteAuxBuffer:
    case kWriteAux: pending_command_ = cmd; break;
    case kA20Off: write_output_port(output_port_ & static_cast<uint8_t>(~kOutA20)); break;
    case kA20On: write_output_port(output_port_ | kOutA20); break;
    // Read input port: bit 7 is the keyboard-not-inhibited switch, the only
    // one a PC wires (QEMU answers 0x80 too); a guest polls OBF for it.
    case kReadInputPort: push(0x80, Source::Keyboard); break;
    default: break;  // other commands (test inputs, ...) do nothing here
  }
}

void I8042::write_data(uint8_t v) {
  const uint8_t cmd = pending_command_;
  pending_command_ = 0;
  if (cmd >= kWriteRamFirst && cmd <= kWriteRamLast) {
    ram_[cmd - kWriteRamFirst] = v;
    update_irq(false);  // the keyboard interrupt enable may have changed
    return;
  }
  switch (cmd) {
    case kWriteOutputPort: write_output_port(v); return;
    case kWriteKeyboardBuffer: push(v, Source::Keyboard); return;
    case kWriteAuxBuffer: push(v, Source::Aux); return;
    case kWriteAux: return;  // no mouse to receive it
    default: break;
  }
  // Sending to the keyboard enables its interface again (as QEMU does).
  ram_[0] &= static_cast<uint8_t>(~kCmdKbdDisabled);
  keyboard_byte(v);
}

void I8042::write_output_port(uint8_t v) {
  const bool a20_changed = (v ^ output_port_) & kOutA20;
  output_port_ = v;
  if (a20_changed && a20_) a20_(v & kOutA20);
  // Bit 0 low holds the CPU in reset.
  if (!(v & kOutReset) && reset_) reset_("i8042 output port reset line low");
}

void I8042::keyboard_byte(uint8_t v) {
  if (keyboard_pending_) {  // the parameter of LEDs, typematic rate or scan code set
    keyboard_pending_ = 0;
    keyboard_reply(kAck);
    return;
  }
  switch (v) {
    case kKbdSetLeds:
    case kKbdTypematic:
    case kKbdScanCodeSet:
      keyboard_pending_ = v;
      keyboard_reply(kAck);
      break;
    case kKbdEcho: keyboard_reply(kKbdEcho); break;
    case kKbdIdentify:
      keyboard_reply(kAck);
      keyboard_reply(kIdFirst);
      keyboard_reply(kIdSecond);
      break;
    case kKbdReset:
      keyboard_reply(kAck);
      keyboard_reply(kBatPassed);
      break;
    default: keyboard_reply(kAck); break;  // enable/disable scanning, defaults, ...
  }
}

void I8042::keyboard_reply(uint8_t byte) {
  if ((ram_[0] & kCmdTranslate) && byte == kIdSecond) byte = kIdSecondTranslated;
  push(byte, Source::Keyboard);
}

// A full queue drops the byte: a guest that never reads must not grow it.
void I8042::push(uint8_t byte, Source src) {
  if (count_ == kQueueSize) return;
  const size_t tail = (head_ + count_) % kQueueSize;
  queue_[tail] = byte;
  queue_src_[tail] = src;
  ++count_;
  update_irq(false);
}

// IRQ 1 follows a keyboard byte in the output buffer while the command byte
// enables it.  `pulse`: a byte was just read, so a following byte is a new
// interrupt and the line drops before it rises again.
void I8042::update_irq(bool pulse) {
  const bool line = count_ && queue_src_[head_] == Source::Keyboard && (ram_[0] & kCmdKbdInt);
  if (pulse && irq_line_ && line) {
    if (irq_) irq_(false);
    if (irq_) irq_(true);
    return;
  }
  if (line != irq_line_) {
    irq_line_ = line;
    if (irq_) irq_(line);
  }
}

void I8042::save(SnapshotWriter& w) const {
  w.put(ram_);
  w.put(output_port_);
  w.put(last_write_was_command_);
  w.put(pending_command_);
  w.put(keyboard_pending_);
  w.put(queue_);
  w.put(queue_src_);
  w.put(head_);
  w.put(count_);
  w.put(last_read_);
  w.put(irq_line_);
  w.put(reset_reason_);
}

bool I8042::load(SnapshotReader& r) {
  r.get(ram_);
  r.get(output_port_);
  r.get(last_write_was_command_);
  r.get(pending_command_);
  r.get(keyboard_pending_);
  r.get(queue_);
  r.get(queue_src_);
  r.get(head_);
  r.get(count_);
  r.get(last_read_);
  r.get(irq_line_);
  r.get(reset_reason_);
  reset_reason_[sizeof reset_reason_ - 1] = 0;
  return r.require(head_ < kQueueSize && count_ <= kQueueSize);
}

}  // namespace vtlab
