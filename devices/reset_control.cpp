#include "devices/reset_control.h"

#include "core/snapshot.h"

namespace vtlab {

// A wider access at 0xCF9 reaches other chipset ports on real hardware;
// here only the low byte is this register.
uint64_t ResetControl::read(uint64_t, unsigned size) { return value_ | (all_ones(size) & ~uint64_t{0xFF}); }

void ResetControl::write(uint64_t, unsigned, uint64_t value) {
  value_ = static_cast<uint8_t>(value) & (kSysRst | kFullRst);
  if (!(value & kRstCpu)) return;
  if (value & kFullRst) reset_("port 0xCF9 full reset");
  else if (value & kSysRst) reset_("port 0xCF9 hard reset");
  else reset_("port 0xCF9 soft reset");
}

void ResetControl::save(SnapshotWriter& w) const { w.put(value_); }

bool ResetControl::load(SnapshotReader& r) { return r.get(value_); }

}  // namespace vtlab
