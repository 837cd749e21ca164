/*
 * long_mode entry: multiboot v1 header, the 32-bit stub that enters long
 * mode (SDM vol. 3 9.8.5: PAE, CR3, EFER.LME, then CR0.PG; a far jump to a
 * code segment with L=1), the GDT and the static 4-level page tables.
 * Linked as elf64 and converted to elf32-i386 (QEMU's multiboot loader
 * takes no ELF64); the stub is .code32, everything after long_entry 64-bit.
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000002
#define COM1 0x3F8

        .section .multiboot, "a"
        .balign 4
        .long   MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

        .text
        .code32
        .globl  _start
_start:
        cli
        movl    %eax, mb_magic
        movl    %ebx, mb_info
        movl    $boot_stack_top, %esp
        lgdt    gdt_desc
        ljmp    $0x30, $1f              /* KCODE32 */
1:      movl    $0x10, %eax
        movl    %eax, %ds
        movl    %eax, %es
        movl    %eax, %fs
        movl    %eax, %gs
        movl    %eax, %ss
        /* A line from protected mode: what a CPU without long mode prints. */
        movl    $banner32, %esi
2:      lodsb
        testb   %al, %al
        jz      4f
        movb    %al, %cl
3:      movw    $COM1 + 5, %dx
        inb     %dx, %al
        testb   $0x20, %al
        jz      3b
        movw    $COM1, %dx
        movb    %cl, %al
        outb    %al, %dx
        jmp     2b
4:      /* mask both 8259As: nothing may interrupt, even with IF=1 */
        movb    $0xFF, %al
        outb    %al, $0x21
        outb    %al, $0xA1
        movl    %cr4, %eax
        orl     $0x20, %eax             /* PAE */
        movl    %eax, %cr4
        movl    $pml4, %eax
        movl    %eax, %cr3
        movl    $0xC0000080, %ecx
        rdmsr
        orl     $0x900, %eax            /* LME | NXE */
        wrmsr
        movl    %cr0, %eax
        orl     $0x80010001, %eax       /* PG | WP | PE */
        movl    %eax, %cr0              /* activates IA-32e mode: EFER.LMA */
        ljmp    $0x08, $long_entry

        .code64
long_entry:
        movl    $0x10, %eax
        movl    %eax, %ds
        movl    %eax, %es
        movl    %eax, %ss
        movabsq $kstack_top, %rsp       /* movabs: the upper half must be 0 */
        call    lm_main
5:      hlt
        jmp     5b

        .section .rodata
banner32:
        .asciz  "long_mode: 32-bit stub entering long mode (PAE, EFER.LME, CR0.PG)\n"

        .data
        .globl  mb_magic, mb_info
        .balign 4
mb_magic: .long 0
mb_info:  .long 0

        .balign 16
        .globl  gdt
gdt:
        .quad   0
        .quad   0x00AF9A000000FFFF      /* 0x08 kernel code 64: L=1, D=0 */
        .quad   0x00CF92000000FFFF      /* 0x10 kernel data, B=1 */
        .quad   0x00CFFA000000FFFF      /* 0x18 user code 32 (DPL 3) */
        .quad   0x00CFF2000000FFFF      /* 0x20 user data (DPL 3) */
        .quad   0x00AFFA000000FFFF      /* 0x28 user code 64 (DPL 3) */
        .quad   0x00CF9A000000FFFF      /* 0x30 kernel code 32 */
        .quad   0, 0                    /* 0x38 TSS, filled by lm_main */
gdt_end:
        .globl  gdt_desc
gdt_desc:
        .word   gdt_end - gdt - 1
        .quad   gdt

/* Page tables.  Entries: P|RW|US = 7, PS = 0x80. */
        .balign 4096
        .globl  pml4
pml4:   .quad   pdpt0 + 7
        .fill   511, 8, 0
pdpt0:  .quad   pd0 + 7
        .quad   0x00000000 + 0x87       /* 1 GiB page: 0x40000000 -> phys 0 */
        .fill   510, 8, 0
pd0:    .quad   pt0 + 7
        .set    addr, 0x200000
        .rept   7
        .quad   addr + 0x87             /* 2 MiB pages 2..16 MiB */
        .set    addr, addr + 0x200000
        .endr
        .quad   pt_test + 7             /* 16 MiB: the probe pages */
        .fill   503, 8, 0
pt0:    .quad   0                       /* page 0 stays unmapped */
        .set    addr, 0x1000
        .rept   511
        .quad   addr + 7
        .set    addr, addr + 0x1000
        .endr
        .globl  pt_test
pt_test:
        .fill   512, 8, 0

        .bss
        .balign 16
        .globl  idt, tss64
idt:    .space  256 * 16
tss64:  .space  104
        .balign 16
        .space  4096
boot_stack_top:
        .globl  kstack_top, rsp0_top, ist1_top, user_stack_top, sys_stack_top
        .space  16384
kstack_top:
        .space  4096
rsp0_top:
        .space  4096
ist1_top:
        .space  8192
user_stack_top:
        .space  4096
sys_stack_top:
