// Event delivery (SDM vol. 3, chapter 6; vol. 2, "INT n/INTO/INT3/INT1").
//
// Every read and check comes first: the IDT entry, the handler's code
// segment, the inner stack from the TSS, the room on that stack, the handler
// offset.  Then the pushes are written, and only then are CS:EIP, SS:ESP and
// EFLAGS committed.  A fault anywhere before the commit leaves the CPU as
// the event found it, so the fault can be combined with the event by the
// rules of table 6-5 (deliver_event at the bottom).
#include "privilege/interrupts.h"

#include <fmt/format.h>

#include <array>
#include <optional>
#include <utility>
#include <string>

#include "privilege/descriptors.h"
#include "privilege/far_transfer.h"
#include "privilege/segment_load.h"
#include "privilege/stack_access.h"
#include "privilege/task_switch.h"
#include "privilege/tss.h"

namespace vtlab {

const char* vector_name(uint8_t v) {
  static const std::array<std::string, 256> names = [] {
    std::array<std::string, 256> n;
    const char* exceptions[] = {"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#09", "#TS",
                                "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP"};
    for (unsigned i = 0; i < 256; ++i) {
      if (i < std::size(exceptions)) n[i] = exceptions[i];
      else n[i] = i < 32 ? fmt::format("#{:02}", i) : fmt::format("INT {:#04x}", i);
    }
    return n;
  }();
  return names[v].c_str();
}

namespace {

// "#GP(0x0010)", "INT 0x21", "external interrupt 0x20": for messages.
std::string event_name(const PendingEvent& ev) {
  switch (ev.kind) {
    case PendingEvent::Kind::SoftwareInt: return fmt::format("INT {:#04x}", ev.vector);
    case PendingEvent::Kind::External: return fmt::format("external interrupt {:#04x}", ev.vector);
    default:
      return ev.has_error ? fmt::format("{}({:#06x})", vector_name(ev.vector), ev.error) : vector_name(ev.vector);
  }
}

// The RFLAGS image a frame holds.  For a fault the CPU pushes RF = 1 (SDM
// vol. 3, 17.3.1.1), so the handler's IRET re-runs the instruction without
// its instruction breakpoint firing again; a #DB fault (an instruction
// breakpoint) and traps and interrupts push RF as it is.
uint64_t frame_flags(const CpuState& s, const PendingEvent& ev) {
  const bool fault = ev.kind == PendingEvent::Kind::Fault && ev.vector != vec::DB;
  return s.flags.bits() | (fault ? uint64_t{flag::RF} : 0);
}

// --- real mode --------------------------------------------------------------

// The IVT holds 4-byte IP:CS pointers; the frame is FLAGS, CS, IP on the
// 16-bit stack.  Real mode pushes no error codes.
Status deliver_real(Cpu& cpu, const PendingEvent& ev, uint64_t return_rip) {
  CpuState& s = cpu.s;
  const uint32_t entry = ev.vector * 4u;
  if (entry + 3 > s.idtr.limit) return cpu.raise(vec::GP, 0);
  uint64_t ptr;
  TRY(cpu.read_linear((s.idtr.base + entry) & 0xFFFFFFFF, 4, ptr, /*supervisor=*/true));

  StackWriter stack(s.seg[SS], s.gpr[RSP], s.stack_addr_size(), false);
  stack.push(2, s.flags.bits());
  stack.push(2, s.seg[CS].selector);
  stack.push(2, return_rip);
  TRY(stack.check_limits(cpu, vec::SS, 0));
  TRY(stack.write(cpu));

  s.flags.set(flag::IF | flag::TF | flag::AC, false);
  commit_real_code_segment(s, static_cast<uint16_t>(ptr >> 16));
  s.gpr[RSP] = stack.sp();
  s.rip = ptr & 0xFFFF;
  return Status::Ok;
}

// --- protected mode ---------------------------------------------------------

// An interrupt or trap gate (SDM "TRAP-OR-INTERRUPT-GATE",
// "INTER-PRIVILEGE-LEVEL-INTERRUPT", "INTRA-PRIVILEGE-LEVEL-INTERRUPT").
Status through_gate(Cpu& cpu, const PendingEvent& ev, const Descriptor& gate, bool ext, uint64_t return_rip) {
  CpuState& s = cpu.s;
  const unsigned cpl = s.cpl();
  const uint16_t sel = gate.gate_selector();
  if (is_null_selector(sel)) return cpu.raise(vec::GP, ext);
  Descriptor code;
  TRY(fetch_descriptor(cpu, sel, code, vec::GP, ext));
  if (!code.is_code() || code.dpl() > cpl) return cpu.raise(vec::GP, selector_error(sel, ext));
  if (!code.present()) return cpu.raise(vec::NP, selector_error(sel, ext));

  // A non-conforming handler more privileged than the CPL runs on its own
  // level's stack; conforming handlers run at the CPL, on the current one.
  const bool inner = !code.conforming() && code.dpl() < cpl;
  const unsigned new_cpl = inner ? code.dpl() : cpl;
  SegmentCache ss = s.seg[SS];
  uint64_t sp = s.gpr[RSP];
  unsigned stack_size = s.stack_addr_size();
  uint32_t stack_error = ext;  // #SS(EXT) on the current stack
  uint16_t ss_sel = 0;
  Descriptor ssd;
  if (inner) {
    TRY(inner_stack(cpu, new_cpl, ext, ss_sel, sp, ssd));
    ss = segment_cache(ss_sel, ssd);
    stack_size = ss.big() ? 4 : 2;
    stack_error = selector_error(ss_sel, ext);
  }

  // The gate's size is the push width: 16-bit gates push 16-bit values.
  const bool gate32 = gate.type() & 8;
  const unsigned width = gate32 ? 4 : 2;
  const uint32_t offset = gate32 ? gate.gate_offset() : gate.gate_offset() & 0xFFFF;
  StackWriter stack(ss, sp, stack_size, new_cpl == 3);
  if (inner) {
    stack.push(width, s.seg[SS].selector);
    stack.push(width, s.gpr[RSP]);
  }
  stack.push(width, frame_flags(s, ev));
  stack.push(width, s.seg[CS].selector);
  stack.push(width, return_rip);
  if (ev.has_error) stack.push(width, ev.error);
  TRY(stack.check_limits(cpu, vec::SS, stack_error));
  if (offset > code.limit()) return cpu.raise(vec::GP, ext);
  TRY(stack.write(cpu));
  TRY(mark_accessed(cpu, code));
  if (inner) TRY(mark_accessed(cpu, ssd));

  // Commit.  CS and SS change level together: CPL is SS.DPL.
  if (inner) s.seg[SS] = segment_cache(ss_sel, ssd);
  commit_code_segment(s, sel, code, new_cpl);
  s.gpr[RSP] = stack.sp();
  s.rip = offset;
  s.flags.set(flag::TF | flag::NT | flag::RF | flag::VM, false);
  const bool interrupt_gate = (gate.type() & 7) == sys_type::kInterruptGate16;
  if (interrupt_gate) s.flags.set(flag::IF, false);
  return Status::Ok;
}

// --- IA-32e mode (SDM vol. 3, 6.14; vol. 2, INT n "IA-32e-MODE") ---------------

// A 64-bit interrupt or trap gate.  The handler runs in 64-bit mode: its
// code segment must have L=1, D=0 (#GP(sel), as vol. 2 lists it; vol. 3,
// 6.14.1 says the vector instead, which the pseudo-code does not do).  A
// privilege change loads a null SS with RPL = the new CPL and RSP from the
// TSS; a gate with an IST index always takes RSP from the IST and, as
// 6.14.5 says, a null SS too.  RSP is aligned down to 16 bytes, and the
// frame is always SS, RSP, RFLAGS, CS, RIP (and the error code), 8 bytes
// each, the old SS:RSP being what they were before the switch.
Status through_gate64(Cpu& cpu, const PendingEvent& ev, const Descriptor& gate, bool ext, uint64_t return_rip) {
  CpuState& s = cpu.s;
  const unsigned cpl = s.cpl();
  const uint16_t sel = gate.gate_selector();
  if (is_null_selector(sel)) return cpu.raise(vec::GP, ext);
  Descriptor code;
  TRY(fetch_descriptor(cpu, sel, code, vec::GP, ext));
  if (!code.is_code() || code.dpl() > cpl) return cpu.raise(vec::GP, selector_error(sel, ext));
  if (!code.present()) return cpu.raise(vec::NP, selector_error(sel, ext));
  if (!code.long_code() || code.default_big()) return cpu.raise(vec::GP, selector_error(sel, ext));

  const bool inner = !code.conforming() && code.dpl() < cpl;
  const unsigned new_cpl = inner ? code.dpl() : cpl;
  const unsigned ist = gate.ist();
  uint64_t rsp = s.gpr[RSP];
  if (inner || ist != 0) TRY(tss64_stack(cpu, ist != 0 ? tss64::ist(ist) : tss64::rsp(new_cpl), ext, rsp));

  StackWriter stack(s.seg[SS], rsp & ~uint64_t{0xF}, 8, new_cpl == 3);
  stack.push(8, s.seg[SS].selector);
  stack.push(8, s.gpr[RSP]);
  stack.push(8, frame_flags(s, ev));
  stack.push(8, s.seg[CS].selector);
  stack.push(8, return_rip);
  if (ev.has_error) stack.push(8, ev.error);
  // The error code names the new SS, a null selector: only EXT is left.
  TRY(stack.check_limits(cpu, vec::SS, ext));
  const uint64_t offset = gate.gate_offset64();
  if (!is_canonical(offset)) return cpu.raise(vec::GP, ext);
  TRY(stack.write(cpu));
  TRY(mark_accessed(cpu, code));

  if (inner || ist != 0) s.seg[SS] = null_stack_segment(static_cast<uint16_t>(new_cpl), new_cpl);
  commit_code_segment(s, sel, code, new_cpl);
  s.gpr[RSP] = stack.sp();
  s.rip = offset;
  s.flags.set(flag::TF | flag::NT | flag::RF | flag::VM, false);
  if (gate.type() == sys_type::kInterruptGate32) s.flags.set(flag::IF, false);
  return Status::Ok;
}

// The IDT holds 16-byte entries, and only 64-bit interrupt and trap gates:
// a task gate or any other type is #GP(vector), as there are no task
// switches in IA-32e mode.
Status deliver_long(Cpu& cpu, const PendingEvent& ev, uint64_t return_rip) {
  CpuState& s = cpu.s;
  const bool ext = ev.kind != PendingEvent::Kind::SoftwareInt;
  const uint32_t idt_error = ev.vector * 8u + 2 + ext;
  const uint32_t entry = ev.vector * 16u;
  const uint64_t addr = s.idtr.base + entry;
  if (entry + 15 > s.idtr.limit || !is_canonical(addr) || !is_canonical(addr + 15))
    return cpu.raise(vec::GP, idt_error);
  uint64_t raw;
  Descriptor gate;
  TRY(cpu.read_linear(addr, 8, raw, /*supervisor=*/true));
  TRY(cpu.read_linear(addr + 8, 8, gate.upper, /*supervisor=*/true));
  gate.lo = static_cast<uint32_t>(raw);
  gate.hi = static_cast<uint32_t>(raw >> 32);
  gate.addr = addr;
  if (!is_idt_gate(gate, true)) return cpu.raise(vec::GP, idt_error);
  if (ev.kind == PendingEvent::Kind::SoftwareInt && gate.dpl() < s.cpl())
    return cpu.raise(vec::GP, ev.vector * 8u + 2);
  if (!gate.present()) return cpu.raise(vec::NP, idt_error);
  return through_gate64(cpu, ev, gate, ext, return_rip);
}

// `switched`: a task gate's switch got past its commit point (see
// interrupt_through_task_gate).
Status deliver_protected(Cpu& cpu, const PendingEvent& ev, uint64_t return_rip, bool& switched) {
  switched = false;
  CpuState& s = cpu.s;
  if (s.v8086())
    return cpu.unsupported(fmt::format("cannot deliver {} from virtual-8086 mode yet (it comes with the next issue)",
                                        event_name(ev)));
  if (s.long_mode_active()) return deliver_long(cpu, ev, return_rip);
  // Faults met while delivering anything but INT n / INT3 / INTO carry EXT.
  const bool ext = ev.kind != PendingEvent::Kind::SoftwareInt;
  const uint32_t idt_error = ev.vector * 8u + 2 + ext;
  const uint32_t entry = ev.vector * 8u;
  if (entry + 7 > s.idtr.limit) return cpu.raise(vec::GP, idt_error);
  uint64_t raw;
  TRY(cpu.read_linear(table_address(s, s.idtr.base + entry), 8, raw, /*supervisor=*/true));
  Descriptor gate;
  gate.lo = static_cast<uint32_t>(raw);
  gate.hi = static_cast<uint32_t>(raw >> 32);
  if (!is_idt_gate(gate, false)) return cpu.raise(vec::GP, idt_error);
  // Only software interrupts are held to the gate's DPL (not INT1, not
  // exceptions, not external interrupts): that is how a kernel keeps user
  // code from calling its fault handlers with INT n.
  if (ev.kind == PendingEvent::Kind::SoftwareInt && gate.dpl() < s.cpl())
    return cpu.raise(vec::GP, ev.vector * 8u + 2);
  if (!gate.present()) return cpu.raise(vec::NP, idt_error);
  if (gate.type() == sys_type::kTaskGate)
    return interrupt_through_task_gate(cpu, ev, gate, ext, return_rip, switched);
  return through_gate(cpu, ev, gate, ext, return_rip);
}

}  // namespace

bool is_idt_gate(const Descriptor& g, bool ia32e) {
  if (g.s()) return false;
  switch (g.type()) {
    case sys_type::kInterruptGate32:
    case sys_type::kTrapGate32: return true;  // in IA-32e mode: the 64-bit gates
    case sys_type::kTaskGate:
    case sys_type::kInterruptGate16:
    case sys_type::kTrapGate16: return !ia32e;
    default: return false;
  }
}

// --- nested faults (SDM vol. 3, table 6-5) ----------------------------------

FaultClass fault_class(const PendingEvent& ev) {
  if (ev.kind == PendingEvent::Kind::SoftwareInt || ev.kind == PendingEvent::Kind::External)
    return FaultClass::Benign;
  switch (ev.vector) {
    case vec::DE:
    case vec::TS:
    case vec::NP:
    case vec::SS:
    case vec::GP: return FaultClass::Contributory;
    case vec::PF: return FaultClass::PageFault;
    case vec::DF: return FaultClass::DoubleFault;
    default: return FaultClass::Benign;
  }
}

bool makes_double_fault(FaultClass first, FaultClass second) {
  return (first == FaultClass::Contributory && second == FaultClass::Contributory) ||
         (first == FaultClass::PageFault && second != FaultClass::Benign);
}

const char* fault_class_name(FaultClass c) {
  switch (c) {
    case FaultClass::Benign: return "benign";
    case FaultClass::Contributory: return "contributory";
    case FaultClass::PageFault: return "page fault";
    case FaultClass::DoubleFault: return "double fault";
  }
  return "?";
}

bool deliver_event(Cpu& cpu, const PendingEvent& first, uint64_t return_rip) {
  PendingEvent ev = first;
  uint64_t ret = return_rip;
  // What turned into the #DF being delivered, for the shutdown message.
  std::optional<std::pair<PendingEvent, PendingEvent>> df_cause;
  // The events of this delivery so far (Cpu::shutdown_chain), kept only
  // once a fault nests: most deliveries succeed and allocate nothing.
  // A chain's first link says where the event was raised and, when a
  // segment check raised it just now, why (Cpu::segment_refusal).
  const auto link = [&cpu](const PendingEvent& ev) {
    ChainedEvent l{ev, cpu.s.cr2, cpu.s.seg[CS].selector, cpu.s.rip, {}};
    const SegmentFaultWhy& why = cpu.segment_refusal;
    if (why.check != SegmentCheck::None && why.icount == cpu.icount && why.vector == ev.vector &&
        why.error == ev.error)
      l.why = why;
    return l;
  };
  const ChainedEvent first_link = link(first);
  std::vector<ChainedEvent> chain;
  bool replaced = false;         // a fault during delivery took the first event's place
  bool first_delivered = false;  // ... after a task gate switched tasks for it
  // Delivery raises only contributory faults and #PF, so this ends within
  // a few rounds: serially once after a benign event, then #DF, then
  // shutdown.  A task switch that faults past its commit point starts a
  // fresh round in the new task.  Busy bits usually stop a cycle of such
  // switches, but not always (a TSS may overlap the GDT, so saving a task
  // can free its own descriptor): a real CPU would spin there for ever,
  // so past kMaxSwitchRounds in a row the machine stops and says why.
  constexpr unsigned kMaxSwitchRounds = 64;
  unsigned switch_rounds = 0;
  for (;;) {
    bool switched = false;
    const Status st = cpu.s.real_mode() ? deliver_real(cpu, ev, ret) : deliver_protected(cpu, ev, ret, switched);
    if (st != Status::Exception) {
      if (st == Status::Ok && ev.vector == vec::DF && df_cause) cpu.last_double_fault = chain;
      return first_delivered || (st == Status::Ok && !replaced);
    }
    const PendingEvent nested = cpu.pending();
    if (chain.empty()) chain.push_back(first_link);
    chain.push_back(ChainedEvent{nested, cpu.s.cr2, 0, 0, {}});
    if (switched) {
      // The task switch completed: the fault (or the T-flag trap) belongs
      // to the new task, before its first instruction, and is delivered
      // there as an event of its own, not nested in the one switched for.
      if (!replaced) first_delivered = true;
      replaced = true;
      df_cause.reset();
      chain = {link(nested)};
      ++cpu.events;  // each completed switch is an event: virtual time moves
      if (++switch_rounds == kMaxSwitchRounds) {
        cpu.request_stop(StopReason::Shutdown,
                         fmt::format("{} task switches in a row each faulted in the new task before its first "
                                     "instruction (last: {}); a real CPU would loop here for ever",
                                     kMaxSwitchRounds, event_name(nested)));
        return first_delivered;
      }
      ev = nested;
      ret = cpu.s.rip;
      continue;
    }
    const FaultClass first_class = fault_class(ev);
    if (first_class == FaultClass::DoubleFault) {
      std::string msg = fmt::format("triple fault: {} while delivering #DF", event_name(nested));
      if (df_cause)
        msg += fmt::format(" (the #DF came from {} while delivering {})", event_name(df_cause->second),
                           event_name(df_cause->first));
      cpu.shutdown_chain = chain;
      cpu.request_stop(StopReason::Shutdown, std::move(msg));
      return false;
    }
    // A fault while delivering INT n belongs to that instruction; any other
    // event's faults return where the event would have.
    if (ev.kind == PendingEvent::Kind::SoftwareInt) ret = cpu.s.rip;
    replaced = true;
    if (makes_double_fault(first_class, fault_class(nested))) {
      df_cause.emplace(ev, nested);
      ev = PendingEvent{PendingEvent::Kind::Fault, vec::DF, true, 0};
    } else {
      ev = nested;  // handled serially: the first event is lost
    }
  }
}

std::string event_text(const PendingEvent& ev) { return event_name(ev); }

}  // namespace vtlab
