/* LOOP LOOPE LOOPNE JCXZ JECXZ, near CALL/RET (incl. RET imm16), CPUID. */
#include "isatest.h"

uint32_t t_ret42(void);
uint32_t t_sub_callee_pops(uint32_t x, uint32_t y); /* does RET 8 */

static void test_loops(void)
{
    uint32_t c, n, p;

    c = 5, n = 0;
    __asm__ volatile("1:\tincl %1\n\tloop 1b" : "+c"(c), "+r"(n) : : "cc");
    CHECKV("loop", { "iterations", n, 5, 0 }, { "ecx", c, 0, 0 });

    {
        static const uint8_t bytes[8] = { 0, 0, 0, 1, 0, 0, 0, 0 };
        /* LEA moves the pointer without touching the flags CMP set */
        c = 8, p = (uint32_t)(uintptr_t)bytes;
        __asm__ volatile("1:\tcmpb $0, (%1)\n\tleal 1(%1), %1\n\tloope 1b"
                         : "+c"(c), "+r"(p) : : "cc", "memory");
        CHECKV("loope", { "ecx", c, 4, 0 }, { "pos", p - (uint32_t)(uintptr_t)bytes, 4, 0 });

        c = 8, p = (uint32_t)(uintptr_t)bytes;
        __asm__ volatile("1:\tcmpb $1, (%1)\n\tleal 1(%1), %1\n\tloopne 1b"
                         : "+c"(c), "+r"(p) : : "cc", "memory");
        CHECKV("loopne", { "ecx", c, 4, 0 }, { "pos", p - (uint32_t)(uintptr_t)bytes, 4, 0 });
    }

    /* LOOP with a 0x67 prefix counts in CX and leaves ECX[31:16] alone */
    c = 0x00010002, n = 0;
    __asm__ volatile("1:\tincl %1\n\taddr16 loop 1b" : "+c"(c), "+r"(n) : : "cc");
    CHECKV("loop_addr16_cx", { "iterations", n, 2, 0 }, { "ecx", c, 0x00010000, 0 });
}

static uint32_t jecxz_taken(uint32_t ecx)
{
    uint32_t r;
    __asm__ volatile("movl $1, %0\n\tjecxz 1f\n\tmovl $0, %0\n1:" : "=&r"(r) : "c"(ecx));
    return r;
}

static uint32_t jcxz_taken(uint32_t ecx)
{
    uint32_t r;
    __asm__ volatile("movl $1, %0\n\tjcxz 1f\n\tmovl $0, %0\n1:" : "=&r"(r) : "c"(ecx));
    return r;
}

static void test_jcxz(void)
{
    check("jecxz_taken", jecxz_taken(0), 1);
    check("jecxz_not_taken", jecxz_taken(0x10000), 0);
    check("jcxz_uses_cx", jcxz_taken(0x10000), 1);
    check("jcxz_not_taken", jcxz_taken(1), 0);
}

static uint32_t (*volatile fnptr)(void) = t_ret42;

static void test_call_ret(void)
{
    uint32_t r, w;

    /* CALL pushes the address of the next instruction */
    __asm__ volatile("call 1f\n"
                     "3:\tjmp 2f\n"
                     "1:\tmovl (%%esp), %0\n\t"
                     "ret\n"
                     "2:\tmovl $3b, %1"
                     : "=r"(r), "=r"(w) : : "memory");
    check("call_pushes_return", r, w);

    __asm__ volatile("call *%1" : "=a"(r) : "r"(t_ret42) : "ecx", "edx", "memory");
    check("call_indirect_reg", r, 42);

    __asm__ volatile("call *(%1)" : "=a"(r) : "r"(&fnptr) : "ecx", "edx", "memory");
    check("call_indirect_mem", r, 42);

    {
        uint32_t before, after;
        __asm__ volatile("movl %%esp, %[b]\n\t"
                         "pushl $7\n\t"
                         "pushl $5\n\t"
                         "call t_sub_callee_pops\n\t"
                         "movl %%esp, %[a]"
                         : "=a"(r), [b] "=&r"(before), [a] "=r"(after)
                         :
                         : "ecx", "edx", "memory");
        CHECKV("ret_imm16", { "value", r, 0xFFFFFFFE, 0 }, { "esp", after, before, 0 });
    }
}

static void test_cpuid(void)
{
    uint32_t a, b, c, d;

    cpuid(0, &a, &b, &c, &d);
    check("cpuid_max_leaf_ge1", a >= 1, 1);
    cpuid(1, &a, &b, &c, &d);
    check("cpuid_pse", d & (1u << 3), 1u << 3);
}

void test_flow(void)
{
    test_loops();
    test_jcxz();
    test_call_ret();
    test_cpuid();
}
