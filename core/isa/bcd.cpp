// Decimal arithmetic adjusts: DAA DAS AAA AAS AAM AAD (Intel SDM vol. 2).
//
// All are invalid in 64-bit mode; the decoder already refuses them there
// (#UD), so these handlers only ever see 16- and 32-bit code.
//
// The flags the SDM leaves undefined come out as the Intel host computes
// them (measured exhaustively in 32-bit code, see docs/UNDEFINED_FLAGS.md):
//   - DAA/DAS: OF = 0;
//   - AAA/AAS: SF ZF PF from the final AL, OF = 0;
//   - AAM: OF AF CF = 0;
//   - AAD: OF AF CF (and SF ZF PF) of the 8-bit addition AL + AH * imm8.
#include "core/isa/operands.h"
#include "core/isa/registry.h"

namespace vtlab::isa {

namespace {

uint32_t flag_if(bool c, uint32_t f) { return c ? f : 0; }

// DAA: decimal adjust AL after an addition.
Status daa(Cpu& cpu, const DecodedInsn&) {
  Flags& f = cpu.s.flags;
  const uint8_t old_al = cpu.reg<uint8_t>(RAX);
  const bool old_cf = f.cf();
  uint8_t al = old_al;
  bool af = false, cf = false;
  if ((old_al & 0x0F) > 9 || f.af()) {
    al = uint8_t(al + 0x06);
    af = true;
  }
  if (old_al > 0x99 || old_cf) {
    al = uint8_t(al + 0x60);
    cf = true;
  }
  cpu.set_reg<uint8_t>(RAX, al);
  f.set_arith(szp_flags(al) | flag_if(cf, flag::CF) | flag_if(af, flag::AF));
  return Status::Ok;
}

// DAS: decimal adjust AL after a subtraction.  Unlike DAA, the second step
// does not clear CF: a borrow out of the low-digit step survives (SDM).
Status das(Cpu& cpu, const DecodedInsn&) {
  Flags& f = cpu.s.flags;
  const uint8_t old_al = cpu.reg<uint8_t>(RAX);
  const bool old_cf = f.cf();
  uint8_t al = old_al;
  bool af = false, cf = false;
  if ((old_al & 0x0F) > 9 || f.af()) {
    cf = old_cf || old_al < 0x06;
    al = uint8_t(al - 0x06);
    af = true;
  }
  if (old_al > 0x99 || old_cf) {
    al = uint8_t(al - 0x60);
    cf = true;
  }
  cpu.set_reg<uint8_t>(RAX, al);
  f.set_arith(szp_flags(al) | flag_if(cf, flag::CF) | flag_if(af, flag::AF));
  return Status::Ok;
}

// AAA: ASCII adjust after addition.  The SDM's modern form adds 106H to AX
// as a whole, so a carry out of AL + 6 reaches AH too.
Status aaa(Cpu& cpu, const DecodedInsn&) {
  const uint16_t ax = cpu.reg<uint16_t>(RAX);
  const bool adjust = (ax & 0x0F) > 9 || cpu.s.flags.af();
  const uint16_t sum = adjust ? uint16_t(ax + 0x106) : ax;
  const uint8_t al = sum & 0x0F;
  cpu.set_reg<uint16_t>(RAX, uint16_t((sum & 0xFF00) | al));
  cpu.s.flags.set_arith(szp_flags(al) | flag_if(adjust, flag::AF | flag::CF));
  return Status::Ok;
}

// AAS: ASCII adjust after subtraction: AX - 6 (which may borrow from AH),
// then AH - 1.
Status aas(Cpu& cpu, const DecodedInsn&) {
  const uint16_t ax = cpu.reg<uint16_t>(RAX);
  const bool adjust = (ax & 0x0F) > 9 || cpu.s.flags.af();
  const uint16_t diff = adjust ? uint16_t(ax - 0x06 - 0x100) : ax;
  const uint8_t al = diff & 0x0F;
  cpu.set_reg<uint16_t>(RAX, uint16_t((diff & 0xFF00) | al));
  cpu.s.flags.set_arith(szp_flags(al) | flag_if(adjust, flag::AF | flag::CF));
  return Status::Ok;
}

// AAM imm8: AH <- AL / imm8, AL <- AL mod imm8; imm8 = 0 is #DE.
Status aam(Cpu& cpu, const DecodedInsn& i) {
  const uint8_t base = uint8_t(i.imm);
  if (base == 0) return cpu.raise(vec::DE);
  const uint8_t al = cpu.reg<uint8_t>(RAX);
  const uint8_t r = al % base;
  cpu.set_reg<uint8_t>(kRegAH, uint8_t(al / base));
  cpu.set_reg<uint8_t>(RAX, r);
  cpu.s.flags.set_arith(szp_flags(r));  // OF AF CF (undefined) cleared
  return Status::Ok;
}

// AAD imm8: AL <- (AL + AH * imm8) & FFH, AH <- 0.
Status aad(Cpu& cpu, const DecodedInsn& i) {
  const uint8_t base = uint8_t(i.imm);
  const uint8_t al = cpu.reg<uint8_t>(RAX);
  const uint8_t prod = uint8_t(cpu.reg<uint8_t>(kRegAH) * base);
  const uint8_t r = uint8_t(al + prod);
  cpu.set_reg<uint16_t>(RAX, r);
  // OF AF CF (undefined) are those of the 8-bit addition AL + (AH * imm8).
  cpu.s.flags.set_add<uint8_t>(al, prod, r);
  return Status::Ok;
}

}  // namespace

void register_bcd(InsnTable& t) {
  t.add(ZYDIS_MNEMONIC_DAA, fixed<&daa>);
  t.add(ZYDIS_MNEMONIC_DAS, fixed<&das>);
  t.add(ZYDIS_MNEMONIC_AAA, fixed<&aaa>);
  t.add(ZYDIS_MNEMONIC_AAS, fixed<&aas>);
  t.add(ZYDIS_MNEMONIC_AAM, fixed<&aam>);
  t.add(ZYDIS_MNEMONIC_AAD, fixed<&aad>);
}

}  // namespace vtlab::isa
