#include "devices/bus.h"

#include <algorithm>

namespace vtlab {

bool Bus::insert(uint64_t base, uint64_t length, BusDevice* device) {
  if (length == 0 || device == nullptr || base + length < base) return false;
  auto it = std::lower_bound(ranges_.begin(), ranges_.end(), base,
                             [](const Range& r, uint64_t b) { return r.base < b; });
  if (it != ranges_.end() && it->base < base + length) return false;
  if (it != ranges_.begin() && std::prev(it)->base + std::prev(it)->length > base) return false;
  ranges_.insert(it, Range{base, length, device});
  return true;
}

const Bus::Range* Bus::find(uint64_t addr) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), addr,
                             [](uint64_t a, const Range& r) { return a < r.base; });
  if (it == ranges_.begin()) return nullptr;
  --it;
  return addr - it->base < it->length ? &*it : nullptr;
}

uint64_t Bus::read(uint64_t addr, unsigned size) {
  if (const Range* r = find(addr)) return r->device->read(addr - r->base, size) & all_ones(size);
  ++unclaimed_[addr].reads;
  ++unclaimed_total_;
  return all_ones(size);
}

void Bus::write(uint64_t addr, unsigned size, uint64_t value) {
  if (const Range* r = find(addr)) {
    r->device->write(addr - r->base, size, value & all_ones(size));
    return;
  }
  ++unclaimed_[addr].writes;
  ++unclaimed_total_;
}

}  // namespace vtlab
