// The Compare panel's runs: the guest powered on afresh in each chosen
// mode and run to its end, one slice of virtual time per frame so the
// window stays live, with the figures `vtlab compare` prints for each
// (debugger/mode_compare.h).  Nothing here draws.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "debugger/mode_compare.h"
#include "gui/gui.h"

namespace vtlab::gui {

struct CompareRow {
  std::string mode;
  std::shared_ptr<Machine> machine;  // while it runs; released when it ends
  std::unique_ptr<SlicedRun> run;
  ModeFigures figures;
  RunResult result;
  std::string error;             // it could not be powered on
  bool done = false;
  bool same_serial = true;       // its serial output is native's
  std::string serial;            // kept until the comparison ends
};

class CompareRuns {
 public:
  CompareRuns(MachineFactory power_on, std::vector<std::string> offered, uint64_t budget)
      : power_on_(std::move(power_on)), offered_(std::move(offered)), budget_(budget) {}

  // The modes the panel offers (native first) and which of them are ticked.
  const std::vector<std::string>& offered() const { return offered_; }
  std::vector<bool>& chosen() { return chosen_; }

  // Starts a comparison of the ticked modes (native always runs: it is the
  // reference); `modes` non-empty ticks exactly those.  False when one of
  // `modes` is not offered.
  bool start(const std::vector<std::string>& modes = {});
  // One slice of the run under way; true once every mode has ended.
  bool step();
  void finish();  // steps to the end (scripts)
  void cancel();
  bool running() const { return running_; }
  const std::vector<CompareRow>& rows() const { return rows_; }
  // Modes done so far, of how many.
  size_t done() const { return next_; }

 private:
  void power_on(CompareRow& row);
  void end_row(CompareRow& row);

  MachineFactory power_on_;
  std::vector<std::string> offered_;
  std::vector<bool> chosen_ = std::vector<bool>(offered_.size(), true);
  uint64_t budget_;
  std::vector<CompareRow> rows_;
  size_t next_ = 0;
  bool running_ = false;
};

}  // namespace vtlab::gui
