// The interpreter engine: fetch a decoded block for CS:RIP (decoding it on
// a miss), run its handlers, deliver what they raise.  One check per
// instruction (icount against Cpu::check_at) covers the budget, stop
// requests, code writes, timer deadlines and interrupts, so events land on
// exact instruction boundaries whatever the block shape: runs are
// deterministic.
#pragma once

#include <memory>
#include <string>
#include <unordered_set>

#include "core/block_cache.h"
#include "core/decoder.h"
#include "core/engine.h"
#include "privilege/monitor.h"

namespace vtlab {

class Interpreter : public Engine {
 public:
  explicit Interpreter(Cpu& cpu);
  StopReason run(uint64_t max_insns) override;
  StopReason step() override;
  void flush() override { cache_.flush(); }
  std::string_view name() const override { return "interpreter"; }

  // Where virtual time stops (2^62 ns, 146 years): device deadlines are
  // virtual time plus a period and must never wrap.
  static constexpr uint64_t kVirtualTimeLimit = uint64_t{1} << 62;

  const BlockCache& cache() const { return cache_; }
  // Blocks entered through a chain link rather than a lookup.
  uint64_t chained() const { return chained_; }
  // Forgets what the CPU was in the middle of (HLT, held debug traps):
  // for a machine reset.
  void reset() {
    halted_ = false;
    held_data_hits_ = 0;
  }
  // The monitor asked about every event before it is delivered (nullptr:
  // deliver everything, as `native` would).
  void set_monitor(Monitor* m) {
    monitor_ = m;
    translated_rings_ = m ? m->translated_rings() : 0;
  }
  bool halted() const { return halted_; }
  // Where a debugger wants runs to stop before an instruction executes:
  // linear addresses (CS.base + RIP) and physical ones.  Blocks are built
  // to end before such an address, so a run pays one flag test per block
  // instead of stepping; a change drops the decoded blocks.  A run never
  // stops where it starts (that is how a debugger steps off a breakpoint),
  // and one that stops at a point returns BudgetExhausted with
  // stopped_at_point() true.
  void set_stop_points(std::unordered_set<uint64_t> linear, std::unordered_set<uint64_t> physical);
  bool stopped_at_point() const { return stopped_at_point_; }
  // Machine snapshots (core/snapshot.h): what reset() forgets, put back.
  uint8_t held_data_hits() const { return held_data_hits_; }
  void restore_run_state(bool halted, uint8_t held_data_hits) {
    halted_ = halted;
    held_data_hits_ = held_data_hits;
  }

 private:
  // Finds or builds the block at CS:RIP.  nullptr when fetching raised an
  // exception (already delivered) or stopped the machine.
  const Block* fetch_block();
  const Block* chained_block() const;
  void link_from_previous(const Block* b);
  std::unique_ptr<Block> build_block(uint64_t lin, uint64_t phys, unsigned mode, unsigned flavor, Status& st);
  // Runs blocks back to back, chained where it can, until check_at, an
  // event, HLT, or a flag that wants per-instruction checks.
  void run_blocks();
  // Runs one block; false when the context it ended in may differ from
  // the one it started in (it ended at a far transfer, a mode or CPL
  // change, an event).
  bool run_block(const Block& b);
  // run_block's loop, with RIP masked to the code size only for a block
  // whose bytes reach the top of the segment's IP range.
  template <bool kWraps> bool run_block_as(const Block& b);
  CodeContext code_context() const;
  void deliver_pending();
  bool take_interrupt();
  bool instruction_breakpoint();
  void debug_trap(uint64_t dr6_bits);
  StopReason idle(uint64_t end);
  StopReason pre_check(uint64_t end);

  static constexpr uint64_t kDr6SingleStep = 1u << 14;  // DR6.BS

  // Delivers `ev` unless the monitor handles it; true when it was delivered
  // (or handled) rather than replaced by a fault on the way in.
  bool deliver(const PendingEvent& ev, uint64_t return_rip);

  Cpu& cpu_;
  Monitor* monitor_ = nullptr;
  unsigned translated_rings_ = 0;  // Monitor::translated_rings, asked once
  Decoder decoder_;
  BlockCache cache_;
  std::unique_ptr<Block> uncached_;  // a block from MMIO or straddling a page
  // The block run last, for chaining, and the code context now (links
  // made in another context do not hold).
  const Block* previous_ = nullptr;
  uint64_t previous_epoch_ = 0;
  CodeContext context_;
  uint64_t deliveries_ = 0;  // events delivered or handled (deliver())
  mutable uint64_t chained_ = 0;
  bool halted_ = false;
  std::unordered_set<uint64_t> stop_linear_, stop_physical_;
  bool stopped_at_point_ = false;
  uint64_t run_start_icount_ = 0, run_start_time_ = 0;
  bool is_stop_point(uint64_t linear, uint64_t physical) const {
    return stop_linear_.count(linear) || stop_physical_.count(physical);
  }
  // A block that starts at a stop point, entered after the run's first
  // instruction or event: the run ends before it.
  bool stops_before(const Block& b) const {
    return b.stop_point && (cpu_.icount != run_start_icount_ || cpu_.virtual_time() != run_start_time_);
  }
  uint8_t held_data_hits_ = 0;  // data breakpoints a MOV SS / POP SS holds off
};

}  // namespace vtlab
