// The x87 FPU's state rules shared by every x87 family file and by FXSAVE:
// status-word fields, tags (SDM vol. 1, 8.1.7 and 10.5.1.1), the #NM and
// pending-#MF checks every x87 instruction starts with (SDM vol. 3,
// table 2-2; vol. 1, 8.6-8.7), the last-instruction pointers (vol. 1,
// 8.1.8-8.1.9) and the multi-byte memory accesses the environment images
// and 80-bit operands need.
//
// Pending #MF with CR0.NE=0: a PC routes FERR# to IRQ 13 and the processor
// waits at the next waiting instruction; vtlab raises #MF in both cases
// (Linux and every OS since the 486 run with CR0.NE=1).
#pragma once

#include "core/isa/operands.h"

namespace vtlab::isa {

namespace fsw {
inline constexpr uint16_t IE = 0x0001, DE = 0x0002, ZE = 0x0004, OE = 0x0008, UE = 0x0010, PE = 0x0020,
                          SF = 0x0040, ES = 0x0080, C0 = 0x0100, C1 = 0x0200, C2 = 0x0400, TOP = 0x3800,
                          C3 = 0x4000, B = 0x8000;
inline constexpr uint16_t kExceptions = 0x003F;
}  // namespace fsw

inline unsigned x87_top(const X87State& f) { return (f.fsw >> 11) & 7; }

// ES (and B, which mirrors it since the 387) is set exactly while an
// exception flag is set whose mask bit is clear.  FLDCW, FLDENV and FRSTOR
// recompute it, and FNSTENV after masking everything (measured on an Intel
// Xeon: FLDENV of FSW=0080 reads back 0000, of FSW=0001 under FCW=037E
// reads back 8081).
inline void x87_update_summary(X87State& f) {
  if (f.fsw & ~f.fcw & fsw::kExceptions) f.fsw |= fsw::ES | fsw::B;
  else f.fsw &= static_cast<uint16_t>(~(fsw::ES | fsw::B));
}

// FXSAVE's abridged tag: bit i set when physical register Ri is not empty.
inline uint8_t x87_abridged_tag(const X87State& f) {
  uint8_t t = 0;
  for (unsigned r = 0; r < 8; ++r)
    if (((f.ftw >> (2 * r)) & 3) != 3) t |= static_cast<uint8_t>(1u << r);
  return t;
}

// The full tag word FSTENV/FSAVE store, from the abridged one and each
// register's contents (SDM vol. 1, table 10-2): exponent all ones ->
// special; all zeros -> zero if the whole significand is 0, else special
// (denormal, pseudo-denormal); otherwise valid if the integer bit is set,
// special (unnormal) if not.
inline uint16_t x87_full_tag_from_abridged(const X87State& with_regs, uint8_t abridged) {
  uint16_t ftw = 0;
  for (unsigned r = 0; r < 8; ++r) {
    unsigned tag = 3;
    if (abridged & (1u << r)) {
      const auto& b = with_regs.regs[r];
      uint64_t significand = 0;
      for (unsigned k = 0; k < 8; ++k) significand |= uint64_t{b[k]} << (8 * k);
      const unsigned exponent = (b[8] | (b[9] << 8)) & 0x7FFF;
      if (exponent == 0x7FFF) tag = 2;
      else if (exponent == 0) tag = significand == 0 ? 1 : 2;
      else tag = (significand >> 63) ? 0 : 2;
    }
    ftw |= static_cast<uint16_t>(tag << (2 * r));
  }
  return ftw;
}

inline uint16_t x87_full_tag(const X87State& f) { return x87_full_tag_from_abridged(f, x87_abridged_tag(f)); }

// FNINIT, FNCLEX, FNSTSW, FNSTCW, FNSTENV and FNSAVE: #NM on CR0.EM or TS.
inline Status x87_nowait_check(Cpu& cpu) {
  return (cpu.s.cr0 & (cr0::EM | cr0::TS)) ? cpu.raise(vec::NM) : Status::Ok;
}

// Every other x87 instruction: #NM, then a pending unmasked exception left
// by an earlier instruction is reported (#MF) before this one does anything.
inline Status x87_wait_check(Cpu& cpu) {
  TRY(x87_nowait_check(cpu));
  return (cpu.s.fpu.fsw & fsw::ES) ? cpu.raise(vec::MF) : Status::Ok;
}

// FIP/FCS/FOP of every non-control instruction, FDP/FDS of those with a
// memory operand.  The pointers are offsets with their selectors in every
// mode; the real-mode images turn them into linear addresses when stored
// (x87_control.cpp).  The binder leaves FOP (opcode bits 10:8, ModR/M) in
// DecodedInsn::imm, which no x87 instruction uses.
inline void x87_note_instruction(Cpu& cpu, const DecodedInsn& i, bool memory_operand) {
  X87State& f = cpu.s.fpu;
  f.fip = cpu.s.rip;
  f.fcs = cpu.s.seg[CS].selector;
  f.fop = static_cast<uint16_t>(i.imm & 0x7FF);
  if (memory_operand) {
    f.fdp = effective_address(cpu, i);
    f.fds = cpu.s.seg[i.mem.seg].selector;
  }
}

// `len` bytes at seg:offset in pieces of `piece` bytes (the last may be
// shorter), so alignment checks see the operand's own granule (SDM vol. 3,
// table 6-7: 8 for m80, 2 or 4 for the environment and save images).
inline Status x87_read_bytes(Cpu& cpu, unsigned seg, uint64_t offset, unsigned len, unsigned piece, uint8_t* out) {
  for (unsigned at = 0; at < len; at += piece) {
    const unsigned n = len - at < piece ? len - at : piece;
    uint64_t v;
    TRY(cpu.read_mem(seg, offset + at, n, v));
    for (unsigned k = 0; k < n; ++k) out[at + k] = static_cast<uint8_t>(v >> (8 * k));
  }
  return Status::Ok;
}

// The whole store is probed first, so a fault on its last byte leaves
// memory as it was.
inline Status x87_write_bytes(Cpu& cpu, unsigned seg, uint64_t offset, unsigned len, unsigned piece,
                              const uint8_t* in) {
  TRY(probe_write(cpu, seg, offset, len));
  for (unsigned at = 0; at < len; at += piece) {
    const unsigned n = len - at < piece ? len - at : piece;
    uint64_t v = 0;
    for (unsigned k = 0; k < n; ++k) v |= uint64_t{in[at + k]} << (8 * k);
    TRY(cpu.write_mem(seg, offset + at, n, v));
  }
  return Status::Ok;
}

}  // namespace vtlab::isa
