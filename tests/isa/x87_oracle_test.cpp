// The x87 computing instructions against the host CPU: every snippet runs
// in the guest and on the host over a grid of operands (normals, zeros,
// denormals, pseudo-denormals, unnormals, infinities, QNaNs, SNaNs, huge
// and tiny values) and control words (rounding modes, precision control,
// masked and unmasked exceptions), and the results, status word, tags,
// registers and EFLAGS must match bit for bit (SDM vol. 1, chapter 8 is
// what both implement; the host is the reference silicon).
#include "isa/x87_fixture.h"

namespace vtlab::test::x87 {
namespace {

#define PROLOGUE "fninit\n\tfldcw [ebx+0x40]\n\tfld tbyte ptr [ebx+0x10]\n\tfld tbyte ptr [ebx]\n\t"
#define FLAGS                                                                                          \
  "\n\tsetz byte ptr [ebx+0x100]\n\tsetp byte ptr [ebx+0x101]\n\tsetc byte ptr [ebx+0x102]\n\tseto " \
  "byte ptr [ebx+0x103]\n\tsets byte ptr [ebx+0x104]\n\t"
#define EPILOGUE "\n\tfnsave [ebx+0x200]"
#define OP2(NAME, INSN) X87_SNIPPET(NAME, PROLOGUE INSN EPILOGUE)

// ST(0) = [ebx], ST(1) = [ebx+0x10]; memory operands at [ebx+0x20].
OP2(fadd_st, "fadd st, st(1)")
OP2(fsub_st, "fsub st, st(1)")
OP2(fsubr_st, "fsubr st, st(1)")
OP2(fmul_st, "fmul st, st(1)")
OP2(fdiv_st, "fdiv st, st(1)")
OP2(fdivr_st, "fdivr st, st(1)")
OP2(fsubp_sti, "fsubp st(1), st")
OP2(fdivrp_sti, "fdivrp st(1), st")
OP2(fadd_m32, "fadd dword ptr [ebx+0x20]")
OP2(fsub_m64, "fsub qword ptr [ebx+0x20]")
OP2(fdivr_m64, "fdivr qword ptr [ebx+0x20]")
OP2(fimul_m16, "fimul word ptr [ebx+0x20]")
OP2(fidiv_m32, "fidiv dword ptr [ebx+0x20]")
OP2(fld_m32, "fld dword ptr [ebx+0x20]")
OP2(fld_m64, "fld qword ptr [ebx+0x20]")
OP2(fild_m64, "fild qword ptr [ebx+0x20]")
OP2(fbld, "fbld tbyte ptr [ebx+0x20]")
OP2(fsqrt, "fsqrt")
OP2(frndint, "frndint")
OP2(fscale, "fscale")
OP2(fxtract, "fxtract")
OP2(fprem, "fprem")
OP2(fprem1, "fprem1")
OP2(fchs, "fchs")
OP2(fabs, "fabs")
OP2(fsin, "fsin")
OP2(fcos, "fcos")
OP2(fsincos, "fsincos")
OP2(fptan, "fptan")
OP2(fpatan, "fpatan")
OP2(f2xm1, "f2xm1")
OP2(fyl2x, "fyl2x")
OP2(fyl2xp1, "fyl2xp1")
OP2(fxam, "fxam")
OP2(ftst, "ftst")
OP2(fcom_st, "fcom st(1)")
OP2(fucompp, "fucompp")
OP2(fcom_m64, "fcomp qword ptr [ebx+0x20]")
OP2(ficom_m16, "ficom word ptr [ebx+0x20]")
OP2(fcomi, "fcomi st, st(1)" FLAGS)
OP2(fucomip, "fucomip st, st(1)" FLAGS)
OP2(fst_m32, "fst dword ptr [ebx+0x100]")
OP2(fstp_m64, "fstp qword ptr [ebx+0x100]")
OP2(fstp_m80, "fstp tbyte ptr [ebx+0x100]")
OP2(fist_m16, "fist word ptr [ebx+0x100]")
OP2(fistp_m32, "fistp dword ptr [ebx+0x100]")
OP2(fistp_m64, "fistp qword ptr [ebx+0x100]")
OP2(fbstp, "fbstp tbyte ptr [ebx+0x100]")
OP2(fisttp_m16, "fisttp word ptr [ebx+0x100]")
OP2(fisttp_m32, "fisttp dword ptr [ebx+0x100]")
OP2(fisttp_m64, "fisttp qword ptr [ebx+0x100]")
OP2(fxch, "fxch st(1)")
OP2(fld1, "fld1")
OP2(fldpi, "fldpi")
OP2(fldl2e, "fldl2e")
OP2(fldlg2, "fldlg2")

const Snippet* const kOps[] = {
    &fadd_st, &fsub_st, &fsubr_st, &fmul_st, &fdiv_st, &fdivr_st, &fsubp_sti, &fdivrp_sti, &fadd_m32, &fsub_m64,
    &fdivr_m64, &fimul_m16, &fidiv_m32, &fld_m32, &fld_m64, &fild_m64, &fbld, &fsqrt, &frndint, &fscale,
    &fxtract, &fprem, &fprem1, &fchs, &fabs, &fsin, &fcos, &fsincos, &fptan, &fpatan, &f2xm1, &fyl2x,
    &fyl2xp1, &fxam, &ftst, &fcom_st, &fucompp, &fcom_m64, &ficom_m16, &fcomi, &fucomip, &fst_m32,
    &fstp_m64, &fstp_m80, &fist_m16, &fistp_m32, &fistp_m64, &fbstp, &fisttp_m16, &fisttp_m32, &fisttp_m64,
    &fxch, &fld1, &fldpi, &fldl2e, &fldlg2};

const F80 kValues[] = {
    {0x3FFF, 0x8000000000000000},  // 1
    {0xC000, 0xA000000000000000},  // -2.5
    {0x4000, 0xC90FDAA22168C235},  // pi
    {0x4015, 0x800FBD8000000000},  // 4195835 (the Pentium FDIV operands)
    {0x4014, 0xBFFFF80000000000},  // 3145727
    {0x3FFD, 0xAAAAAAAAAAAAAAAB},  // 1/3
    {0x0000, 0x0000000000000000},  // +0
    {0x8000, 0x0000000000000000},  // -0
    {0x0000, 0x0000000000000123},  // denormal
    {0x0000, 0x8000000000000001},  // pseudo-denormal
    {0x3FFF, 0x4000000000000000},  // unnormal
    {0x7FFF, 0x8000000000000000},  // +inf
    {0xFFFF, 0xC000000000000000},  // QNaN indefinite
    {0x7FFF, 0xA000000000000000},  // SNaN
    {0x7FFE, 0xFFFFFFFFFFFFFFFF},  // largest finite
    {0x0001, 0x8000000000000000},  // smallest normal
    {0x403E, 0xFFFFFFFFFFFFFFFF},  // 2^64 - 1
    {0x403D, 0x8000000000000000},  // 2^62
    {0xC00E, 0x8000000000000000},  // -32768
};

// Rounding (RC 00..11), precision (PC 24/53/64) and exception masks:
// all masked; IE, ZE, DE unmasked; OE, UE, PE unmasked.
const uint16_t kControlWords[] = {0x037F, 0x077F, 0x0B7F, 0x0F7F, 0x007F, 0x027F, 0x0378, 0x0347};

// Raw bit patterns for the memory operand: read as m16/m32/m64 int, m32fp,
// m64fp or BCD, whichever the snippet uses.
const uint64_t kMemValues[] = {0x0000000000000000, 0x3FF0000000000001, 0x7FF0000000000001, 0x000000007F800001,
                               0x8000000000000000, 0x0000000000000001, 0x00000000FFFF8000, 0x0000123456789012};

Area inputs(F80 a, F80 b, uint16_t fcw, uint64_t mem) {
  Area in{};
  put_f80(in, 0x00, a);
  put_f80(in, 0x10, b);
  std::memcpy(&in[0x20], &mem, 8);
  std::memcpy(&in[0x40], &fcw, 2);
  for (size_t k = 0x100; k < 0x110; ++k) in[k] = 0xA5;  // a store that should not happen shows
  return in;
}

TEST(X87Oracle, EveryOperationMatchesTheHostCpu) {
  for (const Snippet* op : kOps) {
    SCOPED_TRACE(op->name);
    GuestRunner guest(*op);
    unsigned failures = 0;
    for (uint16_t fcw : kControlWords)
      for (size_t ai = 0; ai < std::size(kValues); ++ai)
        for (size_t bi = 0; bi < std::size(kValues); bi += 3) {
          const Area in = inputs(kValues[ai], kValues[bi], fcw, kMemValues[(ai + bi) % std::size(kMemValues)]);
          const auto r = same_as_host(guest.run(in), host_run(*op, in));
          if (!r && ++failures <= 3) ADD_FAILURE() << "fcw " << std::hex << fcw << " a " << ai << " b " << bi << ": " << r.message();
        }
    EXPECT_EQ(failures, 0u);
  }
}

// The grid above must exercise what it claims: some cases raise each
// exception, unmasked ones leave ES set, stack values differ by operation.
TEST(X87Oracle, TheGridReachesEveryException) {
  uint16_t seen = 0, pending = 0;
  for (const Snippet* op : {&fdiv_st, &fst_m32, &fadd_st, &fistp_m32}) {
    GuestRunner guest(*op);
    for (uint16_t fcw : kControlWords)
      for (const F80& a : kValues)
        for (const F80& b : kValues) {
          const uint16_t fsw = image_fsw(guest.run(inputs(a, b, fcw, 0)));
          seen |= fsw & 0x3F;
          pending |= fsw & 0x80;
        }
  }
  EXPECT_EQ(seen, 0x3F);
  EXPECT_EQ(pending, 0x80);
}

}  // namespace
}  // namespace vtlab::test::x87
