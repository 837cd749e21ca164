// One guest run in several modes, side by side: the figures `vtlab compare`
// prints and the GUI's Compare panel shows for each mode (instructions,
// virtual time, exits per reason and their modelled cycles, holes found;
// core/exits.h, docs/EXITS.md), read from a machine that ran to its end,
// and a run to the end taken in slices, so a window can draw between them.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/exits.h"
#include "core/machine.h"

namespace vtlab {

struct ModeFigures {
  std::string mode;  // as compare names it: native, trap, bt, hw, hw-sim, hw-kvm, pv
  uint64_t instructions = 0, virtual_time = 0, exits = 0, exit_cycles = 0;
  std::array<uint64_t, kExitReasons> by_reason{};
  size_t holes_found = 0;
};
ModeFigures mode_figures(const std::string& mode, const Machine& m);

// The order compare runs modes in: native first (the reference every
// other is held against), then the requested ones, each once.
std::vector<std::string> compare_order(const std::vector<std::string>& requested);

// Virtual time against the reference run's, rounded to 3 decimals (so
// JSON stays short); 0 when the reference took no time.
double virtual_time_ratio(const ModeFigures& r, const ModeFigures& reference);

// Runs a machine to its end in slices of virtual time: step() runs one
// slice (never past `budget` in all, 0 for none) and says whether the run
// has ended.  A run is deterministic whatever its slices, so the figures
// come out as one uninterrupted run's.
class SlicedRun {
 public:
  SlicedRun(Machine& m, uint64_t budget) : m_(m), left_(budget ? budget : ~uint64_t{0}) {}
  bool step(uint64_t slice);
  bool done() const { return done_; }
  // Summed over the slices; the stop reason is the last slice's.
  const RunResult& result() const { return total_; }

 private:
  Machine& m_;
  uint64_t left_;
  bool done_ = false;
  RunResult total_;
};

}  // namespace vtlab
