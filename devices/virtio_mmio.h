// The virtio-mmio transport, version 2 ("modern") register layout, from
// the OASIS virtio 1.1 spec section 4.2 (1.2: the same, plus the shared
// memory registers, which read as "no region" here).  A device type
// (virtio_console.h, virtio_blk.h) derives from VirtioMmioDevice and
// supplies its ID, features, configuration space and queue handlers; the
// transport owns the registers, the status handshake, feature negotiation,
// the virtqueues and the interrupt line.
//
// Choices where the spec leaves room (docs/VIRTIO.md lists them):
// * Control registers (below 0x100) are 32-bit and aligned (4.2.2.2); any
//   other access reads 0, is ignored on write and is counted in
//   bad_accesses().  The configuration space takes 1, 2, 4 and 8-byte
//   accesses.
// * Status only gains bits: the driver cannot clear one except by writing
//   0 (reset).  FEATURES_OK sticks only when the driver's features are a
//   subset of the device's and include VIRTIO_F_VERSION_1 (no legacy
//   interface).  DEVICE_NEEDS_RESET (64) is the device's own bit.
// * Queue registers take writes only while the selected queue is not
//   ready.  QueueReady = 1 with a bad size or ring address leaves it 0.
// * Buffers are processed only after DRIVER_OK, synchronously on
//   QueueNotify, and never once DEVICE_NEEDS_RESET is set.  A driver rule
//   broken in a queue sets DEVICE_NEEDS_RESET and raises the configuration
//   change interrupt (spec 2.1.2).
// * The interrupt output is a level: high while InterruptStatus is
//   non-zero, low after InterruptACK clears it (4.2.2.1).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "devices/bus.h"
#include "devices/virtio_queue.h"
#include "mmu/phys_memory.h"

namespace vtlab {

class VirtioMmioDevice : public BusDevice {
 public:
  // Register offsets (spec 4.2.2, table "MMIO Device Register Layout").
  enum Reg : uint32_t {
    kMagicValue = 0x000, kVersion = 0x004, kDeviceId = 0x008, kVendorId = 0x00c,
    kDeviceFeatures = 0x010, kDeviceFeaturesSel = 0x014,
    kDriverFeatures = 0x020, kDriverFeaturesSel = 0x024,
    kQueueSel = 0x030, kQueueNumMax = 0x034, kQueueNum = 0x038, kQueueReady = 0x044,
    kQueueNotify = 0x050, kInterruptStatus = 0x060, kInterruptAck = 0x064, kStatus = 0x070,
    kQueueDescLow = 0x080, kQueueDescHigh = 0x084, kQueueDriverLow = 0x090, kQueueDriverHigh = 0x094,
    kQueueDeviceLow = 0x0a0, kQueueDeviceHigh = 0x0a4,
    kShmSel = 0x0ac, kShmLenLow = 0x0b0, kShmLenHigh = 0x0b4, kShmBaseLow = 0x0b8, kShmBaseHigh = 0x0bc,
    kConfigGeneration = 0x0fc, kConfig = 0x100,
  };
  static constexpr uint32_t kMagic = 0x74726976;  // "virt"
  static constexpr uint32_t kMmioVersion = 2;
  // What a device's register window spans (the config space included).
  static constexpr uint64_t kWindow = 0x200;
  // Device status bits (spec 2.1).
  static constexpr uint32_t kAcknowledge = 1, kDriver = 2, kDriverOk = 4, kFeaturesOk = 8,
                            kNeedsReset = 64, kFailed = 128;
  static constexpr uint32_t kIntUsedBuffer = 1, kIntConfigChange = 2;
  // Feature bits common to all devices (spec 6).
  static constexpr uint64_t kFeatureIndirectDesc = uint64_t{1} << 28;
  static constexpr uint64_t kFeatureVersion1 = uint64_t{1} << 32;
  // "QEMU" in ASCII, little-endian, as virtio-mmio devices usually report.
  static constexpr uint32_t kVendor = 0x554d4551;

  // `irq` drives the device's interrupt line (true = asserted).  Every
  // device offers VIRTIO_F_VERSION_1 and VIRTIO_F_INDIRECT_DESC besides
  // `device_features`.
  VirtioMmioDevice(PhysicalMemory& mem, std::function<void(bool)> irq, uint32_t device_id,
                   uint64_t device_features, unsigned queues, uint16_t queue_num_max);
  ~VirtioMmioDevice() override;

  uint64_t read(uint64_t offset, unsigned size) override;
  void write(uint64_t offset, unsigned size, uint64_t value) override;

  // Writing 0 to Status: everything back to its power-on state.
  void reset();

  uint32_t status() const { return status_; }
  uint32_t interrupt_status() const { return interrupt_status_; }
  bool irq_line() const { return interrupt_status_ != 0; }
  uint64_t driver_features() const { return driver_features_; }
  const Virtqueue& queue(unsigned i) const { return queues_[i]; }
  // Why DEVICE_NEEDS_RESET is set (kNone when it is not).
  VirtioError error() const { return error_; }
  // Accesses the spec forbids (wrong width, unaligned, unknown register,
  // write to a read-only one) and notifications that named no ready queue
  // or came before DRIVER_OK: counted, otherwise ignored.
  uint64_t bad_accesses() const { return bad_accesses_; }
  uint64_t ignored_notifies() const { return ignored_notifies_; }

 protected:
  // The device type's side.
  virtual uint8_t config_read(uint64_t offset) = 0;  // a byte of config space
  virtual void config_write(uint64_t /*offset*/, uint8_t /*value*/) {}
  virtual uint64_t config_size() const = 0;
  // The driver notified queue `q` (ready, DRIVER_OK set, no error).
  virtual void queue_notified(unsigned q) = 0;
  // DRIVER_OK was just set: a device with buffered input may deliver it.
  virtual void driver_ready() {}
  virtual void device_reset() {}

  // For device types: the queue to work on, whether the device may use it
  // now, the chain it takes next (false: none, or the queue broke, in which
  // case the device is marked as needing a reset), and handing a chain back
  // (raising the used-buffer interrupt unless the driver suppressed it).
  bool live() const { return (status_ & kDriverOk) && !(status_ & kNeedsReset); }
  bool has_available(unsigned q) { return live() && queues_[q].has_available(mem_); }
  bool pop(unsigned q, VirtqChain& chain);
  void push_used(unsigned q, const VirtqChain& chain, uint32_t written);
  // The driver broke a rule the device type checks (a malformed request).
  void needs_reset(VirtioError why);
  bool feature_negotiated(uint64_t bit) const { return (driver_features_ & bit) != 0; }

  PhysicalMemory& mem_;

 private:
  uint32_t read_reg(uint32_t reg);
  void write_reg(uint32_t reg, uint32_t value);
  void write_status(uint32_t value);
  void write_queue_reg(uint32_t reg, uint32_t value);
  void notify(uint32_t q);
  void raise(uint32_t bits);
  void set_line();
  Virtqueue* selected() { return queue_sel_ < queues_.size() ? &queues_[queue_sel_] : nullptr; }

  std::function<void(bool)> irq_;
  const uint32_t device_id_;
  const uint64_t device_features_;
  std::vector<Virtqueue> queues_;
  uint32_t device_features_sel_ = 0, driver_features_sel_ = 0, queue_sel_ = 0;
  uint64_t driver_features_ = 0;
  uint32_t status_ = 0;
  uint32_t interrupt_status_ = 0;
  bool line_ = false;
  VirtioError error_ = VirtioError::kNone;
  uint64_t bad_accesses_ = 0, ignored_notifies_ = 0;
};

}  // namespace vtlab
