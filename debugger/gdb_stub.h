// A gdb remote serial protocol stub over the debugger core (the GDB
// manual, appendix "Remote Serial Protocol": "Packets", "Stop Reply
// Packets", "General Query Packets", "Target Description Format"), so a
// stock gdb attaches to a guest: `vtlab run --gdb PORT KERNEL`.
//
// The guest is one thread.  gdb's addresses are linear (CS.base + EIP for
// code), and so is its pc: CS.base + EIP, CS * 16 + IP in real mode
// (gdb_registers.h).
// Breakpoints
// (Z0/Z1) are the core's linear ones; watchpoints (Z2 write, Z3 read,
// Z4 access) are the core's physical ones, on the pages the range maps to
// when gdb sets them.  A continue runs in slices of virtual time and looks
// for Ctrl-C (0x03) between them, so the run itself stays deterministic.
//
// The target description follows the CPU's mode (ArchPolicy): each read
// of target.xml from its start serves the description of the mode the CPU
// is in then (i8086, i386, x86-64), and g/G/p/P keep the layout of the
// description gdb read last, so its registers parse whatever the mode.
// gdb reads the description when it connects and again only when asked,
// which in gdb 13 `unset tdesc filename` does (it drops the description and
// fetches target.xml anew); a stop whose mode calls for another description
// than gdb's says so on gdb's console (an O packet).  Neither a stop reply
// nor any other packet makes gdb re-read it by itself: a T05exec: stop
// does, but gdb then resumes the inferior as after an exec, which breaks
// the stepi that crossed the switch.
//
// `monitor` commands (qRcmd) run in gdb_monitor.h; their output goes back
// as O packets before the OK.
//
// Reverse execution (bs, bc; qSupported says ReverseStep+ and
// ReverseContinue+) goes through debugger/reverse.h when the caller hands
// the stub a ReverseExecution that restores checkpoints in place (the
// machine gdb looks at never changes).  A reverse step or continue that
// reaches the start of the run answers T05replaylog:begin;, which gdb
// reports as "No more reverse-execution history".
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "debugger/debugger.h"
#include "debugger/gdb_packet.h"
#include "debugger/gdb_registers.h"
#include "debugger/reverse.h"

namespace vtlab::gdb {

// Where packets come from and go to (a socket, or a test's script).
class Transport {
 public:
  static constexpr int kTimeout = -1, kClosed = -2;
  virtual ~Transport() = default;
  // The next byte, kTimeout after `timeout_ms` (-1: wait for ever), or
  // kClosed once the peer has gone.
  virtual int read_byte(int timeout_ms) = 0;
  virtual bool write(std::string_view bytes) = 0;
};

enum class SessionEnd : uint8_t {
  Exited,        // the machine stopped for good; gdb got W with exit_status()
  Killed,        // gdb sent k (or vKill)
  Detached,      // gdb sent D: the guest runs on without it
  Disconnected,  // the connection closed
};

class GdbStub {
 public:
  // `exit_status` says what `vtlab run` would exit with after a machine
  // stop; it is the status in the W packet.
  using ExitStatus = std::function<int(const StopEvent&)>;
  GdbStub(Debugger& d, Transport& t, ExitStatus exit_status, ArchPolicy policy = ArchPolicy::I386);

  // Answers packets until gdb kills, detaches, disconnects or the guest ends.
  SessionEnd serve();
  int exit_status() const { return exit_status_value_; }

  // One packet's payload in, the reply's payload out (what serve() frames
  // and sends); resume packets run the guest and return the stop reply.
  // After k/vKill/D, ended() says how the session ends.  Text for gdb's
  // console piles up until take_console() (serve() sends it as O packets
  // before the reply).
  std::string handle(std::string_view packet);
  std::string take_console() { return std::exchange(console_, {}); }
  std::optional<SessionEnd> ended() const { return end_; }

  // The description gdb read last (or, before it read any, the one it would get).
  const std::string& target_xml() const { return regs_.target_xml(); }
  Arch described_arch() const { return regs_.arch(); }

  // Offers bs/bc through `r` (nullptr: none; refused unless r->in_place()).
  // Forward runs tell it where they stop, for its checkpoints.
  void set_reverse(ReverseExecution* r) { reverse_ = r && r->in_place() ? r : nullptr; }

 private:
  // A breakpoint or watchpoint as gdb named it, and the core's ids for it.
  struct Point {
    char type;  // '0'..'4' as in Z0..Z4
    uint64_t addr, len;
    std::vector<unsigned> ids;
  };

  std::string query(std::string_view p);
  std::string read_registers();
  std::string write_registers(std::string_view hex);
  std::string read_memory(std::string_view args);
  std::string write_memory(std::string_view args, bool binary);
  std::string insert_point(std::string_view args, bool insert);
  std::string resume(std::string_view packet);
  std::string vcont(std::string_view actions);
  std::string reverse(bool step);
  StopEvent run(bool step);
  bool interrupt_pending();
  std::string stop_reply(const StopEvent& e);
  std::string monitor(std::string_view hex_command);
  void note_mode_change();

  Debugger& d_;
  Transport& t_;
  ExitStatus exit_status_;
  ReverseExecution* reverse_ = nullptr;
  ArchPolicy policy_;
  RegisterFile regs_;
  // The description the CPU's mode called for at the last stop.
  Arch mode_arch_;
  std::string console_;
  PacketReader reader_;
  std::vector<Point> points_;
  std::string last_reply_ = "T05";
  std::string last_sent_;
  std::optional<SessionEnd> end_;
  bool disconnected_ = false;
  // A machine stop gdb has been told about as a signal (shutdown,
  // unsupported): the next resume reports the exit.
  bool machine_dead_ = false;
  int exit_status_value_ = 0;
};

}  // namespace vtlab::gdb
