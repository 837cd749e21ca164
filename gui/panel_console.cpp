// The command line of `vtlab debug` inside the window (the same language,
// tools/vtlab/debug_cli.cpp: catch, watch, until, x/, vcpu, ...), and the
// guest's serial console (COM1) as the machine has received it.
// imgui_stdlib.h needs imgui.h first.
#include "gui/panels.h"

#include <imgui_stdlib.h>

namespace vtlab::gui {

namespace {

// Text that keeps the newest line in view as it grows.
void scrolling_text(const char* id, const std::string& text, float reserve) {
  ImGui::BeginChild(id, ImVec2(0, -reserve), false, ImGuiWindowFlags_HorizontalScrollbar);
  ImGui::TextUnformatted(text.data(), text.data() + text.size());
  if (ImGui::GetScrollY() >= ImGui::GetScrollMaxY()) ImGui::SetScrollHereY(1.0f);
  ImGui::EndChild();
}

void draw_command_line(GuiState& st) {
  const float input_height = ImGui::GetFrameHeightWithSpacing();
  scrolling_text("transcript", st.console, input_height);
  static std::string line;
  ImGui::SetNextItemWidth(-1);
  if (ImGui::InputTextWithHint("##cmd", "debugger command (help lists them)", &line,
                               ImGuiInputTextFlags_EnterReturnsTrue)) {
    if (!line.empty()) st.run_command(line);
    line.clear();
    ImGui::SetKeyboardFocusHere(-1);
  }
}

}  // namespace

void draw_console(GuiState& st) {
  if (!ImGui::BeginTabBar("console")) return;
  if (begin_tab(st, "Serial")) {
    scrolling_text("serial", st.machine().serial_transcript(), 0);
    ImGui::EndTabItem();
  }
  if (begin_tab(st, "Commands")) {
    draw_command_line(st);
    ImGui::EndTabItem();
  }
  ImGui::EndTabBar();
}

}  // namespace vtlab::gui
