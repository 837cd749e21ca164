/* samples/rom: a 64 KiB firmware image, from the reset vector to ring 3.
 *
 * The CPU leaves reset in real mode with CS = F000 (base FFFF0000) and
 * EIP = FFF0 (Intel SDM vol. 3, 9.1.4), i.e. at the last 16 bytes of this
 * image.  From there the ROM enables A20, enters protected mode, turns on
 * paging, loads a TSS and an IDT, drops to a ring-3 routine with IRET,
 * takes two system calls from it (INT 0x80) and exits through
 * isa-debug-exit.  Every step posts a code on port 0x80 and writes a line
 * to the debug console (port 0xE9); see README.md for the whole sequence.
 *
 * The ROM is read-only: everything the CPU or the code writes (stack,
 * page tables, GDT copy, IDT, TSS) lives in RAM below 1 MiB.
 */

#define DEBUGCON        0xE9
#define POST_PORT       0x80
#define EXIT_PORT       0xF4            /* isa-debug-exit: status (v << 1) | 1 */
#define COM1            0x3F8
#define SYSCTL_A        0x92            /* bit 1: A20 gate, bit 0: reset */

#define EXIT_OK         0x2A            /* QEMU exit status 85 */
#define EXIT_FAIL       0x01            /* QEMU exit status 3 */

#define ROM_SIZE        0x10000
#define ROM_BASE        0xFFFF0000      /* where the linker script puts us */

/* RAM layout (all below 1 MiB, so it works before A20 is on too). */
#define A20_PROBE       0x0600          /* probe byte; its alias is FFFF:0610 */
#define GDT_RAM         0x1000
#define IDT_RAM         0x2000
#define TSS_RAM         0x3000          /* also the base in the TSS descriptor */
#define USER_STACK_PAGE 0x5000          /* the only user-accessible RAM page */
#define BOOT_STACK_TOP  0x7000
#define RING0_STACK_TOP 0x8000          /* TSS.ESP0: used on INT 0x80 from ring 3 */
#define PAGE_DIR        0x10000
#define PT_LOW          0x11000         /* maps 0 - 4 MiB onto itself */
#define PT_HIGH         0x12000         /* maps the last 4 MiB: the ROM */

#define PTE_P           0x001
#define PTE_RW          0x002
#define PTE_US          0x004

#define KCODE           0x08
#define KDATA           0x10
#define UCODE           0x1B            /* index 3, RPL 3 */
#define UDATA           0x23            /* index 4, RPL 3 */
#define TSS_SEL         0x28

#define SYS_HELLO       1
#define SYS_EXIT        2

        .macro post code
        movb $\code, %al
        outb %al, $POST_PORT
        .endm
        .macro data_segments selector   /* DS, ES, FS and GS */
        mov $\selector, %ax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %fs
        mov %ax, %gs
        .endm

        .section .rom, "ax"
        .globl reset_vector
rom_start:

/* ---------------------------------------------------------------- real mode */
        .code16
        .macro say16 msg                /* the string is read through DS = F000 */
        mov $(\msg - rom_start), %si
        call puts16
        .endm

real_mode_entry:                        /* from the reset vector: CS = F000, base F0000 */
        cli
        cld
        xor %ax, %ax
        mov %ax, %ss
        mov $BOOT_STACK_TOP, %sp
        mov %cs, %ax
        mov %ax, %ds                    /* strings at F000:offset (the low alias) */
        post 0x02
        say16 msg_real
        mov %cs, %ax
        call puthex16
        mov $':', %al
        outb %al, $DEBUGCON
        call 1f                         /* CALL pushes the IP it returns to */
1:      pop %ax
        call puthex16
        mov $'\n', %al
        outb %al, $DEBUGCON

        /* A20: without it, bit 20 of every address is forced to 0 and
         * FFFF:0610 (= 0x100600) is the same byte as 0000:0600. */
        inb $SYSCTL_A, %al
        or $0x02, %al
        and $0xFE, %al                  /* writing bit 0 = 1 would reset the machine */
        outb %al, $SYSCTL_A
        xor %ax, %ax
        mov %ax, %es
        mov $0xFFFF, %ax
        mov %ax, %fs
        movb $0x00, %es:A20_PROBE
        movb $0xFF, %fs:A20_PROBE + 0x10
        cmpb $0x00, %es:A20_PROBE
        jne a20_failed
        post 0x03
        say16 msg_a20

        /* The 16-bit form of LGDT keeps only 24 bits of the base; the
         * operand-size prefix (lgdtl) loads all 32 and reaches FFFFxxxx. */
        lgdtl gdt_rom_pointer - rom_start
        post 0x04
        say16 msg_gdt_rom

        post 0x05
        say16 msg_pe
        mov %cr0, %eax
        or $1, %eax                     /* CR0.PE */
        mov %eax, %cr0
        ljmpl $KCODE, $pm_entry         /* loads CS from the GDT: 32-bit code */

a20_failed:
        post 0xE1
        say16 msg_a20_failed
        mov $EXIT_FAIL, %al
        outb %al, $EXIT_PORT
        hlt

/* Print the NUL-terminated string at DS:SI on the debug console. */
puts16:
        lodsb
        test %al, %al
        jz 1f
        outb %al, $DEBUGCON
        jmp puts16
1:      ret

/* Print AX as 4 hex digits on the debug console. */
puthex16:
        push %ax
        push %cx
        push %dx
        mov %ax, %dx
        mov $4, %cx
1:      rol $4, %dx                     /* next digit into the low nibble */
        mov %dl, %al
        and $0x0F, %al
        add $'0', %al
        cmp $'9', %al
        jbe 2f
        add $('A' - '9' - 1), %al
2:      outb %al, $DEBUGCON
        loop 1b
        pop %dx
        pop %cx
        pop %ax
        ret

/* ----------------------------------------------------------- protected mode */
        .code32
        .macro say msg
        mov $\msg, %esi
        call puts
        .endm
        .macro hex value, digits        /* value: any operand but %eax */
        mov \value, %eax
        mov $\digits, %ecx
        call puthex
        .endm

pm_entry:                               /* CS = 0008: flat 4 GiB, 32-bit, ring 0 */
        data_segments KDATA
        mov %ax, %ss
        mov $BOOT_STACK_TOP, %esp
        post 0x10
        say msg_pm
        mov %cs, %ebx
        hex %ebx, 4
        say msg_colon
        call 1f
1:      pop %ebx
        hex %ebx, 8
        say msg_newline

        /* LTR writes the busy bit into the TSS descriptor, and that write
         * must stick: the GDT moves to RAM.  (The accessed bits are preset,
         * so loading segments from the ROM copy wrote nothing.) */
        mov $gdt_rom, %esi
        mov $GDT_RAM, %edi
        mov $((gdt_end - gdt_rom) / 4), %ecx
        rep movsl
        lgdt gdt_ram_pointer
        ljmp $KCODE, $1f                /* reload CS from the new table */
1:      data_segments KDATA
        mov %ax, %ss
        post 0x11
        say msg_gdt_ram
        sub $8, %esp
        sgdt (%esp)                     /* read back what the CPU uses */
        hex 2(%esp), 8
        add $8, %esp
        say msg_newline

        /* Page tables: 0 - 4 MiB identity-mapped for the kernel, plus the
         * ROM at the top of the 4 GiB space, where this code runs. */
        mov $PAGE_DIR, %edi
        xor %eax, %eax
        mov $(3 * 1024), %ecx           /* directory and both tables */
        rep stosl
        mov $PT_LOW, %edi
        mov $(PTE_P | PTE_RW), %eax
        mov $1024, %ecx
1:      stosl
        add $4096, %eax
        loop 1b
        orl $PTE_US, PT_LOW + (USER_STACK_PAGE >> 12) * 4
        mov $(PT_HIGH + (1024 - ROM_SIZE / 4096) * 4), %edi
        mov $(ROM_BASE | PTE_P), %eax   /* read-only, supervisor */
        mov $(ROM_SIZE / 4096), %ecx
1:      stosl
        add $4096, %eax
        loop 1b
        orl $PTE_US, PT_HIGH + (1024 - ROM_SIZE / 4096 + (user_page - rom_start) / 4096) * 4
        movl $(PT_LOW | PTE_P | PTE_RW | PTE_US), PAGE_DIR
        movl $(PT_HIGH | PTE_P | PTE_RW | PTE_US), PAGE_DIR + 1023 * 4
        mov $PAGE_DIR, %eax
        mov %eax, %cr3
        mov %cr0, %eax
        or $0x80000000, %eax            /* CR0.PG */
        mov %eax, %cr0
        post 0x12
        say msg_paging
        mov %cr3, %ebx
        hex %ebx, 8
        say msg_newline

        /* IDT: every vector goes to unexpected_interrupt, except INT 0x80,
         * whose gate has DPL 3 so that ring 3 may raise it. */
        mov $IDT_RAM, %edi
        mov $unexpected_interrupt, %eax
        mov $0x8E00, %edx               /* present, DPL 0, 32-bit interrupt gate */
        mov $256, %ebx
1:      call set_gate
        add $8, %edi
        dec %ebx
        jnz 1b
        mov $(IDT_RAM + 0x80 * 8), %edi
        mov $syscall_entry, %eax
        mov $0xEE00, %edx               /* present, DPL 3, 32-bit interrupt gate */
        call set_gate
        lidt idt_pointer

        /* TSS: only SS0:ESP0 matter here, the stack the CPU switches to on
         * an interrupt from ring 3.  The I/O map base lies past the limit:
         * no port is open to ring 3. */
        mov $TSS_RAM, %edi
        xor %eax, %eax
        mov $(0x68 / 4), %ecx
        rep stosl
        movl $RING0_STACK_TOP, TSS_RAM + 4
        movl $KDATA, TSS_RAM + 8
        movw $0x68, TSS_RAM + 0x66
        mov $TSS_SEL, %ax
        ltr %ax
        post 0x13
        say msg_idt
        sub $8, %esp
        sidt (%esp)
        hex 2(%esp), 8
        add $8, %esp
        say msg_tss
        str %ebx
        hex %ebx, 4
        say msg_newline

        /* Ring 3: IRET pops EIP, CS, EFLAGS and, because CS.RPL > CPL,
         * also ESP and SS. */
        post 0x14
        say msg_iret
        hex $UCODE, 4
        say msg_colon
        hex $user_entry, 8
        say msg_newline
        data_segments UDATA
        push $UDATA                     /* SS */
        push $(USER_STACK_PAGE + 4096)  /* ESP */
        push $0x002                     /* EFLAGS: IF = 0, IOPL = 0 */
        push $UCODE                     /* CS */
        push $user_entry                /* EIP */
        iret

/* INT 0x80 from ring 3.  The CPU has switched to SS0:ESP0 from the TSS
 * and pushed the ring-3 SS, ESP, EFLAGS, CS and EIP.  EAX = function. */
syscall_entry:
        mov %esp, %ebp                  /* 0: EIP, 4: CS, 8: EFLAGS, 12: ESP, 16: SS */
        mov %eax, %ebx
        data_segments KDATA
        testb $3, 4(%ebp)               /* only ring 3 calls this gate */
        jz unexpected_interrupt
        cmp $SYS_EXIT, %ebx
        je finish
        cmp $SYS_HELLO, %ebx
        jne unexpected_interrupt
        post 0x15
        say msg_syscall
        hex 4(%ebp), 4
        say msg_colon
        hex 0(%ebp), 8
        say msg_kstack
        hex %ebp, 8
        say msg_newline
        data_segments UDATA
        iret

finish:                                 /* SYS_EXIT: we stay in ring 0 */
        post 0x16
        say msg_exit
        mov $(COM1 + 3), %dx            /* LCR: DLAB on, divisor 1 (115200) */
        mov $0x80, %al
        outb %al, %dx
        mov $COM1, %dx
        mov $1, %al
        outb %al, %dx
        inc %dx
        xor %al, %al
        outb %al, %dx
        mov $(COM1 + 3), %dx            /* LCR: 8 data bits, no parity, 1 stop */
        mov $0x03, %al
        outb %al, %dx
        mov $msg_serial, %esi
1:      lodsb
        test %al, %al
        jz 2f
        mov %al, %bl
        mov $(COM1 + 5), %dx            /* LSR: wait for THR empty */
3:      inb %dx, %al
        test $0x20, %al
        jz 3b
        mov $COM1, %dx
        mov %bl, %al
        outb %al, %dx
        jmp 1b
2:      mov $EXIT_OK, %al
        outb %al, $EXIT_PORT
        cli
        hlt

unexpected_interrupt:
        data_segments KDATA
        post 0xEE
        say msg_unexpected
        mov $EXIT_FAIL, %al
        outb %al, $EXIT_PORT
        cli
        hlt

/* Write the IDT gate at EDI: handler EAX, type/DPL/present bits DX. */
set_gate:
        push %eax
        mov %ax, (%edi)                 /* offset 15..0 */
        movw $KCODE, 2(%edi)
        mov %dx, 4(%edi)
        shr $16, %eax
        mov %ax, 6(%edi)                /* offset 31..16 */
        pop %eax
        ret

/* Print the NUL-terminated string at ESI on the debug console. */
puts:
        lodsb
        test %al, %al
        jz 1f
        outb %al, $DEBUGCON
        jmp puts
1:      ret

/* Print the low ECX hex digits (1-8) of EAX on the debug console. */
puthex:
        pushal
        mov %eax, %edx
        mov $8, %ebx
        sub %ecx, %ebx
        xchg %ebx, %ecx
        shl $2, %ecx
        shl %cl, %edx                   /* drop the digits not printed */
        mov %ebx, %ecx
1:      rol $4, %edx
        mov %dl, %al
        and $0x0F, %al
        add $'0', %al
        cmp $'9', %al
        jbe 2f
        add $('A' - '9' - 1), %al
2:      outb %al, $DEBUGCON
        loop 1b
        popal
        ret

/* ------------------------------------------------------------- data (ROM) */
        .balign 8
/* Code and data descriptors have the accessed bit already set, so loading
 * them from the ROM copy never needs a write. */
gdt_rom:
        .quad 0                         /* 0x00: null */
        .quad 0x00CF9B000000FFFF        /* 0x08: code, base 0, 4 GiB, 32-bit, DPL 0 */
        .quad 0x00CF93000000FFFF        /* 0x10: data, base 0, 4 GiB, DPL 0 */
        .quad 0x00CFFB000000FFFF        /* 0x18: code, DPL 3 */
        .quad 0x00CFF3000000FFFF        /* 0x20: data, DPL 3 */
        .word 0x0067, TSS_RAM           /* 0x28: 32-bit TSS, limit 0x67 */
        .byte 0x00, 0x89, 0x00, 0x00    /*       available, DPL 0 */
gdt_end:

gdt_rom_pointer:
        .word gdt_end - gdt_rom - 1
        .long gdt_rom                   /* the ROM's high address */
gdt_ram_pointer:
        .word gdt_end - gdt_rom - 1
        .long GDT_RAM
idt_pointer:
        .word 256 * 8 - 1
        .long IDT_RAM

msg_real:       .asciz "rom: real mode at "
msg_a20:        .asciz "rom: A20 enabled through port 0x92\n"
msg_a20_failed: .asciz "rom: A20 did not turn on\n"
msg_gdt_rom:    .asciz "rom: GDT in ROM loaded with a 32-bit LGDT\n"
msg_pe:         .asciz "rom: setting CR0.PE, far jump to 32-bit code\n"
msg_pm:         .asciz "rom: protected mode at "
msg_gdt_ram:    .asciz "rom: GDT copied to RAM, GDTR base "
msg_paging:     .asciz "rom: paging on, CR3 "
msg_idt:        .asciz "rom: IDTR base "
msg_tss:        .asciz ", task register "
msg_iret:       .asciz "rom: IRET to ring 3 at "
msg_syscall:    .asciz "rom: INT 0x80 from ring 3, returns to "
msg_kstack:     .asciz ", ring-0 ESP "
msg_exit:       .asciz "rom: exit system call, leaving through port 0xF4\n"
msg_unexpected: .asciz "rom: unexpected exception or interrupt\n"
msg_serial:     .asciz "rom: booted from the reset vector to ring 3 and back\n"
msg_colon:      .asciz ":"
msg_newline:    .asciz "\n"

/* --------------------------------------------------------- ring 3 (ROM) */
/* The only ROM page the user may read or execute (PTE_US): it calls the
 * kernel through the DPL-3 gate.  An OUT here would fault: IOPL is 0. */
        .balign 4096, 0xFF
user_page:
user_entry:
        mov $SYS_HELLO, %eax
        int $0x80
        mov $SYS_EXIT, %eax
        int $0x80
        ud2                             /* not reached */

/* ----------------------------------------------------------- reset vector */
        .code16
        .org 0xFFF0, 0xFF
reset_vector:                           /* linear FFFFFFF0, CS base FFFF0000 */
        post 0x01
        ljmp $0xF000, $(real_mode_entry - rom_start)
        .org ROM_SIZE, 0xFF
