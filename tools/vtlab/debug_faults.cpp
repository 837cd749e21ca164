// The debugger's fault side: `vtlab run --on-triple-fault debug`, which
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

}  // namespace vtlab::cli
