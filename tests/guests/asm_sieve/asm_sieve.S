/*
 * asm_sieve: pure GNU assembler (AT&T syntax) multiboot v1 ELF kernel.
 *
 * No C, no runtime, no GDT of its own: it runs on the flat segments the
 * loader leaves behind and never loads a segment register or takes an
 * interrupt.  It initialises the 16550 fully (DLAB, divisor, 8N1, FIFO)
 * and polls LSR.THRE (bit 5) before every byte.
 *
 * Output:
 *   the number of primes below 10000 and the last five of them (sieve),
 *   a sum and an FNV-1a hash of a 64 KiB buffer filled by an LCG,
 * then it writes 0x21 (32-bit OUT) to isa-debug-exit at 0xF4: status 67.
 */

#define MB_MAGIC    0x1BADB002
#define MB_FLAGS    0x00000003          /* page-align modules, want mem info */
#define COM1        0x3F8
#define SIEVE_N     10000
#define LCG_BYTES   65536
#define EXIT_PORT   0xF4
#define EXIT_CODE   0x21

        .section .multiboot, "a"
        .balign 4
mb_header:
        .long   MB_MAGIC
        .long   MB_FLAGS
        .long   -(MB_MAGIC + MB_FLAGS)

        .text
        .globl  _start
_start:
        cli
        movl    $stack_top, %esp
        cld
        call    uart_init

        movl    $msg_hello, %esi
        call    puts

        /* ---- sieve of Eratosthenes over composite[0..SIEVE_N) ---- */
        movl    $composite, %edi
        movl    $SIEVE_N, %ecx
        xorl    %eax, %eax
        rep stosb                       /* do not trust the loader to zero .bss */
        movb    $1, composite+0
        movb    $1, composite+1

        movl    $2, %ebx                /* ebx = i */
1:      movl    %ebx, %eax
        mull    %ebx                    /* eax = i*i */
        cmpl    $SIEVE_N, %eax
        jae     3f
        cmpb    $0, composite(%ebx)
        jne     2f
4:      movb    $1, composite(%eax)     /* j = i*i, i*i+i, ... */
        addl    %ebx, %eax
        cmpl    $SIEVE_N, %eax
        jb      4b
2:      incl    %ebx
        jmp     1b

3:      /* count the primes */
        xorl    %edx, %edx              /* count */
        xorl    %ecx, %ecx
5:      cmpb    $0, composite(%ecx)
        jne     6f
        incl    %edx
6:      incl    %ecx
        cmpl    $SIEVE_N, %ecx
        jb      5b

        movl    $msg_count, %esi
        call    puts
        movl    %edx, %eax
        call    putdec
        movb    $'\n', %al
        call    putc

        /* the last five primes: scan downwards, push them, pop in order */
        movl    $SIEVE_N-1, %ecx
        xorl    %edx, %edx              /* found so far */
7:      cmpb    $0, composite(%ecx)
        jne     8f
        pushl   %ecx
        incl    %edx
        cmpl    $5, %edx
        je      9f
8:      decl    %ecx
        jnz     7b
9:      movl    $msg_last, %esi
        call    puts
10:     popl    %eax
        movb    $' ', %bl
        call    putc_bl
        call    putdec
        decl    %edx
        jnz     10b
        movb    $'\n', %al
        call    putc

        /* ---- 64 KiB LCG buffer (Numerical Recipes constants) ---- */
        movl    $0x12345678, %eax
        movl    $lcgbuf, %edi
        movl    $LCG_BYTES, %ecx
11:     imull   $1664525, %eax, %eax
        addl    $1013904223, %eax
        movl    %eax, %edx
        shrl    $24, %edx
        movb    %dl, (%edi)
        incl    %edi
        loop    11b
        movl    %eax, lcg_state

        /* sum of bytes, and FNV-1a over the bytes */
        xorl    %ebx, %ebx              /* sum */
        movl    $0x811C9DC5, %ebp       /* fnv */
        movl    $lcgbuf, %esi
        movl    $LCG_BYTES, %ecx
12:     movzbl  (%esi), %eax
        addl    %eax, %ebx
        xorl    %eax, %ebp
        imull   $16777619, %ebp, %ebp
        incl    %esi
        decl    %ecx
        jnz     12b

        movl    $msg_lcg, %esi
        call    puts
        movl    lcg_state, %eax
        call    puthex
        movl    $msg_sum, %esi
        call    puts
        movl    %ebx, %eax
        call    puthex
        movl    $msg_fnv, %esi
        call    puts
        movl    %ebp, %eax
        call    puthex
        movb    $'\n', %al
        call    putc

        /* a 32-bit rotate-xor over the buffer read as dwords, backwards */
        std
        movl    $lcgbuf+LCG_BYTES-4, %esi
        movl    $LCG_BYTES/4, %ecx
        xorl    %ebx, %ebx
13:     lodsl
        roll    $7, %ebx
        xorl    %eax, %ebx
        loop    13b
        cld
        movl    $msg_rot, %esi
        call    puts
        movl    %ebx, %eax
        call    puthex
        movb    $'\n', %al
        call    putc

        movl    $msg_bye, %esi
        call    puts

        /* wait for the transmitter to drain, then exit via isa-debug-exit */
        movw    $COM1+5, %dx
14:     inb     %dx, %al
        testb   $0x40, %al              /* TEMT */
        jz      14b
        movl    $EXIT_CODE, %eax
        movw    $EXIT_PORT, %dx
        outl    %eax, %dx
15:     cli
        hlt
        jmp     15b

/* ---------------------------------------------------------------- */
/* uart_init: 115200 8N1, FIFO on, no interrupts                     */
uart_init:
        movw    $COM1+1, %dx
        xorb    %al, %al
        outb    %al, %dx                /* IER = 0 */
        movw    $COM1+3, %dx
        movb    $0x80, %al
        outb    %al, %dx                /* LCR: DLAB = 1 */
        movw    $COM1+0, %dx
        movb    $1, %al
        outb    %al, %dx                /* DLL = 1 */
        movw    $COM1+1, %dx
        xorb    %al, %al
        outb    %al, %dx                /* DLM = 0 */
        movw    $COM1+3, %dx
        movb    $0x03, %al
        outb    %al, %dx                /* LCR: 8N1, DLAB = 0 */
        movw    $COM1+2, %dx
        movb    $0xC7, %al
        outb    %al, %dx                /* FCR: enable + clear, 14-byte trigger */
        movw    $COM1+4, %dx
        movb    $0x03, %al
        outb    %al, %dx                /* MCR: DTR | RTS */
        ret

/* putc: byte in %al; polls LSR bit 5 first.  Preserves all registers. */
putc:
        pushl   %edx
        pushl   %eax
        movw    $COM1+5, %dx
1:      inb     %dx, %al
        testb   $0x20, %al
        jz      1b
        popl    %eax
        movw    $COM1, %dx
        outb    %al, %dx
        popl    %edx
        ret

/* putc_bl: putc of %bl, preserves %eax */
putc_bl:
        pushl   %eax
        movb    %bl, %al
        call    putc
        popl    %eax
        ret

/* puts: NUL-terminated string at %esi.  Preserves all but %esi. */
puts:
        pushl   %eax
1:      movb    (%esi), %al
        incl    %esi
        testb   %al, %al
        jz      2f
        call    putc
        jmp     1b
2:      popl    %eax
        ret

/* putdec: unsigned %eax in decimal.  Preserves all registers. */
putdec:
        pushal
        movl    $10, %ecx
        xorl    %ebx, %ebx              /* digit count */
1:      xorl    %edx, %edx
        divl    %ecx
        pushl   %edx
        incl    %ebx
        testl   %eax, %eax
        jnz     1b
2:      popl    %eax
        addb    $'0', %al
        call    putc
        decl    %ebx
        jnz     2b
        popal
        ret

/* puthex: %eax as 8 hex digits.  Preserves all registers. */
puthex:
        pushal
        movl    %eax, %edx
        movl    $8, %ecx
1:      roll    $4, %edx
        movl    %edx, %eax
        andl    $0xF, %eax
        movb    hexdigits(%eax), %al
        call    putc
        loop    1b
        popal
        ret

        .section .rodata
hexdigits:  .ascii "0123456789abcdef"
msg_hello:  .asciz "asm_sieve: pure assembler multiboot kernel\n"
msg_count:  .asciz "primes below 10000: "
msg_last:   .asciz "last five:"
msg_lcg:    .asciz "lcg final="
msg_sum:    .asciz " sum="
msg_fnv:    .asciz " fnv1a="
msg_rot:    .asciz "rotxor dwords backwards="
msg_bye:    .asciz "asm_sieve: done, exit 0x21\n"

        .bss
        .balign 16
lcg_state:  .skip 4
composite:  .skip SIEVE_N
        .balign 4096
lcgbuf:     .skip LCG_BYTES
        .balign 16
stack:      .skip 8192
stack_top:

        .section .note.GNU-stack, "", @progbits
