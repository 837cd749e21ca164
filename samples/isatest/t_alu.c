/* ADD ADC SUB SBB CMP AND OR XOR TEST INC DEC NEG NOT at 8/16/32 bits. */
#include "isatest.h"

static void test_add(void)
{
    /* 8-bit forms must leave bits 8..31 of the register alone */
    T_OP2("add8", "addb %b[s], %b[d]", 0xDEADBE12, 0x34, 0, 0xDEADBE46, 0, F_ALL);
    T_OP2("add8_carry", "addb %b[s], %b[d]", 0xFF, 0x01, 0, 0x00, CF | ZF | AF | PF, F_ALL);
    T_OP2("add8_overflow", "addb %b[s], %b[d]", 0x7F, 0x01, 0, 0x80, OF | SF | AF, F_ALL);
    T_OP2("add8_neg_overflow", "addb %b[s], %b[d]", 0x80, 0x80, 0, 0x00, CF | OF | ZF | PF, F_ALL);
    T_OP2("add16_overflow", "addw %w[s], %w[d]", 0x12347FFF, 0x0001, 0, 0x12348000,
          OF | SF | AF | PF, F_ALL);
    T_OP2("add16_carry", "addw %w[s], %w[d]", 0xFFFF, 0xFFFF, 0, 0xFFFE, CF | SF | AF, F_ALL);
    T_OP2("add32_carry", "addl %k[s], %k[d]", 0xFFFFFFFF, 1, 0, 0, CF | ZF | AF | PF, F_ALL);
    T_OP2("add32_overflow", "addl %k[s], %k[d]", 0x7FFFFFFF, 0x7FFFFFFF, 0, 0xFFFFFFFE,
          OF | SF | AF, F_ALL);
    T_OP2("add32_aux", "addl %k[s], %k[d]", 0x0F, 0x01, 0, 0x10, AF, F_ALL);
    T_OP2("add32_imm8_sext", "addl $-1, %k[d]", 5, 0, 0, 4, CF | AF, F_ALL);
    T_OP2("add16_imm16", "addw $0x7000, %w[d]", 0xFFFF1000, 0, 0, 0xFFFF8000, OF | SF | PF, F_ALL);
    T_OPM("add32_mem", "addl %k[s], (%[p])", 0xFFFFFFF0, 0x10, 0, 0, CF | ZF | PF, F_ALL);
    T_OPM("add32_lock_mem", "lock addl %k[s], (%[p])", 1, 2, 0, 3, PF, F_ALL);

    T_OP2("adc8_cf", "adcb %b[s], %b[d]", 0xFF, 0x00, CF, 0x00, CF | ZF | AF | PF, F_ALL);
    T_OP2("adc16_cf", "adcw %w[s], %w[d]", 0x7FFF, 0, CF, 0x8000, OF | SF | AF | PF, F_ALL);
    T_OP2("adc32_all_ones", "adcl %k[s], %k[d]", 0xFFFFFFFF, 0xFFFFFFFF, CF, 0xFFFFFFFF,
          CF | SF | AF | PF, F_ALL);
    T_OP2("adc32_no_cf", "adcl %k[s], %k[d]", 1, 1, 0, 2, 0, F_ALL);
    T_OP2("adc32_imm_cf", "adcl $0x7FFFFFFF, %k[d]", 0, 0, CF, 0x80000000, OF | SF | AF | PF, F_ALL);
}

static void test_sub(void)
{
    T_OP2("sub8_borrow", "subb %b[s], %b[d]", 0x00, 0x01, 0, 0xFF, CF | SF | AF | PF, F_ALL);
    T_OP2("sub8_overflow", "subb %b[s], %b[d]", 0x80, 0x01, 0, 0x7F, OF | AF, F_ALL);
    T_OP2("sub16_overflow", "subw %w[s], %w[d]", 0x8000, 1, 0, 0x7FFF, OF | AF | PF, F_ALL);
    T_OP2("sub32_zero", "subl %k[s], %k[d]", 5, 5, 0, 0, ZF | PF, F_ALL);
    T_OP2("sub32_overflow", "subl %k[s], %k[d]", 0x80000000, 0x7FFFFFFF, 0, 1, OF | AF, F_ALL);
    T_OP2("sub32_borrow", "subl %k[s], %k[d]", 3, 5, 0, 0xFFFFFFFE, CF | SF | AF, F_ALL);
    T_OP2("sub8_imm", "subb $0x10, %b[d]", 0x10, 0, 0, 0, ZF | PF, F_ALL);
    T_OPM("sub16_mem_imm", "subw $1, (%[p])", 0x55550000, 0, 0, 0x5555FFFF, CF | SF | AF | PF, F_ALL);

    T_OP2("sbb8_cf", "sbbb %b[s], %b[d]", 0, 0, CF, 0xFF, CF | SF | AF | PF, F_ALL);
    T_OP2("sbb16_cf", "sbbw %w[s], %w[d]", 0x8000, 0, CF, 0x7FFF, OF | AF | PF, F_ALL);
    T_OP2("sbb32_zero", "sbbl %k[s], %k[d]", 0x10, 0x0F, CF, 0, ZF | AF | PF, F_ALL);
    T_OP2("sbb32_no_cf", "sbbl %k[s], %k[d]", 0x100, 1, 0, 0xFF, AF | PF, F_ALL);
    T_OP2("sbb32_self_cf", "sbbl %k[d], %k[d]", 0x1234, 0, CF, 0xFFFFFFFF, CF | SF | AF | PF, F_ALL);

    /* CMP computes flags like SUB and leaves the destination alone */
    T_OP2("cmp8_less", "cmpb %b[s], %b[d]", 0x40, 0x41, 0, 0x40, CF | SF | AF | PF, F_ALL);
    T_OP2("cmp8_unsigned", "cmpb %b[s], %b[d]", 0x01, 0xFF, 0, 0x01, CF | AF, F_ALL);
    T_OP2("cmp16_equal", "cmpw %w[s], %w[d]", 0x1234, 0x1234, 0, 0x1234, ZF | PF, F_ALL);
    T_OP2("cmp32_overflow", "cmpl %k[s], %k[d]", 0x80000000, 1, 0, 0x80000000, OF | AF | PF, F_ALL);
    T_OP2("cmp32_imm8_sext", "cmpl $-1, %k[d]", 0xFFFFFFFF, 0, 0, 0xFFFFFFFF, ZF | PF, F_ALL);
}

static void test_logic(void)
{
    /* CF and OF are cleared (pass them in set); AF is undefined */
    T_OP2("and8", "andb %b[s], %b[d]", 0x123456F0, 0x3C, CF | OF, 0x12345630, PF, F_LOGIC);
    T_OP2("and32_sign", "andl %k[s], %k[d]", 0x80000000, 0xFFFFFFFF, CF | OF, 0x80000000,
          SF | PF, F_LOGIC);
    T_OP2("and32_imm", "andl $0x0F0F0F0F, %k[d]", 0xFFFFFFFF, 0, 0, 0x0F0F0F0F, PF, F_LOGIC);
    T_OP2("or16_zero", "orw %w[s], %w[d]", 0xABCD0000, 0, CF, 0xABCD0000, ZF | PF, F_LOGIC);
    T_OP2("or32", "orl %k[s], %k[d]", 0x12340000, 0x5678, 0, 0x12345678, PF, F_LOGIC);
    T_OP2("or8_imm", "orb $0x80, %b[d]", 0x01, 0, OF, 0x81, SF | PF, F_LOGIC);
    T_OP2("xor32_self", "xorl %k[d], %k[d]", 0x1234, 0, CF | SF, 0, ZF | PF, F_LOGIC);
    T_OP2("xor8", "xorb %b[s], %b[d]", 0xAA, 0x55, 0, 0xFF, SF | PF, F_LOGIC);
    T_OP2("test8", "testb %b[s], %b[d]", 0x80, 0x80, CF | OF, 0x80, SF, F_LOGIC);
    T_OP2("test16_zero", "testw %w[s], %w[d]", 0x00FF, 0xFF00, 0, 0x00FF, ZF | PF, F_LOGIC);
    T_OP2("test32_imm", "testl $0x80000000, %k[d]", 0x80000001, 0, 0, 0x80000001, SF | PF, F_LOGIC);
}

static void test_incdec(void)
{
    /* INC/DEC leave CF alone: it is passed in and must come back unchanged */
    T_OP1("inc8_wrap", "incb %b[d]", 0xFF, CF, 0x00, CF | ZF | AF | PF, F_ALL);
    T_OP1("inc8_overflow", "incb %b[d]", 0x7F, 0, 0x80, OF | SF | AF, F_ALL);
    T_OP1("inc16_overflow", "incw %w[d]", 0xAAAA7FFF, 0, 0xAAAA8000, OF | SF | AF | PF, F_ALL);
    T_OP1("inc32_wrap", "incl %k[d]", 0xFFFFFFFF, 0, 0, ZF | AF | PF, F_ALL);
    T_OPM("inc32_mem", "incl (%[p])", 0x7FFFFFFF, 0, CF, 0x80000000, CF | OF | SF | AF | PF, F_ALL);
    T_OP1("dec8_wrap", "decb %b[d]", 0x00, CF, 0xFF, CF | SF | AF | PF, F_ALL);
    T_OP1("dec16_overflow", "decw %w[d]", 0x8000, 0, 0x7FFF, OF | AF | PF, F_ALL);
    T_OP1("dec32_zero", "decl %k[d]", 1, 0, 0, ZF | PF, F_ALL);
}

static void test_negnot(void)
{
    T_OP1("neg8", "negb %b[d]", 0x01, 0, 0xFF, CF | SF | AF | PF, F_ALL);
    T_OP1("neg8_min", "negb %b[d]", 0x80, 0, 0x80, CF | OF | SF, F_ALL);
    T_OP1("neg16_zero", "negw %w[d]", 0x12340000, CF, 0x12340000, ZF | PF, F_ALL);
    T_OP1("neg32_min", "negl %k[d]", 0x80000000, 0, 0x80000000, CF | OF | SF | PF, F_ALL);
    T_OP1("neg32", "negl %k[d]", 5, 0, 0xFFFFFFFB, CF | SF | AF, F_ALL);
    T_OPM("neg8_mem_zero", "negb (%[p])", 0x11223300, 0, CF, 0x11223300, ZF | PF, F_ALL);

    /* NOT changes no flags at all */
    T_OP1("not8", "notb %b[d]", 0x1234565A, F_ALL, 0x123456A5, F_ALL, F_ALL);
    T_OP1("not16", "notw %w[d]", 0x000000FF, 0, 0x0000FF00, 0, F_ALL);
    T_OP1("not32", "notl %k[d]", 0, ZF, 0xFFFFFFFF, ZF, F_ALL);
}

void test_alu(void)
{
    test_add();
    test_sub();
    test_logic();
    test_incdec();
    test_negnot();
}
