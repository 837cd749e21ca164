// Run control and the mode selector: step, step over, run/pause (a
// continue in slices of virtual time, one per frame, so the window stays
// live), reverse step/continue (replays from power-on), and a restart in
// any mode the machine offers (Machine::modes()).
#include <fmt/format.h>

#include "gui/panels.h"

namespace vtlab::gui {

namespace {

// Virtual time one frame of Run gives the guest (~ a million instructions).
constexpr uint64_t kRunSlice = 1'000'000;

std::string stop_text(const StopEvent& e) {
  using K = StopEvent::Kind;
  switch (e.kind) {
    case K::Breakpoint: return fmt::format("breakpoint {}", e.id);
    case K::Watchpoint: return fmt::format("watchpoint {}", e.id);
    case K::Catch: return fmt::format("catch {} ({})", e.id, catch_kind_name(e.catch_kind));
    case K::MachineStop: return fmt::format("machine stopped: {} {}", stop_reason_name(e.reason), e.detail);
    case K::Interrupted: return "paused";
    default: return "stopped";
  }
}

}  // namespace

void draw_controls(GuiState& st) {
  Debugger& d = st.dbg();
  if (st.running) {
    const StopEvent e = d.cont(kRunSlice);
    if (e.kind != StopEvent::Kind::Budget) {
      st.running = false;
      st.status = stop_text(e);
    }
  }
  ImGui::BeginDisabled(st.running);
  if (ImGui::Button("Step")) st.run_command("s");
  ImGui::SameLine();
  if (ImGui::Button("Step over")) st.run_command("n");
  ImGui::SameLine();
  if (ImGui::Button("Reverse step")) st.run_command("rs");
  ImGui::SameLine();
  if (ImGui::Button("Reverse continue")) st.run_command("rc");
  ImGui::EndDisabled();
  ImGui::SameLine();
  if (!st.running && ImGui::Button("Run")) {
    st.snapshot_before();
    st.running = true;
    st.status = "running";
  } else if (st.running && ImGui::Button("Pause")) {
    st.running = false;
    st.status = "paused";
  }
  ImGui::SameLine();
  if (ImGui::Button("Compare")) st.compare_open = true;  // the modes side by side, in a window of their own

  const std::vector<std::string>& modes = Machine::modes();
  ImGui::SetNextItemWidth(110);
  if (ImGui::BeginCombo("##mode", st.mode.c_str())) {
    for (const std::string& m : modes)
      if (ImGui::Selectable(m.c_str(), m == st.mode)) st.restart(m);
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  if (ImGui::Button("Restart")) st.restart("");
  ImGui::SameLine();
  if (ImGui::Button("Reset layout")) st.reset_layout = true;
  ImGui::SameLine();
  const RegistersView v = registers_view(st.machine().cpu());
  ImGui::Text("%s mode, %s, CPL %u", st.mode.c_str(), cpu_mode_name(v.mode), v.cpl);
  ImGui::TextColored(st.status.rfind("machine stopped", 0) == 0 ? kFault : kSet, "%s", st.status.c_str());
  if (!st.load_error.empty()) ImGui::TextColored(kFault, "restart failed: %s", st.load_error.c_str());
}

}  // namespace vtlab::gui
