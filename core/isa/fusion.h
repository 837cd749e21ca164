// Instruction pairs run as one handler: a CMP or TEST, or an ADD SUB AND
// OR XOR INC DEC of a register, and the Jcc right after it, the commonest
// pairs in compiled code (x86 cores fuse them in hardware).  Each pair
// saves one trip through the engine's per-instruction dispatch.
//
// Nothing a guest or a count can see changes: the pair still retires two
// instructions, the first instruction's flags are recorded as before, a fault in
// it leaves the Jcc unrun, and when the run must end between the two
// (budget, timer deadline, a device lowering Cpu::check_at, single-step,
// an interrupt shadow) the pair stops after the first with RIP at the
// Jcc, which then runs from a block of its own.
#pragma once

#include <cstdint>
#include <vector>

#include "core/decoded_insn.h"

namespace vtlab::isa {

// Fuses the pairs of a freshly decoded block in place (after a monitor's
// Monitor::on_block: records a monitor replaced are left alone).  `ip` is
// the first instruction's IP and `ip_mask` the code size's IP mask: a pair
// whose IP wraps is not fused.
void fuse_pairs(std::vector<DecodedInsn>& insns, uint64_t ip, uint64_t ip_mask);

// The fused handler for `first` (as decoded) followed by a Jcc with
// condition `cc`; nullptr for an instruction or form that is not fused
// (core/isa/alu.cpp lists them).
Handler bind_fused_jcc(const DecodedInsn& first, unsigned cc);

}  // namespace vtlab::isa
