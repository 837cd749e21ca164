#include "debugger/fault_explain.h"

#include <fmt/format.h>

#include "core/decoder.h"
#include "debugger/debugger.h"
#include "debugger/views.h"
#include "mmu/walk_explain.h"
#include "privilege/descriptors.h"
#include "privilege/interrupts.h"

namespace vtlab {

namespace {

// Error-code bits for selector-related faults (SDM vol. 3, 6.13).
constexpr uint32_t kExt = 1, kIdt = 2, kTi = 4;

std::string indent(const std::string& text, const char* pad) {
  std::string out;
  size_t at = 0;
  while (at < text.size()) {
    const size_t nl = text.find('\n', at);
    const size_t end = nl == std::string::npos ? text.size() : nl + 1;
    out += pad + text.substr(at, end - at);
    at = end;
  }
  return out;
}

// The instruction at CS:RIP, disassembled, or why it cannot be.
std::string instruction_at_pc(Machine& m) {
  const CpuState& s = m.cpu().s;
  uint8_t bytes[15];
  const size_t n = peek_linear(m, m.cpu().linear(CS, s.rip), bytes, sizeof bytes);
  if (n == 0) return "(code not mapped)";
  return Decoder::format(bytes, n, s.code_size(), s.rip, false);
}

std::string descriptor_text(const Descriptor& d, bool ia32e) {
  return fmt::format("{:08x}{:08x}: {}, DPL {}, {}", d.hi, d.lo, segment_type_text(d.type(), d.s(), ia32e), d.dpl(),
                     d.present() ? "present" : "not present");
}

// An IDT entry named by an error code with the IDT bit set.
std::string idt_entry_reason(Machine& m, const PendingEvent& delivering, const PendingEvent& fault) {
  const CpuState& s = m.cpu().s;
  const unsigned vector = (fault.error >> 3) & 0xFF;
  if (s.real_mode()) return fmt::format("IVT entry {:#04x} lies beyond IDTR.limit {:#06x}", vector, s.idtr.limit);
  const bool ia32e = s.long_mode_active();
  const unsigned size = ia32e ? 16 : 8;
  const uint64_t last = uint64_t{vector} * size + size - 1;
  if (last > s.idtr.limit)
    return fmt::format("IDT entry {:#04x} (bytes {:#x}-{:#x}) lies beyond the IDT limit {:#06x}", vector,
                       uint64_t{vector} * size, last, s.idtr.limit);
  uint8_t raw[8];
  if (peek_linear(m, s.idtr.base + uint64_t{vector} * size, raw, sizeof raw) != sizeof raw)
    return fmt::format("IDT entry {:#04x} is not readable", vector);
  Descriptor g;
  g.lo = static_cast<uint32_t>(raw[0] | raw[1] << 8 | raw[2] << 16 | uint32_t{raw[3]} << 24);
  g.hi = static_cast<uint32_t>(raw[4] | raw[5] << 8 | raw[6] << 16 | uint32_t{raw[7]} << 24);
  const std::string entry = fmt::format("IDT entry {:#04x} = {}", vector, descriptor_text(g, ia32e));
  if (fault.vector == vec::NP) return entry + ": the gate is not present";
  if (!is_idt_gate(g, ia32e))
    return entry + (ia32e ? ": not a 64-bit interrupt or trap gate" : ": not an interrupt, trap or task gate");
  if (delivering.kind == PendingEvent::Kind::SoftwareInt && g.dpl() < s.cpl())
    return entry + fmt::format(": INT n from CPL {} needs gate DPL >= {}", s.cpl(), s.cpl());
  return entry;
}

// A GDT/LDT descriptor named by an error code's selector.
std::string selector_reason(Machine& m, const PendingEvent& fault) {
  const CpuState& s = m.cpu().s;
  const auto sel = static_cast<uint16_t>(fault.error & 0xFFFC);
  const bool ldt = fault.error & kTi;
  const std::string name = fmt::format("selector {:#06x} ({} entry {})", sel, ldt ? "LDT" : "GDT", sel >> 3);
  if (!selector_in_table(s, sel))
    return fmt::format("{} lies beyond the {} limit {:#06x}", name, ldt ? "LDT" : "GDT",
                       ldt ? s.ldtr.limit : s.gdtr.limit);
  const uint64_t base = ldt ? s.ldtr.base : s.gdtr.base;
  uint8_t raw[8];
  if (peek_linear(m, base + (sel & ~7u), raw, sizeof raw) != sizeof raw) return name + " is not readable";
  Descriptor d;
  d.lo = static_cast<uint32_t>(raw[0] | raw[1] << 8 | raw[2] << 16 | uint32_t{raw[3]} << 24);
  d.hi = static_cast<uint32_t>(raw[4] | raw[5] << 8 | raw[6] << 16 | uint32_t{raw[7]} << 24);
  const std::string text = fmt::format("{} = {}", name, descriptor_text(d, s.long_mode_active()));
  switch (fault.vector) {
    case vec::NP: return text + ": the segment is not present";
    case vec::SS: return text + ": not usable as the stack (not present, or not writable data at the new CPL)";
    case vec::TS: return text + ": not usable for the task or stack switch";
    default:
      if (!d.s() || !d.is_code()) return text + ": a handler's target must be a code segment";
      if (d.dpl() > s.cpl()) return text + fmt::format(": its DPL {} is above the CPL {}", d.dpl(), s.cpl());
      return text;
  }
}

}  // namespace

std::string explain_page_fault(Machine& m, uint64_t cr2, uint32_t error) {
  Cpu& cpu = m.cpu();
  const Access access = (error & pfec::I) ? Access::Execute : (error & pfec::W) ? Access::Write : Access::Read;
  return format_walk(cpu.walker.explain(cpu.walk_request(cr2, access, error & pfec::U)));
}

std::string explain_delivery_fault(Machine& m, const PendingEvent& delivering, const ChainedEvent& fault) {
  const PendingEvent& f = fault.event;
  if (f.vector == vec::PF)
    return fmt::format("the access at CR2 = {:#x} was refused:\n{}", fault.cr2,
                       explain_page_fault(m, fault.cr2, f.error));
  if (!f.has_error) return "a fault without an error code";
  if (f.error & kIdt) return idt_entry_reason(m, delivering, f);
  if ((f.error & ~kExt) != 0) return selector_reason(m, f);
  const CpuState& s = m.cpu().s;
  switch (f.vector) {
    case vec::SS:
      return fmt::format("the stack has no room for the frame (SS {:#06x} base {:#x} limit {:#x}, RSP {:#x})",
                         s.seg[SS].selector, s.seg[SS].base, s.seg[SS].limit, s.gpr[RSP]);
    case vec::GP:
      return s.long_mode_active() ? "the handler's address is not canonical"
                                  : "the handler's offset lies beyond its code segment's limit";
    default: return fmt::format("{} with error code {:#x}", vector_name(f.vector), f.error);
  }
}

std::string explain_fault_chain(Machine& m, const std::vector<ChainedEvent>& chain, bool shutdown) {
  if (chain.empty()) return {};
  const CpuState& s = m.cpu().s;
  std::string out = shutdown ? "triple fault, event by event (SDM vol. 3, 6.15 and table 6-5):\n"
                             : "double fault, event by event (SDM vol. 3, 6.15 and table 6-5):\n";
  const ChainedEvent& first = chain.front();
  out += fmt::format("  1. {} at {:04x}:{:08x}  {}\n", event_text(first.event), s.seg[CS].selector, s.rip,
                     instruction_at_pc(m));
  if (first.event.vector == vec::PF && first.event.kind == PendingEvent::Kind::Fault)
    out += indent(explain_page_fault(m, first.cr2, first.event.error), "     ");
  // Replays table 6-5 over the chain: which event each fault interrupted.
  PendingEvent delivering = first.event;
  for (size_t i = 1; i < chain.size(); ++i) {
    const ChainedEvent& f = chain[i];
    out += fmt::format("  {}. {} while delivering {}: {}\n", i + 1, event_text(f.event), event_text(delivering),
                       indent(explain_delivery_fault(m, delivering, f), "     ").substr(5));
    const FaultClass was = fault_class(delivering), now = fault_class(f.event);
    if (was == FaultClass::DoubleFault) {
      out += "     a fault while delivering #DF: the processor shuts down (triple fault)\n";
    } else if (makes_double_fault(was, now)) {
      out += fmt::format("     {} then {}: a double fault (#DF) is raised instead\n", fault_class_name(was),
                         fault_class_name(now));
      delivering = PendingEvent{PendingEvent::Kind::Fault, vec::DF, true, 0};
    } else {
      out += fmt::format("     {} then {}: handled serially, {} is lost\n", fault_class_name(was),
                         fault_class_name(now), event_text(delivering));
      delivering = f.event;
    }
  }
  if (!shutdown) out += "  the #DF handler was entered\n";
  if (s.long_mode_active()) {
    static const char* const kNames[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                           "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
    out += "  registers:";
    for (unsigned i = 0; i < 16; ++i) out += fmt::format("{}{}={:#x}", i % 4 ? " " : "\n    ", kNames[i], s.gpr[i]);
  } else {
    static const char* const kNames[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
    out += "  registers:";
    for (unsigned i = 0; i < 8; ++i)
      out += fmt::format("{}{}={:08x}", i % 4 ? " " : "\n    ", kNames[i], s.gpr[i] & 0xFFFFFFFF);
  }
  out += fmt::format("\n    eflags={:08x} cr0={:08x} cr2={:#x} cr3={:#x} idtr={:#x}/{:#x} cpl={}\n", s.flags.bits(),
                     s.cr0, s.cr2, s.cr3, s.idtr.base, s.idtr.limit, s.cpl());
  return out;
}

}  // namespace vtlab
