// Hardware task switching (SDM vol. 3, 7.3 "Task Switching", table 7-1;
// vol. 2, the TASK-GATE / TASK-STATE-SEGMENT / TASK-RETURN pseudo-code of
// JMP, CALL, INT n and IRET).
//
// A switch saves the old task's dynamic state into its TSS and loads the
// new task's from its own.  Everything up to loading TR is checked (and
// every write to the TSSs and the GDT translated) before anything is
// written: a fault there leaves the old task as it was.  Loading TR is the
// commit point; the segment registers of the new task are checked after
// it, and their faults (#TS, #NP, #SS) are raised in the new task, with
// RIP already at the new task's EIP.  Only 32-bit TSSs are modelled: a
// 16-bit one, as old or new task, stops the machine as Unsupported, as does
// a switch into a virtual-8086 task.
#pragma once

#include <cstdint>

#include "core/cpu.h"
#include "privilege/descriptors.h"

namespace vtlab {

enum class TaskSwitchCause { Jmp, Call, Iret, Interrupt };

// Far JMP or CALL to a TSS descriptor (`sel` names it, `d` is what it
// names) or through a task gate; the old task resumes at cpu.next_rip.
Status jmp_call_to_tss(Cpu& cpu, TaskSwitchCause cause, uint16_t sel, const Descriptor& d);
Status jmp_call_through_task_gate(Cpu& cpu, TaskSwitchCause cause, uint16_t sel, const Descriptor& gate);

// IRET with EFLAGS.NT = 1: back to the task named by the current TSS's
// previous-task link.
Status task_return(Cpu& cpu);

// An exception or interrupt through a task gate in the IDT (its present
// and DPL checks already made).  `ext` carries EXT into error codes; an
// event with an error code pushes it on the new task's stack.  `committed`
// says, when an exception is returned, whether the switch got past its
// commit point: the fault then belongs to the new task, whose first
// instruction is at cpu.s.rip, and is not nested in `ev`.
Status interrupt_through_task_gate(Cpu& cpu, const PendingEvent& ev, const Descriptor& gate, bool ext,
                                   uint64_t return_eip, bool& committed);

}  // namespace vtlab
