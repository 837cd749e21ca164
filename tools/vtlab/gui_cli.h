// `vtlab gui`: the Dear ImGui debugger (gui/, docs/GUI.md) on a guest
// powered on from the same options as `vtlab debug`.  Built without the
// GUI (VTLAB_GUI off, or its packages missing), it says so and fails.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "tools/vtlab/options.h"

namespace vtlab::cli {

struct GuiCliOptions {
  RunOptions run;
  std::string script, screenshot, dump_state;
  std::string pv_kernel;  // what the Compare panel's pv runs: the paravirtual build (minios-pv.elf)
  int width = 1600, height = 1000;
};

void add_gui_options(CLI::App* app, GuiCliOptions& o);
int gui_command(const GuiCliOptions& o);

}  // namespace vtlab::cli
