/*
 * Condition codes: CMOVcc, SETcc and Jcc (short rel8 and near rel32) over
 * all 16 conditions.  For a given EFLAGS input each family produces a
 * 16-bit mask, bit n = 1 when condition n holds, in opcode order:
 *   0 O  1 NO  2 B  3 AE  4 E  5 NE  6 BE  7 A
 *   8 S  9 NS 10 P 11 NP 12 L 13 GE 14 LE 15 G
 */
#include "isatest.h"

#define SET16(p)                                                                           \
    "seto 0(" p ")\n\tsetno 1(" p ")\n\tsetb 2(" p ")\n\tsetae 3(" p ")\n\t"               \
    "sete 4(" p ")\n\tsetne 5(" p ")\n\tsetbe 6(" p ")\n\tseta 7(" p ")\n\t"               \
    "sets 8(" p ")\n\tsetns 9(" p ")\n\tsetp 10(" p ")\n\tsetnp 11(" p ")\n\t"             \
    "setl 12(" p ")\n\tsetge 13(" p ")\n\tsetle 14(" p ")\n\tsetg 15(" p ")"

/* taken -> store 1 into byte i; MOV does not disturb the flags */
#define JCC(pfx, cc, i) pfx "j" cc " 1f\n\tjmp 2f\n1:\tmovb $1, " #i "(%[p])\n2:\n\t"
#define JCC16(pfx)                                                                         \
    JCC(pfx, "o", 0) JCC(pfx, "no", 1) JCC(pfx, "b", 2) JCC(pfx, "ae", 3)                  \
    JCC(pfx, "e", 4) JCC(pfx, "ne", 5) JCC(pfx, "be", 6) JCC(pfx, "a", 7)                  \
    JCC(pfx, "s", 8) JCC(pfx, "ns", 9) JCC(pfx, "p", 10) JCC(pfx, "np", 11)                \
    JCC(pfx, "l", 12) JCC(pfx, "ge", 13) JCC(pfx, "le", 14) JCC(pfx, "g", 15)

static uint32_t pack16(const volatile uint8_t *b)
{
    uint32_t m = 0;
    for (int i = 0; i < 16; i++)
        m |= (uint32_t)(b[i] & 1) << i;
    return m;
}

static uint32_t setcc_mask(uint32_t fin)
{
    volatile uint8_t b[16];
    __asm__ volatile(FL_IN SET16("%[p]") : : [p] "r"(b), [fi] "r"(fin) : "cc", "memory");
    return pack16(b);
}

static uint32_t jcc_short_mask(uint32_t fin)
{
    volatile uint8_t b[16] = { 0 };
    __asm__ volatile(FL_IN JCC16("") : : [p] "r"(b), [fi] "r"(fin) : "cc", "memory");
    return pack16(b);
}

/* {disp32} (written %{disp32%} in inline asm) makes the assembler pick the
 * 0F 8x rel32 encodings */
static uint32_t jcc_near_mask(uint32_t fin)
{
    volatile uint8_t b[16] = { 0 };
    __asm__ volatile(FL_IN JCC16("%{disp32%} ") : : [p] "r"(b), [fi] "r"(fin) : "cc", "memory");
    return pack16(b);
}

static const struct {
    const char *name;
    uint32_t flags, want;
} cc_cases[] = {
    { "none", 0, 0xAAAA },         { "cf", CF, 0xAA66 },           { "zf", ZF, 0x6A5A },
    { "sf", SF, 0x59AA },          { "of", OF, 0x5AA9 },           { "sf_of", SF | OF, 0xA9A9 },
    { "pf", PF, 0xA6AA },          { "cf_zf", CF | ZF, 0x6A56 },
};

static void test_setcc_jcc(void)
{
    char name[32];
    const unsigned n = sizeof cc_cases / sizeof cc_cases[0];

    for (unsigned i = 0; i < n; i++) {
        memcpy(name, "setcc_", 6);
        memcpy(name + 6, cc_cases[i].name, strlen(cc_cases[i].name) + 1);
        check(name, setcc_mask(cc_cases[i].flags), cc_cases[i].want);
    }
    for (unsigned i = 0; i < n; i += 2) {
        memcpy(name, "jcc8_", 5);
        memcpy(name + 5, cc_cases[i].name, strlen(cc_cases[i].name) + 1);
        check(name, jcc_short_mask(cc_cases[i].flags), cc_cases[i].want);
    }
    for (unsigned i = 1; i < n; i += 2) {
        memcpy(name, "jcc32_", 6);
        memcpy(name + 6, cc_cases[i].name, strlen(cc_cases[i].name) + 1);
        check(name, jcc_near_mask(cc_cases[i].flags), cc_cases[i].want);
    }
}

static void test_cmov(void)
{
    T_OP2("cmovz_taken", "cmovzl %k[s], %k[d]", 1, 2, ZF, 2, 0, 0);
    T_OP2("cmovnz_not_taken", "cmovnzl %k[s], %k[d]", 1, 2, ZF, 1, 0, 0);
    T_OP2("cmovl_taken", "cmovll %k[s], %k[d]", 1, 2, SF, 2, 0, 0);
    T_OP2("cmovg_not_taken", "cmovgl %k[s], %k[d]", 1, 2, SF | OF | ZF, 1, 0, 0);
    T_OP2("cmovb16_taken", "cmovbw %w[s], %w[d]", 0xAAAA1111, 0xBBBB2222, CF, 0xAAAA2222, 0, 0);
    {
        volatile uint32_t m = 0x600DF00D;
        uint32_t r = 7;
        __asm__ volatile("pushl $0x2\n\tpopfl\n\tcmoval (%1), %0" : "+r"(r) : "r"(&m) : "cc", "memory");
        check("cmova_mem_taken", r, 0x600DF00D);
    }
}

void test_cond(void)
{
    test_setcc_jcc();
    test_cmov();
}
