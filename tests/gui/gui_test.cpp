// `vtlab gui` headless, as CI and scripts/screenshots run it: under Xvfb
// (Debian's xvfb, Mesa's software GL) a script steps minios into paging,
// the window is saved as a PNG and the panels' values as text.  The test
// asserts what the panels show (the CR0 write that turned paging on, the
// registers it changed, the walk for the kernel's first page) and that
// the PNG is a real frame: the window's size, many colours, a large share
// of non-background pixels (decoded independently by tests/gui/png_stats.py).
// It skips, saying why, when vtlab was built without the GUI or Xvfb or
// python3 is missing.
#include "gui/gui_headless.h"

namespace vtlab::test::gui {

namespace {
const std::string kMiniOs = sample_binary("minios.elf");
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
  const CommandResult r =
      run_gui("--script " + script + " --screenshot " + png + " --dump-state " + state + " " + kMiniOs);
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

  const PngStats p = png_stats(png);
  EXPECT_EQ(p.width, 1600u);
  EXPECT_EQ(p.height, 1000u);
  // Text in several colours on several panel backgrounds: a blank or
  // uniform frame has 1 colour and 0% drawn.
  EXPECT_GE(p.colours, 20u);
  EXPECT_GE(p.drawn_percent, 5u);
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
  const CommandResult r = run_gui("--script " + script + " --dump-state " + state + " " + kMiniOs);
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

}  // namespace vtlab::test::gui
