// Event delivery: exceptions, software interrupts (INT n, INT3, INTO) and
// external interrupts, through the IVT in real mode, the IDT in protected
// mode and the 16-byte IDT of IA-32e mode (64-bit gates, IST stacks, SDM
// vol. 3, 6.14), with the double-fault rules of table 6-5.
#pragma once

#include <cstdint>

#include "core/cpu.h"
#include "privilege/descriptors.h"

namespace vtlab {

// Delivers `ev`.  `return_rip` is what the handler returns to: the faulting
// instruction for faults, the next one for traps and INT n.  A fault raised
// while delivering is combined with `ev` per the SDM (benign / contributory
// / page fault classes): serially, as #DF, or, when #DF itself cannot be
// delivered, as a triple fault, which stops the machine with
// StopReason::Shutdown and a message naming the faults.
// Returns true when `ev` itself was delivered; false when a fault raised
// while delivering took its place (or the machine shut down), which matters
// for INT n: it retires only if its own delivery succeeds.
bool deliver_event(Cpu& cpu, const PendingEvent& ev, uint64_t return_rip);

// Whether an IDT entry is a gate delivery may use (SDM vol. 3, 6.11 and
// 6.14.1): interrupt, trap and task gates, or in IA-32e mode (`ia32e`)
// only the 64-bit interrupt and trap gates.
bool is_idt_gate(const Descriptor& g, bool ia32e);

// The classes of SDM vol. 3, table 6-5 ("Conditions for Generating a
// Double Fault"): a fault while delivering an event of class `first`
// becomes #DF when makes_double_fault(first, class of the fault); any
// other pair is handled serially.  Software and external interrupts are
// benign.
enum class FaultClass { Benign, Contributory, PageFault, DoubleFault };
FaultClass fault_class(const PendingEvent& ev);
bool makes_double_fault(FaultClass first, FaultClass second);
const char* fault_class_name(FaultClass c);

// Exception mnemonic ("#GP") for messages; "INT 0x30" style otherwise.
const char* vector_name(uint8_t vector);
// An event as messages name it: "#GP(0x0010)", "INT 0x21", "external
// interrupt 0x20" (for debuggers).
std::string event_text(const PendingEvent& ev);

}  // namespace vtlab
