/*
 * Multiboot v1 header and entry point shared by the vtlab guest programs.
 *
 * Entry state (multiboot v1): 32-bit protected mode, paging off, flat
 * CS/DS/ES/SS set up by the loader, interrupts disabled, EAX = 0x2BADB002,
 * EBX = physical address of the multiboot information structure.  ESP is
 * undefined, so the first thing we need is a stack of our own.
 */

#define MB_MAGIC        0x1BADB002
#define MB_PAGE_ALIGN   (1 << 0)        /* modules page aligned */
#define MB_MEMORY_INFO  (1 << 1)        /* mem_lower/mem_upper please */
#define MB_FLAGS        (MB_PAGE_ALIGN | MB_MEMORY_INFO)

#define STACK_SIZE      16384

        .section .multiboot, "a"
        .p2align 2
multiboot_header:
        .long   MB_MAGIC
        .long   MB_FLAGS
        .long   -(MB_MAGIC + MB_FLAGS)  /* checksum: the three sum to 0 */

        .text
        .globl  _start
        .type   _start, @function
_start:
#ifndef GUEST_PARAVIRT /* a paravirtual kernel starts with events off and may not run CLI */
        cli
#endif
        cld
        movl    %eax, %esi              /* keep magic and MBI address safe */
        movl    %ebx, %edx              /* while rep stosb uses EAX/ECX/EDI */

        /* zero .bss (the stack lives there too; it is not in use yet) */
        movl    $__bss_start, %edi
        movl    $__bss_end, %ecx
        subl    %edi, %ecx
        xorl    %eax, %eax
        rep stosb

        movl    $boot_stack_top, %esp
        xorl    %ebp, %ebp              /* terminates frame-pointer walks */
        pushl   $0x2                    /* EFLAGS: only the reserved bit 1 */
        popfl

        subl    $8, %esp                /* keep ESP 16-byte aligned at the call */
        pushl   %edx                    /* kmain(magic, mbi_addr) */
        pushl   %esi
        call    kmain
        addl    $16, %esp

        pushl   %eax                    /* debug_exit(kmain's return value) */
        call    debug_exit
1:      cli
        hlt
        jmp     1b
        .size   _start, . - _start

        .bss
        .p2align 4
        .globl  boot_stack_bottom, boot_stack_top
boot_stack_bottom:
        .skip   STACK_SIZE
boot_stack_top:

        .section .note.GNU-stack, "", @progbits
