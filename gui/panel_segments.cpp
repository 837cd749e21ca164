// Segment registers with the hidden cache each load filled (base, limit,
// attributes; SDM vol. 3, 3.4.3), LDTR and TR, GDTR and IDTR.  The cache
// is what the CPU uses: after a GDT edit it still holds the old values.
#include <fmt/format.h>

#include "gui/panels.h"

namespace vtlab::gui {

void draw_segments(GuiState& st) {
  const SegmentsView v = segments_view(st.machine().cpu().s);
  const ImGuiTableFlags flags = ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV;
  if (ImGui::BeginTable("segs", 7, flags)) {
    for (const char* h : {"reg", "sel", "base", "limit", "DPL", "bits", "type"}) ImGui::TableSetupColumn(h);
    ImGui::TableHeadersRow();
    for (const SegmentView& s : v.segs) {
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(s.name);
      ImGui::TableNextColumn();
      ImGui::Text("%04x", s.selector);
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(fmt::format("{:08x}", s.base).c_str());
      ImGui::TableNextColumn();
      ImGui::Text("%08x", s.limit);
      ImGui::TableNextColumn();
      ImGui::Text("%u", s.dpl);
      ImGui::TableNextColumn();
      draw_bits({{"P", s.present}, {"L", s.l}, {"D/B", s.db}, {"G", s.g}}, false);
      ImGui::TableNextColumn();
      ImGui::TextColored(s.present ? ImGui::GetStyle().Colors[ImGuiCol_Text] : kFault, "%s", s.type_text.c_str());
    }
    ImGui::EndTable();
  }
  ImGui::TextUnformatted(fmt::format("GDTR base {:08x} limit {:04x}    IDTR base {:08x} limit {:04x}", v.gdtr.base,
                                     v.gdtr.limit, v.idtr.base, v.idtr.limit)
                             .c_str());
}

}  // namespace vtlab::gui
