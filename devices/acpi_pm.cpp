// Register semantics follow ACPI 6.x, 4.8.3 (PM1 event grouping: status
// bits are cleared by writing 1; PM1 control grouping: SLP_TYP/SLP_EN) and
// 4.8.3.3 (the power management timer).  Choices are in the header.
#include "devices/acpi_pm.h"

#include "core/snapshot.h"

#include <utility>

namespace vtlab {

namespace {

constexpr uint16_t kEnableWritable = AcpiPm::kTmr | AcpiPm::kGbl | AcpiPm::kPwrBtn | AcpiPm::kSlpBtn |
                                     AcpiPm::kRtc | AcpiPm::kPciExpWake;
// Status bits that raise the SCI with their enable bit (PCIEXP_WAKE and WAK
// only wake a sleeping machine).
constexpr uint16_t kSciSources = AcpiPm::kTmr | AcpiPm::kGbl | AcpiPm::kPwrBtn | AcpiPm::kSlpBtn | AcpiPm::kRtc;
constexpr uint16_t kSlpTypMask = 7u << 10;
constexpr unsigned kSlpTypShift = 10;
constexpr uint32_t kTimerMask = (1u << AcpiPm::kTimerBits) - 1;

// The first virtual time at which the 3.579545 MHz count reaches `count`.
uint64_t time_of_count(uint64_t count) {
  const uint64_t t = VirtualClock::to_ticks(count, AcpiPm::kTimerHz);
  return VirtualClock::from_ticks(t, AcpiPm::kTimerHz) < count ? t + 1 : t;
}

}  // namespace

AcpiPm::AcpiPm(VirtualClock& clock, std::function<void(bool)> sci, std::function<void()> power_off)
    : clock_(clock),
      timer_id_(clock.add_timer("acpi-pm timer", [this] { update(); })),
      sci_(std::move(sci)),
      power_off_(std::move(power_off)) {
  s_.msb_changes_seen = msb_changes(clock_.now());
}

void AcpiPm::reset() {
  s_ = State{};
  s_.msb_changes_seen = msb_changes(clock_.now());
  update();
}

uint64_t AcpiPm::msb_changes(uint64_t t) {
  return VirtualClock::from_ticks(t, kTimerHz) >> (kTimerBits - 1);
}

uint32_t AcpiPm::timer() const {
  return static_cast<uint32_t>(VirtualClock::from_ticks(clock_.now(), kTimerHz)) & kTimerMask;
}

uint16_t AcpiPm::status() const { return msb_changes(clock_.now()) > s_.msb_changes_seen ? kTmr : 0; }

uint64_t AcpiPm::read(uint64_t offset, unsigned size) {
  uint64_t v = 0;
  for (unsigned i = 0; i < size; ++i) {
    const uint64_t b = offset + i < kPorts ? read_byte(static_cast<unsigned>(offset + i)) : 0xFF;
    v |= b << (8 * i);
  }
  return v;
}

void AcpiPm::write(uint64_t offset, unsigned size, uint64_t value) {
  for (unsigned i = 0; i < size && offset + i < kPorts; ++i)
    write_byte(static_cast<unsigned>(offset + i), static_cast<uint8_t>(value >> (8 * i)));
  update();
}

uint8_t AcpiPm::read_byte(unsigned offset) {
  const auto byte = [offset](uint32_t reg) { return static_cast<uint8_t>(reg >> (8 * (offset & 1))); };
  switch (offset) {
    case PM1_STS:
    case PM1_STS + 1:
      return byte(status());
    case PM1_EN:
    case PM1_EN + 1:
      return byte(s_.enable);
    case PM1_CNT:
    case PM1_CNT + 1:
      return byte(control());
    case PM_TMR:
    case PM_TMR + 1:
    case PM_TMR + 2:
    case PM_TMR + 3:
      return static_cast<uint8_t>(timer() >> (8 * (offset - PM_TMR)));
    default:
      return 0xFF;
  }
}

void AcpiPm::write_byte(unsigned offset, uint8_t v) {
  const unsigned shift = 8 * (offset & 1);
  const auto merge = [shift, v](uint16_t reg, uint16_t writable) {
    const uint16_t lane = static_cast<uint16_t>(0xFF << shift);
    return static_cast<uint16_t>((reg & ~(lane & writable)) | ((v << shift) & lane & writable));
  };
  switch (offset) {
    case PM1_STS:
      if (v & kTmr) s_.msb_changes_seen = msb_changes(clock_.now());  // write 1 to clear
      break;
    case PM1_EN:
    case PM1_EN + 1:
      s_.enable = merge(s_.enable, kEnableWritable);
      break;
    case PM1_CNT:
      s_.control = merge(s_.control, kBmRld);  // SCI_EN is fixed, GBL_RLS has no BIOS to signal
      break;
    case PM1_CNT + 1:
      write_control_high(v);
      break;
    default:
      break;  // the high status byte has no modelled source; the timer is read-only
  }
}

void AcpiPm::write_control_high(uint8_t v) {
  const uint16_t high = static_cast<uint16_t>(v << 8);
  s_.control = static_cast<uint16_t>((s_.control & ~kSlpTypMask) | (high & kSlpTypMask));
  if (!(high & kSlpEn)) return;
  if (((s_.control & kSlpTypMask) >> kSlpTypShift) == kSlpTypS5) {
    if (power_off_) power_off_();
  } else {
    ++ignored_sleeps_;
  }
}

// The SCI follows status & enable; while TMR_EN is set and TMR_STS clear,
// a timer waits for the next change of bit 23.
void AcpiPm::update() {
  const uint16_t sts = status();
  const bool level = (sts & s_.enable & kSciSources) != 0;
  if (level != sci_level_) {
    sci_level_ = level;
    if (sci_) sci_(level);
  }
  if ((s_.enable & kTmr) && !(sts & kTmr))
    clock_.arm(timer_id_, time_of_count((s_.msb_changes_seen + 1) << (kTimerBits - 1)));
  else
    clock_.disarm(timer_id_);
}

void AcpiPm::save(SnapshotWriter& w) const {
  w.put(s_);
  w.put(sci_level_);
  w.put(ignored_sleeps_);
}

bool AcpiPm::load(SnapshotReader& r) {
  State s;
  bool level = false;
  uint64_t ignored = 0;
  r.get(s);
  r.get(level);
  r.get(ignored);
  if (!r.ok()) return false;
  s_ = s;
  sci_level_ = level;  // the line's receivers keep their own saved state
  ignored_sleeps_ = ignored;
  return true;
}

}  // namespace vtlab
