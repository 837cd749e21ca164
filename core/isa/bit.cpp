// Instruction family: bit.
#include "core/isa/operands.h"
#include "core/isa/registry.h"

namespace vtlab::isa {

void register_bit(InsnTable&) {}

}  // namespace vtlab::isa
