// What the GUI tests share: `vtlab gui` run headless under Xvfb (Debian's
// xvfb, Mesa's software GL), its --dump-state read back, and its PNG
// decoded independently (tests/gui/png_stats.py).  The tests skip, saying
// why, when vtlab was built without the GUI or Xvfb or python3 is missing.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "support/boot.h"

namespace vtlab::test::gui {

inline const std::string kCli = VTLAB_CLI;
inline const std::string kPngStats = std::string(VTLAB_GUESTS_SRC_DIR) + "/../gui/png_stats.py";

inline std::string write_file(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Why the GUI cannot be tested here, or empty.
inline std::string gui_missing() {
  // Without a display, so it never opens a window on a developer's desktop.
  const CommandResult r = run_command("env -u DISPLAY -u WAYLAND_DISPLAY " + kCli + " gui --dump-state /dev/null " +
                                      sample_binary("minios.elf"));
  if (r.err.find("built without the GUI") != std::string::npos) return "vtlab was built without the GUI";
  if (std::system("command -v xvfb-run >/dev/null 2>&1") != 0) return "xvfb-run is not installed (scripts/deps.sh)";
  if (std::system("command -v python3 >/dev/null 2>&1") != 0) return "python3 is not installed";
  return "";
}

// In the sanitizer build, LeakSanitizer reports the OpenGL driver's own
// allocations (mesa's, made in a library it has unloaded by exit, so they
// cannot even be named for a suppression): leak checking is off for the
// GUI's process only; every other test keeps it.  ctest runs tests in
// parallel, and two `xvfb-run -a` starting together can pick the same
// display (one then fails cleaning up after itself): a lock file makes the
// GUI runs take turns.  flock -o keeps the lock out of xvfb-run's children
// (an Xvfb orphaned by a killed run once held it for good), and -w bounds
// the wait.
inline std::string under_xvfb(const std::string& args) {
  return "ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0\" flock -o -w 600 " + ::testing::TempDir() +
         "/vtlab-xvfb.lock xvfb-run -a -s '-screen 0 1920x1200x24' " + kCli + " gui " + args;
}

// Runs `vtlab gui ARGS` under Xvfb.  xvfb-run itself sometimes fails to
// remove its temporary directory on a loaded machine (status 5, "problem
// while cleaning up temporary directory") after vtlab has run: that run
// says nothing about vtlab, so it is run again (a script is deterministic).
inline CommandResult run_gui(const std::string& args) {
  CommandResult r;
  for (int attempt = 0; attempt < 3; ++attempt) {
    r = run_command(under_xvfb(args));
    if (r.err.find("xvfb-run: error: problem while cleaning up temporary directory") == std::string::npos) break;
  }
  return r;
}

// Runs a script headless and returns the state dump (and the status).
struct GuiRun {
  CommandResult r;
  std::string state;
};
inline GuiRun run_script(const std::string& name, const std::string& script, const std::string& args,
                         const std::string& screenshot = "") {
  const std::string path = write_file(name + ".gui", script);
  const std::string state = ::testing::TempDir() + "/" + name + ".txt";
  std::remove(state.c_str());
  if (!screenshot.empty()) std::remove(screenshot.c_str());
  GuiRun run;
  run.r = run_gui("--script " + path + " --dump-state " + state +
                  (screenshot.empty() ? "" : " --screenshot " + screenshot) + " " + args);
  run.state = read_file(state);
  return run;
}

// A PNG as png_stats.py sees it: size, distinct colours, and the share of
// pixels that are not the background.
struct PngStats {
  unsigned width = 0, height = 0, colours = 0, drawn_percent = 0;
};
inline PngStats png_stats(const std::string& png) {
  const CommandResult stats = run_command("python3 " + kPngStats + " " + png);
  EXPECT_EQ(stats.status, 0) << stats.err;
  PngStats s;
  std::istringstream(stats.out) >> s.width >> s.height >> s.colours >> s.drawn_percent;
  return s;
}

}  // namespace vtlab::test::gui
