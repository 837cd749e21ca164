// Instruction family: shift.
#include "core/isa/operands.h"
#include "core/isa/registry.h"

namespace vtlab::isa {

void register_shift(InsnTable&) {}

}  // namespace vtlab::isa
