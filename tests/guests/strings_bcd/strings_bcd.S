/*
 * strings_bcd: string instructions and BCD adjustments, GNU as Intel syntax.
 *
 *  - REP MOVSB/MOVSW/MOVSD over overlapping buffers, forwards and with
 *    DF=1, driven by a table (element size, DF, source, destination, count)
 *  - REPE/REPNE CMPSB, CMPSD, SCASB, SCASW (first difference, strlen,
 *    backwards search, count 0 keeps the flags)
 *  - the same with a 0x67 address-size prefix: only CX/SI/DI are used and
 *    they wrap at 0xFFFF, while the high halves of ECX/ESI/EDI are nonzero
 *    and must survive; one case puts the prefixes in the other order
 *  - DAA/DAS/AAA/AAS over a table of AL values x {CF,AF}, AAM/AAD with
 *    several bases and AAM 0 (#DE)
 *
 * One compact hex line per case; flags are masked to the ones the SDM
 * defines for the instruction.  No UART initialisation: LSR.THRE is polled
 * and THR written.  Own GDT and IDT.  Low memory (0x0000-0x0003,
 * 0x7000-0x7210, 0xFFFC-0x10003) is scratch for the wrap-around cases.
 * Exit: 0x13 to isa-debug-exit (status 39); 0x7F on an unexpected exception.
 */
        .intel_syntax noprefix

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000001
#define COM1     0x3F8

#define F_CF 0x001
#define F_PF 0x004
#define F_AF 0x010
#define F_ZF 0x040
#define F_SF 0x080
#define F_OF 0x800
#define F_ARITH (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

#define BCD_NVALS 18                    /* entries in bcd_vals */

        .section .mbhdr, "a"
        .balign 4
        .long   MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

/* ================================================================== */
        .text
        .globl  _start
_start:
        cli
        lgdt    [gdtr]
        jmp     0x08:1f
1:      mov     ax, 0x10
        mov     ds, ax
        mov     es, ax
        mov     fs, ax
        mov     gs, ax
        mov     ss, ax
        mov     esp, OFFSET stack_top
        push    2
        popfd
        call    setup_idt

        mov     esi, OFFSET m_banner
        call    puts

        call    run_moves
        call    run_scans
        call    run_a16
        call    run_bcd

        mov     esi, OFFSET m_bye
        call    puts
        mov     eax, 0x13
        jmp     exit

/* exit: code in EAX, after the transmitter drained */
exit:
        mov     ebx, eax
        mov     dx, COM1 + 5
1:      in      al, dx
        test    al, 0x40
        jz      1b
        mov     eax, ebx
        mov     dx, 0xF4
        out     dx, eax
2:      cli
        hlt
        jmp     2b

/* ---------------------------------------------------------------- */
/* IDT: vector 0 resumes at [de_resume]; everything else is fatal    */
setup_idt:
        mov     edi, OFFSET idt
        mov     ecx, 32
        mov     eax, OFFSET bad_exception
1:      mov     word ptr [edi], ax
        mov     word ptr [edi + 2], 0x08
        mov     word ptr [edi + 4], 0x8E00
        ror     eax, 16
        mov     word ptr [edi + 6], ax
        ror     eax, 16
        add     edi, 8
        loop    1b
        mov     eax, OFFSET de_handler
        mov     word ptr [idt], ax
        shr     eax, 16
        mov     word ptr [idt + 6], ax
        lidt    [idtr]
        ret

de_handler:
        push    eax
        mov     eax, [esp + 4]
        mov     [de_eip], eax
        inc     dword ptr [de_count]
        mov     eax, [de_resume]
        mov     [esp + 4], eax
        pop     eax
        iretd

bad_exception:
        mov     esi, OFFSET m_bad
        call    puts
        mov     eax, [esp]
        call    hex8
        call    nl
        mov     eax, 0x7F
        jmp     exit

/* ---------------------------------------------------------------- */
/* output: all preserve every register except as noted              */
putc:                                   /* AL */
        push    edx
        push    eax
        mov     dx, COM1 + 5
1:      in      al, dx
        test    al, 0x20
        jz      1b
        pop     eax
        mov     dx, COM1
        out     dx, al
        pop     edx
        ret

puts:                                   /* ESI, NUL-terminated */
        push    esi
        push    eax
1:      lodsb
        test    al, al
        jz      2f
        call    putc
        jmp     1b
2:      pop     eax
        pop     esi
        ret

nl:     push    eax
        mov     al, 10
        call    putc
        pop     eax
        ret

sp1:    push    eax
        mov     al, ' '
        call    putc
        pop     eax
        ret

hexn:                                   /* EAX, ECX = digits */
        push    eax
        push    ecx
        push    edx
        mov     edx, eax
        push    ecx
        shl     ecx, 2
        neg     ecx
        add     ecx, 32
        rol     edx, cl                 /* bring the top digit wanted to the top */
        pop     ecx
1:      rol     edx, 4
        mov     eax, edx
        and     eax, 15
        mov     al, [hexdig + eax]
        call    putc
        loop    1b
        pop     edx
        pop     ecx
        pop     eax
        ret

hex2:   push    ecx
        mov     ecx, 2
        call    hexn
        pop     ecx
        ret
hex3:   push    ecx
        mov     ecx, 3
        call    hexn
        pop     ecx
        ret
hex4:   push    ecx
        mov     ecx, 4
        call    hexn
        pop     ecx
        ret
hex8:   push    ecx
        mov     ecx, 8
        call    hexn
        pop     ecx
        ret

/* print ECX bytes at ESI as characters, '.' for unprintable */
putmem:
        push    esi
        push    ecx
        push    eax
1:      lodsb
        cmp     al, 0x20
        jb      2f
        cmp     al, 0x7E
        jbe     3f
2:      mov     al, '.'
3:      call    putc
        loop    1b
        pop     eax
        pop     ecx
        pop     esi
        ret

/* save the interesting state after a string instruction */
        .macro  SAVE
        pushfd
        pop     dword ptr [r_flags]
        cld
        mov     [r_ecx], ecx
        mov     [r_esi], esi
        mov     [r_edi], edi
        mov     [r_eax], eax
        .endm

        .macro  BASE src, dst           /* addresses, written without spaces */
        lea     esi, [\src]
        lea     edi, [\dst]
        mov     [b_esi], esi
        mov     [b_edi], edi
        .endm

        .macro  SAY msg
        push    esi
        mov     esi, OFFSET \msg
        call    puts
        pop     esi
        .endm

/* "<name> ecx=.. dsi=.. ddi=.. fl=..": ESI/EDI relative to their start */
print_rel:                              /* ESI = name */
        call    puts
        SAY     m_ecx
        mov     eax, [r_ecx]
        call    hex8
        SAY     m_dsi
        mov     eax, [r_esi]
        sub     eax, [b_esi]
        call    hex8
        SAY     m_ddi
        mov     eax, [r_edi]
        sub     eax, [b_edi]
        call    hex8
        SAY     m_fl
        mov     eax, [r_flags]
        and     eax, F_ARITH
        call    hex3
        call    nl
        ret

/* "<name> ecx=.. esi=.. edi=.." raw, for the 16-bit address cases */
print_raw:                              /* ESI = name */
        call    puts
        SAY     m_ecx
        mov     eax, [r_ecx]
        call    hex8
        SAY     m_esi
        mov     eax, [r_esi]
        call    hex8
        SAY     m_edi
        mov     eax, [r_edi]
        call    hex8
        SAY     m_fl
        mov     eax, [r_flags]
        and     eax, F_ARITH
        call    hex3
        ret                             /* caller ends the line */

/* ================================================================== */
/* table-driven overlapping moves                                    */

reset_buf:                              /* guard_lo, buf[32], guard_hi */
        push    esi
        push    edi
        push    ecx
        mov     esi, OFFSET buf_template
        mov     edi, OFFSET guard_lo
        mov     ecx, 34
        rep movsb
        pop     ecx
        pop     edi
        pop     esi
        ret

run_moves:
        push    ebx
        mov     ebx, OFFSET move_cases
.Lmove_next:
        movzx   eax, byte ptr [ebx]     /* element size, 0 ends */
        test    eax, eax
        jz      .Lmove_done
        call    reset_buf
        movzx   esi, byte ptr [ebx + 2]
        add     esi, OFFSET buf
        movzx   edi, byte ptr [ebx + 3]
        add     edi, OFFSET buf
        mov     [b_esi], esi
        mov     [b_edi], edi
        movzx   ecx, byte ptr [ebx + 4]
        cmp     byte ptr [ebx + 1], 0
        je      1f
        std
1:      cmp     al, 1
        jne     2f
        rep movsb
        jmp     4f
2:      cmp     al, 2
        jne     3f
        rep movsw
        jmp     4f
3:      rep movsd
4:      SAVE

        /* "movsX +/- s=.. d=.. n=..: <guard buf guard> dsi=.. ddi=.. ecx=.." */
        SAY     m_movs
        movzx   eax, byte ptr [ebx]
        mov     al, [sizechar + eax]
        call    putc
        call    sp1
        mov     al, '+'
        cmp     byte ptr [ebx + 1], 0
        je      5f
        mov     al, '-'
5:      call    putc
        SAY     m_s
        mov     al, [ebx + 2]
        call    hex2
        SAY     m_d
        mov     al, [ebx + 3]
        call    hex2
        SAY     m_n
        mov     al, [ebx + 4]
        call    hex2
        SAY     m_colon
        mov     esi, OFFSET guard_lo
        mov     ecx, 34
        call    putmem
        SAY     m_dsi
        mov     eax, [r_esi]
        sub     eax, [b_esi]
        call    hex8
        SAY     m_ddi
        mov     eax, [r_edi]
        sub     eax, [b_edi]
        call    hex8
        SAY     m_ecx
        mov     eax, [r_ecx]
        call    hex8
        call    nl
        add     ebx, 5
        jmp     .Lmove_next
.Lmove_done:
        pop     ebx
        ret

/* ================================================================== */
/* compares and scans                                                 */

run_scans:
        /* REPE CMPSB: first difference at index 7 */
        BASE    s_hello1, s_hello2
        mov     ecx, 11
        repe cmpsb
        SAVE
        mov     esi, OFFSET n_repe_cmpsb
        call    print_rel

        /* REPE CMPSB over equal strings: runs out of count with ZF=1 */
        BASE    s_hello1, s_hello1b
        mov     ecx, 11
        repe cmpsb
        SAVE
        mov     esi, OFFSET n_repe_eq
        call    print_rel

        /* REPNE CMPSB: first equal byte */
        BASE    s_abcdef, s_xyzdef
        mov     ecx, 6
        repne cmpsb
        SAVE
        mov     esi, OFFSET n_repne_cmpsb
        call    print_rel

        /* REPE CMPSD backwards (DF=1) from the last dword */
        BASE    dw_a+12, dw_b+12
        mov     ecx, 4
        std
        repe cmpsd
        SAVE
        mov     esi, OFFSET n_repe_cmpsd_bwd
        call    print_rel

        /* REPNE SCASB strlen */
        BASE    0, s_fox
        xor     eax, eax
        mov     ecx, -1
        repne scasb
        SAVE
        mov     esi, OFFSET n_strlen
        call    print_rel
        SAY     m_len
        mov     eax, [r_ecx]
        not     eax
        dec     eax
        call    hex8
        call    nl

        /* REPNE SCASB backwards: last 'o' in the string */
        BASE    0, s_fox+18
        mov     al, 'o'
        mov     ecx, 19
        std
        repne scasb
        SAVE
        mov     esi, OFFSET n_scas_bwd
        call    print_rel

        /* REPE SCASW: skip leading "  " words */
        BASE    0, s_spaces
        mov     ax, 0x2020
        mov     ecx, 8
        repe scasw
        SAVE
        mov     esi, OFFSET n_repe_scasw
        call    print_rel

        /* count 0: nothing happens, the flags stay as they were */
        BASE    0, s_fox
        push    F_ARITH | 2
        popfd
        mov     ecx, 0                  /* not XOR: keep the flags */
        mov     al, 'T'
        repne scasb
        SAVE
        mov     esi, OFFSET n_scas_zero
        call    print_rel
        BASE    s_hello1, s_hello2
        push    2
        popfd
        mov     ecx, 0
        repe cmpsb
        SAVE
        mov     esi, OFFSET n_cmps_zero
        call    print_rel
        ret

/* ================================================================== */
/* 16-bit address size: CX/SI/DI only, wrapping at 0xFFFF             */

run_a16:
        push    ebx
        /* A: source wraps.  abcd at FFFC, efgh at 0000, WXYZ at 10000 */
        mov     dword ptr [0xFFFC], 0x64636261
        mov     dword ptr [0x0000], 0x68676665
        mov     dword ptr [0x10000], 0x5A595857
        mov     dword ptr [0x7000], 0x2E2E2E2E
        mov     dword ptr [0x7004], 0x2E2E2E2E
        mov     esi, 0x5A5AFFFC
        mov     edi, 0xA5A57000
        mov     ecx, 0xDEAD0008
        push    2                       /* known flags: MOVS leaves them */
        popfd
        addr16 rep movsb
        SAVE
        mov     esi, OFFSET n_a16_movsb
        call    print_raw
        SAY     m_mem7000
        mov     esi, 0x7000
        mov     ecx, 8
        call    putmem
        call    nl

        /* B: destination wraps (prefixes in F3 67 order) */
        mov     dword ptr [0xFFFC], 0x2E2E2E2E
        mov     dword ptr [0x0000], 0x2E2E2E2E
        mov     dword ptr [0x10000], 0x2E2E2E2E
        mov     esi, 0x5555AAAA         /* unused, printed: must not change */
        mov     edi, 0x1234FFFE
        mov     ecx, 0x77770004
        mov     eax, 0x5555552A         /* AL = '*' */
        push    2
        popfd
        .byte   0xF3, 0x67, 0xAA        /* rep addr16 stosb */
        SAVE
        mov     esi, OFFSET n_a16_stosb
        call    print_raw
        call    print_wrap_window

        /* C: ECX = 0x00010000 means CX = 0: no iterations */
        mov     esi, 0x1111FFFC
        mov     edi, 0x22227000
        mov     ecx, 0x00010000
        push    2
        popfd
        addr16 rep movsb
        SAVE
        mov     esi, OFFSET n_a16_cx0
        call    print_raw
        call    nl

        /* D: REPNE SCASB strlen across the wrap: "abc" FFFD.., "de\0" 0000.. */
        mov     dword ptr [0xFFFC], 0x6362612E
        mov     dword ptr [0x0000], 0x2E006564
        mov     dword ptr [0x10000], 0x78787878
        mov     esi, 0x6666BBBB
        mov     edi, 0x4321FFFD
        mov     ecx, 0x7777FFFF
        xor     eax, eax
        addr16 repne scasb
        SAVE
        mov     esi, OFFSET n_a16_scasb
        call    print_raw
        call    nl

        /* E: REP MOVSW with DF=1, SI goes 0002 -> 0000 -> FFFE -> FFFC */
        mov     dword ptr [0xFFFC], 0x30392E2E      /* ..90 */
        mov     dword ptr [0x0000], 0x34333231      /* 1234 */
        mov     dword ptr [0x7100], 0x2E2E2E2E
        mov     dword ptr [0x7104], 0x2E2E2E2E
        mov     esi, 0x00AA0002
        mov     edi, 0x00BB7104
        mov     ecx, 0xCCCC0003
        push    2
        popfd
        std
        addr16 rep movsw
        SAVE
        mov     esi, OFFSET n_a16_movsw_bwd
        call    print_raw
        SAY     m_mem7100
        mov     esi, 0x7100
        mov     ecx, 8
        call    putmem
        call    nl

        /* F: MOVSD at SI=FFFE: the address wraps, the access does not */
        mov     dword ptr [0xFFFC], 0x51502E2E      /* ..PQ */
        mov     dword ptr [0x10000], 0x2E2E5352     /* RS.. */
        mov     dword ptr [0x0000], 0x2E2E2121      /* !!.. */
        mov     dword ptr [0x7200], 0x2E2E2E2E
        mov     esi, 0x9999FFFE
        mov     edi, 0x88887200
        mov     ecx, 0x12345678
        push    2
        popfd
        addr16 movsd
        SAVE
        mov     esi, OFFSET n_a16_movsd
        call    print_raw
        SAY     m_mem7200
        mov     esi, 0x7200
        mov     ecx, 4
        call    putmem
        call    nl

        /* G: REPE CMPSB that walks SI through the wrap and stops there */
        mov     dword ptr [0xFFFC], 0x44434241      /* ABCD */
        mov     dword ptr [0x0000], 0x48474645      /* EFGH */
        mov     dword ptr [0x7300], 0x44434241      /* ABCD */
        mov     dword ptr [0x7304], 0x48584645      /* EFXH */
        mov     esi, 0x0001FFFC
        mov     edi, 0x00027300
        mov     ecx, 0xFFFF0008
        addr16 repe cmpsb
        SAVE
        mov     esi, OFFSET n_a16_cmpsb
        call    print_raw
        call    nl
        pop     ebx
        ret

/* FFFC..FFFF | 0000..0003 | 10000..10003 as characters */
print_wrap_window:
        SAY     m_window
        mov     esi, 0xFFFC
        mov     ecx, 4
        call    putmem
        mov     al, '|'
        call    putc
        mov     esi, 0x0000
        call    putmem
        mov     al, '|'
        call    putc
        mov     esi, 0x10000
        call    putmem
        call    nl
        ret

/* ================================================================== */
/* BCD                                                                */

/* EAX = AX in, EDX = EFLAGS in, EBX = routine; returns EAX, EDX = flags */
bcd_exec:
        push    edx
        popfd
        call    ebx
        pushfd
        pop     edx
        ret

op_daa: daa
        ret
op_das: das
        ret
op_aaa: aaa
        ret
op_aas: aas
        ret
op_aam10:  aam 10
        ret
op_aam16:  aam 16
        ret
op_aam7:   aam 7
        ret
op_aam1:   aam 1
        ret
op_aam255: aam 255
        ret
op_aad10:  aad 10
        ret
op_aad16:  aad 16
        ret
op_aad7:   aad 7
        ret
op_aad0:   aad 0
        ret
op_aad255: aad 255
        ret

/* "<name> ax=XXXX in=XXX -> ax=XXXX fl=XX" ; name in ESI, mask in EBP */
bcd_line:                               /* EAX in, EDX flags in, EBX routine */
        push    eax
        push    edx
        call    puts
        SAY     m_ax
        call    hex4
        SAY     m_in
        xchg    eax, edx
        and     eax, F_ARITH
        call    hex3
        xchg    eax, edx
        pop     edx
        pop     eax
        call    bcd_exec
        SAY     m_arrow
        call    hex4
        SAY     m_fl
        mov     eax, edx
        and     eax, ebp
        call    hex3
        call    nl
        ret

run_bcd:
        push    ebx
        push    ebp
        push    esi
        push    edi
        /* DAA/DAS/AAA/AAS: every AL value with each CF/AF combination */
        mov     edi, OFFSET adj_ops
.Lop_next:
        mov     ebx, [edi + 4]
        test    ebx, ebx
        jz      .Lops_done
        mov     ebp, [edi + 8]
        xor     ecx, ecx                /* value index */
.Lval_next:
        movzx   eax, byte ptr [bcd_vals + ecx]
        mov     ah, al
        xor     ah, 0xA5                /* vary AH as well */
        push    ecx
        xor     ecx, ecx                /* CF/AF combination */
.Lcombo:
        xor     edx, edx
        test    cl, 1
        jz      1f
        or      edx, F_CF
1:      test    cl, 2
        jz      2f
        or      edx, F_AF
2:      test    cl, 4
        jz      3f
        or      edx, F_ZF | F_SF | F_PF | F_OF
3:      or      edx, 2
        mov     esi, [edi]
        push    eax
        push    ecx
        call    bcd_line
        pop     ecx
        pop     eax
        inc     ecx
        cmp     ecx, 5
        jb      .Lcombo
        pop     ecx
        inc     ecx
        cmp     ecx, BCD_NVALS
        jb      .Lval_next
        add     edi, 12
        jmp     .Lop_next
.Lops_done:

        /* AAM/AAD with several bases */
        mov     edi, OFFSET aamd_ops
.Lam_next:
        mov     ebx, [edi + 4]
        test    ebx, ebx
        jz      .Lam_done
        mov     ebp, F_PF | F_ZF | F_SF
        mov     esi, [edi + 8]          /* list of AX inputs, 0xFFFFFFFF ends */
.Lam_val:
        mov     eax, [esi]
        cmp     eax, -1
        je      .Lam_list_done
        push    esi
        mov     esi, [edi]
        mov     edx, 2
        call    bcd_line
        pop     esi
        add     esi, 4
        jmp     .Lam_val
.Lam_list_done:
        add     edi, 12
        jmp     .Lam_next
.Lam_done:

        /* AAM 0 raises #DE; AX is left alone */
        mov     dword ptr [de_resume], OFFSET aam0_resume
        mov     dword ptr [de_count], 0
        mov     eax, 0x12345678
aam0_insn:
        aam     0
aam0_resume:
        mov     ebx, eax
        SAY     m_aam0
        mov     eax, [de_count]
        call    hex2
        SAY     m_eipoff
        mov     eax, [de_eip]
        sub     eax, OFFSET aam0_insn
        call    hex8
        SAY     m_eaxis
        mov     eax, ebx
        call    hex8
        call    nl
        pop     edi
        pop     esi
        pop     ebp
        pop     ebx
        ret

/* ================================================================== */
        .section .rodata
hexdig:         .ascii  "0123456789ABCDEF"
sizechar:       .ascii  "?bw?d"
buf_template:   .ascii  "<0123456789ABCDEFGHIJKLMNOPQRSTUV>"

/* size, DF, source offset, destination offset, count */
move_cases:
        .byte   1, 0,  0,  1,  8
        .byte   1, 0,  1,  0,  8
        .byte   1, 1,  7,  8,  8
        .byte   1, 1,  8,  7,  8
        .byte   1, 0,  0,  0, 16
        .byte   1, 0,  4,  5,  0
        .byte   2, 0,  0,  1,  4
        .byte   2, 0,  0,  2,  5
        .byte   2, 0,  3,  0,  6
        .byte   2, 1, 10, 11,  4
        .byte   2, 1, 10,  9,  4
        .byte   4, 0,  0,  3,  4
        .byte   4, 0,  0,  4,  3
        .byte   4, 0,  5,  2,  5
        .byte   4, 1, 12, 14,  3
        .byte   4, 1, 12, 10,  3
        .byte   4, 1, 28, 25,  7
        .byte   0

s_hello1:       .ascii  "HELLO WORLD"
s_hello1b:      .ascii  "HELLO WORLD"
s_hello2:       .ascii  "HELLO WXRLD"
s_abcdef:       .ascii  "ABCDEF"
s_xyzdef:       .ascii  "XYZDEF"
s_fox:          .asciz  "The quick brown fox"
s_spaces:       .ascii  "      x y       "
        .balign 4
dw_a:           .long   0x11111111, 0x22222222, 0x33333333, 0x44444444
dw_b:           .long   0x11111111, 0x22222223, 0x33333333, 0x44444444

bcd_vals:
        .byte   0x00, 0x05, 0x09, 0x0A, 0x0F, 0x10, 0x19, 0x1A
        .byte   0x4F, 0x7F, 0x80, 0x99, 0x9A, 0x9F, 0xA0, 0xF9
        .byte   0xFA, 0xFF

        .balign 4
/* name, routine, defined-flags mask */
adj_ops:
        .long   n_daa, op_daa, F_CF | F_PF | F_AF | F_ZF | F_SF
        .long   n_das, op_das, F_CF | F_PF | F_AF | F_ZF | F_SF
        .long   n_aaa, op_aaa, F_CF | F_AF
        .long   n_aas, op_aas, F_CF | F_AF
        .long   0, 0, 0

/* name, routine, input list */
aamd_ops:
        .long   n_aam10, op_aam10, aam_in
        .long   n_aam16, op_aam16, aam_in
        .long   n_aam7, op_aam7, aam_in
        .long   n_aam1, op_aam1, aam_in
        .long   n_aam255, op_aam255, aam_in
        .long   n_aad10, op_aad10, aad_in
        .long   n_aad16, op_aad16, aad_in
        .long   n_aad7, op_aad7, aad_in
        .long   n_aad0, op_aad0, aad_in
        .long   n_aad255, op_aad255, aad_in
        .long   0, 0, 0
aam_in: .long   0x0000, 0x0009, 0x000A, 0x1263, 0x0080, 0x00FF, -1
aad_in: .long   0x0000, 0x0909, 0x0102, 0x1234, 0xFFFF, 0x0A0A, -1

m_banner:       .asciz  "strings_bcd: string ops, 16-bit addressing, BCD\n"
m_bye:          .asciz  "strings_bcd: done, exit 0x13\n"
m_bad:          .asciz  "UNEXPECTED exception at eip="
m_movs:         .asciz  "movs"
m_s:            .asciz  " s="
m_d:            .asciz  " d="
m_n:            .asciz  " n="
m_colon:        .asciz  ": "
m_ecx:          .asciz  " ecx="
m_esi:          .asciz  " esi="
m_edi:          .asciz  " edi="
m_dsi:          .asciz  " dsi="
m_ddi:          .asciz  " ddi="
m_fl:           .asciz  " fl="
m_len:          .asciz  "  strlen="
m_mem7000:      .asciz  "  [7000]="
m_mem7100:      .asciz  "  [7100]="
m_mem7200:      .asciz  "  [7200]="
m_window:       .asciz  "  FFFC|0000|10000="
m_ax:           .asciz  " ax="
m_in:           .asciz  " in="
m_arrow:        .asciz  " -> ax="
m_aam0:         .asciz  "aam 0: #DE count="
m_eipoff:       .asciz  " eip=insn+"
m_eaxis:        .asciz  " eax="
n_repe_cmpsb:   .asciz  "repe cmpsb  diff@7"
n_repe_eq:      .asciz  "repe cmpsb  equal "
n_repne_cmpsb:  .asciz  "repne cmpsb      "
n_repe_cmpsd_bwd: .asciz "repe cmpsd  std  "
n_strlen:       .asciz  "repne scasb strlen"
n_scas_bwd:     .asciz  "repne scasb std 'o'"
n_repe_scasw:   .asciz  "repe scasw  spaces"
n_scas_zero:    .asciz  "repne scasb ecx=0"
n_cmps_zero:    .asciz  "repe cmpsb  ecx=0"
n_a16_movsb:    .asciz  "a16 rep movsb  si wraps"
n_a16_stosb:    .asciz  "a16 rep stosb  di wraps"
n_a16_cx0:      .asciz  "a16 rep movsb  cx=0"
n_a16_scasb:    .asciz  "a16 repne scasb wraps"
n_a16_movsw_bwd: .asciz "a16 std rep movsw"
n_a16_movsd:    .asciz  "a16 movsd si=FFFE"
n_a16_cmpsb:    .asciz  "a16 repe cmpsb wraps"
n_daa:          .asciz  "daa"
n_das:          .asciz  "das"
n_aaa:          .asciz  "aaa"
n_aas:          .asciz  "aas"
n_aam10:        .asciz  "aam 10 "
n_aam16:        .asciz  "aam 16 "
n_aam7:         .asciz  "aam 7  "
n_aam1:         .asciz  "aam 1  "
n_aam255:       .asciz  "aam 255"
n_aad10:        .asciz  "aad 10 "
n_aad16:        .asciz  "aad 16 "
n_aad7:         .asciz  "aad 7  "
n_aad0:         .asciz  "aad 0  "
n_aad255:       .asciz  "aad 255"

/* ================================================================== */
        .data
        /* writable: the CPU sets the descriptors' accessed bits */
        .balign 8
gdt:    .quad   0
        .quad   0x00CF9A000000FFFF      /* 0x08 flat code */
        .quad   0x00CF92000000FFFF      /* 0x10 flat data */
gdtr:   .word   3 * 8 - 1
        .long   gdt
idtr:   .word   32 * 8 - 1
        .long   idt

        .balign 4
r_flags:        .long   0
r_ecx:          .long   0
r_esi:          .long   0
r_edi:          .long   0
r_eax:          .long   0
b_esi:          .long   0
b_edi:          .long   0
de_resume:      .long   0
de_eip:         .long   0
de_count:       .long   0
guard_lo:       .byte   0
buf:            .skip   32
guard_hi:       .byte   0

        .bss
        .balign 8
idt:    .skip   32 * 8
        .balign 16
stack:  .skip   8192
stack_top:

        .section .note.GNU-stack, "", @progbits
