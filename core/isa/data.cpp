// Data movement: MOV, MOVZX/MOVSX/MOVSXD, XCHG, XADD, CMPXCHG, CMPXCHG8B,
// CMPXCHG16B, BSWAP, CMOVcc, SETcc, LEA, XLAT, CBW/CWDE/CDQE, CWD/CDQ/CQO,
// NOP.
//
// MOV with a moffs operand (A0-A3) needs nothing of its own: the decoder
// turns the offset into a memory operand with no base, which Mov handles.
#include <type_traits>

#include "core/isa/operands.h"
#include "core/isa/registry.h"

namespace vtlab::isa {

namespace {

// The integer half as wide as T (for CBW/CWDE/CDQE).
template <typename T>
using HalfOf = std::conditional_t<sizeof(T) == 2, uint8_t, std::conditional_t<sizeof(T) == 4, uint16_t, uint32_t>>;

struct Mov {
  template <typename T, Form F0 = Form::Any, Form F1 = Form::Any> static Status run(Cpu& cpu, const DecodedInsn& i) {
    T v;
    TRY((read_as<T, F1>(cpu, i, 1, v)));
    return write_as<T, F0>(cpu, i, 0, v);
  }
};

// LEA stores the offset (no segment, no memory access), truncated to the
// operand size whatever the address size.
struct Lea {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    cpu.set_reg<T>(i.op[0].reg, static_cast<T>(effective_address(cpu, i)));
    return Status::Ok;
  }
};

// MOVZX / MOVSX: the source S is a byte or a word; T is the destination.
template <typename S> struct Movzx {
  template <typename T, Form = Form::Any, Form F1 = Form::Any> static Status run(Cpu& cpu, const DecodedInsn& i) {
    S v;
    TRY((read_as<S, F1>(cpu, i, 1, v)));
    cpu.set_reg<T>(i.op[0].reg, static_cast<T>(v));
    return Status::Ok;
  }
};

template <typename S> struct Movsx {
  template <typename T, Form = Form::Any, Form F1 = Form::Any> static Status run(Cpu& cpu, const DecodedInsn& i) {
    S v;
    TRY((read_as<S, F1>(cpu, i, 1, v)));
    cpu.set_reg<T>(i.op[0].reg, static_cast<T>(static_cast<Signed<T>>(static_cast<Signed<S>>(v))));
    return Status::Ok;
  }
};

// XCHG r/m, r (the decoder puts the r/m operand first).  With memory it is
// locked whatever the prefixes, which a single-CPU interpreter gets for
// free.  The memory store comes first: if it faults, no register changed.
struct Xchg {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    T a;
    TRY(read_rmw<T>(cpu, i, a));
    const T b = cpu.reg<T>(i.op[1].reg);
    TRY(write_op<T>(cpu, i, 0, b));
    cpu.set_reg<T>(i.op[1].reg, a);
    return Status::Ok;
  }
};

// XADD r/m, r: TEMP = SRC + DEST; SRC = DEST; DEST = TEMP, in that order, so
// `xadd eax, eax` leaves the sum.  Flags as ADD.
struct Xadd {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    T dest;
    TRY(read_rmw<T>(cpu, i, dest));
    const T src = cpu.reg<T>(i.op[1].reg);
    const T sum = static_cast<T>(dest + src);
    if (i.op[0].kind == OpKind::Mem) TRY(write_op<T>(cpu, i, 0, sum));
    cpu.set_reg<T>(i.op[1].reg, dest);
    if (i.op[0].kind == OpKind::Reg) cpu.set_reg<T>(i.op[0].reg, sum);
    cpu.s.flags.set_add<T>(dest, src, sum);
    return Status::Ok;
  }
};

// CMPXCHG r/m, r: compare the accumulator with DEST (flags as CMP); equal:
// DEST = SRC; different: accumulator = DEST.
// A memory destination is written either way, with its own value on a
// mismatch ("the destination operand is written back if the comparison
// fails", SDM vol. 2), so a mismatch still faults on a read-only page (the
// host does).  A register destination is left alone on a mismatch: on the
// host a failing 32-bit CMPXCHG in 64-bit mode keeps the register's upper
// half, so the register is not written.
struct Cmpxchg {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    T dest;
    TRY(read_rmw<T>(cpu, i, dest));
    const T acc = cpu.reg<T>(RAX);
    const T src = cpu.reg<T>(i.op[1].reg);
    const bool equal = acc == dest;
    if (i.op[0].kind == OpKind::Mem) TRY(write_op<T>(cpu, i, 0, equal ? src : dest));
    else if (equal) cpu.set_reg<T>(i.op[0].reg, src);
    if (!equal) cpu.set_reg<T>(RAX, dest);
    cpu.s.flags.set_sub<T>(acc, dest, static_cast<T>(acc - dest));
    return Status::Ok;
  }
};

// CMPXCHG8B m64: EDX:EAX against m64; equal: m64 = ECX:EBX, else EDX:EAX =
// m64 (and m64 is written back unchanged, as for CMPXCHG).  Only ZF changes.
Status cmpxchg8b(Cpu& cpu, const DecodedInsn& i) {
  const uint64_t ea = effective_address(cpu, i);
  TRY(cpu.check_segment(i.mem.seg, ea, 8, Access::Write));
  uint64_t old;
  TRY(cpu.read<uint64_t>(i.mem.seg, ea, old));
  const uint64_t expected = (uint64_t{cpu.reg<uint32_t>(RDX)} << 32) | cpu.reg<uint32_t>(RAX);
  const uint64_t desired = (uint64_t{cpu.reg<uint32_t>(RCX)} << 32) | cpu.reg<uint32_t>(RBX);
  const bool equal = old == expected;
  TRY(cpu.write<uint64_t>(i.mem.seg, ea, equal ? desired : old));
  if (!equal) {
    cpu.set_reg<uint32_t>(RAX, static_cast<uint32_t>(old));
    cpu.set_reg<uint32_t>(RDX, static_cast<uint32_t>(old >> 32));
  }
  cpu.s.flags.set(flag::ZF, equal);
  return Status::Ok;
}

// CMPXCHG16B m128 (64-bit mode, REX.W): RDX:RAX against m128; equal:
// m128 = RCX:RBX, else RDX:RAX = m128.  The operand must be 16-byte
// aligned (#GP(0), whatever AC says), so it never straddles a page; both
// halves are checked for writing before either is read.
Status cmpxchg16b(Cpu& cpu, const DecodedInsn& i) {
  const uint64_t ea = effective_address(cpu, i);
  if (cpu.linear(i.mem.seg, ea) & 15) return cpu.raise(vec::GP, 0);
  TRY(probe_write(cpu, i.mem.seg, ea, 16));
  uint64_t lo, hi;
  TRY(cpu.read<uint64_t>(i.mem.seg, ea, lo));
  TRY(cpu.read<uint64_t>(i.mem.seg, ea + 8, hi));
  const bool equal = lo == cpu.s.gpr[RAX] && hi == cpu.s.gpr[RDX];
  TRY(cpu.write<uint64_t>(i.mem.seg, ea, equal ? cpu.s.gpr[RBX] : lo));
  TRY(cpu.write<uint64_t>(i.mem.seg, ea + 8, equal ? cpu.s.gpr[RCX] : hi));
  if (!equal) {
    cpu.s.gpr[RAX] = lo;
    cpu.s.gpr[RDX] = hi;
  }
  cpu.s.flags.set(flag::ZF, equal);
  return Status::Ok;
}

// BSWAP r32/r64.  With a 16-bit operand the SDM leaves the result
// undefined; the host (an Intel Xeon) clears the low word and keeps the
// rest of the register, so we do that.
struct Bswap {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    const uint8_t r = i.op[0].reg;
    if constexpr (sizeof(T) == 2) cpu.set_reg<uint16_t>(r, 0);
    else if constexpr (sizeof(T) == 4) cpu.set_reg<uint32_t>(r, __builtin_bswap32(cpu.reg<uint32_t>(r)));
    else cpu.set_reg<uint64_t>(r, __builtin_bswap64(cpu.reg<uint64_t>(r)));
    return Status::Ok;
  }
};

// CMOVcc r, r/m.  The source is read whatever the condition, so a source
// that faults faults even when no move happens (SDM vol. 2, CMOVcc).  In
// 64-bit mode a 32-bit CMOV writes its destination even when the condition
// is false, which zero-extends it (checked on the host); outside 64-bit
// mode a false condition changes nothing.
struct Cmov {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    T v;
    TRY(read_op<T>(cpu, i, 1, v));
    const uint8_t r = i.op[0].reg;
    if (cpu.s.flags.cond(i.cond)) cpu.set_reg<T>(r, v);
    else if (sizeof(T) == 4 && cpu.s.code_size() == 8) cpu.set_reg<uint32_t>(r, cpu.reg<uint32_t>(r));
    return Status::Ok;
  }
};

Status setcc(Cpu& cpu, const DecodedInsn& i) {
  return write_op<uint8_t>(cpu, i, 0, cpu.s.flags.cond(i.cond) ? 1 : 0);
}

// XLAT: AL = seg:[(E)BX + AL], AL zero-extended, the sum wrapped to the
// address size; seg is DS or the override (the binder fills mem.seg).
Status xlat(Cpu& cpu, const DecodedInsn& i) {
  const uint64_t ea = (cpu.s.gpr[RBX] + cpu.reg<uint8_t>(RAX)) & all_ones(i.addrsize);
  uint8_t v;
  TRY(cpu.read<uint8_t>(i.mem.seg, ea, v));
  cpu.set_reg<uint8_t>(RAX, v);
  return Status::Ok;
}

// CBW / CWDE / CDQE: the accumulator's lower half, sign-extended in place.
struct WidenAccumulator {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn&) {
    using H = HalfOf<T>;
    cpu.set_reg<T>(RAX, static_cast<T>(static_cast<Signed<T>>(static_cast<Signed<H>>(cpu.reg<H>(RAX)))));
    return Status::Ok;
  }
};

// CWD / CDQ / CQO: DX/EDX/RDX = the accumulator's sign, repeated.
struct SignIntoDx {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn&) {
    cpu.set_reg<T>(RDX, static_cast<Signed<T>>(cpu.reg<T>(RAX)) < 0 ? static_cast<T>(~T{0}) : T{0});
    return Status::Ok;
  }
};

Status nop(Cpu&, const DecodedInsn&) { return Status::Ok; }

// --- binders ----------------------------------------------------------------

bool is_rm(const Operand& o) { return o.kind == OpKind::Reg || o.kind == OpKind::Mem; }

Handler bind_mov(DecodedInsn& i, const ZydisDecodedInstruction& zi) {
  // MOV to/from segment, control and debug registers belong to the
  // families that own those registers; here only general moves.
  for (unsigned n = 0; n < 2; ++n) {
    if (i.op[n].kind == OpKind::Sreg) return bind_mov_sreg(i, zi);
    if (i.op[n].kind == OpKind::Creg || i.op[n].kind == OpKind::Dreg) return bind_mov_creg(i, zi);
  }
  for (unsigned n = 0; n < 2; ++n)
    if (i.op[n].kind != OpKind::Reg && i.op[n].kind != OpKind::Mem && i.op[n].kind != OpKind::Imm) return nullptr;
  return by_size_and_form<Mov>(i.op[0].size, i);
}

Handler bind_lea(DecodedInsn& i, const ZydisDecodedInstruction&) {
  return i.op[0].kind == OpKind::Reg ? by_size_wdq<Lea>(i.op[0].size) : nullptr;
}

template <template <typename> class Extend> Handler bind_extend(DecodedInsn& i, const ZydisDecodedInstruction&) {
  if (i.op[0].kind != OpKind::Reg || !is_rm(i.op[1]) || i.op[0].size == 1) return nullptr;
  switch (i.op[1].size) {
    case 1: return by_size_and_form<Extend<uint8_t>>(i.op[0].size, i);
    case 2: return by_size_and_form<Extend<uint16_t>>(i.op[0].size, i);
    default: return nullptr;
  }
}

// XCHG, XADD, CMPXCHG: r/m first, a register second.
template <typename Op> Handler bind_rm_reg(DecodedInsn& i, const ZydisDecodedInstruction&) {
  if (!is_rm(i.op[0]) || i.op[1].kind != OpKind::Reg) return nullptr;
  return by_size<Op>(i.op[0].size);
}

// MOVSXD r, r/m32 (64-bit mode): sign-extends with REX.W; without it the
// source is as wide as the destination and it is a plain move (Intel
// discourages that form, but it is encodable).
Handler bind_movsxd(DecodedInsn& i, const ZydisDecodedInstruction&) {
  if (i.op[0].kind != OpKind::Reg || !is_rm(i.op[1])) return nullptr;
  switch (i.op[1].size) {
    case 2: return by_size_wdq<Movsx<uint16_t>>(i.op[0].size);
    case 4: return by_size_wdq<Movsx<uint32_t>>(i.op[0].size);
    default: return nullptr;
  }
}

Handler bind_cmpxchg8b(DecodedInsn& i, const ZydisDecodedInstruction&) {
  return i.op[0].kind == OpKind::Mem ? &cmpxchg8b : nullptr;
}
Handler bind_cmpxchg16b(DecodedInsn& i, const ZydisDecodedInstruction&) {
  return i.op[0].kind == OpKind::Mem ? &cmpxchg16b : nullptr;
}

Handler bind_bswap(DecodedInsn& i, const ZydisDecodedInstruction&) {
  return i.op[0].kind == OpKind::Reg ? by_size_wdq<Bswap>(i.op[0].size) : nullptr;
}

// CMOVcc (0F 40+cc) and SETcc (0F 90+cc) keep their condition in the low
// nibble of the opcode, in the SDM's encoding order, which is Cond's.
Handler bind_cmov(DecodedInsn& i, const ZydisDecodedInstruction& zi) {
  i.cond = zi.opcode & 0xF;
  return i.op[0].kind == OpKind::Reg && is_rm(i.op[1]) ? by_size_wdq<Cmov>(i.op[0].size) : nullptr;
}

Handler bind_setcc(DecodedInsn& i, const ZydisDecodedInstruction& zi) {
  i.cond = zi.opcode & 0xF;
  return is_rm(i.op[0]) ? &setcc : nullptr;
}

template <typename Op> Handler bind_by_opsize(DecodedInsn& i, const ZydisDecodedInstruction&) {
  return by_size_wdq<Op>(i.opsize);
}


}  // namespace

void register_data(InsnTable& t) {
  t.add(ZYDIS_MNEMONIC_MOV, bind_mov);
  t.add(ZYDIS_MNEMONIC_LEA, bind_lea);
  t.add(ZYDIS_MNEMONIC_NOP, fixed<&nop>);
  // ENDBR32/64 sit in the hint-NOP space (F3 0F 1E FB/FA): without CET
  // (CPUID.7, which this CPU does not have) they are NOPs, and Debian's
  // userland is built with them.
  t.add(ZYDIS_MNEMONIC_ENDBR32, fixed<&nop>);
  t.add(ZYDIS_MNEMONIC_ENDBR64, fixed<&nop>);
  t.add(ZYDIS_MNEMONIC_MOVZX, bind_extend<Movzx>);
  t.add(ZYDIS_MNEMONIC_MOVSX, bind_extend<Movsx>);
  t.add(ZYDIS_MNEMONIC_XCHG, bind_rm_reg<Xchg>);
  t.add(ZYDIS_MNEMONIC_XADD, bind_rm_reg<Xadd>);
  t.add(ZYDIS_MNEMONIC_CMPXCHG, bind_rm_reg<Cmpxchg>);
  t.add(ZYDIS_MNEMONIC_CMPXCHG8B, bind_cmpxchg8b);
  t.add(ZYDIS_MNEMONIC_CMPXCHG16B, bind_cmpxchg16b);
  t.add(ZYDIS_MNEMONIC_MOVSXD, bind_movsxd);
  t.add(ZYDIS_MNEMONIC_BSWAP, bind_bswap);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_CMOVO, ZYDIS_MNEMONIC_CMOVNO, ZYDIS_MNEMONIC_CMOVB, ZYDIS_MNEMONIC_CMOVNB,
                          ZYDIS_MNEMONIC_CMOVZ, ZYDIS_MNEMONIC_CMOVNZ, ZYDIS_MNEMONIC_CMOVBE, ZYDIS_MNEMONIC_CMOVNBE,
                          ZYDIS_MNEMONIC_CMOVS, ZYDIS_MNEMONIC_CMOVNS, ZYDIS_MNEMONIC_CMOVP, ZYDIS_MNEMONIC_CMOVNP,
                          ZYDIS_MNEMONIC_CMOVL, ZYDIS_MNEMONIC_CMOVNL, ZYDIS_MNEMONIC_CMOVLE, ZYDIS_MNEMONIC_CMOVNLE})
    t.add(m, bind_cmov);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_SETO, ZYDIS_MNEMONIC_SETNO, ZYDIS_MNEMONIC_SETB, ZYDIS_MNEMONIC_SETNB,
                          ZYDIS_MNEMONIC_SETZ, ZYDIS_MNEMONIC_SETNZ, ZYDIS_MNEMONIC_SETBE, ZYDIS_MNEMONIC_SETNBE,
                          ZYDIS_MNEMONIC_SETS, ZYDIS_MNEMONIC_SETNS, ZYDIS_MNEMONIC_SETP, ZYDIS_MNEMONIC_SETNP,
                          ZYDIS_MNEMONIC_SETL, ZYDIS_MNEMONIC_SETNL, ZYDIS_MNEMONIC_SETLE, ZYDIS_MNEMONIC_SETNLE})
    t.add(m, bind_setcc);
  t.add(ZYDIS_MNEMONIC_XLAT, fixed<&xlat>);  // DS or the override: set by the decoder
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_CBW, ZYDIS_MNEMONIC_CWDE, ZYDIS_MNEMONIC_CDQE})
    t.add(m, bind_by_opsize<WidenAccumulator>);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_CWD, ZYDIS_MNEMONIC_CDQ, ZYDIS_MNEMONIC_CQO})
    t.add(m, bind_by_opsize<SignIntoDx>);
}

}  // namespace vtlab::isa
