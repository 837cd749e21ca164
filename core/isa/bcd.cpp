// Instruction family: bcd.
#include "core/isa/operands.h"
#include "core/isa/registry.h"

namespace vtlab::isa {

void register_bcd(InsnTable&) {}

}  // namespace vtlab::isa
