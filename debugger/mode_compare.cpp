#include "debugger/mode_compare.h"

#include <algorithm>
#include <cmath>

#include "privilege/monitor.h"

namespace vtlab {

ModeFigures mode_figures(const std::string& mode, const Machine& m) {
  ModeFigures f;
  f.mode = mode;
  f.instructions = m.cpu().icount;
  f.virtual_time = m.virtual_time();
  f.exits = m.exits().total();
  f.exit_cycles = m.exits().total_cycles();
  for (size_t i = 0; i < kExitReasons; ++i) f.by_reason[i] = m.exits().count(static_cast<ExitReason>(i)).count;
  f.holes_found = m.monitor().holes().size();
  return f;
}

std::vector<std::string> compare_order(const std::vector<std::string>& requested) {
  std::vector<std::string> modes = {"native"};
  for (const std::string& m : requested)
    if (std::find(modes.begin(), modes.end(), m) == modes.end()) modes.push_back(m);
  return modes;
}

double virtual_time_ratio(const ModeFigures& r, const ModeFigures& reference) {
  if (reference.virtual_time == 0) return 0.0;
  return std::round(static_cast<double>(r.virtual_time) / static_cast<double>(reference.virtual_time) * 1000.0) /
         1000.0;
}

bool SlicedRun::step(uint64_t slice) {
  if (done_) return true;
  const RunResult r = m_.run(std::min(left_, slice));
  total_.append(r);
  left_ -= std::min(left_, r.virtual_time);
  done_ = r.reason != StopReason::BudgetExhausted || left_ == 0;
  return done_;
}

}  // namespace vtlab
