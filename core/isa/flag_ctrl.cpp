// Instruction family: flag_ctrl.
#include "core/isa/operands.h"
#include "core/isa/registry.h"

namespace vtlab::isa {

void register_flag_ctrl(InsnTable&) {}

}  // namespace vtlab::isa
