// Loading the data and stack segment registers (DS, ES, FS, GS, SS) the way
// MOV Sreg, POP Sreg and LDS/LES/LFS/LGS/LSS do (SDM vol. 2, "MOV" and
// "POP" pseudo-code; vol. 3, 5.7 and 5.10).  CS is loaded only by far
// transfers, interrupts and IRET (far_transfer.h, interrupts.h).
#pragma once

#include <cstdint>

#include "core/cpu.h"
#include "privilege/descriptors.h"

namespace vtlab {

// Runs every check for loading `sel` into `seg` and computes the hidden
// cache it would get, setting the descriptor's accessed bit; the register
// itself is not changed (POP SS still needs the old SS to move ESP).
// Protected mode:
//   SS:  null -> #GP(0) (but see null_stack_allowed); outside the table,
//        RPL != CPL, DPL != CPL or not a writable data segment -> #GP(sel);
//        not present -> #SS(sel).
//   DS, ES, FS, GS: null -> loaded but unusable; outside the table, not data
//        or readable code, or (data / non-conforming code with
//        max(CPL, RPL) > DPL) -> #GP(sel); not present -> #NP(sel).
// Real and virtual-8086 mode: selector and base (sel << 4) only; the limit
// and attributes stay as they are ("unreal" mode relies on it), except
// that SS.DPL becomes the CPL of the mode (0 real, 3 virtual-8086).
Status prepare_segment_load(Cpu& cpu, unsigned seg, uint16_t sel, SegmentCache& out);

// prepare_segment_load() and then the load.
Status load_segment(Cpu& cpu, unsigned seg, uint16_t sel);

// The stack-segment checks at privilege level `cpl`, shared by MOV SS (the
// CPL), far returns and IRET to an outer level (the return CS's RPL) and
// interrupts that switch stacks (the handler's DPL, failing with #TS).
// A null selector raises vector(EXT); the selector checks vector(sel+EXT);
// a present bit of 0 #SS(sel+EXT).
Status check_stack_segment(Cpu& cpu, uint16_t sel, unsigned cpl, uint8_t vector, bool ext, Descriptor& d);

// The checks for a non-null DS, ES, FS or GS selector at privilege level
// `cpl`: outside the table, not data or readable code, or (data /
// non-conforming code with max(CPL, RPL) > DPL) -> vector(sel+EXT); not
// present -> #NP(sel+EXT).  MOV Sreg fails with #GP, a task switch with #TS.
Status check_data_segment(Cpu& cpu, uint16_t sel, unsigned cpl, uint8_t vector, bool ext, Descriptor& d);

// 64-bit mode runs without a stack segment: a null selector may be loaded
// into SS by code that runs (or, for RET and IRET, returns to) 64-bit mode
// at `cpl` < 3 when its RPL is `cpl` (SDM vol. 2, MOV / POP / RET / IRET
// 64-bit mode exceptions; vol. 3, 6.14.4).  `to64`: the code that will use
// the stack runs in 64-bit mode.
bool null_stack_allowed(const CpuState& s, uint16_t sel, unsigned cpl, bool to64);
// Such an SS: the selector as loaded (RPL = CPL), DPL = `cpl` since CPL is
// SS.DPL, and unusable outside 64-bit mode.
SegmentCache null_stack_segment(uint16_t sel, unsigned cpl);

// After RET or IRET to an outer level: DS, ES, FS and GS that hold a data or
// non-conforming code segment more privileged than the new CPL are nulled,
// so the outer level cannot keep using them (SDM vol. 2, "RET", "IRET").
void null_inaccessible_data_segments(CpuState& s);

}  // namespace vtlab
