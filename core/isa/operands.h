// Operand access shared by every instruction family: effective addresses,
// reading and writing the decoded operands, the stack, near branches.
// Before writing a helper in a family file, look here first.
#pragma once

#include <type_traits>

#include "core/cpu.h"

namespace vtlab::isa {

template <typename T> using Signed = std::make_signed_t<T>;
template <typename T> constexpr T sign_bit() { return T(T{1} << (sizeof(T) * 8 - 1)); }

// SF, ZF and PF of a result, for the families that compute their flags
// eagerly and hand them to Flags::set_arith (shifts, multiply, BCD).
template <typename T> uint32_t szp_flags(T r) {
  return (r == 0 ? flag::ZF : 0) | ((r & sign_bit<T>()) ? flag::SF : 0) | (Flags::parity(r) ? flag::PF : 0);
}

// Offset part of the memory operand (before the segment base), wrapped to
// the address size as the SDM says (16-bit addressing wraps at 64 KiB).
inline uint64_t effective_address(const Cpu& cpu, const DecodedInsn& i) {
  uint64_t ea = static_cast<uint64_t>(i.mem.disp);
  if (i.mem.base == kRegRip) ea += cpu.next_rip;
  else if (i.mem.base != kNoReg) ea += cpu.s.gpr[i.mem.base];
  if (i.mem.index != kNoReg) ea += cpu.s.gpr[i.mem.index] << i.mem.scale_shift;
  // addrsize is 2, 4 or 8: one load from a table, cheaper than computing
  // the mask on every access.
  static constexpr uint64_t kMask[16] = {0, 0, 0xFFFF, 0, 0xFFFFFFFF, 0, 0, 0, ~uint64_t{0}};
  return ea & kMask[i.addrsize & 15];
}

template <typename T> Status read_op(Cpu& cpu, const DecodedInsn& i, unsigned n, T& v) {
  const Operand& o = i.op[n];
  switch (o.kind) {
    case OpKind::Reg: v = cpu.reg<T>(o.reg); return Status::Ok;
    case OpKind::Mem: return cpu.read<T>(i.mem.seg, effective_address(cpu, i), v);
    case OpKind::Imm: v = static_cast<T>(n == 0 || i.op[0].kind != OpKind::Imm ? i.imm : i.imm2); return Status::Ok;
    case OpKind::Sreg: v = static_cast<T>(cpu.s.seg[o.reg].selector); return Status::Ok;
    default: v = 0; return Status::Ok;
  }
}

template <typename T> Status write_op(Cpu& cpu, const DecodedInsn& i, unsigned n, T v) {
  const Operand& o = i.op[n];
  if (o.kind == OpKind::Reg) {
    cpu.set_reg<T>(o.reg, v);
    return Status::Ok;
  }
  return cpu.write<T>(i.mem.seg, effective_address(cpu, i), v);
}

// Operand forms a handler can be specialised for when it is bound
// (registry.h, by_size_and_form): with the form known at compile time the
// access is one load or store, not a switch over operand kinds.  Any keeps
// the run-time switch.
enum class Form : uint8_t { Any, Reg, Mem, Imm };

template <typename T, Form F> Status read_as(Cpu& cpu, const DecodedInsn& i, unsigned n, T& v) {
  if constexpr (F == Form::Reg) {
    v = cpu.reg<T>(i.op[n].reg);
    return Status::Ok;
  } else if constexpr (F == Form::Mem) {
    return cpu.read<T>(i.mem.seg, effective_address(cpu, i), v);
  } else if constexpr (F == Form::Imm) {
    v = static_cast<T>(n == 0 || i.op[0].kind != OpKind::Imm ? i.imm : i.imm2);
    return Status::Ok;
  } else {
    return read_op<T>(cpu, i, n, v);
  }
}

template <typename T, Form F> Status write_as(Cpu& cpu, const DecodedInsn& i, unsigned n, T v) {
  if constexpr (F == Form::Reg) {
    cpu.set_reg<T>(i.op[n].reg, v);
    return Status::Ok;
  } else if constexpr (F == Form::Mem) {
    return cpu.write<T>(i.mem.seg, effective_address(cpu, i), v);
  } else {
    return write_op<T>(cpu, i, n, v);
  }
}

// Operand 0 of a read-modify-write instruction, read as the first half of a
// write: segment and page rights are checked for writing, so a fault
// reports what hardware reports (W=1 in the #PF error code; measured on an
// Intel host: ADD/INC/XCHG to a not-present page give error code 6 at
// CPL 3) and the store that follows cannot fault on protection.
template <typename T> Status read_rmw(Cpu& cpu, const DecodedInsn& i, T& v) {
  if (i.op[0].kind == OpKind::Reg) {
    v = cpu.reg<T>(i.op[0].reg);
    return Status::Ok;
  }
  uint64_t raw;
  TRY(cpu.read_mem_for_write(i.mem.seg, effective_address(cpu, i), sizeof(T), raw));
  v = static_cast<T>(raw);
  return Status::Ok;
}

template <typename T, Form F> Status read_rmw_as(Cpu& cpu, const DecodedInsn& i, T& v) {
  if constexpr (F == Form::Reg) {
    v = cpu.reg<T>(i.op[0].reg);
    return Status::Ok;
  } else {
    return read_rmw<T>(cpu, i, v);
  }
}

// Raises whatever fault a store of `len` bytes at seg:offset would raise
// (segment, then paging for each page it touches), without storing.  For
// instructions that must not act before their store is known to succeed:
// INS reads a port (a read with side effects) before it stores, SGDT/SIDT
// store two fields that may straddle a page.  A/D bits are set as the
// store would set them.
inline Status probe_write(Cpu& cpu, unsigned seg, uint64_t offset, unsigned len) {
  TRY(cpu.check_segment(seg, offset, len, Access::Write));
  const uint64_t first = cpu.linear(seg, offset);
  const uint64_t last = cpu.linear(seg, offset + len - 1);
  const bool user = cpu.s.cpl() == 3;
  uint64_t phys;
  TRY(cpu.translate(first, Access::Write, user, phys));
  // The second page is probed at its first byte: that is where the part of
  // the store in it begins, and what CR2 names if it faults.
  if ((last >> kPageShift) != (first >> kPageShift))
    TRY(cpu.translate(last & ~kPageMask, Access::Write, user, phys));
  return Status::Ok;
}

// --- privilege -----------------------------------------------------------

// CPL as instruction privilege checks see it: 0 in real mode, 3 in
// virtual-8086 mode (whatever the SS cache says), SS.DPL otherwise.
inline unsigned current_cpl(const CpuState& s) {
  if (s.real_mode()) return 0;
  return s.v8086() ? 3 : s.cpl();
}
// The check every privileged instruction makes first: #GP(0) unless CPL 0.
inline Status require_cpl0(Cpu& cpu) { return current_cpl(cpu.s) == 0 ? Status::Ok : cpu.raise(vec::GP, 0); }

// --- stack -------------------------------------------------------------
inline unsigned stack_size(const Cpu& cpu) { return cpu.s.stack_addr_size(); }

template <typename T> Status push(Cpu& cpu, T v) {
  const unsigned ss = stack_size(cpu);
  const uint64_t sp = (cpu.s.gpr[RSP] - sizeof(T)) & all_ones(ss);
  TRY(cpu.write<T>(SS, sp, v));
  cpu.set_reg_sized(RSP, ss, sp);
  return Status::Ok;
}

// Reads the top of the stack without moving RSP (`depth` bytes above it).
template <typename T> Status peek(Cpu& cpu, T& v, uint64_t depth = 0) {
  const unsigned ss = stack_size(cpu);
  return cpu.read<T>(SS, (cpu.s.gpr[RSP] + depth) & all_ones(ss), v);
}

inline void adjust_sp(Cpu& cpu, int64_t delta) {
  const unsigned ss = stack_size(cpu);
  cpu.set_reg_sized(RSP, ss, (cpu.s.gpr[RSP] + delta) & all_ones(ss));
}

template <typename T> Status pop(Cpu& cpu, T& v) {
  TRY(peek<T>(cpu, v));
  adjust_sp(cpu, sizeof(T));
  return Status::Ok;
}

// --- near branches -------------------------------------------------------
// Sets the next RIP to `target` truncated to the operand size; a target
// beyond the CS limit faults with #GP(0), in 64-bit mode a non-canonical
// one does (the branch faults, not the fetch after it).
inline Status jump_near(Cpu& cpu, uint64_t target, unsigned opsize) {
  target &= all_ones(opsize);
  if (cpu.s.code_size() == 8 ? !is_canonical(target) : target > cpu.s.seg[CS].limit) return cpu.raise(vec::GP, 0);
  cpu.next_rip = target;
  return Status::Ok;
}

// Target of a relative branch (Rel operand) at the instruction's operand size.
inline uint64_t rel_target(const Cpu& cpu, const DecodedInsn& i) { return cpu.next_rip + i.imm; }

}  // namespace vtlab::isa
