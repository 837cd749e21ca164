// The 64-bit differential test's x87, MMX, SSE and SSE2 forms (see
// kvm_cases64.h) and the random x87/SSE state each case starts from.
// Encodings: Intel SDM vol. 2 (the 0F map with the 66/F2/F3 mandatory
// prefixes, the D8-DF x87 rows); memory operands are [RBX + disp8] in the
// data page, 16-byte aligned most of the time for the forms that fault
// #GP when misaligned; a load's operand is written into the data page with
// a boundary value of its type half the time.  Values are weighted towards
// the boundaries where results differ: ±0, denormals, the largest and
// smallest normals, ±infinity, QNaN and SNaN, the indefinite, 1.0, 0.5-step
// fractions (rounding) and integers at 2^31 and 2^63.  The x87's
// transcendental instructions (FSIN, FPTAN, F2XM1, FYL2X...) are left out:
// their results are the implementation's approximations (SDM vol. 1,
// 8.3.10), and vtlab runs them on the host's x87, so comparing them with
// the same silicon would show nothing about vtlab.
#include <cstring>

#include "kvm_cases64.h"

namespace vtlab::kvmtest {

namespace {

using Bytes = std::vector<uint8_t>;

constexpr unsigned kRsp = 4, kRbx = 3;

// What a lane holds, for boundary values: single, double, extended
// (80-bit, x87 only), integers, an x87 control word.
enum class Lane { F32, F64, F80, Int, Fcw };

template <typename T> T pick(Rng& rng, std::initializer_list<T> list) { return list.begin()[rng() % list.size()]; }

uint32_t f32(Rng& rng) {
  switch (rng() % 3) {
    case 0:
      return pick<uint32_t>(rng, {0, 0x80000000, 1, 0x807FFFFF, 0x00400000, 0x00800000, 0x80800000, 0x7F7FFFFF,
                                  0xFF7FFFFF, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7F800001,
                                  0xFFA00000, 0x3F800000, 0xBF800000, 0x3F000000, 0x3FC00000, 0x40200000,
                                  0xBFC00000, 0x4F000000, 0xCF000000, 0x5F000000, 0xDF000000, 0x4B800000});
    case 1: return uint32_t((rng() % 0x40 + 0x60) << 23 | (rng() & 0x807FFFFF));  // moderate magnitudes
    default: return uint32_t(rng());
  }
}

uint64_t f64(Rng& rng) {
  switch (rng() % 3) {
    case 0:
      return pick<uint64_t>(rng, {0, 1ull << 63, 1, 0x000FFFFFFFFFFFFF, 0x0010000000000000, 0x7FEFFFFFFFFFFFFF,
                                  0x7FF0000000000000, 0xFFF0000000000000, 0x7FF8000000000000,
                                  0xFFF8000000000000, 0x7FF0000000000001, 0xFFF4000000000000,
                                  0x3FF0000000000000, 0xBFF0000000000000, 0x3FE0000000000000,
                                  0x3FF8000000000000, 0x4004000000000000, 0xC1E0000000000000,
                                  0x41E0000000000000, 0x43E0000000000000, 0xC3E0000000000000,
                                  0x41DFFFFFFFC00000, 0x3810000000000000, 0x47EFFFFFE0000000});
    case 1: return (rng() % 0x200 + 0x300) << 52 | (rng() & 0x800FFFFFFFFFFFFF);
    default: return rng();
  }
}

uint64_t integer(Rng& rng) {
  switch (rng() % 3) {
    case 0:
      return pick<uint64_t>(rng, {0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000,
                                  0xFFFFFFFF, 0x7FFFFFFFFFFFFFFF, 1ull << 63, ~0ull, 0x8080808080808080,
                                  0x7F7F7F7F7F7F7F7F, 0x0001000100010001});
    case 1: return rng() & 0x1F;  // shift counts, small values
    default: return rng();
  }
}

// An 80-bit value: significand (with its explicit integer bit), then sign
// and exponent.  A few unsupported encodings (unnormals, pseudo-denormals,
// pseudo-infinities) are invalid operands (#IA).
void f80(Rng& rng, uint8_t out[10]) {
  uint64_t m;
  uint16_t se;
  const uint16_t sign = rng() % 2 ? 0x8000 : 0;
  switch (rng() % 12) {
    case 0: m = 0, se = 0; break;                                       // ±0
    case 1: m = rng() >> (1 + rng() % 63), se = 0; break;               // denormal
    case 2: m = 1ull << 63, se = 0x7FFF; break;                         // ±infinity
    case 3: m = 3ull << 62 | (rng() % 2 ? 0 : rng() >> 2), se = 0x7FFF; break;  // QNaN (indefinite when 0)
    case 4: m = 1ull << 63 | (rng() >> 2 | 1), se = 0x7FFF; break;      // SNaN
    case 5: m = 1ull << 63, se = 0x3FFF; break;                         // ±1.0
    case 6: m = 1ull << 63 | rng() >> 1, se = uint16_t(0x3FFF + 61 + rng() % 4); break;  // near 2^63
    case 7: m = 1ull << 63 | (rng() >> 1 & ~0xFFFull), se = uint16_t(0x3FF0 + rng() % 0x20); break;
    case 8: m = 1ull << 63 | rng() >> 1, se = uint16_t(rng() % 2 ? 1 + rng() % 0x40 : 0x7FFE - rng() % 0x40); break;
    case 9:  // unsupported: unnormal, pseudo-denormal, pseudo-infinity/NaN
      m = rng() >> 1, se = pick<uint16_t>(rng, {uint16_t(0x3FFF), 0, 0x7FFF});
      if (se == 0) m |= 1ull << 63;
      break;
    default: m = 1ull << 63 | rng() >> 1, se = uint16_t(0x3FFF - 0x40 + rng() % 0x80); break;
  }
  std::memcpy(out, &m, 8);
  se |= sign;
  std::memcpy(out + 8, &se, 2);
}

// A control word as FLDCW keeps it (bit 6 set, 7 and 13-15 clear): any
// precision and rounding control, all exceptions masked three times in
// four, else a random mask set.
uint16_t fcw(Rng& rng) {
  const uint16_t masks = rng() % 4 ? 0x3F : uint16_t(rng() & 0x3F);
  return uint16_t(0x40 | masks | (rng() % 4) << 8 | (rng() % 4) << 10);
}

void fill(Rng& rng, Lane lane, uint8_t* out, unsigned bytes) {
  for (unsigned at = 0; at < bytes;) {
    uint64_t v;
    unsigned n = 8;
    switch (lane) {
      case Lane::F32: v = f32(rng), n = 4; break;
      case Lane::F64: v = f64(rng); break;
      case Lane::F80:
        if (bytes - at >= 10) {
          f80(rng, out + at);
          at += 10;
          continue;
        }
        v = rng();
        break;
      case Lane::Fcw: v = fcw(rng), n = 2; break;
      default: v = integer(rng); break;
    }
    if (n > bytes - at) n = bytes - at;
    std::memcpy(out + at, &v, n);
    at += n;
  }
}

// A general register an instruction may write: not RSP (the exception
// frame's stack) or RBX (the memory operands' base).
unsigned gpr(Rng& rng) {
  unsigned r;
  do r = unsigned(rng() % 16);
  while (r == kRsp || r == kRbx);
  return r;
}

// [RBX + disp8] for an operand of `bytes` bytes; `align`: a 16-byte
// operand that must be aligned, so the displacement is a multiple of 16
// seven times in eight (else #GP).
uint8_t displacement(Rng& rng, bool align) {
  if (align && rng() % 8) return uint8_t(16 * (rng() % 8));
  return uint8_t(rng() % 120);
}

// --- MMX, SSE, SSE2 ---------------------------------------------------------

// What a ModRM field names: an XMM register, an MMX register, a general
// register, or a fixed /digit (the shift-by-immediate groups).
enum class Reg { Xmm, Mm, Gpr, Digit };

struct VecForm {
  std::string name;
  uint8_t prefix;  // 0, 66, F2 or F3
  uint8_t op;      // after 0F
  Reg reg, rm;
  unsigned mem;    // the memory operand's bytes (0: register operands only)
  Lane lane;       // what the memory operand holds
  bool align;      // a 16-byte operand that must be aligned
  bool imm;        // an imm8 follows
  uint8_t digit = 0;
  bool w = false;  // REX.W (64-bit integer operand)
};

std::vector<VecForm> vec_forms() {
  std::vector<VecForm> f;
  const auto add = [&](std::string name, uint8_t prefix, uint8_t op, Reg reg, Reg rm, unsigned mem, Lane lane,
                       bool imm = false) {
    f.push_back({std::move(name), prefix, op, reg, rm, mem, lane, mem == 16 && prefix != 0xF3, imm});
  };
  const auto xx = [&](std::string name, uint8_t prefix, uint8_t op, unsigned mem, Lane lane, bool imm = false) {
    add(std::move(name), prefix, op, Reg::Xmm, Reg::Xmm, mem, lane, imm);
  };
  struct Arith {
    const char* name;
    uint8_t op;
  };
  for (const Arith a : {Arith{"add", 0x58}, {"mul", 0x59}, {"sub", 0x5C}, {"min", 0x5D}, {"div", 0x5E},
                        {"max", 0x5F}, {"sqrt", 0x51}}) {
    xx(std::string(a.name) + "ps", 0, a.op, 16, Lane::F32);
    xx(std::string(a.name) + "pd", 0x66, a.op, 16, Lane::F64);
    xx(std::string(a.name) + "ss", 0xF3, a.op, 4, Lane::F32);
    xx(std::string(a.name) + "sd", 0xF2, a.op, 8, Lane::F64);
  }
  xx("cmpps", 0, 0xC2, 16, Lane::F32, true);
  xx("cmppd", 0x66, 0xC2, 16, Lane::F64, true);
  xx("cmpss", 0xF3, 0xC2, 4, Lane::F32, true);
  xx("cmpsd", 0xF2, 0xC2, 8, Lane::F64, true);
  xx("comiss", 0, 0x2F, 4, Lane::F32);
  xx("ucomiss", 0, 0x2E, 4, Lane::F32);
  xx("comisd", 0x66, 0x2F, 8, Lane::F64);
  xx("ucomisd", 0x66, 0x2E, 8, Lane::F64);
  // Conversions.  Scalar <-> integer in 32 and 64 bits.
  for (bool w : {false, true}) {
    const std::string size = w ? "64" : "32";
    const unsigned bytes = w ? 8 : 4;
    add("cvtsi2ss" + size, 0xF3, 0x2A, Reg::Xmm, Reg::Gpr, bytes, Lane::Int);
    add("cvtsi2sd" + size, 0xF2, 0x2A, Reg::Xmm, Reg::Gpr, bytes, Lane::Int);
    add("cvtss2si" + size, 0xF3, 0x2D, Reg::Gpr, Reg::Xmm, 4, Lane::F32);
    add("cvttss2si" + size, 0xF3, 0x2C, Reg::Gpr, Reg::Xmm, 4, Lane::F32);
    add("cvtsd2si" + size, 0xF2, 0x2D, Reg::Gpr, Reg::Xmm, 8, Lane::F64);
    add("cvttsd2si" + size, 0xF2, 0x2C, Reg::Gpr, Reg::Xmm, 8, Lane::F64);
    add("movd_x_g" + size, 0x66, 0x6E, Reg::Xmm, Reg::Gpr, bytes, Lane::Int);
    add("movd_g_x" + size, 0x66, 0x7E, Reg::Xmm, Reg::Gpr, bytes, Lane::Int);  // r/m is the destination
    add("movd_m_g" + size, 0, 0x6E, Reg::Mm, Reg::Gpr, bytes, Lane::Int);
    add("movd_g_m" + size, 0, 0x7E, Reg::Mm, Reg::Gpr, bytes, Lane::Int);
    for (size_t k = f.size() - 10; k < f.size(); ++k) f[k].w = w;
  }
  xx("cvtps2pd", 0, 0x5A, 8, Lane::F32);
  xx("cvtpd2ps", 0x66, 0x5A, 16, Lane::F64);
  xx("cvtss2sd", 0xF3, 0x5A, 4, Lane::F32);
  xx("cvtsd2ss", 0xF2, 0x5A, 8, Lane::F64);
  xx("cvtdq2ps", 0, 0x5B, 16, Lane::Int);
  xx("cvtps2dq", 0x66, 0x5B, 16, Lane::F32);
  xx("cvttps2dq", 0xF3, 0x5B, 16, Lane::F32);
  f.back().align = true;  // F3 0F 5B is a packed form: aligned
  xx("cvtdq2pd", 0xF3, 0xE6, 8, Lane::Int);
  xx("cvtpd2dq", 0xF2, 0xE6, 16, Lane::F64);
  xx("cvttpd2dq", 0x66, 0xE6, 16, Lane::F64);
  // Between MMX registers and XMM lanes.
  add("cvtpi2ps", 0, 0x2A, Reg::Xmm, Reg::Mm, 8, Lane::Int);
  add("cvtpi2pd", 0x66, 0x2A, Reg::Xmm, Reg::Mm, 8, Lane::Int);
  add("cvtps2pi", 0, 0x2D, Reg::Mm, Reg::Xmm, 8, Lane::F32);
  add("cvttps2pi", 0, 0x2C, Reg::Mm, Reg::Xmm, 8, Lane::F32);
  add("cvtpd2pi", 0x66, 0x2D, Reg::Mm, Reg::Xmm, 16, Lane::F64);
  add("cvttpd2pi", 0x66, 0x2C, Reg::Mm, Reg::Xmm, 16, Lane::F64);
  // Logic, shuffles, unpacks.
  for (const Arith a : {Arith{"and", 0x54}, {"andn", 0x55}, {"or", 0x56}, {"xor", 0x57}, {"unpckl", 0x14},
                        {"unpckh", 0x15}}) {
    xx(std::string(a.name) + "ps", 0, a.op, 16, Lane::F32);
    xx(std::string(a.name) + "pd", 0x66, a.op, 16, Lane::F64);
  }
  xx("shufps", 0, 0xC6, 16, Lane::F32, true);
  xx("shufpd", 0x66, 0xC6, 16, Lane::F64, true);
  xx("pshufd", 0x66, 0x70, 16, Lane::Int, true);
  xx("pshufhw", 0xF3, 0x70, 16, Lane::Int, true);
  f.back().align = true;
  xx("pshuflw", 0xF2, 0x70, 16, Lane::Int, true);
  // Moves: loads and stores (the store forms' r/m is the destination).
  xx("movaps", 0, 0x28, 16, Lane::F32);
  xx("movaps_store", 0, 0x29, 16, Lane::F32);
  xx("movups", 0, 0x10, 16, Lane::F32);
  f.back().align = false;
  xx("movups_store", 0, 0x11, 16, Lane::F32);
  f.back().align = false;
  xx("movdqa", 0x66, 0x6F, 16, Lane::Int);
  xx("movdqa_store", 0x66, 0x7F, 16, Lane::Int);
  xx("movdqu", 0xF3, 0x6F, 16, Lane::Int);
  xx("movdqu_store", 0xF3, 0x7F, 16, Lane::Int);
  xx("movss", 0xF3, 0x10, 4, Lane::F32);
  xx("movss_store", 0xF3, 0x11, 4, Lane::F32);
  xx("movsd", 0xF2, 0x10, 8, Lane::F64);
  xx("movsd_store", 0xF2, 0x11, 8, Lane::F64);
  xx("movq_load", 0xF3, 0x7E, 8, Lane::Int);
  xx("movq_store", 0x66, 0xD6, 8, Lane::Int);
  xx("movlps_movhlps", 0, 0x12, 8, Lane::F32);
  xx("movhps_movlhps", 0, 0x16, 8, Lane::F32);
  add("movmskps", 0, 0x50, Reg::Gpr, Reg::Xmm, 0, Lane::F32);
  add("movmskpd", 0x66, 0x50, Reg::Gpr, Reg::Xmm, 0, Lane::F64);
  add("pmovmskb", 0x66, 0xD7, Reg::Gpr, Reg::Xmm, 0, Lane::Int);
  add("pinsrw", 0x66, 0xC4, Reg::Xmm, Reg::Gpr, 2, Lane::Int, true);
  add("pextrw", 0x66, 0xC5, Reg::Gpr, Reg::Xmm, 0, Lane::Int, true);
  // Packed integer, each in its SSE2 (66, XMM) and MMX form.
  const Arith integer_ops[] = {
      {"paddb", 0xFC},   {"paddw", 0xFD},    {"paddd", 0xFE},    {"paddq", 0xD4},    {"paddsb", 0xEC},
      {"paddsw", 0xED},  {"paddusb", 0xDC},  {"paddusw", 0xDD},  {"psubb", 0xF8},    {"psubw", 0xF9},
      {"psubd", 0xFA},   {"psubq", 0xFB},    {"psubsb", 0xE8},   {"psubsw", 0xE9},   {"psubusb", 0xD8},
      {"psubusw", 0xD9}, {"pmullw", 0xD5},   {"pmulhw", 0xE5},   {"pmulhuw", 0xE4},  {"pmuludq", 0xF4},
      {"pmaddwd", 0xF5}, {"pcmpeqb", 0x74},  {"pcmpeqw", 0x75},  {"pcmpeqd", 0x76},  {"pcmpgtb", 0x64},
      {"pcmpgtw", 0x65}, {"pcmpgtd", 0x66},  {"pand", 0xDB},     {"pandn", 0xDF},    {"por", 0xEB},
      {"pxor", 0xEF},    {"psllw", 0xF1},    {"pslld", 0xF2},    {"psllq", 0xF3},    {"psrlw", 0xD1},
      {"psrld", 0xD2},   {"psrlq", 0xD3},    {"psraw", 0xE1},    {"psrad", 0xE2},    {"pminub", 0xDA},
      {"pmaxub", 0xDE},  {"pminsw", 0xEA},   {"pmaxsw", 0xEE},   {"psadbw", 0xF6},   {"pavgb", 0xE0},
      {"pavgw", 0xE3},   {"packsswb", 0x63}, {"packuswb", 0x67}, {"packssdw", 0x6B}, {"punpcklbw", 0x60},
      {"punpcklwd", 0x61}, {"punpckldq", 0x62}, {"punpckhbw", 0x68}, {"punpckhwd", 0x69}, {"punpckhdq", 0x6A}};
  for (const Arith a : integer_ops) {
    xx(a.name, 0x66, a.op, 16, Lane::Int);
    add(std::string(a.name) + "_mmx", 0, a.op, Reg::Mm, Reg::Mm, 8, Lane::Int);
  }
  xx("punpcklqdq", 0x66, 0x6C, 16, Lane::Int);
  xx("punpckhqdq", 0x66, 0x6D, 16, Lane::Int);
  add("movq_mmx", 0, 0x6F, Reg::Mm, Reg::Mm, 8, Lane::Int);
  add("movq_mmx_store", 0, 0x7F, Reg::Mm, Reg::Mm, 8, Lane::Int);
  add("pmovmskb_mmx", 0, 0xD7, Reg::Gpr, Reg::Mm, 0, Lane::Int);
  add("pshufw_mmx", 0, 0x70, Reg::Mm, Reg::Mm, 8, Lane::Int, true);
  // Shifts by an immediate: 0F 71/72/73 /digit ib, register operand only.
  struct Shift {
    const char* name;
    uint8_t op, digit;
    bool mmx;
  };
  for (const Shift s : {Shift{"psrlw", 0x71, 2, true}, {"psraw", 0x71, 4, true}, {"psllw", 0x71, 6, true},
                        {"psrld", 0x72, 2, true}, {"psrad", 0x72, 4, true}, {"pslld", 0x72, 6, true},
                        {"psrlq", 0x73, 2, true}, {"psrldq", 0x73, 3, false}, {"psllq", 0x73, 6, true},
                        {"pslldq", 0x73, 7, false}}) {
    add(std::string(s.name) + "_imm", 0x66, s.op, Reg::Digit, Reg::Xmm, 0, Lane::Int, true);
    f.back().digit = s.digit;
    if (!s.mmx) continue;
    add(std::string(s.name) + "_imm_mmx", 0, s.op, Reg::Digit, Reg::Mm, 0, Lane::Int, true);
    f.back().digit = s.digit;
  }
  return f;
}

// A register number for a ModRM field of kind `r`.
unsigned pick_reg(Rng& rng, Reg r) {
  switch (r) {
    case Reg::Xmm: return unsigned(rng() % 16);
    case Reg::Mm: return unsigned(rng() % 8);
    case Reg::Gpr: return gpr(rng);
    default: return 0;
  }
}

uint8_t imm8(Rng& rng, const VecForm& f) {
  if (f.op == 0xC2) return rng() % 8 ? uint8_t(rng() % 8) : uint8_t(rng());  // CMPcc predicates
  if (f.op >= 0x71 && f.op <= 0x73)
    return pick<uint8_t>(rng, {0, 1, 7, 8, 15, 16, 17, 31, 32, 63, 64, 255, uint8_t(rng())});
  return uint8_t(rng());
}

Bytes encode(Rng& rng, const VecForm& f, bool mem, State& in) {
  const unsigned reg = f.reg == Reg::Digit ? f.digit : pick_reg(rng, f.reg);
  const unsigned rm = mem ? 0 : pick_reg(rng, f.rm);
  Bytes b;
  if (f.prefix) b.push_back(f.prefix);
  // REX.R/B extend XMM and general registers; MMX registers ignore them.
  const bool r = f.reg != Reg::Mm && reg >= 8, x = !mem && f.rm != Reg::Mm && rm >= 8;
  if (f.w || r || x) b.push_back(uint8_t(0x40 | f.w << 3 | r << 2 | x));
  b.insert(b.end(), {0x0F, f.op});
  if (mem) {
    const uint8_t disp = displacement(rng, f.align);
    b.push_back(uint8_t(0x40 | (reg & 7) << 3 | kRbx));
    b.push_back(disp);
    if (rng() % 2) fill(rng, f.lane, in.data + disp, f.mem);
  } else {
    b.push_back(uint8_t(0xC0 | (reg & 7) << 3 | (rm & 7)));
  }
  if (f.imm) b.push_back(imm8(rng, f));
  return b;
}

// --- x87 --------------------------------------------------------------------

struct X87Form {
  std::string name;
  uint8_t op;
  uint8_t modrm;  // register forms: C0-FF (plus i when `sti`); memory forms: the /digit
  bool sti = false;
  unsigned mem = 0;  // memory forms: the operand's bytes
  Lane lane = Lane::Int;
};

std::vector<X87Form> x87_forms() {
  std::vector<X87Form> f;
  const auto sti = [&](std::string name, uint8_t op, uint8_t modrm) { f.push_back({std::move(name), op, modrm, true}); };
  const auto fixed = [&](std::string name, uint8_t op, uint8_t modrm) { f.push_back({std::move(name), op, modrm}); };
  const auto mem = [&](std::string name, uint8_t op, uint8_t digit, unsigned bytes, Lane lane) {
    f.push_back({std::move(name), op, digit, false, bytes, lane});
  };
  // D8: op ST(0), ST(i) or m32fp; DC: op ST(i), ST(0) or m64fp; DE: the
  // popping register forms and m16int; DA: m32int.  DC/DE /4../7 are
  // FSUBR, FSUB, FDIVR, FDIV in Intel's naming.
  const char* d8[] = {"fadd", "fmul", "fcom", "fcomp", "fsub", "fsubr", "fdiv", "fdivr"};
  const char* dc[] = {"fadd", "fmul", "", "", "fsubr", "fsub", "fdivr", "fdiv"};
  for (uint8_t d = 0; d < 8; ++d) {
    sti(std::string(d8[d]) + "_st0_sti", 0xD8, uint8_t(0xC0 + 8 * d));
    mem(std::string(d8[d]) + "_m32", 0xD8, d, 4, Lane::F32);
    mem(std::string(d8[d]) + "_m64", 0xDC, d, 8, Lane::F64);
    mem(std::string("fi") + (d8[d] + 1) + "_m32int", 0xDA, d, 4, Lane::Int);
    mem(std::string("fi") + (d8[d] + 1) + "_m16int", 0xDE, d, 2, Lane::Int);
    if (*dc[d] == 0) continue;
    sti(std::string(dc[d]) + "_sti_st0", 0xDC, uint8_t(0xC0 + 8 * d));
    sti(std::string(dc[d]) + "p", 0xDE, uint8_t(0xC0 + 8 * d));
  }
  fixed("fcompp", 0xDE, 0xD9);
  sti("fucom", 0xDD, 0xE0);
  sti("fucomp", 0xDD, 0xE8);
  fixed("fucompp", 0xDA, 0xE9);
  sti("fcomi", 0xDB, 0xF0);
  sti("fcomip", 0xDF, 0xF0);
  sti("fucomi", 0xDB, 0xE8);
  sti("fucomip", 0xDF, 0xE8);
  for (uint8_t c = 0; c < 4; ++c) {
    sti("fcmovcc", 0xDA, uint8_t(0xC0 + 8 * c));
    sti("fcmovncc", 0xDB, uint8_t(0xC0 + 8 * c));
  }
  // Loads, stores, exchanges.
  sti("fld_sti", 0xD9, 0xC0);
  sti("fst_sti", 0xDD, 0xD0);
  sti("fstp_sti", 0xDD, 0xD8);
  sti("fxch", 0xD9, 0xC8);
  sti("ffree", 0xDD, 0xC0);
  mem("fld_m32", 0xD9, 0, 4, Lane::F32);
  mem("fst_m32", 0xD9, 2, 4, Lane::F32);
  mem("fstp_m32", 0xD9, 3, 4, Lane::F32);
  mem("fld_m64", 0xDD, 0, 8, Lane::F64);
  mem("fst_m64", 0xDD, 2, 8, Lane::F64);
  mem("fstp_m64", 0xDD, 3, 8, Lane::F64);
  mem("fld_m80", 0xDB, 5, 10, Lane::F80);
  mem("fstp_m80", 0xDB, 7, 10, Lane::F80);
  mem("fild_m16", 0xDF, 0, 2, Lane::Int);
  mem("fild_m32", 0xDB, 0, 4, Lane::Int);
  mem("fild_m64", 0xDF, 5, 8, Lane::Int);
  mem("fist_m16", 0xDF, 2, 2, Lane::Int);
  mem("fist_m32", 0xDB, 2, 4, Lane::Int);
  mem("fistp_m16", 0xDF, 3, 2, Lane::Int);
  mem("fistp_m32", 0xDB, 3, 4, Lane::Int);
  mem("fistp_m64", 0xDF, 7, 8, Lane::Int);
  mem("fisttp_m16", 0xDF, 1, 2, Lane::Int);  // SSE3, run whatever CPUID says
  mem("fisttp_m32", 0xDB, 1, 4, Lane::Int);
  mem("fisttp_m64", 0xDD, 1, 8, Lane::Int);
  // One-operand and constant forms.
  fixed("fchs", 0xD9, 0xE0);
  fixed("fabs", 0xD9, 0xE1);
  fixed("ftst", 0xD9, 0xE4);
  fixed("fxam", 0xD9, 0xE5);
  fixed("fld1", 0xD9, 0xE8);
  fixed("fldz", 0xD9, 0xEE);
  fixed("fsqrt", 0xD9, 0xFA);
  fixed("frndint", 0xD9, 0xFC);
  fixed("fscale", 0xD9, 0xFD);
  fixed("fdecstp", 0xD9, 0xF6);
  fixed("fincstp", 0xD9, 0xF7);
  // Control: FNSTSW AX, FNCLEX, FNINIT, FLDCW/FNSTCW, FNSTSW m16.
  fixed("fnstsw_ax", 0xDF, 0xE0);
  fixed("fnclex", 0xDB, 0xE2);
  fixed("fninit", 0xDB, 0xE3);
  mem("fldcw", 0xD9, 5, 2, Lane::Fcw);
  mem("fnstcw", 0xD9, 7, 2, Lane::Int);
  mem("fnstsw_m16", 0xDD, 7, 2, Lane::Int);
  return f;
}

Bytes encode(Rng& rng, const X87Form& f, State& in) {
  if (f.mem == 0) return {f.op, uint8_t(f.modrm + (f.sti ? rng() % 8 : 0))};
  const uint8_t disp = displacement(rng, false);
  if (rng() % 2) fill(rng, f.lane, in.data + disp, f.mem);
  return {f.op, uint8_t(0x40 | f.modrm << 3 | kRbx), disp};
}

}  // namespace

std::vector<Snippet> simd_snippets() {
  std::vector<Snippet> out;
  for (const VecForm& f : vec_forms()) {
    out.push_back({f.name, [f](Rng& rng, uint64_t, State& in) { return encode(rng, f, false, in); }});
    if (f.mem)
      out.push_back({f.name + "/m", [f](Rng& rng, uint64_t, State& in) { return encode(rng, f, true, in); }});
  }
  for (const X87Form& f : x87_forms())
    out.push_back({f.name, [f](Rng& rng, uint64_t, State& in) { return encode(rng, f, in); }});
  out.push_back({"emms", [](Rng&, uint64_t, State&) { return Bytes{0x0F, 0x77}; }});
  // WAIT: reports an x87 exception an earlier form left pending (#MF).
  out.push_back({"fwait", [](Rng&, uint64_t, State&) { return Bytes{0x9B}; }});
  return out;
}

void random_fpu(Rng& rng, FpuState& fpu) {
  fpu.fcw = fcw(rng);
  // TOP, C0-C3 and, one time in four, exception flags (SF with IE);
  // ES and B as FRSTOR/FXRSTOR-consistent: set exactly when a flag is
  // unmasked (so the first waiting x87 instruction raises #MF).
  uint16_t flags = rng() % 4 ? 0 : uint16_t(rng() & 0x3F);
  if (flags & 1 && rng() % 2) flags |= 0x40;
  fpu.fsw = uint16_t(flags | (rng() & 0x4700) | (rng() % 8) << 11);
  if (flags & ~fpu.fcw & 0x3F) fpu.fsw |= 0x8080;
  fpu.ftw = uint8_t(rng() % 4 == 0 ? 0 : rng() % 4 == 0 ? 0xFF : rng());
  for (auto& st : fpu.st) f80(rng, st);
  for (auto& x : fpu.xmm) {
    const Lane lanes[] = {Lane::F32, Lane::F64, Lane::Int};
    fill(rng, lanes[rng() % 3], reinterpret_cast<uint8_t*>(x), 16);
  }
  // Rounding control, FTZ and DAZ at random; all exceptions masked three
  // times in four (else #XM may fire), sticky flags set one time in two.
  uint32_t mxcsr = uint32_t(rng() % 4) << 13;
  if (rng() % 4 == 0) mxcsr |= 0x8000;  // FTZ
  if (rng() % 4 == 0) mxcsr |= 0x40;    // DAZ
  mxcsr |= rng() % 4 ? 0x1F80 : uint32_t(rng() & 0x3F) << 7;
  if (rng() % 2) mxcsr |= uint32_t(rng() & 0x3F);
  fpu.mxcsr = mxcsr;
}

}  // namespace vtlab::kvmtest
