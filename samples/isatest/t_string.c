/*
 * String instructions MOVS STOS LODS CMPS SCAS, with REP/REPE/REPNE and
 * both directions (CLD/STD).  Every asm block that sets DF clears it again
 * before it ends: the C code around it relies on DF = 0.
 */
#include "isatest.h"

static uint8_t src8[32], dst8[32];
static uint32_t src32[8], dst32[8];
static uint16_t w1[4], w2[4];

static void fill(void)
{
    static const char msg[] = "Hello, world!";
    for (int i = 0; i < 32; i++) {
        src8[i] = i < 13 ? (uint8_t)msg[i] : 0;
        dst8[i] = 0xEE;
    }
    for (int i = 0; i < 8; i++) {
        src32[i] = 0x01010101u * (uint32_t)(i + 1);
        dst32[i] = 0xEEEEEEEE;
    }
}

static uint32_t delta(const void *now, const void *start)
{
    return (uint32_t)((uintptr_t)now - (uintptr_t)start);
}

static void test_movs_stos(void)
{
    const void *si, *di;
    uint32_t c, a;

    fill();
    si = src8, di = dst8, c = 13;
    __asm__ volatile("cld\n\trep movsb" : "+S"(si), "+D"(di), "+c"(c) : : "memory");
    CHECKV("rep_movsb_fwd", { "data", (uint32_t)memcmp(dst8, src8, 13), 0, 0 },
           { "guard", dst8[13], 0xEE, 0 }, { "esi", delta(si, src8), 13, 0 },
           { "edi", delta(di, dst8), 13, 0 }, { "ecx", c, 0, 0 });

    fill();
    si = &src32[3], di = &dst32[4], c = 4;
    __asm__ volatile("std\n\trep movsl\n\tcld" : "+S"(si), "+D"(di), "+c"(c) : : "memory");
    CHECKV("rep_movsd_back", { "first", dst32[1], src32[0], 0 }, { "last", dst32[4], src32[3], 0 },
           { "guard", dst32[0], 0xEEEEEEEE, 0 }, { "guard2", dst32[5], 0xEEEEEEEE, 0 },
           { "edi", delta(di, &dst32[4]), (uint32_t)-16, 0 }, { "ecx", c, 0, 0 });

    fill();
    si = src8, di = dst8, c = 77;
    __asm__ volatile("movsw" : "+S"(si), "+D"(di), "+c"(c) : : "memory");
    CHECKV("movsw_single", { "data", dst8[0] | dst8[1] << 8 | dst8[2] << 16, 0xEE6548, 0 },
           { "esi", delta(si, src8), 2, 0 }, { "edi", delta(di, dst8), 2, 0 },
           { "ecx", c, 77, 0 });

    fill();
    di = dst32, c = 8, a = 0xDEADBEEF;
    __asm__ volatile("rep stosl" : "+D"(di), "+c"(c) : "a"(a) : "memory");
    {
        uint32_t bad = 0;
        for (int i = 0; i < 8; i++)
            bad += dst32[i] != 0xDEADBEEF;
        CHECKV("rep_stosd", { "data", bad, 0, 0 }, { "edi", delta(di, dst32), 32, 0 },
               { "ecx", c, 0, 0 });
    }

    fill();
    di = dst8, c = 0;
    __asm__ volatile("rep stosb" : "+D"(di), "+c"(c) : "a"(0x11) : "memory");
    CHECKV("rep_stosb_ecx0", { "data", dst8[0], 0xEE, 0 }, { "edi", delta(di, dst8), 0, 0 });

    fill();
    di = &dst8[4];
    __asm__ volatile("std\n\tstosw\n\tcld" : "+D"(di) : "a"(0x1234) : "memory");
    CHECKV("stosw_back", { "data", dst8[4] | dst8[5] << 8 | dst8[6] << 16, 0xEE1234, 0 },
           { "edi", delta(di, &dst8[4]), (uint32_t)-2, 0 });
}

static void test_lods(void)
{
    const void *si;
    uint32_t a;

    fill();
    si = &src8[1], a = 0x12345600;
    __asm__ volatile("lodsb" : "+S"(si), "+a"(a) : : "memory");
    CHECKV("lodsb_fwd", { "eax", a, 0x12345665, 0 }, { "esi", delta(si, &src8[1]), 1, 0 });

    si = &src32[2], a = 0;
    __asm__ volatile("std\n\tlodsl\n\tcld" : "+S"(si), "+a"(a) : : "memory");
    CHECKV("lodsd_back", { "eax", a, 0x03030303, 0 }, { "esi", delta(si, &src32[2]), (uint32_t)-4, 0 });
}

static void test_cmps_scas(void)
{
    static const char s1[] = "abcdef", s2[] = "abcxef";
    const void *si, *di;
    uint32_t c, f;

    si = s1, di = s2, c = 6;
    __asm__ volatile("pushl $0\n\tpopfl\n\trepe cmpsb\n\tpushfl\n\tpopl %[f]"
                     : "+S"(si), "+D"(di), "+c"(c), [f] "=r"(f) : : "cc", "memory");
    /* stops after comparing 'd' with 'x': flags of 0x64 - 0x78 */
    CHECKV("repe_cmpsb_mismatch", { "ecx", c, 2, 0 }, { "esi", delta(si, s1), 4, 0 },
           { "flags", f, CF | SF | AF, F_ALL });

    si = s1, di = s1, c = 6;
    __asm__ volatile("pushl $0\n\tpopfl\n\trepe cmpsb\n\tpushfl\n\tpopl %[f]"
                     : "+S"(si), "+D"(di), "+c"(c), [f] "=r"(f) : : "cc", "memory");
    CHECKV("repe_cmpsb_equal", { "ecx", c, 0, 0 }, { "edi", delta(di, s1), 6, 0 },
           { "flags", f, ZF | PF, F_ALL });

    di = s2, c = 6;
    __asm__ volatile("pushl $0\n\tpopfl\n\trepne scasb\n\tpushfl\n\tpopl %[f]"
                     : "+D"(di), "+c"(c), [f] "=r"(f) : "a"('x') : "cc", "memory");
    CHECKV("repne_scasb_found", { "ecx", c, 2, 0 }, { "edi", delta(di, s2), 4, 0 },
           { "flags", f, ZF | PF, F_ALL });

    di = s1, c = 6;
    __asm__ volatile("pushl $0\n\tpopfl\n\trepne scasb\n\tpushfl\n\tpopl %[f]"
                     : "+D"(di), "+c"(c), [f] "=r"(f) : "a"('x') : "cc", "memory");
    /* last comparison: 'x' - 'f' = 0x12 */
    CHECKV("repne_scasb_missing", { "ecx", c, 0, 0 }, { "edi", delta(di, s1), 6, 0 },
           { "flags", f, PF, F_ALL });

    fill();
    di = &src32[5];
    __asm__ volatile("std\n\tscasl\n\tcld\n\tpushfl\n\tpopl %[f]"
                     : "+D"(di), [f] "=r"(f) : "a"(0x06060606) : "cc", "memory");
    CHECKV("scasd_back", { "edi", delta(di, &src32[5]), (uint32_t)-4, 0 },
           { "flags", f, ZF | PF, F_ALL });

    for (int i = 0; i < 4; i++)
        w1[i] = w2[i] = (uint16_t)(i + 1);
    w2[0] = 9;
    si = &w1[3], di = &w2[3], c = 4;
    __asm__ volatile("pushl $0\n\tpopfl\n\tstd\n\trepe cmpsw\n\tcld\n\tpushfl\n\tpopl %[f]"
                     : "+S"(si), "+D"(di), "+c"(c), [f] "=r"(f) : : "cc", "memory");
    /* 4=4 3=3 2=2 then 1 vs 9: 0x0001 - 0x0009 */
    CHECKV("repe_cmpsw_back", { "ecx", c, 0, 0 }, { "esi", delta(si, &w1[3]), (uint32_t)-8, 0 },
           { "flags", f, CF | SF | AF, F_ALL });
}

void test_string(void)
{
    test_movs_stos();
    test_lods();
    test_cmps_scas();
}
