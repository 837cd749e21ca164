// Data movement: MOV, MOVZX/MOVSX, XCHG, XADD, CMPXCHG, CMPXCHG8B, BSWAP,
// CMOVcc, SETcc, LEA, XLAT, CBW/CWDE/CDQE, CWD/CDQ/CQO, NOP.
#include "core/isa/operands.h"
#include "core/isa/registry.h"

namespace vtlab::isa {

namespace {

struct Mov {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    T v;
    TRY(read_op<T>(cpu, i, 1, v));
    return write_op<T>(cpu, i, 0, v);
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

Status nop(Cpu&, const DecodedInsn&) { return Status::Ok; }

Handler bind_mov(DecodedInsn& i, const ZydisDecodedInstruction& zi) {
  // MOV to/from segment, control and debug registers belong to the
  // families that own those registers; here only general moves.
  for (unsigned n = 0; n < 2; ++n) {
    if (i.op[n].kind == OpKind::Sreg) return bind_mov_sreg(i, zi);
    if (i.op[n].kind == OpKind::Creg || i.op[n].kind == OpKind::Dreg) return bind_mov_creg(i, zi);
  }
  for (unsigned n = 0; n < 2; ++n)
    if (i.op[n].kind != OpKind::Reg && i.op[n].kind != OpKind::Mem && i.op[n].kind != OpKind::Imm) return nullptr;
  return by_size<Mov>(i.op[0].size);
}

Handler bind_lea(DecodedInsn& i, const ZydisDecodedInstruction&) {
  return i.op[0].kind == OpKind::Reg ? by_size_wdq<Lea>(i.op[0].size) : nullptr;
}

Handler bind_nop(DecodedInsn&, const ZydisDecodedInstruction&) { return &nop; }

}  // namespace

void register_data(InsnTable& t) {
  t.add(ZYDIS_MNEMONIC_MOV, bind_mov);
  t.add(ZYDIS_MNEMONIC_LEA, bind_lea);
  t.add(ZYDIS_MNEMONIC_NOP, bind_nop);
}

}  // namespace vtlab::isa
