#include "gui/compare.h"

#include <algorithm>
#include <exception>

namespace vtlab::gui {

namespace {
// Virtual time one frame gives a compared guest: a few frames for minios
// natively, a few dozen under a monitor's modelled exit costs.
constexpr uint64_t kCompareSlice = 4'000'000;
}  // namespace

bool CompareRuns::start(const std::vector<std::string>& modes) {
  if (!modes.empty()) {
    for (const std::string& m : modes)
      if (std::find(offered_.begin(), offered_.end(), m) == offered_.end()) return false;
    for (size_t i = 0; i < offered_.size(); ++i)
      chosen_[i] = std::find(modes.begin(), modes.end(), offered_[i]) != modes.end();
  }
  std::vector<std::string> requested;
  for (size_t i = 0; i < offered_.size(); ++i)
    if (chosen_[i]) requested.push_back(offered_[i]);
  rows_.clear();
  for (const std::string& m : compare_order(requested)) {
    CompareRow row;
    row.mode = m;
    rows_.push_back(std::move(row));
  }
  next_ = 0;
  running_ = true;
  return true;
}

void CompareRuns::power_on(CompareRow& row) {
  try {
    row.machine = power_on_(row.mode);
    row.run = std::make_unique<SlicedRun>(*row.machine, budget_);
  } catch (const std::exception& e) {  // LoadError, or an option the session refuses: one line
    row.error = e.what();
    row.done = true;
  }
}

void CompareRuns::end_row(CompareRow& row) {
  row.done = true;
  row.result = row.run->result();
  row.figures = mode_figures(row.mode, *row.machine);
  row.serial = row.machine->serial_transcript();
  row.same_serial = row.serial == rows_.front().serial;
  row.run.reset();
  row.machine.reset();  // one guest's memory at a time
}

bool CompareRuns::step() {
  if (!running_) return true;
  CompareRow& row = rows_[next_];
  if (!row.machine && !row.done) power_on(row);
  if (!row.done && row.run->step(kCompareSlice)) end_row(row);
  if (row.done && ++next_ == rows_.size()) {
    running_ = false;
    for (CompareRow& r : rows_) r.serial.clear();
  }
  return !running_;
}

void CompareRuns::finish() {
  while (!step()) {
  }
}

void CompareRuns::cancel() {
  running_ = false;
  rows_.resize(next_);
}

}  // namespace vtlab::gui
