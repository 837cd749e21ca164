#include "devices/fw_cfg.h"

#include "core/snapshot.h"

namespace vtlab {

namespace {
// Selector bit 14 asked for write access before QEMU v2.4; the item is the
// same either way.  Bit 15 picks the architecture-specific table, which
// this model leaves empty.
constexpr uint16_t kWriteBit = 0x4000;
constexpr uint32_t kIdTraditional = 0x01;
}  // namespace

FwCfg::FwCfg(uint64_t ram_bytes, uint16_t cpus) {
  items_[kSignature] = {'Q', 'E', 'M', 'U'};
  add_le(kId, kIdTraditional, 4);
  items_[kUuid] = std::vector<uint8_t>(16, 0);
  add_le(kRamSize, ram_bytes, 8);
  add_le(kNoGraphic, 1, 2);
  add_le(kNbCpus, cpus, 2);
  add_le(kBootMenu, 0, 2);
  // APIC IDs 0..cpus-1, so the limit equals the CPU count.
  add_le(kMaxCpus, cpus, 2);
  items_[kFileDir] = {0, 0, 0, 0};  // no files
  write(0, 2, kSignature);          // QEMU selects key 0 at reset
}

void FwCfg::add_le(uint16_t key, uint64_t value, unsigned bytes) {
  std::vector<uint8_t>& item = items_[key];
  for (unsigned i = 0; i < bytes; ++i) item.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

uint64_t FwCfg::read(uint64_t, unsigned size) {
  if (size != 1) return 0;
  if (!item_ || offset_ >= item_->size()) return 0;
  return (*item_)[offset_++];
}

void FwCfg::write(uint64_t, unsigned size, uint64_t value) {
  if (size != 2) return;
  selector_ = static_cast<uint16_t>(value);
  auto it = items_.find(selector_ & ~kWriteBit);
  item_ = it == items_.end() ? nullptr : &it->second;
  offset_ = 0;
}

void FwCfg::save(SnapshotWriter& w) const {
  w.put(selector_);
  w.put(static_cast<uint64_t>(offset_));
}

bool FwCfg::load(SnapshotReader& r) {
  uint16_t selector = 0;
  uint64_t offset = 0;
  r.get(selector);
  if (!r.get(offset)) return false;
  // The items are the machine's configuration, not state: the selector
  // finds the same one again.
  write(0, 2, selector);
  offset_ = static_cast<size_t>(offset);
  return true;
}

}  // namespace vtlab
