// Shifts and rotates: SHL/SAL SHR SAR ROL ROR RCL RCR SHLD SHRD
// (Intel SDM vol. 2, "SAL/SAR/SHL/SHR", "RCL/RCR/ROL/ROR", "SHLD", "SHRD").
//
// SHL, SHR and SAR record their flags lazily (Flags::set_shift: the rules
// live in core/flags.h); the rotates and double shifts compute theirs
// eagerly and store them with Flags::set_arith.  Where the SDM says
// "undefined", vtlab returns what the Intel host it was developed on
// returns; docs/UNDEFINED_FLAGS.md lists each case and how it was
// measured.  In short:
//   - OF for counts other than 1 is the OF of the first 1-bit step, so one
//     formula serves every count (SAR: always 0), except that ROL and ROR
//     of a register by an immediate count leave OF unchanged (with a memory
//     destination they too take the first step's OF);
//   - AF after a shift by a non-zero count is 0;
//   - a 16-bit SHLD/SHRD by 17..31 shifts through dest:src:dest.
//
// A count that masks to 0 changes nothing, not even the flags, yet a
// memory destination is still written back unchanged: the Intel host
// faults on a read-only page even then (measured), so the store's checks
// must run.
#include "core/isa/operands.h"
#include "core/isa/registry.h"

namespace vtlab::isa {

namespace {

using u128 = unsigned __int128;

template <typename T> constexpr unsigned kBits = sizeof(T) * 8;
// The count is masked to 5 bits, or 6 for a 64-bit operand.
template <typename T> constexpr unsigned kCountMask = sizeof(T) == 8 ? 0x3F : 0x1F;

// Bit n of v; false past the top, so callers need not guard the count.
template <typename T> bool bit(T v, unsigned n) { return n < kBits<T> && ((v >> n) & 1); }
template <typename T> bool msb(T v) { return bit(v, kBits<T> - 1); }

uint32_t cf_of(bool cf, bool of) { return (cf ? flag::CF : 0) | (of ? flag::OF : 0); }

template <typename T> struct Out {
  T r;
  uint32_t flags;  // the six arithmetic flags after the instruction
};

// The plain shifts: (dest, masked count 1..63) -> result; their flags are
// recorded as Flags operation kFlags.

struct Shl {
  static constexpr Flags::Op kFlags = Flags::Op::Shl;
  template <typename T> static T result(T a, unsigned c) { return c < kBits<T> ? T(a << c) : T{0}; }
};

struct Shr {
  static constexpr Flags::Op kFlags = Flags::Op::Shr;
  template <typename T> static T result(T a, unsigned c) { return c < kBits<T> ? T(a >> c) : T{0}; }
};

struct Sar {
  static constexpr Flags::Op kFlags = Flags::Op::Sar;
  template <typename T> static T result(T a, unsigned c) {
    constexpr unsigned w = kBits<T>;
    return T(static_cast<Signed<T>>(a) >> (c < w ? c : w - 1));
  }
};

// The rotates and double shifts: (dest, masked count 1..63, flags before)
// -> result, flags.

// Rotates change only CF and OF; SF ZF AF PF keep their values.
constexpr uint32_t kKeptByRotate = flag::SF | flag::ZF | flag::AF | flag::PF;

struct Rol {
  template <typename T> static Out<T> apply(T a, unsigned c, uint32_t old) {
    constexpr unsigned w = kBits<T>;
    const unsigned k = c % w;
    const T r = k ? T((a << k) | (a >> (w - k))) : a;
    // CF is the bit that came round into bit 0, even when k is 0 (ROL r8,8).
    return {r, (old & kKeptByRotate) | cf_of(r & 1, msb(a) != bit(a, w - 2))};
  }
};

struct Ror {
  template <typename T> static Out<T> apply(T a, unsigned c, uint32_t old) {
    constexpr unsigned w = kBits<T>;
    const unsigned k = c % w;
    const T r = k ? T((a >> k) | (a << (w - k))) : a;
    return {r, (old & kKeptByRotate) | cf_of(msb(r), msb(a) != (a & 1))};
  }
};

// ROL/ROR of a register by an immediate count other than 1 leave OF as it
// was: the Intel host does so (measured), while by CL, or with a memory
// destination (measured against the silicon by tests/fuzz/kvm_diff64: 548
// of 548 cases), it computes OF as above.  The form is known at decode
// time, so the binder picks this wrapper.
template <typename Rotate> struct RotateByImmediate {
  template <typename T> static Out<T> apply(T a, unsigned c, uint32_t old) {
    Out<T> o = Rotate::apply(a, c, old);
    if (c != 1) o.flags = (o.flags & ~flag::OF) | (old & flag::OF);
    return o;
  }
};

// RCL/RCR rotate the (width + 1)-bit value CF:dest; 8- and 16-bit forms
// take the masked count modulo 9 or 17.
template <typename T> u128 with_carry(T a, bool cf) { return (u128{cf} << kBits<T>) | a; }

struct Rcl {
  template <typename T> static Out<T> apply(T a, unsigned c, uint32_t old) {
    constexpr unsigned n = kBits<T> + 1;
    const bool cf_in = old & flag::CF;
    const unsigned k = c % n;
    if (k == 0) return {a, old};  // RCL r8,9 and the like: not even OF changes (measured)
    const u128 v = with_carry(a, cf_in);
    const u128 rot = (v << k) | (v >> (n - k));
    const bool cf = (rot >> kBits<T>) & 1;
    return {T(rot), (old & kKeptByRotate) | cf_of(cf, msb(a) != bit(a, kBits<T> - 2))};
  }
};

struct Rcr {
  template <typename T> static Out<T> apply(T a, unsigned c, uint32_t old) {
    constexpr unsigned n = kBits<T> + 1;
    const bool cf_in = old & flag::CF;
    const unsigned k = c % n;
    if (k == 0) return {a, old};
    const u128 v = with_carry(a, cf_in);
    const u128 rot = (v >> k) | (v << (n - k));
    const bool cf = (rot >> kBits<T>) & 1;
    return {T(rot), (old & kKeptByRotate) | cf_of(cf, msb(a) != cf_in)};
  }
};

// --- SHLD / SHRD ---------------------------------------------------------
// Bits enter the destination from the source.  A 16-bit operand with a
// count of 17..31 has an undefined result; Intel hardware (measured) then
// shifts through the 48-bit string dest:src:dest, which for counts up to
// 16 is the same as the defined dest:src, so one model covers all counts.

struct Shld {
  template <typename T> static Out<T> apply(T a, T b, unsigned c) {
    constexpr unsigned w = kBits<T>;
    T r;
    bool cf;
    if constexpr (w == 16) {
      const uint64_t x = (uint64_t{a} << 32) | (uint64_t{b} << 16) | a;
      r = T(x >> (32 - c));
      cf = (x >> (48 - c)) & 1;
    } else {
      r = T((a << c) | (b >> (w - c)));
      cf = bit(a, w - c);
    }
    return {r, szp_flags(r) | cf_of(cf, msb(a) != bit(a, w - 2))};
  }
};

struct Shrd {
  template <typename T> static Out<T> apply(T a, T b, unsigned c) {
    constexpr unsigned w = kBits<T>;
    T r;
    bool cf;
    if constexpr (w == 16) {
      const uint64_t x = (uint64_t{a} << 32) | (uint64_t{b} << 16) | a;
      r = T(x >> c);
      cf = (x >> (c - 1)) & 1;
    } else {
      r = T((a >> c) | (b << (w - c)));
      cf = bit(a, c - 1);
    }
    return {r, szp_flags(r) | cf_of(cf, msb(a) != (b & 1))};
  }
};

// --- the handlers ------------------------------------------------------------

// SHL r/m,1 / r/m,CL / r/m,imm8 and the rotates.
template <typename Op> constexpr bool kLazyFlags = requires { Op::kFlags; };

template <typename Op> struct ShiftBy {
  template <typename T, Form F0 = Form::Any, Form F1 = Form::Any> static Status run(Cpu& cpu, const DecodedInsn& i) {
    T a;
    uint8_t count;
    TRY((read_rmw_as<T, F0>(cpu, i, a)));
    TRY((read_as<uint8_t, F1>(cpu, i, 1, count)));
    const unsigned c = count & kCountMask<T>;
    if (c == 0) return write_as<T, F0>(cpu, i, 0, a);  // the store's checks still run
    if constexpr (kLazyFlags<Op>) {
      const T r = Op::template result<T>(a, c);
      TRY((write_as<T, F0>(cpu, i, 0, r)));
      cpu.s.flags.set_shift(Op::kFlags, a, c, r);
    } else {
      // Rotates keep some flags, so they need the old ones evaluated.
      const Out<T> o = Op::apply(a, c, static_cast<uint32_t>(cpu.s.flags.bits()));
      TRY((write_as<T, F0>(cpu, i, 0, o.r)));
      cpu.s.flags.set_arith(o.flags);
    }
    return Status::Ok;
  }
};

// SHLD/SHRD r/m, reg, imm8 or CL.
template <typename Op> struct DoubleShift {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    T a, b;
    uint8_t count;
    TRY(read_rmw<T>(cpu, i, a));
    TRY(read_op<T>(cpu, i, 1, b));
    TRY(read_op<uint8_t>(cpu, i, 2, count));
    const unsigned c = count & kCountMask<T>;
    if (c == 0) return write_op<T>(cpu, i, 0, a);
    const Out<T> o = Op::apply(a, b, c);
    TRY(write_op<T>(cpu, i, 0, o.r));
    cpu.s.flags.set_arith(o.flags);
    return Status::Ok;
  }
};

bool is_rm(const Operand& o) { return o.kind == OpKind::Reg || o.kind == OpKind::Mem; }
bool is_count(const Operand& o) { return o.kind == OpKind::Imm || (o.kind == OpKind::Reg && o.reg == RCX); }

template <typename Op> Handler bind_shift(DecodedInsn& i, const ZydisDecodedInstruction&) {
  if (i.nops != 2 || !is_rm(i.op[0]) || !is_count(i.op[1])) return nullptr;
  return by_size_and_form<ShiftBy<Op>>(i.op[0].size, i);
}

template <typename Op> Handler bind_rotate(DecodedInsn& i, const ZydisDecodedInstruction& zi) {
  if (i.nops == 2 && i.op[0].kind == OpKind::Reg && i.op[1].kind == OpKind::Imm)
    return by_size_and_form<ShiftBy<RotateByImmediate<Op>>>(i.op[0].size, i);
  return bind_shift<Op>(i, zi);
}

template <typename Op> Handler bind_double_shift(DecodedInsn& i, const ZydisDecodedInstruction&) {
  if (i.nops != 3 || !is_rm(i.op[0]) || i.op[1].kind != OpKind::Reg || !is_count(i.op[2])) return nullptr;
  return by_size_wdq<DoubleShift<Op>>(i.op[0].size);
}

}  // namespace

void register_shift(InsnTable& t) {
  t.add(ZYDIS_MNEMONIC_SHL, bind_shift<Shl>);  // SAL too, and the /6 alias of /4
  t.add(ZYDIS_MNEMONIC_SHR, bind_shift<Shr>);
  t.add(ZYDIS_MNEMONIC_SAR, bind_shift<Sar>);
  t.add(ZYDIS_MNEMONIC_ROL, bind_rotate<Rol>);
  t.add(ZYDIS_MNEMONIC_ROR, bind_rotate<Ror>);
  t.add(ZYDIS_MNEMONIC_RCL, bind_shift<Rcl>);
  t.add(ZYDIS_MNEMONIC_RCR, bind_shift<Rcr>);
  t.add(ZYDIS_MNEMONIC_SHLD, bind_double_shift<Shld>);
  t.add(ZYDIS_MNEMONIC_SHRD, bind_double_shift<Shrd>);
}

}  // namespace vtlab::isa
