// Instruction family: stack.
#include "core/isa/operands.h"
#include "core/isa/registry.h"

namespace vtlab::isa {

void register_stack(InsnTable&) {}

}  // namespace vtlab::isa
