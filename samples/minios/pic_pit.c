/*
 * pic_pit.c - the two PC timer/interrupt chips minios drives:
 *   the dual 8259A programmable interrupt controller (Intel 8259A data
 *   sheet: ICW1-ICW4 initialisation, OCW1 masks, OCW2 EOI, OCW3 ISR read),
 *   the 8254 programmable interval timer, channel 0 wired to IRQ 0
 *   (Intel 8254 data sheet: control word, mode 2 rate generator).
 *
 * The BIOS (or nobody, under -kernel) leaves the master PIC on vectors
 * 0x08-0x0F, which collide with CPU exceptions; we move both chips to
 * 0x20-0x2F right after the exceptions.
 */
#include "kernel.h"

#define PIC_MASTER_CMD  0x20
#define PIC_MASTER_DATA 0x21
#define PIC_SLAVE_CMD   0xA0
#define PIC_SLAVE_DATA  0xA1

#define ICW1_INIT      0x10 /* this is ICW1: starts the initialisation sequence */
#define ICW1_NEED_ICW4 0x01 /* edge-triggered, cascaded: the other bits stay 0 */
#define ICW3_MASTER_SLAVE_ON_IRQ2 0x04 /* bit mask: a slave hangs on input 2 */
#define ICW3_SLAVE_ID_2 0x02           /* number: this slave is on master input 2 */
#define ICW4_8086      0x01 /* 8086/88 mode, normal (not automatic) EOI */
#define OCW2_EOI       0x20 /* non-specific end of interrupt */
#define OCW3_READ_ISR  0x0B /* the next read of the command port returns ISR */

#define PIT_CHANNEL0 0x40
#define PIT_CONTROL  0x43
/* Control word: channel 0, access low byte then high byte, mode 2, binary. */
#define PIT_CH0_LOHI_MODE2 0x34

#ifndef MINIOS_PV
static void pic_init_one(uint16_t cmd, uint16_t data, uint8_t vector_base, uint8_t icw3)
{
    outb(cmd, ICW1_INIT | ICW1_NEED_ICW4);
    outb(data, vector_base); /* ICW2: vector of input 0; inputs 1-7 follow */
    outb(data, icw3);        /* ICW3: cascade wiring */
    outb(data, ICW4_8086);   /* ICW4 */
    outb(data, 0xFF);        /* OCW1: everything masked until asked for */
}

void pic_init(void)
{
    /* Real hardware of the 1980s wanted a short delay between these writes
     * (an OUT to port 0x80); neither QEMU nor vtlab needs one. */
    pic_init_one(PIC_MASTER_CMD, PIC_MASTER_DATA, VEC_IRQ_BASE, ICW3_MASTER_SLAVE_ON_IRQ2);
    pic_init_one(PIC_SLAVE_CMD, PIC_SLAVE_DATA, VEC_IRQ_BASE + 8, ICW3_SLAVE_ID_2);
}

/* OCW1: reading the data port returns the interrupt mask register. */
void pic_unmask(unsigned irq)
{
    if (irq >= 8) {
        outb(PIC_SLAVE_DATA, inb(PIC_SLAVE_DATA) & ~(1u << (irq - 8)));
        irq = 2; /* the slave's requests reach the CPU through master input 2 */
    }
    outb(PIC_MASTER_DATA, inb(PIC_MASTER_DATA) & ~(1u << irq));
}

void pic_mask_all(void)
{
    outb(PIC_MASTER_DATA, 0xFF);
    outb(PIC_SLAVE_DATA, 0xFF);
}

uint8_t pic_read_mask(int slave)
{
    return inb(slave ? PIC_SLAVE_DATA : PIC_MASTER_DATA);
}

void pic_eoi(unsigned irq)
{
    if (irq >= 8)
        outb(PIC_SLAVE_CMD, OCW2_EOI);
    outb(PIC_MASTER_CMD, OCW2_EOI);
}

/*
 * When a request goes away between INTR and the CPU's acknowledge, the
 * 8259A answers with input 7's vector without setting its ISR bit.  Such a
 * spurious IRQ 7 (or 15) must not get an EOI: that would end some other,
 * real interrupt in service.  A spurious 15 still went through the
 * master's input 2, which does need its EOI.
 */
int pic_irq_is_real(unsigned irq)
{
    if (irq != 7 && irq != 15)
        return 1;
    uint16_t cmd = irq == 7 ? PIC_MASTER_CMD : PIC_SLAVE_CMD;
    outb(cmd, OCW3_READ_ISR);
    if (inb(cmd) & 0x80)
        return 1;
    if (irq == 15)
        outb(PIC_MASTER_CMD, OCW2_EOI);
    return 0;
}

/* Mode 2 (rate generator): OUT goes low for one input clock every
 * PIT_DIVISOR clocks of 1.193182 MHz, and each such edge is one IRQ 0. */
void pit_init(void)
{
    outb(PIT_CONTROL, PIT_CH0_LOHI_MODE2);
    outb(PIT_CHANNEL0, PIT_DIVISOR & 0xFF);
    outb(PIT_CHANNEL0, PIT_DIVISOR >> 8);
}

#else /* MINIOS_PV: no 8259A or 8254 to program; the monitor's periodic timer instead */

/* What PIT_DIVISOR gives the 8254: 150 / 1.193182 MHz, in ns. */
#define PV_TIMER_PERIOD_NS 125714u

void pic_init(void)
{
}

void pic_unmask(unsigned irq)
{
    (void)irq;
}

void pic_mask_all(void)
{
    pv_check(hypercall3(HYPERVISOR_set_timer, 0, 0, 0), "set_timer");
}

uint8_t pic_read_mask(int slave)
{
    (void)slave;
    return 0xFF;
}

void pic_eoi(unsigned irq)
{
    (void)irq; /* a timer event needs no acknowledgement */
}

int pic_irq_is_real(unsigned irq)
{
    (void)irq;
    return 1;
}

void pit_init(void)
{
    pv_check(hypercall3(HYPERVISOR_set_timer, PV_TIMER_PERIOD_NS, VEC_TIMER, 0), "set_timer");
}
#endif /* MINIOS_PV */
