#include "tools/vtlab/gui_cli.h"

#include <fmt/format.h>

#include <deque>
#include <iostream>
#include <memory>
#include <sstream>

#include "core/machine.h"
#include "tools/vtlab/compare.h"
#include "tools/vtlab/debug_cli.h"
#include "tools/vtlab/session.h"
#ifdef VTLAB_HAVE_GUI
#include "gui/gui.h"
#endif

namespace vtlab::cli {

void add_gui_options(CLI::App* app, GuiCliOptions& o) {
  const std::vector<std::string>& modes = Machine::modes();
  app->add_option("--mode", o.run.mode, "How the guest runs first: " + fmt::format("{}", fmt::join(modes, ", ")) +
                                            " (the window can restart it in another)")
      ->check(CLI::IsMember(modes))
      ->capture_default_str();
  app->add_option("--hw-paging", o.run.hw_paging,
                  "hw: shadow (the page tree toggles to the shadow entries) or nested (EPT)")
      ->check(CLI::IsMember({"shadow", "nested"}))
      ->capture_default_str();
  app->add_option("--script", o.script,
                  "Run these actions (debugger commands, and gui tab/walk/mem/mode; docs/GUI.md), then exit");
  app->add_option("--screenshot", o.screenshot, "After the script, save the window as a PNG to FILE and exit");
  app->add_option("--dump-state", o.dump_state, "After the script, write the values the panels show to FILE and exit");
  app->add_option("--pv-kernel", o.pv_kernel,
                  "The Compare window offers pv, running this paravirtual build of the guest (minios-pv.elf)")
      ->check(CLI::ExistingFile);
  app->add_option("--size", o.width, "Window width in pixels (height: 5/8 of it)")
      ->check(CLI::Range(640, 4096))
      ->capture_default_str();
}

#ifdef VTLAB_HAVE_GUI

namespace {

// A guest as `vtlab debug` powers it on, with reverse execution, and the
// newest exits kept for the GUI's timeline and log.
class CliTarget : public gui::GuiTarget {
 public:
  CliTarget(const RunOptions& o) : o_(o) {
    std::shared_ptr<Machine> first = power_on();
    dbg_ = std::make_unique<Debugger>(*first);
    reverse_ = std::make_unique<ReverseExecution>(*dbg_, first, [this] { return power_on(); });
    cli_ = std::make_unique<DebugCli>(*dbg_, out_, o_.max_insns);
    cli_->set_reverse(reverse_.get(), [](bool) {});
  }
  Debugger& debugger() override { return *dbg_; }
  std::string command(const std::string& line) override {
    out_.str("");
    cli_->execute(line);
    return out_.str();
  }
  unsigned errors() const override { return cli_->errors(); }
  const std::deque<ExitRecord>& recent_exits() const override { return *recent_; }

 private:
  static constexpr size_t kRecentExits = 20'000;
  std::shared_ptr<Machine> power_on() {
    auto session = std::make_shared<Session>(o_, [](uint8_t) {});
    recent_->clear();
    session->machine().exits().set_sink([r = recent_](const ExitRecord& e) {
      if (r->size() == kRecentExits) r->pop_front();
      r->push_back(e);
    });
    return std::shared_ptr<Machine>(session, &session->machine());
  }

  RunOptions o_;
  std::shared_ptr<std::deque<ExitRecord>> recent_ = std::make_shared<std::deque<ExitRecord>>();
  std::unique_ptr<Debugger> dbg_;
  std::unique_ptr<ReverseExecution> reverse_;
  std::ostringstream out_;
  std::unique_ptr<DebugCli> cli_;
};

}  // namespace

int gui_command(const GuiCliOptions& o) {
  gui::GuiOptions g;
  g.mode = o.run.mode;
  g.title = o.run.kernel.empty() ? o.run.bios : o.run.kernel;
  g.script = o.script;
  g.screenshot = o.screenshot;
  g.dump_state = o.dump_state;
  g.width = o.width;
  g.height = o.width * 5 / 8;
  // The Compare window: the modes `vtlab compare` would run this guest in.
  g.compare_modes = {"native", "trap", "bt", "hw-sim"};
  if (!o.pv_kernel.empty()) g.compare_modes.push_back("pv");
  g.budget = o.run.max_insns;
  const RunOptions base = o.run;
  const std::string pv_kernel = o.pv_kernel;
  return gui::run_gui(
      g,
      [base](const std::string& mode) -> std::unique_ptr<gui::GuiTarget> {
        RunOptions r = base;
        r.mode = mode;
        return std::make_unique<CliTarget>(r);
      },
      [base, pv_kernel](const std::string& mode) -> std::shared_ptr<Machine> {
        // The session keeps a reference to its options: they live together.
        struct Compared {
          RunOptions options;
          std::unique_ptr<Session> session;
        };
        auto c = std::make_shared<Compared>();
        c->options = compare_run_options(base, mode, pv_kernel);
        c->session = std::make_unique<Session>(c->options, [](uint8_t) {});
        return std::shared_ptr<Machine>(c, &c->session->machine());
      });
}

#else

int gui_command(const GuiCliOptions&) {
  std::cerr << "vtlab: this vtlab was built without the GUI (configure with -DVTLAB_GUI=ON after scripts/deps.sh "
               "installs libimgui-dev, libglfw3-dev and python3-glad)\n";
  return kBadInput;
}

#endif

}  // namespace vtlab::cli
