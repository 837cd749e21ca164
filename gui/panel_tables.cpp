// The descriptor tables decoded (privilege/descriptors.h through
// debugger/views.h and debugger/system_views.h): the GDT, the IDT (the
// IVT's segment:offset pairs in real mode), the LDT that LDTR names, and
// the TSS that TR names with its ring stacks (IST1-7 in long mode) and I/O
// map base.  Under trap and bt these are the guest's own tables, as it
// loaded them, unless the toggle asks for the monitor's shadow tables the
// real CPU runs on.  Empty slots are left out.
#include <fmt/format.h>

#include <algorithm>

#include "debugger/system_views.h"
#include "gui/panels.h"

namespace vtlab::gui {

namespace {

void draw_entries(const char* id, bool idt, const std::vector<DescriptorView>& v) {
  const ImGuiTableFlags flags = ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY |
                                ImGuiTableFlags_BordersInnerV;
  if (!ImGui::BeginTable(id, 5, flags)) return;
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

void draw_gdt(const SystemTables& t) {
  ImGui::Text("GDTR base %08llx limit %04x", static_cast<unsigned long long>(t.gdtr.base), t.gdtr.limit);
  draw_entries("gdt", false, descriptor_table_view(t.gdtr, false, t.ia32e, 0, 8192, t.read));
}

void draw_idt(const SystemTables& t) {
  ImGui::Text("IDTR base %08llx limit %04x", static_cast<unsigned long long>(t.idtr.base), t.idtr.limit);
  draw_entries("idt", true, interrupt_table_view(t.idtr, t.real_mode, t.ia32e, 0, 256, t.read));
}

void draw_ldt(const SystemTables& t) {
  ImGui::Text("LDTR %04x base %08llx limit %04x", t.ldtr.selector, static_cast<unsigned long long>(t.ldtr.base),
              t.ldtr.limit);
  if (!(t.ldtr.selector & ~3) || !t.ldtr.present()) {
    ImGui::TextColored(kClear, "no LDT loaded (LDTR is null: selectors with TI set fault)");
    return;
  }
  draw_entries("ldt", false, ldt_view(t));
}

void draw_tss(const SystemTables& t) {
  const TssView v = tss_view(t);
  ImGui::Text("TR %04x base %08llx limit %04x", t.tr.selector, static_cast<unsigned long long>(t.tr.base),
              t.tr.limit);
  if (v.format == 0) {
    ImGui::TextColored(kClear, "no TSS loaded (TR names none: LTR loads one)");
    return;
  }
  ImGui::SameLine();
  ImGui::Text(" %u-bit TSS", v.format);
  if (!v.readable) ImGui::TextColored(kFault, "part of it is not mapped: those fields show 0");
  const ImGuiTableFlags flags = ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY |
                                ImGuiTableFlags_BordersInnerV;
  if (!ImGui::BeginTable("tss", 3, flags)) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  for (const char* h : {"offset", "field", "value"}) ImGui::TableSetupColumn(h);
  ImGui::TableHeadersRow();
  for (const TssField& f : v.fields) {
    // The fields an interrupt or gate reads to change stacks stand out.
    const bool stack = f.name.starts_with("ESP") || f.name.starts_with("SS") || f.name.starts_with("SP") ||
                       f.name.starts_with("RSP") || f.name.starts_with("IST");
    ImGui::TableNextColumn();
    ImGui::Text("%02x", f.offset);
    ImGui::TableNextColumn();
    ImGui::TextColored(stack ? kSet : ImGui::GetStyle().Colors[ImGuiCol_Text], "%s", f.name.c_str());
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(fmt::format("{:0{}x}", f.value, f.size * 2).c_str());
    if (f.name == "I/O map base") {
      ImGui::SameLine();
      ImGui::TextColored(v.io_map_in_limit ? kSet : kClear, v.io_map_in_limit ? "(bitmap within the limit)"
                                                                              : "(beyond the limit: no bitmap)");
    }
  }
  ImGui::EndTable();
}

}  // namespace

bool begin_tab(GuiState& st, const char* name) {
  const bool asked = std::find(st.tab_requests.begin(), st.tab_requests.end(), name) != st.tab_requests.end();
  return ImGui::BeginTabItem(name, nullptr, asked ? ImGuiTabItemFlags_SetSelected : 0);
}

void draw_shadow_toggle(GuiState& st, bool shadow_exists, const char* whose) {
  if (shadow_exists) {
    ImGui::Checkbox("real (shadow)", &st.show_real_tables);
    ImGui::SameLine();
  }
  ImGui::PushStyleColor(ImGuiCol_Text, st.show_real_tables && shadow_exists ? kFault : kUser);
  ImGui::TextWrapped("%s", whose);
  ImGui::PopStyleColor();
}

void draw_tables(GuiState& st) {
  const bool shadow = shadow_descriptor_tables(st.machine());
  const SystemTables t =
      system_tables(st.dbg(), st.show_real_tables && shadow ? TablesSide::Real : TablesSide::Guest);
  draw_shadow_toggle(st, shadow, t.whose.c_str());
  if (!ImGui::BeginTabBar("tables")) return;
  const std::pair<const char*, void (*)(const SystemTables&)> tabs[] = {
      {"GDT", draw_gdt}, {"IDT", draw_idt}, {"LDT", draw_ldt}, {"TSS", draw_tss}};
  for (const auto& [name, draw] : tabs) {
    if (begin_tab(st, name)) {
      draw(t);
      ImGui::EndTabItem();
    }
  }
  ImGui::EndTabBar();
}

}  // namespace vtlab::gui
