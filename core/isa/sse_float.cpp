// SSE/SSE2 floating-point arithmetic and compares (Intel SDM vol. 1,
// 10.4.2 and 11.4.1; vol. 2): ADD SUB MUL DIV SQRT MIN MAX in the SS SD PS
// PD forms, RCP/RSQRT PS/SS, CMPccPS/PD/SS/SD, COMISS COMISD UCOMISS
// UCOMISD.  Each runs on the host's SSE unit under the guest's MXCSR
// (sse_common.h), so results, NaN propagation, denormal handling and the
// flags are the silicon's; RCP/RSQRT give the host's approximation.
#include "core/isa/registry.h"
#include "core/isa/sse_common.h"

namespace vtlab::isa {

namespace {

using namespace simd;

VTLAB_HOST_ROUNDED_OP(AddPs, "addps", Rounded::Add, 4, false)
VTLAB_HOST_ROUNDED_OP(AddPd, "addpd", Rounded::Add, 2, true)
VTLAB_HOST_ROUNDED_OP(AddSs, "addss", Rounded::Add, 1, false)
VTLAB_HOST_ROUNDED_OP(AddSd, "addsd", Rounded::Add, 1, true)
VTLAB_HOST_ROUNDED_OP(SubPs, "subps", Rounded::Sub, 4, false)
VTLAB_HOST_ROUNDED_OP(SubPd, "subpd", Rounded::Sub, 2, true)
VTLAB_HOST_ROUNDED_OP(SubSs, "subss", Rounded::Sub, 1, false)
VTLAB_HOST_ROUNDED_OP(SubSd, "subsd", Rounded::Sub, 1, true)
VTLAB_HOST_ROUNDED_OP(MulPs, "mulps", Rounded::Mul, 4, false)
VTLAB_HOST_ROUNDED_OP(MulPd, "mulpd", Rounded::Mul, 2, true)
VTLAB_HOST_ROUNDED_OP(MulSs, "mulss", Rounded::Mul, 1, false)
VTLAB_HOST_ROUNDED_OP(MulSd, "mulsd", Rounded::Mul, 1, true)
VTLAB_HOST_ROUNDED_OP(DivPs, "divps", Rounded::Div, 4, false)
VTLAB_HOST_ROUNDED_OP(DivPd, "divpd", Rounded::Div, 2, true)
VTLAB_HOST_ROUNDED_OP(DivSs, "divss", Rounded::Div, 1, false)
VTLAB_HOST_ROUNDED_OP(DivSd, "divsd", Rounded::Div, 1, true)
VTLAB_HOST_FLOAT_OP(SqrtPs, "sqrtps")
VTLAB_HOST_FLOAT_OP(SqrtPd, "sqrtpd")
VTLAB_HOST_FLOAT_OP(SqrtSs, "sqrtss")
VTLAB_HOST_FLOAT_OP(SqrtSd, "sqrtsd")
VTLAB_HOST_FLOAT_OP(MinPs, "minps")
VTLAB_HOST_FLOAT_OP(MinPd, "minpd")
VTLAB_HOST_FLOAT_OP(MinSs, "minss")
VTLAB_HOST_FLOAT_OP(MinSd, "minsd")
VTLAB_HOST_FLOAT_OP(MaxPs, "maxps")
VTLAB_HOST_FLOAT_OP(MaxPd, "maxpd")
VTLAB_HOST_FLOAT_OP(MaxSs, "maxss")
VTLAB_HOST_FLOAT_OP(MaxSd, "maxsd")
VTLAB_HOST_FLOAT_OP(RcpPs, "rcpps")
VTLAB_HOST_FLOAT_OP(RcpSs, "rcpss")
VTLAB_HOST_FLOAT_OP(RsqrtPs, "rsqrtps")
VTLAB_HOST_FLOAT_OP(RsqrtSs, "rsqrtss")

// CMPccPS/PD/SS/SD with predicate P (imm8[2:0]; legacy SSE ignores the
// upper bits).
#define VTLAB_HOST_CMP(Name, mnem)                               \
  template <int P> struct Name {                                 \
    static uint32_t run(__m128i& d, __m128i s, uint32_t csr) {   \
      uint32_t raised;                                           \
      VTLAB_HOST_SSE_IMM(mnem, d, s, P, csr, raised);            \
      return raised;                                             \
    }                                                            \
  };
VTLAB_HOST_CMP(CmpPs, "cmpps")
VTLAB_HOST_CMP(CmpPd, "cmppd")
VTLAB_HOST_CMP(CmpSs, "cmpss")
VTLAB_HOST_CMP(CmpSd, "cmpsd")
#undef VTLAB_HOST_CMP

template <template <int> class C> Handler bind_cmp(DecodedInsn& i, const ZydisDecodedInstruction&) {
  static constexpr Handler kByPredicate[8] = {&float_op<C<0>>, &float_op<C<1>>, &float_op<C<2>>, &float_op<C<3>>,
                                              &float_op<C<4>>, &float_op<C<5>>, &float_op<C<6>>, &float_op<C<7>>};
  return xmm_form(i) && i.nops == 3 && i.op[2].kind == OpKind::Imm ? kByPredicate[i.imm & 7] : nullptr;
}

// COMISS/COMISD/UCOMISS/UCOMISD: ZF PF CF from the compare (111
// unordered, 000 greater, 001 less, 100 equal), OF SF AF cleared; nothing
// changes on an unmasked exception.
#define VTLAB_HOST_COMI(Name, mnem)                                                                          \
  struct Name {                                                                                              \
    static uint32_t run(__m128i a, __m128i b, uint32_t csr, uint32_t& eflags) {                              \
      uint32_t host_save_, host_out_, host_in_ = csr;                                                        \
      uint8_t z, p, c;                                                                                       \
      asm volatile("stmxcsr %[save]\n\tldmxcsr %[in]\n\t" mnem " %[s], %[d]\n\tsetz %[z]\n\tsetp %[p]\n\t"  \
                   "setc %[c]\n\tstmxcsr %[out]\n\tldmxcsr %[save]"                                          \
                   : [z] "=q"(z), [p] "=q"(p), [c] "=q"(c), [save] "=m"(host_save_), [out] "=m"(host_out_)   \
                   : [d] "x"(a), [s] "x"(b), [in] "m"(host_in_)                                              \
                   : "cc");                                                                                  \
      eflags = (z ? flag::ZF : 0) | (p ? flag::PF : 0) | (c ? flag::CF : 0);                                 \
      return host_out_ & 0x3F;                                                                               \
    }                                                                                                        \
  };
VTLAB_HOST_COMI(ComiSs, "comiss")
VTLAB_HOST_COMI(ComiSd, "comisd")
VTLAB_HOST_COMI(UcomiSs, "ucomiss")
VTLAB_HOST_COMI(UcomiSd, "ucomisd")
#undef VTLAB_HOST_COMI

template <typename Op> Status compare_to_flags(Cpu& cpu, const DecodedInsn& i) {
  TRY(sse_available(cpu));
  Xmm s;
  TRY(read_src<16>(cpu, i, 1, s, Align::Any));
  uint32_t eflags;
  const uint32_t raised = Op::run(to_host(xmm(cpu, i.op[0].reg)), to_host(s), host_mxcsr(cpu.s.sse.mxcsr), eflags);
  TRY(simd_fp_result(cpu, raised));
  cpu.s.flags.set_arith(eflags);
  return Status::Ok;
}

template <typename Op> Handler bind_compare_to_flags(DecodedInsn& i, const ZydisDecodedInstruction&) {
  return xmm_form(i) ? &compare_to_flags<Op> : nullptr;
}

}  // namespace

// CMPSD's SSE2 form; string.cpp owns the mnemonic and hands it on.
Handler bind_sse_cmpsd(DecodedInsn& i, const ZydisDecodedInstruction& zi) { return bind_cmp<CmpSd>(i, zi); }

void register_sse_float(InsnTable& t) {
  t.add(ZYDIS_MNEMONIC_ADDPS, bind_float_op<AddPs>);
  t.add(ZYDIS_MNEMONIC_ADDPD, bind_float_op<AddPd>);
  t.add(ZYDIS_MNEMONIC_ADDSS, bind_float_op<AddSs>);
  t.add(ZYDIS_MNEMONIC_ADDSD, bind_float_op<AddSd>);
  t.add(ZYDIS_MNEMONIC_SUBPS, bind_float_op<SubPs>);
  t.add(ZYDIS_MNEMONIC_SUBPD, bind_float_op<SubPd>);
  t.add(ZYDIS_MNEMONIC_SUBSS, bind_float_op<SubSs>);
  t.add(ZYDIS_MNEMONIC_SUBSD, bind_float_op<SubSd>);
  t.add(ZYDIS_MNEMONIC_MULPS, bind_float_op<MulPs>);
  t.add(ZYDIS_MNEMONIC_MULPD, bind_float_op<MulPd>);
  t.add(ZYDIS_MNEMONIC_MULSS, bind_float_op<MulSs>);
  t.add(ZYDIS_MNEMONIC_MULSD, bind_float_op<MulSd>);
  t.add(ZYDIS_MNEMONIC_DIVPS, bind_float_op<DivPs>);
  t.add(ZYDIS_MNEMONIC_DIVPD, bind_float_op<DivPd>);
  t.add(ZYDIS_MNEMONIC_DIVSS, bind_float_op<DivSs>);
  t.add(ZYDIS_MNEMONIC_DIVSD, bind_float_op<DivSd>);
  t.add(ZYDIS_MNEMONIC_SQRTPS, bind_float_op<SqrtPs>);
  t.add(ZYDIS_MNEMONIC_SQRTPD, bind_float_op<SqrtPd>);
  t.add(ZYDIS_MNEMONIC_SQRTSS, bind_float_op<SqrtSs>);
  t.add(ZYDIS_MNEMONIC_SQRTSD, bind_float_op<SqrtSd>);
  t.add(ZYDIS_MNEMONIC_MINPS, bind_float_op<MinPs>);
  t.add(ZYDIS_MNEMONIC_MINPD, bind_float_op<MinPd>);
  t.add(ZYDIS_MNEMONIC_MINSS, bind_float_op<MinSs>);
  t.add(ZYDIS_MNEMONIC_MINSD, bind_float_op<MinSd>);
  t.add(ZYDIS_MNEMONIC_MAXPS, bind_float_op<MaxPs>);
  t.add(ZYDIS_MNEMONIC_MAXPD, bind_float_op<MaxPd>);
  t.add(ZYDIS_MNEMONIC_MAXSS, bind_float_op<MaxSs>);
  t.add(ZYDIS_MNEMONIC_MAXSD, bind_float_op<MaxSd>);
  t.add(ZYDIS_MNEMONIC_RCPPS, bind_float_op<RcpPs>);
  t.add(ZYDIS_MNEMONIC_RCPSS, bind_float_op<RcpSs>);
  t.add(ZYDIS_MNEMONIC_RSQRTPS, bind_float_op<RsqrtPs>);
  t.add(ZYDIS_MNEMONIC_RSQRTSS, bind_float_op<RsqrtSs>);
  t.add(ZYDIS_MNEMONIC_CMPPS, bind_cmp<CmpPs>);
  t.add(ZYDIS_MNEMONIC_CMPPD, bind_cmp<CmpPd>);
  t.add(ZYDIS_MNEMONIC_CMPSS, bind_cmp<CmpSs>);
  t.add(ZYDIS_MNEMONIC_COMISS, bind_compare_to_flags<ComiSs>);
  t.add(ZYDIS_MNEMONIC_COMISD, bind_compare_to_flags<ComiSd>);
  t.add(ZYDIS_MNEMONIC_UCOMISS, bind_compare_to_flags<UcomiSs>);
  t.add(ZYDIS_MNEMONIC_UCOMISD, bind_compare_to_flags<UcomiSd>);
}

}  // namespace vtlab::isa
