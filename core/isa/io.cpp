// Instruction family: io.
#include "core/isa/operands.h"
#include "core/isa/registry.h"

namespace vtlab::isa {

void register_io(InsnTable&) {}

}  // namespace vtlab::isa
