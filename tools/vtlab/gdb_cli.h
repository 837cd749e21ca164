// `vtlab run --gdb PORT`: before the guest's first instruction, wait for
// gdb on 127.0.0.1:PORT and let it drive the run through the stub
// (debugger/gdb_stub.h).  The run's end is reported as `vtlab run`
// reports it: same stop line, statistics and exit status.
#pragma once

#include <cstdint>
#include <optional>

#include "core/machine.h"
#include "debugger/gdb_registers.h"
#include "tools/vtlab/session.h"

namespace vtlab::cli {

// Serves one gdb session (port 0: any free port; the one chosen is named
// on stderr either way).  Returns how the run ended when it ended under
// gdb (the guest exited or stopped, or gdb killed it: Interrupted), or
// nullopt when gdb detached or went away and the guest should run on.
// Throws LoadError when the port cannot be listened on.  gdb may reverse
// (bs/bc) with checkpoints every `checkpoint_interval` units of virtual time
// (debugger/reverse.h; 0: no reverse execution).
std::optional<RunResult> serve_gdb(Session& session, unsigned port, gdb::ArchPolicy arch, uint64_t checkpoint_interval);

}  // namespace vtlab::cli
