#include "devices/port92.h"

#include "core/snapshot.h"

#include <utility>

namespace vtlab {

namespace {
constexpr uint8_t kFastReset = 0x01, kA20 = 0x02;
}

SystemControlPortA::SystemControlPortA(std::function<void(bool)> a20,
                                       std::function<bool()> a20_enabled,
                                       std::function<void(const char*)> reset)
    : a20_(std::move(a20)), a20_enabled_(std::move(a20_enabled)), reset_(std::move(reset)) {}

// One byte-wide register; the bytes of a wider access past it float high.
uint64_t SystemControlPortA::read(uint64_t, unsigned size) {
  const bool a20 = a20_enabled_ ? a20_enabled_() : (value_ & kA20);
  const uint8_t v = static_cast<uint8_t>((value_ & ~kA20) | (a20 ? kA20 : 0));
  return (all_ones(size) & ~uint64_t{0xFF}) | v;
}

void SystemControlPortA::write(uint64_t, unsigned, uint64_t value) {
  const auto v = static_cast<uint8_t>(value);
  const bool reset_edge = (v & kFastReset) && !(value_ & kFastReset);
  value_ = v;
  if (a20_) a20_(v & kA20);
  if (reset_edge && reset_) reset_("port 0x92 fast reset");
}

void SystemControlPortA::save(SnapshotWriter& w) const { w.put(value_); }

bool SystemControlPortA::load(SnapshotReader& r) { return r.get(value_); }

}  // namespace vtlab
