// The debugger's fault side: `why` (debugger/fault_explain.h in the
// command-line debugger) and `vtlab run --on-triple-fault debug`, which
// opens the debugger on a replay of the run stopped before the triple
// fault's first event.  Runs are deterministic, so the replay reaches the
// same state; reverse execution (debugger/reverse.h) steps back from there.
#include <fmt/format.h>

#include "debugger/fault_explain.h"
#include "privilege/interrupts.h"
#include "tools/vtlab/debug_cli.h"

namespace vtlab::cli {

int debug_first_fault(const RunOptions& o, uint64_t at) {
  DebugOptions d;
  d.run = o;
  // The replay starts at power-on like the run did; 0 means "no replay".
  d.start_at = at;
  return debug_command(d);
}

// The explanations of debugger/fault_explain.h: a shutdown's chain first,
// then the exception a catch stopped after, then the last double fault.
void DebugCli::why() {
  Machine& m = d_.machine();
  const Cpu& cpu = m.cpu();
  if (cpu.stop_requested() == StopReason::Shutdown && !cpu.shutdown_chain.empty()) {
    out_ << explain_fault_chain(m, cpu.shutdown_chain, true);
  } else if (caught_ && caught_->ev.kind == PendingEvent::Kind::Fault) {
    const std::string text = explain_raised_fault(m, caught_->ev);
    out_ << fmt::format("{} at {:04x}:{:08x}: {}{}", event_text(caught_->ev), caught_->cs, caught_->return_rip, text,
                        text.ends_with('\n') ? "" : "\n");
  } else if (!cpu.last_double_fault.empty()) {
    out_ << explain_fault_chain(m, cpu.last_double_fault, false);
  } else {
    out_ << "nothing to explain: no shutdown, no fault caught at this stop, no double fault so far\n";
  }
}

}  // namespace vtlab::cli
