/*
 * minios64 kernel entry points: the IDT stubs and trap_common/trap_return
 * (IRETQ), syscall_entry (SYSCALL in, SYSRETQ out), switch_context.  Both
 * entries build a struct trap_frame (kernel.h) on the process's kernel
 * stack; the CPU has already switched to it for an interrupt from ring 3
 * (TSS.RSP0), syscall_entry switches itself (SYSCALL leaves RSP alone).
 */
#define UCODE 0x2B
#define UDATA 0x23
#define VEC_SYSCALL 0x100               /* trap_frame.vector of a system call */

        .text
        .code64

.macro PUSH_GPRS
        pushq   %rax
        pushq   %rbx
        pushq   %rcx
        pushq   %rdx
        pushq   %rsi
        pushq   %rdi
        pushq   %rbp
        pushq   %r8
        pushq   %r9
        pushq   %r10
        pushq   %r11
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
.endm
.macro POP_GPRS
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %r11
        popq    %r10
        popq    %r9
        popq    %r8
        popq    %rbp
        popq    %rdi
        popq    %rsi
        popq    %rdx
        popq    %rcx
        popq    %rbx
        popq    %rax
.endm

/* Exceptions 0-31 and IRQs 0x20-0x2F: a 0 where the CPU pushes no error
 * code, then the vector. */
.macro STUB v, has_err
        .balign 16
stub\v:
        .if \has_err == 0
        pushq   $0
        .endif
        pushq   $\v
        jmp     trap_common
.endm
        .irp    v, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
        STUB    \v, 0
        .endr
        .irp    v, 8,10,11,12,13,14,17,21,29,30
        STUB    \v, 1
        .endr
        .irp    v, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
        STUB    \v, 0
        .endr

trap_common:
        PUSH_GPRS
        movq    %rsp, %rdi              /* 16-byte aligned: 22 quadwords below an aligned frame */
        call    trap_dispatch
        .globl  trap_return
trap_return:
        POP_GPRS
        addq    $16, %rsp               /* vector, error code */
        iretq

/* IA32_LSTAR.  SFMASK has cleared IF, so nothing interrupts the stack
 * switch; GS is swapped only to reach percpu and swapped back at once. */
        .globl  syscall_entry
syscall_entry:
        swapgs
        movq    %rsp, %gs:8             /* percpu.user_rsp */
        movq    %gs:0, %rsp             /* percpu.kernel_rsp */
        swapgs
        pushq   $UDATA
        pushq   percpu+8(%rip)
        pushq   %r11                    /* user RFLAGS */
        pushq   $UCODE
        pushq   %rcx                    /* user RIP */
        pushq   $0
        pushq   $VEC_SYSCALL
        PUSH_GPRS
        movq    %rsp, %rdi
        call    syscall_dispatch        /* stores the result in frame->rax */
        POP_GPRS
        addq    $16, %rsp
        popq    %rcx                    /* RIP */
        addq    $8, %rsp
        popq    %r11                    /* RFLAGS */
        popq    %rsp                    /* the user's RSP, last */
        sysretq

/* switch_context(uint64_t *save_ksp, uint64_t load_ksp): the callee-saved
 * registers stay on the old stack, the new stack's are popped. */
        .globl  switch_context
switch_context:
        pushq   %rbx
        pushq   %rbp
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbp
        popq    %rbx
        ret

        .section .rodata
        .balign 8
        .globl  idt_stubs
idt_stubs:
        .irp    v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .quad   stub\v
        .endr
        .irp    v, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
        .quad   stub\v
        .endr
