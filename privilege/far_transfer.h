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
#pragma once

#include <cstdint>

#include "core/cpu.h"
#include "privilege/descriptors.h"

namespace vtlab {

// `offset` as the instruction gives it; `opsize` (2 or 4) truncates it.
Status far_jmp(Cpu& cpu, uint16_t sel, uint64_t offset, unsigned opsize);
// Pushes CS and the return EIP (cpu.next_rip) at the operand size.
Status far_call(Cpu& cpu, uint16_t sel, uint64_t offset, unsigned opsize);
// RETF / RETF imm16: `release` bytes of parameters are dropped from the
// stack (from both stacks on a return to an outer level).
Status far_ret(Cpu& cpu, unsigned opsize, uint16_t release);
// IRET (opsize 2), IRETD (4).
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

}  // namespace vtlab
