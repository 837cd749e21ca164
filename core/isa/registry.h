// The instruction table: mnemonic -> binder, filled by one register_*()
// function per instruction family (alu.cpp, shift.cpp, ...).
//
// A binder runs once, at decode time: it looks at the operand form and width
// in the DecodedInsn and returns the exact handler instance for it (or
// nullptr for a form vtlab does not model, which the decoder reports as
// unsupported).  Handlers never re-examine the encoding.
#pragma once

#include <Zydis/Zydis.h>

#include <array>
#include <cstdint>

#include "core/decoded_insn.h"
#include "core/isa/operands.h"

namespace vtlab::isa {

namespace info {
inline constexpr uint8_t kEndsBlock = 1;   // next RIP or CPU mode may change
inline constexpr uint8_t kPrivileged = 2;  // #GP(0) unless CPL 0 (for trap/bt)
inline constexpr uint8_t kFarBranch = 4;   // far JMP/CALL/RET (the sensitivity table tells them from near ones)
// Near JMP/Jcc/CALL/RET/LOOP/JCXZ: they end a block but leave CS, CPL and
// the mode alone, so the engine may chain the next block without
// re-reading them (Interpreter::run_blocks).
inline constexpr uint8_t kNearBranch = 8;
// Jcc: a decoded block goes on past it (the not-taken path), so a loop
// with an early exit is one block, not two.
inline constexpr uint8_t kConditional = 16;
}  // namespace info

using Binder = Handler (*)(DecodedInsn& insn, const ZydisDecodedInstruction& zi);

struct InsnEntry {
  Binder bind = nullptr;
  uint8_t info = 0;
};

class InsnTable {
 public:
  void add(ZydisMnemonic m, Binder b, uint8_t info = 0) { entries_[m] = InsnEntry{b, info}; }
  const InsnEntry* find(ZydisMnemonic m) const {
    const InsnEntry& e = entries_[m];
    return e.bind ? &e : nullptr;
  }

 private:
  std::array<InsnEntry, ZYDIS_MNEMONIC_MAX_VALUE + 1> entries_{};
};

// Built once, on first use, from every family's register function.
const InsnTable& insn_table();

// One per family file; each adds the mnemonics its file implements.
void register_alu(InsnTable& t);
void register_shift(InsnTable& t);
void register_muldiv(InsnTable& t);
void register_bcd(InsnTable& t);
void register_bit(InsnTable& t);
void register_string(InsnTable& t);
void register_control(InsnTable& t);
void register_stack(InsnTable& t);
void register_data(InsnTable& t);
void register_flag_ctrl(InsnTable& t);
void register_io(InsnTable& t);
void register_system(InsnTable& t);
void register_model_specific(InsnTable& t);
void register_segment(InsnTable& t);
void register_protect_ctrl(InsnTable& t);
void register_fast_syscall(InsnTable& t);
void register_sse_move(InsnTable& t);
void register_sse_integer(InsnTable& t);
void register_sse_shuffle(InsnTable& t);
void register_sse_float(InsnTable& t);
void register_sse_convert(InsnTable& t);
void register_sse_control(InsnTable& t);
void register_fxsave(InsnTable& t);
void register_x87(InsnTable& t);

// Some mnemonics span two families: the owning binder hands these forms on.
// MOV Sreg,r/m and MOV r/m,Sreg (core/isa/segment.cpp)
Handler bind_mov_sreg(DecodedInsn& insn, const ZydisDecodedInstruction& zi);
// MOV to/from CRn and DRn (core/isa/system.cpp)
Handler bind_mov_creg(DecodedInsn& insn, const ZydisDecodedInstruction& zi);
// Far JMP/CALL/RET (core/isa/segment.cpp); near forms stay in control.cpp
Handler bind_far_transfer(DecodedInsn& insn, const ZydisDecodedInstruction& zi);
// MOVSD/CMPSD xmm forms (core/isa/sse_move.cpp, sse_float.cpp); string.cpp owns the mnemonics
Handler bind_sse_movsd(DecodedInsn& insn, const ZydisDecodedInstruction& zi);
Handler bind_sse_cmpsd(DecodedInsn& insn, const ZydisDecodedInstruction& zi);

// A binder for instructions with a single form: always handler H.
template <Handler H> Handler fixed(DecodedInsn&, const ZydisDecodedInstruction&) { return H; }

// Picks Op::run<T> for the operand size in bytes (1, 2, 4, 8).
template <typename Op> Handler by_size(unsigned size) {
  switch (size) {
    case 1: return &Op::template run<uint8_t>;
    case 2: return &Op::template run<uint16_t>;
    case 4: return &Op::template run<uint32_t>;
    case 8: return &Op::template run<uint64_t>;
    default: return nullptr;
  }
}
// Picks Op::run<T, F0, F1> for the forms of operands 0 and 1 (see Form in
// operands.h): register, memory or immediate, as decoded.  Shapes give F0
// and F1 defaults of Form::Any, which any other combination gets.
template <typename Op, typename T> Handler by_form(const DecodedInsn& i) {
  using enum Form;
  const OpKind k0 = i.op[0].kind, k1 = i.nops > 1 ? i.op[1].kind : OpKind::None;
  if (k0 == OpKind::Reg) {
    if (k1 == OpKind::Reg) return &Op::template run<T, Reg, Reg>;
    if (k1 == OpKind::Mem) return &Op::template run<T, Reg, Mem>;
    if (k1 == OpKind::Imm) return &Op::template run<T, Reg, Imm>;
    if (k1 == OpKind::None) return &Op::template run<T, Reg, Any>;
  } else if (k0 == OpKind::Mem) {
    if (k1 == OpKind::Reg) return &Op::template run<T, Mem, Reg>;
    if (k1 == OpKind::Imm) return &Op::template run<T, Mem, Imm>;
    if (k1 == OpKind::None) return &Op::template run<T, Mem, Any>;
  }
  return &Op::template run<T>;
}
template <typename Op> Handler by_size_and_form(unsigned size, const DecodedInsn& i) {
  switch (size) {
    case 1: return by_form<Op, uint8_t>(i);
    case 2: return by_form<Op, uint16_t>(i);
    case 4: return by_form<Op, uint32_t>(i);
    case 8: return by_form<Op, uint64_t>(i);
    default: return nullptr;
  }
}
// The same for instructions that have no byte form.
template <typename Op> Handler by_size_wdq(unsigned size) { return size == 1 ? nullptr : by_size<Op>(size); }

}  // namespace vtlab::isa
