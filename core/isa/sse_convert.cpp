// SSE/SSE2 conversions (Intel SDM vol. 1, 11.4.5; vol. 2, CVT*): between
// single and double precision, packed doublewords and floats, and scalar
// floats and general registers (CVTSI2SS/SD, CVT(T)SS2SI, CVT(T)SD2SI).
// Run on the host under the guest's MXCSR (sse_common.h): rounding, the
// integer indefinite value 80000000H / 8000000000000000H and the flags are
// the silicon's.  The MMX-register forms (CVTPI2PS, CVTPI2PD, CVT(T)PS2PI,
// CVT(T)PD2PI) are the XMM conversions on two lanes, with the MMX state
// transition their pages describe.
#include "core/isa/registry.h"
#include "core/isa/sse_common.h"

namespace vtlab::isa {

namespace {

using namespace simd;

VTLAB_HOST_FLOAT_OP(CvtPs2Pd, "cvtps2pd")
VTLAB_HOST_ROUNDED_OP(CvtPd2Ps, "cvtpd2ps", Rounded::Narrow, 2, true)
VTLAB_HOST_FLOAT_OP(CvtSs2Sd, "cvtss2sd")
VTLAB_HOST_ROUNDED_OP(CvtSd2Ss, "cvtsd2ss", Rounded::Narrow, 1, true)
VTLAB_HOST_FLOAT_OP(CvtDq2Ps, "cvtdq2ps")
VTLAB_HOST_FLOAT_OP(CvtPs2Dq, "cvtps2dq")
VTLAB_HOST_FLOAT_OP(CvttPs2Dq, "cvttps2dq")
VTLAB_HOST_FLOAT_OP(CvtDq2Pd, "cvtdq2pd")
VTLAB_HOST_FLOAT_OP(CvtPd2Dq, "cvtpd2dq")
VTLAB_HOST_FLOAT_OP(CvttPd2Dq, "cvttpd2dq")

// Float -> integer in a general register (T = uint32_t or uint64_t picks
// the 32- or 64-bit form of the host instruction).
#define VTLAB_HOST_TO_INT(Name, mnem)                                                                      \
  struct Name {                                                                                            \
    template <typename T> static uint32_t run(__m128i s, uint32_t csr, T& out) {                          \
      uint32_t host_save_, host_out_, host_in_ = csr;                                                      \
      asm volatile("stmxcsr %[save]\n\tldmxcsr %[in]\n\t" mnem " %[s], %[g]\n\tstmxcsr %[out]\n\tldmxcsr %[save]" \
                   : [g] "=r"(out), [save] "=m"(host_save_), [out] "=m"(host_out_)                         \
                   : [s] "x"(s), [in] "m"(host_in_));                                                      \
      return host_out_ & 0x3F;                                                                             \
    }                                                                                                      \
  };
VTLAB_HOST_TO_INT(CvtSs2Si, "cvtss2si")
VTLAB_HOST_TO_INT(CvttSs2Si, "cvttss2si")
VTLAB_HOST_TO_INT(CvtSd2Si, "cvtsd2si")
VTLAB_HOST_TO_INT(CvttSd2Si, "cvttsd2si")
#undef VTLAB_HOST_TO_INT

// Integer from a general register or memory -> the low float lane.
#define VTLAB_HOST_FROM_INT(Name, mnem)                                                                    \
  struct Name {                                                                                            \
    template <typename T> static uint32_t run(__m128i& d, T in, uint32_t csr) {                           \
      uint32_t host_save_, host_out_, host_in_ = csr;                                                      \
      asm volatile("stmxcsr %[save]\n\tldmxcsr %[in]\n\t" mnem " %[g], %[d]\n\tstmxcsr %[out]\n\tldmxcsr %[save]" \
                   : [d] "+x"(d), [save] "=m"(host_save_), [out] "=m"(host_out_)                           \
                   : [g] "r"(in), [in] "m"(host_in_));                                                     \
      return host_out_ & 0x3F;                                                                             \
    }                                                                                                      \
  };
VTLAB_HOST_FROM_INT(CvtSi2Ss, "cvtsi2ss")
VTLAB_HOST_FROM_INT(CvtSi2Sd, "cvtsi2sd")
#undef VTLAB_HOST_FROM_INT

template <typename Op, typename T> Status to_int(Cpu& cpu, const DecodedInsn& i) {
  TRY(sse_available(cpu));
  Xmm s;
  TRY(read_src<16>(cpu, i, 1, s, Align::Any));
  T v;
  TRY(simd_fp_result(cpu, Op::run(to_host(s), host_mxcsr(cpu.s.sse.mxcsr), v)));
  cpu.set_reg_sized(i.op[0].reg, sizeof(T), v);
  return Status::Ok;
}

template <typename Op, typename T> Status from_int(Cpu& cpu, const DecodedInsn& i) {
  TRY(sse_available(cpu));
  T v;
  TRY(read_op<T>(cpu, i, 1, v));
  __m128i d = to_host(xmm(cpu, i.op[0].reg));
  TRY(simd_fp_result(cpu, Op::run(d, v, host_mxcsr(cpu.s.sse.mxcsr))));
  set_xmm(cpu, i.op[0].reg, from_host(d));
  return Status::Ok;
}

template <typename Op> Handler bind_to_int(DecodedInsn& i, const ZydisDecodedInstruction&) {
  if (i.nops != 2 || i.op[0].kind != OpKind::Reg) return nullptr;
  if (i.op[1].kind != OpKind::Xmm && i.op[1].kind != OpKind::Mem) return nullptr;
  return i.op[0].size == 8 ? &to_int<Op, uint64_t> : &to_int<Op, uint32_t>;
}

template <typename Op> Handler bind_from_int(DecodedInsn& i, const ZydisDecodedInstruction&) {
  if (i.nops != 2 || i.op[0].kind != OpKind::Xmm) return nullptr;
  if (i.op[1].kind != OpKind::Reg && i.op[1].kind != OpKind::Mem) return nullptr;
  return i.op[1].size == 8 ? &from_int<Op, uint64_t> : &from_int<Op, uint32_t>;
}

// The conversions between MMX registers and XMM lanes compute what
// CVTDQ2PS, CVTDQ2PD, CVT(T)PS2DQ and CVT(T)PD2DQ compute on their low two
// lanes (vol. 2: the same Convert_* operations, flags and integer
// indefinite): the other source lanes are zero, which converts exactly.
enum class MmxConvert : uint8_t {
  IntToPs,  // CVTPI2PS xmm, mm/m64: the low quadword; the high one is kept
  IntToPd,  // CVTPI2PD xmm, mm/m64
  PsToInt,  // CVT(T)PS2PI mm, xmm/m64
  PdToInt,  // CVT(T)PD2PI mm, xmm/m128 (aligned)
};

// The MMX transition (TOP = 0, tags valid; also when the instruction then
// faults #XM) and a pending x87 exception's #MF come with an MMX register
// operand only: CVTPI2PD's page says so for
// its m64 form, and CVTPI2PS xmm, m64 leaves TOP and the tags alone on the
// silicon too (SseMmxConvert tests), where its page says it transitions.
template <typename Op, MmxConvert C> Status mmx_convert(Cpu& cpu, const DecodedInsn& i) {
  TRY(sse_available(cpu));
  const bool mmx = i.op[0].kind == OpKind::Mmx || i.op[1].kind == OpKind::Mmx;
  if (mmx) TRY(mmx_available(cpu));
  Xmm s;
  TRY(read_src<16>(cpu, i, 1, s, Align::M128));
  if (C == MmxConvert::PsToInt) std::memset(s.b.data() + 8, 0, 8);  // an XMM source's high lanes
  // Before the computation: an unmasked exception's #XM finds the x87 in
  // MMX state on the silicon (kvm_diff64, docs/FUZZING.md).
  if (mmx) enter_mmx_state(cpu);
  __m128i r{};
  TRY(simd_fp_result(cpu, Op::run(r, to_host(s), host_mxcsr(cpu.s.sse.mxcsr))));
  const Xmm out = from_host(r);
  if constexpr (C == MmxConvert::IntToPs) {
    Xmm d = xmm(cpu, i.op[0].reg);
    std::memcpy(d.b.data(), out.b.data(), 8);
    set_xmm(cpu, i.op[0].reg, d);
  } else if constexpr (C == MmxConvert::IntToPd) {
    set_xmm(cpu, i.op[0].reg, out);
  } else {
    Mm m;
    std::memcpy(m.b.data(), out.b.data(), 8);
    set_mm(cpu, i.op[0].reg, m);
  }
  return Status::Ok;
}

template <typename Op, MmxConvert C> Handler bind_mmx_convert(DecodedInsn& i, const ZydisDecodedInstruction&) {
  if (i.nops != 2) return nullptr;
  const bool to_xmm = C == MmxConvert::IntToPs || C == MmxConvert::IntToPd;
  const OpKind dest = to_xmm ? OpKind::Xmm : OpKind::Mmx, src = to_xmm ? OpKind::Mmx : OpKind::Xmm;
  if (i.op[0].kind != dest || (i.op[1].kind != src && i.op[1].kind != OpKind::Mem)) return nullptr;
  return &mmx_convert<Op, C>;
}

}  // namespace

void register_sse_convert(InsnTable& t) {
  t.add(ZYDIS_MNEMONIC_CVTPS2PD, bind_float_op<CvtPs2Pd>);
  t.add(ZYDIS_MNEMONIC_CVTPD2PS, bind_float_op<CvtPd2Ps>);
  t.add(ZYDIS_MNEMONIC_CVTSS2SD, bind_float_op<CvtSs2Sd>);
  t.add(ZYDIS_MNEMONIC_CVTSD2SS, bind_float_op<CvtSd2Ss>);
  t.add(ZYDIS_MNEMONIC_CVTDQ2PS, bind_float_op<CvtDq2Ps>);
  t.add(ZYDIS_MNEMONIC_CVTPS2DQ, bind_float_op<CvtPs2Dq>);
  t.add(ZYDIS_MNEMONIC_CVTTPS2DQ, bind_float_op<CvttPs2Dq>);
  t.add(ZYDIS_MNEMONIC_CVTDQ2PD, bind_float_op<CvtDq2Pd>);
  t.add(ZYDIS_MNEMONIC_CVTPD2DQ, bind_float_op<CvtPd2Dq>);
  t.add(ZYDIS_MNEMONIC_CVTTPD2DQ, bind_float_op<CvttPd2Dq>);
  t.add(ZYDIS_MNEMONIC_CVTSS2SI, bind_to_int<CvtSs2Si>);
  t.add(ZYDIS_MNEMONIC_CVTTSS2SI, bind_to_int<CvttSs2Si>);
  t.add(ZYDIS_MNEMONIC_CVTSD2SI, bind_to_int<CvtSd2Si>);
  t.add(ZYDIS_MNEMONIC_CVTTSD2SI, bind_to_int<CvttSd2Si>);
  t.add(ZYDIS_MNEMONIC_CVTSI2SS, bind_from_int<CvtSi2Ss>);
  t.add(ZYDIS_MNEMONIC_CVTSI2SD, bind_from_int<CvtSi2Sd>);
  t.add(ZYDIS_MNEMONIC_CVTPI2PS, bind_mmx_convert<CvtDq2Ps, MmxConvert::IntToPs>);
  t.add(ZYDIS_MNEMONIC_CVTPI2PD, bind_mmx_convert<CvtDq2Pd, MmxConvert::IntToPd>);
  t.add(ZYDIS_MNEMONIC_CVTPS2PI, bind_mmx_convert<CvtPs2Dq, MmxConvert::PsToInt>);
  t.add(ZYDIS_MNEMONIC_CVTTPS2PI, bind_mmx_convert<CvttPs2Dq, MmxConvert::PsToInt>);
  t.add(ZYDIS_MNEMONIC_CVTPD2PI, bind_mmx_convert<CvtPd2Dq, MmxConvert::PdToInt>);
  t.add(ZYDIS_MNEMONIC_CVTTPD2PI, bind_mmx_convert<CvttPd2Dq, MmxConvert::PdToInt>);
}

}  // namespace vtlab::isa
