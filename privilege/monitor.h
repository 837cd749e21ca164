// The Monitor seam: the virtualization method, as the engine sees it.
//
// Whatever runs the guest (the interpreter today, later the VT-x model and
// KVM) raises the guest's events here before letting them take their
// hardware course, and the monitor decides: let the hardware deliver it,
// or handle it itself (emulate the instruction that trapped, reflect the
// event into the guest its own way) and record an exit.  `native` is the
// monitor that always lets it run.  Kept as small as Dolphin's CPU core
// interface: every mode implements the same two calls.
#pragma once

#include <string_view>

#include "core/cpu.h"
#include "core/exits.h"

namespace vtlab {

class Monitor {
 public:
  enum class Action {
    Deliver,  // as hardware: through the guest's IDT/IVT as it stands
    Handled,  // the monitor dealt with it; the engine carries on at CS:RIP
  };

  virtual ~Monitor() = default;
  virtual std::string_view name() const = 0;

  // A fault, trap or INT n the guest raised, or an external interrupt the
  // engine is about to deliver, with the RIP delivery would push.
  virtual Action on_event(Cpu& cpu, const PendingEvent& ev, uint64_t return_rip) = 0;

  // Exits go through here: counted in `log`, their modelled cost added to
  // virtual time.
  void attach(ExitLog& log) { log_ = &log; }

 protected:
  void exit(Cpu& cpu, ExitReason reason, uint32_t key) {
    if (log_) cpu.exit_cycles += log_->record(ExitRecord{reason, key, cpu.s.rip, static_cast<uint8_t>(cpu.s.cpl()),
                                                         cpu.virtual_time(), 0});
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
