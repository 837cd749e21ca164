// Why events went wrong, in words and with the state that proves it: the
// chain of a triple fault (or of a double fault the guest survived), why
// each fault during delivery happened (the IDT entry beyond the limit, the
// gate not present, the descriptor that failed which check, the page walk
// that refused the access), and why the chain escalated (the classes of
// SDM vol. 3, table 6-5).  Read-only: everything comes from the machine as
// it stands, which for a fault during delivery is the state the fault found
// (delivery commits nothing before its last check).
#pragma once

#include <string>
#include <vector>

#include "core/cpu.h"
#include "core/machine.h"

namespace vtlab {

// The whole chain, one numbered step per event, then the registers.
// `shutdown`: the chain ended in a triple fault (Cpu::shutdown_chain);
// otherwise it ended with a #DF the guest's handler received
// (Cpu::last_double_fault).  Empty for an empty chain.
std::string explain_fault_chain(Machine& m, const std::vector<ChainedEvent>& chain, bool shutdown);

// Why delivering `delivering` raised `fault`, judged from the tables as
// they are now: one sentence (two for a page walk's table).
std::string explain_delivery_fault(Machine& m, const PendingEvent& delivering, const ChainedEvent& fault);

// A segment or gate check's refusal (core/segment_fault.h), two lines: the
// selector (table, index, RPL) with its descriptor decoded, then the check
// that failed and the rule it enforces.
std::string explain_segment_refusal(const SegmentFaultWhy& why, bool ia32e);

// The fault an instruction raised, just delivered (a debugger's catch):
// the segment check's refusal when one raised it (Cpu::segment_refusal),
// otherwise as explain_delivery_fault judges it from the tables.
std::string explain_raised_fault(Machine& m, const PendingEvent& fault);

// Everything the machine can explain now, for the GUI's fault panel: the
// triple fault's chain (if it shut down), the last double fault the guest
// survived, and the last segment or gate check that refused, with the
// instruction count it happened at.  "" when there is none.
std::string explain_machine_faults(Machine& m);

// A #PF at `cr2` with `error`, as the walk table of mmu/walk_explain.h:
// each level's entry and the verdict.
std::string explain_page_fault(Machine& m, uint64_t cr2, uint32_t error);

}  // namespace vtlab
