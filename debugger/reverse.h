// Reverse execution (reverse-step, reverse-continue) built on determinism:
// a run from power-on passes through the same states in the same order
// every time, so "one step back" is found by replaying a fresh machine
// from power-on and stopping one step short of where the user is.
//
// No snapshots are kept: the power-on state is the only checkpoint, and a
// replay costs one more machine while it runs (guest RAM: only the pages
// the guest touches are resident) and time proportional to the run so far
// (full speed up to a window before the target, then single steps).
// Periodic snapshots would bound that time, but need every device's state
// saved and restored, which vtlab's devices do not offer yet (docs/
// ARCHITECTURE.md, "The debugger", lists what is missing).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "debugger/debugger.h"

namespace vtlab {

// Where a run is: the same triple on a replay is the same machine state.
struct RunPosition {
  uint64_t virtual_time = 0, icount = 0, events = 0;
  bool operator==(const RunPosition&) const = default;
};
RunPosition run_position(const Machine& m);

class ReverseExecution {
 public:
  // Builds a machine in the state the run started from (the same options,
  // the same image loaded, guest output muted or not as the caller likes).
  using PowerOn = std::function<std::shared_ptr<Machine>()>;
  // `current` is the machine `d` is attached to.
  ReverseExecution(Debugger& d, std::shared_ptr<Machine> current, PowerOn power_on);
  // Detaches the debugger from the machine it owns.
  ~ReverseExecution();
  ReverseExecution(const ReverseExecution&) = delete;
  ReverseExecution& operator=(const ReverseExecution&) = delete;

  struct Result {
    bool ok = false;
    std::string error;  // when !ok: why, and the debugger is where it was
    StopEvent stop;     // reverse_continue: the stop it went back to (Step: none, at the start)
  };
  // Back to the state before the last instruction or event delivery.
  Result reverse_step();
  // Back to the last breakpoint, watchpoint or catch stop before here, or
  // to the start of the run when there is none.  Hit counts are left as
  // they were.
  Result reverse_continue();

 private:
  // A fresh machine run at full speed to virtual time `until` (or its
  // first stop).
  std::shared_ptr<Machine> replay_to(uint64_t until);

  Debugger& d_;
  std::shared_ptr<Machine> current_;
  PowerOn power_on_;
};

}  // namespace vtlab
