/*
 * long_mode probes: each runs under run_checked/run_user/run_sysret (which
 * restore the callee-saved registers, so a probe may use them), leaves its
 * result in RAX and, where it has more to report, in aux[0..3].  Labels
 * *_insn mark the instruction expected to fault.
 */
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

/* --- REX, operand sizes, zero-extension ------------------------------ */
PROBE p_r8_r15
        movl    $1, %r8d
        movl    $2, %r9d
        movl    $3, %r10d
        movl    $4, %r11d
        movl    $5, %r12d
        movl    $6, %r13d
        movl    $7, %r14d
        movl    $8, %r15d
        leaq    (%r8,%r9,2), %rax       /* 1 + 4 */
        addq    %r10, %rax
        imulq   %r11, %rax              /* (5 + 3) * 4 = 32 */
        leaq    0x100(%r12,%r13,8), %rdx /* REX.X and REX.B: 0x100 + 5 + 48 */
        addq    %rdx, %rax
        shlq    $8, %r14
        orq     %r14, %rax
        shlq    $24, %r15
        orq     %r15, %rax              /* 0x08000735 */
        ret
PROBE p_r12_r13_base                    /* r12 needs a SIB, r13 a disp8 */
        leaq    rip_var(%rip), %r12
        movq    %r12, %r13
        movq    (%r12), %rax
        xorq    (%r13), %rax            /* 0 */
        addq    8(%r13), %rax
        ret
PROBE p_sil
        movabsq $0x1111111111111111, %rsi
        movb    $0xAA, %sil
        movq    %rsi, %rax
        ret
PROBE p_dh
        movabsq $0x2222222222222222, %rdx
        movb    $0xBB, %dh
        movq    %rdx, %rax
        ret
PROBE p_zext_mov32
        movq    $-1, %rax
        movl    $0x12345678, %eax
        ret
PROBE p_zext_add32
        movq    $-1, %rax
        addl    $1, %eax
        ret
PROBE p_zext_r9d
        movq    $-1, %r9
        movl    $7, %r9d
        movq    %r9, %rax
        ret
PROBE p_mov16
        movq    $-1, %rax
        movw    $0x1234, %ax
        ret
PROBE p_mov8
        movq    $-1, %rax
        movb    $0x56, %al
        ret
PROBE p_nop90                           /* 0x90 is NOP, not XCHG EAX,EAX */
        movq    $-1, %rax
        .byte   0x90
        ret
PROBE p_xchg_eax_eax                    /* 87 C0 writes EAX: zero-extends */
        movq    $-1, %rax
        .byte   0x87, 0xC0
        ret
PROBE p_cmov32_false                    /* a false 32-bit CMOV still writes */
        movq    $-1, %rax
        movl    $5, %ecx
        xorl    %edx, %edx
        cmovnel %ecx, %eax
        ret

/* --- RIP-relative, immediates, MOVSXD -------------------------------- */
PROBE p_rip_lea
        leaq    rip_var(%rip), %rax
        movabsq $rip_var, %rdx
        subq    %rdx, %rax
        ret
PROBE p_rip_load
        movq    rip_var(%rip), %rax
        ret
PROBE p_rip_store_imm                   /* disp counts from after the imm32 */
        movl    $0x13572468, rip_var2(%rip)
        movabsq rip_var2, %rax          /* A1 moffs64 */
        ret
PROBE p_rip_cmp_imm8
        xorl    %eax, %eax
        cmpb    $0x88, rip_var(%rip)
        sete    %al
        ret
PROBE p_imm64
        movabsq $0x0123456789ABCDEF, %r10
        movq    %r10, %rax
        ret
PROBE p_imm32_sext
        .byte   0x48, 0xC7, 0xC0, 0xFE, 0xFF, 0xFF, 0xFF /* mov rax, -2 */
        ret
PROBE p_imm32_zext
        movq    $-1, %rax
        movl    $0xFFFFFFFE, %eax
        ret
PROBE p_push_imm
        pushq   $-3
        popq    %rax
        ret
PROBE p_add_sext
        xorl    %eax, %eax
        addq    $-0x80000000, %rax
        ret
PROBE p_imul_imm
        movabsq $0x5555555555555556, %rcx
        imulq   $-3, %rcx, %rax
        pushfq
        popq    %rdx
        andq    $0x801, %rdx            /* OF, CF */
        movq    %rdx, aux(%rip)
        ret
PROBE p_movsxd_neg
        movl    $0x80000001, %ecx
        movslq  %ecx, %rax
        ret
PROBE p_movsxd_pos
        movq    $-1, %rcx
        movl    $0x7FFFFFFF, %ecx
        movslq  %ecx, %rax
        ret
PROBE p_movsxd_mem
        movslq  rip_var3(%rip), %rax
        ret

/* --- CMPXCHG16B -------------------------------------------------------- */
PROBE p_cx16_equal                      /* mem 1:2 == RDX:RAX -> ZF, store */
        leaq    cx16_buf(%rip), %rsi
        movq    $1, (%rsi)
        movq    $2, 8(%rsi)
        movl    $1, %eax
        movl    $2, %edx
        movl    $3, %ebx
        movl    $4, %ecx
        lock cmpxchg16b (%rsi)
        setz    %al
        movzbl  %al, %eax
        ret
PROBE p_cx16_differ                     /* mem 3:4 != 9:9 -> load RDX:RAX */
        leaq    cx16_buf(%rip), %rsi
        movl    $9, %eax
        movl    $9, %edx
        movl    $5, %ebx
        movl    $6, %ecx
        cmpxchg16b (%rsi)
        setz    %r8b
        movzbl  %r8b, %r8d
        movq    %r8, aux(%rip)
        movq    %rdx, aux+8(%rip)
        ret
PROBE p_cx16_misaligned
        leaq    cx16_buf+8(%rip), %rsi
INSN cx16_misaligned_insn
        cmpxchg16b (%rsi)
        ret

/* --- stack, CALL/RET --------------------------------------------------- */
PROBE p_push_delta
        movq    %rsp, %rcx
        pushq   %rax
        movq    %rcx, %rax
        subq    %rsp, %rax
        popq    %rdx
        ret
PROBE p_pushw_delta
        movq    %rsp, %rcx
        pushw   %ax
        movq    %rcx, %rax
        subq    %rsp, %rax
        addq    $2, %rsp
        ret
PROBE p_push_fs_delta
        movq    %rsp, %rcx
        pushq   %fs
        movq    %rcx, %rax
        subq    %rsp, %rax
        addq    $8, %rsp
        ret
PROBE p_pop_rsp_value                   /* POP RSP: RSP = the popped value */
        movq    %rsp, %rcx
        leaq    -64(%rsp), %rdx
        pushq   %rdx
        popq    %rsp
        movq    %rsp, %rax
        movq    %rcx, %rsp
        subq    %rdx, %rax              /* 0 */
        ret
PROBE p_call_ret_addr
        leaq    1f(%rip), %rdx
        movq    %rsp, %r8
        call    2f
1:      jmp     3f
2:      movq    (%rsp), %rax
        subq    %rdx, %rax              /* 0: return address pushed */
        subq    %rsp, %r8               /* 8 bytes pushed */
        movq    %r8, aux(%rip)
        ret
3:      ret
PROBE p_call_indirect
        movabsq $call_target, %rax
        call    *%rax
        ret
call_target:
        movl    $0x77, %eax
        ret
PROBE p_ret_imm
        movq    %rsp, %rcx
        pushq   $0
        pushq   $0
        call    1f
        movq    %rcx, %rax
        subq    %rsp, %rax              /* 0: RET 16 dropped both */
        ret
1:      ret     $16

/* --- multiply, divide -------------------------------------------------- */
PROBE p_imul1
        movabsq $0x100000000, %rax
        movabsq $0x100000001, %rcx
        imulq   %rcx
        movq    %rdx, aux(%rip)
        ret
PROBE p_mul
        movq    $-1, %rax
        movq    $-1, %rcx
        mulq    %rcx
        movq    %rdx, aux(%rip)
        ret
PROBE p_div
        movl    $1, %edx
        xorl    %eax, %eax
        movl    $3, %ecx
        divq    %rcx
        movq    %rdx, aux(%rip)
        ret
PROBE p_idiv
        movq    $-1, %rdx
        movq    $-7, %rax
        movl    $2, %ecx
        idivq   %rcx
        movq    %rdx, aux(%rip)
        ret
PROBE p_div_overflow
        movl    $1, %edx
        xorl    %eax, %eax
        movl    $1, %ecx
INSN div_overflow_insn
        divq    %rcx
        ret
PROBE p_idiv_overflow
        movq    $-1, %rdx
        movabsq $0x8000000000000000, %rax
        movq    $-1, %rcx
INSN idiv_overflow_insn
        idivq   %rcx
        ret

/* --- shifts and bits ---------------------------------------------------- */
PROBE p_shl63
        movl    $1, %eax
        movb    $63, %cl
        shlq    %cl, %rax
        ret
PROBE p_shl64
        movl    $1, %eax
        movb    $64, %cl                /* masked to 6 bits: 0 */
        shlq    %cl, %rax
        ret
PROBE p_shl65
        movl    $1, %eax
        movb    $65, %cl
        shlq    %cl, %rax
        ret
PROBE p_shl32_count33                   /* 32-bit: masked to 5 bits, zero-extends */
        movabsq $0xFFFFFFFF00000001, %rax
        movb    $33, %cl
        shll    %cl, %eax
        ret
PROBE p_sar63
        movabsq $0x8000000000000000, %rax
        sarq    $63, %rax
        ret
PROBE p_shr60
        movabsq $0x8000000000000000, %rax
        shrq    $60, %rax
        ret
PROBE p_rol4
        movabsq $0x123456789ABCDEF0, %rax
        rolq    $4, %rax
        ret
PROBE p_shld
        movabsq $0x0123456789ABCDEF, %rax
        movabsq $0xFEDCBA9876543210, %rdx
        shldq   $8, %rdx, %rax
        ret
PROBE p_shrd
        movabsq $0x0123456789ABCDEF, %rax
        movabsq $0xFEDCBA9876543210, %rdx
        shrdq   $8, %rdx, %rax
        ret
PROBE p_bsr_bsf
        movabsq $0x8000000000000100, %rcx
        bsrq    %rcx, %rax
        bsfq    %rcx, %rdx
        shlq    $8, %rax
        orq     %rdx, %rax              /* 63 << 8 | 8 */
        ret
PROBE p_bt40
        movabsq $0x10000000000, %rcx
        xorl    %eax, %eax
        btq     $40, %rcx
        setc    %al
        ret

/* --- string instructions with RCX -------------------------------------- */
PROBE p_rep_stosq                       /* 5 of 6 qwords, RCX -> 0 */
        leaq    str_dst(%rip), %rdi
        movq    %rdi, %r8
        movabsq $0x0101010101010101, %rax
        movl    $5, %ecx
        rep stosq
        movq    %rcx, aux(%rip)
        subq    %r8, %rdi
        movq    %rdi, aux+8(%rip)       /* 40 */
        movq    40(%r8), %rax           /* the sixth: untouched */
        ret
PROBE p_rep_movsb
        leaq    str_src(%rip), %rsi
        leaq    str_dst(%rip), %rdi
        movq    %rsi, %r8
        movl    $19, %ecx
        rep movsb
        movq    %rcx, aux(%rip)
        subq    %r8, %rsi
        movq    %rsi, aux+8(%rip)       /* 19 */
        movq    str_dst+11(%rip), %rax  /* bytes 11..18 of the source */
        ret
PROBE p_std_movsq                       /* DF=1: backwards, RDI -= 24 */
        leaq    str_src+16(%rip), %rsi
        leaq    str_dst+16(%rip), %rdi
        movq    %rdi, %r8
        movl    $3, %ecx
        std
        rep movsq
        cld
        subq    %rdi, %r8
        movq    %r8, aux(%rip)          /* 24 */
        movq    str_dst-8(%rip), %rax   /* the qword before: untouched */
        ret
PROBE p_repne_scasb
        leaq    str_scan(%rip), %rdi
        movq    %rdi, %r8
        movb    $0x5A, %al
        movl    $100, %ecx
        repne scasb
        subq    %r8, %rdi
        movq    %rdi, aux(%rip)         /* 38 */
        movq    %rcx, %rax              /* 62 */
        ret
PROBE p_repe_cmpsq
        leaq    str_src(%rip), %rsi
        leaq    str_cmp(%rip), %rdi
        movl    $4, %ecx
        repe cmpsq
        setne   %r8b
        movzbl  %r8b, %r8d
        movq    %r8, aux(%rip)          /* ZF=0 at the end: 1 */
        movq    %rcx, %rax              /* third differs: 1 left */
        ret
PROBE p_addr32_stosb                    /* 67 F3 AA: the count is ECX = 2 */
        leaq    str_dst(%rip), %rdi
        movabsq $0x100000002, %rcx
        movb    $0xEE, %al
        .byte   0x67, 0xF3, 0xAA
        movq    str_dst(%rip), %rax
        ret
PROBE p_lodsq
        leaq    str_src(%rip), %rsi
        movq    %rsi, %r8
        lodsq
        subq    %r8, %rsi
        movq    %rsi, aux(%rip)
        ret

/* --- segment bases ----------------------------------------------------- */
PROBE p_fs_read
        movq    %fs:8, %rax
        ret
PROBE p_gs_read
        movq    %gs:0, %rax
        ret
PROBE p_swapgs_read
        swapgs
        movq    %gs:0, %rax
        swapgs
        ret
PROBE p_swapgs_msrs                     /* GS base after one SWAPGS */
        swapgs
        movl    $0xC0000101, %ecx
        rdmsr
        shlq    $32, %rdx
        orq     %rdx, %rax
        movq    %rax, %r8
        movl    $0xC0000102, %ecx
        rdmsr
        shlq    $32, %rdx
        orq     %rdx, %rax
        movq    %rax, aux(%rip)         /* KERNEL_GS_BASE */
        swapgs
        movq    %r8, %rax
        ret

        .data
        .globl  aux, rip_var, rip_var2, rip_var3, cx16_buf, str_src, str_dst, str_cmp, str_scan
        .balign 16
aux:            .fill 4, 8, 0
rip_var:        .quad 0x1122334455667788
                .quad 0x42
rip_var2:       .quad 0xAAAAAAAAAAAAAAAA
rip_var3:       .quad 0x00000000FFFFFFFE
        .balign 16
cx16_buf:       .fill 4, 8, 0
str_src:        .quad 0x0807060504030201, 0x100F0E0D0C0B0A09, 0x1817161514131211, 0x201F1E1D1C1B1A19
                .quad 0, 0
                .quad 0x5A5A5A5A5A5A5A5A
str_dst:        .fill 8, 8, 0
str_cmp:        .quad 0x0807060504030201, 0x100F0E0D0C0B0A09, 0x1817161514131299, 0x201F1E1D1C1B1A19
str_scan:       .fill 37, 1, 0
                .byte 0x5A
                .fill 62, 1, 0
