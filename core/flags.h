// RFLAGS with lazily evaluated arithmetic flags: the one place that knows
// how CF/PF/AF/ZF/SF/OF come out of an operation.
//
// An ALU instruction records (operation, width, operands, result) instead
// of computing six flags it will usually never need; a later reader (Jcc,
// PUSHF, ADC, ...) derives the flag it asks for.  Operations whose flag
// rules are irregular (shifts, rotates, multiply, BCD) compute their flags
// eagerly and store them with set_arith().  Non-arithmetic flags (TF, IF,
// DF, IOPL, NT, RF, VM, AC, ID...) are always stored directly.
#pragma once

#include <cstdint>

namespace vtlab {

namespace flag {
inline constexpr uint32_t CF = 1u << 0, PF = 1u << 2, AF = 1u << 4, ZF = 1u << 6, SF = 1u << 7,
                          TF = 1u << 8, IF = 1u << 9, DF = 1u << 10, OF = 1u << 11,
                          IOPL = 3u << 12, NT = 1u << 14, RF = 1u << 16, VM = 1u << 17,
                          AC = 1u << 18, VIF = 1u << 19, VIP = 1u << 20, ID = 1u << 21;
inline constexpr uint32_t kArith = CF | PF | AF | ZF | SF | OF;
inline constexpr uint32_t kReserved1 = 1u << 1;  // bit 1 always reads as 1
inline constexpr unsigned kIoplShift = 12;
}  // namespace flag

// x86 condition codes in encoding order (the low nibble of Jcc/SETcc/CMOVcc).
enum Cond : uint8_t { O, NO, B, AE, E, NE, BE, A, S, NS, P, NP, L, GE, LE, G };

class Flags {
 public:
  enum class Op : uint8_t { Stored, Add, Adc, Sub, Sbb, Logic, Inc, Dec, Neg, Shl, Shr, Sar };

  // The full register, arithmetic flags evaluated.
  uint64_t bits() const {
    if (op_ == Op::Stored) return bits_;
    return (bits_ & ~uint64_t{flag::kArith}) | eval_arith();
  }
  // Replaces the whole register; the caller has already applied any
  // privilege masks (POPF/IRET rules live with those instructions).
  void set_bits(uint64_t v) {
    bits_ = (v | flag::kReserved1) & ~uint64_t{(1u << 3) | (1u << 5) | (1u << 15)};
    op_ = Op::Stored;
  }
  void materialize() { set_bits(bits()); }

  bool cf() const { return op_ == Op::Stored ? (bits_ & flag::CF) : eval_cf(); }
  bool zf() const { return op_ == Op::Stored ? (bits_ & flag::ZF) : r_ == 0; }
  bool sf() const { return op_ == Op::Stored ? (bits_ & flag::SF) : (r_ & sign_) != 0; }
  bool of() const { return op_ == Op::Stored ? (bits_ & flag::OF) : eval_of(); }
  bool pf() const { return op_ == Op::Stored ? (bits_ & flag::PF) : parity(r_); }
  bool af() const { return op_ == Op::Stored ? (bits_ & flag::AF) : eval_af(); }
  // Any single flag by mask (arith or not).
  // System flags (IF, TF, RF, ...) are always stored: testing them must not
  // evaluate the lazy arithmetic flags (the engine tests IF, TF and RF
  // between every two blocks).
  bool test(uint32_t f) const { return ((f & flag::kArith) ? bits() : bits_) & f; }

  // Condition `cc` (Jcc/SETcc/CMOVcc encoding); the template form lets a
  // handler bound to one condition test just that (Jcc binds one per cc).
  template <unsigned cc> bool cond() const { return cond_of<cc>(*this); }
  // The same right after recording operation `op` (a fused CMP/TEST and
  // Jcc, core/isa/fusion.h): with the operation known at compile time only
  // what the condition needs is computed.
  template <Op op, unsigned cc> bool cond_after() const { return cond_of<cc>(After<op>{*this}); }
  bool cond(unsigned cc) const {
    bool r;
    switch (cc >> 1) {
      case 0: r = of(); break;
      case 1: r = cf(); break;
      case 2: r = zf(); break;
      case 3: r = cf() || zf(); break;
      case 4: r = sf(); break;
      case 5: r = pf(); break;
      case 6: r = sf() != of(); break;
      default: r = zf() || (sf() != of()); break;
    }
    return r != (cc & 1);
  }

  // Sets or clears one or more flags, arithmetic or not.
  void set(uint32_t mask, bool on) {
    if (mask & flag::kArith) materialize();
    bits_ = on ? (bits_ | mask) : (bits_ & ~uint64_t{mask});
  }
  // Eagerly computed arithmetic flags: `arith` holds the new six flags.
  void set_arith(uint32_t arith) {
    bits_ = (bits_ & ~uint64_t{flag::kArith}) | (arith & flag::kArith);
    op_ = Op::Stored;
  }

  template <typename T> void set_add(T a, T b, T r) { record(Op::Add, a, b, r); }
  template <typename T> void set_adc(T a, T b, T r, bool cin) { record(Op::Adc, a, b, r, cin); }
  template <typename T> void set_sub(T a, T b, T r) { record(Op::Sub, a, b, r); }
  template <typename T> void set_sbb(T a, T b, T r, bool cin) { record(Op::Sbb, a, b, r, cin); }
  template <typename T> void set_logic(T r) { record(Op::Logic, T{0}, T{0}, r); }
  template <typename T> void set_neg(T a, T r) { record(Op::Neg, a, T{0}, r); }
  // SHL/SHR/SAR by a masked count 1..63 (a count of 0 changes no flag and
  // records nothing): `a` is the value shifted, `r` the result.
  template <typename T> void set_shift(Op op, T a, unsigned count, T r) { record(op, a, T(count), r); }
  // INC/DEC leave CF alone: keep the current CF stored before recording.
  template <typename T> void set_inc(T a, T r) { keep_cf(); record(Op::Inc, a, T{1}, r); }
  template <typename T> void set_dec(T a, T r) { keep_cf(); record(Op::Dec, a, T{1}, r); }

  static bool parity(uint64_t v) { return !__builtin_parity(static_cast<uint8_t>(v)); }

 private:
  // a_, b_ and r_ hold T values zero-extended, so no evaluation needs to
  // mask them to the width; sign_ is the width's sign bit.
  template <typename T> void record(Op op, T a, T b, T r, bool cin = false) {
    op_ = op;
    sign_ = uint64_t{1} << (sizeof(T) * 8 - 1);
    a_ = a;
    b_ = b;
    r_ = r;
    cin_ = cin;
  }
  void keep_cf() {
    bool c = cf();
    bits_ = (bits_ & ~uint64_t{flag::CF}) | (c ? flag::CF : 0);
  }

  // CF and OF of a recorded operation, one rule per operation.  The
  // shifts' rules (and their choices where the SDM says undefined: OF is
  // the first 1-bit step's, AF is 0) are docs/UNDEFINED_FLAGS.md's; b_ is
  // the count, and a bit past the width reads as 0 (a_ is zero-extended).
  template <Op op> bool cf_of() const {
    if constexpr (op == Op::Add) return r_ < a_;
    else if constexpr (op == Op::Adc) return cin_ ? r_ <= a_ : r_ < a_;
    else if constexpr (op == Op::Sub) return a_ < b_;
    else if constexpr (op == Op::Sbb) return cin_ ? a_ <= b_ : a_ < b_;
    else if constexpr (op == Op::Neg) return a_ != 0;
    else if constexpr (op == Op::Inc || op == Op::Dec) return bits_ & flag::CF;
    // The last bit shifted out: SHL's is 0 once the count passes the width,
    // SAR's the sign bit.
    else if constexpr (op == Op::Shl) return (uint64_t{1} << (b_ - 1)) <= sign_ && ((a_ << (b_ - 1)) & sign_);
    else if constexpr (op == Op::Shr) return (a_ >> (b_ - 1)) & 1;
    else if constexpr (op == Op::Sar)
      return (uint64_t{1} << (b_ - 1)) < sign_ ? (a_ >> (b_ - 1)) & 1 : (a_ & sign_) != 0;
    else return false;
  }
  template <Op op> bool of_of() const {
    if constexpr (op == Op::Add || op == Op::Adc) return ((a_ ^ r_) & (b_ ^ r_) & sign_) != 0;
    else if constexpr (op == Op::Sub || op == Op::Sbb) return ((a_ ^ b_) & (a_ ^ r_) & sign_) != 0;
    else if constexpr (op == Op::Inc) return r_ == sign_;
    else if constexpr (op == Op::Dec || op == Op::Neg) return a_ == sign_;
    else if constexpr (op == Op::Shl) return ((a_ ^ (a_ << 1)) & sign_) != 0;
    else if constexpr (op == Op::Shr) return (a_ & sign_) != 0;
    else return false;
  }
  bool eval_cf() const {
    switch (op_) {
      case Op::Add: return cf_of<Op::Add>();
      case Op::Adc: return cf_of<Op::Adc>();
      case Op::Sub: return cf_of<Op::Sub>();
      case Op::Sbb: return cf_of<Op::Sbb>();
      case Op::Neg: return cf_of<Op::Neg>();
      case Op::Inc:
      case Op::Dec: return cf_of<Op::Inc>();
      case Op::Shl: return cf_of<Op::Shl>();
      case Op::Shr: return cf_of<Op::Shr>();
      case Op::Sar: return cf_of<Op::Sar>();
      default: return false;
    }
  }
  bool eval_of() const {
    switch (op_) {
      case Op::Add:
      case Op::Adc: return of_of<Op::Add>();
      case Op::Sub:
      case Op::Sbb: return of_of<Op::Sub>();
      case Op::Inc: return of_of<Op::Inc>();
      case Op::Dec:
      case Op::Neg: return of_of<Op::Dec>();
      case Op::Shl: return of_of<Op::Shl>();
      case Op::Shr: return of_of<Op::Shr>();
      default: return false;
    }
  }
  // The flags of a recorded operation known at compile time (cond_after).
  template <Op op> struct After {
    const Flags& f;
    bool cf() const { return f.cf_of<op>(); }
    bool zf() const { return f.r_ == 0; }
    bool sf() const { return (f.r_ & f.sign_) != 0; }
    bool of() const { return f.of_of<op>(); }
    bool pf() const { return parity(f.r_); }
  };
  // Condition `cc` from any source of the five flags it may need.
  template <unsigned cc, typename F> static bool cond_of(const F& f) {
    bool r;
    if constexpr (cc >> 1 == 0) r = f.of();
    else if constexpr (cc >> 1 == 1) r = f.cf();
    else if constexpr (cc >> 1 == 2) r = f.zf();
    else if constexpr (cc >> 1 == 3) r = f.cf() || f.zf();
    else if constexpr (cc >> 1 == 4) r = f.sf();
    else if constexpr (cc >> 1 == 5) r = f.pf();
    else if constexpr (cc >> 1 == 6) r = f.sf() != f.of();
    else r = f.zf() || (f.sf() != f.of());
    return r != bool(cc & 1);
  }
  bool eval_af() const {
    // Logic ops and shifts leave AF undefined; Intel and AMD parts clear
    // it, as we do.
    if (op_ == Op::Logic || op_ >= Op::Shl) return false;
    return ((a_ ^ b_ ^ r_) & 0x10) != 0;
  }
  uint32_t eval_arith() const {
    uint32_t f = 0;
    if (eval_cf()) f |= flag::CF;
    if (parity(r_)) f |= flag::PF;
    if (eval_af()) f |= flag::AF;
    if (r_ == 0) f |= flag::ZF;
    if (r_ & sign_) f |= flag::SF;
    if (eval_of()) f |= flag::OF;
    return f;
  }

  uint64_t bits_ = flag::kReserved1;
  uint64_t a_ = 0, b_ = 0, r_ = 0, sign_ = uint64_t{1} << 31;
  Op op_ = Op::Stored;
  bool cin_ = false;
};

}  // namespace vtlab
