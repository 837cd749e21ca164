// Instruction family: muldiv.
#include "core/isa/operands.h"
#include "core/isa/registry.h"

namespace vtlab::isa {

void register_muldiv(InsnTable&) {}

}  // namespace vtlab::isa
