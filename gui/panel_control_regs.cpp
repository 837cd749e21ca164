// CR0, CR2, CR3, CR4 and EFER with their named bits (SDM vol. 3, 2.5),
// lit when set and highlighted when the last step changed them, and the
// paging mode they select together (SDM vol. 3, 4.1.1).
#include <fmt/format.h>

#include "gui/panels.h"
#include "mmu/walk_explain.h"

namespace vtlab::gui {

void draw_control_regs(GuiState& st) {
  const ControlView v = control_view(st.machine().cpu().s);
  for (size_t i = 0; i < v.regs.size(); ++i) {
    const ControlRegView& r = v.regs[i];
    const bool changed = i < st.before_cr.regs.size() && st.before_cr.regs[i].value != r.value;
    const std::string text = fmt::format("{:<4} {:016x}", r.name, r.value);
    if (changed) ImGui::TextColored(kChanged, "%s", text.c_str());
    else ImGui::TextUnformatted(text.c_str());
    if (!r.bits.empty()) {
      ImGui::Indent();
      draw_bits(r.bits);
      ImGui::Unindent();
    }
  }
  ImGui::Text("paging: %s", paging_mode_name(v.paging));
}

}  // namespace vtlab::gui
