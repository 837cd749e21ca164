/* tests/guests/boot_sector: a 512-byte boot sector that starts in real mode
 * and switches to protected mode, in a 64 KiB firmware image, for the gdb
 * stub's real-mode test (tests/e2e/gdb_real_mode_test.cpp).
 *
 * vtlab has no disk firmware, so the image plays the BIOS's last part
 * itself: from the reset vector (F000:FFF0, SDM vol. 3, 9.1.4) it copies
 * the boot sector to 0000:7C00 and jumps there with DL = 0x80, as INT 19h
 * does.  The boot sector writes a line on COM1, loads a GDT, sets CR0.PE,
 * far-jumps into 32-bit code (SDM vol. 3, 9.9.1), loads flat data segments,
 * writes a second line and exits through isa-debug-exit (status 0x21:
 * vtlab exits with (0x21 << 1) | 1 = 67).
 *
 * Built with samples/rom/link.ld (64 KiB at the top of 4 GiB).  The boot
 * sector is assembled inside the image but runs at 0x7C00: AT() turns a
 * label into its address there.
 */

#define COM1            0x3F8
#define EXIT_PORT       0xF4
#define BOOT_ADDR       0x7C00
#define CODE32          0x08
#define DATA32          0x10
#define AT(label)       ((label) - boot_sector + BOOT_ADDR)

        .section .rom, "ax"
        .globl reset_vector
rom_start:

/* ------------------------------------------------------------- the boot sector */
        .code16
        .globl boot_sector, far_jump, protected_entry
boot_sector:
        cli
        xor %ax, %ax
        mov %ax, %ds
        mov %ax, %ss
        mov $BOOT_ADDR, %sp
        mov $AT(msg_real), %si
1:      lodsb                           /* DS:SI, DS = 0 */
        test %al, %al
        jz 2f
        mov $COM1, %dx
        outb %al, %dx
        jmp 1b
2:      lgdt AT(gdt_pointer)
        mov %cr0, %eax
        or $1, %eax                     /* CR0.PE */
        mov %eax, %cr0
far_jump:
        ljmp $CODE32, $AT(protected_entry)

        .code32
protected_entry:
        mov $DATA32, %ax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %ss
        mov $BOOT_ADDR, %esp
        mov $AT(msg_protected), %esi
        mov $COM1, %dx
1:      lodsb
        test %al, %al
        jz 2f
        outb %al, %dx
        jmp 1b
2:      mov $0x21, %al
        outb %al, $EXIT_PORT
        hlt

        .p2align 3
gdt:
        .quad 0
        .quad 0x00CF9A000000FFFF        /* 0x08: code, base 0, 4 GiB, 32-bit, DPL 0 */
        .quad 0x00CF92000000FFFF        /* 0x10: data, base 0, 4 GiB, writable */
gdt_pointer:
        .word gdt_pointer - gdt - 1
        .long AT(gdt)
msg_real:
        .asciz "boot sector: real mode\n"
msg_protected:
        .asciz "boot sector: protected mode\n"

        .org boot_sector + 510
        .byte 0x55, 0xAA                /* the boot signature */

/* ------------------------------------------------- the BIOS's INT 19h, in short */
        .code16
load_boot_sector:                       /* from the reset vector: CS = F000, base FFFF0000 */
        cli
        cld
        mov $0xF000, %ax                /* the image's shadow below 1 MiB */
        mov %ax, %ds
        xor %ax, %ax
        mov %ax, %es
        mov $(boot_sector - rom_start), %si
        mov $BOOT_ADDR, %di
        mov $256, %cx
        rep movsw
        mov $0x80, %dl                  /* the boot drive: the first hard disk */
        ljmp $0, $BOOT_ADDR

        .org rom_start + 0xFFF0
reset_vector:
        jmp load_boot_sector
        .org rom_start + 0x10000
