/*
 * suite_segmentation: protected -> real -> protected mode round trip.
 * The 16-bit blob between rm_blob and rm_blob_end is copied to 0x7000
 * (REALMODE_BASE) by the C side; inside it every address is an offset from
 * rm_blob, so it runs from CS base 0x7000 in 16-bit protected mode and from
 * CS=0x0700 in real mode.  FS keeps the 4 GiB limit of KDATA across the
 * switch (real-mode segment loads change only the base), which is unreal
 * mode: the blob reads and writes above 1 MiB through FS with a 32-bit
 * address.  It also takes an INT through the real-mode IVT.
 */
#define S_CODE16 0xA8
#define S_DATA16 0xB0
#define BASE 0x7000
#define OFF(x) ((x) - rm_blob)

    .text
    .code32
    .globl realmode_roundtrip
realmode_roundtrip:
    pushl %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    movl %esp, saved_esp
    sidt BASE + OFF(rm_pm_idtr)
    movw $0x10, %ax
    movw %ax, %fs
    movw $S_DATA16, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %gs
    movw %ax, %ss
    ljmp $S_CODE16, $OFF(pm16)

pm32_back:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl saved_esp, %esp
    popl %edi
    popl %esi
    popl %ebx
    popl %ebp
    ret

    .section .rodata
    .globl rm_blob, rm_blob_end, rm_cs_seen, rm_int_seen, rm_unreal_read
    .code16
rm_blob:
pm16:
    movl %cr0, %eax
    andl $~1, %eax
    movl %eax, %cr0
    ljmp $(BASE >> 4), $OFF(rm_entry)
rm_entry:
    movw %cs, %ax
    movw %ax, %ds
    xorw %ax, %ax
    movw %ax, %ss
    movw $BASE, %sp
    movw %cs, OFF(rm_cs_seen)
    lidtl OFF(rm_ivt)
    movw $0x1234, %ax
    movw %ax, %es
    movw $0xBEEF, %es:0x0010
    xorw %ax, %ax
    movw %ax, %es
    movw $OFF(rm_isr), %es:0x50*4
    movw %cs, %es:0x50*4+2
    int $0x50
    addr32 movl %fs:0x200000, %eax
    movl %eax, OFF(rm_unreal_read)
    movl $0xC0FFEE00, %eax
    addr32 movl %eax, %fs:0x200004
    lidtl OFF(rm_pm_idtr)
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $0x08, $pm32_back
rm_isr:
    movw $0x4E54, OFF(rm_int_seen)
    iret
    .balign 4
rm_unreal_read: .long 0
rm_cs_seen: .word 0
rm_int_seen: .word 0
rm_ivt: .word 0x3FF
    .long 0
rm_pm_idtr: .word 0
    .long 0
rm_blob_end:
    .code32

    .bss
    .balign 4
saved_esp: .long 0
