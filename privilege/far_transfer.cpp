#include "privilege/far_transfer.h"

#include "privilege/segment_load.h"
#include "privilege/segment_refusal.h"
#include "privilege/stack_access.h"
#include "privilege/task_switch.h"

namespace vtlab {

namespace {

bool real_or_v8086(const CpuState& s) { return s.real_mode() || s.v8086(); }

// A far JMP/CALL whose selector names a system descriptor: a call gate, a
// task gate or a TSS; anything else (LDT, interrupt/trap gate) is #GP(sel).
// IA-32e mode has no task switching and only 16-byte 64-bit call gates,
// whose upper half must lie in the table and have type 0 (#GP(sel)).
Status system_target(Cpu& cpu, uint16_t sel, const Descriptor& d, bool call) {
  if (cpu.s.long_mode_active()) {
    if (d.type() != sys_type::kCallGate32)
      return refuse(cpu, vec::GP, selector_error(sel, false), SegmentCheck::WrongType, sel, &d,
                    "in IA-32e mode a far JMP/CALL takes a code segment or a 64-bit call gate");
    Descriptor gate = d;
    TRY(fetch_upper_half(cpu, sel, gate, vec::GP));
    if (gate.upper_type() != 0)
      return refuse(cpu, vec::GP, selector_error(sel, false), SegmentCheck::WrongType, sel, &gate,
                    "the upper half of a 64-bit call gate must have type 0");
    return call ? call_through_gate(cpu, sel, gate) : jmp_through_gate(cpu, sel, gate);
  }
  const TaskSwitchCause cause = call ? TaskSwitchCause::Call : TaskSwitchCause::Jmp;
  switch (d.type()) {
    case sys_type::kCallGate16:
    case sys_type::kCallGate32: return call ? call_through_gate(cpu, sel, d) : jmp_through_gate(cpu, sel, d);
    case sys_type::kTaskGate: return jmp_call_through_task_gate(cpu, cause, sel, d);
    case sys_type::kTss16Available:
    case sys_type::kTss16Busy:
    case sys_type::kTss32Available:
    case sys_type::kTss32Busy: return jmp_call_to_tss(cpu, cause, sel, d);
    default:
      return refuse(cpu, vec::GP, selector_error(sel, false), SegmentCheck::WrongType, sel, &d,
                    "a far JMP/CALL takes a code segment, a call gate, a task gate or a TSS");
  }
}

Status fetch_far_target(Cpu& cpu, uint16_t sel, Descriptor& d) {
  if (is_null_selector(sel))
    return refuse(cpu, vec::GP, 0, SegmentCheck::NullSelector, sel, nullptr, "a far JMP/CALL needs a code selector");
  return fetch_descriptor(cpu, sel, d, vec::GP);
}

// The code-segment target checks of far JMP and far CALL (SDM
// "CONFORMING-CODE-SEGMENT" and "NONCONFORMING-CODE-SEGMENT"): a conforming
// segment may be entered from its DPL or any less privileged level, and
// runs at the caller's CPL; a non-conforming one only from its own level.
// In IA-32e mode a code segment with L=1 and D=1 is reserved: #GP(sel)
// before any privilege check.
Status check_code_target(Cpu& cpu, uint16_t sel, const Descriptor& d) {
  const uint32_t error = selector_error(sel, false);
  if (!d.is_code())
    return refuse(cpu, vec::GP, error, SegmentCheck::WrongType, sel, &d,
                  "a far JMP/CALL takes a code segment, a call gate, a task gate or a TSS");
  if (cpu.s.long_mode_active() && d.long_and_big())
    return refuse(cpu, vec::GP, error, SegmentCheck::WrongType, sel, &d,
                  "a code segment with L=1 and D=1 is reserved in IA-32e mode");
  const unsigned cpl = cpu.s.cpl();
  if (d.conforming() && d.dpl() > cpl)
    return refuse(cpu, vec::GP, error, SegmentCheck::DplAboveCpl, sel, &d,
                  "conforming code is entered only from its DPL or a less privileged level (DPL <= CPL)");
  constexpr const char* kOwnLevel =
      "non-conforming code is entered directly only from its own level (DPL = CPL, RPL <= CPL); "
      "other levels go through a call gate";
  if (!d.conforming() && rpl(sel) > cpl)
    return refuse(cpu, vec::GP, error, SegmentCheck::RplAboveCpl, sel, &d, kOwnLevel);
  if (!d.conforming() && d.dpl() != cpl)
    return refuse(cpu, vec::GP, error, SegmentCheck::DplNotCpl, sel, &d, kOwnLevel);
  if (!d.present())
    return refuse(cpu, vec::NP, error, SegmentCheck::NotPresent, sel, &d, "the code segment must be present");
  return Status::Ok;
}

}  // namespace

Status check_return_code_segment(Cpu& cpu, uint16_t sel, Descriptor& d) {
  if (is_null_selector(sel))
    return refuse(cpu, vec::GP, 0, SegmentCheck::NullSelector, sel, nullptr, "a return needs a code selector");
  TRY(fetch_descriptor(cpu, sel, d, vec::GP));
  // A return may only go to the same or a less privileged level (RPL >= CPL);
  // IA-32e mode refuses L=1 with D=1.
  const uint32_t error = selector_error(sel, false);
  if (!d.is_code())
    return refuse(cpu, vec::GP, error, SegmentCheck::WrongType, sel, &d, "a return goes to a code segment");
  if (cpu.s.long_mode_active() && d.long_and_big())
    return refuse(cpu, vec::GP, error, SegmentCheck::WrongType, sel, &d,
                  "a code segment with L=1 and D=1 is reserved in IA-32e mode");
  if (rpl(sel) < cpu.s.cpl())
    return refuse(cpu, vec::GP, error, SegmentCheck::RplBelowCpl, sel, &d,
                  "a return goes to the same or a less privileged level (RPL >= CPL)");
  if (d.conforming() && d.dpl() > rpl(sel))
    return refuse(cpu, vec::GP, error, SegmentCheck::DplAboveRpl, sel, &d,
                  "a return to conforming code needs DPL <= RPL");
  if (!d.conforming() && d.dpl() != rpl(sel))
    return refuse(cpu, vec::GP, error, SegmentCheck::DplNotRpl, sel, &d,
                  "a return to non-conforming code needs DPL = RPL");
  if (!d.present())
    return refuse(cpu, vec::NP, error, SegmentCheck::NotPresent, sel, &d, "the code segment must be present");
  return Status::Ok;
}

void commit_code_segment(CpuState& s, uint16_t sel, const Descriptor& d, unsigned cpl) {
  s.seg[CS] = segment_cache(static_cast<uint16_t>((sel & 0xFFFC) | cpl), d);
}

void commit_real_code_segment(CpuState& s, uint16_t sel) {
  s.seg[CS].selector = sel;
  s.seg[CS].base = uint64_t{sel} << 4;
}

void set_stack_pointer(CpuState& s, uint64_t sp) {
  // Only SP for a 16-bit stack: the upper half of ESP keeps the inner
  // level's value, as on hardware (the leak Linux's "espfix" works around).
  const unsigned size = s.stack_addr_size();
  if (size == 2) s.gpr[RSP] = (s.gpr[RSP] & ~uint64_t{0xFFFF}) | (sp & 0xFFFF);
  else s.gpr[RSP] = sp & all_ones(size);
}

bool enters_64bit_mode(const CpuState& s, const Descriptor& code) {
  return s.long_mode_active() && code.long_code();
}

Status check_target_offset(Cpu& cpu, const Descriptor& code, uint64_t offset) {
  if (enters_64bit_mode(cpu.s, code))
    return is_canonical(offset) ? Status::Ok
                                : refuse_offset(cpu, vec::GP, 0, 0, &code, offset, ~uint64_t{0},
                                                "a 64-bit target offset must be canonical");
  return offset <= code.limit() ? Status::Ok
                                : refuse_offset(cpu, vec::GP, 0, 0, &code, offset, code.limit(),
                                                "the target offset must lie within the code segment's limit");
}

Status check_return_stack_segment(Cpu& cpu, uint16_t ss_sel, unsigned new_cpl, const Descriptor& code,
                                  Descriptor& ssd, bool& null_ss) {
  null_ss = is_null_selector(ss_sel) && null_stack_allowed(cpu.s, ss_sel, new_cpl, enters_64bit_mode(cpu.s, code));
  if (null_ss) return Status::Ok;
  return check_stack_segment(cpu, ss_sel, new_cpl, vec::GP, false, ssd);
}

SegmentCache return_stack_segment(uint16_t ss_sel, unsigned new_cpl, const Descriptor& ssd, bool null_ss) {
  return null_ss ? null_stack_segment(ss_sel, new_cpl) : segment_cache(ss_sel, ssd);
}

Status far_jmp(Cpu& cpu, uint16_t sel, uint64_t offset, unsigned opsize) {
  offset &= all_ones(opsize);
  if (real_or_v8086(cpu.s)) {
    if (offset > cpu.s.seg[CS].limit)
      return refuse_offset(cpu, vec::GP, 0, 0, nullptr, offset, cpu.s.seg[CS].limit,
                           "the target offset must lie within CS's limit");
    commit_real_code_segment(cpu.s, sel);
    cpu.next_rip = offset;
    return Status::Ok;
  }
  Descriptor d;
  TRY(fetch_far_target(cpu, sel, d));
  if (!d.s()) return system_target(cpu, sel, d, /*call=*/false);
  TRY(check_code_target(cpu, sel, d));
  TRY(check_target_offset(cpu, d, offset));
  TRY(mark_accessed(cpu, d));
  commit_code_segment(cpu.s, sel, d, cpu.s.cpl());
  cpu.next_rip = offset;
  return Status::Ok;
}

Status far_call(Cpu& cpu, uint16_t sel, uint64_t offset, unsigned opsize) {
  offset &= all_ones(opsize);
  CpuState& s = cpu.s;
  Descriptor d;
  uint32_t limit = s.seg[CS].limit;
  if (!real_or_v8086(s)) {
    TRY(fetch_far_target(cpu, sel, d));
    if (!d.s()) return system_target(cpu, sel, d, /*call=*/true);
    TRY(check_code_target(cpu, sel, d));
    limit = d.limit();
    // A CALL m16:64 into compatibility mode keeps 32 bits of the offset.
    if (s.long_mode_active() && !d.long_code()) offset &= 0xFFFFFFFF;
  }
  // The return address goes on the current stack at the current level; a
  // 32-bit push of CS pads the selector with zeros.
  StackWriter stack(s.seg[SS], s.gpr[RSP], s.stack_addr_size(), s.cpl() == 3);
  stack.push(opsize, s.seg[CS].selector);
  stack.push(opsize, cpu.next_rip);
  TRY(stack.check_limits(cpu, vec::SS, 0));
  if (real_or_v8086(s)) {
    if (offset > limit)
      return refuse_offset(cpu, vec::GP, 0, 0, nullptr, offset, limit, "the target offset must lie within CS's limit");
  } else {
    TRY(check_target_offset(cpu, d, offset));
  }
  TRY(stack.write(cpu));
  if (real_or_v8086(s)) {
    commit_real_code_segment(s, sel);
  } else {
    TRY(mark_accessed(cpu, d));
    commit_code_segment(s, sel, d, s.cpl());
  }
  s.gpr[RSP] = stack.sp();
  cpu.next_rip = offset;
  return Status::Ok;
}

Status far_ret(Cpu& cpu, unsigned opsize, uint16_t release) {
  CpuState& s = cpu.s;
  StackReader stack(cpu);
  uint64_t offset, cs;
  TRY(stack.pop(opsize, offset));
  TRY(stack.pop(opsize, cs));
  const auto sel = static_cast<uint16_t>(cs);

  if (real_or_v8086(s)) {
    if (offset > s.seg[CS].limit)
      return refuse_offset(cpu, vec::GP, 0, 0, nullptr, offset, s.seg[CS].limit,
                           "the return offset must lie within CS's limit");
    stack.skip(release);
    commit_real_code_segment(s, sel);
    s.gpr[RSP] = stack.sp();
    cpu.next_rip = offset;
    return Status::Ok;
  }

  Descriptor d;
  TRY(check_return_code_segment(cpu, sel, d));
  const unsigned cpl = s.cpl();
  if (rpl(sel) == cpl) {
    TRY(check_target_offset(cpu, d, offset));
    TRY(mark_accessed(cpu, d));
    stack.skip(release);
    commit_code_segment(s, sel, d, cpl);
    s.gpr[RSP] = stack.sp();
    cpu.next_rip = offset;
    return Status::Ok;
  }

  // Return to an outer level: the caller's SS:ESP sits above the
  // parameters the callee drops.
  const unsigned new_cpl = rpl(sel);
  stack.skip(release);
  uint64_t esp, ss;
  TRY(stack.pop(opsize, esp));
  TRY(stack.pop(opsize, ss));
  const auto ss_sel = static_cast<uint16_t>(ss);
  Descriptor ssd;
  bool null_ss;
  TRY(check_return_stack_segment(cpu, ss_sel, new_cpl, d, ssd, null_ss));
  TRY(check_target_offset(cpu, d, offset));
  TRY(mark_accessed(cpu, d));
  if (!null_ss) TRY(mark_accessed(cpu, ssd));

  commit_code_segment(s, sel, d, new_cpl);
  s.seg[SS] = return_stack_segment(ss_sel, new_cpl, ssd, null_ss);
  set_stack_pointer(s, esp);
  // The caller pushed its parameters on its own stack too: drop them there.
  set_stack_pointer(s, s.gpr[RSP] + release);
  null_inaccessible_data_segments(s);
  cpu.next_rip = offset;
  return Status::Ok;
}

}  // namespace vtlab
