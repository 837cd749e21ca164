#include "debugger/text_views.h"

#include <fmt/format.h>

#include <cctype>

#include "debugger/fault_explain.h"
#include "privilege/interrupts.h"

namespace vtlab {

std::optional<uint64_t> parse_number(std::string_view text) {
  const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  const std::string_view digits = hex ? text.substr(2) : text;
  if (digits.empty() || digits.size() > 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : digits) {
    const bool ok = hex ? std::isxdigit(static_cast<unsigned char>(c)) : std::isdigit(static_cast<unsigned char>(c));
    if (!ok) return std::nullopt;
    // 16 hex digits fill 64 bits; 16 decimal ones stay below 2^54.
    v = v * (hex ? 16 : 10) + static_cast<uint64_t>(std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (c | 0x20) - 'a' + 10);
  }
  return v;
}

std::optional<WalkAccess> parse_walk_access(const std::vector<std::string>& words, size_t from) {
  WalkAccess w;
  for (size_t i = from; i < words.size(); ++i) {
    if (words[i] == "r") w.access = Access::Read;
    else if (words[i] == "w") w.access = Access::Write;
    else if (words[i] == "x") w.access = Access::Execute;
    else if (words[i] == "user") w.user = true;
    else return std::nullopt;
  }
  return w;
}

std::string memory_text(const Debugger& d, uint64_t addr, uint64_t count, unsigned unit, bool physical) {
  std::string out;
  std::vector<uint8_t> buf(count * unit);
  const size_t got = physical ? d.read_physical(addr, buf.data(), buf.size()) : d.read_linear(addr, buf.data(), buf.size());
  const unsigned per_line = 16 / unit;
  for (uint64_t i = 0; i < count; ++i) {
    if (i % per_line == 0) out += fmt::format("{}{:#010x}:", i ? "\n" : "", addr + i * unit);
    if ((i + 1) * unit > got) {
      out += fmt::format(" (cannot read {} {:#x})\n", physical ? "physical" : "linear", addr + i * unit);
      return out;
    }
    uint64_t v = 0;
    for (unsigned b = 0; b < unit; ++b) v |= uint64_t{buf[i * unit + b]} << (8 * b);
    out += fmt::format(" {:#0{}x}", v, 2 + 2 * unit);
  }
  return out + "\n";
}

std::string descriptor_table_text(const std::vector<DescriptorView>& entries, bool idt) {
  std::string out;
  for (const DescriptorView& e : entries) {
    const std::string key = idt ? fmt::format("{:#04x}", e.selector) : fmt::format("{:#06x}", e.selector);
    if (!e.readable) {
      out += key + " (unmapped)\n";
    } else if (e.type_text == "IVT entry") {
      out += fmt::format("{} -> {:04x}:{:04x}\n", key, e.target_selector, e.target_offset);
    } else if (!e.d.present() && e.d.lo == 0 && e.d.hi == 0) {
      continue;  // empty slots would bury the entries that matter
    } else if (e.gate) {
      out += fmt::format("{} {:08x}{:08x} {} -> {:04x}:{:08x} dpl {}{}\n", key, e.d.hi, e.d.lo, e.type_text,
                         e.target_selector, e.target_offset, e.d.dpl(), e.d.present() ? " P" : " not present");
    } else {
      out += fmt::format("{} {:08x}{:08x} base {:#010x} limit {:#010x} dpl {}{} {}\n", key, e.d.hi, e.d.lo,
                         e.d.base(), e.d.limit(), e.d.dpl(), e.d.present() ? " P" : " not present", e.type_text);
    }
  }
  return out;
}

std::string tss_text(const SystemTables& t) {
  const TssView v = tss_view(t);
  std::string out = fmt::format("TR {:04x} base {:#010x} limit {:#06x}: ", t.tr.selector, t.tr.base, t.tr.limit);
  if (v.format == 0) return out + "no TSS (LTR loads one)\n";
  out += fmt::format("{}-bit TSS{}\n", v.format, v.readable ? "" : " (partly unmapped: those fields show 0)");
  for (const TssField& f : v.fields) {
    out += fmt::format("  +{:#04x} {:<14} {:#0{}x}", f.offset, f.name, f.value, 2 + 2 * f.size);
    if (f.name == "I/O map base")
      out += v.io_map_in_limit ? " (bitmap within the limit)" : " (beyond the limit: no bitmap, I/O above IOPL faults)";
    out += "\n";
  }
  return out;
}

std::string tlb_text(const Cpu& cpu) {
  std::string out;
  const std::vector<Tlb::Entry> v = tlb_view(cpu);
  for (const Tlb::Entry& e : v) {
    out += fmt::format("{:#010x} -> {:#010x} {} KiB page{}{}{}{}{}\n", e.vpn << 12, e.ppn << 12, e.page_size >> 10,
                       e.user ? " user" : " supervisor", e.writable ? " writable" : " read-only",
                       e.nx ? " no-execute" : "", e.dirty ? " dirty" : "", e.global ? " global" : "");
  }
  return out + fmt::format("{} valid entries\n", v.size());
}

std::string exits_text(const ExitLog& log, size_t recent) {
  std::string out = fmt::format("{} exits, {} modelled cycles\n", log.total(), log.total_cycles());
  for (size_t i = 0; i < kExitReasons; ++i) {
    const auto reason = static_cast<ExitReason>(i);
    const ExitLog::ReasonCount& c = log.count(reason);
    if (c.count) out += fmt::format("  {:<20} {:>10} {:>14} cycles\n", exit_reason_name(reason), c.count, c.cycles);
  }
  if (recent)
    for (const ExitRecord& r : log.recent(recent)) out += "  " + exit_line(r) + "\n";
  return out;
}

std::string why_text(Machine& m, const std::optional<DeliveredEvent>& caught) {
  const Cpu& cpu = m.cpu();
  if (cpu.stop_requested() == StopReason::Shutdown && !cpu.shutdown_chain.empty())
    return explain_fault_chain(m, cpu.shutdown_chain, true);
  if (caught && caught->ev.kind == PendingEvent::Kind::Fault) {
    const std::string text = explain_raised_fault(m, caught->ev);
    return fmt::format("{} at {:04x}:{:08x}: {}{}", event_text(caught->ev), caught->cs, caught->return_rip, text,
                       text.ends_with('\n') ? "" : "\n");
  }
  if (!cpu.last_double_fault.empty()) return explain_fault_chain(m, cpu.last_double_fault, false);
  return "nothing to explain: no shutdown, no fault caught at this stop, no double fault so far\n";
}

}  // namespace vtlab
