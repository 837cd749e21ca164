/*
 * suite_exceptions: the instructions whose pushed EIP is checked, each
 * behind a global label, plus the handlers the shared runtime cannot be:
 * a #DB handler that lets execution go on (counting single steps, setting
 * RF), and a #TS handler reached through a conforming code segment, so it
 * runs at CPL 3 without the stack switch that caused the #TS.
 * Each probe is called by run_checked/run_user and ends in RET.
 */
#define PROBE(name) .globl name; name:
#define AT(name) .globl name; name:

        .text
PROBE(p_div_zero)
        xorl    %edx, %edx
        movl    $1, %eax
        xorl    %ecx, %ecx
AT(at_div_zero)
        divl    %ecx
        ret

PROBE(p_idiv_overflow)
        movl    $0xFFFFFFFF, %edx       /* EDX:EAX = -2^31 */
        movl    $0x80000000, %eax
        movl    $-1, %ecx               /* quotient +2^31 does not fit */
AT(at_idiv_overflow)
        idivl   %ecx
        ret

PROBE(p_ud2)
AT(at_ud2)
        ud2
        ret

PROBE(p_lock_nop)
AT(at_lock_nop)
        .byte   0xF0, 0x90              /* LOCK NOP */
        ret

PROBE(p_lock_add_reg)
AT(at_lock_add_reg)
        .byte   0xF0, 0x01, 0xC0        /* LOCK ADD EAX, EAX: no memory operand */
        ret

PROBE(p_bound_above)
        movl    $5, %eax
AT(at_bound_above)
        boundl  %eax, bounds_1_3
        ret

PROBE(p_bound_inside)
        movl    $3, %eax
        boundl  %eax, bounds_1_3
        ret

PROBE(p_into_of)
        movl    $0x7FFFFFFF, %eax
        addl    $1, %eax                /* OF = 1 */
        into
AT(after_into)
        ret

PROBE(p_into_no_of)
        xorl    %eax, %eax              /* OF = 0 */
        into
        ret

PROBE(p_int3)
AT(at_int3)
        int3
AT(after_int3)
        ret

PROBE(p_int_3)
AT(at_int_3)
        int     $3
AT(after_int_3)
        ret

PROBE(p_hlt)
AT(at_hlt)
        hlt
        ret

/* #TS on the way into ring 0 (TSS.SS0 broken by the caller) */
PROBE(p_int_44)
AT(at_int_44)
        int     $0x44
        ret

PROBE(p_ud2_ring3)
AT(at_ud2_ring3)
        ud2
        ret

/* Single step: POPF sets TF; the first trap follows the instruction after it. */
PROBE(p_tf_after_popf)
        pushl   $0x102
        popfl
AT(at_tf_first)
        nop
AT(at_tf_second)
        nop
        pushl   $0x2
        popfl
        ret

/* A POPF that clears TF still traps: TF was 1 when it began. */
PROBE(p_tf_popf_clears)
        pushl   $0x2
        pushl   $0x102
        popfl
        popfl
AT(after_tf_clearing_popf)
        nop
        ret

/* TF set, then an instruction that faults: the fault, not a #DB. */
PROBE(p_tf_then_fault)
        pushl   $0x102
        popfl
AT(at_tf_fault)
        ud2
        ret

/* MOV SS holds the single-step trap until after the next instruction. */
PROBE(p_tf_mov_ss)
        movl    %ss, %eax
        pushl   $0x102
        popfl
        movl    %eax, %ss
AT(at_tf_after_mov_ss)
        nop
AT(at_tf_mov_ss_trap)
        nop
        pushl   $0x2
        popfl
        ret

/* Counted single steps through a taken jump (db_counting_stub installed). */
PROBE(p_tf_count)
        pushl   $0x102
        popfl
AT(step_1)
        movl    $1, %eax
AT(step_2)
        jmp     1f
        nop
1:
AT(step_3)
        addl    $1, %eax
AT(step_end)
        ret

/* Instruction breakpoint (DR0) and data write breakpoint (DR1) targets. */
PROBE(p_exec_bp)
        movl    $7, %eax
AT(at_exec_bp)
        addl    $1, %eax
        ret

PROBE(p_data_bp)
        movl    $0x55, %eax
        movl    %eax, watched
AT(after_data_bp_write)
        ret

/*
 * #DB handler for the counting and RF checks: records the pushed EIP and
 * DR6, sets RF in the pushed EFLAGS so an instruction breakpoint does not
 * hit again on return, and clears TF once step_end (or 8 events) is reached.
 * Frame after the two pushes: ECX, EAX, EIP, CS, EFLAGS.
 */
        .globl  db_counting_stub
db_counting_stub:
        pushl   %eax
        pushl   %ecx
        movl    db_count, %eax
        movl    8(%esp), %ecx
        movl    %ecx, db_eips(,%eax,4)
        incl    %eax
        movl    %eax, db_count
        orl     $0x10000, 16(%esp)
        cmpl    $step_end, %ecx
        je      1f
        cmpl    $8, %eax
        jb      2f
1:      andl    $~0x100, 16(%esp)
2:      popl    %ecx
        popl    %eax
        iret

/*
 * #TS handler, entered through a conforming code segment at CPL 3 on the
 * user stack: error code, EIP, CS, EFLAGS.  Repairs TSS.SS0 and reports
 * back with INT 0x7F, EAX = the error code.
 */
        .globl  ts_conforming_stub
ts_conforming_stub:
        popl    %eax
        movl    (%esp), %ecx
        movl    %ecx, ts_eip
        movl    4(%esp), %ecx
        movl    %ecx, ts_cs
        movl    $0x10, suite_tss+8
        int     $0x7F

/* Gate 0x44's ring 0 target: reached only if the #TS was not raised. */
        .globl  int44_reached
int44_reached:
        movl    $0xDEAD, %eax
        int     $0x7F

        .data
        .balign 4
        .globl  bounds_1_3, watched, db_count, db_eips, ts_eip, ts_cs
bounds_1_3:
        .long   1, 3
watched:
        .long   0
db_count:
        .long   0
db_eips:
        .fill   8, 4, 0
ts_eip: .long   0
ts_cs:  .long   0
