// Integer arithmetic and logic: ADD ADC SUB SBB CMP AND OR XOR TEST
// INC DEC NEG NOT (Intel SDM vol. 2).
//
// Every flag these instructions define is recorded lazily (core/flags.h);
// the one flag the SDM leaves undefined here, AF after AND/OR/XOR/TEST,
// reads as 0, as on the Intel parts we measured (docs/UNDEFINED_FLAGS.md).
//
// LOCK: the decoder (Zydis) already rejects a LOCK prefix on a register
// destination or on CMP/TEST, and vtlab turns that into #UD (SDM vol. 2,
// "LOCK": "#UD if the LOCK prefix is used with an instruction not listed
// or if the destination is not a memory operand").  A legal LOCK needs no
// work here: one interpreter thread makes every read-modify-write atomic.
#include <utility>

#include "core/isa/fusion.h"
#include "core/isa/operands.h"
#include "core/isa/registry.h"

namespace vtlab::isa {

namespace {

// --- the operations --------------------------------------------------------
// Each computes its result from (dest, source, CF before) and, separately,
// records its flags: flags are committed only once the destination has
// been written, so a faulting store leaves RFLAGS untouched.

struct Add {
  static constexpr Flags::Op kFlags = Flags::Op::Add;
  template <typename T> static T compute(T a, T b, bool) { return T(a + b); }
  template <typename T> static void flags(Flags& f, T a, T b, T r, bool) { f.set_add(a, b, r); }
};
struct Adc {
  template <typename T> static T compute(T a, T b, bool cf) { return T(a + b + cf); }
  template <typename T> static void flags(Flags& f, T a, T b, T r, bool cf) { f.set_adc(a, b, r, cf); }
};
struct Sub {
  static constexpr Flags::Op kFlags = Flags::Op::Sub;  // what flags() records
  template <typename T> static T compute(T a, T b, bool) { return T(a - b); }
  template <typename T> static void flags(Flags& f, T a, T b, T r, bool) { f.set_sub(a, b, r); }
};
struct Sbb {
  template <typename T> static T compute(T a, T b, bool cf) { return T(a - b - cf); }
  template <typename T> static void flags(Flags& f, T a, T b, T r, bool cf) { f.set_sbb(a, b, r, cf); }
};
struct And {
  static constexpr Flags::Op kFlags = Flags::Op::Logic;
  template <typename T> static T compute(T a, T b, bool) { return T(a & b); }
  template <typename T> static void flags(Flags& f, T, T, T r, bool) { f.set_logic(r); }
};
struct Or {
  static constexpr Flags::Op kFlags = Flags::Op::Logic;
  template <typename T> static T compute(T a, T b, bool) { return T(a | b); }
  template <typename T> static void flags(Flags& f, T, T, T r, bool) { f.set_logic(r); }
};
struct Xor {
  static constexpr Flags::Op kFlags = Flags::Op::Logic;
  template <typename T> static T compute(T a, T b, bool) { return T(a ^ b); }
  template <typename T> static void flags(Flags& f, T, T, T r, bool) { f.set_logic(r); }
};

// One-operand forms: the source slot is unused.
struct Inc {
  static constexpr Flags::Op kFlags = Flags::Op::Inc;
  template <typename T> static T compute(T a) { return T(a + 1); }
  template <typename T> static void flags(Flags& f, T a, T r) { f.set_inc(a, r); }
};
struct Dec {
  static constexpr Flags::Op kFlags = Flags::Op::Dec;
  template <typename T> static T compute(T a) { return T(a - 1); }
  template <typename T> static void flags(Flags& f, T a, T r) { f.set_dec(a, r); }
};
struct Neg {
  template <typename T> static T compute(T a) { return T(T{0} - a); }
  template <typename T> static void flags(Flags& f, T a, T r) { f.set_neg(a, r); }
};
struct Not {
  template <typename T> static T compute(T a) { return T(~a); }
  template <typename T> static void flags(Flags&, T, T) {}  // NOT affects no flags
};

// --- the operand shapes ------------------------------------------------------

// dest <- dest OP source (ADD r/m,reg; ADD reg,r/m; ADD r/m,imm; ADD AL,imm ...)
template <typename Op> struct Update {
  template <typename T, Form F0 = Form::Any, Form F1 = Form::Any> static Status run(Cpu& cpu, const DecodedInsn& i) {
    T a, b;
    TRY((read_rmw_as<T, F0>(cpu, i, a)));
    TRY((read_as<T, F1>(cpu, i, 1, b)));
    const bool cf = cpu.s.flags.cf();
    const T r = Op::compute(a, b, cf);
    TRY((write_as<T, F0>(cpu, i, 0, r)));
    Op::flags(cpu.s.flags, a, b, r, cf);
    return Status::Ok;
  }
};

// CMP and TEST: the flags of SUB and AND, with nothing written back.
template <typename Op> struct Compare {
  template <typename T, Form F0 = Form::Any, Form F1 = Form::Any> static Status run(Cpu& cpu, const DecodedInsn& i) {
    T a, b;
    TRY((read_as<T, F0>(cpu, i, 0, a)));
    TRY((read_as<T, F1>(cpu, i, 1, b)));
    Op::flags(cpu.s.flags, a, b, Op::compute(a, b, false), false);
    return Status::Ok;
  }
};

// dest <- OP dest (INC DEC NEG NOT)
template <typename Op> struct UpdateUnary {
  template <typename T, Form F0 = Form::Any, Form = Form::Any> static Status run(Cpu& cpu, const DecodedInsn& i) {
    T a;
    TRY((read_rmw_as<T, F0>(cpu, i, a)));
    const T r = Op::compute(a);
    TRY((write_as<T, F0>(cpu, i, 0, r)));
    Op::flags(cpu.s.flags, a, r);
    return Status::Ok;
  }
};

// --- fused with the Jcc after them (core/isa/fusion.h) -------------------

// An arithmetic instruction (Shape, recording Flags operation Op::kFlags)
// and the Jcc after it, run as one.  The record is the first
// instruction's; len covers both, jcc_* describe the branch.
template <typename Shape, typename Op, unsigned cc> struct WithJcc {
  template <typename T, Form F0, Form F1> static Status run(Cpu& cpu, const DecodedInsn& i) {
    TRY((Shape::template run<T, F0, F1>(cpu, i)));
    // The first instruction has retired.  If the run must end here, leave
    // with RIP at the Jcc (the engine counts the first).
    if (cpu.icount + 1 >= cpu.check_at) [[unlikely]] {
      cpu.next_rip -= i.jcc_len;
      return Status::Ok;
    }
    ++cpu.icount;
    if (!cpu.s.flags.template cond_after<Op::kFlags, cc>()) return Status::Ok;
    cpu.s.rip = cpu.next_rip - i.jcc_len;  // a #GP for the target is the Jcc's
    return jump_near(cpu, cpu.next_rip + static_cast<uint64_t>(int64_t{i.jcc_disp}), i.jcc_opsize);
  }
};

// The forms worth a fused handler: CMP and TEST of a register, a memory
// operand or an immediate, in bytes, dwords and qwords; ADD SUB AND OR XOR
// INC DEC of a dword or qword register (the loop counters).
template <typename Op, unsigned cc, typename T> Handler compare_jcc(const DecodedInsn& i) {
  using enum Form;
  using F = WithJcc<Compare<Op>, Op, cc>;
  const OpKind k0 = i.op[0].kind, k1 = i.op[1].kind;
  if (k0 == OpKind::Reg && k1 == OpKind::Reg) return &F::template run<T, Reg, Reg>;
  if (k0 == OpKind::Reg && k1 == OpKind::Imm) return &F::template run<T, Reg, Imm>;
  if (k0 == OpKind::Reg && k1 == OpKind::Mem) return &F::template run<T, Reg, Mem>;
  if (k0 == OpKind::Mem && k1 == OpKind::Reg) return &F::template run<T, Mem, Reg>;
  if (k0 == OpKind::Mem && k1 == OpKind::Imm) return &F::template run<T, Mem, Imm>;
  return nullptr;
}
template <typename Op, unsigned cc, typename T> Handler update_jcc(const DecodedInsn& i) {
  using enum Form;
  using F = WithJcc<Update<Op>, Op, cc>;
  if (i.op[0].kind != OpKind::Reg) return nullptr;
  if (i.op[1].kind == OpKind::Reg) return &F::template run<T, Reg, Reg>;
  if (i.op[1].kind == OpKind::Imm) return &F::template run<T, Reg, Imm>;
  return nullptr;
}
template <typename Op, unsigned cc, typename T> Handler unary_jcc(const DecodedInsn& i) {
  using F = WithJcc<UpdateUnary<Op>, Op, cc>;
  return i.op[0].kind == OpKind::Reg ? &F::template run<T, Form::Reg, Form::Any> : nullptr;
}

template <unsigned cc, typename T> Handler fused_jcc_sized(const DecodedInsn& i) {
  switch (i.mnemonic) {
    case ZYDIS_MNEMONIC_CMP: return compare_jcc<Sub, cc, T>(i);
    case ZYDIS_MNEMONIC_TEST: return compare_jcc<And, cc, T>(i);
    default: break;
  }
  if constexpr (sizeof(T) == 1) return nullptr;
  else {
    switch (i.mnemonic) {
      case ZYDIS_MNEMONIC_ADD: return update_jcc<Add, cc, T>(i);
      case ZYDIS_MNEMONIC_SUB: return update_jcc<Sub, cc, T>(i);
      case ZYDIS_MNEMONIC_AND: return update_jcc<And, cc, T>(i);
      case ZYDIS_MNEMONIC_OR: return update_jcc<Or, cc, T>(i);
      case ZYDIS_MNEMONIC_XOR: return update_jcc<Xor, cc, T>(i);
      case ZYDIS_MNEMONIC_INC: return unary_jcc<Inc, cc, T>(i);
      case ZYDIS_MNEMONIC_DEC: return unary_jcc<Dec, cc, T>(i);
      default: return nullptr;
    }
  }
}

template <unsigned cc> Handler fused_jcc(const DecodedInsn& i) {
  switch (i.op[0].size) {
    case 1: return fused_jcc_sized<cc, uint8_t>(i);
    case 4: return fused_jcc_sized<cc, uint32_t>(i);
    case 8: return fused_jcc_sized<cc, uint64_t>(i);
    default: return nullptr;
  }
}

template <unsigned... cc>
Handler fused_jcc_by_cond(const DecodedInsn& i, unsigned cond, std::integer_sequence<unsigned, cc...>) {
  Handler h = nullptr;
  ((cond == cc ? (h = fused_jcc<cc>(i), 0) : 0), ...);
  return h;
}

bool is_rm(const Operand& o) { return o.kind == OpKind::Reg || o.kind == OpKind::Mem; }
bool is_rmi(const Operand& o) { return is_rm(o) || o.kind == OpKind::Imm; }

template <typename Shape> Handler bind_binary(DecodedInsn& i, const ZydisDecodedInstruction&) {
  if (i.nops != 2 || !is_rm(i.op[0]) || !is_rmi(i.op[1])) return nullptr;
  return by_size_and_form<Shape>(i.op[0].size, i);
}

template <typename Op> Handler bind_unary(DecodedInsn& i, const ZydisDecodedInstruction&) {
  if (i.nops != 1 || !is_rm(i.op[0])) return nullptr;
  return by_size_and_form<UpdateUnary<Op>>(i.op[0].size, i);
}

}  // namespace

Handler bind_fused_jcc(const DecodedInsn& first, unsigned cc) {
  return fused_jcc_by_cond(first, cc, std::make_integer_sequence<unsigned, 16>{});
}

void register_alu(InsnTable& t) {
  t.add(ZYDIS_MNEMONIC_ADD, bind_binary<Update<Add>>);
  t.add(ZYDIS_MNEMONIC_ADC, bind_binary<Update<Adc>>);
  t.add(ZYDIS_MNEMONIC_SUB, bind_binary<Update<Sub>>);
  t.add(ZYDIS_MNEMONIC_SBB, bind_binary<Update<Sbb>>);
  t.add(ZYDIS_MNEMONIC_AND, bind_binary<Update<And>>);
  t.add(ZYDIS_MNEMONIC_OR, bind_binary<Update<Or>>);
  t.add(ZYDIS_MNEMONIC_XOR, bind_binary<Update<Xor>>);
  t.add(ZYDIS_MNEMONIC_CMP, bind_binary<Compare<Sub>>);
  t.add(ZYDIS_MNEMONIC_TEST, bind_binary<Compare<And>>);
  t.add(ZYDIS_MNEMONIC_INC, bind_unary<Inc>);
  t.add(ZYDIS_MNEMONIC_DEC, bind_unary<Dec>);
  t.add(ZYDIS_MNEMONIC_NEG, bind_unary<Neg>);
  t.add(ZYDIS_MNEMONIC_NOT, bind_unary<Not>);
}

}  // namespace vtlab::isa
