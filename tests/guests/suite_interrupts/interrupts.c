/*
 * suite_interrupts: external interrupts from the PC's interrupt sources,
 * after the Intel 8259A and 8254 datasheets, the Motorola MC146818 (RTC),
 * the Intel SDM vol. 3 (chapter 6 for delivery and shadows, chapter 11 for
 * the local APIC) and QEMU's fw_cfg documentation (docs/specs/fw_cfg.txt).
 *
 * Every check is deterministic under QEMU TCG (host-time timers) and vtlab
 * (virtual time): the suite waits for a device's interrupt request bit
 * before it opens the window in which the interrupt may be taken, and
 * only checks where it is taken (pushed EIP), in which order, with which
 * state -- never how many arrive in some time.
 *
 * PIC remapped to 0x20 (master) and 0x28 (slave); PIT channel 0 in mode 2
 * (then mode 0); RTC periodic interrupt at 64 Hz on IRQ8; local APIC at
 * 0xFEE00000, timer vector 0x40, self-IPI vector 0x41, spurious 0xFF.
 * "strict" adds the EXT bit of a #GP raised delivering IRQ0 (QEMU: none).
 */
#include "suite.h"

extern char irq_stub_0x20[], irq_stub_0x28[], irq_stub_0x40[], irq_stub_0x41[], irq_stub_0x50[],
    irq_stub_0x51[], irq_stub_0xFF[], after_sti_next[], after_hlt[];
extern void sti_nop_cli(void), sti_hlt_cli(void);

#define PIC1 0x20
#define PIC2 0xA0
#define OCW3_READ_IRR 0x0A
#define OCW3_READ_ISR 0x0B
#define EOI 0x20
#define IF 0x200u
#define APIC ((volatile u32 *)0xFEE00000)
#define APIC_REG(off) APIC[(off) / 4]
#define WAIT_LIMIT 20000000u

struct irq_frame {
    u32 edi, esi, ebp, esp, ebx, edx, ecx, eax;
    u32 vector, eip, cs, eflags;
};
struct irq_event {
    u32 vector, eip, pushed_eflags, handler_eflags, isr_master, isr_slave, rtc_c, apic_isr;
};
static volatile struct irq_event events[8];
static volatile u32 nevents;
static volatile int send_eoi = 1;

static u8 pic_read(u16 port, u8 ocw3) { outb(port, ocw3); return inb(port); }
static u8 cmos_read(u8 reg) { outb(0x70, reg); return inb(0x71); }
static void cmos_write(u8 reg, u8 v) { outb(0x70, reg); outb(0x71, v); }

void irq_handler(struct irq_frame *f)
{
    volatile struct irq_event *e = &events[nevents < 8 ? nevents : 7];
    e->vector = f->vector;
    e->eip = f->eip;
    e->pushed_eflags = f->eflags;
    e->handler_eflags = read_eflags();
    e->isr_master = pic_read(PIC1, OCW3_READ_ISR);
    e->isr_slave = pic_read(PIC2, OCW3_READ_ISR);
    e->rtc_c = f->vector == 0x28 ? cmos_read(0x0C) : 0;
    e->apic_isr = (f->vector == 0x40 || f->vector == 0x41) ? APIC_REG(0x120) : 0;
    nevents++;
    if (!send_eoi)
        return;
    if (f->vector == 0x40 || f->vector == 0x41) {
        APIC_REG(0xB0) = 0;
    } else if (f->vector >= 0x20 && f->vector < 0x30) {
        if (f->vector >= 0x28)
            outb(PIC2, EOI);
        outb(PIC1, EOI);
    }
}

/* Poll until cond() holds (with IF=0 nothing is taken meanwhile). */
static int wait_for(int (*cond)(void))
{
    for (u32 i = 0; i < WAIT_LIMIT; i++)
        if (cond())
            return 1;
    return 0;
}
static int irq0_requested(void) { return pic_read(PIC1, OCW3_READ_IRR) & 1; }
static int irq0_and_irq8_requested(void)
{
    return (pic_read(PIC1, OCW3_READ_IRR) & 5) == 5 && (pic_read(PIC2, OCW3_READ_IRR) & 1);
}

static void pic_init(void)
{
    outb(PIC1, 0x11);   /* ICW1: edge, cascade, ICW4 */
    outb(PIC1 + 1, 0x20);
    outb(PIC1 + 1, 0x04);
    outb(PIC1 + 1, 0x01);
    outb(PIC2, 0x11);
    outb(PIC2 + 1, 0x28);
    outb(PIC2 + 1, 0x02);
    outb(PIC2 + 1, 0x01);
    outb(PIC1 + 1, 0xFF);
    outb(PIC2 + 1, 0xFF);
}

static void pit_program(u8 mode, u16 count)
{
    outb(0x43, 0x30 | (mode << 1));   /* channel 0, lobyte/hibyte, binary */
    outb(0x40, count & 0xFF);
    outb(0x40, count >> 8);
}
static u8 pit_status(void)
{
    outb(0x43, 0xE2);   /* read-back: status only, channel 0 */
    return inb(0x40);
}

static void reset_events(void)
{
    nevents = 0;
    for (int i = 0; i < 8; i++)
        events[i].vector = 0;
}

/* ---- PIC and PIT --------------------------------------------------------- */

static void pic_pit_checks(void)
{
    struct fault f;
    pic_init();
    outb(PIC1 + 1, 0xFE);
    check_eq("int.pic_imr_readback", (u32)inb(PIC1 + 1) << 8 | inb(PIC2 + 1), 0xFEFF);

    pit_program(2, 11932);
    check_eq("int.pit_readback_status_mode2", pit_status() & 0x3F, 0x34);
    outb(0x43, 0x00);   /* latch channel 0 */
    u32 latched = inb(0x40);
    latched |= (u32)inb(0x40) << 8;
    check("int.pit_mode2_latched_count_in_range", latched >= 1 && latched <= 11932, "count %u", latched);

    reset_events();
    int requested = wait_for(irq0_requested);
    u8 irr = pic_read(PIC1, OCW3_READ_IRR);
    check("int.irq0_held_while_if0", requested && irr != 0xFF && nevents == 0, "IRR 0x%x, %u interrupts", irr, nevents);
    int pit_works = requested && irr != 0xFF;
    run_checked(sti_nop_cli, &f);
    volatile struct irq_event *e = &events[0];
    check("int.sti_shadow_irq0_after_next_insn", nevents == 1 && e->vector == 0x20 && e->eip == (u32)after_sti_next,
          "%u interrupts, vector 0x%x eip 0x%x want 0x20 at 0x%x", nevents, e->vector, e->eip, (u32)after_sti_next);
    check("int.interrupt_gate_clears_if", nevents == 1 && (e->pushed_eflags & IF) && !(e->handler_eflags & IF),
          "pushed eflags 0x%x, in handler 0x%x", e->pushed_eflags, e->handler_eflags);
    check("int.pic_isr_in_handler", nevents == 1 && e->isr_master == 0x01 && e->isr_slave == 0, "%u interrupts, ISR 0x%x/0x%x",
          nevents, e->isr_master, e->isr_slave);
    check_eq("int.pic_eoi_clears_isr", pic_read(PIC1, OCW3_READ_ISR), 0);

    /* No EOI: the in-service IRQ0 blocks the next IRQ0 until the EOI. */
    reset_events();
    wait_for(irq0_requested);
    send_eoi = 0;
    run_checked(sti_nop_cli, &f);
    send_eoi = 1;
    requested = wait_for(irq0_requested);
    run_checked(sti_nop_cli, &f);
    u32 before_eoi = nevents;
    outb(PIC1, EOI);
    run_checked(sti_nop_cli, &f);
    check("int.pic_isr_blocks_until_eoi", requested && before_eoi == 1 && nevents == 2,
          "IRR.0 %d, %u then %u interrupts", requested, before_eoi, nevents);

    /* IMR: a masked request is latched in IRR but not delivered. */
    reset_events();
    outb(PIC1 + 1, 0xFF);
    __asm__ volatile("sti");
    requested = wait_for(irq0_requested);
    __asm__ volatile("cli");
    u32 while_masked = nevents;
    outb(PIC1 + 1, 0xFE);
    run_checked(sti_nop_cli, &f);
    check("int.pic_imr_masks_irq0", requested && while_masked == 0 && nevents == 1 && events[0].vector == 0x20,
          "IRR.0 %d, %u while masked, %u after", requested, while_masked, nevents);

    reset_events();
    if (pit_works) /* else HLT would never end */
        run_checked(sti_hlt_cli, &f);
    check("int.hlt_woken_eip_after_hlt", nevents == 1 && events[0].eip == (u32)after_hlt,
          "%u interrupts, eip 0x%x want 0x%x", nevents, events[0].eip, (u32)after_hlt);

    /* Mode 0: OUT low while counting, high from the terminal count on. */
    pit_program(0, 0xFFFF);
    u8 counting = pit_status();
    run_checked(sti_nop_cli, &f);   /* takes an IRQ0 left from mode 2, if any */
    wait_for(irq0_requested);
    u8 done = pit_status();
    check("int.pit_mode0_out_low_then_high", (counting & 0xBF) == 0x30 && (done & 0xBF) == 0xB0,
          "status 0x%x then 0x%x", counting, done);
    reset_events();
    run_checked(sti_nop_cli, &f);
    check("int.pit_mode0_terminal_count_irq0", nevents == 1 && events[0].vector == 0x20, "%u interrupts, vector 0x%x",
          nevents, events[0].vector);
    outb(PIC1 + 1, 0xFF);
}

/* ---- RTC and CMOS ---------------------------------------------------------- */

static void rtc_checks(void)
{
    struct fault f;
    check("int.rtc_registers_after_post", (cmos_read(0x0A) & 0x7F) == 0x26 && cmos_read(0x0B) == 0x02 &&
                                              cmos_read(0x0D) == 0x80,
          "A 0x%x B 0x%x D 0x%x", cmos_read(0x0A), cmos_read(0x0B), cmos_read(0x0D));
    check_eq("int.cmos_base_memory_640k", cmos_read(0x15) | (u32)cmos_read(0x16) << 8, 640);

    /* Periodic interrupt at 64 Hz (rate 10) with PIT IRQ0 pending as well:
     * IRQ0 has the higher priority; IRQ8 comes through the cascade (IR2). */
    cmos_read(0x0C);
    cmos_write(0x0A, 0x2A);
    cmos_write(0x0B, 0x42);
    pit_program(2, 11932);
    outb(PIC1 + 1, 0xFA);
    outb(PIC2 + 1, 0xFE);
    reset_events();
    int requested = wait_for(irq0_and_irq8_requested);
    run_checked(sti_nop_cli, &f);
    volatile struct irq_event *e0 = &events[0], *e1 = &events[1];
    check("int.pic_priority_irq0_before_irq8", requested && nevents == 2 && e0->vector == 0x20 && e1->vector == 0x28,
          "IRR %d, %u interrupts: 0x%x 0x%x", requested, nevents, e0->vector, e1->vector);
    check("int.pic_cascade_isr_in_irq8_handler", e1->isr_master == 0x04 && e1->isr_slave == 0x01, "ISR 0x%x/0x%x",
          e1->isr_master, e1->isr_slave);
    check_eq("int.rtc_reg_c_flags_in_handler", e1->rtc_c & 0xC0, 0xC0);
    check_eq("int.rtc_reg_c_cleared_by_read", cmos_read(0x0C) & 0xC0, 0);
    outb(PIC1 + 1, 0xFF);
    outb(PIC2 + 1, 0xFF);
    cmos_write(0x0B, 0x02);
    cmos_read(0x0C);
}

/* ---- fw_cfg and memory size --------------------------------------------- */

static void fw_cfg_select(u16 key) { outw(0x510, key); }
static u32 fw_cfg_read(int bytes)
{
    u32 v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (u32)inb(0x511) << (8 * i);
    return v;
}

static void fw_cfg_checks(void)
{
    fw_cfg_select(0x0000);
    char sig[5] = {0};
    for (int i = 0; i < 4; i++)
        sig[i] = (char)inb(0x511);
    check("int.fw_cfg_signature", sig[0] == 'Q' && sig[1] == 'E' && sig[2] == 'M' && sig[3] == 'U', "got \"%s\"", sig);
    fw_cfg_select(0x0001);
    u32 id = fw_cfg_read(4);
    check("int.fw_cfg_id_traditional", (id & 1) && !(id & ~3u), "id 0x%x", id);
    fw_cfg_select(0x0005);
    check_eq("int.fw_cfg_nb_cpus", fw_cfg_read(2), 1);

    /* RAM size (key 3, 64-bit) against the CMOS sizes a BIOS reads:
     * 0x30/0x31 KiB above 1 MiB (at most 0xFFFF), 0x34/0x35 64 KiB units above 16 MiB. */
    fw_cfg_select(0x0003);
    u32 lo = fw_cfg_read(4), hi = fw_cfg_read(4);
    u32 kib = hi ? 0xFFFFFFFFu : lo >> 10;
    u32 ext = kib > 1024 ? kib - 1024 : 0;
    u32 above16 = lo > (16u << 20) ? (lo - (16u << 20)) >> 16 : 0;
    u32 cmos_ext = cmos_read(0x30) | (u32)cmos_read(0x31) << 8;
    u32 cmos_16 = cmos_read(0x34) | (u32)cmos_read(0x35) << 8;
    check("int.cmos_memory_sizes_match_fw_cfg",
          hi == 0 && cmos_ext == (ext > 0xFFFF ? 0xFFFF : ext) && cmos_16 == (above16 > 0xFFFF ? 0xFFFF : above16),
          "fw_cfg 0x%x%08x, CMOS 0x%x 0x%x", hi, lo, cmos_ext, cmos_16);
}

/* ---- local APIC ------------------------------------------------------------ */

static void apic_checks(void)
{
    struct fault f;
    u32 lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0x1B));
    check_eq("int.apic_base_msr_bsp_enabled", lo, 0xFEE00900);
    u32 version = APIC_REG(0x30);
    check("int.apic_id_and_version", (APIC_REG(0x20) >> 24) == 0 && version == 0x00050014,
          "id 0x%x version 0x%x", APIC_REG(0x20), version);
    APIC_REG(0xF0) = 0x1FF;     /* SVR: enabled, spurious vector 0xFF */
    APIC_REG(0x80) = 0;         /* TPR */

    /* One-shot timer, divide by 1: wakes HLT, in service until EOI. */
    reset_events();
    APIC_REG(0x3E0) = 0xB;
    APIC_REG(0x320) = 0x40;
    APIC_REG(0x380) = 100000;
    if (version == 0x00050014) /* else HLT would never end */
        run_checked(sti_hlt_cli, &f);
    check("int.apic_timer_oneshot_wakes_hlt", nevents == 1 && events[0].vector == 0x40 && events[0].eip == (u32)after_hlt,
          "%u interrupts, vector 0x%x eip 0x%x", nevents, events[0].vector, events[0].eip);
    check("int.apic_isr_bit_in_handler", nevents == 1 && events[0].apic_isr == 1, "%u interrupts, ISR 0x%x", nevents,
          events[0].apic_isr);
    check_eq("int.apic_eoi_clears_isr", APIC_REG(0x120), 0);
    check_eq("int.apic_timer_oneshot_count_zero", APIC_REG(0x390), 0);
    APIC_REG(0x320) = 0x10040;   /* masked */

    /* Self-IPI held by the TPR (class 5 > class 4), delivered when lowered. */
    reset_events();
    APIC_REG(0x80) = 0x50;
    APIC_REG(0x310) = 0;
    APIC_REG(0x300) = 0x00040041;   /* fixed, edge, destination shorthand self */
    u32 irr = APIC_REG(0x220);
    run_checked(sti_nop_cli, &f);
    check("int.apic_self_ipi_held_by_tpr", irr == 2 && nevents == 0, "IRR 0x%x, %u interrupts", irr, nevents);
    APIC_REG(0x80) = 0;
    run_checked(sti_nop_cli, &f);
    check("int.apic_tpr_lowered_delivers_after_sti_shadow",
          nevents == 1 && events[0].vector == 0x41 && events[0].eip == (u32)after_sti_next,
          "%u interrupts, vector 0x%x eip 0x%x", nevents, events[0].vector, events[0].eip);
}

/* ---- gates, and a #GP while delivering an IRQ --------------------------- */

static void int_0x50(void) { __asm__ volatile("sti; int $0x50; cli"); }
static void int_0x51(void) { __asm__ volatile("sti; int $0x51; cli"); }

static void gate_checks(void)
{
    struct fault f;
    reset_events();
    run_checked(int_0x50, &f);
    run_checked(int_0x51, &f);
    check("int.interrupt_gate_if0_trap_gate_if1",
          nevents == 2 && (events[0].pushed_eflags & IF) && !(events[0].handler_eflags & IF) &&
              (events[1].pushed_eflags & IF) && (events[1].handler_eflags & IF),
          "%u events, eflags pushed/in handler 0x%x/0x%x 0x%x/0x%x", nevents, events[0].pushed_eflags,
          events[0].handler_eflags, events[1].pushed_eflags, events[1].handler_eflags);

    if (!cmdline_has("strict"))
        return;
    /* IRQ0's vector 0x20 beyond the IDT limit: #GP(0x20*8+2+EXT).  The PIC
     * is remapped first: firmware may have left IRQ0 at vector 8. */
    pic_init();
    pit_program(2, 11932);
    outb(PIC1 + 1, 0xFE);
    wait_for(irq0_requested);
    struct dtr small = {0x20 * 8 - 1, (u32)suite_idt}, full = {256 * 8 - 1, (u32)suite_idt};
    __asm__ volatile("lidt %0" : : "m"(small));
    run_checked(sti_nop_cli, &f);
    __asm__ volatile("lidt %0" : : "m"(full));
    outb(PIC1 + 1, 0xFF);
    check_fault("int.gp_irq_beyond_idt_limit_ext", &f, GP, 0x20 * 8 + 2 + 1);
}

void suite_main(void)
{
    set_idt_gate(0x20, KCODE, (u32)irq_stub_0x20, GATE_INT32);
    set_idt_gate(0x28, KCODE, (u32)irq_stub_0x28, GATE_INT32);
    set_idt_gate(0x40, KCODE, (u32)irq_stub_0x40, GATE_INT32);
    set_idt_gate(0x41, KCODE, (u32)irq_stub_0x41, GATE_INT32);
    set_idt_gate(0x50, KCODE, (u32)irq_stub_0x50, GATE_INT32);
    set_idt_gate(0x51, KCODE, (u32)irq_stub_0x51, GATE_TRAP32);
    set_idt_gate(0xFF, KCODE, (u32)irq_stub_0xFF, GATE_INT32);
    fw_cfg_checks();
    gate_checks();
    pic_pit_checks();
    rtc_checks();
    apic_checks();
}
