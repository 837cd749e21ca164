#include "devices/post_port.h"

#include "core/snapshot.h"

namespace vtlab {

uint64_t PostPort::read(uint64_t, unsigned size) { return latch_ & all_ones(size); }

void PostPort::write(uint64_t offset, unsigned size, uint64_t value) {
  // Port I/O is at most 4 bytes wide, so the latch holds any write whole.
  latch_ = static_cast<uint32_t>(value & all_ones(size));
  const PostCode code{static_cast<uint16_t>(port_ + offset), latch_, static_cast<uint8_t>(size),
                      now_ ? now_() : 0};
  if (observer_) observer_(code);
  if (codes_.size() < kMaxCodes) codes_.push_back(code);
  else ++dropped_;
}

void PostPort::clear() {
  codes_.clear();
  dropped_ = 0;
}

void PostPort::save(SnapshotWriter& w) const {
  w.put(latch_);
  w.put_vector(codes_);
  w.put(dropped_);
}

bool PostPort::load(SnapshotReader& r) {
  r.get(latch_);
  r.get_vector(codes_, kMaxCodes);
  return r.get(dropped_);
}

}  // namespace vtlab
