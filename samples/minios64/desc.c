/*
 * minios64 descriptor tables (SDM vol. 3 3.4.5, 6.14, 7.7): the GDT with
 * 64-bit code segments, the 64-bit TSS (RSP0 for entries from ring 3, IST1
 * for #DF), the IDT of 16-byte gates, and the SYSCALL MSRs (5.8.8).
 */
#include "kernel.h"

/* 64-bit TSS: no task switching, only stack pointers (SDM figure 7-11). */
struct __attribute__((packed)) tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
};

struct __attribute__((packed)) table_ptr {
    uint16_t limit;
    uint64_t base;
};

#define MSR_EFER 0xC0000080u
#define MSR_STAR 0xC0000081u
#define MSR_LSTAR 0xC0000082u
#define MSR_SFMASK 0xC0000084u
#define MSR_KERNEL_GS_BASE 0xC0000102u
#define EFER_SCE 0x1u

static uint64_t gdt[8] __attribute__((aligned(16)));
static uint64_t idt[256 * 2] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
static uint8_t df_stack[4096] __attribute__((aligned(16)));
struct percpu percpu;

/* access byte, flags nibble (G, D/B, L, AVL) */
#define ACC_KCODE 0x9A
#define ACC_KDATA 0x92
#define ACC_UCODE 0xFA
#define ACC_UDATA 0xF2
#define ACC_TSS 0x89
#define FLAGS_CODE64 0xA /* G, L (D must be 0) */
#define FLAGS_DATA 0xC   /* G, B */

static void set_gate(int vector, uint64_t handler, int ist)
{
    /* P, DPL 0, type 0xE: 64-bit interrupt gate (IF cleared on entry) */
    idt[2 * vector] = (handler & 0xFFFF) | (uint64_t)KCODE << 16 | (uint64_t)ist << 32 |
                      0x8Eull << 40 | ((handler >> 16) & 0xFFFF) << 48;
    idt[2 * vector + 1] = handler >> 32;
}

void gdt_tss_idt_init(void)
{
    gdt[1] = segment_descriptor(0, 0xFFFFF, ACC_KCODE, FLAGS_CODE64);
    gdt[2] = segment_descriptor(0, 0xFFFFF, ACC_KDATA, FLAGS_DATA);
    gdt[3] = 0; /* 0x18: STAR[63:48], the 32-bit user code SYSRETL would use */
    gdt[4] = segment_descriptor(0, 0xFFFFF, ACC_UDATA, FLAGS_DATA);
    gdt[5] = segment_descriptor(0, 0xFFFFF, ACC_UCODE, FLAGS_CODE64);
    /* 0x30: a system descriptor takes two entries in long mode */
    const uint64_t t = (uint64_t)&tss;
    gdt[6] = segment_descriptor((uint32_t)t, sizeof tss - 1, ACC_TSS, 0);
    gdt[7] = t >> 32;
    struct table_ptr g = { sizeof gdt - 1, (uint64_t)gdt };
    __asm__ volatile("lgdt %0\n\t"
                     "pushq %1\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\tmovl %2, %%eax\n\t"
                     "movl %%eax, %%ds\n\t"
                     "movl %%eax, %%es\n\t"
                     "movl %%eax, %%ss\n\t"
                     "xorl %%eax, %%eax\n\t"
                     "movl %%eax, %%fs\n\t"
                     "movl %%eax, %%gs"
                     :
                     : "m"(g), "i"(KCODE), "i"(KDATA)
                     : "rax", "memory");

    tss.ist[0] = (uint64_t)(df_stack + sizeof df_stack);
    tss.iomap_base = sizeof tss; /* no I/O bitmap: ring 3 gets no port */
    __asm__ volatile("ltr %w0" : : "r"(TSS_SEL));

    for (int v = 0; v < 32; v++)
        set_gate(v, idt_stubs[v], v == VEC_DF ? 1 : 0);
    for (int v = 0; v < 16; v++)
        set_gate(0x20 + v, idt_stubs[32 + v], 0);
    struct table_ptr i = { sizeof idt - 1, (uint64_t)idt };
    __asm__ volatile("lidt %0" : : "m"(i));
}

/* The stack the CPU switches to on an interrupt from ring 3 (TSS.RSP0) and
 * the one syscall_entry switches to (percpu.kernel_rsp): the running
 * process's kernel stack. */
void set_kernel_stack(uint64_t top)
{
    tss.rsp[0] = top;
    percpu.kernel_rsp = top;
}

void syscall_msrs_init(void)
{
    wrmsr64(MSR_EFER, rdmsr64(MSR_EFER) | EFER_SCE);
    wrmsr64(MSR_STAR, (uint64_t)0x18 << 48 | (uint64_t)KCODE << 32);
    wrmsr64(MSR_LSTAR, (uint64_t)syscall_entry);
    wrmsr64(MSR_SFMASK, 0x40700); /* AC, DF, IF, TF */
    wrmsr64(MSR_KERNEL_GS_BASE, (uint64_t)&percpu);
}

uint64_t gdt_entry(int i) { return gdt[i]; }
