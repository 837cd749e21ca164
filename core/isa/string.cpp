// Instruction family: string.
#include "core/isa/operands.h"
#include "core/isa/registry.h"

namespace vtlab::isa {

void register_string(InsnTable&) {}

}  // namespace vtlab::isa
