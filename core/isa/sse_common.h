// What the MMX, SSE and SSE2 families share (Intel SDM vol. 1, chapters
// 9-11; vol. 2's "Exceptions" sections; vol. 3, table 2-2 and 13.1): lane
// access over 8- and 16-byte vectors, the MMX/XMM registers, whole-operand
// memory accesses, the availability checks (#UD/#NM/#MF), 16-byte alignment,
// and SIMD floating-point exceptions (#XM/#UD, MXCSR's sticky flags).
//
// Float arithmetic runs on the host's own SSE unit (the VTLAB_HOST_* macros)
// with the guest's rounding, DAZ and FTZ loaded and every exception masked:
// results and flags are the silicon's.  The whole sequence (save host MXCSR,
// load the guest's, operate, read the flags, restore) is one asm block, so
// the compiler cannot move the operation out of it.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "core/isa/operands.h"
#include "core/isa/registry.h"

namespace vtlab::isa::simd {

// N bytes of a register or memory operand; lanes are little-endian as the
// SDM numbers them (lane 0 in the lowest bytes).
template <unsigned N> struct Vec {
  std::array<uint8_t, N> b{};
  template <typename T> static constexpr unsigned lanes() { return N / sizeof(T); }
  template <typename T> T get(unsigned k) const {
    T v;
    std::memcpy(&v, &b[k * sizeof(T)], sizeof(T));
    return v;
  }
  template <typename T> void set(unsigned k, T v) { std::memcpy(&b[k * sizeof(T)], &v, sizeof(T)); }
};
using Xmm = Vec<16>;
using Mm = Vec<8>;

inline constexpr uint32_t kMxcsrFlags = 0x3F;      // IE DE ZE OE UE PE
inline constexpr uint32_t kMxcsrMaskShift = 7;      // IM..PM are flags << 7
// Bits MXCSR can hold (FZ, RC, masks, DAZ, flags): the MXCSR_MASK that
// FXSAVE reports, as every SSE2 processor with DAZ reports it.
inline constexpr uint32_t kMxcsrMask = 0x0000FFFF;

// --- availability (SDM vol. 3, table 2-2 and 13.1; vol. 2 per instruction) ---

// SSE/SSE2: CR0.EM or a clear CR4.OSFXSR make them undefined, CR0.TS
// makes them #NM (both decode-time faults: before any memory fault).
inline Status sse_available(Cpu& cpu) {
  if ((cpu.s.cr0 & cr0::EM) || !(cpu.s.cr4 & cr4::OSFXSR)) return cpu.raise(vec::UD);
  if (cpu.s.cr0 & cr0::TS) return cpu.raise(vec::NM);
  return Status::Ok;
}

// MMX: CR0.EM -> #UD, CR0.TS -> #NM, then an x87 exception left pending
// (FSW.ES) is reported as #MF with CR0.NE.  Without NE the FERR# line and
// IRQ 13 are not modelled: the instruction runs.
inline Status mmx_available(Cpu& cpu) {
  if (cpu.s.cr0 & cr0::EM) return cpu.raise(vec::UD);
  if (cpu.s.cr0 & cr0::TS) return cpu.raise(vec::NM);
  if ((cpu.s.fpu.fsw & 0x80) && (cpu.s.cr0 & cr0::NE)) return cpu.raise(vec::MF);
  return Status::Ok;
}

// Every MMX instruction but EMMS leaves the x87 unit in MMX state (SDM
// vol. 1, 9.5.1): TOP = 0 and all eight tags valid.
inline void enter_mmx_state(Cpu& cpu) {
  cpu.s.fpu.fsw &= ~uint16_t{0x3800};
  cpu.s.fpu.ftw = 0;
}

// The check for an N-byte vector instruction: 16 = SSE, 8 = MMX.
template <unsigned N> Status vec_available(Cpu& cpu) { return N == 16 ? sse_available(cpu) : mmx_available(cpu); }
// What an MMX instruction does to the x87 state once it has completed.
template <unsigned N> void vec_retire(Cpu& cpu) {
  if constexpr (N == 8) enter_mmx_state(cpu);
}

// --- registers ---------------------------------------------------------

inline Xmm xmm(const Cpu& cpu, unsigned n) {
  Xmm v;
  std::memcpy(v.b.data(), cpu.s.sse.xmm[n].data(), 16);
  return v;
}
inline void set_xmm(Cpu& cpu, unsigned n, const Xmm& v) { std::memcpy(cpu.s.sse.xmm[n].data(), v.b.data(), 16); }

// MMn is the significand of physical x87 register Rn; writing it sets the
// sign/exponent bytes to all ones (SDM vol. 1, 9.5.1).
inline Mm mm(const Cpu& cpu, unsigned n) {
  Mm v;
  std::memcpy(v.b.data(), cpu.s.fpu.regs[n].data(), 8);
  return v;
}
inline void set_mm(Cpu& cpu, unsigned n, const Mm& v) {
  std::memcpy(cpu.s.fpu.regs[n].data(), v.b.data(), 8);
  cpu.s.fpu.regs[n][8] = cpu.s.fpu.regs[n][9] = 0xFF;
}

// A register operand of either kind as an N-byte vector (truncated or
// zero-extended: MOVQ2DQ reads an MMX register into an XMM operation).
template <unsigned N> Vec<N> vreg(const Cpu& cpu, const Operand& o) {
  Vec<N> v;
  if (o.kind == OpKind::Xmm) {
    const Xmm x = xmm(cpu, o.reg);
    std::memcpy(v.b.data(), x.b.data(), N);
  } else {
    const Mm m = mm(cpu, o.reg);
    std::memcpy(v.b.data(), m.b.data(), std::min(N, 8u));
  }
  return v;
}
template <unsigned N> void set_vreg(Cpu& cpu, const Operand& o, const Vec<N>& v) {
  if (o.kind == OpKind::Xmm) {
    Xmm x{};
    std::memcpy(x.b.data(), v.b.data(), N);
    set_xmm(cpu, o.reg, x);
  } else {
    Mm m{};
    std::memcpy(m.b.data(), v.b.data(), std::min(N, 8u));
    set_mm(cpu, o.reg, m);
  }
}

// --- memory ------------------------------------------------------------

// A multi-byte operand (16-byte vectors, FXSAVE's 512 bytes): the segment
// check covers the whole access first, so a limit fault names the access;
// the read then goes in quadwords.  Reads commit nothing, so a fault in the
// second half leaves no trace.
// 16-byte operands are not alignment-checked (#AC) on the silicon (measured,
// docs/FUZZING.md; SDM vol. 3, 6.15 leaves it to the implementation for
// MOVUPS/MOVDQU): with alignment checking on, they go in bytes, which are
// never misaligned.
inline unsigned piece_limit(const Cpu& cpu, bool alignment_checked) {
  return alignment_checked || !((cpu.s.cr0 & cr0::AM) && cpu.s.flags.test(flag::AC)) ? 8 : 1;
}
inline Status read_bytes(Cpu& cpu, unsigned seg, uint64_t offset, unsigned len, uint8_t* out,
                         bool alignment_checked = true) {
  TRY(cpu.check_segment(seg, offset, len, Access::Read));
  const unsigned limit = piece_limit(cpu, alignment_checked);
  for (unsigned k = 0; k < len;) {
    const unsigned n = std::min<unsigned>(limit, len - k >= 8 ? 8 : (len - k >= 4 ? 4 : (len - k >= 2 ? 2 : 1)));
    uint64_t v;
    TRY(cpu.read_mem(seg, offset + k, n, v));
    std::memcpy(out + k, &v, n);
    k += n;
  }
  return Status::Ok;
}
// The store: every page it touches is checked (probe_write) before the
// first byte is written, so a fault leaves memory unchanged.
inline Status write_bytes(Cpu& cpu, unsigned seg, uint64_t offset, unsigned len, const uint8_t* in,
                          bool alignment_checked = true) {
  TRY(probe_write(cpu, seg, offset, len));
  const unsigned limit = piece_limit(cpu, alignment_checked);
  for (unsigned k = 0; k < len;) {
    const unsigned n = std::min<unsigned>(limit, len - k >= 8 ? 8 : (len - k >= 4 ? 4 : (len - k >= 2 ? 2 : 1)));
    uint64_t v = 0;
    std::memcpy(&v, in + k, n);
    TRY(cpu.write_mem(seg, offset + k, n, v));
    k += n;
  }
  return Status::Ok;
}

// Legacy-SSE 16-byte memory operands must be aligned (MOVAPS, MOVDQA,
// MOVNT*, packed arithmetic); the linear address is checked, #GP(0) for
// any segment, SS included.
inline Status check_aligned16(Cpu& cpu, unsigned seg, uint64_t offset) {
  return (cpu.linear(seg, offset) & 15) ? cpu.raise(vec::GP, 0) : Status::Ok;
}

enum class Align : uint8_t { Any, M128 };

// Operand n (register of either kind, or memory of op.size bytes, zero-
// extended to N) as a vector.  With Align::M128 a 16-byte memory operand
// must be 16-byte aligned; smaller ones never are checked.
template <unsigned N> Status read_src(Cpu& cpu, const DecodedInsn& i, unsigned n, Vec<N>& v, Align align) {
  const Operand& o = i.op[n];
  if (o.kind == OpKind::Reg) {  // a general register: PINSRW, MOVD
    v = Vec<N>{};
    const uint64_t g = cpu.s.gpr[o.reg];
    std::memcpy(v.b.data(), &g, std::min(N, 8u));
    return Status::Ok;
  }
  if (o.kind != OpKind::Mem) {
    v = vreg<N>(cpu, o);
    return Status::Ok;
  }
  const unsigned size = std::min<unsigned>(o.size ? o.size : N, N);
  const uint64_t ea = effective_address(cpu, i);
  if (align == Align::M128 && size == 16) TRY(check_aligned16(cpu, i.mem.seg, ea));
  v = Vec<N>{};
  return read_bytes(cpu, i.mem.seg, ea, size, v.b.data(), size != 16);
}
// Stores the low `size` bytes of v to the memory operand.
template <unsigned N> Status write_mem_vec(Cpu& cpu, const DecodedInsn& i, const Vec<N>& v, unsigned size, Align align) {
  const uint64_t ea = effective_address(cpu, i);
  if (align == Align::M128 && size == 16) TRY(check_aligned16(cpu, i.mem.seg, ea));
  return write_bytes(cpu, i.mem.seg, ea, size, v.b.data(), size != 16);
}

// --- the common shape: dest op= src (imm8) ----------------------------------

// Op::apply<N>(dest, src, imm8) -> new dest, on MMX (N = 8) or XMM (N = 16)
// registers; a 16-byte memory source must be aligned.
template <typename Op, unsigned N> Status binop(Cpu& cpu, const DecodedInsn& i) {
  TRY(vec_available<N>(cpu));
  Vec<N> b;
  TRY(read_src<N>(cpu, i, 1, b, Align::M128));
  set_vreg<N>(cpu, i.op[0], Op::template apply<N>(vreg<N>(cpu, i.op[0]), b, static_cast<uint8_t>(i.imm)));
  vec_retire<N>(cpu);
  return Status::Ok;
}

inline bool is_source(const Operand& o) { return o.kind == OpKind::Xmm || o.kind == OpKind::Mmx || o.kind == OpKind::Mem; }

template <typename Op> Handler bind_binop(DecodedInsn& i, const ZydisDecodedInstruction&) {
  if (i.nops < 2 || !is_source(i.op[1])) return nullptr;
  if (i.op[0].kind == OpKind::Xmm && i.op[1].kind != OpKind::Mmx) return &binop<Op, 16>;
  if (i.op[0].kind == OpKind::Mmx && i.op[1].kind != OpKind::Xmm) return &binop<Op, 8>;
  return nullptr;
}

// --- SIMD floating-point exceptions (SDM vol. 1, 11.5) ----------------------

// Folds the flags an operation raised (host MXCSR bits 5:0) into the
// guest's MXCSR.  If any is unmasked, the instruction faults: #XM with
// CR4.OSXMMEXCPT, #UD without, and the caller must not write its
// destination.  With an unmasked pre-computation exception (IE, DE, ZE)
// the post-computation ones (OE, UE, PE) are not reported (11.5.2): they
// come from the masked run and would not have been detected.
inline Status simd_fp_result(Cpu& cpu, uint32_t raised) {
  uint32_t& mxcsr = cpu.s.sse.mxcsr;
  const uint32_t unmasked = raised & ~(mxcsr >> kMxcsrMaskShift) & kMxcsrFlags;
  if (!unmasked) {
    mxcsr |= raised & kMxcsrFlags;
    return Status::Ok;
  }
  constexpr uint32_t kPre = 0x07;  // IE DE ZE
  mxcsr |= (unmasked & kPre) ? (raised & kPre) : (raised & kMxcsrFlags);
  return cpu.raise((cpu.s.cr4 & cr4::OSXMMEXCPT) ? vec::XM : vec::UD);
}

// The MXCSR the host runs a guest operation under: the guest's FZ, RC and
// DAZ, every exception masked, no flags.
inline uint32_t host_mxcsr(uint32_t guest) {
  const uint32_t ftz = (guest & 0x0800) ? guest & 0x8000 : 0;  // FTZ acts only with UM masked (10.2.3.3)
  return (guest & 0x6040) | ftz | 0x1F80;
}

inline __m128i to_host(const Xmm& v) {
  __m128i r;
  std::memcpy(&r, v.b.data(), 16);
  return r;
}
inline Xmm from_host(__m128i r) {
  Xmm v;
  std::memcpy(v.b.data(), &r, 16);
  return v;
}

}  // namespace vtlab::isa::simd

// One host SSE instruction `mnem src, dst` (AT&T order) on XMM values under
// the guest's MXCSR; `raised` receives the host's flags (bits 5:0).
#define VTLAB_HOST_SSE(mnem, dst, src, csr, raised)                                                   \
  do {                                                                                                \
    uint32_t host_save_, host_out_, host_in_ = (csr);                                                 \
    asm volatile("stmxcsr %[save]\n\tldmxcsr %[in]\n\t" mnem " %[s], %[d]\n\tstmxcsr %[out]\n\tldmxcsr %[save]" \
                 : [d] "+x"(dst), [save] "=m"(host_save_), [out] "=m"(host_out_)                       \
                 : [s] "x"(src), [in] "m"(host_in_));                                                 \
    (raised) = host_out_ & 0x3F;                                                                      \
  } while (0)

// The same with an immediate (CMPPS's predicate): `mnem $imm, src, dst`.
#define VTLAB_HOST_SSE_IMM(mnem, dst, src, imm, csr, raised)                                          \
  do {                                                                                                \
    uint32_t host_save_, host_out_, host_in_ = (csr);                                                 \
    asm volatile("stmxcsr %[save]\n\tldmxcsr %[in]\n\t" mnem " %[k], %[s], %[d]\n\tstmxcsr %[out]\n\tldmxcsr %[save]" \
                 : [d] "+x"(dst), [save] "=m"(host_save_), [out] "=m"(host_out_)                       \
                 : [s] "x"(src), [k] "i"(imm), [in] "m"(host_in_));                                   \
    (raised) = host_out_ & 0x3F;                                                                      \
  } while (0)

namespace vtlab::isa::simd {

// --- PE after an unmasked overflow or underflow ------------------------------

// What an operation that can overflow or underflow computes per lane, for
// recomputing PE: ADD/SUB/MUL/DIV of dest and src lanes, or Narrow (a
// double src lane rounded to single: CVTSD2SS, CVTPD2PS).
enum class Rounded : uint8_t { Add, Sub, Mul, Div, Narrow };
struct RoundedShape {
  Rounded op;
  uint8_t lanes;  // the lanes computed (scalar forms: 1)
  bool dbl;       // double source lanes (the result is double unless Narrow)
};

// Whether a op b (80-bit, exact images of the lanes) rounded to 24 or 53
// bits under rounding control rc is inexact, on the host x87: its 15-bit
// exponent holds every product, quotient and sum of single or double
// values, so this is the rounding with an unbounded exponent.
template <uint8_t ModRM> bool x87_inexact(long double a, long double b, uint16_t cw) {
  uint16_t host_cw, sw;
  asm volatile("fnstcw %[save]\n\tfldcw %[cw]\n\tfnclex\n\tfldt %[b]\n\tfldt %[a]\n\t.byte 0xD8, %c[modrm]\n\t"
               "fnstsw %[sw]\n\tfstp %%st(0)\n\tfstp %%st(0)\n\tfnclex\n\tfldcw %[save]"
               : [save] "=m"(host_cw), [sw] "=m"(sw)
               : [cw] "m"(cw), [a] "m"(a), [b] "m"(b), [modrm] "i"(ModRM)
               : "st", "st(1)");
  return sw & 0x20;
}

// A lane as the operation sees it: DAZ turns a denormal operand into a
// zero of its sign before anything else (10.2.3.4).
template <typename T> long double lane_value(T v, uint32_t mxcsr) {
  if ((mxcsr & 0x40) && std::fpclassify(v) == FP_SUBNORMAL) v = std::copysign(T{0}, v);
  return v;
}

// With OE or UE unmasked the instruction faults without a result, and PE
// says whether the result rounded to the destination's precision with an
// unbounded exponent is inexact (measured: 2^127 / 2^-2 in single
// precision gives OE alone, (1 + 2^-23) 2^-126 * 2^-3 UE alone).  The
// masked host run reports the PE of the overflowed or denormalised result,
// which is always inexact, so PE is recomputed over the lanes.  Not
// measured, taken the same way: a packed operation where another lane's
// overflow or underflow is masked.
template <RoundedShape S> uint32_t unbounded_pe(uint32_t mxcsr, uint32_t raised, const Xmm& d, const Xmm& s) {
  const uint32_t unmasked = raised & ~(mxcsr >> kMxcsrMaskShift) & kMxcsrFlags;
  if (!(unmasked & 0x18) || (unmasked & 0x07)) return raised;  // no post-computation fault
  const uint16_t cw = static_cast<uint16_t>(0x7F | ((S.dbl && S.op != Rounded::Narrow) ? 0x200 : 0) |
                                            ((mxcsr >> 13) & 3) << 10);
  bool inexact = false;
  for (unsigned k = 0; k < S.lanes; ++k) {
    long double a, b;
    if constexpr (S.op == Rounded::Narrow) {
      a = lane_value(s.get<double>(k), mxcsr), b = 1.0L;
    } else if constexpr (S.dbl) {
      a = lane_value(d.get<double>(k), mxcsr), b = lane_value(s.get<double>(k), mxcsr);
    } else {
      a = lane_value(d.get<float>(k), mxcsr), b = lane_value(s.get<float>(k), mxcsr);
    }
    // ST(0) = ST(0) op ST(1), ST(0) = a: D8 C1 (add), C9 (mul), E1 (sub), F1 (div).
    switch (S.op) {
      case Rounded::Add: inexact |= x87_inexact<0xC1>(a, b, cw); break;
      case Rounded::Sub: inexact |= x87_inexact<0xE1>(a, b, cw); break;
      case Rounded::Div: inexact |= x87_inexact<0xF1>(a, b, cw); break;
      default: inexact |= x87_inexact<0xC9>(a, b, cw); break;
    }
  }
  return (raised & ~0x20u) | (inexact ? 0x20u : 0);
}

// A float operation xmm <- op(xmm, xmm/mem) run by the host: Op::run(dest,
// src, host MXCSR) -> flags raised.  On an unmasked exception the
// destination keeps its value.  An Op that can overflow or underflow
// declares its kRounded shape (unbounded_pe).
template <typename Op> Status float_op(Cpu& cpu, const DecodedInsn& i) {
  TRY(sse_available(cpu));
  Xmm s;
  TRY(read_src<16>(cpu, i, 1, s, Align::M128));
  __m128i d = to_host(xmm(cpu, i.op[0].reg));
  const __m128i before = d;
  uint32_t raised = Op::run(d, to_host(s), host_mxcsr(cpu.s.sse.mxcsr));
  // Unmasked, underflow is a tiny result even when exact (11.5.2.5); the
  // masked run flags only tiny and inexact ones.  FTZ flushes every tiny
  // result and flags UE: a second run under it detects tininess.
  if (!(cpu.s.sse.mxcsr & 0x0800)) {
    __m128i again = before;
    raised |= Op::run(again, to_host(s), host_mxcsr(cpu.s.sse.mxcsr) | 0x8000) & 0x10;
  }
  if constexpr (requires { Op::kRounded; })
    raised = unbounded_pe<Op::kRounded>(cpu.s.sse.mxcsr, raised, from_host(before), s);
  TRY(simd_fp_result(cpu, raised));
  set_xmm(cpu, i.op[0].reg, from_host(d));
  return Status::Ok;
}

inline bool xmm_form(const DecodedInsn& i) {
  return i.nops >= 2 && i.op[0].kind == OpKind::Xmm && (i.op[1].kind == OpKind::Xmm || i.op[1].kind == OpKind::Mem);
}
template <typename Op> Handler bind_float_op(DecodedInsn& i, const ZydisDecodedInstruction&) {
  return xmm_form(i) ? &float_op<Op> : nullptr;
}

}  // namespace vtlab::isa::simd

// Declares struct Name whose run() executes `mnem src, dst` on the host.
#define VTLAB_HOST_FLOAT_OP(Name, mnem) VTLAB_HOST_FLOAT_OP_WITH(Name, mnem)
// The same for an operation that can overflow or underflow, with its
// shape (a vtlab::isa::simd::RoundedShape).
#define VTLAB_HOST_ROUNDED_OP(Name, mnem, ...) \
  VTLAB_HOST_FLOAT_OP_WITH(Name, mnem, static constexpr RoundedShape kRounded{__VA_ARGS__};)
#define VTLAB_HOST_FLOAT_OP_WITH(Name, mnem, ...)                              \
  struct Name {                                                                \
    __VA_ARGS__                                                                \
    static uint32_t run(__m128i& d, __m128i s, uint32_t csr) {                 \
      uint32_t raised;                                                         \
      VTLAB_HOST_SSE(mnem, d, s, csr, raised);                                 \
      return raised;                                                           \
    }                                                                          \
  };
