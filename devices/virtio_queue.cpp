// Split virtqueue layout and rules: virtio 1.1, sections 2.6.2 (alignment
// and sizes), 2.6.5 (descriptors, NEXT/WRITE/INDIRECT), 2.6.6 (available
// ring), 2.6.8 (used ring) and 2.6.7 (interrupt suppression via
// VIRTQ_AVAIL_F_NO_INTERRUPT; VIRTIO_F_EVENT_IDX is not offered).
#include "devices/virtio_queue.h"

#include <algorithm>

namespace vtlab {

namespace {

constexpr uint64_t kDescSize = 16;
constexpr uint64_t kAvailRingOffset = 4, kUsedRingOffset = 4, kUsedElemSize = 8;

bool aligned(uint64_t addr, uint64_t to) { return (addr & (to - 1)) == 0; }

}  // namespace

std::string_view describe(VirtioError e) {
  switch (e) {
    case VirtioError::kNone: return "no error";
    case VirtioError::kAvailIndexJump: return "avail.idx moved by more than the queue size";
    case VirtioError::kHeadOutOfRange: return "an available-ring entry is not a descriptor index";
    case VirtioError::kNextOutOfRange: return "a NEXT link is not a descriptor index";
    case VirtioError::kChainTooLong: return "a descriptor chain is longer than the queue size (a NEXT loop?)";
    case VirtioError::kBufferOutsideRam: return "a buffer is not wholly in guest RAM";
    case VirtioError::kReadableAfterWritable: return "a device-readable buffer follows a device-writable one";
    case VirtioError::kBadIndirect: return "a malformed indirect descriptor";
    case VirtioError::kChainTooLarge: return "a descriptor chain holds more than 64 MiB";
    case VirtioError::kMissingBuffer: return "a request lacks a buffer the device type requires";
  }
  return "unknown error";
}

bool VirtqChain::read(PhysicalMemory& mem, uint64_t offset, void* dst, uint64_t len) const {
  auto* out = static_cast<uint8_t*>(dst);
  for (const VirtqBuffer& b : readable) {
    if (len == 0) break;
    if (offset >= b.len) {
      offset -= b.len;
      continue;
    }
    const uint64_t n = std::min<uint64_t>(len, b.len - offset);
    if (!mem.read_bytes(b.addr + offset, out, n)) return false;
    out += n;
    len -= n;
    offset = 0;
  }
  return len == 0;
}

bool VirtqChain::write(PhysicalMemory& mem, uint64_t offset, const void* src, uint64_t len) const {
  const auto* in = static_cast<const uint8_t*>(src);
  for (const VirtqBuffer& b : writable) {
    if (len == 0) break;
    if (offset >= b.len) {
      offset -= b.len;
      continue;
    }
    const uint64_t n = std::min<uint64_t>(len, b.len - offset);
    if (!mem.write_bytes(b.addr + offset, in, n)) return false;
    in += n;
    len -= n;
    offset = 0;
  }
  return len == 0;
}

void Virtqueue::reset() {
  num = 0;
  desc_addr = driver_addr = device_addr = 0;
  ready_ = false;
  last_avail_ = used_idx_ = 0;
  error_ = VirtioError::kNone;
}

bool Virtqueue::enable(const PhysicalMemory& mem) {
  const uint64_t n = num;
  if (n == 0 || n > num_max_ || (n & (n - 1)) != 0) return false;
  if (!aligned(desc_addr, 16) || !aligned(driver_addr, 2) || !aligned(device_addr, 4)) return false;
  if (!mem.is_ram(desc_addr, kDescSize * n) || !mem.is_ram(driver_addr, 6 + 2 * n) ||
      !mem.is_ram(device_addr, 6 + kUsedElemSize * n))
    return false;
  // A queue enabled again starts from the rings' beginning, as after a reset.
  last_avail_ = used_idx_ = 0;
  error_ = VirtioError::kNone;
  ready_ = true;
  return true;
}

bool Virtqueue::has_available(PhysicalMemory& mem) const {
  if (!ready_ || error_ != VirtioError::kNone) return false;
  return static_cast<uint16_t>(mem.read(driver_addr + 2, 2)) != last_avail_;
}

bool Virtqueue::pop(PhysicalMemory& mem, bool indirect_allowed, VirtqChain& chain) {
  chain = VirtqChain{};
  if (!ready_ || error_ != VirtioError::kNone) return false;
  const uint16_t avail_idx = static_cast<uint16_t>(mem.read(driver_addr + 2, 2));
  const uint16_t pending = static_cast<uint16_t>(avail_idx - last_avail_);
  if (pending == 0) return false;
  if (pending > num) return fail(VirtioError::kAvailIndexJump);
  const uint16_t head =
      static_cast<uint16_t>(mem.read(driver_addr + kAvailRingOffset + 2 * (last_avail_ % num), 2));
  if (head >= num) return fail(VirtioError::kHeadOutOfRange);
  chain.head = head;
  uint16_t index = head;
  for (unsigned count = 1;; ++count) {
    // A chain may have at most `num` descriptors, so a NEXT loop stops here.
    if (count > num) return fail(VirtioError::kChainTooLong);
    const uint64_t d = desc_addr + kDescSize * index;
    const uint64_t addr = mem.read(d, 8);
    const auto len = static_cast<uint32_t>(mem.read(d + 8, 4));
    const auto flags = static_cast<uint16_t>(mem.read(d + 12, 2));
    const auto next = static_cast<uint16_t>(mem.read(d + 14, 2));
    if (flags & kDescFlagIndirect) {
      if (!indirect_allowed || (flags & kDescFlagNext)) return fail(VirtioError::kBadIndirect);
      if (!walk_indirect(mem, addr, len, chain)) return false;
      break;
    }
    if (!take(mem, addr, len, flags, chain)) return false;
    if (!(flags & kDescFlagNext)) break;
    if (next >= num) return fail(VirtioError::kNextOutOfRange);
    index = next;
  }
  ++last_avail_;
  return true;
}

bool Virtqueue::walk_indirect(PhysicalMemory& mem, uint64_t table, uint32_t len, VirtqChain& chain) {
  // The table's entries count towards the chain limit like direct ones.
  const uint64_t entries = len / kDescSize;
  if (len == 0 || len % kDescSize != 0 || entries > num || !aligned(table, 16) || !mem.is_ram(table, len))
    return fail(VirtioError::kBadIndirect);
  uint64_t index = 0;
  for (uint64_t count = 1;; ++count) {
    if (count > entries) return fail(VirtioError::kChainTooLong);
    const uint64_t d = table + kDescSize * index;
    const uint64_t addr = mem.read(d, 8);
    const auto blen = static_cast<uint32_t>(mem.read(d + 8, 4));
    const auto flags = static_cast<uint16_t>(mem.read(d + 12, 2));
    const auto next = static_cast<uint16_t>(mem.read(d + 14, 2));
    if (flags & kDescFlagIndirect) return fail(VirtioError::kBadIndirect);
    if (!take(mem, addr, blen, flags, chain)) return false;
    if (!(flags & kDescFlagNext)) return true;
    if (next >= entries) return fail(VirtioError::kNextOutOfRange);
    index = next;
  }
}

bool Virtqueue::take(PhysicalMemory& mem, uint64_t addr, uint32_t len, uint16_t flags, VirtqChain& chain) {
  if (!mem.is_ram(addr, len)) return fail(VirtioError::kBufferOutsideRam);
  if (chain.readable_bytes + chain.writable_bytes + len > kMaxChainBytes) return fail(VirtioError::kChainTooLarge);
  if (flags & kDescFlagWrite) {
    chain.writable.push_back(VirtqBuffer{addr, len});
    chain.writable_bytes += len;
    return true;
  }
  if (!chain.writable.empty()) return fail(VirtioError::kReadableAfterWritable);
  chain.readable.push_back(VirtqBuffer{addr, len});
  chain.readable_bytes += len;
  return true;
}

bool Virtqueue::push_used(PhysicalMemory& mem, uint16_t head, uint32_t written) {
  const uint64_t elem = device_addr + kUsedRingOffset + kUsedElemSize * (used_idx_ % num);
  mem.write(elem, 4, head);
  mem.write(elem + 4, 4, written);
  ++used_idx_;
  // The element is in place before the driver can see the new index.
  mem.write(device_addr + 2, 2, used_idx_);
  return !(mem.read(driver_addr, 2) & kAvailFlagNoInterrupt);
}

}  // namespace vtlab
