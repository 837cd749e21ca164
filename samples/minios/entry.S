/*
 * entry.S - every way into and out of the minios kernel.
 *
 *   isr_*           one stub per IDT vector: push a dummy error code where
 *                   the CPU pushes none, push the vector, join trap_common
 *   trap_common     save the rest of struct trap_frame (kernel.h), load the
 *                   kernel data segments, call trap_dispatch(frame)
 *   trap_return     the way back: restore and IRET (also how a new process
 *                   first reaches ring 3)
 *   sysenter_entry  SYSENTER lands here; builds the same frame and returns
 *                   with SYSEXIT
 *   switch_context  swaps kernel stacks between two processes
 *   load_segments   far jump to reload CS after LGDT, then DS/ES/FS/GS/SS
 *
 * Frame layout, from the top of the kernel stack down (SDM vol. 3, 6.12.1):
 * [SS ESP]  pushed by the CPU only when it came from ring 3
 * EFLAGS CS EIP  pushed by the CPU
 * error code     pushed by the CPU for some exceptions, else by the stub
 * vector         pushed by the stub
 * EAX..EDI       PUSHAD
 * DS ES FS GS    trap_common
 */

#ifdef MINIOS_PV
#define SEL_KERNEL_CODE 0x09    /* the pv monitor's ring-1 segments (kernel.h) */
#define SEL_KERNEL_DATA 0x11
#else
#define SEL_KERNEL_CODE 0x08
#define SEL_KERNEL_DATA 0x10
#endif
#define SEL_USER_CODE   0x1B
#define SEL_USER_DATA   0x23
#define VEC_SYSCALL     0x80
#define VEC_SYSENTER    0x100
#define EFLAGS_IF       0x200

/* The rest of struct trap_frame, then the kernel's data segments: both
 * ways in (trap_common, sysenter_entry) do the same. */
.macro SAVE_FRAME_LOAD_KERNEL_SEGMENTS
        pushal
        pushl   %ds
        pushl   %es
        pushl   %fs
        pushl   %gs
        movw    $SEL_KERNEL_DATA, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %fs
        movw    %ax, %gs
.endm

/* Undoes the segment part of SAVE_FRAME_LOAD_KERNEL_SEGMENTS. */
.macro RESTORE_SEGMENTS
        popl    %gs
        popl    %fs
        popl    %es
        popl    %ds
.endm

/* Appends the stub's address to isr_stub_table, in vector order. */
.macro STUB vector, cpu_pushes_error
        .text
        .p2align 4
1:
        .if \cpu_pushes_error == 0
        pushl   $0
        .endif
        pushl   $\vector
        jmp     trap_common
        .pushsection .rodata
        .long   1b
        .popsection
.endm

        .section .rodata
        .p2align 2
        .globl  isr_stub_table
isr_stub_table:                 /* 32 exceptions, then IRQ 0-15 */

/* The CPU pushes an error code for #DF(8), #TS(10), #NP(11), #SS(12),
 * #GP(13), #PF(14) and #AC(17) (SDM vol. 3, table 6-1). */
        STUB 0,0;   STUB 1,0;   STUB 2,0;   STUB 3,0
        STUB 4,0;   STUB 5,0;   STUB 6,0;   STUB 7,0
        STUB 8,1;   STUB 9,0;   STUB 10,1;  STUB 11,1
        STUB 12,1;  STUB 13,1;  STUB 14,1;  STUB 15,0
        STUB 16,0;  STUB 17,1;  STUB 18,0;  STUB 19,0
        STUB 20,0;  STUB 21,0;  STUB 22,0;  STUB 23,0
        STUB 24,0;  STUB 25,0;  STUB 26,0;  STUB 27,0
        STUB 28,0;  STUB 29,0;  STUB 30,0;  STUB 31,0
        STUB 0x20,0; STUB 0x21,0; STUB 0x22,0; STUB 0x23,0
        STUB 0x24,0; STUB 0x25,0; STUB 0x26,0; STUB 0x27,0
        STUB 0x28,0; STUB 0x29,0; STUB 0x2A,0; STUB 0x2B,0
        STUB 0x2C,0; STUB 0x2D,0; STUB 0x2E,0; STUB 0x2F,0

        .text
        .globl  isr_syscall
isr_syscall:
        pushl   $0
        pushl   $VEC_SYSCALL
        jmp     trap_common

        .p2align 4
trap_common:
        /* From ring 3 the segment registers hold user selectors: the kernel uses its own. */
        SAVE_FRAME_LOAD_KERNEL_SEGMENTS
        pushl   %esp                    /* trap_dispatch(struct trap_frame *) */
        call    trap_dispatch
        addl    $4, %esp

        .globl  trap_return
trap_return:
#ifdef MINIOS_PV
        /* IRET at ring 1 leaves IF alone: the virtual IF of the frame we
         * return to is put back here (64 = struct trap_frame's eflags). */
        testl   $EFLAGS_IF, 64(%esp)
        jz      1f
        call    pv_events_on_for_iret
1:
#endif
        RESTORE_SEGMENTS
        popal
        addl    $8, %esp                /* vector and error code */
        iret

#ifndef MINIOS_PV /* no SYSENTER under pv: the monitor offers no fast system-call callback */
/*
 * SYSENTER: CPL 0, CS = IA32_SYSENTER_CS, SS = CS + 8, ESP = IA32_SYSENTER_ESP
 * (the top of this process's kernel stack), EIP = here, IF = 0.  Nothing
 * of the user state is saved by the CPU: by our convention (syscall.h)
 * ECX holds the user ESP and EDX the user return EIP.
 */
        .p2align 4
        .globl  sysenter_entry
sysenter_entry:
        pushl   $SEL_USER_DATA          /* what an interrupt from ring 3 would push */
        pushl   %ecx
        pushfl
        orl     $EFLAGS_IF, (%esp)      /* user code always runs with IF = 1 */
        pushl   $2                      /* kernel flags from a clean state: a */
        popfl                           /* user-set NT or AC must not leak in */
        pushl   $SEL_USER_CODE
        pushl   %edx
        pushl   $0
        pushl   $VEC_SYSENTER
        SAVE_FRAME_LOAD_KERNEL_SEGMENTS
        pushl   %esp
        sti                             /* same as through the INT 0x80 trap gate */
        call    trap_dispatch
        addl    $4, %esp
        cli
        RESTORE_SEGMENTS
        popal                           /* EAX = the result */
        addl    $8, %esp
        movl    0(%esp), %edx           /* SYSEXIT: EIP = EDX, ESP = ECX, */
        movl    12(%esp), %ecx          /* CS = SYSENTER_CS + 16, SS = + 24 */
        andl    $~EFLAGS_IF, 8(%esp)    /* restore the user flags but IF, */
        addl    $8, %esp
        popfl
        sti                             /* which STI sets only after the next */
        sysexit                         /* instruction: no interrupt in between */
#endif

/*
 * void switch_context(uint32_t *save_esp, uint32_t new_esp)
 * Saves the callee-saved registers on this kernel stack and its ESP in
 * *save_esp, then resumes whatever new_esp was saved by (or, for a new
 * process, the stack proc_create built: four zeros and trap_return).
 */
        .globl  switch_context
switch_context:
        movl    4(%esp), %eax
        movl    8(%esp), %edx
        pushl   %ebp
        pushl   %ebx
        pushl   %esi
        pushl   %edi
        movl    %esp, (%eax)
        movl    %edx, %esp
        popl    %edi
        popl    %esi
        popl    %ebx
        popl    %ebp
        ret

/* A far jump is the only way to load CS with a new selector from our GDT. */
        .globl  load_segments
load_segments:
        ljmp    $SEL_KERNEL_CODE, $1f
1:      movw    $SEL_KERNEL_DATA, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %fs
        movw    %ax, %gs
        movw    %ax, %ss
        ret

        .section .note.GNU-stack, "", @progbits
