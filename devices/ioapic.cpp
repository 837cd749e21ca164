// Register semantics follow the Intel 82093AA I/O APIC datasheet: 3.1
// (IOREGSEL/IOWIN), 3.2 (IOAPICID, IOAPICVER, IOAPICARB, IOREDTBL) and
// the interrupt delivery description.  The choices are in the header.
#include "devices/ioapic.h"

#include "core/snapshot.h"

#include <utility>

namespace vtlab {

namespace {

// Vector, delivery mode, destination mode, polarity, trigger mode, mask and
// the destination field; delivery status and remote IRR are read-only.
constexpr uint64_t kEntryWritable = 0xFF00000000000000ull | 0x1AFFF;
constexpr uint32_t kIdWritable = 0x0F000000;

}  // namespace

IoApic::IoApic(Deliver deliver) : deliver_(std::move(deliver)), s_(reset_state(0)) {}

IoApic::State IoApic::reset_state(uint32_t inputs) {
  State s;
  s.redirection.fill(kMasked);
  s.inputs = inputs;
  return s;
}

void IoApic::reset() { s_ = reset_state(s_.inputs); }

uint64_t IoApic::read(uint64_t offset, unsigned size) {
  if (size == 4 && offset == IOREGSEL) return s_.index;
  if (size == 4 && offset == IOWIN) return read_register(static_cast<uint8_t>(s_.index));
  ++bad_accesses_;
  return 0;
}

void IoApic::write(uint64_t offset, unsigned size, uint64_t value) {
  if (size == 4 && offset == IOREGSEL)
    s_.index = static_cast<uint32_t>(value) & 0xFF;
  else if (size == 4 && offset == IOWIN)
    write_register(static_cast<uint8_t>(s_.index), static_cast<uint32_t>(value));
  else
    ++bad_accesses_;
}

uint32_t IoApic::read_register(uint8_t index) {
  if (index >= REDTBL && index < REDTBL + 2 * kPins) {
    const uint64_t e = s_.redirection[(index - REDTBL) / 2];
    return static_cast<uint32_t>(index & 1 ? e >> 32 : e);
  }
  switch (index) {
    case ID:
    case ARB:  // loaded from the same write as the ID; one agent never rotates it
      return s_.id;
    case VER:
      return kVersion;
    default:
      ++bad_accesses_;
      return 0;
  }
}

void IoApic::write_register(uint8_t index, uint32_t v) {
  if (index == ID) {
    s_.id = v & kIdWritable;
    return;
  }
  if (index < REDTBL || index >= REDTBL + 2 * kPins) {
    if (index != VER && index != ARB) ++bad_accesses_;  // those two are read-only
    return;
  }
  const unsigned pin = (index - REDTBL) / 2;
  uint64_t& e = s_.redirection[pin];
  const uint64_t half = index & 1 ? uint64_t{v} << 32 : v;
  const uint64_t half_mask = index & 1 ? 0xFFFFFFFF00000000ull : 0xFFFFFFFFull;
  e = (e & ~(half_mask & kEntryWritable)) | (half & half_mask & kEntryWritable);
  if (!(e & kLevelTriggered)) e &= ~kRemoteIrr;  // see the header
  // Unmasking (or turning to level) a level entry whose pin is asserted
  // sends it now; an edge entry waits for its next edge.
  if (e & kLevelTriggered) send(pin);
}

bool IoApic::asserted(unsigned pin) const {
  const bool level = s_.inputs >> pin & 1;
  return (s_.redirection[pin] & kPolarityLow) ? !level : level;
}

void IoApic::set_irq(unsigned pin, bool level) {
  if (pin >= kPins) return;
  const bool was = asserted(pin);
  const uint32_t bit = 1u << pin;
  s_.inputs = level ? s_.inputs | bit : s_.inputs & ~bit;
  const bool now = asserted(pin);
  if (s_.redirection[pin] & kLevelTriggered)
    send(pin);
  else if (now && !was)
    send(pin);
}

void IoApic::send(unsigned pin) {
  uint64_t& e = s_.redirection[pin];
  const bool level = e & kLevelTriggered;
  if ((e & kMasked) || !asserted(pin) || (level && (e & kRemoteIrr))) return;
  ApicMessage m;
  m.vector = static_cast<uint8_t>(e & 0xFF);
  m.delivery_mode = static_cast<uint8_t>(e >> 8 & 7);
  m.logical = e >> 11 & 1;
  m.destination = static_cast<uint8_t>(e >> 56);
  m.level = level;
  if (!deliver_ || !deliver_(m)) {
    ++undelivered_;
    return;
  }
  if (level) e |= kRemoteIrr;
}

void IoApic::eoi(uint8_t vector) {
  for (unsigned pin = 0; pin < kPins; ++pin) {
    uint64_t& e = s_.redirection[pin];
    if ((e & 0xFF) != vector || !(e & kLevelTriggered) || !(e & kRemoteIrr)) continue;
    e &= ~kRemoteIrr;
    send(pin);  // still asserted: the device wants service again
  }
}

void IoApic::save(SnapshotWriter& w) const {
  w.put(s_);
  w.put(bad_accesses_);
  w.put(undelivered_);
}

bool IoApic::load(SnapshotReader& r) {
  State s;
  uint64_t counts[2] = {};
  r.get(s);
  r.get(counts);
  if (!r.require(s.index <= 0xFF)) return false;
  s_ = s;
  bad_accesses_ = counts[0];
  undelivered_ = counts[1];
  return true;
}

}  // namespace vtlab
