#include "tools/vtlab/stats.h"

#include <fmt/format.h>

namespace vtlab::cli {

namespace {
double share(uint64_t count, uint64_t total) {
  return total ? static_cast<double>(count) / static_cast<double>(total) : 0.0;
}

nlohmann::json figures_json(const ExitFigures& f, uint64_t total) {
  nlohmann::json gaps = nlohmann::json::array();
  for (size_t k = 0; k < f.gap_log2.size(); ++k)
    if (f.gap_log2[k]) gaps.push_back({k, f.gap_log2[k]});
  return {{"count", f.count},         {"share", share(f.count, total)}, {"total_cost", f.total_cost},
          {"min_cost", f.min_cost},   {"mean_cost", f.mean_cost()},     {"max_cost", f.max_cost},
          {"gap_log2", gaps}};
}

std::string rip_name(uint64_t rip) { return rip == ExitLog::kOtherRip ? "other" : fmt::format("{:#x}", rip); }

// One CSV row; the histogram is one field, "k:n;k:n" (n gaps in [2^k, 2^(k+1))).
std::string csv_row(std::string_view mode, std::string_view reason, std::string_view key, const ExitFigures& f,
                    uint64_t total) {
  std::string gaps;
  for (size_t k = 0; k < f.gap_log2.size(); ++k)
    if (f.gap_log2[k]) gaps += fmt::format("{}{}:{}", gaps.empty() ? "" : ";", k, f.gap_log2[k]);
  return fmt::format("{},{},{},{},{:.6f},{},{},{:.2f},{},{}\n", mode, reason, key, f.count, share(f.count, total),
                     f.total_cost, f.min_cost, f.mean_cost(), f.max_cost, gaps);
}
}  // namespace

nlohmann::json exit_stats_json(const ExitLog& log) {
  const uint64_t total = log.total();
  nlohmann::json by_reason = nlohmann::json::object();
  for (size_t i = 0; i < kExitReasons; ++i) {
    const auto reason = static_cast<ExitReason>(i);
    const ExitLog::ReasonFigures& rf = log.figures(reason);
    if (!rf.all.count) continue;
    nlohmann::json j = figures_json(rf.all, total);
    nlohmann::json keys = nlohmann::json::object(), rips = nlohmann::json::object();
    for (const auto& [key, f] : rf.by_key) keys[exit_key_name(reason, key)] = figures_json(f, total);
    for (const auto& [rip, f] : rf.by_rip) rips[rip_name(rip)] = figures_json(f, total);
    j["keys"] = keys;
    j["rips"] = rips;
    by_reason[std::string(exit_reason_name(reason))] = j;
  }
  return {{"all", figures_json(log.all_figures(), total)}, {"by_reason", by_reason}};
}

std::string exit_stats_csv(const ExitLog& log, std::string_view mode) {
  const uint64_t total = log.total();
  std::string out = "mode,reason,key,count,share,total_cost,min_cost,mean_cost,max_cost,gap_log2\n";
  out += csv_row(mode, "*", "*", log.all_figures(), total);
  for (size_t i = 0; i < kExitReasons; ++i) {
    const auto reason = static_cast<ExitReason>(i);
    const ExitLog::ReasonFigures& rf = log.figures(reason);
    if (!rf.all.count) continue;
    const std::string_view name = exit_reason_name(reason);
    out += csv_row(mode, name, "*", rf.all, total);
    for (const auto& [key, f] : rf.by_key) out += csv_row(mode, name, exit_key_name(reason, key), f, total);
    for (const auto& [rip, f] : rf.by_rip) out += csv_row(mode, name, "rip:" + rip_name(rip), f, total);
  }
  return out;
}

}  // namespace vtlab::cli
