// The Dear ImGui debugger's entry point (`vtlab gui`, docs/GUI.md): a
// window over the debugger core (debugger/debugger.h, debugger/views.h)
// with every structure the CPU is using laid out live, and a headless
// mode (--script, --screenshot, --dump-state) for tests and the docs.
// The guest is built by the caller (tools/vtlab/gui_cli.cpp), so this
// library knows nothing of the command line.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/exits.h"
#include "debugger/debugger.h"

namespace vtlab::gui {

// One powered-on guest under the debugger, in one mode.
class GuiTarget {
 public:
  virtual ~GuiTarget() = default;
  virtual Debugger& debugger() = 0;
  // Runs one line of the command-line debugger's language (`help` lists
  // it; tools/vtlab/debug_cli.cpp) and returns what it printed.  The
  // debugger may be on another machine afterwards (reverse execution
  // replays from power-on).
  virtual std::string command(const std::string& line) = 0;
  // Command errors so far (a script with one fails).
  virtual unsigned errors() const = 0;
  // The most recent exits the monitor recorded, oldest first.
  virtual const std::deque<ExitRecord>& recent_exits() const = 0;
};
// Powers on the guest in `mode` (one of Machine::modes()); throws
// LoadError with a one-line message.
using TargetFactory = std::function<std::unique_ptr<GuiTarget>(const std::string& mode)>;

// Powers on the guest for the Compare panel in one of `vtlab compare`'s
// modes (hw-sim, hw-kvm: hw with that backend; pv: its paravirtual
// kernel); throws LoadError with a one-line message.
using MachineFactory = std::function<std::shared_ptr<Machine>(const std::string& mode)>;

struct GuiOptions {
  std::string mode = "native";
  std::string title;       // the guest's name, for the window title
  std::string script;      // scripted actions (docs/GUI.md), then exit
  std::string screenshot;  // PNG of the window after the script
  std::string dump_state;  // the values the panels show, as text, after the script
  int width = 1600, height = 1000;
  std::vector<std::string> compare_modes;  // what the Compare panel offers, native first
  uint64_t budget = 0;                     // virtual time each compared run may take (0: no limit)
};

// Exit status of `vtlab gui`.
enum GuiStatus : int {
  kGuiOk = 0,
  kGuiScriptError = 1,  // a scripted command failed (the rest still ran)
  kGuiBadInput = 2,     // unreadable script, unwritable output
  kGuiNoDisplay = 3,    // no display or no OpenGL 3.3 context could be had
};

int run_gui(const GuiOptions& o, const TargetFactory& power_on, const MachineFactory& compare_power_on);

}  // namespace vtlab::gui
