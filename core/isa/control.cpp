// Near control transfer: Jcc, JMP, CALL, RET (with and without imm16),
// LOOP/LOOPE/LOOPNE and JCXZ/JECXZ/JRCXZ.  The far forms of JMP, CALL and
// RET share the mnemonics but are segment loads; their binder lives in
// segment.cpp and ours hands them over.
//
// Every target goes through jump_near, which truncates it to the operand
// size (a 16-bit operand size clears EIP[31:16]: SDM vol. 2, Jcc, JMP, CALL,
// RET) and raises #GP(0) for a target beyond the CS limit.  The target is
// checked before anything else is committed (the pushed return address, the
// released stack, the LOOP count), so a branch that faults changes nothing
// and can be restarted.
#include "core/isa/operands.h"
#include "core/isa/registry.h"

#include <array>
#include <utility>

namespace vtlab::isa {

namespace {

// Jcc rel8/rel16/rel32: the operand size decides the truncation, whatever
// the width of the displacement.  One handler per condition: the hottest
// branch in most guests tests only the flag it needs.
template <unsigned cc> Status jcc(Cpu& cpu, const DecodedInsn& i) {
  if (!cpu.s.flags.cond<cc>()) return Status::Ok;
  return jump_near(cpu, rel_target(cpu, i), i.opsize);
}

template <unsigned... cc> constexpr std::array<Handler, 16> jcc_handlers(std::integer_sequence<unsigned, cc...>) {
  return {&jcc<cc>...};
}

Status jmp_rel(Cpu& cpu, const DecodedInsn& i) { return jump_near(cpu, rel_target(cpu, i), i.opsize); }

// JMP r/m: the operand is the new (E)IP itself.
struct JmpIndirect {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    T target;
    TRY(read_op<T>(cpu, i, 0, target));
    return jump_near(cpu, target, sizeof(T));
  }
};

// CALL pushes the address of the next instruction at the operand size.
// An r/m target is read before the push, so `call [esp]` uses the old ESP.
template <bool kIndirect> struct CallNear {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    const T ret = static_cast<T>(cpu.next_rip);
    uint64_t target;
    if constexpr (kIndirect) {
      T v;
      TRY(read_op<T>(cpu, i, 0, v));
      target = v;
    } else {
      target = rel_target(cpu, i);
    }
    TRY(jump_near(cpu, target, sizeof(T)));
    return push<T>(cpu, ret);
  }
};

// RET and RET imm16: pops the return address, then releases imm16 more
// bytes of stack (at the stack address size, like every SP update).
struct RetNear {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    T target;
    TRY(peek<T>(cpu, target));
    TRY(jump_near(cpu, target, sizeof(T)));
    const uint64_t release = i.op[0].kind == OpKind::Imm ? i.imm : 0;
    adjust_sp(cpu, static_cast<int64_t>(sizeof(T) + release));
    return Status::Ok;
  }
};

// LOOP, LOOPE, LOOPNE: the counter is CX, ECX or RCX by address size (not
// operand size).  It is decremented without touching the flags, and the
// branch is taken while it is non-zero (and, for LOOPE/LOOPNE, while ZF is
// 1/0).  The counter is written only once the target has passed its check.
enum class LoopKind { Always, WhileEqual, WhileNotEqual };

template <LoopKind K> Status loop(Cpu& cpu, const DecodedInsn& i) {
  const uint64_t count = cpu.reg_sized(RCX, i.addrsize) - 1;  // set_reg_sized truncates
  bool taken = (count & all_ones(i.addrsize)) != 0;
  if constexpr (K == LoopKind::WhileEqual) taken = taken && cpu.s.flags.zf();
  if constexpr (K == LoopKind::WhileNotEqual) taken = taken && !cpu.s.flags.zf();
  if (taken) TRY(jump_near(cpu, rel_target(cpu, i), i.opsize));
  cpu.set_reg_sized(RCX, i.addrsize, count);
  return Status::Ok;
}

// JCXZ/JECXZ/JRCXZ: the address size picks the register (Zydis names the
// mnemonic after it, but the address size is what the hardware uses).
Status jcxz(Cpu& cpu, const DecodedInsn& i) {
  if (cpu.reg_sized(RCX, i.addrsize) != 0) return Status::Ok;
  return jump_near(cpu, rel_target(cpu, i), i.opsize);
}

bool is_far(const ZydisDecodedInstruction& zi) { return zi.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR; }
bool is_rm(const Operand& o) { return o.kind == OpKind::Reg || o.kind == OpKind::Mem; }

// Jcc keeps its condition in the low nibble of the opcode (70+cc and
// 0F 80+cc), in the SDM's encoding order, which is Cond's.
Handler bind_jcc(DecodedInsn& i, const ZydisDecodedInstruction& zi) {
  static constexpr std::array<Handler, 16> kByCond = jcc_handlers(std::make_integer_sequence<unsigned, 16>{});
  i.cond = zi.opcode & 0xF;
  return i.op[0].kind == OpKind::Rel ? kByCond[i.cond] : nullptr;
}

Handler bind_jmp(DecodedInsn& i, const ZydisDecodedInstruction& zi) {
  if (is_far(zi)) return bind_far_transfer(i, zi);
  if (i.op[0].kind == OpKind::Rel) return &jmp_rel;
  return is_rm(i.op[0]) ? by_size_wdq<JmpIndirect>(i.opsize) : nullptr;
}

Handler bind_call(DecodedInsn& i, const ZydisDecodedInstruction& zi) {
  if (is_far(zi)) return bind_far_transfer(i, zi);
  if (i.op[0].kind == OpKind::Rel) return by_size_wdq<CallNear<false>>(i.opsize);
  return is_rm(i.op[0]) ? by_size_wdq<CallNear<true>>(i.opsize) : nullptr;
}

Handler bind_ret(DecodedInsn& i, const ZydisDecodedInstruction& zi) {
  if (is_far(zi)) return bind_far_transfer(i, zi);
  return by_size_wdq<RetNear>(i.opsize);
}

template <LoopKind K> Handler bind_loop(DecodedInsn&, const ZydisDecodedInstruction&) { return &loop<K>; }

}  // namespace

void register_control(InsnTable& t) {
  constexpr uint8_t kNear = info::kNearBranch;  // the far forms lose it at decode time
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_JO, ZYDIS_MNEMONIC_JNO, ZYDIS_MNEMONIC_JB, ZYDIS_MNEMONIC_JNB,
                          ZYDIS_MNEMONIC_JZ, ZYDIS_MNEMONIC_JNZ, ZYDIS_MNEMONIC_JBE, ZYDIS_MNEMONIC_JNBE,
                          ZYDIS_MNEMONIC_JS, ZYDIS_MNEMONIC_JNS, ZYDIS_MNEMONIC_JP, ZYDIS_MNEMONIC_JNP,
                          ZYDIS_MNEMONIC_JL, ZYDIS_MNEMONIC_JNL, ZYDIS_MNEMONIC_JLE, ZYDIS_MNEMONIC_JNLE})
    t.add(m, bind_jcc, kNear | info::kConditional);
  t.add(ZYDIS_MNEMONIC_JMP, bind_jmp, kNear);
  t.add(ZYDIS_MNEMONIC_CALL, bind_call, kNear);
  t.add(ZYDIS_MNEMONIC_RET, bind_ret, kNear);
  t.add(ZYDIS_MNEMONIC_LOOP, bind_loop<LoopKind::Always>, kNear);
  t.add(ZYDIS_MNEMONIC_LOOPE, bind_loop<LoopKind::WhileEqual>, kNear);
  t.add(ZYDIS_MNEMONIC_LOOPNE, bind_loop<LoopKind::WhileNotEqual>, kNear);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_JCXZ, ZYDIS_MNEMONIC_JECXZ, ZYDIS_MNEMONIC_JRCXZ})
    t.add(m, fixed<&jcxz>, kNear);
}

}  // namespace vtlab::isa
