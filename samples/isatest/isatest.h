/*
 * isatest.h - check framework for the self-checking ISA test guest.
 *
 * Every check prints exactly one line:
 *     PASS <name>
 *     FAIL <name>[.<what>] got=<hex> want=<hex>
 * where <what> names the value that differed when a check compares more
 * than one (".flags", ".edi", ...).  Expected values come from the Intel
 * SDM; flags the SDM calls "undefined" for an instruction are masked out.
 */
#ifndef VTLAB_ISATEST_H
#define VTLAB_ISATEST_H

#include "guest.h"

/* EFLAGS bits */
#define CF 0x001u
#define PF 0x004u
#define AF 0x010u
#define ZF 0x040u
#define SF 0x080u
#define DF 0x400u
#define OF 0x800u

/* masks of the flags an instruction defines */
#define F_ALL   (CF | PF | AF | ZF | SF | OF) /* ADD SUB ADC SBB CMP NEG INC DEC */
#define F_LOGIC (CF | PF | ZF | SF | OF)      /* AND OR XOR TEST: AF undefined */
#define F_SH1   (CF | OF | SF | ZF | PF)      /* shift by 1: AF undefined */
#define F_SHN   (CF | SF | ZF | PF)           /* shift by >1: OF, AF undefined */
#define F_ROT1  (CF | OF | SF | ZF | AF | PF) /* rotate by 1: SZAP unaffected */
#define F_ROTN  (CF | SF | ZF | AF | PF)      /* rotate by >1: OF undefined */
#define F_MUL   (CF | OF)                     /* MUL/IMUL: SZAP undefined */

/* One compared value: mask 0 means "compare all 32 bits". */
struct val {
    const char *what;
    uint32_t got, want, mask;
};

void checkv(const char *name, unsigned n, const struct val *v);
void check(const char *name, uint32_t got, uint32_t want);

#define CHECKV(name, ...)                                                    \
    checkv(name, sizeof((struct val[]){ __VA_ARGS__ }) / sizeof(struct val), \
           (struct val[]){ __VA_ARGS__ })

extern unsigned g_checks, g_failures;

/* ---- running one instruction with controlled flags ------------------------
 * FL_IN loads EFLAGS from [fi] (only arithmetic bits are ever passed, so
 * IF/TF/DF stay clear); FL_OUT captures EFLAGS right after the instruction
 * under test.  No operand may live in memory addressed through ESP (the
 * pushes would move it), hence register/immediate constraints only.      */

#define FL_IN  "pushl %[fi]\n\tpopfl\n\t"
#define FL_OUT "\n\tpushfl\n\tpopl %[fo]"

typedef struct { uint32_t v, f; } rf_t;       /* result + flags */
typedef struct { uint32_t eax, edx, fl; } adf_t; /* EAX, EDX + flags */

/* dst [d] is read and written, src [s] is read; DC/SC are constraints */
#define RUN_DS(insn, DC, SC, a, b, fin) __extension__({                     \
    uint32_t d_ = (uint32_t)(a), fo_;                                        \
    __asm__ volatile(FL_IN insn FL_OUT                                       \
                     : [d] DC(d_), [fo] "=&r"(fo_)                           \
                     : [s] SC((uint32_t)(b)), [fi] "ri"((uint32_t)(fin))     \
                     : "cc", "memory");                                      \
    (rf_t){ d_, fo_ };                                                       \
})

#define OP2(insn, a, b, fin)    RUN_DS(insn, "+q", "q", a, b, fin)
#define OPCL(insn, a, cnt, fin) RUN_DS(insn, "+q", "c", a, cnt, fin)
#define OP1(insn, a, fin)       RUN_DS(insn, "+q", "i", a, 0, fin)
#define OPA(insn, a, fin)       RUN_DS(insn, "+a", "i", a, 0, fin)

/* memory destination: template addresses it as (%[p]) */
#define OPM(insn, init, b, fin) __extension__({                             \
    volatile uint32_t m_ = (uint32_t)(init);                                 \
    uint32_t fo_;                                                            \
    __asm__ volatile(FL_IN insn FL_OUT                                       \
                     : [fo] "=&r"(fo_)                                       \
                     : [p] "r"(&m_), [s] "q"((uint32_t)(b)),                 \
                       [fi] "ri"((uint32_t)(fin))                            \
                     : "cc", "memory");                                      \
    (rf_t){ m_, fo_ };                                                       \
})

/* double shifts: [d] dst, [s] src, count in CL as [c] */
#define OPDSH(insn, a, b, cnt, fin) __extension__({                         \
    uint32_t d_ = (uint32_t)(a), fo_;                                        \
    __asm__ volatile(FL_IN insn FL_OUT                                       \
                     : [d] "+r"(d_), [fo] "=&r"(fo_)                         \
                     : [s] "r"((uint32_t)(b)), [c] "c"((uint32_t)(cnt)),     \
                       [fi] "ri"((uint32_t)(fin))                            \
                     : "cc", "memory");                                      \
    (rf_t){ d_, fo_ };                                                       \
})

/* EAX/EDX instructions (MUL, DIV, ...): source operand [s] */
#define OPAD(insn, a, d, b, fin) __extension__({                            \
    uint32_t a_ = (uint32_t)(a), d_ = (uint32_t)(d), fo_;                    \
    __asm__ volatile(FL_IN insn FL_OUT                                       \
                     : "+a"(a_), "+d"(d_), [fo] "=&r"(fo_)                   \
                     : [s] "q"((uint32_t)(b)), [fi] "ri"((uint32_t)(fin))    \
                     : "cc", "memory");                                      \
    (adf_t){ a_, d_, fo_ };                                                  \
})

/* result + flags check; mask selects the defined flags (0: flags unchecked) */
#define CHECK_RF(name, r, wv, wf, mask)                                      \
    do {                                                                     \
        rf_t r_ = (r);                                                       \
        if (mask)                                                            \
            CHECKV(name, { "", r_.v, (wv), 0 }, { "flags", r_.f, (wf), (mask) }); \
        else                                                                 \
            CHECKV(name, { "", r_.v, (wv), 0 });                             \
    } while (0)

#define T_OP2(name, insn, a, b, fin, wv, wf, m)   CHECK_RF(name, OP2(insn, a, b, fin), wv, wf, m)
#define T_OPCL(name, insn, a, c, fin, wv, wf, m)  CHECK_RF(name, OPCL(insn, a, c, fin), wv, wf, m)
#define T_OP1(name, insn, a, fin, wv, wf, m)      CHECK_RF(name, OP1(insn, a, fin), wv, wf, m)
#define T_OPA(name, insn, a, fin, wv, wf, m)      CHECK_RF(name, OPA(insn, a, fin), wv, wf, m)
#define T_OPM(name, insn, i, b, fin, wv, wf, m)   CHECK_RF(name, OPM(insn, i, b, fin), wv, wf, m)
#define T_OPDSH(name, insn, a, b, c, fin, wv, wf, m) \
    CHECK_RF(name, OPDSH(insn, a, b, c, fin), wv, wf, m)

/* EAX, EDX and flags in one check (mask 0: flags not compared) */
#define T_OPAD(name, insn, a, d, b, fin, wa, wd, wf, m)                      \
    do {                                                                     \
        adf_t r_ = OPAD(insn, a, d, b, fin);                                 \
        if (m)                                                               \
            CHECKV(name, { "eax", r_.eax, (wa), 0 }, { "edx", r_.edx, (wd), 0 }, \
                   { "flags", r_.fl, (wf), (m) });                            \
        else                                                                 \
            CHECKV(name, { "eax", r_.eax, (wa), 0 }, { "edx", r_.edx, (wd), 0 }); \
    } while (0)

/* ---- exception capture (see isatest.c / isatest_asm.S) ------------------
 * A test arms the handler, which records vector, error code, saved EIP and
 * CR2, then resumes at saved EIP + exc_skip.  For faults the test passes
 * the length of the faulting instruction (label 2 - label 1); for traps
 * (INT3, INT n, INTO) the saved EIP is already past the instruction.     */
extern volatile uint32_t exc_armed, exc_skip, exc_vec, exc_err, exc_eip, exc_cr2, exc_count;
void exc_reset(void);

#define EXC_ARM_FAULT "movl $1, exc_armed\n\tmovl $(2f-1f), exc_skip\n\t"
#define EXC_ARM_TRAP  "movl $1, exc_armed\n\tmovl $0, exc_skip\n\t"

/* test groups */
void test_alu(void);
void test_shift(void);
void test_muldiv(void);
void test_bcd(void);
void test_bits(void);
void test_string(void);
void test_stack(void);
void test_move(void);
void test_cond(void);
void test_flow(void);
void test_exceptions(void);
void test_paging(void);

#endif /* VTLAB_ISATEST_H */
