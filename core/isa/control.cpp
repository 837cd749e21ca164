// Instruction family: control.
#include "core/isa/operands.h"
#include "core/isa/registry.h"

namespace vtlab::isa {

void register_control(InsnTable&) {}

}  // namespace vtlab::isa
