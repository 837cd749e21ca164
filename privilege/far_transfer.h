// Far JMP, far CALL, far RET and IRET (SDM vol. 2, "JMP", "CALL", "RET",
// "IRET"; vol. 3, 5.8 and 6.14).
//
// Each runs every check and every memory access first and commits CS:EIP
// (and SS:ESP, EFLAGS) only at the end.  Real mode (and virtual-8086 mode
// for JMP/CALL/RET, which the SDM gives the same pseudo-code) loads
// CS.base = sel << 4.  Protected mode transfers to code segments with the
// privilege rules of the SDM, through call gates (call_gate.cpp), and to
// other tasks through task gates and TSS descriptors (task_switch.h).
// IRET to virtual-8086 mode stops the machine with StopReason::Unsupported.
// IA-32e mode (SDM vol. 3, 5.8.3.1, 6.14, 7.7): 8-byte operands (REX.W),
// 16-byte 64-bit call gates, no task switches, 64-bit targets checked for
// canonical offsets instead of limits, a null SS for 64-bit code below
// CPL 3.
#pragma once

#include <cstdint>

#include "core/cpu.h"
#include "privilege/descriptors.h"

namespace vtlab {

// `offset` as the instruction gives it; `opsize` (2, 4 or 8) truncates it.
Status far_jmp(Cpu& cpu, uint16_t sel, uint64_t offset, unsigned opsize);
// Pushes CS and the return EIP (cpu.next_rip) at the operand size.
Status far_call(Cpu& cpu, uint16_t sel, uint64_t offset, unsigned opsize);
// RETF / RETF imm16: `release` bytes of parameters are dropped from the
// stack (from both stacks on a return to an outer level).
Status far_ret(Cpu& cpu, unsigned opsize, uint16_t release);
// IRET (opsize 2), IRETD (4), IRETQ (8).
Status iret(Cpu& cpu, unsigned opsize);

// --- shared by far_transfer.cpp and iret.cpp -----------------------------

// The return-CS checks of RET and IRET in protected mode: null -> #GP(0);
// outside the table, not code, RPL < CPL, conforming with DPL > RPL or
// non-conforming with DPL != RPL -> #GP(sel); not present -> #NP(sel).
Status check_return_code_segment(Cpu& cpu, uint16_t sel, Descriptor& d);

// Loads CS from a checked descriptor with RPL = `cpl` (the caller moves SS
// to the same level in the same commit: CPL is SS.DPL).
void commit_code_segment(CpuState& s, uint16_t sel, const Descriptor& d, unsigned cpl);

// Real-mode (and virtual-8086) CS load: selector and base only.
void commit_real_code_segment(CpuState& s, uint16_t sel);

// Far CALL and far JMP through a call gate (call_gate.cpp); `gate_sel` names
// the gate `gate`.
Status call_through_gate(Cpu& cpu, uint16_t gate_sel, const Descriptor& gate);
Status jmp_through_gate(Cpu& cpu, uint16_t gate_sel, const Descriptor& gate);

// Sets ESP after loading a new SS: a 16-bit stack segment takes only SP.
void set_stack_pointer(CpuState& s, uint64_t sp);

// --- IA-32e mode -------------------------------------------------------------

// Whether a transfer to `code` runs its target in 64-bit mode (IA-32e mode
// and L=1); otherwise the target is in compatibility or protected mode.
bool enters_64bit_mode(const CpuState& s, const Descriptor& code);
// The new RIP's check: canonical for a 64-bit target, within the code
// segment's limit otherwise; #GP(0) if not.
Status check_target_offset(Cpu& cpu, const Descriptor& code, uint64_t offset);
// The SS that RET or IRET to an outer level (or IRET in 64-bit mode) pops,
// checked for level `new_cpl`: a null selector passes when returning to
// 64-bit mode below CPL 3 with RPL = `new_cpl` (`null_ss` set), anything
// else goes through check_stack_segment (#GP(0) for a null one).  Nothing
// is marked accessed: the caller does that for a non-null SS before its
// commit, and builds the cache with return_stack_segment().
Status check_return_stack_segment(Cpu& cpu, uint16_t ss_sel, unsigned new_cpl, const Descriptor& code,
                                  Descriptor& ssd, bool& null_ss);
SegmentCache return_stack_segment(uint16_t ss_sel, unsigned new_cpl, const Descriptor& ssd, bool null_ss);

}  // namespace vtlab
