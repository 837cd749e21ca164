// The Monitor seam: the virtualization method, as the engine sees it.
//
// Whatever runs the guest (the interpreter today, later the VT-x model and
// KVM) raises the guest's events here before letting them take their
// hardware course, and the monitor decides: let the hardware deliver it,
// or handle it itself (emulate the instruction that trapped, reflect the
// event into the guest its own way) and record an exit.  `native` is the
// monitor that always lets it run.  Kept as small as Dolphin's CPU core
// interface: every mode implements on_event, and may take over the CPU
// before it runs (begin) and shape each block as it is decoded (on_block:
// the trap monitor marks the holes it watches there, the binary translator
// translates kernel code there).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/cpu.h"
#include "core/exits.h"

namespace vtlab {

class Monitor {
 public:
  enum class Action {
    Deliver,  // as hardware: through the guest's IDT/IVT as it stands
    Handled,  // the monitor dealt with it; the engine carries on at CS:RIP
    Halt,     // handled, and the virtual CPU sleeps until an interrupt (HLT)
  };

  // A place where the guest got a different answer than bare metal would
  // have given it, found by the monitor (a virtualization hole).
  struct Hole {
    uint64_t rip;          // linear address of the instruction
    std::string insn;      // disassembled
    std::string observed;  // what the guest got
    std::string bare_metal;
  };

  virtual ~Monitor() = default;
  virtual std::string_view name() const = 0;

  // A fault, trap or INT n the guest raised, or an external interrupt the
  // engine is about to deliver, with the RIP delivery would push.
  virtual Action on_event(Cpu& cpu, const PendingEvent& ev, uint64_t return_rip) = 0;

  // Before the engine runs the guest (again): a monitor takes over the
  // CPU's system state here.  It may stop the machine (Cpu::unsupported)
  // for a guest it cannot run.
  virtual void begin(Cpu&) {}
  // Each block the engine decodes, before it is cached and run: a monitor
  // may replace an instruction's handler (keeping it in `original`); the
  // replacement raises a Sensitive event to hand the instruction back.
  virtual void on_block(Cpu&, uint64_t /*lin*/, uint64_t /*phys*/, std::vector<DecodedInsn>& /*insns*/) {}
  // A translator keeps its translations apart from the plain decode of
  // the same bytes: the rings (bit n: real CPL n) whose code it translates.
  // The engine caches those rings' blocks separately (Block::flavor 1).
  virtual unsigned translated_rings() const { return 0; }
  // Method-specific counts for --stats (name, value), in a fixed order.
  virtual std::vector<std::pair<std::string, uint64_t>> counters() const { return {}; }
  // The holes found so far, in the order they were first seen.
  virtual const std::vector<Hole>& holes() const {
    static const std::vector<Hole> none;
    return none;
  }

  // Exits go through here: counted in `log`, their modelled cost added to
  // virtual time.
  void attach(ExitLog& log) { log_ = &log; }

 protected:
  void exit(Cpu& cpu, ExitReason reason, uint32_t key) { exit(cpu, reason, key, cpu.s.cpl()); }
  // `guest_cpl`: the guest's own CPL, for a monitor that runs it at another
  // ring; `cause`: what made it exit (core/exits.h).
  void exit(Cpu& cpu, ExitReason reason, uint32_t key, unsigned guest_cpl, ExitCause cause = {}) {
    if (!log_) return;
    ExitRecord r{reason, key, cpu.s.rip, static_cast<uint8_t>(guest_cpl), cpu.virtual_time(), 0};
    r.cause = std::move(cause);
    cpu.exit_cycles += log_->record(std::move(r));
  }
  // A hardware-assisted monitor's VM exit: also its VMX basic exit reason
  // and exit qualification (privilege/hw_sim/exit_reasons.h).
  void exit(Cpu& cpu, ExitReason reason, uint32_t key, uint16_t vmx_reason, uint64_t qualification,
            ExitCause cause = {}) {
    if (!log_) return;
    ExitRecord r{reason, key, cpu.s.rip, static_cast<uint8_t>(cpu.s.cpl()), cpu.virtual_time(), 0, vmx_reason,
                 qualification};
    r.cause = std::move(cause);
    cpu.exit_cycles += log_->record(std::move(r));
  }

 private:
  ExitLog* log_ = nullptr;
};

// No monitor at all: the guest owns the machine.  Nothing exits.
class NativeMonitor final : public Monitor {
 public:
  std::string_view name() const override { return "native"; }
  Action on_event(Cpu&, const PendingEvent&, uint64_t) override { return Action::Deliver; }
};

}  // namespace vtlab
