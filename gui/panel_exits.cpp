// What the monitor did: exits counted per reason with their modelled
// cycles (core/exits.h, docs/EXITS.md), a histogram per reason, a timeline
// of the recent exits over virtual time, their log with each one's cause
// and a filter, and in trap mode the virtualization holes found
// (instructions that behave differently deprivileged and do not trap:
// Popek and Goldberg's sensitive-but-unprivileged set).
#include <fmt/format.h>

#include <algorithm>

#include "gui/panels.h"

namespace vtlab::gui {

namespace {

void draw_counts(GuiState& st) {
  const ExitLog& log = st.machine().exits();
  ImGui::Text("%llu exits, %llu modelled cycles (monitor: %s)", static_cast<unsigned long long>(log.total()),
              static_cast<unsigned long long>(log.total_cycles()), std::string(st.machine().monitor().name()).c_str());
  std::vector<float> counts;
  for (size_t i = 0; i < kExitReasons; ++i) counts.push_back(static_cast<float>(log.count(static_cast<ExitReason>(i)).count));
  ImGui::PlotHistogram("##per-reason", counts.data(), static_cast<int>(counts.size()), 0, "per reason", 0.0f, FLT_MAX,
                       ImVec2(ImGui::GetContentRegionAvail().x, 60));
  const ImGuiTableFlags flags = ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_RowBg;
  if (!ImGui::BeginTable("counts", 3, flags)) return;
  for (const char* h : {"reason", "count", "cycles"}) ImGui::TableSetupColumn(h);
  ImGui::TableHeadersRow();
  for (size_t i = 0; i < kExitReasons; ++i) {
    const auto r = static_cast<ExitReason>(i);
    const ExitLog::ReasonCount& c = log.count(r);
    if (!c.count) continue;
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(std::string(exit_reason_name(r)).c_str());
    ImGui::TableNextColumn();
    ImGui::Text("%llu", static_cast<unsigned long long>(c.count));
    ImGui::TableNextColumn();
    ImGui::Text("%llu", static_cast<unsigned long long>(c.cycles));
  }
  ImGui::EndTable();
}

void draw_timeline(GuiState& st) {
  const std::deque<ExitRecord>& recent = st.target->recent_exits();
  if (recent.empty()) {
    ImGui::TextUnformatted("no exits yet (native mode has no monitor to exit to)");
    return;
  }
  constexpr int kBuckets = 120;
  const uint64_t t0 = recent.front().time, t1 = std::max(recent.back().time, t0 + 1);
  std::vector<float> buckets(kBuckets, 0.0f);
  for (const ExitRecord& r : recent) buckets[std::min<uint64_t>(kBuckets - 1, (r.time - t0) * kBuckets / (t1 - t0))] += 1;
  ImGui::Text("the last %zu exits over virtual time %llu..%llu", recent.size(), static_cast<unsigned long long>(t0),
              static_cast<unsigned long long>(t1));
  ImGui::PlotHistogram("##timeline", buckets.data(), kBuckets, 0, nullptr, 0.0f, FLT_MAX, ImVec2(ImGui::GetContentRegionAvail().x, 120));
}

void draw_log(GuiState& st) {
  static ImGuiTextFilter filter;
  filter.Draw("filter (reason, key, rip...)");
  const std::deque<ExitRecord>& recent = st.target->recent_exits();
  ImGui::BeginChild("log");
  // Newest first: the exit that just happened is the one to explain.
  for (auto it = recent.rbegin(); it != recent.rend(); ++it) {
    // The cause (the VMCS control, or the rule that made it trap) ends the line.
    const std::string line = exit_line(*it);
    if (filter.PassFilter(line.c_str())) ImGui::TextUnformatted(line.c_str());
  }
  ImGui::EndChild();
}

void draw_holes(GuiState& st) {
  const Monitor& m = st.machine().monitor();
  if (m.name() == "bt") {
    ImGui::TextWrapped("bt: no virtualization holes: the kernel's sensitive instructions run translated, on the "
                       "virtual CPU");
    return;
  }
  if (m.name() != "trap") {
    ImGui::TextWrapped("holes are what trap-and-emulate misses: restart in trap mode to look for them");
    return;
  }
  ImGui::Text("%zu virtualization holes found", m.holes().size());
  for (const Monitor::Hole& h : m.holes())
    ImGui::TextColored(kFault, "%s", fmt::format("{:08x}  {:<24} got {}; bare metal: {}", h.rip, h.insn, h.observed,
                                                 h.bare_metal).c_str());
}

}  // namespace

void draw_exits(GuiState& st) {
  if (!ImGui::BeginTabBar("exits")) return;
  const std::pair<const char*, void (*)(GuiState&)> tabs[] = {
      {"Exits", draw_counts}, {"Timeline", draw_timeline}, {"Exit log", draw_log}, {"Holes", draw_holes}};
  for (const auto& [name, draw] : tabs) {
    if (begin_tab(st, name)) {
      draw(st);
      ImGui::EndTabItem();
    }
  }
  ImGui::EndTabBar();
}

}  // namespace vtlab::gui
