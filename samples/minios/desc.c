/*
 * desc.c - the descriptor tables minios loads itself (Intel SDM vol. 3,
 * chapters 3, 6 and 7): a GDT with kernel and user code/data segments and
 * one TSS, an IDT with gates for the exceptions, the remapped PIC IRQs and
 * INT 0x80, and the IA32_SYSENTER_* MSRs for the fast system call path.
 *
 * The multiboot loader left us on its own GDT, which it may have placed
 * anywhere (even in memory we are about to reuse), so the very first thing
 * the kernel does is switch to this one.
 */
#include "kernel.h"

/* Segment descriptor access bytes: P, DPL, S=1 (code/data), type. */
#define ACC_KERNEL_CODE 0x9A /* execute/read, DPL 0 */
#define ACC_KERNEL_DATA 0x92 /* read/write, DPL 0 */
#define ACC_USER_CODE   0xFA /* execute/read, DPL 3 */
#define ACC_USER_DATA   0xF2 /* read/write, DPL 3 */
#define ACC_TSS32       0x89 /* P, DPL 0, S=0, type 9: available 32-bit TSS */
#define FLAGS_4K_32BIT  0xC  /* G=1 (limit in pages), D/B=1 (32-bit) */

/* Gate type/attribute bytes: P, DPL, type. */
#define GATE_INTERRUPT_DPL0 0x8E /* clears IF on entry */
#define GATE_TRAP_DPL3      0xEF /* keeps IF; INT n allowed from ring 3 */

#define MSR_SYSENTER_CS  0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176

#define CPUID1_EDX_SEP (1u << 11)

#ifndef MINIOS_PV
/* 32-bit TSS (SDM vol. 3, figure 7-2).  minios never switches tasks in
 * hardware: it uses the TSS only for SS0:ESP0, the stack the CPU switches
 * to when an interrupt or INT 0x80 arrives from ring 3. */
struct __attribute__((packed)) tss32 {
    uint32_t prev_task;
    uint32_t esp0, ss0, esp1, ss1, esp2, ss2;
    uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint32_t es, cs, ss, ds, fs, gs, ldt;
    uint16_t trap;
    uint16_t iomap_base;
};

struct __attribute__((packed)) idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t zero;
    uint8_t type_attr;
    uint16_t offset_high;
};

static uint64_t gdt[6] __attribute__((aligned(8)));
static struct tss32 tss __attribute__((aligned(128)));
static struct idt_gate idt[256] __attribute__((aligned(8)));

void gdt_init(void)
{
    gdt[0] = 0; /* the null descriptor */
    gdt[SEL_KERNEL_CODE >> 3] = segment_descriptor(0, 0xFFFFF, ACC_KERNEL_CODE, FLAGS_4K_32BIT);
    gdt[SEL_KERNEL_DATA >> 3] = segment_descriptor(0, 0xFFFFF, ACC_KERNEL_DATA, FLAGS_4K_32BIT);
    gdt[SEL_USER_CODE >> 3] = segment_descriptor(0, 0xFFFFF, ACC_USER_CODE, FLAGS_4K_32BIT);
    gdt[SEL_USER_DATA >> 3] = segment_descriptor(0, 0xFFFFF, ACC_USER_DATA, FLAGS_4K_32BIT);

    memset(&tss, 0, sizeof tss);
    tss.ss0 = SEL_KERNEL_DATA;
    tss.esp0 = (uint32_t)boot_stack_top;
    /* An I/O map base past the TSS limit means "no I/O permission bitmap":
     * every IN/OUT at CPL 3 (> IOPL 0) raises #GP. */
    tss.iomap_base = sizeof tss;
    gdt[SEL_TSS >> 3] = segment_descriptor((uint32_t)&tss, sizeof tss - 1, ACC_TSS32, 0);

    struct desc_ptr gdtr = { sizeof gdt - 1, (uint32_t)gdt };
    __asm__ volatile("lgdt %0" : : "m"(gdtr) : "memory");
    /* LGDT changes no segment register: the hidden parts still hold the
     * loader's descriptors until each register is reloaded. */
    load_segments();
    /* LTR marks the TSS descriptor busy; the CPU reads SS0:ESP0 from it on
     * every ring 3 -> ring 0 transition from now on. */
    __asm__ volatile("ltr %w0" : : "r"(SEL_TSS));
}

unsigned tss_descriptor_type(void)
{
    return (unsigned)(gdt[SEL_TSS >> 3] >> 40) & 0xF;
}

void tss_set_kernel_stack(uint32_t esp0)
{
    tss.esp0 = esp0;
}

static void set_gate(unsigned vector, void (*handler)(void), uint8_t type_attr)
{
    uint32_t offset = (uint32_t)handler;
    idt[vector].offset_low = offset & 0xFFFF;
    idt[vector].selector = SEL_KERNEL_CODE;
    idt[vector].zero = 0;
    idt[vector].type_attr = type_attr;
    idt[vector].offset_high = offset >> 16;
}

void idt_init(void)
{
    /* Vectors without a gate stay not-present: using one raises #GP. */
    memset(idt, 0, sizeof idt);
    for (unsigned v = 0; v < 32; v++)
        set_gate(v, (void (*)(void))isr_stub_table[v], GATE_INTERRUPT_DPL0);
    for (unsigned irq = 0; irq < 16; irq++)
        set_gate(VEC_IRQ_BASE + irq, (void (*)(void))isr_stub_table[32 + irq], GATE_INTERRUPT_DPL0);
    /* A trap gate: the kernel runs system calls with interrupts enabled,
     * like the SYSENTER path does after it has built its frame. */
    set_gate(VEC_SYSCALL, isr_syscall, GATE_TRAP_DPL3);

    struct desc_ptr idtr = { sizeof idt - 1, (uint32_t)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
}

/* CPUID.1:EDX.SEP, minus the Pentium Pro parts that set it without having
 * the instructions (family 6, model < 3, stepping < 3: SDM vol. 2,
 * SYSENTER, "Operation"). */
static int cpu_has_sysenter(void)
{
    uint32_t a, b, c, d;
    cpuid(0, &a, &b, &c, &d);
    if (a < 1)
        return 0;
    cpuid(1, &a, &b, &c, &d);
    if (!(d & CPUID1_EDX_SEP))
        return 0;
    uint32_t family = (a >> 8) & 0xF, model = (a >> 4) & 0xF, stepping = a & 0xF;
    return !(family == 6 && model < 3 && stepping < 3);
}

static int sysenter_enabled;

int sysenter_init(void)
{
    if (!cpu_has_sysenter())
        return 0;
    sysenter_enabled = 1;
    wrmsr(MSR_SYSENTER_CS, SEL_KERNEL_CODE, 0);
    wrmsr(MSR_SYSENTER_ESP, (uint32_t)boot_stack_top, 0);
    wrmsr(MSR_SYSENTER_EIP, (uint32_t)sysenter_entry, 0);
    return 1;
}

/* SYSENTER does not read the TSS: it takes ESP from an MSR, which must
 * therefore follow the running process like TSS.ESP0 does. */
void sysenter_set_stack(uint32_t esp)
{
    if (sysenter_enabled) /* without SEP the MSRs may not exist (#GP) */
        wrmsr(MSR_SYSENTER_ESP, esp, 0);
}

#else /* MINIOS_PV: the same tables, through hypercalls (pv.h) */

/* GDT entries 1 and 2 are the monitor's ring-1 kernel segments; the user
 * segments are ours, validated by the monitor.  No TSS: the monitor
 * switches to the kernel stack set with set_kernel_stack. */
void gdt_init(void)
{
    uint64_t user_code = segment_descriptor(0, 0xFFFFF, ACC_USER_CODE, FLAGS_4K_32BIT);
    uint64_t user_data = segment_descriptor(0, 0xFFFFF, ACC_USER_DATA, FLAGS_4K_32BIT);
    struct multicall_entry calls[3] = {
        { HYPERVISOR_update_descriptor, { SEL_USER_CODE >> 3, (uint32_t)user_code, (uint32_t)(user_code >> 32), 0, 0 }, 0 },
        { HYPERVISOR_update_descriptor, { SEL_USER_DATA >> 3, (uint32_t)user_data, (uint32_t)(user_data >> 32), 0, 0 }, 0 },
        { HYPERVISOR_set_kernel_stack, { SEL_KERNEL_DATA, (uint32_t)boot_stack_top, 0, 0, 0 }, 0 },
    };
    pv_check(hypercall3(HYPERVISOR_multicall, (uint32_t)calls, 3, 0), "multicall");
    for (int i = 0; i < 3; i++)
        pv_check(calls[i].result, "gdt_init");
    load_segments();
}

unsigned tss_descriptor_type(void)
{
    return 0; /* there is no TSS under pv */
}

void tss_set_kernel_stack(uint32_t esp0)
{
    pv_check(hypercall3(HYPERVISOR_set_kernel_stack, SEL_KERNEL_DATA, esp0, 0), "set_kernel_stack");
}

/* The trap table says what the IDT said: exceptions and IRQs with events
 * masked (interrupt gates), INT 0x80 from ring 3 with events left on. */
void idt_init(void)
{
    static struct trap_info traps[32 + 16 + 1];
    unsigned n = 0;
    for (unsigned v = 0; v < 32; v++)
        traps[n++] = (struct trap_info){ v, TRAP_CLEARS_IF, SEL_KERNEL_CODE, isr_stub_table[v] };
    for (unsigned irq = 0; irq < 16; irq++)
        traps[n++] = (struct trap_info){ VEC_IRQ_BASE + irq, TRAP_CLEARS_IF, SEL_KERNEL_CODE, isr_stub_table[32 + irq] };
    traps[n++] = (struct trap_info){ VEC_SYSCALL, 3, SEL_KERNEL_CODE, (uint32_t)isr_syscall };
    pv_check(hypercall3(HYPERVISOR_set_trap_table, (uint32_t)traps, n, 0), "set_trap_table");
}

int sysenter_init(void)
{
    return 0; /* processes use INT 0x80 only (entry.S) */
}

void sysenter_set_stack(uint32_t esp)
{
    (void)esp;
}
#endif /* MINIOS_PV */
