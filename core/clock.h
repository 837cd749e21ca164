// Virtual time and the timers devices arm on it.
//
// Virtual time advances with instructions retired, events delivered and
// time skipped while the CPU is halted; it never depends on the host, so a
// run is the same every time.  One tick is one nanosecond of guest time:
// the modelled CPU retires one instruction per nanosecond (a 1 GHz TSC).
// Devices convert their own rates with to_ticks / from_ticks.
//
// Devices arm timers at absolute virtual times; the engine runs the due
// ones at instruction boundaries (run_due) and never runs past the next
// deadline without doing so.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace vtlab {

class VirtualClock {
 public:
  static constexpr uint64_t kTicksPerSecond = 1'000'000'000;
  static constexpr uint64_t kNever = ~uint64_t{0};
  using TimerId = uint32_t;
  using Callback = std::function<void()>;

  explicit VirtualClock(std::function<uint64_t()> now) : now_(std::move(now)) {}

  uint64_t now() const { return now_(); }

  // `count` periods of an `hz` clock in ticks (rounded down), and the
  // number of whole `hz` periods in `ticks`.  Exact for any 64-bit inputs
  // whose result fits.
  static uint64_t to_ticks(uint64_t count, uint64_t hz);
  static uint64_t from_ticks(uint64_t ticks, uint64_t hz);

  // Registers a timer (disarmed).  `name` is for debuggers and messages.
  TimerId add_timer(std::string name, Callback fire);
  // Arms (or re-arms) `id` to fire when virtual time reaches `deadline`.
  // A deadline in the past fires at the next instruction boundary.
  void arm(TimerId id, uint64_t deadline);
  void disarm(TimerId id);
  bool armed(TimerId id) const { return timers_.at(id).deadline != kNever; }
  uint64_t deadline(TimerId id) const { return timers_.at(id).deadline; }
  const std::string& name(TimerId id) const { return timers_.at(id).name; }
  size_t timer_count() const { return timers_.size(); }

  // The earliest armed deadline, kNever when none is armed.
  uint64_t next_deadline() const { return next_; }
  // Fires every timer whose deadline is at or before now(), earliest first
  // (ties in registration order).  A timer is disarmed before its callback
  // runs; the callback may re-arm it (periodic timers do).
  void run_due();

  // Called whenever arm() moves the next deadline earlier, so an engine in
  // the middle of a long run can stop at it.
  void set_wake(std::function<void()> wake) { wake_ = std::move(wake); }

 private:
  struct Timer {
    std::string name;
    Callback fire;
    uint64_t deadline = kNever;
  };
  void recompute_next();

  std::function<uint64_t()> now_;
  std::function<void()> wake_;
  std::vector<Timer> timers_;
  uint64_t next_ = kNever;
};

}  // namespace vtlab
