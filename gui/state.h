// What the panels of the GUI share: the guest under the debugger, the
// register values before the last run-control action (for the
// changed-since-last-step highlighting), the addresses the user typed,
// and the console's transcript.  Panels read the machine through the
// debugger's views every frame; nothing here caches machine state except
// the "before" snapshot.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "debugger/views.h"
#include "gui/compare.h"
#include "gui/gui.h"

namespace vtlab::gui {

struct GuiState {
  TargetFactory power_on;
  std::unique_ptr<GuiTarget> target;
  std::string mode;
  std::string title;

  RegistersView before;      // at the start of the last step/continue
  ControlView before_cr;
  bool running = false;      // Run pressed: continue in slices, one per frame
  std::string status;        // why the last run stopped, one line
  std::string console;       // the command transcript
  std::string load_error;    // a restart that failed

  // Typed addresses (hex text) and what they show.
  char memory_addr[24] = "0";
  bool memory_physical = true;  // physical 0: the real-mode IVT, mapped or not
  char walk_addr[24] = "0";
  int walk_access = 0;  // 0 read, 1 write, 2 execute
  bool walk_user = false;
  std::optional<uint64_t> tree_scrolled_to;  // the page tree showed this walk address's page
  uint64_t disasm_anchor = ~uint64_t{0};  // CS offset the listing starts at

  // Which tab each tabbed panel shows (set by scripts: `gui tab ...`).
  std::vector<std::string> tab_requests;  // cleared after each frame
  bool reset_layout = true;

  // Under a monitor with shadow structures (trap, bt; hw without EPT for
  // paging): show the real CPU's instead of the guest's own.
  bool show_real_tables = false;

  std::unique_ptr<CompareRuns> compare;  // the Compare window's runs
  bool compare_open = false;

  Debugger& dbg() { return target->debugger(); }
  Machine& machine() { return target->debugger().machine(); }

  // Runs a debugger command line and appends its transcript to the
  // console; a command that ran the guest also moves the baseline of the
  // changed-since-last-step highlighting and sets the status line.
  void run_command(const std::string& line);
  // Powers the guest on again in `new_mode` (the current one if empty);
  // keeps the old guest if that fails.
  void restart(const std::string& new_mode);
  void snapshot_before();
};

// "0x" and hex digits, or bare hex digits; nullopt when it is not one.
std::optional<uint64_t> parse_hex(const char* text);

}  // namespace vtlab::gui
