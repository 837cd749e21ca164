/*
 * workloads.c - the microbenchmarks, one per run: "w=NAME n=N" on the
 * multiboot command line picks the workload and its iteration count
 * (default 1000).  Each does its one thing N times and prints one line
 * that depends only on N, then exits through isa-debug-exit with 0.
 * The iteration bodies are the part `vtlab compare --suite micro` and
 * tests/e2e/micro_test.cpp measure; README.md says what each exercises.
 */
#include "micro.h"

#define DEFAULT_ITERATIONS 1000u
#define FORK_PAGES 4u

static uint8_t user_stack[4096] __attribute__((aligned(16)));

/* Frames the workloads map into WORK_BASE (all inside the identity map). */
static page_t work_pt, frame_a, frame_b, pd_a, pd_b, pt_a, pt_b;
static page_t child_pd, child_pt, child_frames[FORK_PAGES], parent_pages[FORK_PAGES];

static uint32_t run_int80(uint32_t n)
{
    user_iterations = n;
    enter_user(user_int80_loop, (uint32_t)(user_stack + sizeof user_stack));
    return syscall_count;
}

#ifndef MICRO_PV
static uint32_t run_sysenter(uint32_t n)
{
    user_iterations = n;
    enter_user(user_sysenter_loop, (uint32_t)(user_stack + sizeof user_stack));
    return syscall_count;
}
#endif

/* Demand-zero: the handler maps a zeroed frame where the kernel touched. */
static uint32_t demand_faults;

#ifdef MICRO_PV
/* Under pv the table is pinned: each entry change is one mmu_update, which
 * also flushes the TLB (no INVLPG). */
static void demand_zero(uint32_t cr2, uint32_t error)
{
    if ((cr2 & ~(PAGE_SIZE - 1)) != WORK_BASE || (error & 1))
        trap_unexpected(14, error, cr2);
    page_zero(frame_a);
    pv_set_pte(&work_pt[0], (uint32_t)frame_a | PTE_PWU);
    demand_faults++;
}

static uint32_t run_pagefault(uint32_t n)
{
    volatile uint32_t *p = (volatile uint32_t *)WORK_BASE;
    uint32_t sum = 0;
    pv_table(work_pt, 0);
    pv_set_pte(&kernel_pd[WORK_PDE], (uint32_t)work_pt | PTE_PWU);
    set_page_fault_handler(demand_zero);
    for (uint32_t i = 0; i < n; i++) {
        sum += p[1];
        p[1] = i;
        sum += p[1];
        pv_set_pte(&work_pt[0], 0);
    }
    set_page_fault_handler(0);
    return sum ^ demand_faults;
}

static void new_baseptr(void *page_dir)
{
    struct mmuext_op op = { MMUEXT_NEW_BASEPTR, (uint32_t)page_dir };
    pv_check(hypercall3(HYPERVISOR_mmuext_op, (uint32_t)&op, 1, 0), "new_baseptr");
}

/* run_cr3's two address spaces: under pv their tables are pinned, and
 * switching is a hypercall. */
static void seal_spaces(void)
{
    pv_table(pt_a, 0);
    pv_table(pt_b, 0);
    pv_table(pd_a, 1);
    pv_table(pd_b, 1);
}

static void switch_space(uint32_t *page_dir) { new_baseptr(page_dir); }

/* The child's tables are built as plain pages, then sealed and switched
 * to in one multicall; switching back and unsealing is the second. */
static uint32_t run_forkwait(uint32_t n)
{
    for (uint32_t k = 0; k < FORK_PAGES; k++)
        parent_pages[k][k] = 0x100 + k;
    uint32_t sum = 0;
    struct mmu_update seal[2] = {
        { (uint32_t)&identity_pt[(uint32_t)child_pt / PAGE_SIZE], (uint32_t)child_pt | PTE_P | PTE_U },
        { (uint32_t)&identity_pt[(uint32_t)child_pd / PAGE_SIZE], (uint32_t)child_pd | PTE_P | PTE_U },
    };
    struct mmu_update unseal[2] = {
        { (uint32_t)&identity_pt[(uint32_t)child_pt / PAGE_SIZE], (uint32_t)child_pt | PTE_PWU },
        { (uint32_t)&identity_pt[(uint32_t)child_pd / PAGE_SIZE], (uint32_t)child_pd | PTE_PWU },
    };
    struct mmuext_op enter[3] = {
        { MMUEXT_PIN_L1, (uint32_t)child_pt }, { MMUEXT_PIN_L2, (uint32_t)child_pd },
        { MMUEXT_NEW_BASEPTR, (uint32_t)child_pd },
    };
    struct mmuext_op leave[3] = {
        { MMUEXT_NEW_BASEPTR, (uint32_t)kernel_pd }, { MMUEXT_UNPIN, (uint32_t)child_pd },
        { MMUEXT_UNPIN, (uint32_t)child_pt },
    };
    for (uint32_t i = 0; i < n; i++) {
        page_zero(child_pd);
        page_zero(child_pt);
        child_pd[0] = kernel_pd[0];
        child_pd[WORK_PDE] = (uint32_t)child_pt | PTE_PWU;
        for (uint32_t k = 0; k < FORK_PAGES; k++) {
            page_copy(child_frames[k], parent_pages[k]);
            child_pt[k] = (uint32_t)child_frames[k] | PTE_PWU;
        }
        struct multicall_entry in[2] = {
            { HYPERVISOR_mmu_update, { (uint32_t)seal, 2, 0, 0, 0 }, 0 },
            { HYPERVISOR_mmuext_op, { (uint32_t)enter, 3, 0, 0, 0 }, 0 },
        };
        pv_check(hypercall3(HYPERVISOR_multicall, (uint32_t)in, 2, 0), "multicall");
        pv_check(in[0].result | in[1].result, "fork: seal and switch");
        for (uint32_t k = 0; k < FORK_PAGES; k++)
            sum += ((volatile uint32_t *)(WORK_BASE + k * PAGE_SIZE))[k];
        struct multicall_entry out[2] = {
            { HYPERVISOR_mmuext_op, { (uint32_t)leave, 3, 0, 0, 0 }, 0 },
            { HYPERVISOR_mmu_update, { (uint32_t)unseal, 2, 0, 0, 0 }, 0 },
        };
        pv_check(hypercall3(HYPERVISOR_multicall, (uint32_t)out, 2, 0), "multicall");
        pv_check(out[0].result | out[1].result, "wait: switch back and unseal");
        for (uint32_t k = 0; k < FORK_PAGES; k++)
            child_pt[k] = 0;
        child_pd[WORK_PDE] = 0;
    }
    return sum;
}
#endif /* MICRO_PV */

#ifndef MICRO_PV
static void demand_zero(uint32_t cr2, uint32_t error)
{
    if ((cr2 & ~(PAGE_SIZE - 1)) != WORK_BASE || (error & 1))
        trap_unexpected(14, error, cr2);
    page_zero(frame_a);
    work_pt[0] = (uint32_t)frame_a | PTE_PWU;
    demand_faults++;
}

static uint32_t run_pagefault(uint32_t n)
{
    volatile uint32_t *p = (volatile uint32_t *)WORK_BASE;
    uint32_t sum = 0;
    kernel_pd[WORK_PDE] = (uint32_t)work_pt | PTE_PWU;
    set_page_fault_handler(demand_zero);
    for (uint32_t i = 0; i < n; i++) {
        sum += p[1];        /* faults: reads the fresh zero */
        p[1] = i;
        sum += p[1];
        work_pt[0] = 0;     /* unmap, and drop the stale TLB entry */
        invlpg(p);
    }
    set_page_fault_handler(0);
    return sum ^ demand_faults;
}
#endif

#ifndef MICRO_PV
/* CMOS status register D (MC146818: bit 7 VRT, valid RAM and time). */
static uint32_t run_cmos(uint32_t n)
{
    uint32_t sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        outb(0x70, 0x0D);
        sum += inb(0x71);
    }
    return sum;
}
#endif

#ifndef MICRO_PV
static void seal_spaces(void) {}
static void switch_space(uint32_t *page_dir) { write_cr3((uint32_t)page_dir); }
#endif

/* Two address spaces that differ in what WORK_BASE holds. */
static uint32_t run_cr3(uint32_t n)
{
    frame_a[0] = 0xA;
    frame_b[0] = 0xB;
    pt_a[0] = (uint32_t)frame_a | PTE_PWU;
    pt_b[0] = (uint32_t)frame_b | PTE_PWU;
    pd_a[0] = pd_b[0] = kernel_pd[0];
    pd_a[WORK_PDE] = (uint32_t)pt_a | PTE_PWU;
    pd_b[WORK_PDE] = (uint32_t)pt_b | PTE_PWU;
    seal_spaces();
    volatile uint32_t *p = (volatile uint32_t *)WORK_BASE;
    uint32_t sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        switch_space((i & 1) ? pd_b : pd_a);
        sum += *p;
    }
    switch_space(kernel_pd);
    return sum;
}

#ifndef MICRO_PV
/* What a kernel does to mask one IRQ line: interrupts off, OCW1, on. */
static uint32_t run_pic_mask(uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        __asm__ volatile("cli\n\toutb %%al, $0x21\n\tsti" : : "a"(0xFF) : "memory");
    __asm__ volatile("cli");
    return inb(0x21);
}
#endif

static __attribute__((noinline)) uint32_t mix(uint32_t x, uint32_t i)
{
    __asm__ volatile("" : "+r"(x)); /* keeps the call a call */
    return (x ^ (x >> 7)) * 2654435761u + i;
}

static uint32_t run_call(uint32_t n)
{
    uint32_t x = 1;
    for (uint32_t i = 0; i < n; i++)
        x = mix(x, i);
    return x;
}

#ifndef MICRO_PV
/* A process created and reaped: fresh page tables sharing the kernel's
 * identity map, the parent's pages copied in, a switch to it (the child
 * reads its pages), a switch back, and every entry torn down. */
static uint32_t run_forkwait(uint32_t n)
{
    for (uint32_t k = 0; k < FORK_PAGES; k++)
        parent_pages[k][k] = 0x100 + k;
    uint32_t sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        page_zero(child_pd);
        page_zero(child_pt);
        child_pd[0] = kernel_pd[0];
        child_pd[WORK_PDE] = (uint32_t)child_pt | PTE_PWU;
        for (uint32_t k = 0; k < FORK_PAGES; k++) {
            page_copy(child_frames[k], parent_pages[k]);
            child_pt[k] = (uint32_t)child_frames[k] | PTE_PWU;
        }
        write_cr3((uint32_t)child_pd);
        for (uint32_t k = 0; k < FORK_PAGES; k++)
            sum += ((volatile uint32_t *)(WORK_BASE + k * PAGE_SIZE))[k];
        write_cr3((uint32_t)kernel_pd);
        for (uint32_t k = 0; k < FORK_PAGES; k++)
            child_pt[k] = 0;
        child_pd[WORK_PDE] = 0;
    }
    return sum;
}
#endif

#ifdef MICRO_PV
/* What a pv kernel cannot do: SYSENTER (no callback), port I/O (no ports)
 * and an 8259A mask (no PIC: events come from the monitor). */
#define run_sysenter 0
#define run_cmos 0
#define run_pic_mask 0
#endif

static const struct workload {
    const char *name;
    uint32_t (*run)(uint32_t n);
} workloads[] = {
    { "int80", run_int80 },       { "sysenter", run_sysenter }, { "pagefault", run_pagefault },
    { "cmos", run_cmos },         { "cr3", run_cr3 },           { "pic-mask", run_pic_mask },
    { "call", run_call },         { "forkwait", run_forkwait },
};

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

uint32_t kmain(uint32_t magic, uint32_t mbi_addr)
{
    serial_init();
    const struct multiboot_info *mbi = (const struct multiboot_info *)mbi_addr;
    const char *cmdline = "";
    if (magic == MULTIBOOT_BOOTLOADER_MAGIC && (mbi->flags & MULTIBOOT_INFO_CMDLINE))
        cmdline = (const char *)mbi->cmdline;
    uint32_t n = DEFAULT_ITERATIONS;
    const char *v = cmdline_value(cmdline, "n");
    if (v) {
        n = 0;
        for (; *v >= '0' && *v <= '9' && n < 100000000u; v++)
            n = n * 10 + (uint32_t)(*v - '0');
    }
    const char *w = cmdline_value(cmdline, "w");
    for (size_t i = 0; w && i < sizeof workloads / sizeof workloads[0]; i++) {
        if (!word_is(w, workloads[i].name))
            continue;
#ifdef MICRO_PV
        if (!workloads[i].run) {
            kprintf("micro %s: does not apply under pv\n", workloads[i].name);
            return 2;
        }
#endif
        kernel_init();
        uint32_t result = workloads[i].run(n);
        char hex[9];
        for (int d = 7; d >= 0; d--, result >>= 4)
            hex[d] = "0123456789abcdef"[result & 0xF];
        hex[8] = '\0';
        /* Eight digits whatever the value: runs that differ only in n
         * then differ only in their iterations (and n's own digits). */
        kprintf("micro %s n=%u result=%s\n", workloads[i].name, n, hex);
        return 0;
    }
    kprintf("micro: w=NAME n=N, NAME one of:");
    for (size_t i = 0; i < sizeof workloads / sizeof workloads[0]; i++)
        kprintf(" %s", workloads[i].name);
    kprintf("\n");
    return 2;
}
