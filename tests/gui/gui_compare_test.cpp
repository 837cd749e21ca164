// The GUI's Compare window (gui/panel_compare.cpp): `gui compare` runs
// minios to its end in native, trap, bt, hw-sim and pv (its paravirtual
// build) and the figures the window shows must be the ones `vtlab compare`
// prints for the same guest, mode by mode and exit reason by exit reason,
// and minios's own exact figures.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "gui/gui_headless.h"

namespace vtlab::test::gui {

namespace {

const std::string kMiniOs = sample_binary("minios.elf");
const std::string kMiniOsPv = sample_binary("minios-pv.elf");

// The dump's line for one mode ("compare MODE stop ..."), or empty.
std::string mode_line(const std::string& state, const std::string& mode) {
  const size_t at = state.find("compare " + mode + " stop ");
  if (at == std::string::npos) return "";
  return state.substr(at, state.find('\n', at) - at);
}

}  // namespace

TEST(GuiCompare, FiguresAreVtlabCompares) {
  if (const std::string why = gui_missing(); !why.empty()) GTEST_SKIP() << why;
  const std::string png = ::testing::TempDir() + "/gui-compare.png";
  const GuiRun g = run_script("gui-compare", "gui compare trap bt hw-sim pv\n",
                              "--pv-kernel " + kMiniOsPv + " " + kMiniOs, png);
  ASSERT_EQ(g.r.status, 0) << g.r.err;
  const std::string& s = g.state;

  // minios's figures, as EXITS.md and RESULTS.md discuss them.
  EXPECT_EQ(mode_line(s, "native"),
            "compare native stop guest-exit instructions 8091955 virtual-time 8416647 exits 0 cycles 0 holes 0 "
            "serial same");
  EXPECT_EQ(mode_line(s, "trap"),
            "compare trap stop guest-exit instructions 8092115 virtual-time 31700373 exits 11876 cycles 23502000 "
            "holes 16 serial same");
  EXPECT_NE(s.find("compare trap exit io 7713\n"), std::string::npos) << s;
  EXPECT_NE(s.find("compare trap exit hidden-page-fault 1213\n"), std::string::npos) << s;
  EXPECT_NE(s.find("compare bt exit bt-callout 10499\n"), std::string::npos) << s;
  // pv runs its own build, whose banner differs.
  EXPECT_NE(mode_line(s, "pv").find(" serial differs"), std::string::npos) << s;

  // Every figure against `vtlab compare`'s JSON for the same guest.
  const CommandResult c = run_command(kCli + " compare --format json --modes trap,bt,hw-sim,pv --pv-kernel " +
                                      kMiniOsPv + " " + kMiniOs);
  ASSERT_EQ(c.status, 0) << c.err;  // pv's own kernel is shown, not held against native
  const nlohmann::json j = nlohmann::json::parse(c.out);
  ASSERT_EQ(j["modes"].size(), 5u);
  for (const nlohmann::json& m : j["modes"]) {
    const std::string mode = m["mode"];
    const std::string line = mode_line(s, mode);
    ASSERT_FALSE(line.empty()) << mode << "\n" << s;
    const std::string expected =
        fmt::format("compare {} stop {} instructions {} virtual-time {} exits {} cycles {} holes {} serial {}", mode,
                    m["stop"].get<std::string>(), m["instructions"].get<uint64_t>(),
                    m["virtual_time"].get<uint64_t>(), m["exits"]["total"].get<uint64_t>(),
                    m["exits"]["cycles"].get<uint64_t>(), m["holes"].size(),
                    m["transcript_matches_native"].get<bool>() ? "same" : "differs");
    EXPECT_EQ(line, expected);
    size_t reasons = 0;
    for (const auto& [reason, count] : m["exits"]["by_reason"].items()) {
      ++reasons;
      EXPECT_NE(s.find(fmt::format("compare {} exit {} {}\n", mode, reason, count["count"].get<uint64_t>())),
                std::string::npos)
          << mode << " " << reason;
    }
    // ... and no reason the GUI shows that compare does not.
    size_t shown = 0;
    for (size_t at = s.find("compare " + mode + " exit "); at != std::string::npos;
         at = s.find("compare " + mode + " exit ", at + 1))
      ++shown;
    EXPECT_EQ(shown, reasons) << mode;
  }

  const PngStats p = png_stats(png);
  EXPECT_EQ(p.width, 1600u);
  EXPECT_GE(p.colours, 20u);
  EXPECT_GE(p.drawn_percent, 5u);
}

TEST(GuiCompare, AModeNotOfferedFailsTheScript) {
  if (const std::string why = gui_missing(); !why.empty()) GTEST_SKIP() << why;
  // Without --pv-kernel the window does not offer pv (minios.elf is not a
  // paravirtual kernel): the line fails, the rest of the script still runs.
  const GuiRun g = run_script("gui-compare-nopv", "gui compare pv\ngui compare trap\n", kMiniOs);
  EXPECT_EQ(g.r.status, 1) << g.r.err;
  EXPECT_NE(g.r.err.find("vtlab gui: script: cannot do \"gui compare pv\""), std::string::npos) << g.r.err;
  EXPECT_NE(g.state.find("compare native stop guest-exit instructions 8091955 "), std::string::npos) << g.state;
  EXPECT_NE(g.state.find("compare trap stop guest-exit instructions 8092115 "), std::string::npos) << g.state;
  EXPECT_EQ(g.state.find("compare pv"), std::string::npos) << g.state;
}

TEST(GuiCompare, AGuestThatCannotLoadIsARowNotACrash) {
  if (const std::string why = gui_missing(); !why.empty()) GTEST_SKIP() << why;
  // A pv kernel that is no kernel: that mode says why it did not run, the
  // others run, and the script line fails.
  const std::string bogus = write_file("not-a-kernel.elf", "this is not an ELF file\n");
  const GuiRun g = run_script("gui-compare-bogus", "gui compare trap pv\n", "--pv-kernel " + bogus + " " + kMiniOs);
  EXPECT_EQ(g.r.status, 1) << g.r.err;
  EXPECT_NE(g.state.find("compare trap stop guest-exit instructions 8092115 "), std::string::npos) << g.state;
  EXPECT_NE(g.state.find("compare pv not run: " + bogus + ": "), std::string::npos) << g.state;
}

}  // namespace vtlab::test::gui
