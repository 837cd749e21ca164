// Disassembly around RIP (Zydis, through debugger/views.h), with the
// breakpoints in the margin: a click on a line toggles a linear-address
// breakpoint there.  x86 cannot be decoded backwards reliably, so the
// listing keeps its start while RIP stays inside it, which shows the
// instructions just run above the current one; in bt mode, the kernel
// block at RIP beside its translation.
#include <fmt/format.h>

#include "gui/panels.h"
#include "privilege/bt_monitor.h"

namespace vtlab::gui {

namespace {
constexpr unsigned kLines = 40;

const Breakpoint* breakpoint_at(const Debugger& d, uint64_t linear) {
  for (const Breakpoint& b : d.breakpoints())
    if (!b.physical && b.address == linear) return &b;
  return nullptr;
}

void draw_translation(GuiState& st) {
  auto* bt = dynamic_cast<BinaryTranslationMonitor*>(&st.machine().monitor());
  Cpu& cpu = st.machine().cpu();
  if (!bt || !bt->started() || cpu.s.cpl() != 1) return;
  ImGui::Separator();
  ImGui::TextColored(kSet, "bt: the kernel block at RIP, guest code beside its translation");
  for (const BinaryTranslationMonitor::TranslatedInsn& t : bt->translate_view(cpu, cpu.s.rip))
    ImGui::TextUnformatted(fmt::format("{:08x}  {:<30} {}", t.lin, t.text, t.how).c_str());
}
}  // namespace

void draw_disassembly(GuiState& st) {
  Debugger& d = st.dbg();
  const CpuState& s = st.machine().cpu().s;
  std::vector<DisasmLine> lines = disassemble(d, st.disasm_anchor, kLines, false);
  bool rip_shown = false;
  // RIP in the first three quarters: keep the listing where it is.
  for (size_t i = 0; i < lines.size() && i < kLines * 3 / 4; ++i) rip_shown |= lines[i].offset == s.rip;
  if (!rip_shown || st.disasm_anchor == ~uint64_t{0}) {
    st.disasm_anchor = s.rip;
    lines = disassemble(d, s.rip, kLines, false);
  }
  const unsigned width = s.code_size() == 2 ? 4 : s.code_size() == 4 ? 8 : 16;
  ImGui::TextColored(kClear, "click a line to toggle a breakpoint");
  ImGui::BeginChild("listing", ImVec2(0, 0), false, ImGuiWindowFlags_HorizontalScrollbar);
  for (const DisasmLine& l : lines) {
    const Breakpoint* bp = breakpoint_at(d, l.linear);
    const bool here = l.offset == s.rip;
    std::string bytes;
    for (uint8_t b : l.bytes) bytes += fmt::format("{:02x}", b);
    const std::string text = fmt::format("{}{} {:04x}:{:0{}x}  {:<16} {}", bp ? '*' : ' ', here ? '>' : ' ', s.seg[CS].selector, l.offset,
                                         width, bytes, l.text);
    ImGui::PushID(static_cast<int>(l.offset));
    if (here) ImGui::PushStyleColor(ImGuiCol_Header, kHere);
    if (bp) ImGui::PushStyleColor(ImGuiCol_Text, kFault);
    if (ImGui::Selectable(text.c_str(), here)) {
      if (bp) d.remove(bp->id);
      else d.add_breakpoint(l.linear, false);
    }
    if (bp) ImGui::PopStyleColor();
    if (here) ImGui::PopStyleColor();
    ImGui::PopID();
  }
  draw_translation(st);
  ImGui::EndChild();
}

}  // namespace vtlab::gui
