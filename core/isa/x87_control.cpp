// The x87 control instructions (SDM vol. 1, 8.1.8 and 8.3.12; vol. 2):
// FNINIT, FNCLEX, FNSTSW, FNSTCW, FLDCW, FWAIT, and the environment and
// state images of FNSTENV/FLDENV and FNSAVE/FRSTOR in their four layouts
// (vol. 1, figures 8-9 to 8-12: 16- or 32-bit operand size, protected or
// real/virtual-8086 mode).  None of them changes FIP/FCS/FOP/FDP/FDS.
//
// Non-waiting forms (FNINIT, FNCLEX, FNSTSW, FNSTCW, FNSTENV, FNSAVE) check
// only #NM; FLDCW, FLDENV, FRSTOR and FWAIT report a pending exception
// first (#MF).  FWAIT ignores CR0.EM and faults #NM only with TS and MP.
//
// Images: tags are stored as the full tag word recomputed from the
// registers, and on loading only empty/non-empty is kept (what FXSAVE-era
// processors do).  The reserved upper halves of the 32-bit protected-mode
// image are stored as ones, as an Intel Xeon stores them.  Real-mode images
// hold 20/32-bit linear pointers: vtlab keeps offsets and selectors, stores
// selector*16 + offset, and a real-mode load keeps the linear address as
// the offset with selector 0.
#include "core/isa/registry.h"
#include "core/isa/x87_state.h"

namespace vtlab::isa {

void register_x87_computing(InsnTable& t);  // x87_exec.cpp

namespace {

// FLDCW's view of a control word: bit 6 always reads as 1, bits 7 and
// 13-15 as 0 (measured on an Intel Xeon: FLDCW 0000 -> 0040, FFFF -> 1F7F).
uint16_t loadable_fcw(uint16_t cw) { return static_cast<uint16_t>((cw & 0x1F3F) | 0x0040); }

void init_fpu(X87State& f) {
  f.fcw = 0x037F;
  f.fsw = 0;
  f.ftw = 0xFFFF;
  f.fip = f.fdp = 0;
  f.fop = f.fcs = f.fds = 0;
}

Status fninit(Cpu& cpu, const DecodedInsn&) {
  TRY(x87_nowait_check(cpu));
  init_fpu(cpu.s.fpu);
  return Status::Ok;
}

// FNCLEX: the exception flags, SF, ES and B; C0-C3 and TOP stay.
Status fnclex(Cpu& cpu, const DecodedInsn&) {
  TRY(x87_nowait_check(cpu));
  cpu.s.fpu.fsw &= 0x7F00;
  return Status::Ok;
}

Status fnstsw(Cpu& cpu, const DecodedInsn& i) {
  TRY(x87_nowait_check(cpu));
  return write_op<uint16_t>(cpu, i, 0, cpu.s.fpu.fsw);
}

Status fnstcw(Cpu& cpu, const DecodedInsn& i) {
  TRY(x87_nowait_check(cpu));
  return write_op<uint16_t>(cpu, i, 0, cpu.s.fpu.fcw);
}

// FLDCW: unmasking a flag that is set makes it pending (ES), to be
// reported by the next waiting instruction.
Status fldcw(Cpu& cpu, const DecodedInsn& i) {
  TRY(x87_wait_check(cpu));
  uint16_t cw;
  TRY(read_op<uint16_t>(cpu, i, 0, cw));
  cpu.s.fpu.fcw = loadable_fcw(cw);
  x87_update_summary(cpu.s.fpu);
  return Status::Ok;
}

Status fwait(Cpu& cpu, const DecodedInsn&) {
  if ((cpu.s.cr0 & (cr0::TS | cr0::MP)) == (cr0::TS | cr0::MP)) return cpu.raise(vec::NM);
  return (cpu.s.fpu.fsw & fsw::ES) ? cpu.raise(vec::MF) : Status::Ok;
}

// --- environment images ----------------------------------------------------

struct ImageFormat {
  bool wide;  // 32-bit operand size: 28-byte environment, else 14
  bool real;  // real-address or virtual-8086 mode layout
  unsigned env_size() const { return wide ? 28 : 14; }
  unsigned piece() const { return wide ? 4 : 2; }
};

ImageFormat format_of(const Cpu& cpu, const DecodedInsn& i) {
  return {i.opsize != 2, cpu.s.real_mode() || cpu.s.v8086()};
}

void put16(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
void put32(uint8_t* p, uint32_t v) {
  put16(p, v);
  put16(p + 2, v >> 16);
}
uint32_t get16(const uint8_t* p) { return p[0] | (p[1] << 8); }
uint32_t get32(const uint8_t* p) { return get16(p) | (get16(p + 2) << 16); }

void encode_env(const X87State& f, ImageFormat fmt, uint8_t* out) {
  const uint32_t ip = fmt.real ? static_cast<uint32_t>((f.fcs << 4) + f.fip) : static_cast<uint32_t>(f.fip);
  const uint32_t dp = fmt.real ? static_cast<uint32_t>((f.fds << 4) + f.fdp) : static_cast<uint32_t>(f.fdp);
  const uint16_t ftw = x87_full_tag(f);
  if (fmt.wide) {
    put32(out + 0, 0xFFFF0000u | f.fcw);
    put32(out + 4, 0xFFFF0000u | f.fsw);
    put32(out + 8, 0xFFFF0000u | ftw);
    if (fmt.real) {
      put32(out + 12, 0xFFFF0000u | (ip & 0xFFFF));
      put32(out + 16, ((ip >> 16) << 12) | (f.fop & 0x7FF));
      put32(out + 20, 0xFFFF0000u | (dp & 0xFFFF));
      put32(out + 24, (dp >> 16) << 12);
    } else {
      put32(out + 12, ip);
      put32(out + 16, f.fcs | (uint32_t{f.fop & 0x7FFu} << 16));
      put32(out + 20, dp);
      put32(out + 24, 0xFFFF0000u | f.fds);
    }
  } else {
    put16(out + 0, f.fcw);
    put16(out + 2, f.fsw);
    put16(out + 4, ftw);
    put16(out + 6, ip & 0xFFFF);
    put16(out + 8, fmt.real ? (((ip >> 16) & 0xF) << 12) | (f.fop & 0x7FF) : f.fcs);
    put16(out + 10, dp & 0xFFFF);
    put16(out + 12, fmt.real ? ((dp >> 16) & 0xF) << 12 : f.fds);
  }
}

// Loads everything but the tags, which need the registers (FRSTOR loads
// them first): returns the image's tag word.
uint16_t decode_env(X87State& f, ImageFormat fmt, const uint8_t* in) {
  if (fmt.wide) {
    f.fcw = loadable_fcw(static_cast<uint16_t>(get16(in + 0)));
    f.fsw = static_cast<uint16_t>(get16(in + 4));
    if (fmt.real) {
      f.fip = get16(in + 12) | ((get32(in + 16) >> 12 & 0xFFFF) << 16);
      f.fop = static_cast<uint16_t>(get16(in + 16) & 0x7FF);
      f.fdp = get16(in + 20) | ((get32(in + 24) >> 12 & 0xFFFF) << 16);
      f.fcs = f.fds = 0;
    } else {
      f.fip = get32(in + 12);
      f.fcs = static_cast<uint16_t>(get16(in + 16));
      f.fop = static_cast<uint16_t>(get16(in + 18) & 0x7FF);
      f.fdp = get32(in + 20);
      f.fds = static_cast<uint16_t>(get16(in + 24));
    }
    x87_update_summary(f);
    return static_cast<uint16_t>(get16(in + 8));
  }
  f.fcw = loadable_fcw(static_cast<uint16_t>(get16(in + 0)));
  f.fsw = static_cast<uint16_t>(get16(in + 2));
  f.fip = get16(in + 6);
  f.fdp = get16(in + 10);
  if (fmt.real) {
    f.fip |= (get16(in + 8) >> 12) << 16;
    f.fop = static_cast<uint16_t>(get16(in + 8) & 0x7FF);
    f.fdp |= (get16(in + 12) >> 12) << 16;
    f.fcs = f.fds = 0;
  } else {
    f.fcs = static_cast<uint16_t>(get16(in + 8));
    f.fds = static_cast<uint16_t>(get16(in + 12));
  }
  x87_update_summary(f);
  return static_cast<uint16_t>(get16(in + 4));
}

void load_tags(X87State& f, uint16_t image_ftw) {
  uint8_t abridged = 0;
  for (unsigned r = 0; r < 8; ++r)
    if (((image_ftw >> (2 * r)) & 3) != 3) abridged |= static_cast<uint8_t>(1u << r);
  f.ftw = x87_full_tag_from_abridged(f, abridged);
}

// FNSTENV, then every exception masked (which clears ES and B).
Status fnstenv(Cpu& cpu, const DecodedInsn& i) {
  TRY(x87_nowait_check(cpu));
  const ImageFormat fmt = format_of(cpu, i);
  uint8_t image[28];
  encode_env(cpu.s.fpu, fmt, image);
  TRY(x87_write_bytes(cpu, i.mem.seg, effective_address(cpu, i), fmt.env_size(), fmt.piece(), image));
  cpu.s.fpu.fcw |= fsw::kExceptions;
  x87_update_summary(cpu.s.fpu);
  return Status::Ok;
}

Status fldenv(Cpu& cpu, const DecodedInsn& i) {
  TRY(x87_wait_check(cpu));
  const ImageFormat fmt = format_of(cpu, i);
  uint8_t image[28];
  TRY(x87_read_bytes(cpu, i.mem.seg, effective_address(cpu, i), fmt.env_size(), fmt.piece(), image));
  X87State& f = cpu.s.fpu;
  load_tags(f, decode_env(f, fmt, image));
  return Status::Ok;
}

// FNSAVE: the environment, ST(0)..ST(7) at 10 bytes each, then FNINIT.
Status fnsave(Cpu& cpu, const DecodedInsn& i) {
  TRY(x87_nowait_check(cpu));
  const ImageFormat fmt = format_of(cpu, i);
  X87State& f = cpu.s.fpu;
  uint8_t image[108];
  encode_env(f, fmt, image);
  const unsigned top = x87_top(f);
  for (unsigned k = 0; k < 8; ++k)
    for (unsigned b = 0; b < 10; ++b) image[fmt.env_size() + 10 * k + b] = f.regs[(top + k) & 7][b];
  TRY(x87_write_bytes(cpu, i.mem.seg, effective_address(cpu, i), fmt.env_size() + 80, fmt.piece(), image));
  init_fpu(f);
  return Status::Ok;
}

Status frstor(Cpu& cpu, const DecodedInsn& i) {
  TRY(x87_wait_check(cpu));
  const ImageFormat fmt = format_of(cpu, i);
  uint8_t image[108];
  TRY(x87_read_bytes(cpu, i.mem.seg, effective_address(cpu, i), fmt.env_size() + 80, fmt.piece(), image));
  X87State& f = cpu.s.fpu;
  const uint16_t image_ftw = decode_env(f, fmt, image);
  const unsigned top = x87_top(f);
  for (unsigned k = 0; k < 8; ++k)
    for (unsigned b = 0; b < 10; ++b) f.regs[(top + k) & 7][b] = image[fmt.env_size() + 10 * k + b];
  load_tags(f, image_ftw);
  return Status::Ok;
}

template <Handler H> Handler memory_only(DecodedInsn& i, const ZydisDecodedInstruction&) {
  return i.op[0].kind == OpKind::Mem ? H : nullptr;
}
template <Handler H> Handler word_operand(DecodedInsn& i, const ZydisDecodedInstruction&) {
  return i.op[0].size == 2 ? H : nullptr;
}

}  // namespace

void register_x87(InsnTable& t) {
  t.add(ZYDIS_MNEMONIC_FNINIT, fixed<&fninit>);
  t.add(ZYDIS_MNEMONIC_FNCLEX, fixed<&fnclex>);
  t.add(ZYDIS_MNEMONIC_FNSTSW, word_operand<&fnstsw>);
  t.add(ZYDIS_MNEMONIC_FNSTCW, memory_only<&fnstcw>);
  t.add(ZYDIS_MNEMONIC_FLDCW, memory_only<&fldcw>);
  t.add(ZYDIS_MNEMONIC_FWAIT, fixed<&fwait>);
  t.add(ZYDIS_MNEMONIC_FNSTENV, memory_only<&fnstenv>);
  t.add(ZYDIS_MNEMONIC_FLDENV, memory_only<&fldenv>);
  t.add(ZYDIS_MNEMONIC_FNSAVE, memory_only<&fnsave>);
  t.add(ZYDIS_MNEMONIC_FRSTOR, memory_only<&frstor>);
  register_x87_computing(t);
}

}  // namespace vtlab::isa
