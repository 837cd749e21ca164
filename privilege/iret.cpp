// IRET / IRETD / IRETQ (SDM vol. 2, "IRET/IRETD/IRETQ"; vol. 3, 6.14 and
// 7.3).
#include <fmt/format.h>

#include "privilege/far_transfer.h"
#include "privilege/segment_load.h"
#include "privilege/segment_refusal.h"
#include "privilege/stack_access.h"
#include "privilege/task_switch.h"

namespace vtlab {

namespace {

Status iret_real_mode(Cpu& cpu, unsigned opsize) {
  CpuState& s = cpu.s;
  StackReader stack(cpu);
  uint64_t ip, cs, fl;
  TRY(stack.pop(opsize, ip));
  TRY(stack.pop(opsize, cs));
  TRY(stack.pop(opsize, fl));
  if (ip > s.seg[CS].limit)
    return refuse_offset(cpu, vec::GP, 0, 0, nullptr, ip, s.seg[CS].limit, "the return offset must lie within CS's limit");
  const uint64_t old = s.flags.bits();
  // A 16-bit IRET reloads FLAGS whole; a 32-bit one leaves VM, VIF and VIP
  // alone (the SDM's "AND 257FD5H OR (EFLAGS AND 1A0000H)").
  const uint64_t loaded = opsize == 2 ? 0xFFFFu : 0x257FD5u;
  s.flags.set_bits((old & ~loaded) | (fl & loaded));
  commit_real_code_segment(s, static_cast<uint16_t>(cs));
  s.gpr[RSP] = stack.sp();
  cpu.next_rip = ip;
  return Status::Ok;
}

// Which EFLAGS bits IRET takes from the stack in protected mode: IOPL only
// at CPL 0, IF only when CPL <= IOPL (both judged before the return
// changes CPL), RF/AC/ID (and VIF/VIP at CPL 0) only from a 32-bit frame.
// VM is never loaded here: a return to virtual-8086 mode is another path.
uint32_t iret_loaded_flags(const CpuState& s, unsigned opsize) {
  const bool wide = opsize >= 4;  // IRETD and IRETQ
  uint32_t mask = flag::kArith | flag::TF | flag::DF | flag::NT;
  if (wide) mask |= flag::RF | flag::AC | flag::ID;
  const unsigned cpl = s.cpl();
  const unsigned iopl = (s.flags.bits() & flag::IOPL) >> flag::kIoplShift;
  if (cpl <= iopl) mask |= flag::IF;
  if (cpl == 0) {
    mask |= flag::IOPL;
    if (wide) mask |= flag::VIF | flag::VIP;
  }
  return mask;
}

// IA-32e mode ("IA-32e-MODE" in the SDM's pseudo-code).  No task returns:
// NT=1 is #GP(0).  RIP, CS and RFLAGS come off the stack at the operand
// size (8 bytes for IRETQ), and SS:RSP after them on a return to an outer
// level, and in 64-bit mode always, even to the same level.  The return may
// go to 64-bit mode (canonical RIP; a null SS below CPL 3) or to
// compatibility mode (RIP within CS's limit; a usable SS).  VM is never
// loaded: there is no virtual-8086 mode here.
Status iret_long_mode(Cpu& cpu, unsigned opsize) {
  CpuState& s = cpu.s;
  if (s.flags.test(flag::NT)) return cpu.raise(vec::GP, 0);
  StackReader stack(cpu);
  uint64_t rip, cs, fl;
  TRY(stack.pop(opsize, rip));
  TRY(stack.pop(opsize, cs));
  TRY(stack.pop(opsize, fl));
  const auto sel = static_cast<uint16_t>(cs);
  Descriptor d;
  TRY(check_return_code_segment(cpu, sel, d));
  const unsigned cpl = s.cpl();
  const unsigned new_cpl = rpl(sel);
  const bool pops_stack = new_cpl > cpl || s.code_size() == 8;
  uint64_t rsp = 0, ss = 0;
  Descriptor ssd;
  bool null_ss = false;
  if (pops_stack) {
    TRY(stack.pop(opsize, rsp));
    TRY(stack.pop(opsize, ss));
    TRY(check_return_stack_segment(cpu, static_cast<uint16_t>(ss), new_cpl, d, ssd, null_ss));
  }
  TRY(check_target_offset(cpu, d, rip));
  TRY(mark_accessed(cpu, d));
  if (pops_stack && !null_ss) TRY(mark_accessed(cpu, ssd));

  const uint32_t loaded = iret_loaded_flags(s, opsize);
  s.flags.set_bits((s.flags.bits() & ~uint64_t{loaded}) | (fl & loaded));
  commit_code_segment(s, sel, d, new_cpl);
  if (pops_stack) {
    s.seg[SS] = return_stack_segment(static_cast<uint16_t>(ss), new_cpl, ssd, null_ss);
    s.gpr[RSP] = rsp;  // a 16- or 32-bit pop zero-extends ("clear upper bits")
  } else {
    s.gpr[RSP] = stack.sp();
  }
  if (new_cpl > cpl) null_inaccessible_data_segments(s);
  cpu.next_rip = rip;
  return Status::Ok;
}

}  // namespace

Status iret(Cpu& cpu, unsigned opsize) {
  CpuState& s = cpu.s;
  if (s.real_mode()) return iret_real_mode(cpu, opsize);
  if (s.long_mode_active()) return iret_long_mode(cpu, opsize);
  if (s.v8086())
    return cpu.unsupported("IRET in virtual-8086 mode comes with the virtual-8086 issue");
  // NT: this task was called (CALL, or an event through a task gate);
  // IRET goes back to the caller's task (SDM "TASK-RETURN").
  if (s.flags.test(flag::NT)) return task_return(cpu);

  StackReader stack(cpu);
  uint64_t eip, cs, fl;
  TRY(stack.pop(opsize, eip));
  TRY(stack.pop(opsize, cs));
  TRY(stack.pop(opsize, fl));
  const auto sel = static_cast<uint16_t>(cs);
  if (opsize == 4 && (fl & flag::VM) && s.cpl() == 0)
    return cpu.unsupported(fmt::format("IRET to virtual-8086 mode ({:04x}:{:04x}) comes with the virtual-8086 issue",
                                        sel, eip & 0xFFFF));

  Descriptor d;
  TRY(check_return_code_segment(cpu, sel, d));
  const unsigned cpl = s.cpl();
  const unsigned new_cpl = rpl(sel);
  uint64_t esp = 0, ss = 0;
  Descriptor ssd;
  if (new_cpl > cpl) {
    TRY(stack.pop(opsize, esp));
    TRY(stack.pop(opsize, ss));
    TRY(check_stack_segment(cpu, static_cast<uint16_t>(ss), new_cpl, vec::GP, false, ssd));
  }
  if (eip > d.limit())
    return refuse_offset(cpu, vec::GP, 0, 0, &d, eip, d.limit(),
                         "the return offset must lie within the code segment's limit");
  TRY(mark_accessed(cpu, d));
  if (new_cpl > cpl) TRY(mark_accessed(cpu, ssd));

  const uint32_t loaded = iret_loaded_flags(s, opsize);
  s.flags.set_bits((s.flags.bits() & ~uint64_t{loaded}) | (fl & loaded));
  commit_code_segment(s, sel, d, new_cpl);
  if (new_cpl > cpl) {
    s.seg[SS] = segment_cache(static_cast<uint16_t>(ss), ssd);
    set_stack_pointer(s, esp);
    null_inaccessible_data_segments(s);
  } else {
    s.gpr[RSP] = stack.sp();
  }
  cpu.next_rip = eip;
  return Status::Ok;
}

}  // namespace vtlab
