// The paging structures CR3 points to, as a tree (directory -> table ->
// page; SDM vol. 3, 4.3 for 32-bit paging, 4.4 for PAE, 4.5 for 4-level),
// present entries only, each with its P/RW/US/A/D/NX bits coloured and
// the linear range it maps.  Tables are read from guest RAM like the
// debugger reads memory (no A/D bits set); a node is read when opened.
// Under a shadow-paging monitor the tree is the guest's own (the CR3 it
// loaded), and the toggle lists the shadow entries the real CPU uses.
#include <fmt/format.h>

#include "debugger/system_views.h"
#include "gui/panels.h"
#include "mmu/page_walker.h"
#include "mmu/walk_explain.h"

namespace vtlab::gui {

namespace {

struct Level {
  const char* name;
  unsigned shift;  // linear-address bits below this level's index
};
// Top level first; a PS entry (in a PDPTE or PDE) maps a large page.
const Level k32[] = {{"PDE", 22}, {"PTE", 12}};
const Level kPae[] = {{"PDPTE", 30}, {"PDE", 21}, {"PTE", 12}};
const Level k4[] = {{"PML4E", 39}, {"PDPTE", 30}, {"PDE", 21}, {"PTE", 12}};

struct Walk {
  GuiState& st;
  const Level* levels;
  unsigned depth;      // how many levels
  bool wide;           // 8-byte entries
  bool pse;            // CR4.PSE (32-bit paging's 4 MiB pages)
  uint64_t addr_mask;  // the table/page address bits of an entry
  std::optional<uint64_t> focus;  // the Walk tab's address: its path opens, its page is marked
};

uint64_t canonical(uint64_t lin) { return (lin & (uint64_t{1} << 47)) ? (lin | 0xFFFF000000000000) : lin; }

bool bit(uint64_t e, unsigned n) { return (e >> n) & 1; }

void entry_bits(uint64_t e, bool wide) {
  const bool nx = wide && bit(e, 63);
  ImGui::SameLine();
  draw_bits({{"P", bit(e, 0)}, {"RW", bit(e, 1)}, {"US", bit(e, 2)}, {"A", bit(e, 5)}, {"D", bit(e, 6)}}, false);
  ImGui::SameLine(0, 6);
  ImGui::TextColored(nx ? kFault : kClear, "NX");
}

void table(const Walk& w, unsigned level, uint64_t table_phys, uint64_t lin_base, const uint64_t* preloaded);

// One present entry: a leaf (page) or a node opening the next table.
void entry(const Walk& w, unsigned level, unsigned index, uint64_t e, uint64_t lin) {
  const Level& l = w.levels[level];
  const bool last = level + 1 == w.depth;
  const bool ps = !last && level > 0 && bit(e, 7) && (w.wide || w.pse);
  const bool ps_32 = !w.wide && level == 0 && bit(e, 7) && w.pse;
  const bool leaf = last || ps || ps_32;
  const uint64_t span = uint64_t{1} << l.shift;
  const std::string label = fmt::format("{} {:3}  {:016x}  {:x}-{:x}", l.name, index, e, lin, lin + span - 1);
  const ImVec4 colour = bit(e, 2) ? kUser : ImGui::GetStyle().Colors[ImGuiCol_Text];
  const bool on_path = w.focus && *w.focus - lin < span;
  if (leaf) {
    if (on_path) {
      ImGui::TextColored(kChanged, ">");
      if (w.st.tree_scrolled_to != w.focus) {  // once per typed address, so the user can scroll away
        ImGui::SetScrollHereY(0.3f);
        w.st.tree_scrolled_to = w.focus;
      }
    } else {
      ImGui::TextUnformatted(" ");
    }
    ImGui::SameLine();
    const uint64_t frame = ps_32 ? ((e & 0xFFC00000) | ((e >> 13) & 0xFF) << 32) : (e & w.addr_mask & ~(span - 1));
    ImGui::TextColored(colour, "%s -> page %llx", label.c_str(), static_cast<unsigned long long>(frame));
    entry_bits(e, w.wide);
    return;
  }
  if (on_path) ImGui::SetNextItemOpen(true, ImGuiCond_Once);
  ImGui::PushStyleColor(ImGuiCol_Text, colour);
  const bool open = ImGui::TreeNode(reinterpret_cast<void*>(static_cast<uintptr_t>(lin + level)), "%s", label.c_str());
  ImGui::PopStyleColor();
  entry_bits(e, w.wide);
  if (open) {
    table(w, level + 1, e & w.addr_mask, lin, nullptr);
    ImGui::TreePop();
  }
}

void table(const Walk& w, unsigned level, uint64_t table_phys, uint64_t lin_base, const uint64_t* preloaded) {
  const unsigned n = preloaded ? 4 : w.wide ? 512 : 1024;
  const unsigned size = w.wide ? 8 : 4;
  std::vector<uint8_t> raw(n * size);
  if (!preloaded && w.st.dbg().read_physical(table_phys, raw.data(), raw.size()) != raw.size()) {
    ImGui::TextColored(kFault, "table at %llx is not in RAM", static_cast<unsigned long long>(table_phys));
    return;
  }
  unsigned shown = 0;
  for (unsigned i = 0; i < n; ++i) {
    uint64_t e = 0;
    if (preloaded) e = preloaded[i];
    else
      for (unsigned b = 0; b < size; ++b) e |= uint64_t{raw[i * size + b]} << (8 * b);
    if (!(e & 1)) continue;
    ++shown;
    uint64_t lin = lin_base + (uint64_t{i} << w.levels[level].shift);
    if (w.depth == 4) lin = canonical(lin);
    entry(w, level, i, e, lin);
  }
  if (!shown) ImGui::TextColored(kClear, "(no present entries)");
}

}  // namespace

// The shadow page tables the real CPU runs on (trap, bt, hw without EPT):
// entries per linear page, not x86 tables, so a list.
void draw_shadow_pages(const ShadowMmu& shadow) {
  const std::vector<ShadowMmu::PageView> pages = shadow.pages();
  ImGui::Text("%zu shadow entries, filled by hidden page faults from the guest's tables", pages.size());
  const ImGuiTableFlags flags = ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY;
  if (!ImGui::BeginTable("shadow", 3, flags)) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  for (const char* h : {"linear", "physical", "rights"}) ImGui::TableSetupColumn(h);
  ImGui::TableHeadersRow();
  for (const ShadowMmu::PageView& p : pages) {
    ImGui::TableNextColumn();
    ImGui::TextColored(p.user ? kUser : ImGui::GetStyle().Colors[ImGuiCol_Text], "%08llx",
                       static_cast<unsigned long long>(p.linear));
    ImGui::TableNextColumn();
    ImGui::Text("%08llx", static_cast<unsigned long long>(p.phys));
    ImGui::TableNextColumn();
    draw_bits({{"US", p.user}, {"RW", p.writable}, {"D", p.dirty}, {"NX", p.nx}}, false);
  }
  ImGui::EndTable();
}

void draw_page_tree(GuiState& st) {
  const CpuState& s = st.machine().cpu().s;
  const ShadowMmu* shadow = shadow_page_tables(st.machine());
  const bool real = shadow && st.show_real_tables;
  draw_shadow_toggle(st, shadow != nullptr,
                     real ? "the real CPU's: the monitor's shadow page tables"
                     : shadow ? "the guest's own, from the CR3 it loaded"
                              : "CR3's, which are the guest's own (no shadow page tables in this mode)");
  if (real) {
    draw_shadow_pages(*shadow);
    return;
  }
  // The guest's paging registers (TranslationHook::guest_paging): under a
  // shadow-paging monitor the real CR3 names no x86 tables.
  const PagingRegisters g = guest_paging(st.machine().cpu());
  const PagingMode mode = paging_mode(g.cr0, g.cr4, s.efer);
  const uint64_t addr_mask = 0x000FFFFFFFFFF000;
  ImGui::Text("CR3 %llx, %s:", static_cast<unsigned long long>(g.cr3), paging_mode_name(mode));
  ImGui::SameLine();
  ImGui::TextColored(kUser, "user");
  ImGui::SameLine();
  ImGui::TextUnformatted("pages; supervisor in white; lit bits are set; > the Walk tab's page");
  const std::optional<uint64_t> focus = parse_hex(st.walk_addr);
  ImGui::BeginChild("tree");
  switch (mode) {
    case PagingMode::None:
      ImGui::TextUnformatted("paging is off (CR0.PG = 0): linear addresses are physical");
      break;
    case PagingMode::Bits32:
      table(Walk{st, k32, 2, false, (g.cr4 & cr4::PSE) != 0, 0xFFFFF000, focus}, 0, g.cr3 & 0xFFFFF000, 0, nullptr);
      break;
    case PagingMode::Pae:
      table(Walk{st, kPae, 3, true, true, addr_mask, focus}, 0, 0, 0, s.pdpte.data());
      break;
    case PagingMode::FourLevel:
      table(Walk{st, k4, 4, true, true, addr_mask, focus}, 0, g.cr3 & addr_mask, 0, nullptr);
      break;
  }
  ImGui::EndChild();
}

}  // namespace vtlab::gui
