/*
 * Data movement and conversion: MOVZX MOVSX XCHG XADD CMPXCHG CMPXCHG8B
 * BSWAP LEA XLAT CBW CWDE CWD CDQ, and the flag instructions LAHF SAHF
 * CLC STC CMC CLD STD.
 */
#include "isatest.h"

/* both operands read and written: [d] and [s] */
#define XOP(insn, a, b, fin, out_s) __extension__({                          \
    uint32_t d_ = (uint32_t)(a), s_ = (uint32_t)(b), fo_;                    \
    __asm__ volatile(FL_IN insn FL_OUT                                       \
                     : [d] "+q"(d_), [s] "+q"(s_), [fo] "=&r"(fo_)           \
                     : [fi] "ri"((uint32_t)(fin))                            \
                     : "cc", "memory");                                      \
    (out_s) = s_;                                                            \
    (rf_t){ d_, fo_ };                                                       \
})

/* CMPXCHG: accumulator [a] (EAX), destination [d], source [s] */
#define CMPXCHG(insn, acc, a, b, out_acc) __extension__({                   \
    uint32_t a_ = (uint32_t)(acc), d_ = (uint32_t)(a), fo_;                  \
    __asm__ volatile(FL_IN insn FL_OUT                                       \
                     : "+a"(a_), [d] "+q"(d_), [fo] "=&r"(fo_)               \
                     : [s] "q"((uint32_t)(b)), [fi] "i"(0)                   \
                     : "cc", "memory");                                      \
    (out_acc) = a_;                                                          \
    (rf_t){ d_, fo_ };                                                       \
})

static void test_movx(void)
{
    T_OP2("movzbl", "movzbl %b[s], %k[d]", 0xFFFFFFFF, 0x80, 0, 0x00000080, 0, 0);
    T_OP2("movsbl", "movsbl %b[s], %k[d]", 0, 0x80, 0, 0xFFFFFF80, 0, 0);
    T_OP2("movswl", "movswl %w[s], %k[d]", 0, 0x8000, 0, 0xFFFF8000, 0, 0);
    T_OP2("movzwl", "movzwl %w[s], %k[d]", 0, 0x1234FFFF, 0, 0x0000FFFF, 0, 0);
    T_OP2("movsbw", "movsbw %b[s], %w[d]", 0x12345678, 0x80, 0, 0x1234FF80, 0, 0);
    T_OP2("movzbw", "movzbw %b[s], %w[d]", 0x12345678, 0xFF, 0, 0x123400FF, 0, 0);
    {
        volatile uint8_t b = 0xFE;
        uint32_t r;
        __asm__ volatile("movsbl (%1), %0" : "=r"(r) : "r"(&b) : "memory");
        check("movsbl_mem", r, 0xFFFFFFFE);
    }
}

static void test_xchg(void)
{
    uint32_t s;
    rf_t r;

    r = XOP("xchgl %k[s], %k[d]", 0x11111111, 0x22222222, 0, s);
    CHECKV("xchg32", { "dst", r.v, 0x22222222, 0 }, { "src", s, 0x11111111, 0 });

    {
        uint32_t a = 0x11112222, b = 0x33334444;
        __asm__ volatile("xchgw %w1, %w0" : "+a"(a), "+r"(b)); /* 66 9x short form */
        CHECKV("xchg16_ax", { "eax", a, 0x11114444, 0 }, { "other", b, 0x33332222, 0 });
    }
    {
        volatile uint32_t m = 0x11223344;
        uint32_t q = 0xAA;
        __asm__ volatile("xchgb %b0, (%1)" : "+q"(q) : "r"(&m) : "memory");
        CHECKV("xchg8_mem", { "mem", m, 0x112233AA, 0 }, { "reg", q, 0x44, 0 });
    }

    r = XOP("xaddl %k[s], %k[d]", 5, 3, F_ALL, s);
    CHECKV("xadd32", { "dst", r.v, 8, 0 }, { "src", s, 5, 0 }, { "flags", r.f, 0, F_ALL });
    r = XOP("xaddb %b[s], %b[d]", 0xFF, 0x01, 0, s);
    CHECKV("xadd8", { "dst", r.v, 0, 0 }, { "src", s, 0xFF, 0 },
           { "flags", r.f, CF | ZF | AF | PF, F_ALL });
    {
        volatile uint32_t m = 10;
        uint32_t q = 5;
        __asm__ volatile("lock xaddl %0, (%1)" : "+r"(q) : "r"(&m) : "cc", "memory");
        CHECKV("xadd32_lock_mem", { "mem", m, 15, 0 }, { "reg", q, 10, 0 });
    }
}

static void test_cmpxchg(void)
{
    uint32_t acc;
    rf_t r;

    r = CMPXCHG("cmpxchgl %k[s], %k[d]", 5, 5, 9, acc);
    CHECKV("cmpxchg32_equal", { "dst", r.v, 9, 0 }, { "eax", acc, 5, 0 },
           { "flags", r.f, ZF | PF, F_ALL });
    r = CMPXCHG("cmpxchgl %k[s], %k[d]", 5, 7, 9, acc);
    CHECKV("cmpxchg32_differ", { "dst", r.v, 7, 0 }, { "eax", acc, 7, 0 },
           { "flags", r.f, CF | SF | AF, F_ALL });
    r = CMPXCHG("cmpxchgb %b[s], %b[d]", 0x12345642, 0x42, 0x99, acc);
    CHECKV("cmpxchg8_equal", { "dst", r.v, 0x99, 0 }, { "eax", acc, 0x12345642, 0 },
           { "flags", r.f, ZF | PF, F_ALL });
    r = CMPXCHG("cmpxchgw %w[s], %w[d]", 0xFFFF1234, 0x5678, 0, acc);
    CHECKV("cmpxchg16_differ", { "dst", r.v, 0x5678, 0 }, { "eax", acc, 0xFFFF5678, 0 },
           { "flags", r.f, CF | SF | AF, F_ALL });
    {
        volatile uint32_t m = 100;
        uint32_t a = 100, f;
        __asm__ volatile("lock cmpxchgl %2, (%3)\n\tpushfl\n\tpopl %1"
                         : "+a"(a), "=r"(f) : "r"(200), "r"(&m) : "cc", "memory");
        CHECKV("cmpxchg32_lock_mem", { "mem", m, 200, 0 }, { "flags", f, ZF, ZF });
    }

    /* CMPXCHG8B m64: EDX:EAX == m64 ? (m64 = ECX:EBX, ZF=1) : (EDX:EAX = m64, ZF=0).
     * The flags are stored through the pointer: no register is left. */
    {
        volatile uint32_t m[3] = { 0x22222222, 0x11111111, 0 };
        uint32_t lo = 0x22222222, hi = 0x11111111;
        __asm__ volatile("cmpxchg8b (%4)\n\tpushfl\n\tpopl 8(%4)"
                         : "+a"(lo), "+d"(hi) : "b"(0xCCCCCCCC), "c"(0xDDDDDDDD), "S"(m)
                         : "cc", "memory");
        CHECKV("cmpxchg8b_equal", { "mem_lo", m[0], 0xCCCCCCCC, 0 }, { "mem_hi", m[1], 0xDDDDDDDD, 0 },
               { "eax", lo, 0x22222222, 0 }, { "flags", m[2], ZF, ZF });
    }
    {
        volatile uint32_t m[3] = { 1, 2, 0 };
        uint32_t lo = 3, hi = 4;
        __asm__ volatile("cmpxchg8b (%4)\n\tpushfl\n\tpopl 8(%4)"
                         : "+a"(lo), "+d"(hi) : "b"(5), "c"(6), "S"(m) : "cc", "memory");
        CHECKV("cmpxchg8b_differ", { "eax", lo, 1, 0 }, { "edx", hi, 2, 0 },
               { "mem_lo", m[0], 1, 0 }, { "flags", m[2], 0, ZF });
    }
}

static void test_misc_data(void)
{
    T_OP1("bswap", "bswapl %k[d]", 0x12345678, 0, 0x78563412, 0, 0);

    {
        uint32_t r;
        __asm__ volatile("leal 0x10(%1,%2,4), %0" : "=r"(r) : "r"(0x1000), "r"(3));
        check("lea_sib", r, 0x101C);
        __asm__ volatile("leal -1(%1), %0" : "=r"(r) : "r"(0));
        check("lea_wrap", r, 0xFFFFFFFF);
        /* 16-bit addressing (0x67 prefix): the sum wraps at 64 KiB */
        __asm__ volatile("leal 2(%%bx,%%si), %0" : "=r"(r) : "b"(0xFFFF), "S"(1));
        check("lea_addr16_wrap", r, 0x0002);
        r = 0xFFFFFFFF;
        __asm__ volatile("leaw 0x1234(%1), %w0" : "+r"(r) : "r"(0x10000));
        check("lea_opsize16", r, 0xFFFF1234);
    }
    {
        static uint8_t table[256];
        uint32_t a = 0x12345605;
        for (int i = 0; i < 256; i++)
            table[i] = (uint8_t)(i ^ 0x5A);
        __asm__ volatile("xlatb" : "+a"(a) : "b"(table) : "memory");
        check("xlatb", a, 0x1234565F);
    }

    T_OPA("cbw", "cbtw", 0x12345680, 0, 0x1234FF80, 0, 0);
    T_OPA("cwde", "cwtl", 0x00008000, 0, 0xFFFF8000, 0, 0);
    T_OPAD("cwd", "cwtd", 0x8000, 0x12345678, 0, 0, 0x8000, 0x1234FFFF, 0, 0);
    T_OPAD("cdq_neg", "cltd", 0x80000000, 0, 0, 0, 0x80000000, 0xFFFFFFFF, 0, 0);
    T_OPAD("cdq_pos", "cltd", 0x7FFFFFFF, 0x1234, 0, 0, 0x7FFFFFFF, 0, 0, 0);
}

static void test_flag_insns(void)
{
    /* LAHF: AH = SF:ZF:0:AF:0:PF:1:CF */
    T_OPA("lahf_all", "lahf", 0, F_ALL, 0xD700, F_ALL, F_ALL);
    T_OPA("lahf_none", "lahf", 0xFFFF00FF, 0, 0xFFFF02FF, 0, F_ALL);
    /* SAHF loads SF ZF AF PF CF from AH and leaves OF alone */
    T_OPA("sahf_all", "sahf", 0xD500, OF, 0xD500, F_ALL, F_ALL);
    T_OPA("sahf_none", "sahf", 0x0000, F_ALL, 0, OF, F_ALL);
    T_OP1("clc", "clc", 0, F_ALL, 0, F_ALL & ~CF, F_ALL);
    T_OP1("stc", "stc", 0, 0, 0, CF, F_ALL);
    T_OP1("cmc_set", "cmc", 0, CF | ZF, 0, ZF, F_ALL);
    T_OP1("cmc_clear", "cmc", 0, 0, 0, CF, F_ALL);
    T_OP1("std_cld", "std\n\tpushfl\n\tpopl %k[d]\n\tcld", 0, 0, DF | 0x2, 0, 0);
}

void test_move(void)
{
    test_movx();
    test_xchg();
    test_cmpxchg();
    test_misc_data();
    test_flag_insns();
}
