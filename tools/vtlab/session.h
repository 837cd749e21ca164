// One guest run as the CLI drives it: a machine configured from the
// options, the kernel loaded, run in slices (so Ctrl-C stops cleanly on an
// instruction boundary), and what the run leaves for the user: the stop
// line, the statistics JSON and the exit trace.  `run` and `compare` both
// go through here.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "core/machine.h"
#include "privilege/monitor.h"
#include "tools/vtlab/options.h"

namespace vtlab::cli {

// Set by SIGINT/SIGTERM; a session stops at the end of its current slice.
extern std::atomic<bool> g_interrupted;
void install_signal_handlers();

// Where COM1's bytes go: stdout, nowhere, a file, or (for compare) a string.
class SerialSink {
 public:
  explicit SerialSink(const std::string& spec);
  ~SerialSink();
  SerialSink(const SerialSink&) = delete;
  SerialSink& operator=(const SerialSink&) = delete;
  void put(uint8_t b);
  // --boot-log: each line starts with "[v 1.234567s | h 0.52s] ", the
  // virtual time (from `virtual_now`, in guest ns) and the host time since
  // this call at which its first byte came.
  void stamp_lines(std::function<uint64_t()> virtual_now);

 private:
  FILE* out_ = nullptr;
  bool owned_ = false;
  std::function<uint64_t()> virtual_now_;
  std::chrono::steady_clock::time_point host_start_;
  bool line_start_ = true;
};

// --trace FILE: one JSON object per exit, at most `limit` of them, then a
// last line saying how many more there were.
class TraceWriter {
 public:
  TraceWriter(const std::string& path, uint64_t limit);
  ~TraceWriter();
  void write(const ExitRecord& r);

 private:
  std::ofstream out_;
  uint64_t limit_, written_ = 0, dropped_ = 0;
};

class Session {
 public:
  // Builds the machine and loads the kernel; throws LoadError or
  // CLI::ValidationError with a one-line message.
  Session(const RunOptions& o, std::function<void(uint8_t)> serial_out);
  ~Session();
  // Runs to the end (or the budget, or a signal).
  RunResult run();

  Machine& machine() { return *machine_; }
  nlohmann::json stats(const RunResult& r, int status) const;
  // Names the loader defines for the debugger (debugger/symbols.h), at
  // addresses where linear = physical: the Linux loader's `linux_entry`
  // (the protected-mode entry it starts the CPU at).
  const std::map<std::string, uint64_t>& loader_symbols() const { return loader_symbols_; }

 private:
  std::map<std::string, uint64_t> loader_symbols_;
  const RunOptions& o_;
  std::unique_ptr<Machine> machine_;
  std::unique_ptr<TraceWriter> trace_;
  std::unique_ptr<std::ofstream> bt_log_;
};

int exit_status_for(const RunResult& r);
// The "exits" object of --stats and compare: totals, then each reason that
// occurred with its sub-keys.  Deterministic for a deterministic run.
nlohmann::json exits_json(const ExitLog& log);
// The line printed on stderr for every stop but the guest's own exit.
// The holes a monitor found, for --stats and compare.
nlohmann::json holes_json(const Monitor& monitor);
// trap: the holes found, one line each; bt: why there are none; empty
// for other modes.
std::string holes_summary(const Monitor& monitor);
std::string stop_line(const Machine& m, const RunResult& r);

}  // namespace vtlab::cli
