#include "debugger/reverse.h"

#include <optional>

namespace vtlab {

namespace {
// How far before the target a replay starts single-stepping; grown when a
// step of the run was longer (a halted sleep, a monitor's modelled exit).
constexpr uint64_t kFirstWindow = 4096;
}  // namespace

RunPosition run_position(const Machine& m) {
  return RunPosition{m.virtual_time(), m.cpu().icount, m.cpu().events};
}

ReverseExecution::ReverseExecution(Debugger& d, std::shared_ptr<Machine> current, PowerOn power_on)
    : d_(d), current_(std::move(current)), power_on_(std::move(power_on)) {}

ReverseExecution::~ReverseExecution() { d_.detach(); }

std::shared_ptr<Machine> ReverseExecution::replay_to(uint64_t until) {
  std::shared_ptr<Machine> m = power_on_();
  while (m->virtual_time() < until)
    if (m->run(until - m->virtual_time()).reason != StopReason::BudgetExhausted) break;
  return m;
}

ReverseExecution::Result ReverseExecution::reverse_step() {
  const RunPosition now = run_position(*current_);
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
      // Again from power-on, one step short (a machine cannot be copied).
      std::shared_ptr<Machine> back = replay_to(from);
      if (!(run_position(*back) == start)) return {false, "replay diverged from the run (not deterministic?)", {}};
      for (uint64_t i = 0; i + 1 < steps; ++i) back->run(step_budget(*back));
      d_.attach(*back);
      current_ = std::move(back);
      return {true, "", {}};
    }
    if (from == 0) {
      if (found) return {false, "at the start of the run", {}};
      return {false, "this state is not a step boundary of the run (a stop in the middle of a sleep?)", {}};
    }
  }
}

ReverseExecution::Result ReverseExecution::reverse_continue() {
  const RunPosition now = run_position(*current_);
  const std::vector<Breakpoint> bps = d_.breakpoints();
  const std::vector<Watchpoint> wps = d_.watchpoints();
  const std::vector<Catch> cts = d_.catches();
  // Forward from power-on with everything armed, counting the stops
  // before the current state; then again to the last of them.  nullopt:
  // Ctrl-C stopped the replay.
  const auto stops_before_now = [&](Machine& m, uint64_t limit, StopEvent& last) -> std::optional<uint64_t> {
    uint64_t n = 0;
    while (n < limit && m.virtual_time() < now.virtual_time) {
      const StopEvent e = d_.cont(now.virtual_time - m.virtual_time());
      if (e.kind == StopEvent::Kind::Interrupted) return std::nullopt;
      if (e.kind == StopEvent::Kind::Budget || e.kind == StopEvent::Kind::MachineStop || run_position(m) == now) break;
      last = e;
      ++n;
    }
    return n;
  };
  const auto give_up = [&](const char* why) {
    d_.attach(*current_);
    d_.restore_hits(bps, wps, cts);
    return Result{false, why, {}};
  };
  std::shared_ptr<Machine> first = power_on_();
  d_.attach(*first);
  StopEvent last;
  const std::optional<uint64_t> count = stops_before_now(*first, ~uint64_t{0}, last);
  if (!count) return give_up("interrupted");
  // No stop before here: back to the start of the run.
  std::shared_ptr<Machine> back = power_on_();
  d_.attach(*back);
  StopEvent again;
  const std::optional<uint64_t> redone = stops_before_now(*back, *count, again);
  if (!redone) return give_up("interrupted");
  if (*redone != *count) return give_up("replay diverged from the run (not deterministic?)");
  d_.restore_hits(bps, wps, cts);
  current_ = std::move(back);
  return {true, "", last};
}

}  // namespace vtlab
