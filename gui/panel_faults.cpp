// Faults explained (debugger/fault_explain.h): a triple fault's chain, the
// last double fault the guest survived, the last segment or gate check
// that refused, in the words `vtlab run` and the debugger's `why` use.
// A page fault's walk is the Paging panel's.
#include "debugger/fault_explain.h"
#include "gui/panels.h"

namespace vtlab::gui {

void draw_faults(GuiState& st) {
  const std::string text = explain_machine_faults(st.machine());
  if (text.empty()) {
    ImGui::TextColored(kClear, "no fault to explain: no shutdown, no double fault, no segment check refused");
    return;
  }
  ImGui::PushStyleColor(ImGuiCol_Text, kFault);
  ImGui::TextUnformatted(text.c_str());
  ImGui::PopStyleColor();
}

}  // namespace vtlab::gui
