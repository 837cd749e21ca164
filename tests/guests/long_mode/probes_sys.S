/*
 * long_mode system probes: removed instructions, canonical addresses,
 * page faults, interrupt frames (IST, alignment), IRETQ, compatibility
 * mode, and the ring 3 programs for IRETQ and SYSRET.  Same conventions
 * as probes.S.
 */
#define KCODE 0x08
#define KDATA 0x10
#define KCODE32 0x30

        .text
        .code64

.macro PROBE name
        .globl  \name
        .balign 16
\name:
.endm
.macro INSN name
        .globl  \name
\name:
.endm

/* Instructions 64-bit mode removed: each must raise #UD at its first byte.
 * Probe i is at ud_first + 16 * i, in the order of ud_names in checks.c. */
.macro UDP bytes:vararg
        .balign 16
        .byte   \bytes
        ret
.endm
        .globl  ud_first, ud_probe_count
ud_first:
        UDP     0x60                    /* PUSHA */
        UDP     0x61                    /* POPA */
        UDP     0x27                    /* DAA */
        UDP     0x2F                    /* DAS */
        UDP     0x37                    /* AAA */
        UDP     0x3F                    /* AAS */
        UDP     0xD4, 0x0A              /* AAM */
        UDP     0xD5, 0x0A              /* AAD */
        UDP     0x06                    /* PUSH ES */
        UDP     0x07                    /* POP ES */
        UDP     0x0E                    /* PUSH CS */
        UDP     0x16                    /* PUSH SS */
        UDP     0x17                    /* POP SS */
        UDP     0x1E                    /* PUSH DS */
        UDP     0x1F                    /* POP DS */
        UDP     0xCE                    /* INTO */
        UDP     0x9A, 0, 0, 0, 0, 0x08, 0  /* CALL ptr16:32 */
        UDP     0xEA, 0, 0, 0, 0, 0x08, 0  /* JMP ptr16:32 */
        UDP     0xD6                    /* SALC */
        UDP     0x82, 0xC0, 0x01        /* 82 /0: ADD AL, 1 alias */
        .balign 16
ud_end:
        .section .rodata
        .balign 8
ud_probe_count: .quad (ud_end - ud_first) / 16
        .text

/* --- canonical addresses ------------------------------------------------ */
PROBE p_noncanon_read
        movabsq $0x0000800000000000, %rax
INSN noncanon_read_insn
        movq    (%rax), %rax
        ret
PROBE p_noncanon_write_high
        movabsq $0xFFFF7FFFFFFFFFF8, %rax
INSN noncanon_write_insn
        movq    %rax, (%rax)
        ret
PROBE p_noncanon_rbp                    /* SS-relative: #SS(0) */
        movabsq $0x0000800000000000, %rbp
INSN noncanon_rbp_insn
        movq    (%rbp), %rax
        ret
PROBE p_noncanon_jmp                    /* the JMP faults, not the target */
        movabsq $0x0000800000000000, %rax
INSN noncanon_jmp_insn
        jmp     *%rax

PROBE p_wrmsr_fs_noncanonical
        movl    $0xC0000100, %ecx
        xorl    %eax, %eax
        movl    $0x8000, %edx
        wrmsr
        ret

/* --- long mode may not be left piecemeal (SDM 9.8.5.4) ---------------- */
PROBE p_cr4_clear_pae
        movq    %cr4, %rax
        andq    $~0x20, %rax
        movq    %rax, %cr4
        ret
PROBE p_efer_clear_lme
        movl    $0xC0000080, %ecx
        rdmsr
        andl    $~0x100, %eax
        wrmsr
        ret

/* --- page faults through probe_addr ------------------------------------ */
PROBE p_read
        movq    probe_addr(%rip), %rax
INSN read_insn
        movq    (%rax), %rax
        ret
PROBE p_write
        movq    probe_addr(%rip), %rdx
        movl    $0x5EED, %eax
INSN write_insn
        movq    %rax, (%rdx)
        ret
PROBE p_exec
        movq    probe_addr(%rip), %rax
        call    *%rax
        ret

/* A page of code the probe pages map (page aligned, returns 42). */
        .balign 4096
        .globl  code_page
code_page:
        movl    $42, %eax
        ret
        .balign 4096

/* --- interrupt frames ---------------------------------------------------- */
PROBE p_int_plain_misaligned            /* RSP = 8 mod 16 at INT */
        movq    %rsp, %r8
        andq    $-16, %rsp
        subq    $8, %rsp
        movq    %rsp, aux(%rip)
        int     $0x42
INSN int_plain_ret
        movq    %r8, %rsp
        ret
PROBE p_int_ist
        movq    %rsp, aux(%rip)
        int     $0x41
INSN int_ist_ret
        ret
PROBE p_iretq_same_ring                 /* IRETQ pops SS:RSP even at CPL 0 */
        movq    %rsp, %r8
        pushq   $KDATA
        leaq    iret_stack_top-8(%rip), %rax
        pushq   %rax
        pushq   $0xC7                   /* SF ZF PF CF and bit 1 */
        pushq   $KCODE
        leaq    1f(%rip), %rax
        pushq   %rax
        iretq
1:      movq    %rsp, aux(%rip)
        pushfq
        popq    aux+8(%rip)
        movq    %r8, %rsp
        ret

/* --- compatibility mode --------------------------------------------------
 * LRETQ to KCODE32; 32-bit code runs a few instructions that mean
 * something else in 64-bit mode, then JMP ptr16:32 back to KCODE.
 * compat_out: [0] EAX after 0x40 (INC EAX), [1] ESP delta of PUSH,
 * [2] CS in compatibility mode, [3] ESP delta of PUSHA, [4] CS after. */
PROBE p_compat
        movq    %rsp, compat_rsp(%rip)
        pushq   $KCODE32
        leaq    compat_code(%rip), %rax
        pushq   %rax
        lretq
        .code32
compat_code:
        movl    $0xFFFFFFFF, %eax
        .byte   0x40                    /* INC EAX (REX in 64-bit mode) */
        movl    %eax, compat_out
        movl    %esp, %ecx
        pushl   $0x12345678
        subl    %esp, %ecx
        movl    %ecx, compat_out+8
        popl    %edx
        movl    %cs, %eax
        movl    %eax, compat_out+16
        movl    %esp, %ecx
        pushal
        subl    %esp, %ecx
        movl    %ecx, compat_out+24
        popal
        ljmp    $KCODE, $compat_back
        .code64
compat_back:
        movq    compat_rsp(%rip), %rsp
        movq    %cs, %rax
        movq    %rax, compat_out+32(%rip)
        xorl    %eax, %eax
        ret
PROBE p_compat_into                     /* INTO exists again: #OF (trap) */
        pushq   $KCODE32
        leaq    1f(%rip), %rax
        pushq   %rax
        lretq
        .code32
1:      movb    $0x7F, %al
        addb    $1, %al
INSN compat_into_insn
        into
INSN compat_into_next
        ud2
        .code64

/* --- ring 3 ---------------------------------------------------------------- */
PROBE u_cs
        movq    %cs, %rax
        shlq    $16, %rax
        movq    %ss, %rdx
        orq     %rdx, %rax
        ret
PROBE u_cli
INSN u_cli_insn
        cli
        ret
PROBE u_swapgs
INSN u_swapgs_insn
        swapgs
        ret
        .code32
PROBE u32_cs
        movl    %cs, %eax
        ret
PROBE u32_sys                           /* SYSRETL lands here */
        movl    %cs, %eax
        int     $0x7F
        .code64
PROBE p_syscall_no_sce
INSN syscall_no_sce_insn
        syscall
        ret

/* SYSRETQ lands here (R11 = 0x842); SYSCALL 1 with DF and CF set, back by
 * SYSRETQ; SYSCALL 2 ends the run.  syscall_entry saves R12-R15:
 * r12 RFLAGS after SYSRET, r13 CS, r14 SS, r15 RFLAGS after the 2nd SYSRET. */
PROBE u_sys
        pushfq
        popq    %r12
        movq    %cs, %r13
        movq    %ss, %r14
        std
        stc
        movl    $1, %eax
        syscall
INSN u_sys_ret1
        pushfq
        popq    %r15
        cld
        movl    $2, %eax
        syscall
        ud2

        .data
        .globl  compat_out
        .balign 8
compat_rsp:     .quad 0
compat_out:     .fill 5, 8, 0
        .bss
        .balign 16
        .space  256
        .globl  iret_stack_top
iret_stack_top:
