/*
 * bench.c - CPU-bound guests for bench/run (docs/PERFORMANCE.md): one
 * kernel, three workloads chosen on the multiboot command line
 * ("w=NAME rounds=N"), all with 4 KiB paging on (the micro kernel's
 * descriptors, IDT, TSS and page tables: samples/micro/kernel.c, entry.S).
 *
 *   int        a sieve, a checksum over a buffer and a pointer-chasing
 *              binary tree, in ring 0
 *   syscall    ring 3 <-> ring 0: INT 0x80 and SYSENTER/SYSEXIT round trips
 *   pagefault  demand-zero faults over a region, then every page unmapped
 *
 * Every round runs the same instructions and the results print at a fixed
 * cost (eight hex digits each), so a run retires a + b*N instructions
 * whenever N has as many decimal digits as the runs it is compared with:
 * bench/run times N and 2N rounds and takes the difference, which is free
 * of boot and exit costs.  Each prints one line that depends only on N and
 * exits with 0.  The same image boots under vtlab and QEMU through
 * multiboot, and under Bochs from bench.img (bootsect.S): output goes to
 * COM1 and to port 0xE9 alike, and the exit writes isa-debug-exit (vtlab,
 * QEMU) and then Bochs's shutdown port.
 */
#include "micro.h"

#define DEFAULT_ROUNDS 1u
#define MAX_ROUNDS 10000000u

/* ---- console and exit ------------------------------------------------------ */

#ifndef MICRO_PV /* pv.c provides these three as hypercalls */
#define BOCHS_E9_PORT 0xE9
#define BOCHS_SHUTDOWN_PORT 0x8900 /* Bochs quits after "Shutdown" written here */

void serial_init(void)
{
    outb(COM1_PORT + 1, 0x00); /* IER: no interrupts, we poll */
    outb(COM1_PORT + 3, 0x80); /* LCR: divisor latch */
    outb(COM1_PORT + 0, 0x01); /* divisor 1: 115200 baud */
    outb(COM1_PORT + 1, 0x00);
    outb(COM1_PORT + 3, 0x03); /* 8N1 */
    outb(COM1_PORT + 2, 0x07); /* FIFOs on and cleared */
    outb(COM1_PORT + 4, 0x03); /* DTR, RTS */
}

/* A missing UART reads 0xFF, so the THRE wait ends at once under Bochs
 * too; vtlab shows port 0xE9 only with --post, QEMU ignores it. */
void serial_putc(char c)
{
    while (!(inb(COM1_PORT + 5) & 0x20))
        ;
    outb(COM1_PORT, (uint8_t)c);
    outb(BOCHS_E9_PORT, (uint8_t)c);
}

void debug_exit(uint32_t code)
{
    outl(DEBUG_EXIT_PORT, code);
    for (const char *s = "Shutdown"; *s; s++)
        outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*s);
    for (;;)
        __asm__ volatile("cli; hlt");
}
#endif

/* Eight hex digits whatever the value: printing costs the same for every N. */
static const char *hex8(uint32_t v, char out[9])
{
    for (int d = 7; d >= 0; d--, v >>= 4)
        out[d] = "0123456789abcdef"[v & 0xF];
    out[8] = '\0';
    return out;
}

/* ---- int: sieve, checksum, tree ------------------------------------------- */

#define SIEVE_N 65536u
#define BUF_WORDS 65536u /* 256 KiB: more pages than a small TLB holds */
#define TREE_NODES 2048u

static uint8_t composite[SIEVE_N];
static uint32_t buffer[BUF_WORDS];
struct node {
    struct node *child[2];
    uint32_t key;
};
static struct node nodes[TREE_NODES];

static uint32_t sieve(void)
{
    for (uint32_t i = 0; i < SIEVE_N; i++)
        composite[i] = 0;
    uint32_t primes = 0;
    for (uint32_t i = 2; i < SIEVE_N; i++) {
        if (composite[i])
            continue;
        primes++;
        for (uint32_t j = i * 2; j < SIEVE_N; j += i)
            composite[j] = 1;
    }
    return primes;
}

/* A linear congruential fill, then Fletcher-32 over the 16-bit halves:
 * loads, adds, a modulo and a data-dependent shift. */
static uint32_t checksum(uint32_t seed)
{
    uint32_t x = seed;
    for (uint32_t i = 0; i < BUF_WORDS; i++) {
        x = x * 1103515245u + 12345u;
        buffer[i] = x ^ (x >> (x & 7));
    }
    uint32_t a = 0xFFFF, b = 0xFFFF;
    const uint16_t *h = (const uint16_t *)buffer;
    for (uint32_t i = 0; i < BUF_WORDS * 2; i++) {
        a = (a + h[i]) % 65535u;
        b = (b + a) % 65535u;
    }
    return (b << 16) | a;
}

/* Pseudo-random keys into a binary search tree, then searches summing the
 * keys along each path: pointer chasing with unpredictable branches.  The
 * path lengths depend on the seed, so every round uses the same one. */
static uint32_t tree(uint32_t seed)
{
    uint32_t x = seed;
    nodes[0] = (struct node){ { 0, 0 }, 0x80000000u };
    for (uint32_t i = 1; i < TREE_NODES; i++) {
        x = x * 1664525u + 1013904223u;
        nodes[i] = (struct node){ { 0, 0 }, x };
        struct node *p = &nodes[0];
        for (;;) {
            struct node **next = &p->child[x >= p->key];
            if (!*next) {
                *next = &nodes[i];
                break;
            }
            p = *next;
        }
    }
    uint32_t sum = 0;
    for (uint32_t i = 0; i < TREE_NODES; i++) {
        x = x * 1664525u + 1013904223u;
        for (const struct node *p = &nodes[0]; p; p = p->child[x >= p->key])
            sum += p->key >> 16;
    }
    return sum;
}

static void run_int(uint32_t rounds)
{
    uint32_t primes = 0, sum = 0, walk = 0;
    for (uint32_t r = 0; r < rounds; r++) {
        primes = sieve();
        sum ^= checksum(r + 1);
        walk += tree(7);
    }
    char h[3][9];
    kprintf("bench int rounds=%u primes=%s checksum=%s tree=%s\n", rounds, hex8(primes, h[0]), hex8(sum, h[1]),
            hex8(walk, h[2]));
}

/* ---- syscall: ring 3 <-> ring 0 --------------------------------------------- */

#define CALLS_PER_ROUND 1000u

static uint8_t user_stack[4096] __attribute__((aligned(16)));

static void run_syscall(uint32_t rounds)
{
    user_iterations = CALLS_PER_ROUND;
    for (uint32_t r = 0; r < rounds; r++) {
        enter_user(user_int80_loop, (uint32_t)(user_stack + sizeof user_stack));
#ifdef MICRO_PV /* no SYSENTER under pv: INT 0x80 twice */
        enter_user(user_int80_loop, (uint32_t)(user_stack + sizeof user_stack));
#else
        enter_user(user_sysenter_loop, (uint32_t)(user_stack + sizeof user_stack));
#endif
    }
    char h[9];
    kprintf("bench syscall rounds=%u calls=%s\n", rounds, hex8(syscall_count, h));
}

/* ---- pagefault: demand-zero and unmap ------------------------------------- */

#define FAULT_PAGES 64u

static page_t work_pt, frames[FAULT_PAGES];
static uint32_t demand_faults;

static void set_pte(uint32_t *pte, uint32_t value)
{
#ifdef MICRO_PV
    pv_set_pte(pte, value); /* validated by the monitor, TLB flushed */
#else
    *pte = value;
#endif
}

/* The faulting page gets its own frame, zeroed first. */
static void demand_zero(uint32_t cr2, uint32_t error)
{
    uint32_t page = (cr2 - WORK_BASE) / PAGE_SIZE;
    if (cr2 < WORK_BASE || page >= FAULT_PAGES || (error & 1))
        trap_unexpected(14, error, cr2);
    page_zero(frames[page]);
    set_pte(&work_pt[page], (uint32_t)frames[page] | PTE_PWU);
    demand_faults++;
}

static void run_pagefault(uint32_t rounds)
{
#ifdef MICRO_PV
    pv_table(work_pt, 0);
#endif
    set_pte(&kernel_pd[WORK_PDE], (uint32_t)work_pt | PTE_PWU);
    set_page_fault_handler(demand_zero);
    uint32_t sum = 0;
    for (uint32_t r = 0; r < rounds; r++) {
        for (uint32_t k = 0; k < FAULT_PAGES; k++) {
            volatile uint32_t *p = (volatile uint32_t *)(WORK_BASE + k * PAGE_SIZE);
            sum += p[k]; /* faults: reads the fresh zero */
            p[k] = r + k;
            sum += p[k];
        }
        for (uint32_t k = 0; k < FAULT_PAGES; k++) {
            set_pte(&work_pt[k], 0);
#ifndef MICRO_PV
            invlpg((const volatile void *)(WORK_BASE + k * PAGE_SIZE));
#endif
        }
    }
    set_page_fault_handler(0);
    char h[2][9];
    kprintf("bench pagefault rounds=%u faults=%s sum=%s\n", rounds, hex8(demand_faults, h[0]), hex8(sum, h[1]));
}

/* ---- command line ----------------------------------------------------------- */

/* The value of `key=` in the command line, or NULL. */
static const char *cmdline_value(const char *cmdline, const char *key)
{
    size_t len = strlen(key);
    for (const char *s = cmdline; *s; s++) {
        if ((s == cmdline || s[-1] == ' ') && memcmp(s, key, len) == 0 && s[len] == '=')
            return s + len + 1;
    }
    return 0;
}

static int word_is(const char *value, const char *name)
{
    size_t len = strlen(name);
    return memcmp(value, name, len) == 0 && (value[len] == '\0' || value[len] == ' ');
}

static const struct workload {
    const char *name;
    void (*run)(uint32_t rounds);
} workloads[] = {
    { "int", run_int },
    { "syscall", run_syscall },
    { "pagefault", run_pagefault },
};

uint32_t kmain(uint32_t magic, uint32_t mbi_addr)
{
    serial_init();
    const struct multiboot_info *mbi = (const struct multiboot_info *)mbi_addr;
    const char *cmdline = "";
    if (magic == MULTIBOOT_BOOTLOADER_MAGIC && (mbi->flags & MULTIBOOT_INFO_CMDLINE))
        cmdline = (const char *)mbi->cmdline;
    uint32_t rounds = DEFAULT_ROUNDS;
    const char *v = cmdline_value(cmdline, "rounds");
    if (v) {
        rounds = 0;
        for (; *v >= '0' && *v <= '9' && rounds < MAX_ROUNDS; v++)
            rounds = rounds * 10 + (uint32_t)(*v - '0');
    }
    const char *w = cmdline_value(cmdline, "w");
    for (size_t i = 0; w && i < sizeof workloads / sizeof workloads[0]; i++) {
        if (!word_is(w, workloads[i].name))
            continue;
        kernel_init();
        workloads[i].run(rounds);
        return 0;
    }
    kprintf("bench: w=NAME rounds=N, NAME one of: int syscall pagefault\n");
    return 2;
}
