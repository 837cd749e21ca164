#include "devices/port61.h"

#include "core/snapshot.h"

namespace vtlab {

SystemControlPortB::SystemControlPortB(VirtualClock& clock, Pit8254& pit)
    : ByteRegisters(kPorts), clock_(clock), pit_(pit) {
  reset();
}

void SystemControlPortB::reset() { write_reg(0, 0); }

uint8_t SystemControlPortB::read_reg(unsigned) {
  const bool refresh = (clock_.now() / kRefreshTicks) & 1;
  return static_cast<uint8_t>(bits_ | (refresh ? kRefresh : 0) | (pit_.out(2) ? kTimer2Out : 0));
}

void SystemControlPortB::write_reg(unsigned, uint8_t value) {
  bits_ = value & kStored;
  pit_.set_gate(2, bits_ & kTimer2Gate);
}

void SystemControlPortB::save(SnapshotWriter& w) const { w.put(bits_); }

bool SystemControlPortB::load(SnapshotReader& r) { return r.get(bits_); }

}  // namespace vtlab
