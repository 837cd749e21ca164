/*
 * kernel.c - the smallest kernel the micro workloads need (Intel SDM vol. 3
 * chapters 3, 4, 6 and 7): a GDT with kernel and user segments and a TSS,
 * an IDT (exceptions, INT 0x80 callable from ring 3), the SYSENTER MSRs,
 * 4 KiB paging over the image, and both PICs masked.
 */
#include "micro.h"

#define ACC_KERNEL_CODE 0x9A
#define ACC_KERNEL_DATA 0x92
#define ACC_USER_CODE   0xFA
#define ACC_USER_DATA   0xF2
#define ACC_TSS32       0x89 /* available 32-bit TSS, DPL 0 */
#define FLAGS_4K_32BIT  0xC

#define GATE_INTERRUPT_DPL0 0x8E
#define GATE_INTERRUPT_DPL3 0xEE /* INT 0x80 from ring 3; IF stays 0 */

#define MSR_SYSENTER_CS  0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176

#ifndef MICRO_PV
struct __attribute__((packed)) tss32 {
    uint32_t prev_task, esp0, ss0, esp1, ss1, esp2, ss2;
    uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint32_t es, cs, ss, ds, fs, gs, ldt;
    uint16_t trap, iomap_base;
};

struct __attribute__((packed)) idt_gate {
    uint16_t offset_low, selector;
    uint8_t zero, type_attr;
    uint16_t offset_high;
};

/* The descriptor tables get a page of their own: a monitor traces writes
 * to them per page, and a stack or counter sharing it would pay a trace
 * fault on every write, which is not what the workloads measure. */
static struct {
    uint64_t gdt[6];
    struct tss32 tss;
    struct idt_gate idt[256];
} tables __attribute__((aligned(4096)));
#define gdt tables.gdt
#define tss tables.tss
#define idt tables.idt
#endif
/* Ring 0's stack on entry from ring 3 (INT 0x80 and SYSENTER alike). */
static uint8_t syscall_stack[4096] __attribute__((aligned(16)));

page_t kernel_pd;
page_t identity_pt;

static void (*page_fault_handler)(uint32_t cr2, uint32_t error);

#ifndef MICRO_PV
static void set_gate(unsigned vector, uint32_t offset, uint8_t type_attr)
{
    idt[vector].offset_low = offset & 0xFFFF;
    idt[vector].selector = SEL_KERNEL_CODE;
    idt[vector].zero = 0;
    idt[vector].type_attr = type_attr;
    idt[vector].offset_high = offset >> 16;
}

static void wrmsr(uint32_t msr, uint32_t value)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"(value), "d"(0));
}

static void descriptors_init(void)
{
    gdt[0] = 0;
    gdt[SEL_KERNEL_CODE >> 3] = segment_descriptor(0, 0xFFFFF, ACC_KERNEL_CODE, FLAGS_4K_32BIT);
    gdt[SEL_KERNEL_DATA >> 3] = segment_descriptor(0, 0xFFFFF, ACC_KERNEL_DATA, FLAGS_4K_32BIT);
    gdt[SEL_USER_CODE >> 3] = segment_descriptor(0, 0xFFFFF, ACC_USER_CODE, FLAGS_4K_32BIT);
    gdt[SEL_USER_DATA >> 3] = segment_descriptor(0, 0xFFFFF, ACC_USER_DATA, FLAGS_4K_32BIT);
    tss.ss0 = SEL_KERNEL_DATA;
    tss.esp0 = (uint32_t)(syscall_stack + sizeof syscall_stack);
    tss.iomap_base = sizeof tss; /* no I/O bitmap: ring 3 has no ports */
    gdt[SEL_TSS >> 3] = segment_descriptor((uint32_t)&tss, sizeof tss - 1, ACC_TSS32, 0);

    struct desc_ptr gdtr = { sizeof gdt - 1, (uint32_t)gdt };
    __asm__ volatile("lgdt %0\n\t"
                     "ljmp %1, $1f\n"
                     "1:\tmovw %w2, %%ax\n\t"
                     "movw %%ax, %%ds\n\tmovw %%ax, %%es\n\tmovw %%ax, %%fs\n\t"
                     "movw %%ax, %%gs\n\tmovw %%ax, %%ss\n\t"
                     "ltr %w3"
                     :
                     : "m"(gdtr), "i"(SEL_KERNEL_CODE), "r"(SEL_KERNEL_DATA), "r"(SEL_TSS)
                     : "eax", "memory");

    for (unsigned v = 0; v < 32; v++)
        set_gate(v, isr_stub_table[v], GATE_INTERRUPT_DPL0);
    set_gate(0x80, (uint32_t)isr_syscall, GATE_INTERRUPT_DPL3);
    struct desc_ptr idtr = { sizeof idt - 1, (uint32_t)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr) : "memory");

    wrmsr(MSR_SYSENTER_CS, SEL_KERNEL_CODE);
    wrmsr(MSR_SYSENTER_ESP, (uint32_t)(syscall_stack + sizeof syscall_stack));
    wrmsr(MSR_SYSENTER_EIP, (uint32_t)sysenter_entry);
}

/* Page 0 stays unmapped (null pointers fault); the rest of the first
 * 4 MiB is identity-mapped, writable and user-accessible. */
static void paging_init(void)
{
    for (uint32_t i = 1; i < 1024; i++)
        identity_pt[i] = (i * PAGE_SIZE) | PTE_PWU;
    kernel_pd[0] = (uint32_t)identity_pt | PTE_PWU;
    write_cr3((uint32_t)kernel_pd);
    write_cr0(read_cr0() | 0x80000000u | 0x00010000u); /* PG, WP */
}

/* ICW1-4 then OCW1 for both 8259As (datasheet: vectors 0x20/0x28, cascade
 * on IR2), all lines masked: no interrupt ever reaches the CPU. */
static void pic_init(void)
{
    outb(0x20, 0x11); outb(0xA0, 0x11);
    outb(0x21, 0x20); outb(0xA1, 0x28);
    outb(0x21, 0x04); outb(0xA1, 0x02);
    outb(0x21, 0x01); outb(0xA1, 0x01);
    outb(0x21, 0xFF); outb(0xA1, 0xFF);
}

#else /* MICRO_PV: the same machine, through hypercalls */

static void descriptors_init(void)
{
    uint64_t code = segment_descriptor(0, 0xFFFFF, ACC_USER_CODE, FLAGS_4K_32BIT);
    uint64_t data = segment_descriptor(0, 0xFFFFF, ACC_USER_DATA, FLAGS_4K_32BIT);
    struct multicall_entry calls[3] = {
        { HYPERVISOR_update_descriptor, { SEL_USER_CODE >> 3, (uint32_t)code, (uint32_t)(code >> 32), 0, 0 }, 0 },
        { HYPERVISOR_update_descriptor, { SEL_USER_DATA >> 3, (uint32_t)data, (uint32_t)(data >> 32), 0, 0 }, 0 },
        { HYPERVISOR_set_kernel_stack, { SEL_KERNEL_DATA, (uint32_t)(syscall_stack + sizeof syscall_stack), 0, 0, 0 }, 0 },
    };
    pv_check(hypercall3(HYPERVISOR_multicall, (uint32_t)calls, 3, 0), "multicall");
    for (int i = 0; i < 3; i++)
        pv_check(calls[i].result, "descriptors");
    __asm__ volatile("ljmp %0, $1f\n"
                     "1:\tmovw %w1, %%ax\n\t"
                     "movw %%ax, %%ds\n\tmovw %%ax, %%es\n\tmovw %%ax, %%fs\n\t"
                     "movw %%ax, %%gs\n\tmovw %%ax, %%ss"
                     :
                     : "i"(SEL_KERNEL_CODE), "r"(SEL_KERNEL_DATA)
                     : "eax", "memory");

    /* INT 0x80 leaves events on (there are none: no timer), so the
     * monitor can make it a fast trap. */
    static struct trap_info traps[33];
    for (unsigned v = 0; v < 32; v++)
        traps[v] = (struct trap_info){ v, TRAP_CLEARS_IF, SEL_KERNEL_CODE, isr_stub_table[v] };
    traps[32] = (struct trap_info){ 0x80, 3, SEL_KERNEL_CODE, (uint32_t)isr_syscall };
    pv_check(hypercall3(HYPERVISOR_set_trap_table, (uint32_t)traps, 33, 0), "set_trap_table");
}

void pv_table(void *page, int directory)
{
    struct mmu_update u = { (uint32_t)&identity_pt[(uint32_t)page / PAGE_SIZE], (uint32_t)page | PTE_P | PTE_U };
    struct mmuext_op op = { directory ? MMUEXT_PIN_L2 : MMUEXT_PIN_L1, (uint32_t)page };
    struct multicall_entry calls[2] = {
        { HYPERVISOR_mmu_update, { (uint32_t)&u, 1, 0, 0, 0 }, 0 },
        { HYPERVISOR_mmuext_op, { (uint32_t)&op, 1, 0, 0, 0 }, 0 },
    };
    pv_check(hypercall3(HYPERVISOR_multicall, (uint32_t)calls, 2, 0), "multicall");
    pv_check(calls[0].result, "pv_table: mmu_update");
    pv_check(calls[1].result, "pv_table: pin");
}

void pv_untable(void *page)
{
    struct mmuext_op op = { MMUEXT_UNPIN, (uint32_t)page };
    struct mmu_update u = { (uint32_t)&identity_pt[(uint32_t)page / PAGE_SIZE], (uint32_t)page | PTE_PWU };
    struct multicall_entry calls[2] = {
        { HYPERVISOR_mmuext_op, { (uint32_t)&op, 1, 0, 0, 0 }, 0 },
        { HYPERVISOR_mmu_update, { (uint32_t)&u, 1, 0, 0, 0 }, 0 },
    };
    pv_check(hypercall3(HYPERVISOR_multicall, (uint32_t)calls, 2, 0), "multicall");
    pv_check(calls[0].result, "pv_untable: unpin");
    pv_check(calls[1].result, "pv_untable: mmu_update");
}

/* The same identity map, with the two tables themselves read-only. */
static void paging_init(void)
{
    for (uint32_t i = 1; i < 1024; i++)
        identity_pt[i] = (i * PAGE_SIZE) | PTE_PWU;
    identity_pt[(uint32_t)identity_pt / PAGE_SIZE] &= ~PTE_W;
    identity_pt[(uint32_t)kernel_pd / PAGE_SIZE] &= ~PTE_W;
    kernel_pd[0] = (uint32_t)identity_pt | PTE_PWU;
    struct mmuext_op ops[3] = {
        { MMUEXT_PIN_L1, (uint32_t)identity_pt },
        { MMUEXT_PIN_L2, (uint32_t)kernel_pd },
        { MMUEXT_NEW_BASEPTR, (uint32_t)kernel_pd },
    };
    pv_check(hypercall3(HYPERVISOR_mmuext_op, (uint32_t)ops, 3, 0), "mmuext_op");
}

static void pic_init(void)
{
    pv_init(); /* no 8259A to mask: events come only from the monitor */
}
#endif /* MICRO_PV */

void kernel_init(void)
{
    descriptors_init();
    pic_init();
    paging_init();
}

void page_zero(void *page)
{
    uint32_t d, c;
    __asm__ volatile("rep stosl" : "=D"(d), "=c"(c) : "0"(page), "1"(PAGE_SIZE / 4), "a"(0) : "memory");
}

void page_copy(void *dst, const void *src)
{
    uint32_t d, s, c;
    __asm__ volatile("rep movsl" : "=D"(d), "=S"(s), "=c"(c) : "0"(dst), "1"(src), "2"(PAGE_SIZE / 4) : "memory");
}

void set_page_fault_handler(void (*handler)(uint32_t cr2, uint32_t error))
{
    page_fault_handler = handler;
}

void trap_page_fault(uint32_t error)
{
#ifdef MICRO_PV
    uint32_t cr2 = pv_shared.cr2; /* the monitor's copy: CR2 is privileged */
    if (!page_fault_handler)
        trap_unexpected(14, error, cr2);
    page_fault_handler(cr2, error);
#else
    if (!page_fault_handler)
        trap_unexpected(14, error, read_cr2());
    page_fault_handler(read_cr2(), error);
#endif
}

void trap_unexpected(uint32_t vector, uint32_t error, uint32_t where)
{
    kprintf("micro: unexpected exception %u (error %x) at %x\n", vector, error, where);
    debug_exit(3);
}
