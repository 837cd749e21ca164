/*
 * suite_tasks: task bodies and the main-task code around each switch.
 * A task body records what it sees into task_seen (see tasks.c) and gives
 * control back: by JMP to the main TSS (0x28) or by IRET with NT=1.
 */
    .text
/* Task B, entered by JMP (directly or through the task gate at 0x40). */
    .globl task_b
task_b:
    incl seen_runs
    xorl %eax, %eax
    str %ax
    movl %eax, seen_tr
    pushfl
    popl seen_eflags
    movl %cr0, %eax
    movl %eax, seen_cr0
    clts
    movl suite_gdt+0x28+4, %eax
    movl %eax, seen_old_desc
    movl suite_gdt+0x30+4, %eax
    movl %eax, seen_new_desc
    ljmp $0x28, $0
    jmp task_b

/* Tasks C and the INT task: entered by CALL or INT, leave by IRET (NT=1). */
    .globl task_nested
task_nested:
    incl seen_runs
    xorl %eax, %eax
    str %ax
    movl %eax, seen_tr
    pushfl
    popl seen_eflags
    clts
    movl suite_gdt+0x28+4, %eax
    movl %eax, seen_old_desc
    iret
    jmp task_nested

/* #DF task: the main task overflowed its stack into a not-present page. */
    .globl task_df
task_df:
    incl seen_runs
    popl seen_error
    movl %cr2, %eax
    movl %eax, seen_cr2
    clts
    movl $k_overflow_back, suite_tss+32     /* main task's EIP */
    movl overflow_saved_esp, %eax
    movl %eax, suite_tss+56                 /* main task's ESP */
    iret
    jmp task_df

    .globl k_jmp_tss, k_jmp_tss_ret, k_jmp_task_gate, k_call_tss, k_call_self, k_jmp_self
    .globl k_int_task_gate, u_int_task_gate, k_jmp_bad_ldt, k_jmp_bad_cs, k_overflow
k_jmp_tss:
    ljmp $0x30, $0
k_jmp_tss_ret:
    ret
k_jmp_task_gate:
    ljmp $0x40, $0
    ret
k_call_tss:
    lcall $0x38, $0
    pushfl
    popl %eax
    ret
k_call_self:
    lcall $0x28, $0
    ret
k_jmp_self:
    ljmp $0x28, $0
    ret
k_int_task_gate:
    int $0x50
    ret
u_int_task_gate:
    int $0x50
    ret
k_jmp_bad_ldt:
    ljmp $0x60, $0
    ret
k_jmp_bad_cs:
    ljmp $0x70, $0
    ret
k_overflow:
    movl %esp, overflow_saved_esp
    movl $0x601000, %esp
    pushl $0
k_overflow_back:
    ret

    .bss
    .balign 4
    .globl seen_runs, seen_tr, seen_eflags, seen_cr0, seen_old_desc, seen_new_desc
    .globl seen_error, seen_cr2
seen_runs: .long 0
seen_tr: .long 0
seen_eflags: .long 0
seen_cr0: .long 0
seen_old_desc: .long 0
seen_new_desc: .long 0
seen_error: .long 0
seen_cr2: .long 0
overflow_saved_esp: .long 0
