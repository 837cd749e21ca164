// Paging: the walk the CPU would make for a typed linear address, level
// by level (PageWalker::explain through debugger/views.h: each entry's
// address, raw value, bits and where it leads, then the page or the #PF
// with its error code), the page-table tree, and the TLB.
#include <fmt/format.h>

#include "debugger/system_views.h"
#include "gui/panels.h"
#include "mmu/walk_explain.h"

namespace vtlab::gui {

namespace {

void draw_walk(GuiState& st) {
  ImGui::SetNextItemWidth(160);
  ImGui::InputText("linear", st.walk_addr, sizeof st.walk_addr, ImGuiInputTextFlags_CharsHexadecimal);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(90);
  ImGui::Combo("##access", &st.walk_access, "read\0write\0execute\0");
  ImGui::SameLine();
  ImGui::Checkbox("user", &st.walk_user);
  const std::optional<uint64_t> lin = parse_hex(st.walk_addr);
  if (!lin) return;
  const Access access = st.walk_access == 1 ? Access::Write : st.walk_access == 2 ? Access::Execute : Access::Read;
  const WalkExplanation w = explain_walk(st.dbg(), *lin, access, st.walk_user);
  ImGui::Text("%s", paging_mode_name(w.mode));
  if (shadow_page_tables(st.machine())) {  // the walk a hidden page fault makes, not the real CPU's
    ImGui::SameLine();
    ImGui::TextColored(kUser, "through the guest's own tables (CR3 %llx)",
                       static_cast<unsigned long long>(guest_paging(st.machine().cpu()).cr3));
  }
  for (const WalkStep& s : w.steps) {
    ImGui::TextUnformatted(fmt::format("{:<5} at {:#x}: {:016x}", walk_level_name(s.level), s.entry_addr, s.raw)
                               .c_str());
    ImGui::SameLine();
    const EntryBits& b = s.bits;
    draw_bits({{"P", b.p}, {"RW", b.rw}, {"US", b.us}, {"A", b.a}, {"D", b.d}, {"PS", b.ps}, {"G", b.g}, {"XD", b.xd}}, false);
    ImGui::SameLine();
    if (s.verdict == WalkStep::Verdict::Fault) ImGui::TextColored(kFault, "-> fault");
    else ImGui::Text("-> %s %llx", s.verdict == WalkStep::Verdict::Page ? "page" : "table",
                     static_cast<unsigned long long>(b.address));
  }
  if (w.ok)
    ImGui::TextColored(kSet, "=> physical %llx in a %llu KiB page: %s, %s%s",
                       static_cast<unsigned long long>(w.t.phys), static_cast<unsigned long long>(w.t.page_size >> 10),
                       w.t.user ? "user" : "supervisor", w.t.writable ? "writable" : "read-only",
                       w.t.nx ? ", no-execute" : "");
  else
    ImGui::TextColored(kFault, "=> #PF(%#x) [%s]: %s", w.error_code, error_code_text(w.error_code).c_str(),
                       w.reason.c_str());
}

}  // namespace

void draw_paging(GuiState& st) {
  if (!ImGui::BeginTabBar("paging")) return;
  if (begin_tab(st, "Walk")) {
    draw_walk(st);
    ImGui::EndTabItem();
  }
  if (begin_tab(st, "Page tables")) {
    draw_page_tree(st);
    ImGui::EndTabItem();
  }
  if (begin_tab(st, "TLB")) {
    draw_tlb(st);
    ImGui::EndTabItem();
  }
  ImGui::EndTabBar();
}

void draw_tlb(GuiState& st) {
  const std::vector<Tlb::Entry> v = tlb_view(st.machine().cpu());
  ImGui::Text("%zu valid entries", v.size());
  const ImGuiTableFlags flags = ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY;
  if (!ImGui::BeginTable("tlb", 4, flags)) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  for (const char* h : {"linear", "physical", "page", "rights"}) ImGui::TableSetupColumn(h);
  ImGui::TableHeadersRow();
  for (const Tlb::Entry& e : v) {
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(fmt::format("{:08x}", e.vpn << 12).c_str());
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(fmt::format("{:08x}", e.ppn << 12).c_str());
    ImGui::TableNextColumn();
    ImGui::Text("%llu KiB", static_cast<unsigned long long>(e.page_size >> 10));
    ImGui::TableNextColumn();
    draw_bits({{"US", e.user}, {"RW", e.writable}, {"NX", e.nx}, {"D", e.dirty}, {"G", e.global}}, false);
  }
  ImGui::EndTable();
}

}  // namespace vtlab::gui
