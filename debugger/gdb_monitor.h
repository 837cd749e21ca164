// gdb's `monitor` commands (the GDB manual, "General Query Packets":
// qRcmd): what gdb has no command for, from the same views and the same
// text as `vtlab debug` (text_views.h).  The stub hex-decodes the command,
// runs it here and sends the output back as O packets.
//
//   help                        the list below
//   mode                        the CPU mode, CS:IP and how gdb's pc maps to it
//   xp ADDR [LEN]               LEN bytes (16; at most 4096) of physical memory
//   setp ADDR HEXBYTES...       write bytes to physical memory (RAM only)
//   translate LIN [r|w|x] [user]  linear -> physical, the page walk level by level
//   gdt [FIRST [COUNT]]         GDT entries decoded
//   idt [FIRST [COUNT]]         IDT entries (the IVT in real mode)
//   tss                         the TSS that TR names
//   tlb                         the TLB's valid entries
//   exits                       the monitor's exits per reason
//   why                         the fault chain of a shutdown or the last double fault
#pragma once

#include <string>
#include <string_view>

#include "debugger/debugger.h"
#include "debugger/gdb_registers.h"

namespace vtlab::gdb {

// Runs one command line; its output, or one "error: ..." line.
// `described` is the description gdb last read, `wanted` the one the
// CPU's mode calls for (they differ until gdb reads it again).
std::string monitor_command(Debugger& d, std::string_view line, Arch described, Arch wanted);

}  // namespace vtlab::gdb
