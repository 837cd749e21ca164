/*
 * sites.S - every sensitive-but-unprivileged instruction the holes guest
 * executes, each behind a global hole_*_site label (helper_*_site for the
 * handler returns that are not checks), plus the exception and INT n entry
 * stubs.  The instruction list is Robin & Irvine's (USENIX Security 2000);
 * the rules quoted are the Intel SDM's, vol. 2 (instruction pages) and
 * vol. 3 ch. 5 (protection).
 *
 * A check that may fault when the kernel runs above ring 0 brackets itself
 * with CHECK_ENTER / CHECK_LEAVE: the fault handler (holes.c) records the
 * fault and resumes at the label given to CHECK_ENTER, where the stack is
 * put back from check_esp, so a #GP never takes the guest down.
 */
#include "holes.h"

/* Saves the callee-saved registers and ESP and arms the fault handler to
 * resume at `resume`. */
        .macro  CHECK_ENTER resume
        pushl   %ebp
        pushl   %ebx
        pushl   %esi
        pushl   %edi
        movl    %esp, check_esp
        movl    $0, exc_hit
        movl    $\resume, exc_resume
        movl    $1, exc_armed
        .endm

/* The other half: whatever the check left on the stack is dropped. */
        .macro  CHECK_LEAVE
        movl    check_esp, %esp
        movl    $0, exc_armed
        popl    %edi
        popl    %esi
        popl    %ebx
        popl    %ebp
        ret
        .endm

        .text

/* ---- PUSHF and MOV from CS: also the read-back helpers of other checks -- */

/* uint32_t read_eflags(void).  PUSHF stores IF and IOPL as they really are:
 * at ring 1 the monitor's IF and IOPL, not the guest's. */
        .globl  read_eflags, hole_pushf_site
read_eflags:
hole_pushf_site:
        pushfl
        popl    %eax
        ret

/* uint32_t read_cs(void).  MOV r/m16, Sreg shows the selector's RPL, which
 * for CS is the real CPL.  The 16-bit form keeps the upper half defined. */
        .globl  read_cs, hole_mov_sreg_site
read_cs:
        xorl    %eax, %eax
hole_mov_sreg_site:
        movw    %cs, %ax
        ret

/* ---- far JMP: the CS reload after LGDT ------------------------------------ */

/* void reload_segments(void).  A far JMP to a nonconforming code segment
 * needs RPL <= CPL and DPL == CPL, and loads CS with RPL = CPL. */
        .globl  reload_segments, hole_far_jmp_site
reload_segments:
        CHECK_ENTER 2f
hole_far_jmp_site:
        ljmp    $SEL_KCODE, $1f
1:      movw    $SEL_KDATA, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %fs
        movw    %ax, %gs
        movw    %ax, %ss
2:      CHECK_LEAVE

/* ---- stores of system registers -------------------------------------------- */

/* Memory forms: SGDT/SIDT store limit and 32-bit base; SLDT, STR and SMSW
 * store 16 bits (their 32-bit register forms leave bits 31:16 model-specific). */
        .macro  STORE name, insn
        .globl  do_\name, hole_\name\()_site
do_\name:
        movl    4(%esp), %eax
hole_\name\()_site:
        \insn   (%eax)
        ret
        .endm

        STORE   sgdt, sgdtl
        STORE   sidt, sidtl
        STORE   sldt, sldtw
        STORE   str, strw
        STORE   smsw, smsww

/* ---- POPF ------------------------------------------------------------------ */

/* Above CPL 0, POPF keeps IOPL; above IOPL it keeps IF too.  Neither faults.
 * Each returns EFLAGS as read back through the PUSHF site. */
        .globl  popf_clear_if, hole_popf_if_site
popf_clear_if:
        pushl   $0x00000002             /* IF 0, IOPL 0 */
hole_popf_if_site:
        popfl
        jmp     read_eflags

        .globl  popf_set_iopl, hole_popf_iopl_site
popf_set_iopl:
        pushl   $0x00003002             /* IF 0, IOPL 3 */
hole_popf_iopl_site:
        popfl
        jmp     read_eflags

/* ---- PUSH SS ---------------------------------------------------------------- */

/* uint32_t do_push_ss(void).  A 32-bit PUSH of a segment register may
 * write only the low word, so only that is returned. */
        .globl  do_push_ss, hole_push_ss_site
do_push_ss:
hole_push_ss_site:
        pushl   %ss
        popl    %eax
        movzwl  %ax, %eax
        ret

/* ---- PUSH CS and IRET -------------------------------------------------------- */

/* void iret_same_level(void).  Builds the classic "pushf; push cs; push
 * $label; iret" frame, with an EFLAGS image of IF 0, IOPL 0.  At CPL 0
 * IRET loads both; at CPL 1 it keeps IOPL, and IF too unless CPL <= IOPL. */
        .globl  iret_same_level, hole_push_cs_site, hole_iret_flags_site
iret_same_level:
        CHECK_ENTER 2f
        pushl   $0x00000002
hole_push_cs_site:
        pushl   %cs
        pushl   $1f
        movzwl  4(%esp), %eax
        movl    %eax, push_cs_seen
hole_iret_flags_site:
        iretl
1:      call    read_eflags
        movl    %eax, eflags_after_iret
2:      CHECK_LEAVE

/* void iret_to_rpl0(void).  A frame naming SEL_KCODE with RPL 0: from
 * CPL 0 a same-level return, from CPL 1 a return "to an inner level",
 * which IRET refuses with #GP(selector). */
        .globl  iret_to_rpl0, hole_iret_rpl0_site
iret_to_rpl0:
        CHECK_ENTER 2f
        pushl   $0x00000002
        pushl   $SEL_KCODE
        pushl   $2f
hole_iret_rpl0_site:
        iretl
2:      CHECK_LEAVE

/* ---- far CALL through a call gate, far RET ------------------------------------ */

/* void far_call_gate(void).  CALL through a gate needs gate DPL >= CPL and
 * >= RPL; the gate's target (DPL 0) is then the same level, so only CS:EIP
 * is pushed.  The target records the CS image the CALL pushed. */
        .globl  far_call_gate, hole_far_call_site
far_call_gate:
        CHECK_ENTER 2f
hole_far_call_site:
        lcall   $SEL_CALLGATE, $0       /* the gate supplies the offset */
2:      CHECK_LEAVE

        .globl  call_gate_target, helper_gate_lret_site
call_gate_target:
        movzwl  4(%esp), %eax
        movl    %eax, gate_pushed_cs
        movl    $1, gate_entered
helper_gate_lret_site:
        lret                            /* to the CS the CALL pushed */

/* void far_ret_to_rpl0(void).  RETF to SEL_KCODE with RPL 0: RPL < CPL is
 * #GP(selector), which only a kernel above ring 0 sees. */
        .globl  far_ret_to_rpl0, hole_far_ret_site
far_ret_to_rpl0:
        CHECK_ENTER 2f
        pushl   $SEL_KCODE
        pushl   $2f
hole_far_ret_site:
        lret
2:      CHECK_LEAVE

/* ---- INT n ------------------------------------------------------------------- */

/* INT n through a gate needs gate DPL >= CPL, else #GP(vector * 8 + 2).
 * The stubs below record the frame the handler was given. */
        .globl  int_dpl0, hole_int_dpl0_site
int_dpl0:
        CHECK_ENTER 2f
hole_int_dpl0_site:
        int     $VEC_INT_DPL0
2:      CHECK_LEAVE

        .globl  int_dpl3, hole_int_dpl3_site
int_dpl3:
        CHECK_ENTER 2f
hole_int_dpl3_site:
        int     $VEC_INT_DPL3
2:      CHECK_LEAVE

        .globl  int_stub_dpl0, int_stub_dpl3, helper_int_iret_site
int_stub_dpl0:
        pushl   $VEC_INT_DPL0
        jmp     1f
int_stub_dpl3:
        pushl   $VEC_INT_DPL3
1:      pushl   %eax
        movl    4(%esp), %eax
        movl    %eax, int_vector
        movzwl  12(%esp), %eax          /* frame: vector, EIP, CS, EFLAGS */
        movl    %eax, int_frame_cs
        movl    16(%esp), %eax
        movl    %eax, int_frame_eflags
        movl    $1, int_entered
        popl    %eax
        addl    $4, %esp
helper_int_iret_site:
        iretl

/* ---- LAR, LSL, VERR, VERW ------------------------------------------------------- */

/* A selector the CPU may not look at from max(CPL, RPL) clears ZF and
 * leaves the destination alone; with ZF set LAR gives the access rights
 * (masked 00F0FF00) and LSL the limit in bytes.  Each site has its own
 * function, so each (instruction, selector) pair is one site. */
        .macro  QUERY name, insn, sel
        .globl  \name, hole_\name\()_site
\name:
        movl    $\sel, %ecx
        xorl    %edx, %edx
hole_\name\()_site:
        \insn   %cx, %edx
        setz    %al
        movzbl  %al, %eax
        movl    4(%esp), %ecx
        movl    %edx, (%ecx)
        ret
        .endm

        .macro  VERIFY name, insn, sel
        .globl  \name, hole_\name\()_site
\name:
        movl    $\sel, %ecx
hole_\name\()_site:
        \insn   %cx
        setz    %al
        movzbl  %al, %eax
        movl    4(%esp), %ecx
        movl    $0, (%ecx)
        ret
        .endm

        QUERY   lar_kcode, lar, SEL_KCODE
        QUERY   lsl_kdata, lsl, SEL_KDATA
        QUERY   lsl_kdata_rpl1, lsl, SEL_KDATA | 1
        VERIFY  verr_kcode, verr, SEL_KCODE
        VERIFY  verr_kcode_rpl1, verr, SEL_KCODE | 1
        VERIFY  verw_kdata, verw, SEL_KDATA
        VERIFY  verw_kdata_rpl1, verw, SEL_KDATA | 1

/* ---- exception entry ------------------------------------------------------------ */

/* Same stack for every vector: [vector][error code][EIP CS EFLAGS], a 0
 * error code where the CPU pushes none, then PUSHAD; exc_handler (holes.c)
 * gets a pointer to it and may rewrite EIP. */
        .macro  EXC v
exc_stub_\v:
        .if (\v == 8) || ((\v >= 10) && (\v <= 14)) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30)
        .else
        pushl   $0
        .endif
        pushl   $\v
        jmp     exc_common
        .endm

        .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        EXC     \v
        .endr

        .globl  helper_exc_iret_site
exc_common:
        pushal
        cld
        pushl   %esp
        call    exc_handler
        addl    $4, %esp
        popal
        addl    $8, %esp                /* vector and error code */
helper_exc_iret_site:
        iretl

        .section .rodata
        .p2align 2
        .globl  exc_stub_table
exc_stub_table:
        .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .long   exc_stub_\v
        .endr

        .bss
        .p2align 2
check_esp:
        .skip   4

        .section .note.GNU-stack, "", @progbits
