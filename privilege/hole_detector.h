// The hole detector's comparison: what one instruction did at ring 1 on
// the real state, against what it does on bare metal at the guest's own
// privilege level (a dry run on the virtual state, writing nothing).
//
// Both results are put in the guest's terms before they are compared: on
// the real side the interrupt flag and IOPL are the virtual ones the
// monitor holds (an instruction that did not trap cannot have changed
// them) and CS/SS at ring 1 read as the ring 0 the guest believes in.  So
// a difference is something the guest can see: a register, a flag, a
// stored value, a fault, or a change the monitor never heard of.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/cpu.h"

namespace vtlab {

struct InsnOutcome {
  bool faulted = false;
  uint8_t vector = 0;
  uint32_t error = 0;
  std::array<uint64_t, 8> gpr{};
  uint64_t rip = 0;
  uint32_t flags = 0;  // EFLAGS without IF, IOPL and RF
  bool interrupts = false;
  unsigned iopl = 0;
  std::array<uint16_t, kNumSegRegs> selectors{};
  std::vector<CapturedWrite> writes;
};

// The state after an instruction; `virtual_if`/`virtual_iopl` give the IF
// and IOPL the guest has (on bare metal: the registers themselves).
InsnOutcome observe(const CpuState& s, Status st, const PendingEvent& pending, uint64_t next_rip,
                    bool virtual_if, unsigned virtual_iopl);

// True when the guest can tell the two apart; then `observed` and
// `bare_metal` say how, item by item ("IF 1", "stored 0x0009 at 0x...").
bool describe_difference(const InsnOutcome& real, const InsnOutcome& bare, std::string& observed,
                         std::string& bare_metal);

}  // namespace vtlab
