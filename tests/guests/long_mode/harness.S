/*
 * long_mode harness: 64-bit exception stubs and the ways to run a probe
 * that may fault (lm.h).  run_checked/run_user/run_sysret save the
 * callee-saved registers and RFLAGS, arm the harness and run the probe;
 * an exception 0-31, INT 0x7F or the last SYSCALL ends the run: the frame
 * goes to the struct fault, RSP returns to where it was armed, SS/DS/ES
 * become KDATA again (a return from ring 3 leaves SS null, IRETQ to ring 3
 * nulls DS/ES) and the function returns the vector (or NO_FAULT).
 */
#define KCODE 0x08
#define KDATA 0x10
#define UCODE32 0x1B
#define UDATA 0x23
#define F_VEC 0
#define F_ERR 8
#define F_RIP 16
#define F_CS 24
#define F_RFL 32
#define F_RSP 40
#define F_SS 48
#define F_RET 56

        .text
        .code64

.macro SAVE_AND_ARM result
        pushq   %rbx
        pushq   %rbp
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        pushfq
        movq    \result, armed_result(%rip)
        movq    %rsp, armed_rsp(%rip)
        movb    $1, armed(%rip)
.endm

/* int run_checked(void (*fn)(void), struct fault *f): fn at ring 0 */
        .globl  run_checked
run_checked:
        SAVE_AND_ARM %rsi
        call    *%rdi
        movb    $0, armed(%rip)
        movq    armed_result(%rip), %rdx
        movq    %rax, F_RET(%rdx)
        pushfq
        popq    %rcx
        movq    %rcx, F_RFL(%rdx)
        movq    $-1, F_VEC(%rdx)
        movl    $-1, %eax
        jmp     restore

/* int run_user(void (*fn)(void), u64 cs, u64 rflags, struct fault *f):
 * IRETQ to cs (UCODE64 or UCODE32) at ring 3 with SS = UDATA, RSP = the
 * user stack, the given RFLAGS; a trampoline calls fn, then INT 0x7F. */
        .globl  run_user
run_user:
        SAVE_AND_ARM %rcx
        pushq   $UDATA
        leaq    user_stack_top(%rip), %rax
        pushq   %rax
        pushq   %rdx
        pushq   %rsi
        leaq    user_tramp64(%rip), %rax
        cmpq    $UCODE32, %rsi
        jne     1f
        leaq    user_tramp32(%rip), %rax
1:      pushq   %rax
        iretq
user_tramp64:
        call    *%rdi
        int     $0x7F
        .code32
user_tramp32:
        call    *%edi
        int     $0x7F
        .code64

/* int run_sysret(void (*fn)(void), u64 r11, int wide, struct fault *f):
 * SYSRET (REX.W when wide) to fn with R11 = r11 and RSP = the user stack. */
        .globl  run_sysret
run_sysret:
        SAVE_AND_ARM %rcx
        movq    %rsi, %r11
        movq    %rdi, %rcx
        leaq    user_stack_top(%rip), %rsp
        testl   %edx, %edx
        jz      1f
        sysretq
1:      sysretl

/* Every way back: EAX = the value run_* returns. */
restore:
        movb    $0, armed(%rip)
        movl    $KDATA, %ecx
        movl    %ecx, %ss
        movl    %ecx, %ds
        movl    %ecx, %es
        movq    armed_rsp(%rip), %rsp
        popfq
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbp
        popq    %rbx
        ret

/* Exception stubs 0-31: a 0 where the CPU pushes no error code, then the
 * vector.  Frame at exc_common: vector, error, RIP, CS, RFLAGS, RSP, SS. */
.macro EXC v, has_err
        .balign 16
exc\v:
        .if \has_err == 0
        pushq   $0
        .endif
        pushq   $\v
        jmp     exc_common
.endm
        .irp    v, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
        EXC     \v, 0
        .endr
        .irp    v, 8,10,11,12,13,14,17,21,29,30
        EXC     \v, 1
        .endr

exc_common:
        cmpb    $0, armed(%rip)
        je      exc_unexpected
        movq    armed_result(%rip), %rdx
        xorl    %ecx, %ecx
1:      movq    (%rsp,%rcx,8), %rax     /* vector .. SS: the first 7 fields */
        movq    %rax, (%rdx,%rcx,8)
        incl    %ecx
        cmpl    $7, %ecx
        jne     1b
        movq    $0, F_RET(%rdx)
        movl    (%rsp), %eax
        jmp     restore
exc_unexpected:
        movq    (%rsp), %rdi
        movq    8(%rsp), %rsi
        movq    16(%rsp), %rdx
        movq    24(%rsp), %rcx
        andq    $-16, %rsp
        call    unexpected

/* INT 0x7F (DPL 3): the end of a ring 3 run, NO_FAULT with RAX in ret. */
        .globl  return_gate
return_gate:
        movq    armed_result(%rip), %rdx
        movq    %rax, F_RET(%rdx)
        movq    $-1, F_VEC(%rdx)
        movq    $0, F_ERR(%rdx)
        xorl    %ecx, %ecx
1:      movq    (%rsp,%rcx,8), %rax     /* RIP .. SS */
        movq    %rax, F_RIP(%rdx,%rcx,8)
        incl    %ecx
        cmpl    $5, %ecx
        jne     1b
        movl    $-1, %eax
        jmp     restore

/* VEC_IST and VEC_PLAIN: note where the CPU put the frame, then IRETQ. */
        .globl  probe_gate
probe_gate:
        movq    %rsp, probe_rec(%rip)
        pushq   %rax
        pushq   %rcx
        xorl    %ecx, %ecx
1:      movq    16(%rsp,%rcx,8), %rax
        movq    %rax, probe_rec+8(,%rcx,8)
        incl    %ecx
        cmpl    $5, %ecx
        jne     1b
        popq    %rcx
        popq    %rax
        iretq

/* IA32_LSTAR.  RSP is still the user's: switch first.  SYSCALL 1 records
 * into sys_rec[0] and returns by SYSRETQ; SYSCALL 2 records into
 * sys_rec[1] and ends the run. */
        .globl  syscall_entry
syscall_entry:
        movq    %rsp, sys_user_rsp(%rip)
        leaq    sys_stack_top(%rip), %rsp
        pushfq                          /* before anything changes a flag */
        leaq    sys_rec(%rip), %rdx
        cmpq    $1, %rax
        je      1f
        addq    $72, %rdx               /* sizeof(struct sys_rec) */
1:      movq    %rcx, 0(%rdx)
        movq    %r11, 8(%rdx)
        popq    16(%rdx)
        movq    %cs, %r8
        movq    %r8, 24(%rdx)
        movq    %ss, %r8
        movq    %r8, 32(%rdx)
        movq    %r12, 40(%rdx)
        movq    %r13, 48(%rdx)
        movq    %r14, 56(%rdx)
        movq    %r15, 64(%rdx)
        cmpq    $1, %rax
        jne     2f
        movq    sys_user_rsp(%rip), %rsp
        sysretq
2:      movq    armed_result(%rip), %rdx
        movq    $-1, F_VEC(%rdx)
        movq    %rax, F_RET(%rdx)
        movl    $-1, %eax
        jmp     restore

        .globl  lm_outb, lm_outl, lm_inb
lm_outb:
        movl    %esi, %eax
        movl    %edi, %edx
        outb    %al, %dx
        ret
lm_outl:
        movl    %esi, %eax
        movl    %edi, %edx
        outl    %eax, %dx
        ret
lm_inb:
        movl    %edi, %edx
        inb     %dx, %al
        movzbl  %al, %eax
        ret

        .section .rodata
        .balign 8
        .globl  exc_stubs
exc_stubs:
        .irp    v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .quad   exc\v
        .endr

        .data
        .globl  probe_rec, sys_rec
        .balign 8
armed:          .quad 0
armed_rsp:      .quad 0
armed_result:   .quad 0
sys_user_rsp:   .quad 0
probe_rec:      .fill 6, 8, 0
sys_rec:        .fill 18, 8, 0
