// A hex view of guest memory at a typed linear or physical address, read
// the way a debugger reads it (no A/D bits, no TLB fill, no device
// reads): what cannot be read shows as "..".
#include <fmt/format.h>

#include <array>

#include "gui/panels.h"

namespace vtlab::gui {

namespace {
constexpr unsigned kRows = 32, kPerRow = 16;
}

void draw_memory(GuiState& st) {
  ImGui::SetNextItemWidth(160);
  ImGui::InputText("address", st.memory_addr, sizeof st.memory_addr, ImGuiInputTextFlags_CharsHexadecimal);
  ImGui::SameLine();
  ImGui::Checkbox("physical", &st.memory_physical);
  const std::optional<uint64_t> addr = parse_hex(st.memory_addr);
  if (!addr) {
    ImGui::TextColored(kFault, "type a hex address");
    return;
  }
  std::array<uint8_t, kRows * kPerRow> buf{};
  const size_t got = st.memory_physical ? st.dbg().read_physical(*addr, buf.data(), buf.size())
                                        : st.dbg().read_linear(*addr, buf.data(), buf.size());
  ImGui::BeginChild("hex", ImVec2(0, 0), false, ImGuiWindowFlags_HorizontalScrollbar);
  for (unsigned row = 0; row < kRows; ++row) {
    std::string line = fmt::format("{:08x} ", *addr + row * kPerRow);
    std::string ascii;
    for (unsigned i = 0; i < kPerRow; ++i) {
      const size_t at = row * kPerRow + i;
      if (i == 8) line += ' ';
      if (at < got) {
        line += fmt::format(" {:02x}", buf[at]);
        ascii += buf[at] >= 0x20 && buf[at] < 0x7F ? static_cast<char>(buf[at]) : '.';
      } else {
        line += " ..";
        ascii += ' ';
      }
    }
    ImGui::TextUnformatted((line + "  " + ascii).c_str());
  }
  if (got < buf.size())
    ImGui::TextColored(kFault, "%s %llx: not mapped, MMIO or a hole", st.memory_physical ? "physical" : "linear",
                       static_cast<unsigned long long>(*addr + got));
  ImGui::EndChild();
}

}  // namespace vtlab::gui
