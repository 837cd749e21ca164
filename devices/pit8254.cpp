// Register semantics and counting follow the Intel 8254 datasheet:
// "Control Word Format", "Write Operations", "Read Operations" (counter
// latch command, read-back command, status byte) and "Mode Definitions".
#include "devices/pit8254.h"

#include "core/snapshot.h"

#include <algorithm>
#include <utility>

namespace vtlab {

namespace {

// Control word (port 0x43).
constexpr unsigned kReadBack = 3;           // SC1-SC0 = 11
constexpr uint8_t kReadBackNoCount = 0x20;  // active-low COUNT
constexpr uint8_t kReadBackNoStatus = 0x10;  // active-low STATUS
constexpr unsigned kControlReg = 3;

// The smallest x > after with x = base (mod period); base may lie ahead.
uint64_t next_in_step(int64_t base, uint64_t period, uint64_t after) {
  const int64_t gap = static_cast<int64_t>(after) + 1 - base;
  if (gap <= 0) return static_cast<uint64_t>(base);
  const int64_t p = static_cast<int64_t>(period);
  return static_cast<uint64_t>(base + (gap + p - 1) / p * p);
}

uint16_t to_bcd(uint32_t v) {
  return static_cast<uint16_t>(v % 10 | (v / 10 % 10) << 4 | (v / 100 % 10) << 8 |
                               (v / 1000 % 10) << 12);
}

uint32_t half_high(uint32_t n) { return (n + 1) / 2; }  // mode 3: OUT-high clocks

}  // namespace

// --- clock edges -----------------------------------------------------------

uint64_t Pit8254::clocks_at(uint64_t ticks) { return VirtualClock::from_ticks(ticks, kHz); }

uint64_t Pit8254::time_of_clock(uint64_t clock) {
  const uint64_t t = VirtualClock::to_ticks(clock, kHz);
  return clocks_at(t) < clock ? t + 1 : t;
}

// --- one counter ------------------------------------------------------------

uint32_t Pit8254::Counter::reload() const {
  uint32_t n = cr;
  if (bcd)
    n = (cr & 0xF) + (cr >> 4 & 0xF) * 10 + (cr >> 8 & 0xF) * 100 + (cr >> 12 & 0xF) * 1000;
  n %= modulus();
  return n == 0 ? modulus() : n;
}

void Pit8254::Counter::settle(uint64_t c) {
  if (has_next && c >= next.start) {
    seg = next;
    has_next = false;
  }
}

uint32_t Pit8254::Counter::element(uint64_t c) const {
  const Segment& s = at(c);
  if (s.start == kNeverClock || c < s.start) return held;
  const uint64_t d = c - s.start;
  if (periodic()) {
    const uint32_t n = s.value;
    const uint32_t p = static_cast<uint32_t>((d + s.phase) % n);
    if (mode() == 2) return n - p;
    // Mode 3 counts by two from N (even) or N - 1 (odd), once per half.
    const uint32_t hi = half_high(n);
    return (n & ~1u) - 2 * (p < hi ? p : p - hi);
  }
  if (!s.counting) return s.value;
  const uint32_t m = modulus();
  return static_cast<uint32_t>((s.value % m + m - d % m) % m);
}

uint16_t Pit8254::Counter::visible(uint64_t c) const {
  const uint32_t v = element(c) % modulus();
  return bcd ? to_bcd(v) : static_cast<uint16_t>(v);
}

bool Pit8254::Counter::out(uint64_t c) const {
  const Segment& s = at(c);
  const unsigned m = mode();
  // Idle: mode 0 holds OUT low from the control word (or the first byte
  // of a new count) on; every other mode holds it high.
  if (s.start == kNeverClock || c < s.start) return m != 0;
  const uint64_t d = c - s.start;
  if (periodic()) {
    const uint32_t n = s.value;
    if (n == 1) return true;
    const uint32_t p = static_cast<uint32_t>((d + s.phase) % n);
    return m == 2 ? p != n - 1 : p < half_high(n);
  }
  const bool terminal = s.counting && d == s.value;
  if (m == 4 || m == 5) return s.expired || !terminal;  // one-clock strobe
  return s.expired || (s.counting && d >= s.value);     // modes 0, 1
}

// The first CLK edge after `c` at which OUT changes, kNeverClock if none.
// Changes can only happen at a few edges a segment names; each candidate
// is checked against OUT itself.
uint64_t Pit8254::Counter::next_change(uint64_t c) const {
  uint64_t cands[8];
  unsigned n = 0;
  const auto add = [&](uint64_t x, uint64_t limit) {
    if (x > c && x < limit) cands[n++] = x;
  };
  const auto segment = [&](const Segment& s, uint64_t limit) {
    if (s.start == kNeverClock) return;
    add(s.start, limit);
    if (periodic()) {
      if (s.value == 1) return;
      const uint64_t from = std::max(c, s.start);
      const int64_t base = static_cast<int64_t>(s.start) - s.phase;
      const uint32_t fall = mode() == 2 ? s.value - 1 : half_high(s.value);
      add(next_in_step(base, s.value, from), limit);
      add(next_in_step(base + fall, s.value, from), limit);
    } else if (s.counting && !s.expired) {
      add(s.start + s.value, limit);
      add(s.start + s.value + 1, limit);
    }
  };
  segment(seg, has_next ? next.start : kNeverClock);
  if (has_next) segment(next, kNeverClock);
  uint64_t first = kNeverClock;
  for (unsigned i = 0; i < n; ++i)
    if (cands[i] < first && out(cands[i] - 1) != out(cands[i])) first = cands[i];
  return first;
}

// Where the running cycle (mode 2) or half-cycle (mode 3) ends, and
// whether the low half of a square wave starts there.
uint64_t Pit8254::Counter::cycle_end(uint64_t c, bool* low_half) const {
  *low_half = false;
  const uint32_t n = seg.value;
  if (n == 1) return c + 1;
  const int64_t base = static_cast<int64_t>(seg.start) - seg.phase;
  const uint64_t rise = next_in_step(base, n, c);
  if (mode() == 2) return rise;
  const uint64_t fall = next_in_step(base + half_high(n), n, c);
  *low_half = fall < rise;
  return std::min(rise, fall);
}

uint8_t Pit8254::Counter::status(uint64_t c) const {
  const bool null_count = c < cr_load;
  return static_cast<uint8_t>(out(c) << 7 | null_count << 6 | access << 4 | mode_bits << 1 | bcd);
}

void Pit8254::Counter::program(uint8_t control, uint64_t c) {
  settle(c);
  held = element(c);  // the element stops where it is
  mode_bits = control >> 1 & 7;
  access = control >> 4 & 3;
  bcd = control & 1;
  seg = Segment{};
  has_next = false;
  count_written = false;
  cr_load = kNeverClock;
  write_msb = read_msb = false;
  count_latched = status_latched = false;
}

// A whole count is in CR: when does it reach the counting element?
void Pit8254::Counter::load(uint64_t c) {
  const uint32_t n = reload();
  count_written = true;
  switch (mode()) {
    case 0:
    case 4:
      held = element(c);
      seg = Segment{c + 1, n, 0, gate, false};
      has_next = false;
      cr_load = c + 1;
      break;
    case 1:
    case 5:
      cr_load = kNeverClock;  // armed: the next trigger loads it
      break;
    default:
      if (seg.start != kNeverClock && c >= seg.start) {
        // Counting: the current (half-)cycle finishes with the old count.
        bool low_half;
        const uint64_t end = cycle_end(c, &low_half);
        next = Segment{end, n, low_half ? half_high(n) % n : 0, true, false};
        has_next = true;
        cr_load = end;
      } else if (!gate) {
        cr_load = kNeverClock;
      } else {
        held = element(c);
        seg = Segment{c + 1, n, 0, true, false};
        has_next = false;
        cr_load = c + 1;
      }
      break;
  }
}

void Pit8254::Counter::set_gate(bool level, uint64_t c) {
  settle(c);
  if (level == gate) return;
  gate = level;
  switch (mode()) {
    case 0:
    case 4: {
      // GATE enables counting; the element keeps its value while low.
      if (seg.start == kNeverClock) break;
      if (c < seg.start) {
        seg.counting = level;
        break;
      }
      const uint32_t v = element(c);
      const bool expired = seg.expired || (seg.counting && c - seg.start >= seg.value);
      seg = Segment{c, !expired && v == 0 ? modulus() : v, 0, level, expired};
      break;
    }
    case 1:
    case 5:
      if (level && count_written) {  // trigger
        held = element(c);
        seg = Segment{c + 1, reload(), 0, true, false};
        cr_load = c + 1;
      }
      break;
    default:
      if (!level) {
        // Counting stops and OUT goes high at once.
        held = element(c);
        seg = Segment{};
        has_next = false;
        if (cr_load > c) cr_load = kNeverClock;
      } else if (count_written) {  // trigger: reload on the next edge
        held = element(c);
        seg = Segment{c + 1, reload(), 0, true, false};
        has_next = false;
        cr_load = c + 1;
      }
      break;
  }
}

void Pit8254::Counter::latch_count(uint64_t c) {
  // Further latch commands are ignored until the latched count is read.
  if (count_latched) return;
  latched_count = visible(c);
  count_latched = true;
}

uint8_t Pit8254::Counter::read_data(uint64_t c) {
  if (status_latched) {
    status_latched = false;
    return latched_status;
  }
  const uint16_t v = count_latched ? latched_count : visible(c);
  bool msb = access == 2;
  bool done = true;
  if (access == 3) {
    msb = read_msb;
    done = read_msb;
    read_msb = !read_msb;
  }
  if (done) count_latched = false;
  return static_cast<uint8_t>(msb ? v >> 8 : v);
}

void Pit8254::Counter::write_data(uint8_t v, uint64_t c) {
  settle(c);
  if (access == 1) {
    cr = v;
  } else if (access == 2) {
    cr = static_cast<uint16_t>(v << 8);
  } else if (!write_msb) {
    written_lsb = v;
    write_msb = true;
    if (mode() == 0) {
      // Mode 0: the first byte of a new count stops counting, OUT low.
      held = element(c);
      seg = Segment{};
      has_next = false;
    }
    return;
  } else {
    cr = static_cast<uint16_t>(written_lsb | v << 8);
    write_msb = false;
  }
  load(c);
}

// --- the chip ---------------------------------------------------------------

Pit8254::Pit8254(VirtualClock& clock, std::function<void(bool)> irq)
    : ByteRegisters(kPorts),
      clock_(clock),
      irq_(std::move(irq)),
      timer_(clock.add_timer("pit8254 channel 0", [this] { sync_irq(); })) {
  // The line starts where OUT is, without a call: whatever `irq` reaches
  // may not be constructed yet.
  reset_counters();
  irq_level_ = counters_[0].out(now_clock());
  sync_irq();
}

void Pit8254::reset() {
  reset_counters();
  sync_irq();
}

void Pit8254::reset_counters() {
  const uint64_t c = now_clock();
  for (unsigned i = 0; i < kChannels; ++i) {
    Counter& k = counters_[i];
    k = Counter{};
    k.gate = i != 2;
    k.count_written = true;
    if (k.gate) {
      k.seg = Segment{c + 1, k.reload(), 0, true, false};
      k.cr_load = c + 1;
    }
  }
  armed_clock_ = kNeverClock;
}

bool Pit8254::out(unsigned channel) const {
  return counters_[channel % kChannels].out(now_clock());
}

void Pit8254::set_gate(unsigned channel, bool level) {
  if (channel >= kChannels) return;
  sync_irq();
  counters_[channel].set_gate(level, now_clock());
  sync_irq();
}

uint8_t Pit8254::read_reg(unsigned reg) {
  if (reg == kControlReg) return 0xFF;  // write-only: nobody drives the bus
  sync_irq();
  return counters_[reg].read_data(now_clock());
}

void Pit8254::write_reg(unsigned reg, uint8_t value) {
  sync_irq();
  const uint64_t c = now_clock();
  if (reg == kControlReg)
    write_control(value, c);
  else
    counters_[reg].write_data(value, c);
  sync_irq();
}

void Pit8254::write_control(uint8_t v, uint64_t c) {
  const unsigned select = v >> 6;
  if (select == kReadBack) {
    for (unsigned i = 0; i < kChannels; ++i) {
      if (!(v & (2u << i))) continue;
      Counter& k = counters_[i];
      if (!(v & kReadBackNoStatus) && !k.status_latched) {
        k.latched_status = k.status(c);
        k.status_latched = true;
      }
      if (!(v & kReadBackNoCount)) k.latch_count(c);
    }
  } else if ((v >> 4 & 3) == 0) {
    counters_[select].latch_count(c);
  } else {
    counters_[select].program(v, c);
  }
}

void Pit8254::sync_irq() {
  const uint64_t c = now_clock();
  const bool level = counters_[0].out(c);
  // Late (the timer ran after more than one change): if OUT is back where
  // it was, it still pulsed, and an edge-triggered PIC must see that.
  const bool missed_pulse = armed_clock_ <= c && level == irq_level_;
  if (irq_) {
    if (missed_pulse) {
      irq_(!level);
      irq_(level);
    } else if (level != irq_level_) {
      irq_(level);
    }
  }
  irq_level_ = level;
  armed_clock_ = counters_[0].next_change(c);
  if (armed_clock_ == kNeverClock)
    clock_.disarm(timer_);
  else
    clock_.arm(timer_, time_of_clock(armed_clock_));
}

uint64_t Pit8254::next_irq_change() const {
  return armed_clock_ == kNeverClock ? VirtualClock::kNever : time_of_clock(armed_clock_);
}

Pit8254::CounterView Pit8254::counter(unsigned channel) const {
  const Counter& k = counters_[channel % kChannels];
  const uint64_t c = now_clock();
  return CounterView{static_cast<uint8_t>(k.mode()), k.access, k.bcd, k.cr, k.visible(c),
                     k.out(c), k.gate, c < k.cr_load, k.count_latched, k.status_latched};
}

void Pit8254::save(SnapshotWriter& w) const {
  w.put(counters_);
  w.put(irq_level_);
  w.put(armed_clock_);
}

bool Pit8254::load(SnapshotReader& r) {
  Counter c[kChannels];
  bool level = false;
  uint64_t armed = 0;
  r.get(c);
  r.get(level);
  if (!r.get(armed)) return false;
  std::copy(std::begin(c), std::end(c), std::begin(counters_));
  irq_level_ = level;
  armed_clock_ = armed;
  return true;
}

}  // namespace vtlab
