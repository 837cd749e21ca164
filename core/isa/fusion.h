// Instruction pairs run as one handler: a CMP or TEST and the Jcc right
// after it, the commonest pair in compiled code (Bochs and QEMU's TCG both
// special-case it; x86 cores fuse it in hardware).  Each pair saves one
// trip through the engine's per-instruction dispatch.
//
// Nothing a guest or a count can see changes: the pair still retires two
// instructions, the compare's flags are recorded as before, a fault in the
// compare leaves the Jcc unrun, and when the run must end between the two
// (budget, timer deadline, a device lowering Cpu::check_at, single-step,
// an interrupt shadow) the pair stops after the compare with RIP at the
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

// The fused handler for compare `cmp` (CMP or TEST, as decoded) followed by
// a Jcc with condition `cc`; nullptr for a form that is not fused.
Handler bind_compare_jcc(const DecodedInsn& cmp, unsigned cc);

}  // namespace vtlab::isa
