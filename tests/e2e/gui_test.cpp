// `vtlab gui` headless, as CI and scripts/screenshots run it: under Xvfb
// (Debian's xvfb, Mesa's software GL) a script steps minios into paging,
// the window is saved as a PNG and the panels' values as text.  The test
// asserts what the panels show (the CR0 write that turned paging on, the
// registers it changed, the walk for the kernel's first page) and that
// the PNG is a real frame: the window's size, many colours, a large share
// of non-background pixels (decoded independently by tests/gui/png_stats.py).
// It skips, saying why, when vtlab was built without the GUI or Xvfb or
// python3 is missing.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "support/boot.h"

namespace vtlab::test {

namespace {
const std::string kCli = VTLAB_CLI;
const std::string kMiniOs = std::string(VTLAB_SAMPLES_DIR) + "/minios.elf";
const std::string kPngStats = std::string(VTLAB_GUESTS_SRC_DIR) + "/../gui/png_stats.py";

std::string write_file(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Why the GUI cannot be tested here, or empty.
std::string gui_missing() {
  // Without a display, so it never opens a window on a developer's desktop.
  const CommandResult r =
      run_command("env -u DISPLAY -u WAYLAND_DISPLAY " + kCli + " gui --dump-state /dev/null " + kMiniOs);
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
// GUI runs take turns.
std::string under_xvfb(const std::string& args) {
  return "ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0\" flock " + ::testing::TempDir() +
         "/vtlab-xvfb.lock xvfb-run -a -s '-screen 0 1920x1200x24' " + kCli + " gui " + args;
}
}  // namespace

TEST(GuiHeadless, MiniOsIntoPagingScreenshotAndState) {
  if (const std::string why = gui_missing(); !why.empty()) GTEST_SKIP() << why;
  const std::string script = write_file("gui-paging.gui",
                                        "catch cr 0\n"
                                        "c\n"
                                        "gui walk 0x100000\n"
                                        "gui tabs Walk Commands\n");
  const std::string png = ::testing::TempDir() + "/gui-paging.png";
  const std::string state = ::testing::TempDir() + "/gui-paging.txt";
  std::remove(png.c_str());
  const CommandResult r = run_command(under_xvfb("--script " + script + " --screenshot " + png + " --dump-state " +
                                                 state + " " + kMiniOs));
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string s = read_file(state);
  // The stop the catch made, where the CPU is, and what the panels show
  // lit as changed by the continue ("*"): MOV CR0 set PG (and WP).
  EXPECT_NE(s.find("status 0008:00101195  mov ebx, [esp+0x18]\n"), std::string::npos) << s;
  EXPECT_NE(s.find("cpu paging cpl 0 code 32-bit\n"), std::string::npos) << s;
  EXPECT_NE(s.find("at 0008:101195\n"), std::string::npos) << s;
  EXPECT_NE(s.find("eax 80010011 *\n"), std::string::npos) << s;
  EXPECT_NE(s.find("eip 101195 *\n"), std::string::npos) << s;
  EXPECT_NE(s.find("CR0 80010011 [PE ET WP PG] *\n"), std::string::npos) << s;
  EXPECT_NE(s.find("CR3 10a000 [] *\n"), std::string::npos) << s;
  EXPECT_NE(s.find("CR4 80 [PGE] *\n"), std::string::npos) << s;
  EXPECT_NE(s.find("EFER 0 []\n"), std::string::npos) << s;
  EXPECT_NE(s.find("paging 32-bit paging\n"), std::string::npos) << s;
  EXPECT_NE(s.find("CS 0008 base 0 limit ffffffff dpl 0 code, execute/read, accessed\n"), std::string::npos) << s;
  EXPECT_NE(s.find("TR 0028 base 109880 limit 67 dpl 0 32-bit TSS (busy)\n"), std::string::npos) << s;
  EXPECT_NE(s.find("walk 100000 -> 100000\n"), std::string::npos) << s;
  EXPECT_NE(s.find("gdt 5 present\n"), std::string::npos) << s;

  const CommandResult stats = run_command("python3 " + kPngStats + " " + png);
  ASSERT_EQ(stats.status, 0) << stats.err;
  unsigned width = 0, height = 0, colours = 0, drawn_percent = 0;
  std::istringstream(stats.out) >> width >> height >> colours >> drawn_percent;
  EXPECT_EQ(width, 1600u);
  EXPECT_EQ(height, 1000u);
  // Text in several colours on several panel backgrounds: a blank or
  // uniform frame has 1 colour and 0% drawn.
  EXPECT_GE(colours, 20u) << stats.out;
  EXPECT_GE(drawn_percent, 5u) << stats.out;
}

TEST(GuiHeadless, BreakpointsStepsAndAFailingCommand) {
  if (const std::string why = gui_missing(); !why.empty()) GTEST_SKIP() << why;
  // A breakpoint just after the multiboot entry, two steps, then a command
  // the debugger rejects: the state is still dumped and the status is 1.
  const std::string script = write_file("gui-steps.gui",
                                        "b 0x100010\n"
                                        "c\n"
                                        "s 2\n"
                                        "frobnicate\n");
  const std::string state = ::testing::TempDir() + "/gui-steps.txt";
  const CommandResult r = run_command(under_xvfb("--script " + script + " --dump-state " + state + " " + kMiniOs));
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("vtlab gui: script: \"frobnicate\" failed"), std::string::npos) << r.err;
  const std::string s = read_file(state);
  EXPECT_NE(s.find("at 0008:100017\n"), std::string::npos) << s;
  EXPECT_NE(s.find("cpu protected cpl 0 code 32-bit\n"), std::string::npos) << s;
  EXPECT_NE(s.find("CR0 11 [PE ET]\n"), std::string::npos) << s;
  EXPECT_NE(s.find("paging paging off\n"), std::string::npos) << s;
  EXPECT_NE(s.find("breakpoint 1 100010 hits 1\n"), std::string::npos) << s;
}

TEST(GuiHeadless, NoDisplayIsOneLineAndStatus3) {
  if (const std::string why = gui_missing(); !why.empty()) GTEST_SKIP() << why;
  const CommandResult r =
      run_command("env -u DISPLAY -u WAYLAND_DISPLAY " + kCli + " gui --dump-state /dev/null " + kMiniOs);
  EXPECT_EQ(r.status, 3);
  EXPECT_EQ(r.err,
            "vtlab gui: no display (X11: The DISPLAY environment variable is missing): set DISPLAY, or run under "
            "xvfb-run\n");
}

}  // namespace vtlab::test
