// Bit test and scan: BT BTS BTR BTC BSF BSR (Intel SDM vol. 2).
//
// Undefined flags (docs/UNDEFINED_FLAGS.md has the measurements):
//   - BT/BTS/BTR/BTC define CF and leave ZF alone; OF SF AF PF are
//     undefined, and vtlab leaves them unchanged, as the Intel host does;
//   - BSF/BSR define ZF; of CF OF SF AF PF, the Intel host clears all but
//     PF, which is the parity of the index found.  A zero source leaves the
//     destination unchanged, even a 32-bit one in 64-bit mode (the host
//     does so; AMD documents the unchanged destination).
#include "core/isa/operands.h"
#include "core/isa/registry.h"

namespace vtlab::isa {

namespace {

template <typename T> constexpr unsigned kBits = sizeof(T) * 8;
template <typename T> constexpr unsigned kLog2Bits = sizeof(T) == 2 ? 4 : (sizeof(T) == 4 ? 5 : 6);

// What each instruction does to the selected bit.
struct Test {
  static constexpr bool kWrites = false;
  template <typename T> static T apply(T v, T) { return v; }
};
struct Set {
  static constexpr bool kWrites = true;
  template <typename T> static T apply(T v, T m) { return T(v | m); }
};
struct Reset {
  static constexpr bool kWrites = true;
  template <typename T> static T apply(T v, T m) { return T(v & ~m); }
};
struct Complement {
  static constexpr bool kWrites = true;
  template <typename T> static T apply(T v, T m) { return T(v ^ m); }
};

// CF <- the selected bit; every other flag keeps its value.
void set_cf_only(Flags& f, bool cf) {
  const uint32_t old = static_cast<uint32_t>(f.bits()) & flag::kArith;
  f.set_arith((old & ~flag::CF) | (cf ? flag::CF : 0));
}

// BTx r/m, reg and BTx r/m, imm8.
//
// A register destination, or an immediate offset, selects a bit inside
// the operand (offset modulo the width).  A register offset with a memory
// destination is a signed bit index from the operand's address, the "bit
// base" (SDM vol. 2, BT): the operand-sized unit at
// EA + size * (offset SAR log2(width)) is the one accessed.
template <typename Op> struct BitOp {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    T offset;
    TRY(read_op<T>(cpu, i, 1, offset));
    const T mask = T(T{1} << (offset & (kBits<T> - 1)));
    if (i.op[0].kind == OpKind::Reg) {
      const T v = cpu.reg<T>(i.op[0].reg);
      if constexpr (Op::kWrites) cpu.set_reg<T>(i.op[0].reg, Op::apply(v, mask));
      set_cf_only(cpu.s.flags, v & mask);
      return Status::Ok;
    }
    uint64_t ea = effective_address(cpu, i);
    if (i.op[1].kind == OpKind::Reg) {
      const int64_t unit = static_cast<int64_t>(static_cast<Signed<T>>(offset)) >> kLog2Bits<T>;
      ea = (ea + static_cast<uint64_t>(unit) * sizeof(T)) & all_ones(i.addrsize);
    }
    if constexpr (Op::kWrites) TRY(cpu.check_segment(i.mem.seg, ea, sizeof(T), Access::Write));
    T v;
    TRY(cpu.read<T>(i.mem.seg, ea, v));
    if constexpr (Op::kWrites) TRY(cpu.write<T>(i.mem.seg, ea, Op::apply(v, mask)));
    set_cf_only(cpu.s.flags, v & mask);
    return Status::Ok;
  }
};

// BSF/BSR reg, r/m: index of the lowest / highest set bit.  Flags as the
// Intel host sets them: ZF says whether the source was zero, PF is the
// parity of the index (of 0 for a zero source), CF OF SF AF are cleared.
template <bool kReverse> struct BitScan {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    T src;
    TRY(read_op<T>(cpu, i, 1, src));
    const uint64_t v = src;
    unsigned index = 0;
    if (v != 0) index = kReverse ? 63u - unsigned(__builtin_clzll(v)) : unsigned(__builtin_ctzll(v));
    // A zero source leaves the destination untouched, not even zero-extended.
    if (v != 0) cpu.set_reg<T>(i.op[0].reg, T(index));
    cpu.s.flags.set_arith((v == 0 ? flag::ZF : 0) | (Flags::parity(index) ? flag::PF : 0));
    return Status::Ok;
  }
};

bool is_rm(const Operand& o) { return o.kind == OpKind::Reg || o.kind == OpKind::Mem; }

template <typename Op> Handler bind_bit_op(DecodedInsn& i, const ZydisDecodedInstruction&) {
  if (i.nops != 2 || !is_rm(i.op[0])) return nullptr;
  if (i.op[1].kind != OpKind::Reg && i.op[1].kind != OpKind::Imm) return nullptr;
  return by_size_wdq<BitOp<Op>>(i.op[0].size);
}

template <bool kReverse> Handler bind_bit_scan(DecodedInsn& i, const ZydisDecodedInstruction&) {
  if (i.nops != 2 || i.op[0].kind != OpKind::Reg || !is_rm(i.op[1])) return nullptr;
  return by_size_wdq<BitScan<kReverse>>(i.op[0].size);
}

}  // namespace

void register_bit(InsnTable& t) {
  t.add(ZYDIS_MNEMONIC_BT, bind_bit_op<Test>);
  t.add(ZYDIS_MNEMONIC_BTS, bind_bit_op<Set>);
  t.add(ZYDIS_MNEMONIC_BTR, bind_bit_op<Reset>);
  t.add(ZYDIS_MNEMONIC_BTC, bind_bit_op<Complement>);
  t.add(ZYDIS_MNEMONIC_BSF, bind_bit_scan<false>);
  t.add(ZYDIS_MNEMONIC_BSR, bind_bit_scan<true>);
}

}  // namespace vtlab::isa
