// MMX and SSE2 packed integer instructions (Intel SDM vol. 1, 9.4 and
// 11.4.3; vol. 2): add/subtract with wraparound and saturation, multiplies,
// PMADDWD, averages, min/max, PSADBW, compares, the bitwise logic (and the
// float-typed ANDPS ANDNPS ORPS XORPS and PD forms, which are the same bit
// operations), and the shifts PSLL/PSRL/PSRA W/D/Q and PSLLDQ/PSRLDQ.
//
// Each operation is written once over N-byte vectors: N = 8 binds it to
// MMX registers (MMX checks, x87 tags made valid), N = 16 to XMM ones (SSE
// checks, 16-byte memory operands aligned).
#include <limits>

#include "core/isa/registry.h"
#include "core/isa/sse_common.h"

namespace vtlab::isa {

namespace {

using namespace simd;

template <typename T> T saturate(int64_t v) {
  return static_cast<T>(std::clamp<int64_t>(v, std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
}

// Applies f to each lane pair.
template <typename T, unsigned N, typename F> Vec<N> lanewise(const Vec<N>& a, const Vec<N>& b, F f) {
  Vec<N> r;
  for (unsigned k = 0; k < Vec<N>::template lanes<T>(); ++k)
    r.template set<T>(k, static_cast<T>(f(a.template get<T>(k), b.template get<T>(k))));
  return r;
}

// Operations: apply(dest, src, imm8) -> new dest.
#define VTLAB_LANEWISE(Name, T, expr)                                                     \
  struct Name {                                                                           \
    template <unsigned N> static Vec<N> apply(const Vec<N>& a, const Vec<N>& b, uint8_t) { \
      return lanewise<T>(a, b, [](T x, T y) { return expr; });                            \
    }                                                                                     \
  };

VTLAB_LANEWISE(PaddB, uint8_t, x + y)
VTLAB_LANEWISE(PaddW, uint16_t, x + y)
VTLAB_LANEWISE(PaddD, uint32_t, x + y)
VTLAB_LANEWISE(PaddQ, uint64_t, x + y)
VTLAB_LANEWISE(PsubB, uint8_t, x - y)
VTLAB_LANEWISE(PsubW, uint16_t, x - y)
VTLAB_LANEWISE(PsubD, uint32_t, x - y)
VTLAB_LANEWISE(PsubQ, uint64_t, x - y)
VTLAB_LANEWISE(PaddSB, int8_t, saturate<int8_t>(int64_t(x) + y))
VTLAB_LANEWISE(PaddSW, int16_t, saturate<int16_t>(int64_t(x) + y))
VTLAB_LANEWISE(PaddUSB, uint8_t, saturate<uint8_t>(int64_t(x) + y))
VTLAB_LANEWISE(PaddUSW, uint16_t, saturate<uint16_t>(int64_t(x) + y))
VTLAB_LANEWISE(PsubSB, int8_t, saturate<int8_t>(int64_t(x) - y))
VTLAB_LANEWISE(PsubSW, int16_t, saturate<int16_t>(int64_t(x) - y))
VTLAB_LANEWISE(PsubUSB, uint8_t, saturate<uint8_t>(int64_t(x) - y))
VTLAB_LANEWISE(PsubUSW, uint16_t, saturate<uint16_t>(int64_t(x) - y))
VTLAB_LANEWISE(PmullW, int16_t, int32_t(x) * y)
VTLAB_LANEWISE(PmulhW, int16_t, (int32_t(x) * y) >> 16)
VTLAB_LANEWISE(PmulhUW, uint16_t, (uint32_t(x) * y) >> 16)
VTLAB_LANEWISE(PavgB, uint8_t, (unsigned(x) + y + 1) >> 1)
VTLAB_LANEWISE(PavgW, uint16_t, (unsigned(x) + y + 1) >> 1)
VTLAB_LANEWISE(PminUB, uint8_t, std::min(x, y))
VTLAB_LANEWISE(PmaxUB, uint8_t, std::max(x, y))
VTLAB_LANEWISE(PminSW, int16_t, std::min(x, y))
VTLAB_LANEWISE(PmaxSW, int16_t, std::max(x, y))
VTLAB_LANEWISE(PcmpeqB, uint8_t, x == y ? 0xFF : 0)
VTLAB_LANEWISE(PcmpeqW, uint16_t, x == y ? 0xFFFF : 0)
VTLAB_LANEWISE(PcmpeqD, uint32_t, x == y ? 0xFFFFFFFFu : 0)
VTLAB_LANEWISE(PcmpgtB, int8_t, x > y ? -1 : 0)
VTLAB_LANEWISE(PcmpgtW, int16_t, x > y ? -1 : 0)
VTLAB_LANEWISE(PcmpgtD, int32_t, x > y ? -1 : 0)
VTLAB_LANEWISE(Pand, uint64_t, x & y)
VTLAB_LANEWISE(Pandn, uint64_t, ~x & y)
VTLAB_LANEWISE(Por, uint64_t, x | y)
VTLAB_LANEWISE(Pxor, uint64_t, x ^ y)
#undef VTLAB_LANEWISE

// PMULUDQ: the low doublewords of each quadword, multiplied to 64 bits.
struct PmulUDQ {
  template <unsigned N> static Vec<N> apply(const Vec<N>& a, const Vec<N>& b, uint8_t) {
    return lanewise<uint64_t>(a, b, [](uint64_t x, uint64_t y) { return uint64_t(uint32_t(x)) * uint32_t(y); });
  }
};

// PMADDWD: adjacent signed word products summed into doublewords (the one
// overflow, 8000H*8000H twice, wraps to 80000000H as the SDM says).
struct PmaddWD {
  template <unsigned N> static Vec<N> apply(const Vec<N>& a, const Vec<N>& b, uint8_t) {
    Vec<N> r;
    for (unsigned k = 0; k < Vec<N>::template lanes<uint32_t>(); ++k) {
      const int64_t lo = int64_t(a.template get<int16_t>(2 * k)) * b.template get<int16_t>(2 * k);
      const int64_t hi = int64_t(a.template get<int16_t>(2 * k + 1)) * b.template get<int16_t>(2 * k + 1);
      r.template set<uint32_t>(k, static_cast<uint32_t>(lo + hi));
    }
    return r;
  }
};

// PSADBW: per 8-byte group, the sum of absolute byte differences in the
// group's low word; the rest of the group is zeroed.
struct PsadBW {
  template <unsigned N> static Vec<N> apply(const Vec<N>& a, const Vec<N>& b, uint8_t) {
    Vec<N> r;
    for (unsigned q = 0; q < N / 8; ++q) {
      uint64_t sum = 0;
      for (unsigned k = 0; k < 8; ++k) sum += std::abs(int(a.b[q * 8 + k]) - int(b.b[q * 8 + k]));
      r.template set<uint64_t>(q, sum);
    }
    return r;
  }
};

// --- shifts ----------------------------------------------------------------

// Each lane shifted by one count (an immediate, or the low quadword of the
// source); a count beyond the lane width zeroes it (arithmetic: fills it
// with the sign).
template <typename T, bool kLeft, bool kArith> struct Shift {
  template <unsigned N> static Vec<N> by(const Vec<N>& a, uint64_t count) {
    constexpr unsigned bits = sizeof(T) * 8;
    Vec<N> r;
    for (unsigned k = 0; k < Vec<N>::template lanes<T>(); ++k) {
      const T x = a.template get<T>(k);
      T y;
      if constexpr (kArith) {
        using S = Signed<T>;
        y = static_cast<T>(static_cast<S>(x) >> (count >= bits ? bits - 1 : count));
      } else if (count >= bits) {
        y = 0;
      } else {
        y = kLeft ? static_cast<T>(x << count) : static_cast<T>(x >> count);
      }
      r.template set<T>(k, y);
    }
    return r;
  }
};

template <typename S, unsigned N> Status shift(Cpu& cpu, const DecodedInsn& i) {
  TRY(vec_available<N>(cpu));
  uint64_t count = i.imm & 0xFF;
  if (i.op[1].kind != OpKind::Imm) {
    Vec<N> c;
    TRY(read_src<N>(cpu, i, 1, c, Align::M128));
    count = c.template get<uint64_t>(0);
  }
  set_vreg<N>(cpu, i.op[0], S::template by<N>(vreg<N>(cpu, i.op[0]), count));
  vec_retire<N>(cpu);
  return Status::Ok;
}

// PSLLDQ/PSRLDQ xmm, imm8: the whole register shifted by bytes.
template <bool kLeft> Status byte_shift(Cpu& cpu, const DecodedInsn& i) {
  TRY(sse_available(cpu));
  const unsigned n = std::min<unsigned>(i.imm & 0xFF, 16);
  const Xmm a = xmm(cpu, i.op[0].reg);
  Xmm r{};
  for (unsigned k = 0; k < 16; ++k) {
    const int from = kLeft ? int(k) - int(n) : int(k + n);
    if (from >= 0 && from < 16) r.b[k] = a.b[from];
  }
  set_xmm(cpu, i.op[0].reg, r);
  return Status::Ok;
}

// --- binders ---------------------------------------------------------------

// The float-typed logic instructions exist for XMM registers only.
template <typename Op> Handler bind_xmm_binop(DecodedInsn& i, const ZydisDecodedInstruction& zi) {
  return i.nops >= 2 && i.op[0].kind == OpKind::Xmm ? bind_binop<Op>(i, zi) : nullptr;
}

template <typename S> Handler bind_shift(DecodedInsn& i, const ZydisDecodedInstruction&) {
  if (i.nops != 2 || !(is_source(i.op[1]) || i.op[1].kind == OpKind::Imm)) return nullptr;
  if (i.op[0].kind == OpKind::Xmm && i.op[1].kind != OpKind::Mmx) return &shift<S, 16>;
  if (i.op[0].kind == OpKind::Mmx && i.op[1].kind != OpKind::Xmm) return &shift<S, 8>;
  return nullptr;
}

template <bool kLeft> Handler bind_byte_shift(DecodedInsn& i, const ZydisDecodedInstruction&) {
  return i.nops == 2 && i.op[0].kind == OpKind::Xmm && i.op[1].kind == OpKind::Imm ? &byte_shift<kLeft> : nullptr;
}

}  // namespace

void register_sse_integer(InsnTable& t) {
  t.add(ZYDIS_MNEMONIC_PADDB, bind_binop<PaddB>);
  t.add(ZYDIS_MNEMONIC_PADDW, bind_binop<PaddW>);
  t.add(ZYDIS_MNEMONIC_PADDD, bind_binop<PaddD>);
  t.add(ZYDIS_MNEMONIC_PADDQ, bind_binop<PaddQ>);
  t.add(ZYDIS_MNEMONIC_PSUBB, bind_binop<PsubB>);
  t.add(ZYDIS_MNEMONIC_PSUBW, bind_binop<PsubW>);
  t.add(ZYDIS_MNEMONIC_PSUBD, bind_binop<PsubD>);
  t.add(ZYDIS_MNEMONIC_PSUBQ, bind_binop<PsubQ>);
  t.add(ZYDIS_MNEMONIC_PADDSB, bind_binop<PaddSB>);
  t.add(ZYDIS_MNEMONIC_PADDSW, bind_binop<PaddSW>);
  t.add(ZYDIS_MNEMONIC_PADDUSB, bind_binop<PaddUSB>);
  t.add(ZYDIS_MNEMONIC_PADDUSW, bind_binop<PaddUSW>);
  t.add(ZYDIS_MNEMONIC_PSUBSB, bind_binop<PsubSB>);
  t.add(ZYDIS_MNEMONIC_PSUBSW, bind_binop<PsubSW>);
  t.add(ZYDIS_MNEMONIC_PSUBUSB, bind_binop<PsubUSB>);
  t.add(ZYDIS_MNEMONIC_PSUBUSW, bind_binop<PsubUSW>);
  t.add(ZYDIS_MNEMONIC_PMULLW, bind_binop<PmullW>);
  t.add(ZYDIS_MNEMONIC_PMULHW, bind_binop<PmulhW>);
  t.add(ZYDIS_MNEMONIC_PMULHUW, bind_binop<PmulhUW>);
  t.add(ZYDIS_MNEMONIC_PMULUDQ, bind_binop<PmulUDQ>);
  t.add(ZYDIS_MNEMONIC_PMADDWD, bind_binop<PmaddWD>);
  t.add(ZYDIS_MNEMONIC_PSADBW, bind_binop<PsadBW>);
  t.add(ZYDIS_MNEMONIC_PAVGB, bind_binop<PavgB>);
  t.add(ZYDIS_MNEMONIC_PAVGW, bind_binop<PavgW>);
  t.add(ZYDIS_MNEMONIC_PMINUB, bind_binop<PminUB>);
  t.add(ZYDIS_MNEMONIC_PMAXUB, bind_binop<PmaxUB>);
  t.add(ZYDIS_MNEMONIC_PMINSW, bind_binop<PminSW>);
  t.add(ZYDIS_MNEMONIC_PMAXSW, bind_binop<PmaxSW>);
  t.add(ZYDIS_MNEMONIC_PCMPEQB, bind_binop<PcmpeqB>);
  t.add(ZYDIS_MNEMONIC_PCMPEQW, bind_binop<PcmpeqW>);
  t.add(ZYDIS_MNEMONIC_PCMPEQD, bind_binop<PcmpeqD>);
  t.add(ZYDIS_MNEMONIC_PCMPGTB, bind_binop<PcmpgtB>);
  t.add(ZYDIS_MNEMONIC_PCMPGTW, bind_binop<PcmpgtW>);
  t.add(ZYDIS_MNEMONIC_PCMPGTD, bind_binop<PcmpgtD>);
  t.add(ZYDIS_MNEMONIC_PAND, bind_binop<Pand>);
  t.add(ZYDIS_MNEMONIC_PANDN, bind_binop<Pandn>);
  t.add(ZYDIS_MNEMONIC_POR, bind_binop<Por>);
  t.add(ZYDIS_MNEMONIC_PXOR, bind_binop<Pxor>);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_ANDPS, ZYDIS_MNEMONIC_ANDPD}) t.add(m, bind_xmm_binop<Pand>);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_ANDNPS, ZYDIS_MNEMONIC_ANDNPD}) t.add(m, bind_xmm_binop<Pandn>);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_ORPS, ZYDIS_MNEMONIC_ORPD}) t.add(m, bind_xmm_binop<Por>);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_XORPS, ZYDIS_MNEMONIC_XORPD}) t.add(m, bind_xmm_binop<Pxor>);
  t.add(ZYDIS_MNEMONIC_PSLLW, bind_shift<Shift<uint16_t, true, false>>);
  t.add(ZYDIS_MNEMONIC_PSLLD, bind_shift<Shift<uint32_t, true, false>>);
  t.add(ZYDIS_MNEMONIC_PSLLQ, bind_shift<Shift<uint64_t, true, false>>);
  t.add(ZYDIS_MNEMONIC_PSRLW, bind_shift<Shift<uint16_t, false, false>>);
  t.add(ZYDIS_MNEMONIC_PSRLD, bind_shift<Shift<uint32_t, false, false>>);
  t.add(ZYDIS_MNEMONIC_PSRLQ, bind_shift<Shift<uint64_t, false, false>>);
  t.add(ZYDIS_MNEMONIC_PSRAW, bind_shift<Shift<uint16_t, false, true>>);
  t.add(ZYDIS_MNEMONIC_PSRAD, bind_shift<Shift<uint32_t, false, true>>);
  t.add(ZYDIS_MNEMONIC_PSLLDQ, bind_byte_shift<true>);
  t.add(ZYDIS_MNEMONIC_PSRLDQ, bind_byte_shift<false>);
}

}  // namespace vtlab::isa
