#include "core/clock.h"

namespace vtlab {

uint64_t VirtualClock::to_ticks(uint64_t count, uint64_t hz) {
  const unsigned __int128 t = static_cast<unsigned __int128>(count) * kTicksPerSecond / hz;
  return t > kNever ? kNever : static_cast<uint64_t>(t);
}

uint64_t VirtualClock::from_ticks(uint64_t ticks, uint64_t hz) {
  return static_cast<uint64_t>(static_cast<unsigned __int128>(ticks) * hz / kTicksPerSecond);
}

VirtualClock::TimerId VirtualClock::add_timer(std::string name, Callback fire) {
  timers_.push_back(Timer{std::move(name), std::move(fire), kNever});
  return static_cast<TimerId>(timers_.size() - 1);
}

void VirtualClock::arm(TimerId id, uint64_t deadline) {
  timers_.at(id).deadline = deadline;
  if (deadline < next_) {
    next_ = deadline;
    if (wake_) wake_();
  } else {
    recompute_next();
  }
}

void VirtualClock::disarm(TimerId id) {
  timers_.at(id).deadline = kNever;
  recompute_next();
}

void VirtualClock::recompute_next() {
  next_ = kNever;
  for (const Timer& t : timers_) next_ = t.deadline < next_ ? t.deadline : next_;
}

void VirtualClock::run_due() {
  const uint64_t now = now_();
  while (next_ <= now) {
    TimerId first = 0;
    for (TimerId i = 0; i < timers_.size(); ++i)
      if (timers_[i].deadline < timers_[first].deadline) first = i;
    Timer& t = timers_[first];
    t.deadline = kNever;
    recompute_next();
    t.fire();
  }
}

}  // namespace vtlab
