// Each mode runs the guest on a fresh machine with the same options; the
// serial transcript is captured, not printed, and held against native's.
// The JSON leaves out host time so that two runs give the same bytes; the
// table and CSV show it.
#include "tools/vtlab/compare.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>

#include "core/exits.h"
#include "tools/vtlab/session.h"

namespace vtlab::cli {

namespace {

struct ModeResult {
  std::string mode;
  RunResult run;
  int status = 0;
  uint64_t instructions = 0, virtual_time = 0, exits = 0, exit_cycles = 0;
  std::array<uint64_t, kExitReasons> by_reason{};
  nlohmann::json exits_detail, holes;
  std::string transcript;
  bool matches_native = true;
};

ModeResult run_mode(const CompareOptions& o, const std::string& mode) {
  ModeResult r;
  r.mode = mode;
  RunOptions ro = o.run;
  ro.mode = mode;
  Session session(ro, [&r](uint8_t b) {
    if (r.transcript.size() < Machine::kSerialLogLimit) r.transcript.push_back(static_cast<char>(b));
  });
  r.run = session.run();
  r.status = exit_status_for(r.run);
  const Machine& m = session.machine();
  r.instructions = m.cpu().icount;
  r.virtual_time = m.virtual_time();
  r.exits = m.exits().total();
  r.exit_cycles = m.exits().total_cycles();
  for (size_t i = 0; i < kExitReasons; ++i) r.by_reason[i] = m.exits().count(static_cast<ExitReason>(i)).count;
  r.exits_detail = exits_json(m.exits());
  r.holes = holes_json(m.monitor());
  return r;
}

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

}  // namespace

int compare_command(const CompareOptions& o) {
  // Native runs first: it is the reference every transcript is held against.
  std::vector<std::string> modes = {"native"};
  for (const std::string& m : o.modes)
    if (std::find(modes.begin(), modes.end(), m) == modes.end()) modes.push_back(m);
  std::vector<ModeResult> results;
  for (const std::string& mode : modes) {
    std::cerr << fmt::format("vtlab compare: running {}...\n", mode);  // stderr: stdout stays clean JSON/CSV
    results.push_back(run_mode(o, mode));
    if (g_interrupted) break;
  }
  const std::string& reference = results.front().transcript;
  bool all_match = true;
  for (ModeResult& r : results) {
    r.matches_native = r.transcript == reference;
    all_match &= r.matches_native;
  }
  if (o.format == "json") print_json(o, results);
  else if (o.format == "csv") print_csv(results);
  else print_table(results);
  return all_match ? 0 : 1;
}

}  // namespace vtlab::cli
