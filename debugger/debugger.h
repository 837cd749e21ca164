// The debugger core: run control, breakpoints, watchpoints and semantic
// breakpoints over one Machine, headless and without I/O, so the command-line
// debugger (tools/vtlab/debug_cli), the gdb stub and the GUI share it.
//
// Execution goes through the machine's own engine, one instruction (or one
// event delivery) at a time while anything is armed, and in large slices
// when nothing is: a debugged run is the same deterministic run as
// `vtlab run`, stopped at instruction boundaries.  Stops follow gdb's
// conventions: a breakpoint stops before its instruction runs; a
// watchpoint or a catch stops after the instruction (or the event
// delivery) that triggered it, with the state it left.
//
// What the views show is in debugger/views.h.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_set>
#include <string>
#include <vector>

#include "core/decoder.h"
#include "core/machine.h"
#include "privilege/monitor.h"

namespace vtlab {

class Interpreter;

// The mode changes a student steps through (SDM vol. 3, 9.8-9.9 and 4.1).
enum class CpuMode : uint8_t { Real, Protected, Virtual8086, Paging, Long };
CpuMode cpu_mode(const CpuState& s);
const char* cpu_mode_name(CpuMode m);  // "real", "protected", "virtual-8086", "paging", "long"

enum class CatchKind : uint8_t {
  Exception,  // an event on a vector (any CPU exception when no vector is given)
  Io,         // an IN/OUT/INS/OUTS touching a port range
  Cpl,        // the CPL changes (to a given level, if one is named)
  Mode,       // real -> protected -> paging -> long, either way
  CrWrite,    // a write to CRn (a MOV, LMSW, CLTS, a task switch's CR3, #PF's CR2)
  Exit,       // the monitor recorded an exit (of a given ExitReason, if one is named)
};
const char* catch_kind_name(CatchKind k);  // "exception", "io", "cpl", "mode", "cr", "exit"

// Breakpoints, watchpoints and catches share one id space, as in gdb.
struct Breakpoint {
  unsigned id = 0;
  bool physical = false;  // false: linear address of CS:RIP
  uint64_t address = 0;
  uint64_t hits = 0;
};

struct Watchpoint {
  unsigned id = 0;
  uint64_t phys = 0, length = 1;
  bool on_read = false, on_write = true;
  uint64_t hits = 0;
};

struct Catch {
  unsigned id = 0;
  CatchKind kind = CatchKind::Exception;
  // Exception: vector; Io: first and last port; Cpl: level; CrWrite: CR
  // number; Exit: ExitReason.  `any` matches every vector/level/CR/reason
  // (Io always has a range).
  bool any = true;
  uint32_t lo = 0, hi = 0;
  uint64_t hits = 0;
};

// An event the machine delivered, as the monitor seam saw it.
struct DeliveredEvent {
  PendingEvent ev;
  uint64_t return_rip = 0;
  uint16_t cs = 0;  // CS when it was raised
};

// Why control came back to the user, with what triggered it.
struct StopEvent {
  enum class Kind : uint8_t {
    Step,         // the step asked for is done
    Breakpoint,   // at a breakpoint, before its instruction
    Watchpoint,   // after an access to a watched range
    Catch,        // after the instruction or event a catch matched
    RunTo,        // at the address run_to / step_over aimed for
    Budget,       // the virtual-time budget of this command ran out
    MachineStop,  // the machine stopped (guest exit, halt, shutdown, ...)
    Interrupted,  // request_stop() was called
  };
  Kind kind = Kind::Step;
  unsigned id = 0;  // the breakpoint, watchpoint or catch
  // Watchpoint: the access.
  uint64_t phys = 0;
  unsigned size = 0;
  bool write = false;
  // Catch.
  CatchKind catch_kind = CatchKind::Exception;
  DeliveredEvent event;              // Exception
  uint16_t port = 0;                 // Io (size, write above)
  uint64_t before = 0, after = 0;    // Cpl: levels; Mode: CpuMode values; CrWrite: values;
                                     // Exit: the reason's count before and after
  unsigned cr = 0;                   // CrWrite
  ExitReason exit_reason = ExitReason::kCount;  // Exit
  // MachineStop.
  StopReason reason = StopReason::None;
  std::string detail;
  uint32_t guest_status = 0;  // isa-debug-exit status, for GuestExit
};

// The virtual time one debugger step runs on `m`: one instruction or event
// delivery, or a halted CPU's sleep to its next timer (at most `cap`).
uint64_t step_budget(Machine& m, uint64_t cap = ~uint64_t{0});

// Guest memory as a debugger reads it, without side effects (no A/D bits,
// no TLB fill, no device reads), for code that has a Machine but no
// Debugger (the fault explanations): the translation the CPU would make
// now (its TLB first, then the paging structures), RAM/ROM bytes from a
// physical address, and linear bytes page by page.  The sizes returned are
// how many bytes from the start could be read.
std::optional<uint64_t> peek_translate(Machine& m, uint64_t linear);
size_t peek_physical(const Machine& m, uint64_t phys, uint8_t* out, size_t len);
size_t peek_linear(Machine& m, uint64_t linear, uint8_t* out, size_t len);

class Debugger {
 public:
  explicit Debugger(Machine& m);
  ~Debugger();
  Debugger(const Debugger&) = delete;
  Debugger& operator=(const Debugger&) = delete;

  Machine& machine() { return *m_; }
  const Machine& machine() const { return *m_; }
  // Moves the debugger, with its breakpoints, watchpoints and catches, to
  // another machine (reverse execution's replay); the one it leaves must
  // still be alive and is handed back untouched.
  void attach(Machine& m);
  // Hands the machine back (its own monitor, no observer); only attach or
  // destruction may follow.
  void detach();

  // --- run control ----------------------------------------------------
  // `budget` is virtual time (0: none); every call steps off a breakpoint
  // at the current instruction before looking for the next one.
  StopEvent step();                                // one instruction or one event delivery
  StopEvent step_over(uint64_t budget = 0);        // CALL, INT n, INTO, INT3 and REP run to the next instruction
  StopEvent cont(uint64_t budget = 0);
  StopEvent run_to(uint64_t linear, uint64_t budget = 0);
  // Asks a running cont/run_to to stop at the next instruction boundary;
  // safe from another thread or a signal handler.
  void request_stop() { stop_requested_.store(true); }

  // --- breakpoints ----------------------------------------------------
  unsigned add_breakpoint(uint64_t address, bool physical);
  unsigned add_watchpoint(uint64_t phys, uint64_t length, bool on_read, bool on_write);
  unsigned add_catch(CatchKind kind, std::optional<uint32_t> lo = std::nullopt, std::optional<uint32_t> hi = std::nullopt);
  bool remove(unsigned id);  // any kind; false if no such id
  const std::vector<Breakpoint>& breakpoints() const { return breakpoints_; }
  const std::vector<Watchpoint>& watchpoints() const { return watchpoints_; }
  const std::vector<Catch>& catches() const { return catches_; }
  // Puts back the hit counts of an earlier copy of the lists (reverse
  // execution's replays re-hit what the run hit already).
  void restore_hits(const std::vector<Breakpoint>& b, const std::vector<Watchpoint>& w, const std::vector<Catch>& c);

  // Linear address of CS:RIP, and the physical one the CPU would fetch
  // from (its TLB first, then the paging structures; nothing is set or
  // filled).  nullopt: the page is not mapped.
  uint64_t pc_linear() const;
  std::optional<uint64_t> to_physical(uint64_t linear) const;
  // Copies guest memory without side effects: no A/D bits, no TLB fill, no
  // device reads.  Returns how many bytes from the start could be read
  // (stops at an unmapped page, MMIO or a hole).
  size_t read_linear(uint64_t linear, uint8_t* out, size_t len) const;
  size_t read_physical(uint64_t phys, uint8_t* out, size_t len) const;
  // Stores into guest RAM as a debugger's poke: no A/D bits, no device
  // writes, ROM untouched; decoded code there is dropped as for a guest
  // store.  Returns how many bytes from the start were written.
  size_t write_linear(uint64_t linear, const uint8_t* in, size_t len);
  size_t write_physical(uint64_t phys, const uint8_t* in, size_t len);

 private:
  class Observer;
  class EventTap;

  // What the catches compare across one step.
  struct Snapshot {
    unsigned cpl;
    CpuMode mode;
    std::array<uint64_t, 5> cr;  // CR0-CR4 (CR1 unused)
    uint64_t icount, events;
    std::array<uint64_t, kExitReasons> exits;  // per reason
  };
  Snapshot snapshot() const;

  StopEvent run(std::optional<uint64_t> target, uint64_t budget);
  // One engine step (at most `cap` virtual time while halted) with the
  // catches checked around it.
  StopEvent step_once(uint64_t cap);
  bool armed(bool has_target) const;
  bool stop_points_in_engine() const;
  void sync_stop_points(std::optional<uint64_t> target);
  bool has_catch(CatchKind k) const;
  std::optional<StopEvent> breakpoint_at_pc();
  std::optional<StopEvent> check_catches(const Snapshot& before, std::optional<unsigned> cr_insn);
  // The CR a MOV CRn / LMSW / CLTS at CS:RIP writes.
  std::optional<unsigned> decoded_cr_write() const;
  bool decode_at_pc(DecodedInsn& d) const;
  void update_observer();
  // Why the machine stopped (it has; a run of 0 reports it with the details).
  StopEvent machine_stop();
  StopEvent machine_stop(const RunResult& r) const;

  Machine* m_ = nullptr;
  Interpreter* interp_ = nullptr;
  Monitor* inner_monitor_ = nullptr;
  std::unique_ptr<Observer> observer_;
  std::unique_ptr<EventTap> tap_;
  std::vector<Breakpoint> breakpoints_;
  std::vector<Watchpoint> watchpoints_;
  std::vector<Catch> catches_;
  Decoder decoder_;
  unsigned next_id_ = 1;
  std::atomic<bool> stop_requested_{false};
  // What the step under way triggered (filled by the observer and tap).
  std::optional<StopEvent> access_hit_;
  std::vector<DeliveredEvent> delivered_;
};

}  // namespace vtlab
