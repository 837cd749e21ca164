#include "tools/vtlab/gdb_cli.h"

#include <cstdio>
#include <iostream>
#include <memory>
#include <stdexcept>

#include "core/loader/load_error.h"
#include "debugger/debugger.h"
#include "debugger/gdb_socket.h"
#include "debugger/gdb_stub.h"
#include "debugger/reverse.h"

namespace vtlab::cli {

std::optional<RunResult> serve_gdb(Session& session, unsigned port, gdb::ArchPolicy arch, uint64_t checkpoint_interval) {
  std::unique_ptr<gdb::TcpListener> listener;
  try {
    listener = std::make_unique<gdb::TcpListener>(static_cast<uint16_t>(port));
  } catch (const std::runtime_error& e) {
    throw LoadError(e.what());
  }
  std::fflush(stdout);
  // Scripts and tests wait for this line before starting gdb.
  std::cerr << "vtlab: waiting for gdb on 127.0.0.1:" << listener->port() << std::endl;
  gdb::SocketTransport transport(listener->accept_one());
  listener.reset();  // one gdb per run

  Debugger dbg(session.machine());
  // Reverse execution restores checkpoints into the session's own machine,
  // so the stop line and statistics describe the machine gdb saw.  Without
  // checkpoints (a monitor's state cannot be saved) it would replay fresh
  // machines the session does not own: gdb is not offered it then.
  ReverseExecution reverse(dbg, std::shared_ptr<Machine>(std::shared_ptr<Machine>(), &session.machine()),
                           [] { return std::shared_ptr<Machine>(); }, checkpoint_interval);
  RunResult end;
  gdb::GdbStub stub(dbg, transport, [&end](const StopEvent& e) {
    end.reason = e.reason;
    end.detail = e.detail;
    end.guest_status = e.guest_status;
    return exit_status_for(end);
  }, arch);
  stub.set_reverse(&reverse);
  switch (stub.serve()) {
    case gdb::SessionEnd::Exited:
      return end;
    case gdb::SessionEnd::Killed:
      end.reason = StopReason::Interrupted;
      end.detail = "killed by gdb";
      return end;
    case gdb::SessionEnd::Detached:
    case gdb::SessionEnd::Disconnected:
      break;
  }
  return std::nullopt;
}

}  // namespace vtlab::cli
