/*
 * aout_kludge: multiboot v1 header using the a.out kludge (flag bit 16).
 *
 * The image is a flat binary (objcopy -O binary): the loader sees no ELF
 * headers and must take everything from the address fields below.  The
 * header deliberately does not sit at file offset 0 and the entry point is
 * not the first byte, so a loader that assumes either gets it wrong.
 */
#define MB_MAGIC  0x1BADB002
#define MB_FLAGS  0x00010003            /* a.out kludge | mem info | page-align */

        .section .preamble, "ax"
        .ascii  "vtlab aout_kludge flat image\0\0\0\0"   /* 32 bytes, not code */

        .section .mbheader, "a"
        .balign 4
        .globl  mb_header
mb_header:
        .long   MB_MAGIC
        .long   MB_FLAGS
        .long   -(MB_MAGIC + MB_FLAGS)
        .long   mb_header               /* header_addr */
        .long   __load_start            /* load_addr */
        .long   __load_end              /* load_end_addr */
        .long   __bss_end               /* bss_end_addr */
        .long   entry                   /* entry_addr */

        .text
        .globl  entry
entry:
        movl    $boot_stack_top, %esp
        xorl    %ecx, %ecx
        pushl   %ecx                    /* a zero frame for debuggers */
        movl    %esp, %ebp
        pushl   %ebx                    /* multiboot info */
        pushl   %eax                    /* magic */
        call    kmain
1:      cli
        hlt
        jmp     1b

        .section .trailer, "a"
        .rept   16
        .ascii  "TRAILER!"
        .endr

        .bss
        .balign 16
boot_stack:
        .skip   16384
boot_stack_top:

        .section .note.GNU-stack, "", @progbits
