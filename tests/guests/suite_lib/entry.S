/*
 * suite_lib entry: multiboot v1 header, _start, the exception stubs and the
 * run_checked/run_at machinery described in suite.h.
 *
 * A recorded event goes to the struct fault that run_checked/run_at was
 * given (offsets below); recovery reloads the flat ring 0 segments and the
 * stack pointer saved when the check was armed, restores the callee-saved
 * registers and EFLAGS, and returns the vector from run_checked/run_at.
 */
#define KCODE 0x08
#define KDATA 0x10
#define F_VEC 0
#define F_ERR 4
#define F_EIP 8
#define F_CS 12
#define F_EFL 16
#define F_ESP 20
#define F_SS 24
#define F_RET 28

    .section .mb, "a"
    .balign 4
    .long 0x1BADB002, 0, -0x1BADB002

    .text
    .globl _start
_start:
    cli
    movl $suite_stack_top, %esp
    pushl $0
    popfl
    pushl %ebx
    pushl %eax
    call suite_lib_start
1:  cli
    hlt
    jmp 1b

/* Exception stubs: a dummy error code where the CPU pushes none, then the
 * vector.  Frame at exc_common: vector, error, EIP, CS, EFLAGS[, ESP, SS]. */
.macro EXC_NOERR v
exc\v: pushl $0
    pushl $\v
    jmp exc_common
.endm
.macro EXC_ERR v
exc\v: pushl $\v
    jmp exc_common
.endm
.irp v, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
    EXC_NOERR \v
.endr
.irp v, 8,10,11,12,13,14,17,21,29,30
    EXC_ERR \v
.endr

exc_common:
    /* DS may hold anything the check loaded: the stack (SS-relative) is
     * still what the CPU pushed to, so read the frame through ESP. */
    movw $KDATA, %ax
    movw %ax, %ds
    movw %ax, %es
    cmpl $0, suite_armed
    je exc_unexpected
    movl suite_result, %edx
    popl %eax
    movl %eax, F_VEC(%edx)
    popl %ecx
    movl %ecx, F_ERR(%edx)
    movl $0, F_RET(%edx)
    call record_frame
    jmp suite_recover
exc_unexpected:
    /* suite_unexpected(vector, error, eip, cs) never returns */
    pushl 12(%esp)
    pushl 12(%esp)
    pushl 12(%esp)
    pushl 12(%esp)
    call suite_unexpected

/* INT 0x7F from the run_at trampoline: fn returned normally with EAX. */
    .globl suite_return_stub
suite_return_stub:
    movw $KDATA, %cx
    movw %cx, %ds
    movw %cx, %es
    cmpl $0, suite_armed
    jne 1f
    pushl $0
    pushl $0x7F
    jmp exc_unexpected
1:  movl suite_result, %edx
    movl %eax, F_RET(%edx)
    movl $-1, F_VEC(%edx)
    movl $0, F_ERR(%edx)
    movl $-1, %eax
    call record_frame
    jmp suite_recover

/* Copy EIP, CS, EFLAGS (and ESP, SS from an outer ring) from the frame
 * just above our return address to *EDX.  Keeps EAX. */
record_frame:
    movl 4(%esp), %ecx
    movl %ecx, F_EIP(%edx)
    movl 8(%esp), %ecx
    movl %ecx, F_CS(%edx)
    movl 12(%esp), %ecx
    movl %ecx, F_EFL(%edx)
    movl $0, F_ESP(%edx)
    movl $0, F_SS(%edx)
    testl $3, 8(%esp)
    jz 1f
    movl 16(%esp), %ecx
    movl %ecx, F_ESP(%edx)
    movl 20(%esp), %ecx
    movl %ecx, F_SS(%edx)
1:  ret

/* EAX = value to return from run_checked/run_at. */
suite_recover:
    movl $0, suite_armed
    movw $KDATA, %cx
    movw %cx, %ds
    movw %cx, %es
    movw %cx, %fs
    movw %cx, %gs
    movw %cx, %ss
    movl suite_saved_esp, %esp
    popfl
    popl %edi
    popl %esi
    popl %ebx
    popl %ebp
    ret

/* int run_checked(void (*fn)(void), struct fault *f) */
    .globl run_checked
run_checked:
    pushl %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    pushfl
    movl %esp, suite_saved_esp
    movl 28(%esp), %edx
    movl %edx, suite_result
    movl $1, suite_armed
    call *24(%esp)
    /* fn may have left any selector in DS (even null) */
    movw $KDATA, %cx
    movw %cx, %ds
    movl $0, suite_armed
    movl suite_result, %edx
    movl %eax, F_RET(%edx)
    pushfl
    popl F_EFL(%edx)
    movl $-1, F_VEC(%edx)
    xorl %eax, %eax
    movl %eax, F_ERR(%edx)
    movl %eax, F_EIP(%edx)
    movl %eax, F_CS(%edx)
    movl %eax, F_ESP(%edx)
    movl %eax, F_SS(%edx)
    movl $-1, %eax
    jmp suite_recover

/* int run_at(void (*fn)(void), u32 cs, u32 ss, u32 eflags, struct fault *f) */
    .globl run_at
run_at:
    pushl %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    pushfl
    movl %esp, suite_saved_esp
    movl 40(%esp), %edx
    movl %edx, suite_result
    movl $1, suite_armed
    movl 24(%esp), %eax         /* fn */
    movl 28(%esp), %ebx         /* cs */
    movl 32(%esp), %ecx         /* ss */
    movl 36(%esp), %esi         /* eflags */
    pushl %ecx
    pushl $suite_user_stack_top
    pushl %esi
    pushl %ebx
    pushl $run_at_trampoline
    movw %cx, %ds
    movw %cx, %es
    movw %cx, %fs
    movw %cx, %gs
    iret
run_at_trampoline:
    call *%eax
    int $0x7F
    ud2

/* int run_user(void (*fn)(void), u32 eflags, struct fault *f) */
    .globl run_user
run_user:
    pushl 12(%esp)
    pushl 12(%esp)
    pushl $0x23
    pushl $0x1B
    pushl 20(%esp)
    call run_at
    addl $20, %esp
    ret

    .section .rodata
    .balign 4
    .globl suite_exc_stubs
suite_exc_stubs:
.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .long exc\v
.endr

    .bss
    .balign 16
    .globl suite_armed, suite_result, suite_saved_esp
suite_armed: .long 0
suite_result: .long 0
suite_saved_esp: .long 0
    .balign 16
    .skip 16384
suite_stack_top:
    .globl suite_trap_stack_top, suite_user_stack_top
    .skip 8192
suite_trap_stack_top:
    .skip 4096
suite_user_stack_top:
