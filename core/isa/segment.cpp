// Instruction family: segment registers, far transfers and interrupts.
// MOV Sreg, POP Sreg, LDS/LES/LFS/LGS/LSS; far JMP/CALL/RET; IRET; INT n,
// INT3, INTO, INT1; BOUND.
//
// The handlers read their operands and hand over to privilege/, where the
// protection rules live (segment_load.h, far_transfer.h, interrupts.h).
#include "core/isa/operands.h"
#include "core/isa/registry.h"
#include "privilege/far_transfer.h"
#include "privilege/segment_load.h"

namespace vtlab::isa {

namespace {

Status undefined_opcode(Cpu& cpu, const DecodedInsn&) { return cpu.raise(vec::UD); }

// --- segment register loads and stores ------------------------------------

// MOV Sreg, r/m16.
//
// MOV SS (and POP SS) hold off interrupts and debug traps until the next
// instruction has run, so that "mov ss, ax; mov esp, ..." cannot be
// interrupted between the two (SDM vol. 2, MOV).
Status mov_sw_ew(Cpu& cpu, const DecodedInsn& i) {
  uint16_t sel;
  TRY(read_op<uint16_t>(cpu, i, 1, sel));
  TRY(load_segment(cpu, i.op[0].reg, sel));
  if (i.op[0].reg == SS) cpu.set_interrupt_shadow(/*blocks_debug=*/true);
  return Status::Ok;
}

// MOV r/m, Sreg: a memory destination always takes 16 bits.  A 32-bit
// register destination is zero-extended: the SDM leaves the upper half
// "implementation dependent", and every P6-or-later Intel CPU (and AMD)
// writes zeros, as this host does for `mov eax, ds`.
struct MovEwSw {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    return write_op<T>(cpu, i, 0, static_cast<T>(cpu.s.seg[i.op[1].reg].selector));
  }
};

// POP Sreg: the selector is checked and loaded before ESP moves, and ESP
// moves by the old SS's address size.  The interrupt shadow of MOV SS
// applies to POP SS as well (see mov_sw_ew).
struct PopSw {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    T v;
    TRY(peek<T>(cpu, v));
    SegmentCache sc;
    TRY(prepare_segment_load(cpu, i.op[0].reg, static_cast<uint16_t>(v), sc));
    adjust_sp(cpu, sizeof(T));
    cpu.s.seg[i.op[0].reg] = sc;
    if (i.op[0].reg == SS) cpu.set_interrupt_shadow(/*blocks_debug=*/true);
    return Status::Ok;
  }
};

// Reads a far pointer m16:16 / m16:32 / m16:64 (offset first, selector
// above it; m16:64 is the REX.W form of 64-bit mode).
// The selector is read at offset + size without wrapping: a pointer that
// runs past the segment limit faults, it does not wrap round.
template <typename T> Status read_far_pointer(Cpu& cpu, const DecodedInsn& i, uint64_t& offset, uint16_t& sel) {
  const uint64_t ea = effective_address(cpu, i);
  T off;
  TRY(cpu.read<T>(i.mem.seg, ea, off));
  TRY(cpu.read<uint16_t>(i.mem.seg, ea + sizeof(T), sel));
  offset = off;
  return Status::Ok;
}

// LDS/LES/LFS/LGS/LSS r, m16:16/32 (LFS/LGS/LSS r64, m16:64 in 64-bit
// mode): the segment register is loaded (with all its checks) before the
// general register is written.
template <unsigned Seg> struct LoadFarPointer {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    uint64_t offset;
    uint16_t sel;
    TRY(read_far_pointer<T>(cpu, i, offset, sel));
    TRY(load_segment(cpu, Seg, sel));
    cpu.set_reg<T>(i.op[0].reg, static_cast<T>(offset));
    return Status::Ok;
  }
};

// --- far transfers ---------------------------------------------------------

template <typename T> Status far_target(Cpu& cpu, const DecodedInsn& i, uint64_t& offset, uint16_t& sel) {
  if (i.op[0].kind == OpKind::Far) {  // ptr16:16 / ptr16:32 (not in 64-bit mode)
    offset = i.imm;
    sel = i.imm2;
    return Status::Ok;
  }
  return read_far_pointer<T>(cpu, i, offset, sel);  // m16:16 / m16:32 / m16:64
}

struct JmpFar {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    uint64_t offset;
    uint16_t sel;
    TRY(far_target<T>(cpu, i, offset, sel));
    return far_jmp(cpu, sel, offset, sizeof(T));
  }
};

struct CallFar {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    uint64_t offset;
    uint16_t sel;
    TRY(far_target<T>(cpu, i, offset, sel));
    return far_call(cpu, sel, offset, sizeof(T));
  }
};

// RETF and RETF imm16 (the immediate is the bytes of parameters to drop).
struct RetFar {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    const auto release = static_cast<uint16_t>(i.op[0].kind == OpKind::Imm ? i.imm : 0);
    return far_ret(cpu, sizeof(T), release);
  }
};

struct Iret {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn&) { return iret(cpu, sizeof(T)); }
};

// --- interrupts ------------------------------------------------------------
// The engine delivers what these raise (privilege/interrupts.h).  INT n,
// INT3 and INTO are software interrupts: they return to the next
// instruction and are held to the gate's DPL.  INT1 (ICEBP) raises #DB as
// a trap, like a hardware debug exception: no DPL check, EXT set on faults.

Status int_ib(Cpu& cpu, const DecodedInsn& i) {
  // In virtual-8086 mode INT n is IOPL-sensitive (CR4.VME's redirection
  // comes with virtual-8086 mode).
  if (cpu.s.v8086() && ((cpu.s.flags.bits() & flag::IOPL) >> flag::kIoplShift) < 3) return cpu.raise(vec::GP, 0);
  return cpu.raise_software_int(static_cast<uint8_t>(i.imm));
}

Status int3(Cpu& cpu, const DecodedInsn&) { return cpu.raise_software_int(vec::BP); }

Status into(Cpu& cpu, const DecodedInsn&) {
  return cpu.s.flags.of() ? cpu.raise_software_int(vec::OF) : Status::Ok;
}

Status int1(Cpu& cpu, const DecodedInsn&) { return cpu.raise_trap(vec::DB); }

// BOUND r, m: #BR (a fault: the handler returns to the BOUND) unless
// lower <= index <= upper, signed.  The register form is #UD; Zydis
// already rejects it.
struct Bound {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    const uint64_t ea = effective_address(cpu, i);
    T lower, upper;
    TRY(cpu.read<T>(i.mem.seg, ea, lower));
    TRY(cpu.read<T>(i.mem.seg, ea + sizeof(T), upper));
    const auto index = static_cast<Signed<T>>(cpu.reg<T>(i.op[0].reg));
    if (index < static_cast<Signed<T>>(lower) || index > static_cast<Signed<T>>(upper)) return cpu.raise(vec::BR);
    return Status::Ok;
  }
};

// --- binders ---------------------------------------------------------------

// Operand sizes these forms take: 8 only in 64-bit mode (REX.W, or the
// 64-bit default of POP FS/GS), where the decoder alone produces it.
bool sreg_form_size(unsigned size) { return size == 2 || size == 4 || size == 8; }

Handler bind_pop_sreg(DecodedInsn& i) {
  if (i.op[0].reg == CS) return &undefined_opcode;  // POP CS does not exist
  return sreg_form_size(i.opsize) ? by_size<PopSw>(i.opsize) : nullptr;
}

Handler bind_load_far_pointer(DecodedInsn& i, const ZydisDecodedInstruction& zi) {
  if (i.op[0].kind != OpKind::Reg || i.op[1].kind != OpKind::Mem || !sreg_form_size(i.op[0].size)) return nullptr;
  switch (zi.mnemonic) {
    case ZYDIS_MNEMONIC_LDS: return by_size<LoadFarPointer<DS>>(i.op[0].size);
    case ZYDIS_MNEMONIC_LES: return by_size<LoadFarPointer<ES>>(i.op[0].size);
    case ZYDIS_MNEMONIC_LFS: return by_size<LoadFarPointer<FS>>(i.op[0].size);
    case ZYDIS_MNEMONIC_LGS: return by_size<LoadFarPointer<GS>>(i.op[0].size);
    case ZYDIS_MNEMONIC_LSS: return by_size<LoadFarPointer<SS>>(i.op[0].size);
    default: return nullptr;
  }
}

Handler bind_iret(DecodedInsn& i, const ZydisDecodedInstruction&) {
  return sreg_form_size(i.opsize) ? by_size<Iret>(i.opsize) : nullptr;
}

Handler bind_int(DecodedInsn&, const ZydisDecodedInstruction& zi) {
  switch (zi.mnemonic) {
    case ZYDIS_MNEMONIC_INT: return &int_ib;
    case ZYDIS_MNEMONIC_INT3: return &int3;
    case ZYDIS_MNEMONIC_INTO: return &into;
    case ZYDIS_MNEMONIC_INT1: return &int1;
    default: return nullptr;
  }
}

Handler bind_bound(DecodedInsn& i, const ZydisDecodedInstruction&) {
  const bool legacy_size = i.op[0].size == 2 || i.op[0].size == 4;  // BOUND is #UD in 64-bit mode
  if (i.op[0].kind != OpKind::Reg || i.op[1].kind != OpKind::Mem || !legacy_size) return nullptr;
  return by_size<Bound>(i.op[0].size);
}

}  // namespace

// MOV to and from segment registers, and POP Sreg: the data and stack
// families hand these forms over (a segment load is this family's).
Handler bind_mov_sreg(DecodedInsn& i, const ZydisDecodedInstruction& zi) {
  if (zi.mnemonic == ZYDIS_MNEMONIC_POP) return bind_pop_sreg(i);
  if (i.op[0].kind == OpKind::Sreg) {
    if (i.op[0].reg == CS) return &undefined_opcode;  // MOV CS (Zydis already rejects 8E /1)
    return &mov_sw_ew;
  }
  return by_size_wdq<MovEwSw>(i.op[0].size);
}

Handler bind_far_transfer(DecodedInsn& i, const ZydisDecodedInstruction& zi) {
  if (!sreg_form_size(i.opsize)) return nullptr;
  const bool pointer = i.op[0].kind == OpKind::Far || i.op[0].kind == OpKind::Mem;
  switch (zi.mnemonic) {
    case ZYDIS_MNEMONIC_JMP: return pointer ? by_size<JmpFar>(i.opsize) : nullptr;
    case ZYDIS_MNEMONIC_CALL: return pointer ? by_size<CallFar>(i.opsize) : nullptr;
    case ZYDIS_MNEMONIC_RET: return by_size<RetFar>(i.opsize);
    default: return nullptr;
  }
}

void register_segment(InsnTable& t) {
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_LDS, ZYDIS_MNEMONIC_LES, ZYDIS_MNEMONIC_LFS, ZYDIS_MNEMONIC_LGS,
                          ZYDIS_MNEMONIC_LSS})
    t.add(m, bind_load_far_pointer);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_IRET, ZYDIS_MNEMONIC_IRETD, ZYDIS_MNEMONIC_IRETQ}) t.add(m, bind_iret);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_INT, ZYDIS_MNEMONIC_INT3, ZYDIS_MNEMONIC_INTO, ZYDIS_MNEMONIC_INT1})
    t.add(m, bind_int);
  t.add(ZYDIS_MNEMONIC_BOUND, bind_bound);
}

}  // namespace vtlab::isa
