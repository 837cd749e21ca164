/*
 * paging: multiboot header, entry, a flat GDT of its own and the exception
 * stubs.  Everything else is in paging.c.
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000002                 /* memory info only */

        .section .multiboot, "a"
        .balign 4
        .long   MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

        .text
        .globl  start
start:
        lgdt    gdt_desc
        ljmp    $0x08, $1f
1:      movl    $0x10, %eax
        movl    %eax, %ds
        movl    %eax, %es
        movl    %eax, %fs
        movl    %eax, %gs
        movl    %eax, %ss
        movl    $stack_top, %esp
        call    pg_main
2:      cli
        hlt
        jmp     2b

/* exceptions 0..31: every stub pushes (error code or 0) and the vector */
        .macro  STUB v, has_err
        .balign 8
stub\v:
        .if \has_err == 0
        pushl   $0
        .endif
        pushl   $\v
        jmp     common
        .endm

        .irp    v, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        STUB    \v, 0
        .endr
        .irp    v, 8,10,11,12,13,14,17
        STUB    \v, 1
        .endr

common:
        pushal
        movl    %cr2, %eax
        pushl   %eax                        /* frame->cr2 */
        pushl   %esp
        call    trap
        addl    $8, %esp
        popal
        addl    $8, %esp
        iret

/* stub_addr[v] for the C side */
        .section .rodata
        .balign 4
        .globl  stub_addr
stub_addr:
        .irp    v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .long   stub\v
        .endr

        .balign 8
gdt:
        .quad   0
        .quad   0x00CF9A000000FFFF          /* 0x08 code, flat */
        .quad   0x00CF92000000FFFF          /* 0x10 data, flat */
gdt_end:
gdt_desc:
        .word   gdt_end - gdt - 1
        .long   gdt

/*
 * Probes whose faulting instruction must be known exactly.  EAX = address
 * (and EDX = value for stores).  probe_X_f is the access, probe_X_r the
 * place the #PF handler resumes at.
 */
        .text
        .globl  probe_read, probe_read_f, probe_read_r
probe_read:
probe_read_f:
        movl    (%eax), %eax
probe_read_r:
        ret

        .globl  probe_write, probe_write_f, probe_write_r
probe_write:
probe_write_f:
        movl    %edx, (%eax)
probe_write_r:
        ret

        /* call into a page that is not there: the fault is on the fetch */
        .globl  probe_fetch, probe_fetch_r
probe_fetch:
        call    *%eax
        ret
probe_fetch_r:
        addl    $4, %esp                    /* drop the call's return address */
        ret

        .bss
        .balign 16
stack:  .skip   16384
stack_top:

        .section .note.GNU-stack, "", @progbits
