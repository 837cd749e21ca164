// The shared GUI state's actions: commands through the command-line
// debugger's language, and restarts in another mode.
#include "gui/state.h"

#include <cctype>
#include <cstring>

#include "core/loader/load_error.h"

namespace vtlab::gui {

void GuiState::snapshot_before() {
  before = registers_view(machine().cpu());
  before_cr = control_view(machine().cpu().s);
}

void GuiState::run_command(const std::string& line) {
  const RegistersView regs = registers_view(machine().cpu());
  const ControlView crs = control_view(machine().cpu().s);
  const Machine* m = &machine();
  const uint64_t time = m->virtual_time();
  const std::string out = target->command(line);
  console += "(vtlab) " + line + "\n" + out;
  // Only a command that ran (or reversed) the guest moves the "changed"
  // baseline and the status line (its last line says where it stopped).
  if (&machine() == m && machine().virtual_time() == time) return;
  before = regs;
  before_cr = crs;
  std::string last = out;
  while (!last.empty() && last.back() == '\n') last.pop_back();
  const size_t nl = last.rfind('\n');
  if (!last.empty()) status = nl == std::string::npos ? last : last.substr(nl + 1);
}

void GuiState::restart(const std::string& new_mode) {
  const std::string m = new_mode.empty() ? mode : new_mode;
  try {
    std::unique_ptr<GuiTarget> t = power_on(m);
    target = std::move(t);
    mode = m;
    load_error.clear();
    running = false;
    status = "powered on in " + m + " mode";
    console += "-- restarted in " + m + " mode\n";
    disasm_anchor = ~uint64_t{0};
    snapshot_before();
  } catch (const LoadError& e) {
    load_error = e.what();
  }
}

std::optional<uint64_t> parse_hex(const char* text) {
  while (*text == ' ') ++text;
  if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text += 2;
  const size_t n = std::strlen(text);
  if (n == 0 || n > 16) return std::nullopt;
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (!std::isxdigit(c)) return std::nullopt;
    v = v << 4 | static_cast<uint64_t>(std::isdigit(c) ? c - '0' : std::tolower(c) - 'a' + 10);
  }
  return v;
}

}  // namespace vtlab::gui
