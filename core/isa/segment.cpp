// Instruction family: segment registers and far transfers.
#include "core/isa/operands.h"
#include "core/isa/registry.h"

namespace vtlab::isa {

Handler bind_mov_sreg(DecodedInsn&, const ZydisDecodedInstruction&) { return nullptr; }
Handler bind_far_transfer(DecodedInsn&, const ZydisDecodedInstruction&) { return nullptr; }

void register_segment(InsnTable&) {}

}  // namespace vtlab::isa
