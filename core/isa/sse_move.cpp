// MMX/SSE/SSE2 data movement (Intel SDM vol. 2): MOVAPS MOVAPD MOVDQA
// (aligned) and MOVUPS MOVUPD MOVDQU, the non-temporal stores MOVNTPS
// MOVNTPD MOVNTDQ MOVNTQ MOVNTI (ordinary stores here: vtlab has no caches),
// MOVD/MOVQ in every form, MOVQ2DQ/MOVDQ2Q, MOVSS/MOVSD, the half moves
// MOVLPS MOVHPS MOVLPD MOVHPD MOVHLPS MOVLHPS, the sign masks MOVMSKPS
// MOVMSKPD PMOVMSKB, and MASKMOVDQU/MASKMOVQ.
#include "core/isa/registry.h"
#include "core/isa/sse_common.h"

namespace vtlab::isa {

namespace {

using namespace simd;

// Whole-register moves: xmm <- xmm/m128 and m128 <- xmm.
template <Align A> Status mov128(Cpu& cpu, const DecodedInsn& i) {
  TRY(sse_available(cpu));
  if (i.op[0].kind == OpKind::Mem) return write_mem_vec(cpu, i, xmm(cpu, i.op[1].reg), 16, A);
  Xmm v;
  TRY(read_src<16>(cpu, i, 1, v, A));
  set_xmm(cpu, i.op[0].reg, v);
  return Status::Ok;
}

Handler bind_mov128_checked(DecodedInsn& i, Handler h) {
  if (i.nops != 2) return nullptr;
  const bool load = i.op[0].kind == OpKind::Xmm && (i.op[1].kind == OpKind::Xmm || i.op[1].kind == OpKind::Mem);
  const bool store = i.op[0].kind == OpKind::Mem && i.op[1].kind == OpKind::Xmm;
  return load || store ? h : nullptr;
}
template <Align A> Handler bind_mov128(DecodedInsn& i, const ZydisDecodedInstruction&) {
  return bind_mov128_checked(i, &mov128<A>);
}

// MOVD (W = 4) and MOVQ (W = 8) between any two of: XMM (a destination is
// zero-extended to 128 bits, even from another XMM register), MMX, a
// general register, memory.  Also MOVQ2DQ/MOVDQ2Q, which touch both files.
template <unsigned W> Status movdq(Cpu& cpu, const DecodedInsn& i) {
  const Operand& d = i.op[0];
  const Operand& s = i.op[1];
  const bool uses_xmm = d.kind == OpKind::Xmm || s.kind == OpKind::Xmm;
  const bool uses_mm = d.kind == OpKind::Mmx || s.kind == OpKind::Mmx;
  if (uses_xmm) TRY(sse_available(cpu));
  if (uses_mm) TRY(mmx_available(cpu));
  uint64_t v = 0;
  switch (s.kind) {
    case OpKind::Xmm: v = xmm(cpu, s.reg).get<uint64_t>(0); break;
    case OpKind::Mmx: v = mm(cpu, s.reg).get<uint64_t>(0); break;
    case OpKind::Reg: v = cpu.s.gpr[s.reg]; break;
    default: TRY(cpu.read_mem(i.mem.seg, effective_address(cpu, i), W, v)); break;
  }
  v &= all_ones(W);
  switch (d.kind) {
    case OpKind::Xmm: {
      Xmm x{};
      x.set<uint64_t>(0, v);
      set_xmm(cpu, d.reg, x);
      break;
    }
    case OpKind::Mmx: {
      Mm m{};
      m.set<uint64_t>(0, v);
      set_mm(cpu, d.reg, m);
      break;
    }
    case OpKind::Reg: cpu.set_reg_sized(d.reg, W, v); break;
    default: TRY(cpu.write_mem(i.mem.seg, effective_address(cpu, i), W, v)); break;
  }
  if (uses_mm) enter_mmx_state(cpu);
  return Status::Ok;
}

bool is_vec_reg(const Operand& o) { return o.kind == OpKind::Xmm || o.kind == OpKind::Mmx; }

template <unsigned W> Handler bind_movdq(DecodedInsn& i, const ZydisDecodedInstruction&) {
  if (i.nops != 2 || !(is_vec_reg(i.op[0]) || is_vec_reg(i.op[1]))) return nullptr;
  if (i.op[0].kind == OpKind::Mem && i.op[1].kind == OpKind::Mem) return nullptr;
  return &movdq<W>;
}

// MOVNTQ m64, mm.
Status movntq(Cpu& cpu, const DecodedInsn& i) {
  TRY(mmx_available(cpu));
  TRY(cpu.write_mem(i.mem.seg, effective_address(cpu, i), 8, mm(cpu, i.op[1].reg).get<uint64_t>(0)));
  enter_mmx_state(cpu);
  return Status::Ok;
}

// MOVNTI m32/m64, r: an integer store (SSE2, but no SSE state: no checks).
Status movnti(Cpu& cpu, const DecodedInsn& i) {
  const unsigned size = i.op[0].size;
  return cpu.write_mem(i.mem.seg, effective_address(cpu, i), size, cpu.reg_sized(i.op[1].reg, size));
}

// MOVSS (W = 4) / MOVSD (W = 8): register to register merges the low lane;
// a load zeroes the rest of the register; a store writes the low lane.
template <unsigned W> Status mov_scalar(Cpu& cpu, const DecodedInsn& i) {
  TRY(sse_available(cpu));
  if (i.op[0].kind == OpKind::Mem) return write_mem_vec(cpu, i, xmm(cpu, i.op[1].reg), W, Align::Any);
  Xmm v;
  TRY(read_src<16>(cpu, i, 1, v, Align::Any));
  if (i.op[1].kind == OpKind::Xmm) {
    Xmm d = xmm(cpu, i.op[0].reg);
    std::memcpy(d.b.data(), v.b.data(), W);
    v = d;
  }
  set_xmm(cpu, i.op[0].reg, v);
  return Status::Ok;
}

template <unsigned W> Handler bind_mov_scalar(DecodedInsn& i, const ZydisDecodedInstruction&) {
  return bind_mov128_checked(i, &mov_scalar<W>);
}

// MOVLPS/MOVLPD (Half 0) and MOVHPS/MOVHPD (Half 1): one quadword between
// memory and a half of the register; the other half is left alone.
template <unsigned Half> Status mov_half(Cpu& cpu, const DecodedInsn& i) {
  TRY(sse_available(cpu));
  const uint64_t ea = effective_address(cpu, i);
  if (i.op[0].kind == OpKind::Mem)
    return cpu.write_mem(i.mem.seg, ea, 8, xmm(cpu, i.op[1].reg).get<uint64_t>(Half));
  uint64_t v;
  TRY(cpu.read_mem(i.mem.seg, ea, 8, v));
  Xmm d = xmm(cpu, i.op[0].reg);
  d.set<uint64_t>(Half, v);
  set_xmm(cpu, i.op[0].reg, d);
  return Status::Ok;
}

template <unsigned Half> Handler bind_mov_half(DecodedInsn& i, const ZydisDecodedInstruction&) {
  if (i.nops != 2 || (i.op[0].kind == OpKind::Mem) == (i.op[1].kind == OpKind::Mem)) return nullptr;
  return &mov_half<Half>;
}

// MOVHLPS (high quadword of the source to the low one of the destination)
// and MOVLHPS (low to high).
template <unsigned From, unsigned To> Status mov_cross(Cpu& cpu, const DecodedInsn& i) {
  TRY(sse_available(cpu));
  Xmm d = xmm(cpu, i.op[0].reg);
  d.set<uint64_t>(To, xmm(cpu, i.op[1].reg).get<uint64_t>(From));
  set_xmm(cpu, i.op[0].reg, d);
  return Status::Ok;
}

// MOVMSKPS/MOVMSKPD (T = the lane type) and PMOVMSKB (T = uint8_t): the
// sign bit of each lane into a general register, zero-extended.
template <typename T, unsigned N> Status move_mask(Cpu& cpu, const DecodedInsn& i) {
  TRY(vec_available<N>(cpu));
  const Vec<N> v = vreg<N>(cpu, i.op[1]);
  uint32_t mask = 0;
  for (unsigned k = 0; k < Vec<N>::template lanes<T>(); ++k) mask |= uint32_t(v.template get<T>(k) >> (sizeof(T) * 8 - 1)) << k;
  cpu.set_reg<uint32_t>(i.op[0].reg, mask);
  vec_retire<N>(cpu);
  return Status::Ok;
}

template <typename T> Handler bind_move_mask(DecodedInsn& i, const ZydisDecodedInstruction&) {
  if (i.nops != 2 || i.op[0].kind != OpKind::Reg) return nullptr;
  if (i.op[1].kind == OpKind::Xmm) return &move_mask<T, 16>;
  if (i.op[1].kind == OpKind::Mmx && sizeof(T) == 1) return &move_mask<T, 8>;
  return nullptr;
}

// MASKMOVDQU/MASKMOVQ: the bytes of operand 0 whose mask byte (operand 1)
// has its top bit set go to DS:rDI (segment override allowed).  Every byte
// of the destination is checked before any is written: whether masked-off
// bytes can fault is implementation-specific, and this way none is
// written before a fault.
template <unsigned N> Status mask_move(Cpu& cpu, const DecodedInsn& i) {
  TRY(vec_available<N>(cpu));
  const Vec<N> v = vreg<N>(cpu, i.op[0]);
  const Vec<N> mask = vreg<N>(cpu, i.op[1]);
  const uint64_t ea = cpu.reg_sized(RDI, i.addrsize);
  TRY(probe_write(cpu, i.mem.seg, ea, N));
  for (unsigned k = 0; k < N; ++k)
    if (mask.b[k] & 0x80) TRY(cpu.write_mem(i.mem.seg, (ea + k) & all_ones(i.addrsize), 1, v.b[k]));
  vec_retire<N>(cpu);
  return Status::Ok;
}

template <unsigned N> Handler bind_mask_move(DecodedInsn& i, const ZydisDecodedInstruction&) {
  const OpKind want = N == 16 ? OpKind::Xmm : OpKind::Mmx;
  if (i.nops < 2 || i.op[0].kind != want || i.op[1].kind != want) return nullptr;
  return &mask_move<N>;
}

Handler bind_movntq(DecodedInsn& i, const ZydisDecodedInstruction&) {
  return i.nops == 2 && i.op[0].kind == OpKind::Mem && i.op[1].kind == OpKind::Mmx ? &movntq : nullptr;
}
Handler bind_movnti(DecodedInsn& i, const ZydisDecodedInstruction&) {
  return i.nops == 2 && i.op[0].kind == OpKind::Mem && i.op[1].kind == OpKind::Reg ? &movnti : nullptr;
}
Handler bind_movnt128(DecodedInsn& i, const ZydisDecodedInstruction&) {
  return i.nops == 2 && i.op[0].kind == OpKind::Mem && i.op[1].kind == OpKind::Xmm ? &mov128<Align::M128> : nullptr;
}
template <unsigned From, unsigned To> Handler bind_mov_cross(DecodedInsn& i, const ZydisDecodedInstruction&) {
  return i.nops == 2 && i.op[0].kind == OpKind::Xmm && i.op[1].kind == OpKind::Xmm ? &mov_cross<From, To> : nullptr;
}

}  // namespace

// MOVSD's SSE2 form; string.cpp owns the mnemonic and hands it on.
Handler bind_sse_movsd(DecodedInsn& i, const ZydisDecodedInstruction& zi) { return bind_mov_scalar<8>(i, zi); }

void register_sse_move(InsnTable& t) {
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_MOVAPS, ZYDIS_MNEMONIC_MOVAPD, ZYDIS_MNEMONIC_MOVDQA})
    t.add(m, bind_mov128<Align::M128>);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_MOVUPS, ZYDIS_MNEMONIC_MOVUPD, ZYDIS_MNEMONIC_MOVDQU})
    t.add(m, bind_mov128<Align::Any>);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_MOVNTPS, ZYDIS_MNEMONIC_MOVNTPD, ZYDIS_MNEMONIC_MOVNTDQ})
    t.add(m, bind_movnt128);
  t.add(ZYDIS_MNEMONIC_MOVNTQ, bind_movntq);
  t.add(ZYDIS_MNEMONIC_MOVNTI, bind_movnti);
  t.add(ZYDIS_MNEMONIC_MOVD, bind_movdq<4>);
  t.add(ZYDIS_MNEMONIC_MOVQ, bind_movdq<8>);
  t.add(ZYDIS_MNEMONIC_MOVQ2DQ, bind_movdq<8>);
  t.add(ZYDIS_MNEMONIC_MOVDQ2Q, bind_movdq<8>);
  t.add(ZYDIS_MNEMONIC_MOVSS, bind_mov_scalar<4>);
  t.add(ZYDIS_MNEMONIC_MOVLPS, bind_mov_half<0>);
  t.add(ZYDIS_MNEMONIC_MOVLPD, bind_mov_half<0>);
  t.add(ZYDIS_MNEMONIC_MOVHPS, bind_mov_half<1>);
  t.add(ZYDIS_MNEMONIC_MOVHPD, bind_mov_half<1>);
  t.add(ZYDIS_MNEMONIC_MOVHLPS, bind_mov_cross<1, 0>);
  t.add(ZYDIS_MNEMONIC_MOVLHPS, bind_mov_cross<0, 1>);
  t.add(ZYDIS_MNEMONIC_MOVMSKPS, bind_move_mask<uint32_t>);
  t.add(ZYDIS_MNEMONIC_MOVMSKPD, bind_move_mask<uint64_t>);
  t.add(ZYDIS_MNEMONIC_PMOVMSKB, bind_move_mask<uint8_t>);
  t.add(ZYDIS_MNEMONIC_MASKMOVDQU, bind_mask_move<16>);
  t.add(ZYDIS_MNEMONIC_MASKMOVQ, bind_mask_move<8>);
}

}  // namespace vtlab::isa
