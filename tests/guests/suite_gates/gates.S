/*
 * suite_gates: handlers, gate targets and the ring 0 / ring 3 code whose
 * stack frames gates.c checks.  Selectors match gates.c.
 */
#define KCODE 0x08
#define KDATA 0x10
#define UDATA 0x23
#define UCODE 0x1B
#define S_CONF 0x68

    .text
/* Interrupt/trap gate handler: the frame, ESP, EFLAGS, CS and SS on entry. */
    .globl gate_probe
gate_probe:
    movl %esp, probe_esp
    pushl %eax
    pushfl
    popl probe_eflags
    movl 4(%esp), %eax
    movl %eax, probe_frame
    movl 8(%esp), %eax
    movl %eax, probe_frame+4
    movl 12(%esp), %eax
    movl %eax, probe_frame+8
    movl 16(%esp), %eax
    movl %eax, probe_frame+12
    movl 20(%esp), %eax
    movl %eax, probe_frame+16
    xorl %eax, %eax
    movw %cs, %ax
    movl %eax, probe_cs
    movw %ss, %ax
    movl %eax, probe_ss
    popl %eax
    iret

    .globl k_int_gate_if, k_trap_gate_if, u_int40, u_int3, u_int42, u_int42_ret
k_int_gate_if:          /* EAX = EFLAGS after the IRET */
    sti
    int $0x40
    pushfl
    popl %eax
    cli
    ret
k_trap_gate_if:
    sti
    int $0x41
    cli
    ret
u_int40:
    int $0x40
    ret
u_int3:
    int3
    ret
u_int42:
    int $0x42
u_int42_ret:
    ret

/* IRET to ring 3 with DS=KDATA, ES=UDATA, FS=conforming code, GS=KDATA;
 * the ring 3 code stores what is left and returns through INT 0x7F. */
    .globl k_iret_nulling
k_iret_nulling:
    movw $KDATA, %ax
    movw %ax, %ds
    movw %ax, %gs
    movw $UDATA, %ax
    movw %ax, %es
    movw $S_CONF, %ax
    movw %ax, %fs
    pushl $UDATA
    pushl $suite_user_stack_top
    pushl $0x2
    pushl $UCODE
    pushl $u_seg_report
    iret
u_seg_report:
    movw %ds, %es:seen_seg
    movw %es, %es:seen_seg+2
    movw %fs, %es:seen_seg+4
    movw %gs, %es:seen_seg+6
    int $0x7F

/* Call gate targets */
    .globl cg_target_same, k_call_same, k_call_same_ret
cg_target_same:
    movl (%esp), %eax
    movl %eax, cg_frame
    movl 4(%esp), %eax
    movl %eax, cg_frame+4
    movl %esp, cg_esp
    lret
k_call_same:
    movl %esp, caller_esp
    lcall $0x30, $0
k_call_same_ret:
    ret

    .globl cg_target_inner, u_call_inner, u_call_inner_ret
cg_target_inner:
    movl %esp, cg_esp
    movl (%esp), %eax
    movl %eax, cg_frame
    movl 4(%esp), %eax
    movl %eax, cg_frame+4
    movl 8(%esp), %eax
    movl %eax, cg_frame+8
    movl 12(%esp), %eax
    movl %eax, cg_frame+12
    movl 16(%esp), %eax
    movl %eax, cg_frame+16
    movl 20(%esp), %eax
    movl %eax, cg_frame+20
    xorl %eax, %eax
    movw %cs, %ax
    movl %eax, cg_cs
    lret $8
u_call_inner:           /* EAX = ESP after the return */
    pushl $0x11111111
    pushl $0x22222222
    lcall $0x3B, $0
u_call_inner_ret:
    movl %esp, %eax
    ret

/* 16-bit gate: the target lives at offset 0 of a segment based on it.
 * It cannot return to a caller above 64 KiB through a 16-bit RET, so it
 * leaves through INT 0x7F. */
    .globl cg16_target, k_call16, k_call16_ret
cg16_target:
    movl (%esp), %eax
    movl %eax, cg_frame
    movl %esp, cg_esp
    int $0x7F
k_call16:
    movl %esp, caller_esp
    lcall $0x40, $0
k_call16_ret:
    ret

    .globl jmp_target, k_jmp_gate, k_jmp_gate16
jmp_target:             /* EAX = ESP: unchanged by a JMP */
    movl %esp, %eax
    int $0x7F
k_jmp_gate:
    movl %esp, caller_esp
    ljmp $0x78, $0
k_jmp_gate16:
    movl %esp, caller_esp
    ljmp $0x80, $0

    .globl k_call_rpl3, u_call_dpl0, k_call_np, k_call_outer, k_call_data
    .globl u_jmp_inner, u_call_direct_inner, u_call_conforming, u_call_gate_conforming
    .globl conf_target
k_call_rpl3:
    lcall $0x33, $0
    ret
u_call_dpl0:
    lcall $0x33, $0
    ret
k_call_np:
    lcall $0x50, $0
    ret
k_call_outer:
    lcall $0x58, $0
    ret
k_call_data:
    lcall $0x60, $0
    ret
u_jmp_inner:
    ljmp $0x3B, $0
u_call_direct_inner:
    lcall $0x0B, $cg_target_same
    ret
conf_target:            /* EAX = CS */
    xorl %eax, %eax
    movw %cs, %ax
    lret
u_call_conforming:
    lcall $S_CONF|3, $conf_target
    ret
u_call_gate_conforming:
    lcall $0x73, $0
    ret

    .bss
    .balign 4
    .globl probe_frame, probe_esp, probe_eflags, probe_cs, probe_ss, seen_seg
    .globl cg_frame, cg_esp, cg_cs, caller_esp
probe_frame: .skip 20
probe_esp: .long 0
probe_eflags: .long 0
probe_cs: .long 0
probe_ss: .long 0
seen_seg: .skip 8
cg_frame: .skip 24
cg_esp: .long 0
cg_cs: .long 0
caller_esp: .long 0
