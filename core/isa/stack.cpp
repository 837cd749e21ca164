// Stack: PUSH, POP, PUSHA/PUSHAD, POPA/POPAD, ENTER, LEAVE.
// PUSHF/POPF are flag_ctrl.cpp's; POP Sreg is a segment load and goes to
// segment.cpp through bind_mov_sreg; PUSH Sreg is here.
//
// The operand size decides how much is pushed or popped; the stack address
// size (SS.B, or 64 in 64-bit mode) decides whether SP, ESP or RSP moves.
// Multi-element instructions (PUSHA, POPA, ENTER) do all their memory
// accesses against a private copy of the stack pointer and commit the
// registers at the end, so a fault leaves the registers as they were.  A
// store that faults part-way may already have written slots below the old
// stack pointer: that memory is free space, and hardware behaves the same.
#include "core/isa/operands.h"
#include "core/isa/registry.h"

namespace vtlab::isa {

namespace {

// PUSH r/m, r, imm: the value is read before the stack pointer moves, so
// PUSH ESP pushes the old ESP and PUSH [ESP+n] addresses with the old ESP
// (SDM vol. 2, PUSH).  Immediates arrive sign-extended (PUSH imm8).
struct PushValue {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    T v;
    TRY(read_op<T>(cpu, i, 0, v));
    return push<T>(cpu, v);
  }
};

// PUSH Sreg.  With a 32-bit operand size the SDM allows either a
// zero-extended doubleword or a 16-bit store into the low half of the slot,
// and says recent Intel processors do the 16-bit store, leaving the upper
// half as it was.  We do that; the host (an Intel Xeon, 32-bit code) does
// too.  With a 64-bit operand size the same host writes the whole slot,
// zero-extended, so 64-bit pushes do.  Either way the stack pointer moves by
// the operand size and the whole slot must lie inside the stack segment.
struct PushSreg {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    const uint16_t selector = cpu.s.seg[i.op[0].reg].selector;
    if constexpr (sizeof(T) != 4) {
      return push<T>(cpu, selector);
    } else {
      const unsigned ss = stack_size(cpu);
      const uint64_t sp = (cpu.s.gpr[RSP] - sizeof(T)) & all_ones(ss);
      TRY(probe_write(cpu, SS, sp, sizeof(T)));
      TRY(cpu.write<uint16_t>(SS, sp, selector));
      cpu.set_reg_sized(RSP, ss, sp);
      return Status::Ok;
    }
  }
};

// POP r: the stack pointer moves before the register is written, so
// POP ESP leaves ESP holding the popped value (SDM vol. 2, POP).
struct PopReg {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    T v;
    TRY(pop<T>(cpu, v));
    cpu.set_reg<T>(i.op[0].reg, v);
    return Status::Ok;
  }
};

// POP r/m: the destination address is computed after the stack pointer has
// moved, so POP [ESP+4] stores 4 bytes higher than the ESP before the
// instruction would say (SDM vol. 2, POP).  A store that faults must leave
// the instruction restartable, so ESP goes back to its old value.
struct PopMem {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    T v;
    TRY(peek<T>(cpu, v));
    const uint64_t old_sp = cpu.s.gpr[RSP];
    adjust_sp(cpu, sizeof(T));
    const Status st = write_op<T>(cpu, i, 0, v);
    if (st != Status::Ok) cpu.s.gpr[RSP] = old_sp;
    return st;
  }
};

// PUSHA/PUSHAD: AX CX DX BX, the SP from before the instruction, BP SI DI,
// in that order (the GPR encoding order), so DI ends up lowest.
struct PushAll {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn&) {
    const unsigned ss = stack_size(cpu);
    const uint64_t sp = cpu.s.gpr[RSP];
    for (uint8_t r = RAX; r <= RDI; ++r)
      TRY(cpu.write<T>(SS, (sp - (r + 1u) * sizeof(T)) & all_ones(ss), cpu.reg<T>(r)));
    cpu.set_reg_sized(RSP, ss, sp - 8 * sizeof(T));
    return Status::Ok;
  }
};

// POPA/POPAD: the mirror image; the SP slot is skipped (popped and
// discarded), and the stack pointer simply moves past the whole image.
struct PopAll {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn&) {
    const unsigned ss = stack_size(cpu);
    const uint64_t sp = cpu.s.gpr[RSP];
    T image[8];
    for (uint8_t r = RAX; r <= RDI; ++r)
      TRY(cpu.read<T>(SS, (sp + (7u - r) * sizeof(T)) & all_ones(ss), image[r]));
    for (uint8_t r = RAX; r <= RDI; ++r)
      if (r != RSP) cpu.set_reg<T>(r, image[r]);
    cpu.set_reg_sized(RSP, ss, sp + 8 * sizeof(T));
    return Status::Ok;
  }
};

// ENTER imm16, imm8 (SDM vol. 2, ENTER operation):
//   push BP; FrameTemp = SP;
//   for level > 0: push level-1 frame pointers read from [BP - n*size],
//                  then push FrameTemp;
//   BP = FrameTemp; SP -= imm16.
// The nesting level is taken modulo 32.  Elements are operand-size wide;
// BP and SP are walked at the stack address size.  The walk over the old
// frame pointers uses a copy of BP: the real BP is only written at the end
// (with FrameTemp), and for the mixed 16/32-bit forms the copy also keeps
// BP's upper half from absorbing the walk.
struct Enter {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    const unsigned ss = stack_size(cpu);
    const uint64_t mask = all_ones(ss);
    const unsigned level = i.imm2 % 32;
    uint64_t sp = cpu.s.gpr[RSP] & mask;
    auto push_local = [&](T v) {
      sp = (sp - sizeof(T)) & mask;
      return cpu.write<T>(SS, sp, v);
    };

    TRY(push_local(cpu.reg<T>(RBP)));
    const uint64_t frame_temp = (cpu.s.gpr[RSP] & ~mask) | sp;
    if (level > 0) {
      uint64_t bp = cpu.s.gpr[RBP];
      for (unsigned n = 1; n < level; ++n) {
        bp -= sizeof(T);
        T frame;
        TRY(cpu.read<T>(SS, bp & mask, frame));
        TRY(push_local(frame));
      }
      TRY(push_local(static_cast<T>(frame_temp)));
    }
    // "#SS(0) if the new value of SP/ESP is outside the stack segment limit".
    // In 64-bit mode the silicon probes an operand-size write there
    // (#AC, #PF with W = 1, CR2 = the new RSP; measured: docs/FUZZING.md).
    const uint64_t new_sp = (sp - i.imm) & mask;
    if (cpu.s.code_size() == 8) {
      uint64_t unused;
      TRY(cpu.read_mem_for_write(SS, new_sp, sizeof(T), unused));
    } else {
      TRY(cpu.check_segment(SS, new_sp, 1, Access::Write));
    }
    cpu.set_reg<T>(RBP, static_cast<T>(frame_temp));
    cpu.set_reg_sized(RSP, ss, new_sp);
    return Status::Ok;
  }
};

// LEAVE: SP = BP (at the stack address size), then pop BP (at the operand
// size).  The pop reads through the new SP before either register changes.
struct Leave {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn&) {
    const unsigned ss = stack_size(cpu);
    const uint64_t sp = cpu.reg_sized(RBP, ss);
    T v;
    TRY(cpu.read<T>(SS, sp, v));
    cpu.set_reg_sized(RSP, ss, sp + sizeof(T));
    cpu.set_reg<T>(RBP, v);
    return Status::Ok;
  }
};

Handler bind_push(DecodedInsn& i, const ZydisDecodedInstruction&) {
  switch (i.op[0].kind) {
    case OpKind::Sreg: return by_size_wdq<PushSreg>(i.opsize);
    case OpKind::Reg:
    case OpKind::Mem:
    case OpKind::Imm: return by_size_wdq<PushValue>(i.opsize);
    default: return nullptr;
  }
}

Handler bind_pop(DecodedInsn& i, const ZydisDecodedInstruction& zi) {
  switch (i.op[0].kind) {
    case OpKind::Sreg: return bind_mov_sreg(i, zi);  // POP Sreg is a segment load
    case OpKind::Reg: return by_size_wdq<PopReg>(i.opsize);
    case OpKind::Mem: return by_size_wdq<PopMem>(i.opsize);
    default: return nullptr;
  }
}

template <typename Op> Handler bind_by_opsize(DecodedInsn& i, const ZydisDecodedInstruction&) {
  return by_size_wdq<Op>(i.opsize);
}

}  // namespace

void register_stack(InsnTable& t) {
  t.add(ZYDIS_MNEMONIC_PUSH, bind_push);
  t.add(ZYDIS_MNEMONIC_POP, bind_pop);
  t.add(ZYDIS_MNEMONIC_PUSHA, bind_by_opsize<PushAll>);
  t.add(ZYDIS_MNEMONIC_PUSHAD, bind_by_opsize<PushAll>);
  t.add(ZYDIS_MNEMONIC_POPA, bind_by_opsize<PopAll>);
  t.add(ZYDIS_MNEMONIC_POPAD, bind_by_opsize<PopAll>);
  t.add(ZYDIS_MNEMONIC_ENTER, bind_by_opsize<Enter>);
  t.add(ZYDIS_MNEMONIC_LEAVE, bind_by_opsize<Leave>);
}

}  // namespace vtlab::isa
