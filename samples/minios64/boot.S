/*
 * minios64 boot: multiboot v1 header and the way from the loader's 32-bit
 * protected mode into long mode (SDM vol. 3 9.8.5): zero .bss, a boot GDT
 * with a 64-bit code segment, CR4.PAE, CR3 = the kernel PML4, EFER.LME,
 * CR0.PG|WP (which sets EFER.LMA), a far jump to 64-bit code, kmain.
 *
 * The kernel page tables are static: PML4[0] -> kernel_pdpt -> kernel_pd,
 * which maps 0-1 GiB identity, supervisor-only: the first 2 MiB through
 * kernel_pt0 in 4 KiB pages (page 0 not present, so a null pointer
 * faults), the rest in 2 MiB pages.  Every process's PML4 shares entry 0.
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000002

        .section .multiboot, "a"
        .balign 4
        .long   MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

        .text
        .code32
        .globl  _start
_start:
        cli
        cld
        movl    %eax, %esi              /* magic and MBI survive rep stosb */
        movl    %ebx, %ebp
        movl    $__bss_start, %edi
        movl    $__bss_end, %ecx
        subl    %edi, %ecx
        xorl    %eax, %eax
        rep stosb
        movl    $boot_stack_top, %esp
        lgdt    boot_gdt_desc
        movl    %cr4, %eax
        orl     $0x20, %eax             /* PAE */
        movl    %eax, %cr4
        movl    $kernel_pml4, %eax
        movl    %eax, %cr3
        movl    $0xC0000080, %ecx       /* IA32_EFER */
        rdmsr
        orl     $0x100, %eax            /* LME */
        wrmsr
        movl    %cr0, %eax
        orl     $0x80010000, %eax       /* PG | WP */
        movl    %eax, %cr0
        ljmp    $0x08, $long_mode

        .code64
long_mode:
        movl    $0x10, %eax
        movl    %eax, %ds
        movl    %eax, %es
        movl    %eax, %ss
        movl    %esi, %edi              /* kmain(magic, mbi) */
        movl    %ebp, %esi
        xorl    %ebp, %ebp
        call    kmain
        movl    %eax, %edi
        call    debug_exit

        .data
        .balign 16
boot_gdt:
        .quad   0
        .quad   0x00AF9A000000FFFF      /* 0x08: 64-bit code (L=1) */
        .quad   0x00CF92000000FFFF      /* 0x10: data */
boot_gdt_desc:
        .word   boot_gdt_desc - boot_gdt - 1
        .quad   boot_gdt

        .balign 4096
        .globl  kernel_pml4, kernel_pdpt
kernel_pml4:
        .quad   kernel_pdpt + 3         /* P | RW, supervisor */
        .fill   511, 8, 0
kernel_pdpt:
        .quad   kernel_pd + 3
        .fill   511, 8, 0
kernel_pd:
        .quad   kernel_pt0 + 3
        .set    addr, 0x200000
        .rept   511
        .quad   addr + 0x83             /* 2 MiB page: P | RW | PS */
        .set    addr, addr + 0x200000
        .endr
kernel_pt0:
        .quad   0
        .set    addr, 0x1000
        .rept   511
        .quad   addr + 3
        .set    addr, addr + 0x1000
        .endr

        .bss
        .balign 16
        .globl  boot_stack_top
        .space  16384
boot_stack_top:
