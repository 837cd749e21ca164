#include "debugger/reverse.h"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "core/interpreter.h"

namespace vtlab {

namespace {
// How far before the target a replay starts single-stepping; grown when a
// step of the run was longer (a halted sleep, a monitor's modelled exit).
constexpr uint64_t kFirstWindow = 4096;
}  // namespace

RunPosition run_position(const Machine& m) {
  return RunPosition{m.virtual_time(), m.cpu().icount, m.cpu().events};
}

ReverseExecution::ReverseExecution(Debugger& d, std::shared_ptr<Machine> current, PowerOn power_on,
                                   uint64_t checkpoint_interval)
    : d_(d), current_(std::move(current)), power_on_(std::move(power_on)), interval_(checkpoint_interval) {
  why_not_ = interval_ == 0 ? "checkpoints are off (interval 0)" : current_->snapshot_unsupported();
  if (in_place()) checkpoint(*current_);
}

ReverseExecution::~ReverseExecution() { d_.detach(); }

uint64_t ReverseExecution::checkpoint_bytes() const {
  uint64_t n = 0;
  for (const Checkpoint& c : checkpoints_) n += c.state->own_bytes();
  return n;
}

void ReverseExecution::note_stop() { checkpoint(*current_); }

void ReverseExecution::checkpoint(Machine& m) {
  if (!in_place()) return;
  // A budget can stop a halted CPU in the middle of its sleep, which is no
  // step boundary of the run: a replay from there would step differently.
  if (!checkpoints_.empty() && (m.interpreter().halted() || m.cpu().stop_requested() != StopReason::None)) return;
  const RunPosition at = run_position(m);
  const uint64_t slot = at.virtual_time / interval_;
  const auto it = std::lower_bound(checkpoints_.begin(), checkpoints_.end(), at.virtual_time,
                                   [](const Checkpoint& c, uint64_t vt) { return c.at.virtual_time < vt; });
  if (it != checkpoints_.end() && it->at.virtual_time / interval_ == slot) return;
  if (it != checkpoints_.begin() && std::prev(it)->at.virtual_time / interval_ == slot) return;
  const MachineSnapshot* previous = it != checkpoints_.begin() ? std::prev(it)->state.get() : nullptr;
  checkpoints_.insert(it, Checkpoint{at, std::make_shared<const MachineSnapshot>(m.save(previous))});
}

size_t ReverseExecution::checkpoint_before(uint64_t vt) const {
  size_t k = 0;
  while (k + 1 < checkpoints_.size() && checkpoints_[k + 1].at.virtual_time <= vt) ++k;
  return k;
}

std::shared_ptr<Machine> ReverseExecution::from_checkpoint(size_t k) {
  if (!in_place()) return power_on_();
  if (!current_->restore(*checkpoints_.at(k).state))
    throw std::logic_error("a checkpoint did not restore into the machine it was taken from");
  return current_;
}

std::shared_ptr<Machine> ReverseExecution::replay_to(uint64_t until) {
  std::shared_ptr<Machine> m = from_checkpoint(in_place() ? checkpoint_before(until) : 0);
  while (m->virtual_time() < until) {
    uint64_t piece = until - m->virtual_time();
    // Stop at each interval boundary on the way, for its checkpoint.
    if (in_place()) piece = std::min(piece, interval_ - m->virtual_time() % interval_);
    if (m->run(piece).reason != StopReason::BudgetExhausted) break;
    checkpoint(*m);
  }
  return m;
}

ReverseExecution::Result ReverseExecution::give_up(const MachineSnapshot* here, const std::string& why) {
  if (here) current_->restore(*here);
  d_.attach(*current_);
  return {false, why, {}};
}

ReverseExecution::Result ReverseExecution::reverse_step() {
  const RunPosition now = run_position(*current_);
  // Where the command found the machine, to go back to if it fails.
  std::optional<MachineSnapshot> here;
  if (in_place()) {
    here = current_->save(checkpoints_[checkpoint_before(now.virtual_time)].state.get());
    d_.detach();
  }
  const MachineSnapshot* back_here = here ? &*here : nullptr;
  for (uint64_t window = kFirstWindow;; window *= 16) {
    const uint64_t from = now.virtual_time > window ? now.virtual_time - window : 0;
    std::shared_ptr<Machine> m = replay_to(from);
    const RunPosition start = run_position(*m);
    // Step to the current state, counting the steps.
    uint64_t steps = 0;
    bool found = run_position(*m) == now;
    while (!found && m->virtual_time() <= now.virtual_time) {
      const RunResult r = m->run(step_budget(*m));
      ++steps;
      found = run_position(*m) == now;
      if (r.reason != StopReason::BudgetExhausted) break;
    }
    if (found && steps > 0) {
      // Again, one step short (a machine cannot be stepped back).
      std::shared_ptr<Machine> back = replay_to(from);
      if (!(run_position(*back) == start)) return give_up(back_here, "replay diverged from the run (not deterministic?)");
      for (uint64_t i = 0; i + 1 < steps; ++i) back->run(step_budget(*back));
      d_.attach(*back);
      current_ = std::move(back);
      return {true, "", {}};
    }
    if (from == 0) {
      if (found) {
        Result r = give_up(back_here, "at the start of the run");
        r.at_start = true;
        return r;
      }
      return give_up(back_here, "this state is not a step boundary of the run (a stop in the middle of a sleep?)");
    }
  }
}

ReverseExecution::Result ReverseExecution::reverse_continue() {
  const RunPosition now = run_position(*current_);
  const std::vector<Breakpoint> bps = d_.breakpoints();
  const std::vector<Watchpoint> wps = d_.watchpoints();
  const std::vector<Catch> cts = d_.catches();
  std::optional<MachineSnapshot> here;
  size_t last = 0;
  if (in_place()) {
    last = checkpoint_before(now.virtual_time);
    here = current_->save(checkpoints_[last].state.get());
    if (last > 0 && checkpoints_[last].at == now) --last;  // nothing lies between it and here
  }
  const MachineSnapshot* back_here = here ? &*here : nullptr;
  // Forward with everything armed to `end`, counting the stops (those at
  // `end` itself too, unless `end` is where the user is); at most `limit`.
  // nullopt: Ctrl-C stopped the replay.
  const auto stops_before = [&](Machine& m, const RunPosition& end, bool at_end_too, uint64_t limit,
                                StopEvent& last_stop) -> std::optional<uint64_t> {
    uint64_t n = 0;
    while (n < limit && m.virtual_time() < end.virtual_time) {
      const StopEvent e = d_.cont(end.virtual_time - m.virtual_time());
      if (e.kind == StopEvent::Kind::Interrupted) return std::nullopt;
      if (e.kind == StopEvent::Kind::Budget || e.kind == StopEvent::Kind::MachineStop) break;
      if (!at_end_too && run_position(m) == end) break;
      last_stop = e;
      ++n;
    }
    return n;
  };
  const auto fail = [&](const char* why) {
    Result r = give_up(back_here, why);
    d_.restore_hits(bps, wps, cts);
    return r;
  };
  // The stretches between checkpoints, the latest first: the last stop
  // before here lies in the latest stretch that has any.
  for (size_t k = last + 1; k-- > 0;) {
    const bool latest = k == last;
    const RunPosition end = latest ? now : checkpoints_[k + 1].at;
    std::shared_ptr<Machine> m = from_checkpoint(k);
    d_.attach(*m);
    StopEvent found;
    const std::optional<uint64_t> count = stops_before(*m, end, !latest, ~uint64_t{0}, found);
    if (!count) return fail("interrupted");
    if (*count == 0) continue;
    std::shared_ptr<Machine> back = from_checkpoint(k);
    d_.attach(*back);
    StopEvent again;
    const std::optional<uint64_t> redone = stops_before(*back, end, !latest, *count, again);
    if (!redone) return fail("interrupted");
    if (*redone != *count) return fail("replay diverged from the run (not deterministic?)");
    d_.restore_hits(bps, wps, cts);
    current_ = std::move(back);
    return {true, "", found};
  }
  // No stop before here: back to the start of the run.
  std::shared_ptr<Machine> start = from_checkpoint(0);
  d_.attach(*start);
  d_.restore_hits(bps, wps, cts);
  current_ = std::move(start);
  return {true, "", {}, true};
}

}  // namespace vtlab
