// Each mode runs the guest on a fresh machine with the same options; the
// serial transcript is captured, not printed, and held against native's.
// The JSON leaves out host time so that two runs give the same bytes; the
// table and CSV show it.  `--suite micro` does the same for each workload
// of samples/micro and adds each mode's virtual time as a ratio to
// native's, the shape of Adams & Agesen's (ASPLOS 2006) figures.
#include "tools/vtlab/compare.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "core/exits.h"
#include "core/loader/load_error.h"
#include "debugger/mode_compare.h"
#include "tools/vtlab/session.h"

namespace vtlab::cli {

namespace {

// The figures (debugger/mode_compare.h, shared with the GUI's Compare
// panel) and what only the command line reports.
struct ModeResult : ModeFigures {
  RunResult run;
  int status = 0;
  nlohmann::json exits_detail, holes;
  std::string transcript;
  bool matches_native = true;
};

ModeResult run_mode(const CompareOptions& o, const std::string& mode) {
  ModeResult r;
  const RunOptions ro = compare_run_options(o.run, mode, o.pv_kernel);
  Session session(ro, [&r](uint8_t b) {
    if (r.transcript.size() < Machine::kSerialLogLimit) r.transcript.push_back(static_cast<char>(b));
  });
  r.run = session.run();
  r.status = exit_status_for(r.run);
  const Machine& m = session.machine();
  static_cast<ModeFigures&>(r) = mode_figures(mode, m);
  r.exits_detail = exits_json(m.exits());
  r.holes = holes_json(m.monitor());
  return r;
}

double ratio(const ModeResult& r, const ModeResult& native) { return virtual_time_ratio(r, native); }

void print_table(const std::vector<ModeResult>& results) {
  std::string out = fmt::format("{:<22}", "");
  for (const ModeResult& r : results) out += fmt::format("{:>16}", r.mode);
  out += "\n";
  const auto row = [&](const char* name, auto value) {
    out += fmt::format("{:<22}", name);
    for (const ModeResult& r : results) out += fmt::format("{:>16}", value(r));
    out += "\n";
  };
  row("stop", [](const ModeResult& r) { return std::string(stop_reason_name(r.run.reason)); });
  row("exit status", [](const ModeResult& r) { return r.status; });
  row("instructions", [](const ModeResult& r) { return r.instructions; });
  row("exits", [](const ModeResult& r) { return r.exits; });
  for (size_t i = 0; i < kExitReasons; ++i) {
    bool any = false;
    for (const ModeResult& r : results) any |= r.by_reason[i] != 0;
    if (!any) continue;
    const std::string name = "  " + std::string(exit_reason_name(static_cast<ExitReason>(i)));
    row(name.c_str(), [i](const ModeResult& r) { return r.by_reason[i]; });
  }
  row("holes found", [](const ModeResult& r) { return r.holes.size(); });
  row("modelled cycles", [](const ModeResult& r) { return r.exit_cycles; });
  row("virtual time", [](const ModeResult& r) { return r.virtual_time; });
  row("vs native", [&](const ModeResult& r) { return fmt::format("{:.3f}", ratio(r, results.front())); });
  row("host seconds", [](const ModeResult& r) { return fmt::format("{:.3f}", r.run.host_seconds); });
  row("transcript = native", [](const ModeResult& r) { return std::string(r.matches_native ? "yes" : "NO"); });
  std::cout << out;
}

void print_json(const CompareOptions& o, const std::vector<ModeResult>& results) {
  nlohmann::json modes = nlohmann::json::array();
  for (const ModeResult& r : results)
    modes.push_back({{"mode", r.mode},
                     {"stop", stop_reason_name(r.run.reason)},
                     {"exit_status", r.status},
                     {"instructions", r.instructions},
                     {"virtual_time", r.virtual_time},
                     {"exits", r.exits_detail},
                     {"holes", r.holes},
                     {"serial_bytes", r.transcript.size()},
                     {"transcript_matches_native", r.matches_native}});
  nlohmann::json j = {{"kernel", o.run.bios.empty() ? o.run.kernel : o.run.bios}, {"append", o.run.append}, {"modes", modes}};
  std::cout << j.dump(2) << "\n";
}

void print_csv(const std::vector<ModeResult>& results) {
  std::string out =
      "mode,stop,exit_status,instructions,exits,modelled_cycles,virtual_time,host_seconds,transcript_matches_native,"
      "holes";
  for (size_t i = 0; i < kExitReasons; ++i) {
    out += ',';
    out += exit_reason_name(static_cast<ExitReason>(i));
  }
  out += "\n";
  for (const ModeResult& r : results) {
    out += fmt::format("{},{},{},{},{},{},{},{:.3f},{}", r.mode, stop_reason_name(r.run.reason), r.status,
                       r.instructions, r.exits, r.exit_cycles, r.virtual_time, r.run.host_seconds,
                       r.matches_native ? "yes" : "no");
    out += fmt::format(",{}", r.holes.size());
    for (uint64_t n : r.by_reason) out += fmt::format(",{}", n);
    out += "\n";
  }
  std::cout << out;
}

// Native runs first: it is the reference every transcript is held against.
// Returns whether every transcript matched native's (and every repeat
// its first run).
bool run_modes(const CompareOptions& o, const std::vector<std::string>& requested, const std::string& label,
               std::vector<ModeResult>& results) {
  bool all_match = true;
  for (const std::string& mode : compare_order(requested)) {
    std::cerr << fmt::format("vtlab compare: running {}{}...\n", label, mode);  // stderr: stdout stays clean JSON/CSV
    results.push_back(run_mode(o, mode));
    // --repeat: every modelled figure must come out the same again; the
    // host time kept is the fastest run's (the least disturbed one).
    for (unsigned i = 1; i < o.repeat && !g_interrupted; ++i) {
      const ModeResult again = run_mode(o, mode);
      ModeResult& first = results.back();
      if (again.virtual_time != first.virtual_time || again.instructions != first.instructions ||
          again.exits_detail != first.exits_detail || again.transcript != first.transcript) {
        std::cerr << fmt::format("vtlab compare: {}{}: run {} differs from run 1 (virtual time {} vs {})\n", label,
                                 mode, i + 1, again.virtual_time, first.virtual_time);
        all_match = false;
      }
      first.run.host_seconds = std::min(first.run.host_seconds, again.run.host_seconds);
    }
    if (g_interrupted) break;
  }
  const std::string& reference = results.front().transcript;
  for (ModeResult& r : results) {
    r.matches_native = r.transcript == reference;
    // Another kernel (--pv-kernel) prints its own banner lines: shown, not held against native.
    if (!(r.mode == "pv" && !o.pv_kernel.empty())) all_match &= r.matches_native;
  }
  return all_match;
}

// --output FILE: what the printers write to std::cout goes to FILE while
// this lives.
class OutputTo {
 public:
  explicit OutputTo(const std::string& path) {
    if (path.empty()) return;
    file_.open(path);
    if (!file_) throw LoadError(path + ": cannot open for writing");
    saved_ = std::cout.rdbuf(file_.rdbuf());
  }
  ~OutputTo() {
    if (saved_) std::cout.rdbuf(saved_);
  }
  OutputTo(const OutputTo&) = delete;
  OutputTo& operator=(const OutputTo&) = delete;

 private:
  std::ofstream file_;
  std::streambuf* saved_ = nullptr;
};

struct WorkloadResult {
  std::string name, append;
  std::vector<ModeResult> modes;
};

std::string reasons_text(const ModeResult& r) {
  std::string out;
  for (size_t i = 0; i < kExitReasons; ++i) {
    if (!r.by_reason[i]) continue;
    if (!out.empty()) out += ", ";
    out += fmt::format("{} {}", exit_reason_name(static_cast<ExitReason>(i)), r.by_reason[i]);
  }
  return out.empty() ? "-" : out;
}

void print_suite_table(const std::vector<WorkloadResult>& suite) {
  std::string out = fmt::format("{:<10} {:<7} {:>12} {:>9} {:>16} {:>14} {:>9} {:>6} {:>8}  {}\n", "workload", "mode",
                                "instructions", "exits", "modelled cycles", "virtual time", "vs native", "same",
                                "host s", "exits by reason");
  for (const WorkloadResult& w : suite)
    for (const ModeResult& r : w.modes)
      out += fmt::format("{:<10} {:<7} {:>12} {:>9} {:>16} {:>14} {:>9.3f} {:>6} {:>8.3f}  {}\n", w.name, r.mode,
                         r.instructions, r.exits, r.exit_cycles, r.virtual_time, ratio(r, w.modes.front()),
                         r.matches_native ? "yes" : "NO", r.run.host_seconds, reasons_text(r));
  out += "same: serial transcript = native's; host s: host seconds, measured, not modelled (not in the JSON)\n";
  std::cout << out;
}

void print_suite_json(const CompareOptions& o, const std::vector<WorkloadResult>& suite) {
  nlohmann::json workloads = nlohmann::json::array();
  for (const WorkloadResult& w : suite) {
    nlohmann::json modes = nlohmann::json::array();
    for (const ModeResult& r : w.modes)
      modes.push_back({{"mode", r.mode},
                       {"stop", stop_reason_name(r.run.reason)},
                       {"exit_status", r.status},
                       {"instructions", r.instructions},
                       {"modelled_cycles", r.exit_cycles},
                       {"virtual_time", r.virtual_time},
                       {"ratio_to_native", ratio(r, w.modes.front())},
                       {"exits", r.exits_detail},
                       {"holes", r.holes},
                       {"transcript_matches_native", r.matches_native}});
    workloads.push_back({{"workload", w.name}, {"append", w.append}, {"modes", modes}});
  }
  const nlohmann::json j = {{"suite", o.suite}, {"append", o.run.append}, {"workloads", workloads}};
  std::cout << j.dump(2) << "\n";
}

void print_suite_csv(const std::vector<WorkloadResult>& suite) {
  std::string out =
      "workload,mode,stop,exit_status,instructions,exits,modelled_cycles,virtual_time,ratio_to_native,host_seconds,"
      "transcript_matches_native";
  for (size_t i = 0; i < kExitReasons; ++i) out += fmt::format(",{}", exit_reason_name(static_cast<ExitReason>(i)));
  out += "\n";
  for (const WorkloadResult& w : suite)
    for (const ModeResult& r : w.modes) {
      out += fmt::format("{},{},{},{},{},{},{},{},{:.3f},{:.3f},{}", w.name, r.mode, stop_reason_name(r.run.reason),
                         r.status, r.instructions, r.exits, r.exit_cycles, r.virtual_time, ratio(r, w.modes.front()),
                         r.run.host_seconds, r.matches_native ? "yes" : "no");
      for (uint64_t n : r.by_reason) out += fmt::format(",{}", n);
      out += "\n";
    }
  std::cout << out;
}

int suite_command(const CompareOptions& o) {
  if (o.suite != "micro") throw LoadError("unknown suite '" + o.suite + "' (known: micro)");
  CompareOptions each = o;
  each.run.kernel = o.run.kernel.empty() ? default_micro_guest() : o.run.kernel;
  if (!std::filesystem::is_regular_file(each.run.kernel))
    throw LoadError(each.run.kernel + ": micro suite guest not found (build the vtlab_guests target, or name it as KERNEL)");
  std::vector<std::string> modes = o.modes.empty() ? Machine::modes() : o.modes;
  // pv runs only paravirtual kernels: by default only when one is named.
  if (o.modes.empty() && o.pv_kernel.empty()) std::erase(modes, std::string("pv"));
  std::vector<WorkloadResult> suite;
  bool all_match = true;
  for (const std::string& name : micro_workloads()) {
    WorkloadResult w{name, "w=" + name + (o.run.append.empty() ? "" : " " + o.run.append), {}};
    each.run.append = w.append;
    all_match &= run_modes(each, modes, name + " ", w.modes);
    suite.push_back(std::move(w));
    if (g_interrupted) break;
  }
  if (o.format == "json") print_suite_json(o, suite);
  else if (o.format == "csv") print_suite_csv(suite);
  else print_suite_table(suite);
  return all_match ? 0 : 1;
}

}  // namespace

RunOptions compare_run_options(const RunOptions& base, const std::string& mode, const std::string& pv_kernel) {
  RunOptions ro = base;
  ro.mode = mode;
  if (mode == "hw-sim" || mode == "hw-kvm") {
    ro.mode = "hw";
    ro.hw_backend = mode.substr(3);
  }
  if (mode == "pv" && !pv_kernel.empty()) ro.kernel = pv_kernel;
  if (ro.mode != "trap") ro.holes = "real";  // --holes is the trap monitor's policy
  return ro;
}

const std::vector<std::string>& micro_workloads() {
  static const std::vector<std::string> names = {"int80", "sysenter", "pagefault", "cmos",
                                                 "cr3",   "pic-mask", "call",      "forkwait"};
  return names;
}

std::string default_micro_guest() {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "samples/micro.elf";
  return (self.parent_path() / "samples" / "micro.elf").string();
}

int compare_command(const CompareOptions& o) {
  const OutputTo to(o.output);  // opened first: a bad path fails before any run
  if (!o.suite.empty()) return suite_command(o);
  std::vector<ModeResult> results;
  const bool all_match = run_modes(o, o.modes, "", results);
  if (o.format == "json") print_json(o, results);
  else if (o.format == "csv") print_csv(results);
  else print_table(results);
  return all_match ? 0 : 1;
}

}  // namespace vtlab::cli
