// General registers, RIP and RFLAGS with its named bits (SDM vol. 1, 3.4.3),
// each value lit when the last step changed it; 64-bit in IA-32e mode.
#include <fmt/format.h>

#include "gui/panels.h"

namespace vtlab::gui {

namespace {
const char* const kNames64[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                  "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
const char* const kNames32[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};

void value(const char* name, uint64_t now, uint64_t before, bool wide) {
  ImGui::TableNextColumn();
  ImGui::TextUnformatted(name);
  ImGui::TableNextColumn();
  const std::string text = wide ? fmt::format("{:016x}", now) : fmt::format("{:08x}", now & 0xFFFFFFFF);
  if (now != before) ImGui::TextColored(kChanged, "%s", text.c_str());
  else ImGui::TextUnformatted(text.c_str());
}
}  // namespace

void draw_bits(const std::vector<NamedBit>& bits, bool wrap) {
  for (size_t i = 0; i < bits.size(); ++i) {
    if (i) {
      ImGui::SameLine(0, 6);
      if (wrap && ImGui::GetContentRegionAvail().x < ImGui::CalcTextSize(bits[i].name).x) ImGui::NewLine();
    }
    ImGui::TextColored(bits[i].set ? kSet : kClear, "%s", bits[i].name);
  }
}

void draw_registers(GuiState& st) {
  const RegistersView v = registers_view(st.machine().cpu());
  const unsigned n = v.wide ? 16 : 8;
  const int columns = v.wide ? 4 : 8;
  if (ImGui::BeginTable("gpr", columns, ImGuiTableFlags_SizingFixedFit)) {
    for (unsigned i = 0; i < n; ++i)
      value(v.wide ? kNames64[i] : kNames32[i], v.gpr[i], st.before.gpr[i], v.wide);
    value(v.wide ? "rip" : "eip", v.rip, st.before.rip, v.wide);
    value(v.wide ? "rflags" : "eflags", v.rflags, st.before.rflags, false);
    ImGui::EndTable();
  }
  draw_bits(v.flags);
  ImGui::SameLine(0, 12);
  ImGui::Text("IOPL %u", v.iopl);
  ImGui::Text("%s mode, CPL %u, %u-bit code", cpu_mode_name(v.mode), v.cpl, v.code_size * 8);
  ImGui::Text("%llu instructions, virtual time %llu", static_cast<unsigned long long>(v.icount),
              static_cast<unsigned long long>(v.virtual_time));
}

}  // namespace vtlab::gui
