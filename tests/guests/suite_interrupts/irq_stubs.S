/*
 * suite_interrupts: interrupt entry stubs (vector pushed, C handler called
 * with the frame) and the instruction sequences whose interrupt boundary is
 * checked, each behind a global label.
 */
#define AT(name) .globl name; name:

        .text
        .macro  IRQ_STUB v
        .globl  irq_stub_\v
irq_stub_\v:
        pushl   $\v
        jmp     irq_common
        .endm
        .irp    v, 0x20,0x28,0x40,0x41,0x50,0x51,0xFF
        IRQ_STUB \v
        .endr

/* Frame for irq_handler: EDI..EAX (PUSHAL), vector, EIP, CS, EFLAGS. */
irq_common:
        pushal
        pushl   %esp
        call    irq_handler
        addl    $4, %esp
        popal
        addl    $4, %esp
        iret

/* An interrupt pending at STI is taken after the next instruction. */
        .globl  sti_nop_cli
sti_nop_cli:
        sti
AT(after_sti)
        nop
AT(after_sti_next)
        nop
        cli
        ret

/* STI; HLT: the shadow keeps the interrupt off until HLT has begun. */
        .globl  sti_hlt_cli
sti_hlt_cli:
        sti
        hlt
AT(after_hlt)
        cli
        ret
