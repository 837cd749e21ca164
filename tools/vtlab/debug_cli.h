// `vtlab debug`: a command-line debugger on the debugger core (debugger/),
// with short commands in the spirit of gdb's and Bochs' (`help` lists
// them, the README documents them).  Commands come from stdin or from a
// file (--commands), so scripts and tests drive it; everything it prints
// follows from the deterministic run, so a script's output is exact.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "debugger/debugger.h"
#include "debugger/reverse.h"
#include "debugger/symbols.h"
#include "tools/vtlab/options.h"

namespace vtlab::cli {

struct DebugOptions {
  RunOptions run;
  std::string commands;  // a file of commands; empty: stdin
  std::string system_map;  // a Linux System.map: its names work as addresses
  // Run (guest output muted) to this virtual time before the first
  // command: --on-triple-fault debug's replay to the chain's first event.
  uint64_t start_at = 0;
};

// The debug-only options (--mode, --serial, --commands); the machine
// options are main.cpp's, shared with run.
void add_debug_options(CLI::App* app, DebugOptions& o);
// Exit status: 0 when every command worked, 1 when one failed (the rest
// still ran), 2 for a bad command line or image.
int debug_command(const DebugOptions& o);
// `vtlab run --on-triple-fault debug`: the debugger on a replay of the run
// `o` describes, stopped at virtual time `at` (the triple fault's: before
// its chain's first event), commands from stdin.  Same exit status.
int debug_first_fault(const RunOptions& o, uint64_t at);

class DebugCli {
 public:
  // `budget`: virtual-time limit of each continue (0: none).
  DebugCli(Debugger& d, std::ostream& out, uint64_t budget) : d_(d), out_(out), budget_(budget) {}
  // Runs one command line; false after `quit`.  A bad command prints one
  // "error: ..." line and counts in errors().
  bool execute(const std::string& line);
  unsigned errors() const { return errors_; }
  // Enables rs/rc; `mute(true)` silences guest output while a replay runs.
  void set_reverse(ReverseExecution* r, std::function<void(bool)> mute) {
    reverse_ = r;
    mute_ = std::move(mute);
  }
  // "0008:00100000  mov eax, 0x01": where the CPU is and what runs next.
  void print_location();
  // Names (debugger/symbols.h) that b, pb, until, watch, x and xp take
  // wherever they take an address; `symbols` outlives the DebugCli.
  void set_symbols(const SymbolTable* symbols) { symbols_ = symbols; }

 private:
  using Args = std::vector<std::string>;
  void help();
  void report(const StopEvent& e);
  void regs();
  void sregs();
  void cregs();
  void table(bool idt, const Args& a);
  void examine(const std::string& cmd, const Args& a, bool physical);
  void disas(const Args& a);
  void walk(const Args& a);
  void tlb();
  void vcpu();
  void translation();
  void exits(uint64_t last);
  void info();
  void add_catch(const Args& a);
  void reverse(bool step, uint64_t count);
  void why();
  // A number, or NAME[+OFFSET] from the symbols: the linear or physical address.
  uint64_t address(const std::string& text, bool physical) const;

  Debugger& d_;
  std::ostream& out_;
  uint64_t budget_;
  unsigned errors_ = 0;
  ReverseExecution* reverse_ = nullptr;
  // The exception the last catch stopped after, for `why`.
  std::optional<DeliveredEvent> caught_;
  std::function<void(bool)> mute_;
  const SymbolTable* symbols_ = nullptr;
};

}  // namespace vtlab::cli
