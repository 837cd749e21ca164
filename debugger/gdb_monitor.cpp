#include "debugger/gdb_monitor.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "debugger/gdb_packet.h"
#include "debugger/text_views.h"
#include "mmu/walk_explain.h"

namespace vtlab::gdb {

namespace {

struct MonitorError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using Args = std::vector<std::string>;

constexpr uint64_t kMaxDump = 4096;

const char* const kHelp =
    "vtlab monitor commands (numbers: 0x1f or 31; addresses are what gdb's are, linear, unless named physical):\n"
    "  mode                          the CPU mode, CS:IP and how gdb's pc maps to it\n"
    "  xp ADDR [LEN]                 LEN bytes (default 16, at most 4096) of physical memory\n"
    "  setp ADDR HEXBYTES...         write bytes (e.g. 90 or deadbeef) to physical memory, RAM only\n"
    "  translate LIN [r|w|x] [user]  linear -> physical: the page walk, level by level\n"
    "  gdt [FIRST [COUNT]]           GDT entries decoded; idt [FIRST [COUNT]]: IDT (IVT in real mode)\n"
    "  tss                           the TSS that TR names, field by field\n"
    "  tlb                           the TLB's valid entries\n"
    "  exits                         the monitor's exits so far, per reason, with their modelled cycles\n"
    "  why                           why the machine shut down (the triple fault's chain), or the last double fault\n";

uint64_t number(const Args& a, size_t i, const char* what) {
  if (i >= a.size()) throw MonitorError(std::string("missing ") + what);
  if (const std::optional<uint64_t> v = parse_number(a[i])) return *v;
  throw MonitorError("bad number: " + a[i]);
}

std::string mode_text(const CpuState& s, Arch described, Arch wanted) {
  const char* mode = s.long_mode_active() ? "long mode" : (s.protected_mode() ? "protected mode" : "real mode (CR0.PE=0)");
  const unsigned size = s.code_size();
  std::string out;
  if (size == 8) {
    out = fmt::format("{}, 64-bit code: CS:RIP {:04x}:{:016x}: gdb's pc is RIP\n", mode, s.seg[CS].selector, s.rip);
  } else {
    const char* ip = size == 2 ? "IP" : "EIP";
    out = fmt::format("{}, {}-bit code: CS:{} {:04x}:{:0{}x}, CS.base {:#x}: gdb's pc is the linear CS.base + {} = "
                      "{:#010x}\n",
                      mode, size * 8, ip, s.seg[CS].selector, s.rip, size * 2, s.seg[CS].base, ip, pc(s));
  }
  out += fmt::format("target description: gdb has {}, this code's is {}{}\n", arch_name(described), arch_name(wanted),
                     described == wanted ? "" : " (`unset tdesc filename` makes gdb read it)");
  return out;
}

std::string set_physical(Debugger& d, const Args& a) {
  const uint64_t addr = number(a, 1, "address");
  std::string hex;
  for (size_t i = 2; i < a.size(); ++i) hex += a[i];
  const std::optional<std::vector<uint8_t>> bytes = hex.empty() ? std::nullopt : from_hex(hex);
  if (!bytes || bytes->size() > kMaxDump) throw MonitorError("setp ADDR HEXBYTES... (hex digit pairs, up to 4096 bytes)");
  const size_t n = d.write_physical(addr, bytes->data(), bytes->size());
  if (n == bytes->size()) return fmt::format("wrote {} bytes at physical {:#010x}\n", n, addr);
  return fmt::format("wrote {} of {} bytes at physical {:#010x}: {:#010x} is not RAM\n", n, bytes->size(), addr, addr + n);
}

std::string translate(Debugger& d, const Args& a) {
  const uint64_t lin = number(a, 1, "linear address");
  const std::optional<WalkAccess> w = parse_walk_access(a, 2);
  if (!w) throw MonitorError("translate LIN [r|w|x] [user]");
  return format_walk(explain_walk(d, lin, w->access, w->user));
}

std::string table(Debugger& d, bool idt, const Args& a) {
  const uint64_t first = a.size() > 1 ? number(a, 1, "index") : 0;
  const uint64_t count = a.size() > 2 ? number(a, 2, "count") : (idt ? 256 : 8192);
  if (first > 8191) throw MonitorError("index too large");
  const unsigned n = static_cast<unsigned>(std::min<uint64_t>(count, 8192));
  return descriptor_table_text(
      idt ? idt_view(d, static_cast<unsigned>(first), n) : gdt_view(d, static_cast<unsigned>(first), n), idt);
}

}  // namespace

std::string monitor_command(Debugger& d, std::string_view line, Arch described, Arch wanted) {
  std::istringstream words{std::string(line)};
  Args a;
  for (std::string w; words >> w;) a.push_back(w);
  if (a.empty()) return kHelp;
  const std::string& cmd = a[0];
  try {
    if (cmd == "help") return kHelp;
    if (cmd == "mode") return mode_text(d.machine().cpu().s, described, wanted);
    if (cmd == "xp") {
      const uint64_t addr = number(a, 1, "address");
      const uint64_t len = a.size() > 2 ? number(a, 2, "length") : 16;
      if (len == 0 || len > kMaxDump) throw MonitorError("length must be 1 to 4096");
      return memory_text(d, addr, len, 1, true);
    }
    if (cmd == "setp") return set_physical(d, a);
    if (cmd == "translate") return translate(d, a);
    if (cmd == "gdt" || cmd == "idt") return table(d, cmd == "idt", a);
    if (cmd == "tss") return tss_text(system_tables(d, TablesSide::Guest));
    if (cmd == "tlb") return tlb_text(d.machine().cpu());
    if (cmd == "exits") return exits_text(d.machine().exits());
    // The stub sets no catches: only a shutdown or a double fault has a chain to show.
    if (cmd == "why") return why_text(d.machine(), std::nullopt);
    throw MonitorError("unknown command \"" + cmd + "\" (try monitor help)");
  } catch (const MonitorError& e) {
    return fmt::format("error: {}\n", e.what());
  }
}

}  // namespace vtlab::gdb
