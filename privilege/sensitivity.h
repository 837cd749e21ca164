// What an instruction is in Popek & Goldberg's terms ("Formal Requirements
// for Virtualizable Third Generation Architectures", CACM 17(7), 1974), for
// an x86 guest kernel deprivileged to ring 1 by a trap-and-emulate monitor.
// The x86 cases follow Robin & Irvine ("Analysis of the Intel Pentium's
// Ability to Support a Secure Virtual Machine Monitor", USENIX Security
// 2000) and the SDM vol. 2 page of each instruction; docs/SENSITIVITY.md is
// the same table written for students.
//
// One table for every consumer: the trap monitor (is this #GP an
// instruction to emulate?), the hole detector, the binary translator (what
// must be rewritten?), the debugger and the GUI.  classify() is a switch on
// the mnemonic plus, where the answer depends on it, the operand form; it
// never allocates, so it can run at decode time.
#pragma once

#include <string_view>

#include "core/decoded_insn.h"
#include "core/exits.h"

namespace vtlab {

enum class Sensitivity : uint8_t {
  // Not sensitive: the same result at every CPL, and nothing it reads or
  // changes is state the monitor virtualizes.
  Innocuous,
  // #GP(0) whenever CPL > 0: a deprivileged kernel traps every time, so
  // the monitor sees and emulates each one.  (RDTSC only while CR4.TSD is
  // set: with it clear it runs anywhere and reads the same clock.)
  Privileged,
  // #GP(0) when CPL > IOPL (for port I/O: unless the TSS I/O bitmap allows
  // the port).  A monitor that keeps the real IOPL at 0 and the bitmap
  // full sees every one from ring 1, as if they were privileged.
  IoplSensitive,
  // Sensitive but not privileged, a virtualization hole: it runs at ring 1
  // without trapping and its result differs from what the guest kernel
  // would get at ring 0 (or it reveals state the monitor owns).  For the
  // segment-register loads and far returns the difference is a fault that
  // bare metal would not raise.
  Hole,
};

struct SensitivityInfo {
  Sensitivity kind;
  std::string_view what;  // one sentence for a student; static storage
};

SensitivityInfo classify(const DecodedInsn& insn);

// IN, OUT, INS, OUTS: the instructions whose exit is `io`.
bool is_port_io(const DecodedInsn& insn);

// The instruction's form as the exit log names it: "MOV to CR3", "MOV
// from DR7", "MOV to DS", "OUT", "CLI".  Static storage.
std::string_view insn_form(const DecodedInsn& insn);
// What a hole does wrong at the deprivileged ring, in a few words ("silently
// drops IF"); "" for an instruction that is no hole.  Static storage.
std::string_view hole_effect(const DecodedInsn& insn);

// Why `insn` faulted at real CPL `cpl` under IOPL `iopl` and the monitor
// emulated it (trap): the rule of this table that made it trap.  `port`
// for port I/O.
ExitCause deprivileged_cause(const DecodedInsn& insn, unsigned cpl, unsigned iopl, uint16_t port);
// Why bt's translation of `insn` calls the monitor (a callout).
ExitCause callout_cause(const DecodedInsn& insn, unsigned cpl, unsigned iopl);

// "innocuous", "privileged", "iopl-sensitive", "hole".
std::string_view sensitivity_name(Sensitivity s);

}  // namespace vtlab
