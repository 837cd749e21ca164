// Compare modes: the same guest run to its end in each chosen mode, on a
// fresh machine each (as `vtlab compare` does, debugger/mode_compare.h),
// side by side: instructions, virtual time and its ratio to native's,
// exits per reason with their modelled cycles (docs/EXITS.md), holes and
// whether the serial output matched native's; then the virtual time and
// the exits per reason as bars, so the cost of each method shows at a
// glance.  The runs take a slice of virtual time per frame (gui/compare.h).
#include <fmt/format.h>

#include <algorithm>
#include <span>

#include "gui/panels.h"

namespace vtlab::gui {

namespace {

ImU32 reason_colour(size_t reason) {
  return ImColor::HSV(static_cast<float>(reason) / static_cast<float>(kExitReasons), 0.55f, 0.9f);
}

void draw_choice(GuiState& st) {
  CompareRuns& c = *st.compare;
  std::vector<bool>& chosen = c.chosen();
  ImGui::BeginDisabled(c.running());
  for (size_t i = 0; i < c.offered().size(); ++i) {
    bool on = chosen[i] || i == 0;
    ImGui::BeginDisabled(i == 0);  // native is the reference: always run
    if (ImGui::Checkbox(c.offered()[i].c_str(), &on)) chosen[i] = on;
    ImGui::EndDisabled();
    ImGui::SameLine();
  }
  ImGui::EndDisabled();
  if (!c.running()) {
    if (ImGui::Button("Run comparison")) c.start();
  } else {
    if (ImGui::Button("Cancel")) c.cancel();
    ImGui::SameLine();
    const CompareRow& row = c.rows()[c.done()];
    ImGui::Text("running %s (%zu of %zu)...", row.mode.c_str(), c.done() + 1, c.rows().size());
  }
}

void draw_table(std::span<const CompareRow> rows) {
  const ImGuiTableFlags flags = ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_RowBg |
                                ImGuiTableFlags_BordersInnerV;
  if (!ImGui::BeginTable("compare", static_cast<int>(rows.size()) + 1, flags)) return;
  ImGui::TableSetupColumn("");
  for (const CompareRow& r : rows) ImGui::TableSetupColumn(r.mode.c_str());
  ImGui::TableHeadersRow();
  const auto row = [&rows](const char* name, const auto& value, ImU32 swatch = 0) {
    ImGui::TableNextColumn();
    if (swatch) {
      ImGui::ColorButton("##swatch", ImColor(swatch), ImGuiColorEditFlags_NoTooltip, ImVec2(10, 10));
      ImGui::SameLine();
    }
    ImGui::TextUnformatted(name);
    for (const CompareRow& r : rows) {
      ImGui::TableNextColumn();
      if (!r.error.empty()) ImGui::TextColored(kFault, "(not run)");
      else ImGui::TextUnformatted(value(r).c_str());
    }
  };
  const ModeFigures& native = rows.front().figures;
  row("stop", [](const CompareRow& r) { return std::string(stop_reason_name(r.result.reason)); });
  row("instructions", [](const CompareRow& r) { return fmt::format("{}", r.figures.instructions); });
  row("virtual time", [](const CompareRow& r) { return fmt::format("{}", r.figures.virtual_time); });
  row("vs native", [&native](const CompareRow& r) {
    return fmt::format("{:.3f}", virtual_time_ratio(r.figures, native));
  });
  row("exits", [](const CompareRow& r) { return fmt::format("{}", r.figures.exits); });
  for (size_t i = 0; i < kExitReasons; ++i) {
    if (std::none_of(rows.begin(), rows.end(), [i](const CompareRow& r) { return r.figures.by_reason[i] != 0; }))
      continue;
    const std::string name(exit_reason_name(static_cast<ExitReason>(i)));
    row(name.c_str(), [i](const CompareRow& r) { return fmt::format("{}", r.figures.by_reason[i]); },
        reason_colour(i));
  }
  row("modelled cycles", [](const CompareRow& r) { return fmt::format("{}", r.figures.exit_cycles); });
  row("holes found", [](const CompareRow& r) { return fmt::format("{}", r.figures.holes_found); });
  row("serial = native", [](const CompareRow& r) { return std::string(r.same_serial ? "yes" : "NO"); });
  ImGui::EndTable();
}

// One bar per mode: virtual time against the longest run's, and the
// exits stacked by reason against the most exits any mode took.
void draw_bars(std::span<const CompareRow> rows) {
  uint64_t most_time = 1, most_exits = 1;
  for (const CompareRow& r : rows) {
    most_time = std::max(most_time, r.figures.virtual_time);
    most_exits = std::max(most_exits, r.figures.exits);
  }
  // The stacked bars leave room for their totals on the right.
  const float label_w = 70.0f, full_w = ImGui::GetContentRegionAvail().x - label_w - 8.0f;
  const float bar_h = ImGui::GetTextLineHeight();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  ImGui::TextUnformatted("virtual time (native = 1.000)");
  for (const CompareRow& r : rows) {
    ImGui::TextUnformatted(r.mode.c_str());
    ImGui::SameLine(label_w);
    const float f = static_cast<float>(static_cast<double>(r.figures.virtual_time) / static_cast<double>(most_time));
    const std::string text = fmt::format("{} ({:.3f})", r.figures.virtual_time,
                                         virtual_time_ratio(r.figures, rows.front().figures));
    ImGui::ProgressBar(f, ImVec2(full_w, bar_h), text.c_str());
  }
  ImGui::TextUnformatted("exits per reason (colours as in the table)");
  const float bar_w = full_w * 0.6f;
  for (const CompareRow& r : rows) {
    ImGui::TextUnformatted(r.mode.c_str());
    ImGui::SameLine(label_w);
    const ImVec2 at = ImGui::GetCursorScreenPos();
    float x = at.x;
    for (size_t i = 0; i < kExitReasons; ++i) {
      const float w = bar_w * static_cast<float>(static_cast<double>(r.figures.by_reason[i]) /
                                                 static_cast<double>(most_exits));
      if (w <= 0) continue;
      dl->AddRectFilled(ImVec2(x, at.y), ImVec2(x + w, at.y + bar_h), reason_colour(i));
      x += w;
    }
    ImGui::Dummy(ImVec2(bar_w, bar_h));
    ImGui::SameLine();
    ImGui::TextUnformatted(fmt::format("{} exits, {} modelled cycles", r.figures.exits, r.figures.exit_cycles).c_str());
  }
}

}  // namespace

void draw_compare(GuiState& st) {
  ImGui::TextWrapped("The guest run to its end in each mode, each on a freshly powered-on machine, as `vtlab "
                     "compare` runs it; native is the reference.");
  draw_choice(st);
  const CompareRuns& c = *st.compare;
  const std::vector<CompareRow>& rows = c.rows();
  const size_t finished = c.running() ? c.done() : rows.size();
  if (finished == 0) {
    if (!c.running()) ImGui::TextUnformatted("no comparison yet");
    return;
  }
  const std::span<const CompareRow> done(rows.data(), finished);
  for (const CompareRow& r : done)
    if (!r.error.empty()) ImGui::TextColored(kFault, "%s: %s", r.mode.c_str(), r.error.c_str());
  draw_table(done);
  draw_bars(done);
}

}  // namespace vtlab::gui
