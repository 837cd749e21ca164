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
//
// IA-32e mode knows only the 16-byte 64-bit call gate (type C; its upper
// half is checked by far_transfer.cpp): the target must be a 64-bit code
// segment, the offset is 64 bits and must be canonical, every push is 8
// bytes on a 64-bit stack, no parameters are copied, and a call to an inner
// level takes RSP from the 64-bit TSS with a null SS (SDM vol. 3, 5.8.3.1,
// 5.8.5.1; vol. 2, CALL "CALL-GATE" with IA32_EFER.LMA = 1).
#include <array>

#include "privilege/far_transfer.h"
#include "privilege/segment_load.h"
#include "privilege/segment_refusal.h"
#include "privilege/stack_access.h"
#include "privilege/tss.h"

namespace vtlab {

namespace {

bool gate32(const Descriptor& gate) { return gate.type() & 8; }
unsigned gate_width(const CpuState& s, const Descriptor& gate) {
  if (s.long_mode_active()) return 8;
  return gate32(gate) ? 4 : 2;
}
uint64_t gate_target_offset(const CpuState& s, const Descriptor& gate) {
  if (s.long_mode_active()) return gate.gate_offset64();
  return gate32(gate) ? gate.gate_offset() : gate.gate_offset() & 0xFFFF;
}

// The target is a 64-bit code segment in IA-32e mode: a canonical offset;
// otherwise one within the code segment's limit.
Status check_gate_offset(Cpu& cpu, const Descriptor& gate, const Descriptor& code) {
  const uint64_t offset = gate_target_offset(cpu.s, gate);
  if (cpu.s.long_mode_active())
    return is_canonical(offset) ? Status::Ok
                                : refuse_offset(cpu, vec::GP, 0, 0, &code, offset, ~uint64_t{0},
                                                "a call gate's 64-bit offset must be canonical");
  return offset <= code.limit() ? Status::Ok
                                : refuse_offset(cpu, vec::GP, 0, 0, &code, offset, code.limit(),
                                                "a call gate's offset must lie within its code segment's limit");
}

// The stack for the return address of a same-level CALL: the current one,
// or in IA-32e mode the flat 64-bit one at RSP whatever mode the caller is
// in, since the callee runs in 64-bit mode.
StackWriter same_level_stack(const CpuState& s) {
  const bool long_mode = s.long_mode_active();
  return StackWriter(s.seg[SS], s.gpr[RSP], long_mode ? 8 : s.stack_addr_size(), s.cpl() == 3);
}

// The checks common to CALL and JMP through a call gate: the gate's DPL
// must admit both the CPL and the gate selector's RPL; the target must be a
// present code segment.  CALL may go to a more privileged non-conforming
// segment (DPL <= CPL); JMP only where a direct JMP could go.
Status check_gate_and_target(Cpu& cpu, uint16_t gate_sel, const Descriptor& gate, bool call, Descriptor& code) {
  const unsigned cpl = cpu.s.cpl();
  const uint32_t gate_error = selector_error(gate_sel, false);
  if (gate.dpl() < cpl || gate.dpl() < rpl(gate_sel))
    return refuse(cpu, vec::GP, gate_error, SegmentCheck::GateDpl, gate_sel, &gate,
                  "a call gate is used only when max(CPL, RPL) <= its DPL");
  if (!gate.present())
    return refuse(cpu, vec::NP, gate_error, SegmentCheck::NotPresent, gate_sel, &gate, "the gate must be present");
  const uint16_t cs_sel = gate.gate_selector();
  if (is_null_selector(cs_sel))
    return refuse(cpu, vec::GP, 0, SegmentCheck::NullSelector, cs_sel, nullptr,
                  "a call gate's code selector cannot be null");
  TRY(fetch_descriptor(cpu, cs_sel, code, vec::GP));
  const uint32_t error = selector_error(cs_sel, false);
  if (!code.is_code())
    return refuse(cpu, vec::GP, error, SegmentCheck::WrongType, cs_sel, &code, "a call gate leads to a code segment");
  if (code.dpl() > cpl)
    return refuse(cpu, vec::GP, error, SegmentCheck::DplAboveCpl, cs_sel, &code,
                  "a call gate leads to the same or a more privileged level (DPL <= CPL)");
  if (!call && !code.conforming() && code.dpl() != cpl)
    return refuse(cpu, vec::GP, error, SegmentCheck::DplNotCpl, cs_sel, &code,
                  "a JMP through a call gate does not change level: non-conforming code needs DPL = CPL");
  // IA-32e mode: only into 64-bit code (L=1, D=0).
  if (cpu.s.long_mode_active() && (!code.long_code() || code.default_big()))
    return refuse(cpu, vec::GP, error, SegmentCheck::WrongType, cs_sel, &code,
                  "an IA-32e call gate leads to 64-bit code (L=1, D=0)");
  if (!code.present())
    return refuse(cpu, vec::NP, error, SegmentCheck::NotPresent, cs_sel, &code, "the code segment must be present");
  return Status::Ok;
}

// MORE-PRIVILEGE through a 64-bit call gate: RSP from the 64-bit TSS, SS
// null with RPL = the new CPL; on the new stack the caller's SS, RSP, CS
// and RIP, 8 bytes each.  A non-canonical push is #SS(new SS), which names
// the null selector: #SS(0).
Status call_to_inner_level64(Cpu& cpu, const Descriptor& gate, Descriptor& code) {
  CpuState& s = cpu.s;
  const unsigned new_cpl = code.dpl();
  uint64_t rsp;
  TRY(tss64_stack(cpu, tss64::rsp(new_cpl), false, rsp));
  StackWriter stack(s.seg[SS], rsp, 8, /*user=*/false);
  stack.push(8, s.seg[SS].selector);
  stack.push(8, s.gpr[RSP]);
  stack.push(8, s.seg[CS].selector);
  stack.push(8, cpu.next_rip);
  TRY(stack.check_limits(cpu, vec::SS, 0));
  TRY(check_gate_offset(cpu, gate, code));
  TRY(stack.write(cpu));
  TRY(mark_accessed(cpu, code));

  s.seg[SS] = null_stack_segment(static_cast<uint16_t>(new_cpl), new_cpl);
  commit_code_segment(s, gate.gate_selector(), code, new_cpl);
  s.gpr[RSP] = stack.sp();
  cpu.next_rip = gate.gate_offset64();
  return Status::Ok;
}

// MORE-PRIVILEGE: the new level's SS:ESP from the TSS; on it the caller's
// SS and ESP, the parameters (in their order on the caller's stack) and
// the caller's CS and EIP, all at the gate's width.
Status call_to_inner_level(Cpu& cpu, const Descriptor& gate, Descriptor& code) {
  if (cpu.s.long_mode_active()) return call_to_inner_level64(cpu, gate, code);
  CpuState& s = cpu.s;
  const unsigned new_cpl = code.dpl();
  const unsigned width = gate_width(s, gate);
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
  TRY(check_gate_offset(cpu, gate, code));
  TRY(stack.write(cpu));
  TRY(mark_accessed(cpu, code));
  TRY(mark_accessed(cpu, ssd));

  // CS and SS change level together: CPL is SS.DPL.
  s.seg[SS] = segment_cache(ss_sel, ssd);
  commit_code_segment(s, gate.gate_selector(), code, new_cpl);
  s.gpr[RSP] = stack.sp();
  cpu.next_rip = gate_target_offset(s, gate);
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
  const unsigned width = gate_width(s, gate);
  StackWriter stack = same_level_stack(s);
  stack.push(width, s.seg[CS].selector);
  stack.push(width, cpu.next_rip);
  TRY(stack.check_limits(cpu, vec::SS, 0));
  TRY(check_gate_offset(cpu, gate, code));
  TRY(stack.write(cpu));
  TRY(mark_accessed(cpu, code));
  commit_code_segment(s, gate.gate_selector(), code, cpl);
  s.gpr[RSP] = stack.sp();
  cpu.next_rip = gate_target_offset(s, gate);
  return Status::Ok;
}

Status jmp_through_gate(Cpu& cpu, uint16_t gate_sel, const Descriptor& gate) {
  Descriptor code;
  TRY(check_gate_and_target(cpu, gate_sel, gate, /*call=*/false, code));
  TRY(check_gate_offset(cpu, gate, code));
  TRY(mark_accessed(cpu, code));
  commit_code_segment(cpu.s, gate.gate_selector(), code, cpu.s.cpl());
  cpu.next_rip = gate_target_offset(cpu.s, gate);
  return Status::Ok;
}

}  // namespace vtlab
