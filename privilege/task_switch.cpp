// Hardware task switching (SDM vol. 3, 7.3 and table 7-1; vol. 2 pseudo-code
// of JMP, CALL, INT n and IRET).  See task_switch.h for the commit point.
#include "privilege/task_switch.h"

#include <fmt/format.h>

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "privilege/segment_load.h"
#include "privilege/segment_refusal.h"
#include "privilege/stack_access.h"
#include "privilege/tss.h"

namespace vtlab {

namespace {

bool is_tss(const Descriptor& d) {
  if (d.s()) return false;
  switch (d.type()) {
    case sys_type::kTss16Available:
    case sys_type::kTss16Busy:
    case sys_type::kTss32Available:
    case sys_type::kTss32Busy: return true;
    default: return false;
  }
}
bool is_busy(const Descriptor& d) { return d.type() & 2; }
bool is_tss32(const Descriptor& d) { return d.type() & 8; }

// The writes a switch makes to the TSSs and the GDT, translated all before
// any is made, so that a page fault on one leaves none done.
class SystemWrites {
 public:
  void add(uint64_t lin, unsigned size, uint64_t value) { writes_.push_back({lin & 0xFFFFFFFF, size, value}); }
  Status check(Cpu& cpu) const {
    uint64_t phys;
    for (const Write& w : writes_) {
      TRY(cpu.translate(w.lin, Access::Write, /*user=*/false, phys));
      TRY(cpu.translate((w.lin + w.size - 1) & 0xFFFFFFFF, Access::Write, /*user=*/false, phys));
    }
    return Status::Ok;
  }
  Status write(Cpu& cpu) const {
    for (const Write& w : writes_) TRY(cpu.write_linear(w.lin, w.size, w.value, /*supervisor=*/true));
    return Status::Ok;
  }

 private:
  struct Write {
    uint64_t lin;
    unsigned size;
    uint64_t value;
  };
  std::vector<Write> writes_;
};

// The new task's state as its TSS holds it, read before the commit point.
struct TaskImage {
  uint32_t cr3 = 0, eip = 0, eflags = 0;
  std::array<uint32_t, 8> gpr{};
  std::array<uint16_t, kNumSegRegs> seg{};
  uint16_t ldt = 0;
  bool trap = false;
};

Status read_task_image(Cpu& cpu, uint64_t base, TaskImage& t) {
  uint64_t v;
  auto field = [&](uint32_t offset, unsigned size) {
    return cpu.read_linear((base + offset) & 0xFFFFFFFF, size, v, /*supervisor=*/true);
  };
  TRY(field(tss32::kCr3, 4));
  t.cr3 = static_cast<uint32_t>(v);
  TRY(field(tss32::kEip, 4));
  t.eip = static_cast<uint32_t>(v);
  TRY(field(tss32::kEflags, 4));
  t.eflags = static_cast<uint32_t>(v);
  for (unsigned r = 0; r < 8; ++r) {
    TRY(field(tss32::kGprs + 4 * r, 4));
    t.gpr[r] = static_cast<uint32_t>(v);
  }
  for (unsigned sr = 0; sr < kNumSegRegs; ++sr) {
    TRY(field(tss32::kSegs + 4 * sr, 2));
    t.seg[sr] = static_cast<uint16_t>(v);
  }
  TRY(field(tss32::kLdt, 2));
  t.ldt = static_cast<uint16_t>(v);
  TRY(field(tss32::kTrap, 2));
  t.trap = v & 1;
  return Status::Ok;
}

// The EFLAGS bits a task switch loads (VM is refused before the commit).
constexpr uint32_t kLoadedFlags = flag::kArith | flag::TF | flag::IF | flag::DF | flag::IOPL | flag::NT | flag::RF |
                                  flag::AC | flag::VIF | flag::VIP | flag::ID;
// DR7's local breakpoint enables L0-L3 and LE: cleared by every task switch
// (SDM vol. 3, 18.2.4) so one task's breakpoints do not fire in another.
constexpr uint64_t kDr7LocalEnables = 0x155;

struct SwitchRequest {
  TaskSwitchCause cause;
  uint16_t sel;          // the new TSS
  Descriptor tss;        // its descriptor, checked by the caller
  bool ext;              // EXT for error codes (events other than INT n)
  uint64_t return_eip;   // saved in the old TSS
  const PendingEvent* ev = nullptr;  // an error code to push on the new stack
};

// The new task's LDTR and segment registers, checked in the new task
// (table 7-1): every register first holds its selector with an unusable
// cache, then each is qualified and loaded in turn.
Status qualify_task_segments(Cpu& cpu, const TaskImage& t, bool ext) {
  CpuState& s = cpu.s;
  const unsigned cpl = rpl(t.seg[CS]);
  for (unsigned sr = 0; sr < kNumSegRegs; ++sr) make_null_segment(s.seg[sr], t.seg[sr]);
  // CPL is SS.DPL: the new task's level holds even while SS is unusable,
  // so a fault below is delivered from it.
  s.seg[SS].attrs = (s.seg[SS].attrs & ~ar::kDplMask) | (cpl << ar::kDplShift);
  make_null_segment(s.ldtr, t.ldt);

  Descriptor d;
  if (!is_null_selector(t.ldt)) {
    constexpr const char* kLdt = "a task's LDT selector names a present LDT descriptor in the GDT";
    if (t.ldt & 4)
      return refuse(cpu, vec::TS, selector_error(t.ldt, ext), SegmentCheck::WrongType, t.ldt, nullptr, kLdt, cpl);
    TRY(fetch_descriptor(cpu, t.ldt, d, vec::TS, ext));
    if (d.s() || d.type() != sys_type::kLdt)
      return refuse(cpu, vec::TS, selector_error(t.ldt, ext), SegmentCheck::WrongType, t.ldt, &d, kLdt, cpl);
    if (!d.present())
      return refuse(cpu, vec::TS, selector_error(t.ldt, ext), SegmentCheck::NotPresent, t.ldt, &d, kLdt, cpl);
    s.ldtr = segment_cache(t.ldt, d);
  }

  TRY(check_stack_segment(cpu, t.seg[SS], cpl, vec::TS, ext, d));
  TRY(mark_accessed(cpu, d));
  s.seg[SS] = segment_cache(t.seg[SS], d);

  const uint16_t cs = t.seg[CS];
  if (is_null_selector(cs))
    return refuse(cpu, vec::TS, ext ? 1 : 0, SegmentCheck::NullSelector, cs, nullptr, "a task's CS cannot be null",
                  cpl);
  TRY(fetch_descriptor(cpu, cs, d, vec::TS, ext));
  if (!d.is_code())
    return refuse(cpu, vec::TS, selector_error(cs, ext), SegmentCheck::WrongType, cs, &d,
                  "a task's CS takes a code segment", cpl);
  if (d.conforming() ? d.dpl() > cpl : d.dpl() != cpl)
    return refuse(cpu, vec::TS, selector_error(cs, ext),
                  d.conforming() ? SegmentCheck::DplAboveCpl : SegmentCheck::DplNotCpl, cs, &d,
                  "a task's CS must suit its CPL (CS.RPL): DPL = CPL, or DPL <= CPL if conforming", cpl);
  if (!d.present())
    return refuse(cpu, vec::NP, selector_error(cs, ext), SegmentCheck::NotPresent, cs, &d,
                  "the code segment must be present", cpl);
  TRY(mark_accessed(cpu, d));
  s.seg[CS] = segment_cache(cs, d);

  for (unsigned sr : {ES, DS, FS, GS}) {
    if (is_null_selector(t.seg[sr])) continue;  // stays unusable
    TRY(check_data_segment(cpu, t.seg[sr], cpl, vec::TS, ext, d));
    TRY(mark_accessed(cpu, d));
    s.seg[sr] = segment_cache(t.seg[sr], d);
  }
  return Status::Ok;
}

// A fault while qualifying is past the commit point: the SDM (7.3) has
// the processor complete the switch "without performing additional access
// and segment availability checks" and only then deliver the exception in
// the new task.  So every register the fault left unusable takes its
// descriptor unchecked wherever the table can supply one; a handler that
// runs in the new task then has a stack to push its frame on.
Status load_task_segments(Cpu& cpu, const TaskImage& t, bool ext, uint16_t tss, const Descriptor& tss_d) {
  const Status st = qualify_task_segments(cpu, t, ext);
  if (st != Status::Exception) return st;
  note_from_tss(cpu, tss, tss_d);
  const PendingEvent fault = cpu.pending();
  CpuState& s = cpu.s;
  // A failed unchecked read must not leave a trace: neither CR2 nor the
  // refusal that explains `fault`.
  const uint64_t cr2 = s.cr2;
  const SegmentFaultWhy why = cpu.segment_refusal;
  for (unsigned sr = 0; sr < kNumSegRegs; ++sr) {
    if (s.seg[sr].present() || is_null_selector(t.seg[sr])) continue;
    Descriptor d;
    if (fetch_descriptor(cpu, t.seg[sr], d, vec::TS, ext) == Status::Ok && d.s())
      s.seg[sr] = segment_cache(t.seg[sr], d);
  }
  s.cr2 = cr2;
  cpu.segment_refusal = why;
  // The new task's CPL is its CS.RPL (table 7-1), whatever DPL the
  // unchecked SS carries: CPL is SS.DPL here, so set it.
  s.seg[SS].attrs = (s.seg[SS].attrs & ~ar::kDplMask) | (rpl(t.seg[CS]) << ar::kDplShift);
  return fault.has_error ? cpu.raise(fault.vector, fault.error) : cpu.raise(fault.vector);
}

// SWITCH-TASKS: steps 3 to 14 of SDM vol. 3, 7.3 (the caller made the
// privilege, type, busy and present checks of steps 1-2).
Status switch_tasks(Cpu& cpu, const SwitchRequest& rq, bool& committed) {
  CpuState& s = cpu.s;
  committed = false;
  const bool nest = rq.cause == TaskSwitchCause::Call || rq.cause == TaskSwitchCause::Interrupt;
  const bool leave_old = rq.cause == TaskSwitchCause::Jmp || rq.cause == TaskSwitchCause::Iret;
  if (!is_tss32(rq.tss))
    return cpu.unsupported(fmt::format("task switch to a 16-bit TSS ({:#06x}) is not modelled", rq.sel));
  if (rq.tss.limit() < tss32::kMinLimit)
    return refuse_offset(cpu, vec::TS, selector_error(rq.sel, rq.ext), rq.sel, &rq.tss, tss32::kMinLimit,
                         rq.tss.limit(), "a 32-bit TSS's limit must be at least 0x67");
  const unsigned old_word = tss_word_size(s.tr);
  if (old_word == 2)
    return cpu.unsupported(fmt::format("task switch from a 16-bit TSS ({:#06x}) is not modelled", s.tr.selector));
  if (old_word == 0)
    return refuse_current_tss(cpu, vec::TS, selector_error(s.tr.selector, rq.ext), SegmentCheck::WrongType, 0,
                              "a task switch saves the old task in the TSS TR holds");
  if (s.tr.limit < tss32::kLastSaved)
    return refuse_current_tss(cpu, vec::TS, selector_error(s.tr.selector, rq.ext), SegmentCheck::BeyondLimit,
                              tss32::kLastSaved, "the old task's TSS must hold the state a switch saves (to 0x5f)");

  TaskImage t;
  TRY(read_task_image(cpu, rq.tss.base(), t));
  if (t.eflags & flag::VM)
    return cpu.unsupported(fmt::format("task switch into virtual-8086 mode (TSS {:#06x}) comes with the "
                                        "virtual-8086 issue", rq.sel));
  Descriptor old_d;
  if (leave_old) TRY(fetch_descriptor(cpu, s.tr.selector, old_d, vec::TS, rq.ext));

  // The old task's dynamic fields; an IRET leaves it with NT clear.
  SystemWrites w;
  const uint64_t old_base = s.tr.base;
  uint64_t saved_flags = s.flags.bits();
  if (rq.cause == TaskSwitchCause::Iret) saved_flags &= ~uint64_t{flag::NT};
  w.add(old_base + tss32::kEip, 4, rq.return_eip & 0xFFFFFFFF);
  w.add(old_base + tss32::kEflags, 4, saved_flags & 0xFFFFFFFF);
  for (unsigned r = 0; r < 8; ++r) w.add(old_base + tss32::kGprs + 4 * r, 4, s.gpr[r] & 0xFFFFFFFF);
  for (unsigned sr = 0; sr < kNumSegRegs; ++sr) w.add(old_base + tss32::kSegs + 4 * sr, 2, s.seg[sr].selector);
  // The busy flag is bit 1 of the type, in byte 5 of a descriptor.
  if (leave_old) w.add(old_d.addr + 5, 1, (old_d.hi >> 8) & 0xFD);
  if (nest) w.add(rq.tss.base() + tss32::kLink, 2, s.tr.selector);
  Descriptor new_d = rq.tss;
  new_d.hi |= 2u << 8;  // an IRET finds it busy already
  if (rq.cause != TaskSwitchCause::Iret) w.add(new_d.addr + 5, 1, (new_d.hi >> 8) & 0xFF);
  TRY(w.check(cpu));
  TRY(w.write(cpu));

  // Commit point: TR names the new task.
  committed = true;
  s.tr = segment_cache(rq.sel, new_d);
  s.cr0 |= cr0::TS;
  s.dr[7] &= ~kDr7LocalEnables;
  // Under PAE paging a switch that changes CR3 loads the PDPTEs (SDM
  // 4.4.1) as MOV CR3 loads them; an entry with a reserved bit is a
  // #GP(0) in the new task, after the rest of the switch.
  const bool cr3_changed = s.cr3 != t.cr3;
  s.cr3 = t.cr3;
  const bool pdptes_ok = !cr3_changed || paging_mode(s.cr0, s.cr4, s.efer) != PagingMode::Pae ||
                         cpu.walker.load_pdptes(t.cr3, s.pdpte);
  cpu.paging_changed(true);
  s.flags.set_bits((t.eflags & kLoadedFlags) | (nest ? flag::NT : 0));
  for (unsigned r = 0; r < 8; ++r) s.gpr[r] = t.gpr[r];
  // The new task starts here: a fault in its segment loads returns to it.
  s.rip = cpu.next_rip = t.eip;
  TRY(load_task_segments(cpu, t, rq.ext, rq.sel, new_d));
  if (!pdptes_ok) return cpu.raise(vec::GP, 0);

  // An exception delivered through a task gate leaves its error code on
  // the new task's stack, a doubleword in a 32-bit task.
  if (rq.ev && rq.ev->has_error) {
    StackWriter stack(s.seg[SS], s.gpr[RSP], s.stack_addr_size(), s.cpl() == 3);
    stack.push(4, rq.ev->error);
    TRY(stack.check_limits(cpu, vec::SS, rq.ext ? 1 : 0));
    TRY(stack.write(cpu));
    s.gpr[RSP] = stack.sp();
  }
  if (s.rip > s.seg[CS].limit) return cpu.raise(vec::GP, rq.ext ? 1 : 0);
  // The TSS's T flag: a debug trap before the new task's first instruction.
  if (t.trap) {
    s.dr[6] |= 1u << 15;  // BT
    return cpu.raise_trap(vec::DB);
  }
  return Status::Ok;
}

// The TSS descriptor a task gate or a task's back link names: it must be
// in the GDT, a TSS, available (busy for IRET), and present.
Status fetch_tss(Cpu& cpu, uint16_t sel, Descriptor& d, bool want_busy, uint8_t vector, bool ext) {
  if (sel & 4)
    return refuse(cpu, vector, selector_error(sel, ext), SegmentCheck::WrongType, sel, nullptr,
                  "a TSS descriptor lives in the GDT (TI = 0)");
  TRY(fetch_descriptor(cpu, sel, d, vector, ext));
  if (!is_tss(d))
    return refuse(cpu, vector, selector_error(sel, ext), SegmentCheck::WrongType, sel, &d,
                  "a task gate or back link names a TSS");
  if (is_busy(d) != want_busy)
    return refuse(cpu, vector, selector_error(sel, ext), SegmentCheck::Busy, sel, &d,
                  want_busy ? "IRET returns to a busy TSS" : "a task switch goes to an available (not busy) TSS");
  if (!d.present())
    return refuse(cpu, vec::NP, selector_error(sel, ext), SegmentCheck::NotPresent, sel, &d,
                  "the TSS must be present");
  return Status::Ok;
}

Status instruction_switch(Cpu& cpu, TaskSwitchCause cause, uint16_t sel, const Descriptor& d) {
  bool committed;
  return switch_tasks(cpu, SwitchRequest{cause, sel, d, false, cpu.next_rip}, committed);
}

}  // namespace

Status jmp_call_to_tss(Cpu& cpu, TaskSwitchCause cause, uint16_t sel, const Descriptor& d) {
  const unsigned cpl = cpu.s.cpl();
  // A TSS descriptor lives in the GDT only, and must not be running.
  const uint32_t error = selector_error(sel, false);
  if (sel & 4)
    return refuse(cpu, vec::GP, error, SegmentCheck::WrongType, sel, &d, "a TSS descriptor lives in the GDT (TI = 0)");
  if (d.dpl() < cpl || d.dpl() < rpl(sel))
    return refuse(cpu, vec::GP, error, SegmentCheck::GateDpl, sel, &d,
                  "a TSS is switched to only when max(CPL, RPL) <= its DPL");
  if (is_busy(d))
    return refuse(cpu, vec::GP, error, SegmentCheck::Busy, sel, &d,
                  "a task switch goes to an available (not busy) TSS");
  if (!d.present())
    return refuse(cpu, vec::NP, error, SegmentCheck::NotPresent, sel, &d, "the TSS must be present");
  return instruction_switch(cpu, cause, sel, d);
}

Status jmp_call_through_task_gate(Cpu& cpu, TaskSwitchCause cause, uint16_t sel, const Descriptor& gate) {
  const unsigned cpl = cpu.s.cpl();
  if (gate.dpl() < cpl || gate.dpl() < rpl(sel))
    return refuse(cpu, vec::GP, selector_error(sel, false), SegmentCheck::GateDpl, sel, &gate,
                  "a task gate is used only when max(CPL, RPL) <= its DPL");
  if (!gate.present())
    return refuse(cpu, vec::NP, selector_error(sel, false), SegmentCheck::NotPresent, sel, &gate,
                  "the gate must be present");
  const uint16_t tss_sel = gate.gate_selector();
  Descriptor d;
  TRY(fetch_tss(cpu, tss_sel, d, /*want_busy=*/false, vec::GP, false));
  return instruction_switch(cpu, cause, tss_sel, d);
}

Status task_return(Cpu& cpu) {
  const SegmentCache& tr = cpu.s.tr;
  if (tss_word_size(tr) == 0)
    return refuse_current_tss(cpu, vec::TS, selector_error(tr.selector, false), SegmentCheck::WrongType, 0,
                              "IRET with NT = 1 reads the previous-task link from the TSS TR holds");
  if (tr.limit < 1)
    return refuse_current_tss(cpu, vec::TS, selector_error(tr.selector, false), SegmentCheck::BeyondLimit, 1,
                              "the TSS must hold the previous-task link (bytes 0-1)");
  uint64_t link;
  TRY(cpu.read_linear(tr.base & 0xFFFFFFFF, 2, link, /*supervisor=*/true));
  const auto sel = static_cast<uint16_t>(link);
  Descriptor d;
  const Status st = is_null_selector(sel)
                        ? refuse(cpu, vec::TS, selector_error(sel, false), SegmentCheck::NullSelector, sel, nullptr,
                                 "IRET with NT = 1 returns to the task the previous-task link names")
                        : fetch_tss(cpu, sel, d, /*want_busy=*/true, vec::TS, false);
  if (st != Status::Ok) {
    note_from_tss(cpu, tr.selector, current_tss_descriptor(cpu));
    return st;
  }
  return instruction_switch(cpu, TaskSwitchCause::Iret, sel, d);
}

Status interrupt_through_task_gate(Cpu& cpu, const PendingEvent& ev, const Descriptor& gate, bool ext,
                                   uint64_t return_eip, bool& committed) {
  committed = false;
  const uint16_t sel = gate.gate_selector();
  Descriptor d;
  TRY(fetch_tss(cpu, sel, d, /*want_busy=*/false, vec::GP, ext));
  return switch_tasks(cpu, SwitchRequest{TaskSwitchCause::Interrupt, sel, d, ext, return_eip, &ev}, committed);
}

}  // namespace vtlab
