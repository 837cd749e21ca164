/*
 * BT BTS BTR BTC (register and memory forms) and BSF BSR.
 * BTx: CF = the selected bit; ZF unaffected; OF SF AF PF undefined.
 * With a register bit offset and a memory operand the offset is a signed
 * bit string index and may reach far outside the addressed dword/word.
 * BSF/BSR: ZF = (source == 0); the destination is undefined in that case.
 */
#include "isatest.h"

#define F_BT (CF | ZF)

/* Memory form: [p] base address, [s] bit offset register; returns the flags. */
#define BTMEM(insn, base, off) __extension__({                                  \
    uint32_t fo_;                                                               \
    __asm__ volatile(FL_IN insn FL_OUT                                          \
                     : [fo] "=&r"(fo_)                                          \
                     : [p] "r"(base), [s] "r"((uint32_t)(off)), [fi] "i"(0)     \
                     : "cc", "memory");                                         \
    fo_;                                                                        \
})

static void test_bt_reg(void)
{
    T_OP2("bt32_reg", "btl %k[s], %k[d]", 0x10, 4, ZF, 0x10, CF | ZF, F_BT);
    T_OP2("bt32_reg_offset_mod32", "btl %k[s], %k[d]", 0x10, 36, 0, 0x10, CF, F_BT);
    T_OP2("bts32_reg", "btsl %k[s], %k[d]", 0x10, 0, CF, 0x11, 0, F_BT);
    T_OP2("btr16_reg", "btrw %w[s], %w[d]", 0xFFFF0010, 4, 0, 0xFFFF0000, CF, F_BT);
    T_OP1("btc32_imm", "btcl $31, %k[d]", 0x80000000, ZF, 0, CF | ZF, F_BT);
    T_OP1("btc16_imm_mod16", "btcw $17, %w[d]", 0, CF, 0x0002, 0, F_BT);
}

static void test_bt_mem(void)
{
    volatile uint32_t a[8];
    uint32_t f;

    for (int i = 0; i < 8; i++)
        a[i] = 0;

    a[3] = 0x10;
    f = BTMEM("btl %k[s], (%[p])", &a[0], 100); /* dword 3, bit 4 */
    CHECKV("bt32_mem_offset100", { "flags", f, CF, CF }, { "mem", a[3], 0x10, 0 });

    f = BTMEM("btsl %k[s], (%[p])", &a[0], 70); /* dword 2, bit 6 */
    CHECKV("bts32_mem_offset70", { "flags", f, 0, CF }, { "mem", a[2], 0x40, 0 });

    a[3] = 0x80000010;
    f = BTMEM("btrl %k[s], (%[p])", &a[4], -1); /* one bit below a[4]: a[3] bit 31 */
    CHECKV("btr32_mem_negative", { "flags", f, CF, CF }, { "mem", a[3], 0x10, 0 });

    a[2] = 0;
    f = BTMEM("btcl %k[s], (%[p])", &a[4], -33); /* a[2] bit 31 */
    CHECKV("btc32_mem_negative33", { "flags", f, 0, CF }, { "mem", a[2], 0x80000000, 0 });

    a[0] = 0;
    f = BTMEM("btcw %w[s], (%[p])", &a[0], 17); /* word 1 = a[0] bits 16..31, bit 1 */
    CHECKV("btc16_mem_offset17", { "flags", f, 0, CF }, { "mem", a[0], 0x00020000, 0 });

    a[0] = 0x8;
    a[1] = 0;
    f = BTMEM("btl $35, (%[p])", &a[0], 0); /* immediate offsets wrap: bit 3 */
    check("bt32_mem_imm_mod32", f & CF, CF);
}

static void test_bsf_bsr(void)
{
    const uint32_t m = ZF; /* CF OF SF AF PF undefined */

    T_OP2("bsf32", "bsfl %k[s], %k[d]", 0, 0x00018000, ZF, 15, 0, m);
    T_OP2("bsr32", "bsrl %k[s], %k[d]", 0, 0x00018000, ZF, 16, 0, m);
    T_OP2("bsf16", "bsfw %w[s], %w[d]", 0xFFFF0000, 0x8000, 0, 0xFFFF000F, 0, m);
    T_OP2("bsr32_one", "bsrl %k[s], %k[d]", 0x55, 1, 0, 0, 0, m);
    check("bsf32_zero_src", OP2("bsfl %k[s], %k[d]", 0, 0, 0).f & ZF, ZF);
    check("bsr16_zero_src", OP2("bsrw %w[s], %w[d]", 0, 0xFFFF0000, 0).f & ZF, ZF);
}

void test_bits(void)
{
    test_bt_reg();
    test_bt_mem();
    test_bsf_bsr();
}
