/*
 * entry.S - the micro kernel's ways in and out of ring 0 (Intel SDM vol. 3,
 * chapter 6 for interrupt frames, 5.8.7 for SYSENTER/SYSEXIT).
 *
 *   isr_stub_table   one stub per exception vector: #PF goes to
 *                    trap_page_fault and returns, anything else is a bug
 *                    in the workload and ends the run (trap_unexpected)
 *   isr_syscall      INT 0x80: EAX 0 is the trivial call (count, IRET),
 *                    EAX 1 the last one (back to the kernel's caller)
 *   sysenter_entry   the same two calls through SYSENTER, back by SYSEXIT
 *   enter_user       IRET to a ring-3 loop; its last call returns here
 *   user_*_loop      the ring-3 loops: user_iterations trivial calls
 */
#ifdef MICRO_PV
#define SEL_KERNEL_DATA 0x11    /* the pv monitor's ring-1 data segment */
#else
#define SEL_KERNEL_DATA 0x10
#endif
#define SEL_USER_CODE   0x1B
#define SEL_USER_DATA   0x23
#define VEC_PF          14

.macro STUB vector, cpu_pushes_error
        .text
        .p2align 4
1:
        .if \cpu_pushes_error == 0
        pushl   $0
        .endif
        pushl   $\vector
        jmp     isr_common
        .pushsection .rodata
        .long   1b
        .popsection
.endm

        .section .rodata
        .p2align 2
        .globl  isr_stub_table
isr_stub_table:
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

        .text
/* Stack here: vector, error, EIP, CS, EFLAGS.  Only kernel code faults on
 * purpose (the page-fault workload), so DS is already the kernel's. */
isr_common:
        pushal
        cmpl    $VEC_PF, 32(%esp)
        jne     1f
        pushl   36(%esp)                /* trap_page_fault(error) */
        call    trap_page_fault
        addl    $4, %esp
        popal
        addl    $8, %esp                /* vector and error code */
        iret
1:      pushl   40(%esp)                /* trap_unexpected(vector, error, eip) */
        pushl   40(%esp)
        pushl   40(%esp)
        call    trap_unexpected         /* does not return */

/* INT 0x80 from ring 3 (an interrupt gate: IF stays 0). */
        .p2align 4
        .globl  isr_syscall
isr_syscall:
        testl   %eax, %eax
        jnz     back_to_kernel
        incl    syscall_count
        iret

/* SYSENTER: CS = IA32_SYSENTER_CS, ESP = IA32_SYSENTER_ESP.  By this
 * kernel's convention ECX holds the user ESP and EDX the user EIP, which
 * is exactly what SYSEXIT takes back. */
        .p2align 4
        .globl  sysenter_entry
sysenter_entry:
        testl   %eax, %eax
        jnz     back_to_kernel
        incl    syscall_count
        sysexit

/* void enter_user(void (*user_eip)(void), uint32_t user_esp) */
        .globl  enter_user
enter_user:
        pushl   %ebp
        pushl   %ebx
        pushl   %esi
        pushl   %edi
        movl    %esp, saved_kernel_esp
        movl    20(%esp), %eax
        movl    24(%esp), %edx
        movw    $SEL_USER_DATA, %cx
        movw    %cx, %ds
        movw    %cx, %es
        movw    %cx, %fs
        movw    %cx, %gs
        pushl   $SEL_USER_DATA          /* SS */
        pushl   %edx                    /* ESP */
        pushl   $0x202                  /* EFLAGS: IF 1 as user code has it (all IRQs masked), IOPL 0 */
        pushl   $SEL_USER_CODE
        pushl   %eax
        iret

/* The last system call: drop the ring-0 frame, return from enter_user.
 * SS is already the kernel's (TSS.SS0 or SYSENTER_CS + 8). */
back_to_kernel:
        movw    $SEL_KERNEL_DATA, %cx
        movw    %cx, %ds
        movw    %cx, %es
        movw    %cx, %fs
        movw    %cx, %gs
        movl    saved_kernel_esp, %esp
        popl    %edi
        popl    %esi
        popl    %ebx
        popl    %ebp
        ret

/* Ring 3: user_iterations INT 0x80 calls with EAX 0, then one with EAX 1. */
        .globl  user_int80_loop
user_int80_loop:
        movl    user_iterations, %esi
1:      testl   %esi, %esi
        jz      2f
        xorl    %eax, %eax
        int     $0x80
        decl    %esi
        jmp     1b
2:      movl    $1, %eax
        int     $0x80

/* Ring 3: the same through SYSENTER. */
        .globl  user_sysenter_loop
user_sysenter_loop:
        movl    user_iterations, %esi
1:      testl   %esi, %esi
        jz      2f
        xorl    %eax, %eax
        movl    %esp, %ecx
        movl    $3f, %edx
        sysenter
3:      decl    %esi
        jmp     1b
2:      movl    $1, %eax
        sysenter

        .bss
        .p2align 2
        .globl  syscall_count, user_iterations
syscall_count:          .long 0
user_iterations:        .long 0
saved_kernel_esp:       .long 0

        .section .note.GNU-stack, "", @progbits
