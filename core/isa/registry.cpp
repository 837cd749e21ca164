#include "core/isa/registry.h"

namespace vtlab::isa {

const InsnTable& insn_table() {
  static const InsnTable table = [] {
    InsnTable t;
    register_alu(t);
    register_shift(t);
    register_muldiv(t);
    register_bcd(t);
    register_bit(t);
    register_string(t);
    register_control(t);
    register_stack(t);
    register_data(t);
    register_flag_ctrl(t);
    register_io(t);
    register_system(t);
    register_model_specific(t);
    register_segment(t);
    register_protect_ctrl(t);
    register_fast_syscall(t);
    register_sse_move(t);
    register_sse_integer(t);
    register_sse_shuffle(t);
    register_sse_float(t);
    register_sse_convert(t);
    register_sse_control(t);
    register_fxsave(t);
    register_x87(t);
    return t;
  }();
  return table;
}

}  // namespace vtlab::isa
