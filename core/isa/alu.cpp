// Instruction family: alu.
#include "core/isa/operands.h"
#include "core/isa/registry.h"

namespace vtlab::isa {

void register_alu(InsnTable&) {}

}  // namespace vtlab::isa
