/*
 * minios64 user programs: ring 3, 64-bit, linked at USER_IMAGE (link.ld)
 * and mapped read-only into every process.  Like minios's user.c they may
 * reach nothing outside .user_text/.user_rodata: USTR() puts a string there,
 * there are no writable globals, and -fpie makes every reference
 * RIP-relative (the image is linked above 4 GiB).  The only way out is
 * SYSCALL (syscall.h).
 */
#include <stdint.h>

#include "syscall.h"

#define USER __attribute__((section(".user_text")))
#define USTR(s)                                                                  \
    ({                                                                           \
        static const char __attribute__((section(".user_rodata"))) str_[] = s;  \
        str_;                                                                    \
    })

#define HEAP ((volatile uint8_t *)0x0000008040000000ull)

USER static int64_t sys(int64_t nr, uint64_t a, uint64_t b)
{
    int64_t r;
    /* Each inlined copy records its address in .syscall_sites, where the
     * kernel finds it to patch for syscall=ud2 (main.c); the code is the same. */
    __asm__ volatile("1: syscall\n"
                     ".pushsection .syscall_sites, \"a\"\n"
                     ".quad 1b\n"
                     ".popsection"
                     : "=a"(r)
                     : "a"(nr), "D"(a), "S"(b)
                     : "rcx", "r11", "memory");
    return r;
}

/* One output line, built on the stack and handed to SYS_WRITE. */
struct line {
    char b[120];
    unsigned n;
};

USER static void put_s(struct line *l, const char *s)
{
    while (*s && l->n < sizeof l->b - 1)
        l->b[l->n++] = *s++;
}

USER static void put_u(struct line *l, uint64_t v)
{
    char t[20];
    int i = 0;
    do
        t[i++] = (char)('0' + v % 10);
    while (v /= 10);
    while (i && l->n < sizeof l->b - 1)
        l->b[l->n++] = t[--i];
}

USER static void put_x(struct line *l, uint64_t v)
{
    put_s(l, USTR("0x"));
    for (int sh = 60; sh >= 0 && l->n < sizeof l->b - 1; sh -= 4) {
        unsigned d = (v >> sh) & 0xF;
        l->b[l->n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    }
}

USER static int64_t put_line(struct line *l)
{
    l->b[l->n++] = '\n';
    int64_t r = sys(SYS_WRITE, (uint64_t)l->b, l->n);
    l->n = 0;
    return r;
}

USER static void hello(struct line *l, const char *rest)
{
    put_s(l, USTR("hello from ring 3 in 64-bit mode, I am pid "));
    put_u(l, (uint64_t)sys(SYS_GETPID, 0, 0));
    put_s(l, rest);
    put_line(l);
}

/* pid 1: demand-zero heap, a sieve in it, then a long hash: it never
 * yields, so only the timer can take the CPU from it. */
USER void user_sieve(void)
{
    struct line l;
    l.n = 0;
    hello(&l, USTR("; I never yield"));
    const uint64_t n = 65536;
    uint64_t nonzero = 0;
    for (uint64_t i = 0; i < n; i++)
        nonzero += HEAP[i] != 0;
    put_s(&l, USTR("my 65536-byte heap array holds "));
    put_u(&l, nonzero);
    put_s(&l, USTR(" nonzero bytes on first touch"));
    put_line(&l);
    for (uint64_t i = 2; i * i < n; i++)
        if (!HEAP[i])
            for (uint64_t j = i * i; j < n; j += i)
                HEAP[j] = 1;
    uint64_t count = 0, largest = 0;
    for (uint64_t i = 2; i < n; i++)
        if (!HEAP[i])
            count++, largest = i;
    put_s(&l, USTR("primes below 65536: "));
    put_u(&l, count);
    put_s(&l, USTR(", the largest "));
    put_u(&l, largest);
    put_line(&l);
    uint64_t x = 0x0123456789ABCDEFull, h = 0xCBF29CE484222325ull;
    for (int i = 0; i < 1000000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        h = (h ^ (x & 0xFF)) * 0x100000001B3ull;
    }
    put_s(&l, USTR("FNV-1a (64-bit) of 1000000 xorshift64 bytes: "));
    put_x(&l, h);
    put_line(&l);
    sys(SYS_EXIT, 0, 0);
}

/* pid 2: three rounds of writing and yielding, then a heap word. */
USER void user_ping(void)
{
    struct line l;
    l.n = 0;
    hello(&l, USTR(""));
    uint64_t rsp;
    __asm__ volatile("movq %%rsp, %0" : "=r"(rsp));
    put_s(&l, USTR("my stack page is at "));
    put_x(&l, rsp & ~0xFFFull);
    put_line(&l);
    for (uint64_t round = 1; round <= 3; round++) {
        put_s(&l, USTR("round "));
        put_u(&l, round);
        put_s(&l, USTR(": SYS_YIELD returned "));
        put_u(&l, (uint64_t)sys(SYS_YIELD, 0, 0));
        put_line(&l);
    }
    volatile uint64_t *word = (volatile uint64_t *)(HEAP + 0x2000);
    const uint64_t before = *word;
    *word = 0x00C0FFEE12345678ull;
    put_s(&l, USTR("heap word at "));
    put_x(&l, (uint64_t)word);
    put_s(&l, USTR(" read "));
    put_x(&l, before);
    put_s(&l, USTR(", then "));
    put_x(&l, *word);
    put_line(&l);
    sys(SYS_EXIT, 2, 0);
}

/* pid 3: asks the kernel to print kernel memory (refused), yields, then
 * reads the kernel itself at rogue_read_insn (#PF, protection, user). */
USER void user_rogue(void)
{
    struct line l;
    l.n = 0;
    hello(&l, USTR(""));
    put_s(&l, USTR("SYS_WRITE of kernel memory at 0x100000 returned "));
    put_x(&l, (uint64_t)sys(SYS_WRITE, 0x100000, 16));
    put_line(&l);
    put_s(&l, USTR("SYS_WRITE of a non-canonical address returned "));
    put_x(&l, (uint64_t)sys(SYS_WRITE, 0x0000800000000000ull, 16));
    put_line(&l);
    sys(SYS_YIELD, 0, 0);
    put_s(&l, USTR("now reading the kernel at 0x100000 myself"));
    put_line(&l);
    uint64_t v;
    __asm__ volatile(".globl rogue_read_insn\n"
                     "rogue_read_insn:\n\t"
                     "movq (%1), %0"
                     : "=r"(v)
                     : "r"(0x100000ull)
                     : "memory");
    put_s(&l, USTR("read "));
    put_x(&l, v);
    put_line(&l);
    sys(SYS_EXIT, 0, 0);
}
