/*
 * bootsect.S - a floppy boot sector that starts a multiboot v1 kernel the
 * way a multiboot loader would, for machines that boot only from disk
 * (Bochs).  mkfloppy.sh lays the 1.44 MB image out as:
 *
 *   sector 0     this sector, with the kernel's entry point patched in
 *   sector 1     the kernel command line, NUL-terminated (bench/run
 *                rewrites it for each run)
 *   sector 2...  the kernel as a flat binary of its loadable segments,
 *                which load at 1 MiB (samples/common/link.ld)
 *
 * Real mode: INT 13h AH=02h reads one sector at a time (a multi-sector
 * read may not cross a track on every BIOS) to 0x10000, fast A20 through
 * port 0x92, then a flat GDT, CR0.PE and 32-bit code that copies the kernel
 * to 1 MiB and enters it with EAX = 0x2BADB002 and EBX = a multiboot info
 * structure that has only the command line (flags bit 2): the state the
 * multiboot v1 spec promises, which is all samples/common/boot.S needs.
 */
#define LOAD_SEG        0x1000          /* sectors 1.. land at 0x10000 */
#define LOAD_SECTORS    128             /* command line + 63.5 KiB of kernel */
#define KERNEL_ADDR     0x100000
#define MBI_ADDR        0x9000
#define SECTORS_PER_TRACK 18            /* 1.44 MB: 80 cylinders, 2 heads */
#define HEADS           2

        .code16
        .text
        .globl  _start
_start:
        cli
        xorw    %ax, %ax
        movw    %ax, %ds
        movw    %ax, %ss
        movw    $0x7C00, %sp
        ljmp    $0, $1f                 /* CS:IP = 0:7C00-based, whatever the BIOS used */
1:      movb    %dl, boot_drive
        movw    $LOAD_SEG, %ax
        movw    %ax, %es
        movw    $1, %si                 /* LBA of the next sector */

read_next:
        movw    %si, %ax                /* CHS from LBA: sector = lba % 18 + 1 */
        xorw    %dx, %dx
        movw    $SECTORS_PER_TRACK, %bx
        divw    %bx
        movb    %dl, %cl
        incb    %cl
        xorw    %dx, %dx                /* head = (lba / 18) % 2, cylinder = lba / 36 */
        movw    $HEADS, %bx
        divw    %bx
        movb    %al, %ch
        movb    %dl, %dh
        movb    boot_drive, %dl
        movw    $3, %di                 /* tries: a floppy may need its motor spun up */
retry:
        movw    $0x0201, %ax            /* read one sector to ES:0 */
        xorw    %bx, %bx
        int     $0x13
        jnc     read_ok
        xorb    %ah, %ah                /* reset the drive and try again */
        int     $0x13
        decw    %di
        jnz     retry
        movw    $disk_error, %si
        jmp     fail
read_ok:
        movw    %es, %ax
        addw    $512 / 16, %ax
        movw    %ax, %es
        incw    %si
        cmpw    $LOAD_SECTORS + 1, %si
        jb      read_next

        inb     $0x92, %al              /* fast A20 gate on, no reset */
        orb     $0x02, %al
        andb    $0xFE, %al
        outb    %al, $0x92

        lgdt    gdt_descriptor
        movl    %cr0, %eax
        orl     $1, %eax
        movl    %eax, %cr0
        ljmp    $0x08, $protected

/* Real-mode failure: the message on port 0xE9, then stop. */
fail:
        lodsb
        testb   %al, %al
        jz      1f
        outb    %al, $0xE9
        jmp     fail
1:      hlt
        jmp     1b

        .code32
protected:
        movw    $0x10, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        movw    %ax, %fs
        movw    %ax, %gs
        movl    $0x7C00, %esp
        cld
        movl    $LOAD_SEG * 16 + 512, %esi
        movl    $KERNEL_ADDR, %edi
        movl    $(LOAD_SECTORS - 1) * 512 / 4, %ecx
        rep movsl

        movl    $MBI_ADDR, %edi         /* a zeroed multiboot info: flags, ..., cmdline */
        xorl    %eax, %eax
        movl    $22, %ecx
        rep stosl
        movl    $4, MBI_ADDR            /* MULTIBOOT_INFO_CMDLINE */
        movl    $LOAD_SEG * 16, MBI_ADDR + 16
        movl    $0x2BADB002, %eax
        movl    $MBI_ADDR, %ebx
        jmp     *kernel_entry

        .p2align 3
gdt:
        .quad   0
        .quad   0x00CF9A000000FFFF      /* 0x08: flat 32-bit code, DPL 0 */
        .quad   0x00CF92000000FFFF      /* 0x10: flat data */
gdt_descriptor:
        .word   gdt_descriptor - gdt - 1
        .long   gdt

boot_drive:
        .byte   0
disk_error:
        .asciz  "bootsect: disk read failed\n"

/* mkfloppy.sh writes the kernel's ELF entry point here. */
        .org    504
        .globl  kernel_entry
kernel_entry:
        .long   0
        .org    510
        .word   0xAA55

        .section .note.GNU-stack, "", @progbits
