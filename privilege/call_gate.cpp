// Far CALL and far JMP through a 16- or 32-bit call gate (SDM vol. 2,
// "CALL" CALL-GATE / MORE-PRIVILEGE / SAME-PRIVILEGE and "JMP" CALL-GATE;
// vol. 3, 5.8.2-5.8.5).
//
// The gate, not the instruction, decides the target offset and the width
// of every push: a 16-bit gate pushes words and truncates its offset to 16
// bits, whatever the operand size of the CALL.  A CALL to a more privileged
// non-conforming segment switches to that level's stack from the TSS and
// copies the gate's parameter count of words or doublewords across; a JMP
// never changes the CPL.  The return is an ordinary far RET (imm16) to the
// outer level (far_transfer.cpp).
#include <array>

#include "privilege/far_transfer.h"
#include "privilege/stack_access.h"
#include "privilege/tss.h"

namespace vtlab {

namespace {

bool gate32(const Descriptor& gate) { return gate.type() & 8; }
unsigned gate_width(const Descriptor& gate) { return gate32(gate) ? 4 : 2; }
uint32_t gate_target_offset(const Descriptor& gate) {
  return gate32(gate) ? gate.gate_offset() : gate.gate_offset() & 0xFFFF;
}

// The checks common to CALL and JMP through a call gate: the gate's DPL
// must admit both the CPL and the gate selector's RPL; the target must be a
// present code segment.  CALL may go to a more privileged non-conforming
// segment (DPL <= CPL); JMP only where a direct JMP could go.
Status check_gate_and_target(Cpu& cpu, uint16_t gate_sel, const Descriptor& gate, bool call, Descriptor& code) {
  const unsigned cpl = cpu.s.cpl();
  if (gate.dpl() < cpl || gate.dpl() < rpl(gate_sel)) return cpu.raise(vec::GP, selector_error(gate_sel, false));
  if (!gate.present()) return cpu.raise(vec::NP, selector_error(gate_sel, false));
  const uint16_t cs_sel = gate.gate_selector();
  if (is_null_selector(cs_sel)) return cpu.raise(vec::GP, 0);
  TRY(fetch_descriptor(cpu, cs_sel, code, vec::GP));
  bool allowed = code.is_code() && code.dpl() <= cpl;
  if (!call && !code.conforming()) allowed = allowed && code.dpl() == cpl;
  if (!allowed) return cpu.raise(vec::GP, selector_error(cs_sel, false));
  if (!code.present()) return cpu.raise(vec::NP, selector_error(cs_sel, false));
  return Status::Ok;
}

// MORE-PRIVILEGE: the new level's SS:ESP from the TSS; on it the caller's
// SS and ESP, the parameters (in their order on the caller's stack) and
// the caller's CS and EIP, all at the gate's width.
Status call_to_inner_level(Cpu& cpu, const Descriptor& gate, Descriptor& code) {
  CpuState& s = cpu.s;
  const unsigned new_cpl = code.dpl();
  const unsigned width = gate_width(gate);
  uint16_t ss_sel;
  uint64_t sp;
  Descriptor ssd;
  TRY(inner_stack(cpu, new_cpl, false, ss_sel, sp, ssd));

  // The parameters are read at the caller's level, from its stack: a fault
  // there is the caller's #SS(0) or #PF.
  const unsigned count = gate.hi & 0x1F;
  std::array<uint64_t, 0x1F> params{};
  StackReader caller(cpu);
  for (unsigned i = 0; i < count; ++i) TRY(caller.pop(width, params[i]));

  const SegmentCache new_ss = segment_cache(ss_sel, ssd);
  StackWriter stack(new_ss, sp, new_ss.big() ? 4 : 2, /*user=*/false);
  stack.push(width, s.seg[SS].selector);
  stack.push(width, s.gpr[RSP]);
  for (unsigned i = count; i-- > 0;) stack.push(width, params[i]);
  stack.push(width, s.seg[CS].selector);
  stack.push(width, cpu.next_rip);
  TRY(stack.check_limits(cpu, vec::SS, selector_error(ss_sel, false)));
  const uint32_t offset = gate_target_offset(gate);
  if (offset > code.limit()) return cpu.raise(vec::GP, 0);
  TRY(stack.write(cpu));
  TRY(mark_accessed(cpu, code));
  TRY(mark_accessed(cpu, ssd));

  // CS and SS change level together: CPL is SS.DPL.
  s.seg[SS] = segment_cache(ss_sel, ssd);
  commit_code_segment(s, gate.gate_selector(), code, new_cpl);
  s.gpr[RSP] = stack.sp();
  cpu.next_rip = offset;
  return Status::Ok;
}

}  // namespace

Status call_through_gate(Cpu& cpu, uint16_t gate_sel, const Descriptor& gate) {
  CpuState& s = cpu.s;
  Descriptor code;
  TRY(check_gate_and_target(cpu, gate_sel, gate, /*call=*/true, code));
  const unsigned cpl = s.cpl();
  if (!code.conforming() && code.dpl() < cpl) return call_to_inner_level(cpu, gate, code);

  // SAME-PRIVILEGE: the return address on the current stack.
  const unsigned width = gate_width(gate);
  StackWriter stack(s.seg[SS], s.gpr[RSP], s.stack_addr_size(), cpl == 3);
  stack.push(width, s.seg[CS].selector);
  stack.push(width, cpu.next_rip);
  TRY(stack.check_limits(cpu, vec::SS, 0));
  const uint32_t offset = gate_target_offset(gate);
  if (offset > code.limit()) return cpu.raise(vec::GP, 0);
  TRY(stack.write(cpu));
  TRY(mark_accessed(cpu, code));
  commit_code_segment(s, gate.gate_selector(), code, cpl);
  s.gpr[RSP] = stack.sp();
  cpu.next_rip = offset;
  return Status::Ok;
}

Status jmp_through_gate(Cpu& cpu, uint16_t gate_sel, const Descriptor& gate) {
  Descriptor code;
  TRY(check_gate_and_target(cpu, gate_sel, gate, /*call=*/false, code));
  const uint32_t offset = gate_target_offset(gate);
  if (offset > code.limit()) return cpu.raise(vec::GP, 0);
  TRY(mark_accessed(cpu, code));
  commit_code_segment(cpu.s, gate.gate_selector(), code, cpu.s.cpl());
  cpu.next_rip = offset;
  return Status::Ok;
}

}  // namespace vtlab
