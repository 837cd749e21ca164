// Instruction family: system.
#include "core/isa/operands.h"
#include "core/isa/registry.h"

namespace vtlab::isa {

Handler bind_mov_creg(DecodedInsn&, const ZydisDecodedInstruction&) { return nullptr; }

void register_system(InsnTable&) {}

}  // namespace vtlab::isa
