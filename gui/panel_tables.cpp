// The GDT and the IDT decoded (privilege/descriptors.h through
// debugger/views.h): segment descriptors with base, limit, DPL and type;
// gates with their target selector:offset; in real mode the IVT's
// segment:offset pairs.  Empty slots are left out.
#include <fmt/format.h>

#include <algorithm>

#include "gui/panels.h"
#include "privilege/shadow_descriptors.h"

namespace vtlab::gui {

namespace {

void draw_table(GuiState& st, bool idt) {
  const TableRegister& reg = idt ? st.machine().cpu().s.idtr : st.machine().cpu().s.gdtr;
  ImGui::Text("%s base %08llx limit %04x", idt ? "IDTR" : "GDTR", static_cast<unsigned long long>(reg.base),
              static_cast<unsigned>(reg.limit));
  if (window::contains(reg.base))
    ImGui::TextColored(kUser, "the monitor's shadow table, in memory no guest mapping reaches; the guest's own: vcpu");
  const unsigned count = idt ? 256 : 8192;
  const std::vector<DescriptorView> v = idt ? idt_view(st.dbg(), 0, count) : gdt_view(st.dbg(), 0, count);
  const ImGuiTableFlags flags = ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY |
                                ImGuiTableFlags_BordersInnerV;
  if (!ImGui::BeginTable(idt ? "idt" : "gdt", 5, flags)) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  for (const char* h : {idt ? "vec" : "sel", "raw", "DPL", "type", idt ? "target" : "base / limit"})
    ImGui::TableSetupColumn(h);
  ImGui::TableHeadersRow();
  for (const DescriptorView& e : v) {
    const bool ivt = e.type_text == "IVT entry";
    if (e.readable && !ivt && !e.d.present() && e.d.lo == 0 && e.d.hi == 0) continue;
    ImGui::TableNextColumn();
    ImGui::Text(idt ? "%02x" : "%04x", e.selector);
    ImGui::TableNextColumn();
    if (!e.readable) {
      ImGui::TextColored(kFault, "(unmapped)");
      ImGui::TableNextRow();
      continue;
    }
    if (ivt) {
      ImGui::TableNextColumn();
      ImGui::TableNextColumn();
      ImGui::TextUnformatted("IVT entry");
      ImGui::TableNextColumn();
      ImGui::Text("%04x:%04llx", e.target_selector, static_cast<unsigned long long>(e.target_offset));
      continue;
    }
    ImGui::TextUnformatted(fmt::format("{:08x}{:08x}", e.d.hi, e.d.lo).c_str());
    ImGui::TableNextColumn();
    ImGui::Text("%u", e.d.dpl());
    ImGui::TableNextColumn();
    ImGui::TextColored(e.d.present() ? ImGui::GetStyle().Colors[ImGuiCol_Text] : kFault, "%s%s", e.type_text.c_str(),
                       e.d.present() ? "" : " (not present)");
    ImGui::TableNextColumn();
    if (e.gate)
      ImGui::TextUnformatted(fmt::format("{:04x}:{:08x}", e.target_selector, e.target_offset).c_str());
    else
      ImGui::TextUnformatted(fmt::format("{:08x} / {:08x}", e.d.base(), e.d.limit()).c_str());
  }
  ImGui::EndTable();
}

}  // namespace

bool begin_tab(GuiState& st, const char* name) {
  const bool asked = std::find(st.tab_requests.begin(), st.tab_requests.end(), name) != st.tab_requests.end();
  return ImGui::BeginTabItem(name, nullptr, asked ? ImGuiTabItemFlags_SetSelected : 0);
}

void draw_tables(GuiState& st) {
  if (!ImGui::BeginTabBar("tables")) return;
  if (begin_tab(st, "GDT")) {
    draw_table(st, false);
    ImGui::EndTabItem();
  }
  if (begin_tab(st, "IDT")) {
    draw_table(st, true);
    ImGui::EndTabItem();
  }
  ImGui::EndTabBar();
}

}  // namespace vtlab::gui
