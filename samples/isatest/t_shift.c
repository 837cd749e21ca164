/*
 * SHL SHR SAR ROL ROR RCL RCR SHLD SHRD.
 * Counts are masked to 5 bits.  A masked count of 0 changes nothing, not
 * even flags.  OF is defined only for 1-bit shifts, AF never is; SHL/SHR
 * leave CF undefined when count >= operand size.  Rotates never touch
 * SF/ZF/AF/PF, which the tests pass in and expect back.
 */
#include "isatest.h"

static void test_shl_shr_sar(void)
{
    T_OP1("shl32_by1", "shll $1, %k[d]", 0x80000001, 0, 0x00000002, CF | OF, F_SH1);
    T_OP1("shl8_by1", "shlb $1, %b[d]", 0x40, 0, 0x80, OF | SF, F_SH1);
    T_OPCL("shl32_cl4", "shll %b[s], %k[d]", 0x12345678, 4, 0, 0x23456780, CF, F_SHN);
    T_OPCL("shl32_cl0", "shll %b[s], %k[d]", 0x1234, 0, F_ALL, 0x1234, F_ALL, F_ALL);
    T_OPCL("shl32_cl33", "shll %b[s], %k[d]", 0x40000000, 33, 0, 0x80000000, OF | SF | PF, F_SH1);
    T_OPCL("shl32_cl32", "shll %b[s], %k[d]", 0x1234, 32, CF | ZF, 0x1234, CF | ZF, F_ALL);
    T_OP1("shl16_by8", "shlw $8, %w[d]", 0xABCD1234, 0, 0xABCD3400, PF, F_SHN);
    T_OPCL("shl8_cl9", "shlb %b[s], %b[d]", 0xFF, 9, 0, 0x00, ZF | PF, SF | ZF | PF);

    T_OP1("shr32_by1", "shrl $1, %k[d]", 0x80000001, 0, 0x40000000, CF | OF | PF, F_SH1);
    T_OP1("shr8_by3", "shrb $3, %b[d]", 0x8F, 0, 0x11, CF | PF, F_SHN);
    T_OPCL("shr16_cl16", "shrw %b[s], %w[d]", 0x8000, 16, 0, 0, ZF | PF, SF | ZF | PF);
    T_OPCL("shr32_cl0", "shrl %b[s], %k[d]", 0xDEADBEEF, 0, F_ALL, 0xDEADBEEF, F_ALL, F_ALL);

    T_OP1("sar32_by1", "sarl $1, %k[d]", 0x80000001, OF, 0xC0000000, CF | SF | PF, F_SH1);
    T_OP1("sar8_by7", "sarb $7, %b[d]", 0x80, 0, 0xFF, SF | PF, F_SHN);
    T_OP1("sar16_by4", "sarw $4, %w[d]", 0x8421, 0, 0xF842, SF | PF, F_SHN);
    T_OPCL("sar32_cl35", "sarl %b[s], %k[d]", 0x7FFFFFF8, 35, 0, 0x0FFFFFFF, PF, F_SHN);
    T_OPCL("sar8_cl20", "sarb %b[s], %b[d]", 0x80, 20, 0, 0xFF, CF | SF | PF, F_SHN);
}

static void test_rotate(void)
{
    T_OP1("rol32_by1", "roll $1, %k[d]", 0x80000000, 0, 0x00000001, CF | OF, F_ROT1);
    T_OP1("rol8_by4", "rolb $4, %b[d]", 0x12, ZF | SF, 0x21, CF | ZF | SF, F_ROTN);
    T_OPCL("rol16_cl17", "rolw %b[s], %w[d]", 0x8001, 17, 0, 0x0003, CF, F_ROTN);
    T_OPCL("rol8_cl8", "rolb %b[s], %b[d]", 0x81, 8, 0, 0x81, CF, F_ROTN);
    T_OP1("ror32_by1", "rorl $1, %k[d]", 0x00000001, 0, 0x80000000, CF | OF, F_ROT1);
    T_OP1("ror16_by4", "rorw $4, %w[d]", 0x1234, ZF | PF, 0x4123, ZF | PF, F_ROTN);
    T_OPCL("ror8_cl0", "rorb %b[s], %b[d]", 0x5A, 0, CF, 0x5A, CF, F_ALL);
    T_OPCL("ror32_cl36", "rorl %b[s], %k[d]", 0x12345678, 36, 0, 0x81234567, CF, F_ROTN);

    /* RCL/RCR rotate through CF: 9 bits for bytes, 17 for words */
    T_OP1("rcl32_by1", "rcll $1, %k[d]", 0x80000000, CF, 0x00000001, CF | OF, F_ROT1);
    T_OP1("rcl8_by1", "rclb $1, %b[d]", 0x80, 0, 0x00, CF | OF, F_ROT1);
    T_OPCL("rcl8_cl9", "rclb %b[s], %b[d]", 0x5A, 9, CF, 0x5A, CF, F_ROTN);
    T_OP1("rcl16_by3", "rclw $3, %w[d]", 0x8001, CF, 0x000E, 0, F_ROTN);
    T_OP1("rcr32_by1", "rcrl $1, %k[d]", 0x00000001, CF, 0x80000000, CF | OF, F_ROT1);
    T_OP1("rcr8_by4", "rcrb $4, %b[d]", 0xF1, 0, 0x2F, 0, F_ROTN);
    T_OPCL("rcr16_cl17", "rcrw %b[s], %w[d]", 0x1234, 17, CF, 0x1234, CF, F_ROTN);
}

static void test_double_shift(void)
{
    T_OPDSH("shld32_imm4", "shldl $4, %k[s], %k[d]", 0x12345678, 0x9ABCDEF0, 0, 0, 0x23456789,
            CF, F_SHN);
    T_OPDSH("shld16_cl8", "shldw %%cl, %w[s], %w[d]", 0xFFFF1234, 0xABCD, 8, 0, 0xFFFF34AB, 0,
            F_SHN);
    T_OPDSH("shld32_by1", "shldl $1, %k[s], %k[d]", 0x40000000, 0x80000000, 0, 0, 0x80000001,
            OF | SF, F_SH1);
    T_OPDSH("shld32_cl36", "shldl %%cl, %k[s], %k[d]", 0x12345678, 0x9ABCDEF0, 36, 0, 0x23456789,
            CF, F_SHN);
    T_OPDSH("shrd32_imm8", "shrdl $8, %k[s], %k[d]", 0x12345678, 0xAB, 0, 0, 0xAB123456, SF | PF,
            F_SHN);
    T_OPDSH("shrd16_cl4", "shrdw %%cl, %w[s], %w[d]", 0x1234, 0x000F, 4, 0, 0xF123, SF, F_SHN);
    T_OPDSH("shrd32_by1", "shrdl $1, %k[s], %k[d]", 0x00000001, 0, 0, 0, 0, CF | ZF | PF, F_SH1);
    T_OPDSH("shrd32_cl0", "shrdl %%cl, %k[s], %k[d]", 0x1234, 0xFFFF, 0, F_ALL, 0x1234, F_ALL,
            F_ALL);
}

void test_shift(void)
{
    test_shl_shr_sar();
    test_rotate();
    test_double_shift();
}
