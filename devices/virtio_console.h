// virtio-console (device ID 3), OASIS virtio 1.1 section 5.3, on the
// virtio-mmio transport: one port, no VIRTIO_CONSOLE_F_MULTIPORT, so queue
// 0 is receiveq (host to guest) and queue 1 is transmitq (guest to host).
// VIRTIO_CONSOLE_F_EMERG_WRITE is offered: a byte written to emerg_wr
// (config offset 8) goes straight to the output, even before the driver
// is ready, as the spec intends for early debugging.  cols/rows and
// max_nr_ports read 0 (their features are not offered).
//
// Transmitted bytes go to the sink the machine gives (the same kind of
// byte callback COM1 writes to), synchronously on QueueNotify.  Received
// bytes come from the host through receive(): up to kRxBuffer of them wait
// in the device until the driver makes receive buffers available; a host
// that wants no loss checks rx_space() first.  Waiting bytes survive a
// device reset (they are the host's, not the device's).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string_view>

#include "devices/virtio_mmio.h"

namespace vtlab {

class VirtioConsole : public VirtioMmioDevice {
 public:
  static constexpr uint32_t kDeviceId = 3;
  static constexpr unsigned kReceiveq = 0, kTransmitq = 1;
  static constexpr uint16_t kQueueNumMax = 256;
  static constexpr uint64_t kFeatureEmergWrite = uint64_t{1} << 2;
  static constexpr uint64_t kConfigSize = 12;  // cols, rows, max_nr_ports, emerg_wr
  static constexpr size_t kRxBuffer = 4096;

  VirtioConsole(PhysicalMemory& mem, std::function<void(bool)> irq, std::function<void(uint8_t)> out);

  std::string_view name() const override { return "virtio-console"; }

  // Host input: returns how many of `bytes` were taken (the rest did not fit).
  size_t receive(std::string_view bytes);
  size_t rx_space() const { return kRxBuffer - rx_.size(); }
  size_t rx_pending() const { return rx_.size(); }

 protected:
  uint8_t config_read(uint64_t offset) override;
  void config_write(uint64_t offset, uint8_t value) override;
  uint64_t config_size() const override { return kConfigSize; }
  void queue_notified(unsigned q) override;
  void driver_ready() override { deliver(); }

 private:
  void transmit();
  void deliver();

  std::function<void(uint8_t)> out_;
  std::deque<uint8_t> rx_;
};

}  // namespace vtlab
