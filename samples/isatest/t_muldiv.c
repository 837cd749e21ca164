/*
 * MUL IMUL (one, two and three operand forms) DIV IDIV, and the BCD
 * adjusts DAA DAS AAA AAS AAM AAD.
 * MUL/IMUL define only CF=OF ("upper half significant"); DIV/IDIV define
 * no flags at all.
 */
#include "isatest.h"

void test_muldiv(void)
{
    /* one-operand MUL: AX = AL*src, DX:AX = AX*src, EDX:EAX = EAX*src */
    T_OPAD("mul8", "mulb %b[s]", 0x12340080, 0x5555, 2, 0, 0x12340100, 0x5555, CF | OF, F_MUL);
    T_OPAD("mul8_small", "mulb %b[s]", 0x0F, 0, 0x0F, CF | OF, 0x00E1, 0, 0, F_MUL);
    T_OPAD("mul16", "mulw %w[s]", 0x5555FFFF, 0x12340000, 0xFFFF, 0, 0x55550001, 0x1234FFFE,
           CF | OF, F_MUL);
    T_OPAD("mul32", "mull %k[s]", 0xFFFFFFFF, 0, 0xFFFFFFFF, 0, 0x00000001, 0xFFFFFFFE, CF | OF,
           F_MUL);
    T_OPAD("mul32_small", "mull %k[s]", 0x10000, 0x77, 0x10, CF | OF, 0x100000, 0, 0, F_MUL);

    T_OPAD("imul8", "imulb %b[s]", 0x80, 0, 0xFF, 0, 0x0080, 0, CF | OF, F_MUL);
    T_OPAD("imul8_neg", "imulb %b[s]", 0xFE, 0, 3, CF | OF, 0xFFFA, 0, 0, F_MUL);
    T_OPAD("imul16", "imulw %w[s]", 0x4000, 0xFFFFFFFF, 2, 0, 0x8000, 0xFFFF0000, CF | OF, F_MUL);
    T_OPAD("imul32_minus1sq", "imull %k[s]", 0xFFFFFFFF, 0, 0xFFFFFFFF, CF | OF, 1, 0, 0, F_MUL);
    T_OPAD("imul32_big", "imull %k[s]", 0x7FFFFFFF, 0, 0x7FFFFFFF, 0, 1, 0x3FFFFFFF, CF | OF,
           F_MUL);

    /* two- and three-operand IMUL truncate; CF=OF=1 when that loses bits */
    T_OP2("imul32_2op", "imull %k[s], %k[d]", 0x10000, 0x10000, 0, 0, CF | OF, F_MUL);
    T_OP2("imul16_2op", "imulw %w[s], %w[d]", 0xAAAAFFFD, 100, CF | OF, 0xAAAAFED4, 0, F_MUL);
    T_OP2("imul32_3op_imm8", "imull $-5, %k[s], %k[d]", 0xDEAD, 7, CF | OF, 0xFFFFFFDD, 0, F_MUL);
    T_OP2("imul32_3op_imm32", "imull $0x12345, %k[s], %k[d]", 0, 0x10000, 0, 0x23450000, CF | OF,
          F_MUL);
    T_OP2("imul16_3op", "imulw $0x100, %w[s], %w[d]", 0xBEEF0000, 0x80, 0, 0xBEEF8000, CF | OF,
          F_MUL);

    /* DIV/IDIV: quotient in AL/AX/EAX, remainder in AH/DX/EDX */
    T_OPAD("div8", "divb %b[s]", 0xABCD0100, 0, 3, 0, 0xABCD0155, 0, 0, 0);
    T_OPAD("div16", "divw %w[s]", 0x11110000, 0x22220001, 0x0100, 0, 0x11110100, 0x22220000, 0, 0);
    T_OPAD("div32", "divl %k[s]", 0, 1, 0x10, 0, 0x10000000, 0, 0, 0);
    T_OPAD("div32_rem", "divl %k[s]", 100, 0, 7, 0, 14, 2, 0, 0);
    T_OPAD("idiv8", "idivb %b[s]", 0xFFF9, 0, 2, 0, 0xFFFD, 0, 0, 0);
    T_OPAD("idiv16", "idivw %w[s]", 0xFC18, 0xFFFF, 7, 0, 0xFF72, 0xFFFA, 0, 0);
    T_OPAD("idiv32", "idivl %k[s]", 0xFFFFFF9C, 0xFFFFFFFF, 0xFFFFFFF9, 0, 14, 0xFFFFFFFE, 0, 0);
    T_OPAD("idiv32_neg_divisor", "idivl %k[s]", 100, 0, 0xFFFFFFF9, 0, 0xFFFFFFF2, 2, 0, 0);
}

void test_bcd(void)
{
    const uint32_t daa_mask = CF | AF | SF | ZF | PF; /* OF undefined */

    T_OPA("daa", "daa", 0xAE, 0, 0x14, CF | AF | PF, daa_mask);
    T_OPA("daa_both_nibbles", "daa", 0x9A, 0, 0x00, CF | AF | ZF | PF, daa_mask);
    T_OPA("daa_af_in", "daa", 0x12, AF, 0x18, AF | PF, daa_mask);
    T_OPA("daa_after_add", "addb $0x38, %b[d]\n\tdaa", 0x45, 0, 0x83, AF | SF, daa_mask);
    T_OPA("das", "das", 0xEE, CF | AF, 0x88, CF | AF | SF | PF, daa_mask);
    T_OPA("das_none", "das", 0x20, 0, 0x20, 0, daa_mask);

    /* AAA/AAS define only AF and CF; they adjust AX as a whole */
    T_OPA("aaa", "aaa", 0x000F, 0, 0x0105, CF | AF, CF | AF);
    T_OPA("aaa_al_carry", "aaa", 0x00FA, 0, 0x0200, CF | AF, CF | AF);
    T_OPA("aaa_none", "aaa", 0x0305, CF, 0x0305, 0, CF | AF); /* CF is no input */
    T_OPA("aas_af_in", "aas", 0x0203, AF, 0x000D, CF | AF, CF | AF);
    T_OPA("aas_none", "aas", 0x0508, 0, 0x0508, 0, CF | AF);

    /* AAM/AAD define SF, ZF, PF from AL */
    T_OPA("aam", "aam", 0xCAFE003F, 0, 0xCAFE0603, PF, SF | ZF | PF);
    T_OPA("aam_base16", "aam $16", 0x00AB, 0, 0x0A0B, 0, SF | ZF | PF);
    T_OPA("aad", "aad", 0x0703, 0, 0x0049, 0, SF | ZF | PF);
    T_OPA("aad_base16", "aad $16", 0x0F0F, 0, 0x00FF, SF | PF, SF | ZF | PF);
}
