// MMX/SSE/SSE2 shuffles, unpacks and packs (Intel SDM vol. 2): PSHUFD
// PSHUFLW PSHUFHW PSHUFW, SHUFPS SHUFPD, UNPCKLPS UNPCKHPS UNPCKLPD
// UNPCKHPD, PUNPCKL/H BW WD DQ QDQ, PACKSSWB PACKSSDW PACKUSWB, PINSRW and
// PEXTRW.  All are bit moves: no MXCSR involvement.
#include <limits>

#include "core/isa/registry.h"
#include "core/isa/sse_common.h"

namespace vtlab::isa {

namespace {

using namespace simd;

// PSHUFD (T = uint32_t, all lanes) / PSHUFW (MMX, uint16_t): each lane of
// the destination takes the source lane the next 2 bits of imm8 select.
template <typename T> struct ShuffleAll {
  template <unsigned N> static Vec<N> apply(const Vec<N>&, const Vec<N>& b, uint8_t imm) {
    Vec<N> r;
    for (unsigned k = 0; k < 4; ++k) r.template set<T>(k, b.template get<T>((imm >> (2 * k)) & 3));
    return r;
  }
};

// PSHUFLW (Quad 0) / PSHUFHW (Quad 1): the same on the words of one
// quadword; the other quadword is copied from the source.
template <unsigned Quad> struct ShuffleWords {
  template <unsigned N> static Vec<N> apply(const Vec<N>&, const Vec<N>& b, uint8_t imm) {
    Vec<N> r = b;
    for (unsigned k = 0; k < 4; ++k) r.template set<uint16_t>(Quad * 4 + k, b.template get<uint16_t>(Quad * 4 + ((imm >> (2 * k)) & 3)));
    return r;
  }
};

// SHUFPS: lanes 0-1 from the destination, 2-3 from the source.
struct ShufPs {
  template <unsigned N> static Vec<N> apply(const Vec<N>& a, const Vec<N>& b, uint8_t imm) {
    Vec<N> r;
    for (unsigned k = 0; k < 4; ++k) r.template set<uint32_t>(k, (k < 2 ? a : b).template get<uint32_t>((imm >> (2 * k)) & 3));
    return r;
  }
};
struct ShufPd {
  template <unsigned N> static Vec<N> apply(const Vec<N>& a, const Vec<N>& b, uint8_t imm) {
    Vec<N> r;
    r.template set<uint64_t>(0, a.template get<uint64_t>(imm & 1));
    r.template set<uint64_t>(1, b.template get<uint64_t>((imm >> 1) & 1));
    return r;
  }
};

// Interleave the low (High = false) or high halves' lanes of destination
// and source: dest lane k, source lane k, dest lane k+1, ...
template <typename T, bool High> struct Unpack {
  template <unsigned N> static Vec<N> apply(const Vec<N>& a, const Vec<N>& b, uint8_t) {
    constexpr unsigned half = Vec<N>::template lanes<T>() / 2;
    const unsigned from = High ? half : 0;
    Vec<N> r;
    for (unsigned k = 0; k < half; ++k) {
      r.template set<T>(2 * k, a.template get<T>(from + k));
      r.template set<T>(2 * k + 1, b.template get<T>(from + k));
    }
    return r;
  }
};

// Narrowing with saturation: the destination's lanes then the source's.
template <typename Wide, typename Narrow> struct Pack {
  template <unsigned N> static Vec<N> apply(const Vec<N>& a, const Vec<N>& b, uint8_t) {
    constexpr unsigned n = Vec<N>::template lanes<Wide>();
    Vec<N> r;
    for (unsigned k = 0; k < 2 * n; ++k) {
      const int64_t v = (k < n ? a : b).template get<Wide>(k % n);
      r.template set<Narrow>(k, static_cast<Narrow>(std::clamp<int64_t>(v, std::numeric_limits<Narrow>::min(),
                                                                         std::numeric_limits<Narrow>::max())));
    }
    return r;
  }
};

// PINSRW mm/xmm, r32/m16, imm8: one word replaced.
template <unsigned N> Status pinsrw(Cpu& cpu, const DecodedInsn& i) {
  TRY(vec_available<N>(cpu));
  Vec<N> src;
  TRY(read_src<N>(cpu, i, 1, src, Align::Any));
  Vec<N> d = vreg<N>(cpu, i.op[0]);
  d.template set<uint16_t>(i.imm % Vec<N>::template lanes<uint16_t>(), src.template get<uint16_t>(0));
  set_vreg<N>(cpu, i.op[0], d);
  vec_retire<N>(cpu);
  return Status::Ok;
}

// PEXTRW r32, mm/xmm, imm8: one word, zero-extended.
template <unsigned N> Status pextrw(Cpu& cpu, const DecodedInsn& i) {
  TRY(vec_available<N>(cpu));
  const Vec<N> v = vreg<N>(cpu, i.op[1]);
  cpu.set_reg<uint32_t>(i.op[0].reg, v.template get<uint16_t>(i.imm % Vec<N>::template lanes<uint16_t>()));
  vec_retire<N>(cpu);
  return Status::Ok;
}

Handler bind_pinsrw(DecodedInsn& i, const ZydisDecodedInstruction&) {
  if (i.nops != 3 || (i.op[1].kind != OpKind::Reg && i.op[1].kind != OpKind::Mem)) return nullptr;
  if (i.op[0].kind == OpKind::Xmm) return &pinsrw<16>;
  if (i.op[0].kind == OpKind::Mmx) return &pinsrw<8>;
  return nullptr;
}
Handler bind_pextrw(DecodedInsn& i, const ZydisDecodedInstruction&) {
  // SSE4.1's PEXTRW m16 form is not part of SSE2.
  if (i.nops != 3 || i.op[0].kind != OpKind::Reg) return nullptr;
  if (i.op[1].kind == OpKind::Xmm) return &pextrw<16>;
  if (i.op[1].kind == OpKind::Mmx) return &pextrw<8>;
  return nullptr;
}

// Forms that exist only for one register file.
template <typename Op, OpKind K> Handler bind_only(DecodedInsn& i, const ZydisDecodedInstruction&) {
  if (i.nops < 2 || i.op[0].kind != K || (i.op[1].kind != K && i.op[1].kind != OpKind::Mem)) return nullptr;
  return &binop<Op, K == OpKind::Xmm ? 16 : 8>;
}

}  // namespace

void register_sse_shuffle(InsnTable& t) {
  t.add(ZYDIS_MNEMONIC_PSHUFD, bind_only<ShuffleAll<uint32_t>, OpKind::Xmm>);
  t.add(ZYDIS_MNEMONIC_PSHUFW, bind_only<ShuffleAll<uint16_t>, OpKind::Mmx>);
  t.add(ZYDIS_MNEMONIC_PSHUFLW, bind_only<ShuffleWords<0>, OpKind::Xmm>);
  t.add(ZYDIS_MNEMONIC_PSHUFHW, bind_only<ShuffleWords<1>, OpKind::Xmm>);
  t.add(ZYDIS_MNEMONIC_SHUFPS, bind_only<ShufPs, OpKind::Xmm>);
  t.add(ZYDIS_MNEMONIC_SHUFPD, bind_only<ShufPd, OpKind::Xmm>);
  t.add(ZYDIS_MNEMONIC_UNPCKLPS, bind_only<Unpack<uint32_t, false>, OpKind::Xmm>);
  t.add(ZYDIS_MNEMONIC_UNPCKHPS, bind_only<Unpack<uint32_t, true>, OpKind::Xmm>);
  t.add(ZYDIS_MNEMONIC_UNPCKLPD, bind_only<Unpack<uint64_t, false>, OpKind::Xmm>);
  t.add(ZYDIS_MNEMONIC_UNPCKHPD, bind_only<Unpack<uint64_t, true>, OpKind::Xmm>);
  t.add(ZYDIS_MNEMONIC_PUNPCKLBW, bind_binop<Unpack<uint8_t, false>>);
  t.add(ZYDIS_MNEMONIC_PUNPCKLWD, bind_binop<Unpack<uint16_t, false>>);
  t.add(ZYDIS_MNEMONIC_PUNPCKLDQ, bind_binop<Unpack<uint32_t, false>>);
  t.add(ZYDIS_MNEMONIC_PUNPCKLQDQ, bind_only<Unpack<uint64_t, false>, OpKind::Xmm>);
  t.add(ZYDIS_MNEMONIC_PUNPCKHBW, bind_binop<Unpack<uint8_t, true>>);
  t.add(ZYDIS_MNEMONIC_PUNPCKHWD, bind_binop<Unpack<uint16_t, true>>);
  t.add(ZYDIS_MNEMONIC_PUNPCKHDQ, bind_binop<Unpack<uint32_t, true>>);
  t.add(ZYDIS_MNEMONIC_PUNPCKHQDQ, bind_only<Unpack<uint64_t, true>, OpKind::Xmm>);
  t.add(ZYDIS_MNEMONIC_PACKSSWB, bind_binop<Pack<int16_t, int8_t>>);
  t.add(ZYDIS_MNEMONIC_PACKSSDW, bind_binop<Pack<int32_t, int16_t>>);
  t.add(ZYDIS_MNEMONIC_PACKUSWB, bind_binop<Pack<int16_t, uint8_t>>);
  t.add(ZYDIS_MNEMONIC_PINSRW, bind_pinsrw);
  t.add(ZYDIS_MNEMONIC_PEXTRW, bind_pextrw);
}

}  // namespace vtlab::isa
