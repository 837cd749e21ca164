// The PC/AT keyboard controller (an Intel 8042 running IBM's firmware) at
// ports 0x60 (data) and 0x64 (status / command), with an MF-II keyboard
// behind it, following the IBM PC AT Technical Reference's keyboard
// controller chapter and the PS/2 keyboard command set.
//
// Enough for what kernels do at boot: probe and self-test the controller,
// read and write the command byte, enable and disable the two ports,
// reset and identify the keyboard, set its LEDs, and use the output port
// for the A20 gate and the CPU reset line (command 0xFE is how most
// kernels reboot).  There are no keys: nothing ever types, so the only
// keyboard bytes are replies to commands.  There is no mouse either:
// bytes sent to the auxiliary device (command 0xD4) are dropped, so a
// driver probing for one times out and carries on without it.
//
// Replies wait in a small output queue; each byte, when it reaches the
// output buffer, pulses IRQ 1 if the command byte enables the keyboard
// interrupt, so an edge-triggered PIC sees every one.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "devices/bus.h"

namespace vtlab {

class SnapshotReader;
class SnapshotWriter;

class I8042 : public BusDevice {
 public:
  static constexpr size_t kQueueSize = 16;
  static constexpr uint64_t kDataOffset = 0, kControlOffset = 4;

  // Status register bits.
  static constexpr uint8_t kStatusObf = 0x01, kStatusIbf = 0x02, kStatusSys = 0x04,
                           kStatusCommand = 0x08, kStatusUnlocked = 0x10,
                           kStatusAuxObf = 0x20;
  // Command byte bits.
  static constexpr uint8_t kCmdKbdInt = 0x01, kCmdAuxInt = 0x02, kCmdSys = 0x04,
                           kCmdKbdDisabled = 0x10, kCmdAuxDisabled = 0x20, kCmdTranslate = 0x40;
  // Output port bits.
  static constexpr uint8_t kOutReset = 0x01, kOutA20 = 0x02;

  I8042(std::function<void(bool level)> irq, std::function<void(bool enabled)> a20,
        std::function<void(const char* why)> reset);

  // Offsets are ports minus 0x60: 0 is the data port, 4 the status and
  // command port.  The ports between belong to others (0x61 is the PIT's
  // port B), so the machine inserts two one-port views: data_port() at
  // 0x60 and control_port() at 0x64.
  uint64_t read(uint64_t offset, unsigned size) override;
  void write(uint64_t offset, unsigned size, uint64_t value) override;
  std::string_view name() const override { return "i8042"; }
  BusDevice& data_port() { return data_view_; }
  BusDevice& control_port() { return control_view_; }

  uint8_t status() const;
  uint8_t command_byte() const { return ram_[0]; }
  uint8_t output_port() const { return output_port_; }
  bool irq_line() const { return irq_line_; }
  size_t pending() const { return count_; }

  // Checkpoints (core/snapshot.h): the registers and internal state, not
  // the wiring.  load() is false for a snapshot this device did not write.
  void save(SnapshotWriter& w) const;
  bool load(SnapshotReader& r);

 private:
  // One register seen through a one-port window.
  class View : public BusDevice {
   public:
    View(I8042& owner, uint64_t offset, std::string_view name)
        : owner_(owner), offset_(offset), name_(name) {}
    uint64_t read(uint64_t, unsigned size) override { return owner_.read(offset_, size); }
    void write(uint64_t, unsigned size, uint64_t v) override { owner_.write(offset_, size, v); }
    std::string_view name() const override { return name_; }

   private:
    I8042& owner_;
    uint64_t offset_;
    std::string_view name_;
  };

  enum class Source : uint8_t { Keyboard, Aux };

  uint8_t read_data();
  void write_data(uint8_t v);
  void controller_command(uint8_t cmd);
  void keyboard_byte(uint8_t v);
  void write_output_port(uint8_t v);
  void push(uint8_t byte, Source src);
  void keyboard_reply(uint8_t byte);
  void update_irq(bool pulse);

  std::function<void(bool)> irq_;
  std::function<void(bool)> a20_;
  std::function<void(const char*)> reset_;
  View data_view_{*this, kDataOffset, "i8042-data"};
  View control_view_{*this, kControlOffset, "i8042-control"};

  // The controller's 32 bytes of internal RAM; byte 0 is the command byte.
  std::array<uint8_t, 32> ram_{};
  uint8_t output_port_;
  bool last_write_was_command_ = false;
  uint8_t pending_command_ = 0;  // a controller command waiting for its data byte
  uint8_t keyboard_pending_ = 0;  // a keyboard command waiting for its parameter

  std::array<uint8_t, kQueueSize> queue_{};
  std::array<Source, kQueueSize> queue_src_{};
  size_t head_ = 0, count_ = 0;
  uint8_t last_read_ = 0;  // the output buffer keeps its byte once read
  bool irq_line_ = false;
  char reset_reason_[32] = {};
};

}  // namespace vtlab
