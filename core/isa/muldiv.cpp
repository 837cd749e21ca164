// Multiply and divide: MUL, IMUL (one-, two- and three-operand forms),
// DIV, IDIV (Intel SDM vol. 2).
//
// Products and dividends are twice the operand width, so everything is
// worked in 128-bit integers, which makes the 64-bit forms no special case.
//
// Undefined flags (docs/UNDEFINED_FLAGS.md has the measurements):
//   - MUL/IMUL define only CF = OF; vtlab sets SF from the high bit and PF
//     from the low byte of the destination's low half, and clears ZF and
//     AF, as the Intel host does;
//   - DIV/IDIV leave all six flags undefined; the Intel host leaves them
//     unchanged, and so does vtlab.
#include "core/isa/operands.h"
#include "core/isa/registry.h"

namespace vtlab::isa {

namespace {

using u128 = unsigned __int128;
using i128 = __int128;

template <typename T> constexpr unsigned kBits = sizeof(T) * 8;

// Flags after a multiply whose (truncated) low half is `lo`; `overflow`
// is the SDM's "significant bits in the upper half".
template <typename T> uint32_t mul_flags(T lo, bool overflow) {
  return (overflow ? flag::CF | flag::OF : 0) | ((lo & sign_bit<T>()) ? flag::SF : 0) |
         (Flags::parity(lo) ? flag::PF : 0);
}

// The implicit accumulator pair: AX for byte forms (AL in, AH:AL out),
// rDX:rAX otherwise.
template <typename T> u128 read_acc_pair(const Cpu& cpu) {
  if constexpr (sizeof(T) == 1) return cpu.reg<uint16_t>(RAX);
  else return (u128{cpu.reg<T>(RDX)} << kBits<T>) | cpu.reg<T>(RAX);
}
template <typename T> void write_acc_pair(Cpu& cpu, T hi, T lo) {
  if constexpr (sizeof(T) == 1) {
    cpu.set_reg<uint8_t>(RAX, lo);
    cpu.set_reg<uint8_t>(kRegAH, hi);
  } else {
    cpu.set_reg<T>(RAX, lo);
    cpu.set_reg<T>(RDX, hi);
  }
}

// The accumulator pair as a signed 2w-bit number.
template <typename T> i128 sign_extend_pair(u128 v) {
  constexpr unsigned w2 = 2 * kBits<T>;
  if constexpr (w2 == 128) return static_cast<i128>(v);
  else return static_cast<i128>(v << (128 - w2)) >> (128 - w2);
}

// MUL r/m: rDX:rAX <- rAX * r/m (AX <- AL * r/m8).
struct MulAcc {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    T b;
    TRY(read_op<T>(cpu, i, 0, b));
    const u128 p = u128{cpu.reg<T>(RAX)} * b;
    const T lo = T(p), hi = T(p >> kBits<T>);
    write_acc_pair<T>(cpu, hi, lo);
    cpu.s.flags.set_arith(mul_flags(lo, hi != 0));
    return Status::Ok;
  }
};

// Signed product of two operands; overflow when it does not survive
// truncation to T (SDM: "TMP_XP != SignExtend(DEST)").
template <typename T> i128 signed_product(T a, T b) {
  return i128{static_cast<Signed<T>>(a)} * static_cast<Signed<T>>(b);
}
template <typename T> bool fits(i128 p) { return p == static_cast<Signed<T>>(T(p)); }

// IMUL r/m: rDX:rAX <- rAX * r/m, signed.
struct ImulAcc {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    T b;
    TRY(read_op<T>(cpu, i, 0, b));
    const i128 p = signed_product<T>(cpu.reg<T>(RAX), b);
    const T lo = T(p), hi = T(static_cast<u128>(p) >> kBits<T>);
    write_acc_pair<T>(cpu, hi, lo);
    cpu.s.flags.set_arith(mul_flags(lo, !fits<T>(p)));
    return Status::Ok;
  }
};

// IMUL reg, r/m (a = reg) and IMUL reg, r/m, imm (a = r/m, b = imm): the
// product truncated to the operand size.
struct ImulTruncated {
  template <typename T, Form = Form::Any, Form F1 = Form::Any> static Status run(Cpu& cpu, const DecodedInsn& i) {
    T a, b;
    if (i.nops == 3) {
      TRY((read_as<T, F1>(cpu, i, 1, a)));
      b = static_cast<T>(i.imm);
    } else {
      a = cpu.reg<T>(i.op[0].reg);
      TRY((read_as<T, F1>(cpu, i, 1, b)));
    }
    T lo;
    bool overflow;
    if constexpr (sizeof(T) < 8) {  // the exact product fits 64 bits
      const int64_t p = int64_t{static_cast<Signed<T>>(a)} * static_cast<Signed<T>>(b);
      lo = T(p);
      overflow = p != static_cast<Signed<T>>(lo);
    } else {
      const i128 p = signed_product<T>(a, b);
      lo = T(p);
      overflow = !fits<T>(p);
    }
    cpu.set_reg<T>(i.op[0].reg, lo);
    cpu.s.flags.set_arith(mul_flags(lo, overflow));
    return Status::Ok;
  }
};

// DIV r/m: rAX <- rDX:rAX / r/m, rDX <- remainder (AL, AH for bytes).
// #DE for a zero divisor or a quotient wider than the operand; nothing is
// written then.
struct DivAcc {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    T d;
    TRY(read_op<T>(cpu, i, 0, d));
    if (d == 0) return cpu.raise(vec::DE);
    const u128 n = read_acc_pair<T>(cpu);
    const u128 q = n / d;
    if (q >> kBits<T>) return cpu.raise(vec::DE);
    write_acc_pair<T>(cpu, T(n % d), T(q));
    return Status::Ok;
  }
};

// IDIV r/m: signed, quotient truncated toward zero, remainder with the
// dividend's sign.  Done on magnitudes, so that the most negative dividend
// (and INT_MIN / -1) need no special case and no signed overflow.
struct IdivAcc {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    T d;
    TRY(read_op<T>(cpu, i, 0, d));
    if (d == 0) return cpu.raise(vec::DE);
    const i128 n = sign_extend_pair<T>(read_acc_pair<T>(cpu));
    const bool n_neg = n < 0, d_neg = static_cast<Signed<T>>(d) < 0;
    const u128 n_mag = n_neg ? u128{0} - static_cast<u128>(n) : static_cast<u128>(n);
    const u128 d_mag = d_neg ? u128{T(T{0} - d)} : u128{d};
    const u128 q_mag = n_mag / d_mag, r_mag = n_mag % d_mag;
    // The quotient must lie in [-2^(w-1), 2^(w-1) - 1].
    const u128 limit = u128{sign_bit<T>()} - ((n_neg != d_neg) ? 0 : 1);
    if (q_mag > limit) return cpu.raise(vec::DE);
    const T q = (n_neg != d_neg) ? T(T{0} - T(q_mag)) : T(q_mag);
    const T r = n_neg ? T(T{0} - T(r_mag)) : T(r_mag);
    write_acc_pair<T>(cpu, r, q);
    return Status::Ok;
  }
};

bool is_rm(const Operand& o) { return o.kind == OpKind::Reg || o.kind == OpKind::Mem; }

template <typename Op> Handler bind_acc(DecodedInsn& i, const ZydisDecodedInstruction&) {
  if (i.nops != 1 || !is_rm(i.op[0])) return nullptr;
  return by_size<Op>(i.op[0].size);
}

Handler bind_imul(DecodedInsn& i, const ZydisDecodedInstruction& zi) {
  if (i.nops == 1) return bind_acc<ImulAcc>(i, zi);
  if (i.op[0].kind != OpKind::Reg || !is_rm(i.op[1])) return nullptr;
  if (i.nops == 3 && i.op[2].kind != OpKind::Imm) return nullptr;
  return i.op[0].size == 1 ? nullptr : by_size_and_form<ImulTruncated>(i.op[0].size, i);
}

}  // namespace

void register_muldiv(InsnTable& t) {
  t.add(ZYDIS_MNEMONIC_MUL, bind_acc<MulAcc>);
  t.add(ZYDIS_MNEMONIC_IMUL, bind_imul);
  t.add(ZYDIS_MNEMONIC_DIV, bind_acc<DivAcc>);
  t.add(ZYDIS_MNEMONIC_IDIV, bind_acc<IdivAcc>);
}

}  // namespace vtlab::isa
