// Reverse execution (reverse-step, reverse-continue) built on determinism:
// a run passes through the same states in the same order every time, so
// "one step back" is found by replaying the run from an earlier state and
// stopping one step short of where the user is.
//
// The earlier states are checkpoints (core/snapshot.h): the state the run
// started from, and one more every `checkpoint_interval` units of virtual
// time, taken where the run is seen to pass (the faces call note_stop()
// after each command, and replays take them as they go).  A replay restores
// the nearest checkpoint before its target into the machine being debugged
// and runs from there at full speed to a window before the target (4096
// units, grown 16-fold while a step was longer, e.g. a halted sleep), then
// single-steps, so it costs at most one interval of full-speed running plus
// the window in steps.  The debugger stays on the same machine throughout.
// A checkpoint costs the RAM pages written since the one before it plus
// about 13 KiB of CPU, TLB and device state, and a copy of the serial
// transcript kept so far (docs/ARCHITECTURE.md gives minios's figures).
//
// Where a machine's state cannot be saved (Machine::snapshot_unsupported:
// the trap, bt, hw and pv monitors, KVM, virtio devices), or with an
// interval of 0, there are no checkpoints: replays start a fresh machine
// from power-on (`power_on`), cost time proportional to the run so far, and
// leave the debugger on the new machine (in_place() is false then).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/snapshot.h"
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
  // 2^20 units (1 ms of guest time): a replay runs at most that far at
  // full speed before its single steps.
  static constexpr uint64_t kDefaultCheckpointInterval = uint64_t{1} << 20;
  // `current` is the machine `d` is attached to, in the state the run
  // starts from; `checkpoint_interval` 0 turns checkpoints off.
  ReverseExecution(Debugger& d, std::shared_ptr<Machine> current, PowerOn power_on,
                   uint64_t checkpoint_interval = kDefaultCheckpointInterval);
  // Detaches the debugger from the machine it owns.
  ~ReverseExecution();
  ReverseExecution(const ReverseExecution&) = delete;
  ReverseExecution& operator=(const ReverseExecution&) = delete;

  struct Result {
    bool ok = false;
    std::string error;  // when !ok: why, and the debugger is where it was
    StopEvent stop;     // reverse_continue: the stop it went back to (Step: none, at the start)
    // The start of the run was reached: reverse_continue found no stop
    // (ok), or reverse_step had nothing before here (!ok).
    bool at_start = false;
  };
  // Back to the state before the last instruction or event delivery.
  Result reverse_step();
  // Back to the last breakpoint, watchpoint or catch stop before here, or
  // to the start of the run when there is none.  Hit counts are left as
  // they were.
  Result reverse_continue();

  // Takes a checkpoint where the machine is now if its interval has none
  // yet (and it is not halted in the middle of a sleep).  Cheap otherwise.
  void note_stop();

  // True when replays restore checkpoints into the machine being debugged
  // (it never changes); false when they replay fresh machines from power-on.
  bool in_place() const { return why_not_.empty(); }
  // Why there are no checkpoints ("" when there are).
  const std::string& why_not_in_place() const { return why_not_; }
  uint64_t checkpoint_interval() const { return interval_; }
  size_t checkpoints() const { return checkpoints_.size(); }
  // Host bytes all checkpoints hold (pages shared between them counted once).
  uint64_t checkpoint_bytes() const;

 private:
  struct Checkpoint {
    RunPosition at;
    std::shared_ptr<const MachineSnapshot> state;
  };
  // The latest checkpoint at or before virtual time `vt` (0: power-on).
  size_t checkpoint_before(uint64_t vt) const;
  // The machine in checkpoint k's state: current_ restored, or (no
  // checkpoints) a fresh machine from power-on.
  std::shared_ptr<Machine> from_checkpoint(size_t k);
  // From the latest checkpoint at or before `until`, at full speed to
  // virtual time `until` (or the machine's first stop), taking checkpoints
  // on the way.
  std::shared_ptr<Machine> replay_to(uint64_t until);
  void checkpoint(Machine& m);
  // Puts the machine back where the reverse command found it.
  Result give_up(const MachineSnapshot* here, const std::string& why);

  Debugger& d_;
  std::shared_ptr<Machine> current_;
  PowerOn power_on_;
  uint64_t interval_;
  std::string why_not_;
  std::vector<Checkpoint> checkpoints_;  // by position
};

}  // namespace vtlab
