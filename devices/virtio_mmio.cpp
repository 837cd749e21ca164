// virtio-mmio register semantics: virtio 1.1 section 4.2.2 (register
// layout and the device/driver requirements under it), 4.2.3.1-2 (device
// initialization and virtqueue configuration), 2.1 (device status field),
// 2.2 (feature bits) and 3.1.1 (the driver's initialization sequence).
#include "devices/virtio_mmio.h"

#include <utility>

namespace vtlab {

VirtioMmioDevice::VirtioMmioDevice(PhysicalMemory& mem, std::function<void(bool)> irq, uint32_t device_id,
                                   uint64_t device_features, unsigned queues, uint16_t queue_num_max)
    : mem_(mem),
      irq_(std::move(irq)),
      device_id_(device_id),
      device_features_(device_features | kFeatureVersion1 | kFeatureIndirectDesc),
      queues_(queues, Virtqueue(queue_num_max)) {}

VirtioMmioDevice::~VirtioMmioDevice() = default;

void VirtioMmioDevice::reset() {
  for (Virtqueue& q : queues_) q.reset();
  device_features_sel_ = driver_features_sel_ = queue_sel_ = 0;
  driver_features_ = 0;
  status_ = 0;
  interrupt_status_ = 0;
  error_ = VirtioError::kNone;
  set_line();
  device_reset();
}

uint64_t VirtioMmioDevice::read(uint64_t offset, unsigned size) {
  if (offset >= kConfig) {
    uint64_t v = 0;
    for (unsigned i = 0; i < size; ++i) {
      const uint64_t at = offset - kConfig + i;
      if (at < config_size()) v |= uint64_t{config_read(at)} << (8 * i);
    }
    return v;
  }
  if (size != 4 || (offset & 3)) {
    ++bad_accesses_;
    return 0;
  }
  return read_reg(static_cast<uint32_t>(offset));
}

void VirtioMmioDevice::write(uint64_t offset, unsigned size, uint64_t value) {
  if (offset >= kConfig) {
    for (unsigned i = 0; i < size; ++i) {
      const uint64_t at = offset - kConfig + i;
      if (at < config_size()) config_write(at, static_cast<uint8_t>(value >> (8 * i)));
    }
    return;
  }
  if (size != 4 || (offset & 3)) {
    ++bad_accesses_;
    return;
  }
  write_reg(static_cast<uint32_t>(offset), static_cast<uint32_t>(value));
}

uint32_t VirtioMmioDevice::read_reg(uint32_t reg) {
  switch (reg) {
    case kMagicValue: return kMagic;
    case kVersion: return kMmioVersion;
    case kDeviceId: return device_id_;
    case kVendorId: return kVendor;
    case kDeviceFeatures:
      return device_features_sel_ < 2 ? static_cast<uint32_t>(device_features_ >> (32 * device_features_sel_)) : 0;
    case kQueueNumMax: return selected() ? selected()->num_max() : 0;
    case kQueueReady: return selected() && selected()->ready() ? 1 : 0;
    case kInterruptStatus: return interrupt_status_;
    case kStatus: return status_;
    // No shared memory regions: a length of all ones means "no such region" (1.2, 4.2.2).
    case kShmLenLow: case kShmLenHigh: case kShmBaseLow: case kShmBaseHigh: return 0xFFFFFFFF;
    // The configuration never changes under the driver's feet.
    case kConfigGeneration: return 0;
    default:
      ++bad_accesses_;  // write-only or no register
      return 0;
  }
}

void VirtioMmioDevice::write_reg(uint32_t reg, uint32_t value) {
  switch (reg) {
    case kDeviceFeaturesSel: device_features_sel_ = value; return;
    case kDriverFeaturesSel: driver_features_sel_ = value; return;
    case kDriverFeatures:
      // Features are fixed once FEATURES_OK is set; words past the second name no bits.
      if ((status_ & kFeaturesOk) || driver_features_sel_ >= 2) {
        ++bad_accesses_;
        return;
      }
      if (driver_features_sel_ == 0)
        driver_features_ = (driver_features_ & ~uint64_t{0xFFFFFFFF}) | value;
      else
        driver_features_ = (driver_features_ & 0xFFFFFFFF) | (uint64_t{value} << 32);
      return;
    case kQueueSel: queue_sel_ = value; return;
    case kQueueNum: case kQueueReady: case kQueueDescLow: case kQueueDescHigh: case kQueueDriverLow:
    case kQueueDriverHigh: case kQueueDeviceLow: case kQueueDeviceHigh:
      write_queue_reg(reg, value);
      return;
    case kQueueNotify: notify(value); return;
    case kInterruptAck:
      interrupt_status_ &= ~value;
      set_line();
      return;
    case kStatus: write_status(value); return;
    case kShmSel: return;
    default: ++bad_accesses_; return;  // read-only or no register
  }
}

void VirtioMmioDevice::write_status(uint32_t value) {
  if (value == 0) {
    reset();
    return;
  }
  uint32_t added = value & ~status_ & ~kNeedsReset;
  if (added & kFeaturesOk) {
    // Spec 2.2.1: the driver accepts only offered features; 4.2: no legacy, so VERSION_1 is required.
    const bool subset = (driver_features_ & ~device_features_) == 0;
    if (!subset || !(driver_features_ & kFeatureVersion1)) added &= ~kFeaturesOk;
  }
  // A driver that skipped feature negotiation (3.1.1) does not get a live device.
  if ((added & kDriverOk) && !((status_ | added) & kFeaturesOk)) added &= ~kDriverOk;
  status_ |= added;
  if (added & kDriverOk) driver_ready();
}

void VirtioMmioDevice::write_queue_reg(uint32_t reg, uint32_t value) {
  Virtqueue* q = selected();
  if (!q) {
    ++bad_accesses_;
    return;
  }
  if (reg == kQueueReady) {
    if (!(value & 1)) q->disable();
    else if (!q->ready() && !q->enable(mem_)) ++bad_accesses_;  // stays not ready
    return;
  }
  // The spec has the driver program a queue before enabling it; a live
  // queue's layout is not changed under the device.
  if (q->ready()) {
    ++bad_accesses_;
    return;
  }
  const auto low = [](uint64_t& field, uint32_t v) { field = (field & ~uint64_t{0xFFFFFFFF}) | v; };
  const auto high = [](uint64_t& field, uint32_t v) { field = (field & 0xFFFFFFFF) | (uint64_t{v} << 32); };
  switch (reg) {
    case kQueueNum: q->num = static_cast<uint16_t>(value > 0xFFFF ? 0 : value); break;
    case kQueueDescLow: low(q->desc_addr, value); break;
    case kQueueDescHigh: high(q->desc_addr, value); break;
    case kQueueDriverLow: low(q->driver_addr, value); break;
    case kQueueDriverHigh: high(q->driver_addr, value); break;
    case kQueueDeviceLow: low(q->device_addr, value); break;
    case kQueueDeviceHigh: high(q->device_addr, value); break;
    default: break;
  }
}

void VirtioMmioDevice::notify(uint32_t q) {
  if (q >= queues_.size() || !queues_[q].ready() || !live()) {
    ++ignored_notifies_;
    return;
  }
  queue_notified(q);
}

bool VirtioMmioDevice::pop(unsigned q, VirtqChain& chain) {
  if (!live()) return false;
  if (queues_[q].pop(mem_, feature_negotiated(kFeatureIndirectDesc), chain)) return true;
  if (queues_[q].error() != VirtioError::kNone) needs_reset(queues_[q].error());
  return false;
}

void VirtioMmioDevice::push_used(unsigned q, const VirtqChain& chain, uint32_t written) {
  if (queues_[q].push_used(mem_, chain.head, written)) raise(kIntUsedBuffer);
}

void VirtioMmioDevice::needs_reset(VirtioError why) {
  if (status_ & kNeedsReset) return;
  status_ |= kNeedsReset;
  error_ = why;
  if (status_ & kDriverOk) raise(kIntConfigChange);
}

void VirtioMmioDevice::raise(uint32_t bits) {
  interrupt_status_ |= bits;
  set_line();
}

void VirtioMmioDevice::set_line() {
  const bool level = interrupt_status_ != 0;
  if (level == line_) return;
  line_ = level;
  if (irq_) irq_(level);
}

}  // namespace vtlab
