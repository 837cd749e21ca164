// Register semantics follow the Motorola MC146818A datasheet: registers A-D,
// the divider and rate-select tables for a 32.768 kHz time base, the update
// cycle and its UIP timing, and the alarm "don't care" codes.  The CMOS
// memory-size bytes follow the IBM PC/AT BIOS layout as QEMU fills it.
#include "devices/cmos_rtc.h"

#include "core/snapshot.h"

#include <utility>

namespace vtlab {

namespace {

constexpr uint64_t kCrystalHz = 32768;
constexpr int64_t kTicksPerSecond = static_cast<int64_t>(VirtualClock::kTicksPerSecond);
constexpr int64_t kSecondsPerDay = 86400;
// UIP rises this many divider cycles (244.140625 us) before each update.
constexpr uint64_t kUipCycles = 8;

// Register A
constexpr uint8_t kAUip = 0x80, kAWritable = 0x7F, kAPowerOn = 0x26;  // 32.768 kHz, 1024 Hz
// Register B
constexpr uint8_t kBSet = 0x80, kBPie = 0x40, kBAie = 0x20, kBUie = 0x10, kBPowerOn = 0x02;
// Register C
constexpr uint8_t kCIrqf = 0x80, kCPf = 0x40, kCAf = 0x20, kCUf = 0x10;
// Register D: the battery is good.
constexpr uint8_t kDVrt = 0x80;

// The equipment byte: bit 2 a pointing device on the keyboard controller,
// as QEMU reports it; bit 1 (maths coprocessor) stays clear because the
// modelled CPU's CPUID reports no FPU; no floppy drives; bits 5-4 = 00, a
// display adapter with its own BIOS.
constexpr uint8_t kEquipmentByte = 0x04;

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
int64_t floor_mod(int64_t a, int64_t b) { return a - floor_div(a, b) * b; }

// Gregorian calendar arithmetic on days since 1970-01-01, counted in
// 400-year cycles of 146097 days from a year that starts in March (so the
// leap day is the last day of its year).
constexpr int64_t kDaysPer400Years = 146097;
constexpr int64_t kMarch1st0000 = 719468;  // days from 0000-03-01 to 1970-01-01

int64_t days_from_civil(int64_t year, unsigned month, unsigned day) {
  const int64_t y = year - (month <= 2);
  const int64_t cycle = floor_div(y, 400);
  const int64_t year_of_cycle = y - cycle * 400;
  const int64_t month_from_march = month > 2 ? month - 3 : month + 9;
  const int64_t day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
  const int64_t day_of_cycle =
      year_of_cycle * 365 + year_of_cycle / 4 - year_of_cycle / 100 + day_of_year;
  return cycle * kDaysPer400Years + day_of_cycle - kMarch1st0000;
}

}  // namespace

struct CmosRtc::Civil {
  int64_t year;
  unsigned month, day, hour, minute, second;
  unsigned weekday;  // 0 = Sunday

  explicit Civil(int64_t t) {
    const int64_t days = floor_div(t, kSecondsPerDay);
    const int64_t secs = t - days * kSecondsPerDay;
    hour = static_cast<unsigned>(secs / 3600);
    minute = static_cast<unsigned>(secs / 60 % 60);
    second = static_cast<unsigned>(secs % 60);
    weekday = static_cast<unsigned>(floor_mod(days + 4, 7));  // 1970-01-01 was a Thursday

    const int64_t z = days + kMarch1st0000;
    const int64_t cycle = floor_div(z, kDaysPer400Years);
    const int64_t day_of_cycle = z - cycle * kDaysPer400Years;
    const int64_t year_of_cycle =
        (day_of_cycle - day_of_cycle / 1460 + day_of_cycle / 36524 - day_of_cycle / 146096) / 365;
    const int64_t day_of_year =
        day_of_cycle - (365 * year_of_cycle + year_of_cycle / 4 - year_of_cycle / 100);
    const int64_t month_from_march = (5 * day_of_year + 2) / 153;
    day = static_cast<unsigned>(day_of_year - (153 * month_from_march + 2) / 5 + 1);
    month = static_cast<unsigned>(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
    year = year_of_cycle + cycle * 400 + (month <= 2);
  }
};

CmosRtc::CmosRtc(VirtualClock& clock, std::function<void(bool)> irq, uint64_t ram_bytes,
                 int64_t epoch)
    : clock_(clock), irq_(std::move(irq)) {
  timer_ = clock_.add_timer("cmos_rtc", [this] { timer_fired(); });
  ram_[kRegA] = kAPowerOn;
  ram_[kRegB] = kBPowerOn;
  ram_[kRegD] = kDVrt;
  const uint64_t now = clock_.now();
  origin_ = static_cast<int64_t>(now);
  time_at_origin_ = epoch;
  checked_until_ = now;
  init_memory_bytes(ram_bytes);
}

void CmosRtc::init_memory_bytes(uint64_t ram_bytes) {
  auto put16 = [this](unsigned lo, uint64_t v) {
    ram_[lo] = static_cast<uint8_t>(v);
    ram_[lo + 1] = static_cast<uint8_t>(v >> 8);
  };
  constexpr uint64_t kKiB = 1024, kMiB = 1024 * kKiB;
  put16(kBaseMemLo, 640);
  const uint64_t ext_kib = ram_bytes > kMiB ? (ram_bytes - kMiB) / kKiB : 0;
  put16(kExtMemLo, ext_kib < 0xFFFF ? ext_kib : 0xFFFF);
  put16(kExtMem2Lo, ext_kib < 0xFFFF ? ext_kib : 0xFFFF);
  const uint64_t high_64k = ram_bytes > 16 * kMiB ? (ram_bytes - 16 * kMiB) / (64 * kKiB) : 0;
  put16(kHighMemLo, high_64k < 0xFFFF ? high_64k : 0xFFFF);
  ram_[kEquipment] = kEquipmentByte;
  // The AT BIOS checksum: a 16-bit sum of 0x10-0x2D, high byte first.
  unsigned sum = 0;
  for (unsigned i = 0x10; i <= 0x2D; ++i) sum += ram_[i];
  ram_[kChecksumHi] = static_cast<uint8_t>(sum >> 8);
  ram_[kChecksumLo] = static_cast<uint8_t>(sum);
}

uint64_t CmosRtc::read(uint64_t offset, unsigned size) {
  uint64_t v = 0;
  for (unsigned i = 0; i < size; ++i) {
    // The index port is write-only on a PC: reads float.
    const uint64_t b = offset + i == 1 ? read_reg(index_) : 0xFF;
    v |= b << (8 * i);
  }
  return v;
}

void CmosRtc::write(uint64_t offset, unsigned size, uint64_t value) {
  for (unsigned i = 0; i < size && offset + i < kPorts; ++i) {
    const auto b = static_cast<uint8_t>(value >> (8 * i));
    if (offset + i == 0) {
      index_ = b & 0x7F;
      nmi_masked_ = b & 0x80;
    } else {
      write_reg(index_, b);
    }
  }
}

int64_t CmosRtc::unix_time() const {
  return time_running() ? running_time(clock_.now()) : parse_time();
}

uint8_t CmosRtc::read_reg(unsigned index) {
  switch (index) {
    case kSeconds: case kMinutes: case kHours: case kDayOfWeek:
    case kDayOfMonth: case kMonth: case kYear: case kCentury:
      return time_running() ? render(index, running_time(clock_.now())) : ram_[index];
    case kRegA:
      return static_cast<uint8_t>(ram_[kRegA] | (update_in_progress() ? kAUip : 0));
    case kRegC:
      return read_reg_c();
    case kRegD:
      return kDVrt;
    default:
      return ram_[index];
  }
}

void CmosRtc::write_reg(unsigned index, uint8_t v) {
  switch (index) {
    case kSeconds: case kMinutes: case kHours: case kDayOfWeek:
    case kDayOfMonth: case kMonth: case kYear: case kCentury:
      write_time_byte(index, v);
      break;
    case kRegA:
      write_reg_a(v);
      break;
    case kRegB:
      write_reg_b(v);
      break;
    case kRegC:  // read-only
    case kRegD:
      break;
    case kSecondsAlarm: case kMinutesAlarm: case kHoursAlarm:
      catch_up();  // an update already past must be judged by the old alarm
      ram_[index] = v;
      settle();
      break;
    default:
      ram_[index] = v;
      break;
  }
}

// A time register written while the clock runs: the clock carries on from
// the new value at the divider's own pace, as the chip's counters would.
void CmosRtc::write_time_byte(unsigned index, uint8_t v) {
  catch_up();
  const bool running = time_running();
  if (running) store_time(running_time(clock_.now()));
  ram_[index] = v;
  if (running) anchor_time(parse_time());
  settle();
}

void CmosRtc::write_reg_a(uint8_t v) {
  catch_up();
  const bool was_running = time_running(), divider_was_running = divider_running();
  if (was_running) store_time(running_time(clock_.now()));
  ram_[kRegA] = v & kAWritable;
  if (divider_running() && !divider_was_running) {
    // Out of reset: the first update comes half a second from now.
    origin_ = static_cast<int64_t>(clock_.now()) - kTicksPerSecond / 2;
  }
  if (time_running()) anchor_time(parse_time());
  settle();
}

void CmosRtc::write_reg_b(uint8_t v) {
  catch_up();
  const bool was_running = time_running();
  // Freeze in the old format: the bytes are what the guest will now read.
  if (was_running && (v & kBSet)) store_time(running_time(clock_.now()));
  if (v & kBSet) v &= static_cast<uint8_t>(~kBUie);  // SET clears UIE (and aborts updates)
  ram_[kRegB] = v;
  // Restart from what the guest wrote, read in the format it now selects.
  if (!was_running && time_running()) anchor_time(parse_time());
  settle();
}

uint8_t CmosRtc::read_reg_c() {
  catch_up();
  const bool irqf = (flags_ & ram_[kRegB] & (kCPf | kCAf | kCUf)) != 0;
  const uint8_t v = static_cast<uint8_t>(flags_ | (irqf ? kCIrqf : 0));
  flags_ = 0;
  settle();
  return v;
}

uint64_t CmosRtc::cycles_at(uint64_t tick) const {
  const int64_t elapsed = static_cast<int64_t>(tick) - origin_;
  return elapsed <= 0 ? 0 : VirtualClock::from_ticks(static_cast<uint64_t>(elapsed), kCrystalHz);
}

uint64_t CmosRtc::tick_of_cycle(uint64_t cycles) const {
  const unsigned __int128 ns =
      (static_cast<unsigned __int128>(cycles) * VirtualClock::kTicksPerSecond + kCrystalHz - 1) /
      kCrystalHz;
  return static_cast<uint64_t>(origin_ + static_cast<int64_t>(ns));
}

// The rate-select table for a 32.768 kHz time base: rates 3-15 tap the
// divider at 2^(rate-1) cycles; 1 and 2 repeat rates 8 and 9.
uint64_t CmosRtc::periodic_cycles() const {
  const unsigned rate = ram_[kRegA] & 0x0F;
  if (rate == 0 || !divider_running()) return 0;
  return uint64_t{1} << (rate <= 2 ? rate + 6 : rate - 1);
}

bool CmosRtc::update_in_progress() const {
  return time_running() && cycles_at(clock_.now()) % kCrystalHz >= kCrystalHz - kUipCycles;
}

int64_t CmosRtc::running_time(uint64_t tick) const {
  return time_at_origin_ + static_cast<int64_t>(cycles_at(tick) / kCrystalHz);
}

void CmosRtc::anchor_time(int64_t t) {
  time_at_origin_ = t - static_cast<int64_t>(cycles_at(clock_.now()) / kCrystalHz);
  const unsigned written = (from_reg(ram_[kDayOfWeek]) + 6) % 7;  // register value 1 = Sunday
  weekday_offset_ = (written + 7 - Civil(t).weekday) % 7;
}

uint8_t CmosRtc::to_reg(unsigned v) const {
  return binary() ? static_cast<uint8_t>(v) : static_cast<uint8_t>((v / 10 % 10) << 4 | v % 10);
}

unsigned CmosRtc::from_reg(uint8_t b) const { return binary() ? b : (b >> 4) * 10u + (b & 0x0F); }

uint8_t CmosRtc::hours_reg(unsigned h) const {
  if (hours24()) return to_reg(h);
  const unsigned h12 = h % 12 == 0 ? 12 : h % 12;
  return static_cast<uint8_t>(to_reg(h12) | (h >= 12 ? 0x80 : 0));
}

uint8_t CmosRtc::render(unsigned index, int64_t t) const {
  const Civil c(t);
  switch (index) {
    case kSeconds: return to_reg(c.second);
    case kMinutes: return to_reg(c.minute);
    case kHours: return hours_reg(c.hour);
    case kDayOfWeek: return to_reg((c.weekday + weekday_offset_) % 7 + 1);
    case kDayOfMonth: return to_reg(c.day);
    case kMonth: return to_reg(c.month);
    case kYear: return to_reg(static_cast<unsigned>(floor_mod(c.year, 100)));
    default: return to_reg(static_cast<unsigned>(floor_div(c.year, 100)));  // kCentury
  }
}

void CmosRtc::store_time(int64_t t) {
  for (unsigned i : {kSeconds, kMinutes, kHours, kDayOfWeek, kDayOfMonth, kMonth, kYear, kCentury})
    ram_[i] = render(i, t);
}

// Out-of-range fields carry into the next larger one (month 13 is January
// of the next year, day 0 the last day of the previous month), so any
// bytes give some definite time.
int64_t CmosRtc::parse_time() const {
  const uint8_t hb = ram_[kHours];
  unsigned hour = from_reg(hours24() ? hb : hb & 0x7F);
  if (!hours24()) hour = hour % 12 + ((hb & 0x80) ? 12 : 0);
  int64_t year = static_cast<int64_t>(from_reg(ram_[kCentury])) * 100 + from_reg(ram_[kYear]);
  const int64_t month0 = static_cast<int64_t>(from_reg(ram_[kMonth])) - 1;
  year += floor_div(month0, 12);
  const int64_t days = days_from_civil(year, static_cast<unsigned>(floor_mod(month0, 12)) + 1, 1) +
                       static_cast<int64_t>(from_reg(ram_[kDayOfMonth])) - 1;
  return days * kSecondsPerDay + hour * 3600 + from_reg(ram_[kMinutes]) * 60 +
         from_reg(ram_[kSeconds]);
}

// An alarm byte of 0xC0-0xFF matches any value.
bool CmosRtc::alarm_matches(int64_t t) const {
  const Civil c(t);
  auto match = [](uint8_t alarm, uint8_t now) { return alarm >= 0xC0 || alarm == now; };
  return match(ram_[kSecondsAlarm], to_reg(c.second)) &&
         match(ram_[kMinutesAlarm], to_reg(c.minute)) && match(ram_[kHoursAlarm], hours_reg(c.hour));
}

void CmosRtc::catch_up() {
  const uint64_t now = clock_.now();
  if (now <= checked_until_) return;
  const uint64_t before = cycles_at(checked_until_), after = cycles_at(now);
  checked_until_ = now;
  if (const uint64_t period = periodic_cycles(); period && after / period > before / period)
    flags_ |= kCPf;
  if (!time_running()) return;
  const uint64_t first = before / kCrystalHz + 1, last = after / kCrystalHz;
  if (first > last) return;
  flags_ |= kCUf;
  // Every time of day comes round within a day of updates, so looking
  // further back cannot find a match that a day of them missed.
  const uint64_t stop = last - first >= kSecondsPerDay ? first + kSecondsPerDay : last + 1;
  for (uint64_t k = first; k < stop && !(flags_ & kCAf); ++k)
    if (alarm_matches(time_at_origin_ + static_cast<int64_t>(k))) flags_ |= kCAf;
}

// IRQF follows the flags and their enables; the timer runs only when an
// enabled event could raise a line that is not raised yet.
void CmosRtc::settle() {
  const bool line = (flags_ & ram_[kRegB] & (kCPf | kCAf | kCUf)) != 0;
  if (line != irq_line_) {
    irq_line_ = line;
    if (irq_) irq_(line);
  }
  uint64_t deadline = VirtualClock::kNever;
  if (!irq_line_) {
    const uint64_t now_cycles = cycles_at(clock_.now());
    const uint64_t period = periodic_cycles();
    if ((ram_[kRegB] & kBPie) && period)
      deadline = tick_of_cycle((now_cycles / period + 1) * period);
    if ((ram_[kRegB] & (kBAie | kBUie)) && time_running()) {
      const uint64_t update = tick_of_cycle((now_cycles / kCrystalHz + 1) * kCrystalHz);
      deadline = update < deadline ? update : deadline;
    }
  }
  if (deadline == VirtualClock::kNever) {
    clock_.disarm(timer_);
    return;
  }
  // Deadlines are always ahead of now; the guard keeps a rounding slip
  // from re-arming the timer at the tick it fired on, forever.
  const uint64_t now = clock_.now();
  clock_.arm(timer_, deadline > now ? deadline : now + 1);
}

void CmosRtc::timer_fired() {
  catch_up();
  settle();
}

void CmosRtc::save(SnapshotWriter& w) const {
  w.put(ram_);
  w.put(index_);
  w.put(nmi_masked_);
  w.put(origin_);
  w.put(time_at_origin_);
  w.put(weekday_offset_);
  w.put(flags_);
  w.put(checked_until_);
  w.put(irq_line_);
}

bool CmosRtc::load(SnapshotReader& r) {
  r.get(ram_);
  r.get(index_);
  r.get(nmi_masked_);
  r.get(origin_);
  r.get(time_at_origin_);
  r.get(weekday_offset_);
  r.get(flags_);
  r.get(checked_until_);
  r.get(irq_line_);
  return r.require(index_ < kRamSize);
}

}  // namespace vtlab
