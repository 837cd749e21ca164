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

// The instruction at cs:rip, disassembled, or why it cannot be.  A chain
// kept past its delivery (a #DF the guest survived) may name another CS
// than the current one: its base is then unknown.
std::string instruction_at(Machine& m, uint16_t cs, uint64_t rip) {
  const CpuState& s = m.cpu().s;
  if (cs != s.seg[CS].selector) return "(in another code segment than CS now)";
  uint8_t bytes[15];
  const size_t n = peek_linear(m, m.cpu().linear(CS, rip), bytes, sizeof bytes);
  if (n == 0) return "(code not mapped)";
  return Decoder::format(bytes, n, s.code_size(), rip, false);
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

// The descriptor with what its kind holds: a segment's base and limit, a
// gate's target.
std::string decoded_descriptor(const Descriptor& d, bool ia32e) {
  std::string text = descriptor_text(d, ia32e);
  const unsigned t = d.type();
  const bool gate = !d.s() && (t == sys_type::kCallGate16 || t == sys_type::kCallGate32 || t == sys_type::kTaskGate ||
                               t == sys_type::kInterruptGate16 || t == sys_type::kInterruptGate32 ||
                               t == sys_type::kTrapGate16 || t == sys_type::kTrapGate32);
  if (!gate) return text + fmt::format(", base {:#x}, limit {:#x}", d.base(), d.limit());
  if (t == sys_type::kTaskGate) return text + fmt::format(", to TSS {:#06x}", d.gate_selector());
  return text + fmt::format(", to {:04x}:{:08x}", d.gate_selector(), d.gate_offset());
}

// What failed, with the numbers compared.
std::string failed_check(const SegmentFaultWhy& w) {
  Descriptor d;
  d.lo = w.lo, d.hi = w.hi;
  const unsigned r = rpl(w.selector), c = w.cpl, dpl = d.dpl();
  switch (w.check) {
    case SegmentCheck::None: return "none recorded";
    case SegmentCheck::NullSelector: return "null selector";
    case SegmentCheck::BeyondTable: {
      if (w.limit == ~uint64_t{0}) return "TI = 1 but no LDT is loaded";
      // A 16-byte descriptor's upper half was the part beyond (has_descriptor: the lower half was read).
      const uint64_t last = w.offset + (w.has_descriptor ? 15 : 7);
      if (last <= w.limit) return "the descriptor's address is not canonical";
      return fmt::format("bytes {:#x}-{:#x} lie beyond the {} limit {:#06x}", w.offset, last,
                         (w.selector & 4) ? "LDT" : "GDT", w.limit);
    }
    case SegmentCheck::WrongType: return "wrong type";
    case SegmentCheck::RplAboveDpl: return fmt::format("RPL {} > DPL {}", r, dpl);
    case SegmentCheck::CplAboveDpl: return fmt::format("CPL {} > DPL {}", c, dpl);
    case SegmentCheck::RplNotCpl: return fmt::format("RPL {} != CPL {}", r, c);
    case SegmentCheck::DplNotCpl: return fmt::format("DPL {} != CPL {}", dpl, c);
    case SegmentCheck::DplAboveCpl: return fmt::format("DPL {} > CPL {}", dpl, c);
    case SegmentCheck::RplAboveCpl: return fmt::format("RPL {} > CPL {}", r, c);
    case SegmentCheck::RplBelowCpl: return fmt::format("RPL {} < CPL {}", r, c);
    case SegmentCheck::DplNotRpl: return fmt::format("DPL {} != RPL {}", dpl, r);
    case SegmentCheck::DplAboveRpl: return fmt::format("DPL {} > RPL {}", dpl, r);
    case SegmentCheck::GateDpl: return fmt::format("DPL {} < max(CPL {}, RPL {})", dpl, c, r);
    case SegmentCheck::NotPresent: return "not present (P = 0)";
    case SegmentCheck::BeyondLimit:
      if (w.limit == ~uint64_t{0}) return fmt::format("offset {:#x} is not canonical", w.offset);
      if (w.offset <= w.limit) return fmt::format("offset {:#x} <= limit {:#x}", w.offset, w.limit);  // expand-down
      return fmt::format("offset {:#x} > limit {:#x}", w.offset, w.limit);
    case SegmentCheck::Busy: return (d.type() & 2) ? "the TSS is busy" : "the TSS is not busy";
  }
  return "?";
}

}  // namespace

std::string explain_segment_refusal(const SegmentFaultWhy& w, bool ia32e) {
  std::string first;
  const bool names_selector = w.check != SegmentCheck::BeyondLimit || w.selector != 0;
  if (names_selector) {
    if (is_null_selector(w.selector))
      first = fmt::format("selector {:#06x} (null)", w.selector);
    else
      first = fmt::format("selector {:#06x} ({} entry {}, RPL {})", w.selector, (w.selector & 4) ? "LDT" : "GDT",
                          w.selector >> 3, rpl(w.selector));
  }
  if (w.has_descriptor) {
    Descriptor d;
    d.lo = w.lo, d.hi = w.hi;
    first += (first.empty() ? "code segment " : " = ") + decoded_descriptor(d, ia32e);
  }
  if (!first.empty()) first += "\n";
  if (w.from_tss != 0) {
    Descriptor tss;
    tss.lo = w.tss_lo, tss.hi = w.tss_hi;
    first += fmt::format("read from TSS {:#06x} (GDT entry {}) = {}\n", w.from_tss, w.from_tss >> 3,
                         decoded_descriptor(tss, ia32e));
  }
  return first + fmt::format("check failed at CPL {}: {}: {}\n", w.cpl, failed_check(w), w.rule);
}

std::string explain_raised_fault(Machine& m, const PendingEvent& fault) {
  const Cpu& cpu = m.cpu();
  const SegmentFaultWhy& w = cpu.segment_refusal;
  if (w.check != SegmentCheck::None && w.icount == cpu.icount && w.vector == fault.vector && w.error == fault.error)
    return explain_segment_refusal(w, cpu.s.long_mode_active());
  return explain_delivery_fault(m, fault, ChainedEvent{fault, cpu.s.cr2, 0, 0, {}});
}

std::string explain_machine_faults(Machine& m) {
  const Cpu& cpu = m.cpu();
  std::string out;
  if (cpu.stop_requested() == StopReason::Shutdown && !cpu.shutdown_chain.empty())
    out += explain_fault_chain(m, cpu.shutdown_chain, true);
  else if (!cpu.last_double_fault.empty())
    out += "the last double fault the guest survived:\n" + explain_fault_chain(m, cpu.last_double_fault, false);
  const SegmentFaultWhy& w = cpu.segment_refusal;
  if (w.check != SegmentCheck::None) {
    const PendingEvent ev{PendingEvent::Kind::Fault, w.vector, true, w.error};
    out += fmt::format("the last segment or gate check that refused: {} at instruction {}\n", event_text(ev),
                       w.icount) +
           indent(explain_segment_refusal(w, cpu.s.long_mode_active()), "  ");
  }
  return out;
}

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
  out += fmt::format("  1. {} at {:04x}:{:08x}  {}\n", event_text(first.event), first.cs, first.rip,
                     instruction_at(m, first.cs, first.rip));
  if (first.event.vector == vec::PF && first.event.kind == PendingEvent::Kind::Fault)
    out += indent(explain_page_fault(m, first.cr2, first.event.error), "     ");
  if (first.why.check != SegmentCheck::None)
    out += indent(explain_segment_refusal(first.why, s.long_mode_active()), "     ");
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
  if (!shutdown) {
    // The registers now are the handler's (or later): the chain's are gone.
    out += "  the #DF handler was entered\n";
    return out;
  }
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
