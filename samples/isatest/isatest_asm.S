/*
 * Assembly side of isatest: exception entry stubs, and the stack and call
 * helpers that cannot be written as inline asm because they move ESP/EBP
 * under the compiler's feet.
 */

/* ---- exception stubs --------------------------------------------------------
 * Each stub makes the stack look the same: [vector][error code][EIP CS EFLAGS]
 * (a dummy 0 error code for vectors where the CPU pushes none), then
 * isr_common saves the GPRs with PUSHAD and calls exc_handler(frame).     */

        .text
        .macro ISR v
isr_\v:
        .if (\v == 8) || ((\v >= 10) && (\v <= 14)) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30)
        .else
        pushl   $0
        .endif
        pushl   $\v
        jmp     isr_common
        .endm

        .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        ISR     \v
        .endr

isr_common:
        pushal
        cld
        movl    %esp, %eax
        pushl   %eax
        call    exc_handler
        addl    $4, %esp
        popal
        addl    $8, %esp                /* vector and error code */
        iretl

        .section .rodata
        .p2align 2
        .globl  isr_table
isr_table:
        .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .long   isr_\v
        .endr

/* ---- stack helpers: results go to stk_out[] -------------------------------- */

        .bss
        .p2align 2
        .globl  stk_out
stk_out:
        .skip   32 * 4
fake_frame:
        .skip   64
        .globl  fake_frame_top
fake_frame_top:
        .skip   16

        .text

/* t_pusha: out[0..7] = PUSHAD image (EDI ESI EBP ESP EBX EDX ECX EAX),
 * out[8] = ESP before PUSHAD, out[9] = ESP after POPAD,
 * out[10..16] = EAX ECX EDX EBX EBP ESI EDI after POPAD.
 * Before POPAD the EAX slot becomes 0xAAAAAAAA and the ESP slot garbage. */
        .globl  t_pusha
t_pusha:
        pushl   %ebp
        pushl   %ebx
        pushl   %esi
        pushl   %edi
        movl    $0x11111111, %eax
        movl    $0x22222222, %ecx
        movl    $0x33333333, %edx
        movl    $0x44444444, %ebx
        movl    $0x55555555, %ebp
        movl    $0x66666666, %esi
        movl    $0x77777777, %edi
        movl    %esp, stk_out + 8*4
        pushal
        .irp off, 0,4,8,12,16,20,24,28
        movl    \off(%esp), %eax
        movl    %eax, stk_out + \off
        .endr
        movl    $0xAAAAAAAA, 28(%esp)
        movl    $0xDEAD0000, 12(%esp)
        popal
        movl    %esp, stk_out + 9*4
        movl    %eax, stk_out + 10*4
        movl    %ecx, stk_out + 11*4
        movl    %edx, stk_out + 12*4
        movl    %ebx, stk_out + 13*4
        movl    %ebp, stk_out + 14*4
        movl    %esi, stk_out + 15*4
        movl    %edi, stk_out + 16*4
        popl    %edi
        popl    %esi
        popl    %ebx
        popl    %ebp
        ret

/* t_pushaw: out[0] = ESP before PUSHAW, out[1] = ESP after it,
 * out[2] = the AX slot, out[5] = the SP slot, out[3] = EAX after POPAW
 * (EAX was 0xAAAA0000 just before: only AX is reloaded), out[4] = ESP after. */
        .globl  t_pushaw
t_pushaw:
        pushl   %ebx
        pushl   %esi
        pushl   %edi
        pushl   %ebp
        movl    $0x12345678, %eax
        movl    %esp, stk_out + 0*4
        pushaw
        movl    %esp, stk_out + 1*4
        movzwl  14(%esp), %ecx
        movl    %ecx, stk_out + 2*4
        movzwl  6(%esp), %ecx
        movl    %ecx, stk_out + 5*4
        movl    $0xAAAA0000, %eax
        popaw
        movl    %eax, stk_out + 3*4
        movl    %esp, stk_out + 4*4
        popl    %ebp
        popl    %edi
        popl    %esi
        popl    %ebx
        ret

/* t_enter0: ENTER $16, $0 then LEAVE.
 * out[0] ESP before, out[1] EBP before, out[2] EBP after ENTER,
 * out[3] ESP after ENTER, out[4] [EBP], out[5] ESP and out[6] EBP after LEAVE. */
        .globl  t_enter0
t_enter0:
        pushl   %ebp
        movl    %esp, stk_out + 0*4
        movl    %ebp, stk_out + 1*4
        enter   $16, $0
        movl    %ebp, stk_out + 2*4
        movl    %esp, stk_out + 3*4
        movl    (%ebp), %ecx
        movl    %ecx, stk_out + 4*4
        leave
        movl    %esp, stk_out + 5*4
        movl    %ebp, stk_out + 6*4
        popl    %ebp
        ret

/* t_enter2: ENTER $8, $2 with EBP pointing into a fake outer frame whose
 * [EBP-4] holds 0xCAFEBABE (the "display" entry that gets copied).
 * out[8] ESP before, out[9] EBP after, out[10] ESP after, out[11] [EBP],
 * out[12] [EBP-4], out[13] [EBP-8], out[14] EBP and out[15] ESP after LEAVE. */
        .globl  t_enter2
t_enter2:
        pushl   %ebp
        movl    $0xCAFEBABE, fake_frame_top - 4
        movl    $fake_frame_top, %ebp
        movl    %esp, stk_out + 8*4
        enter   $8, $2
        movl    %ebp, stk_out + 9*4
        movl    %esp, stk_out + 10*4
        movl    0(%ebp), %ecx
        movl    %ecx, stk_out + 11*4
        movl    -4(%ebp), %ecx
        movl    %ecx, stk_out + 12*4
        movl    -8(%ebp), %ecx
        movl    %ecx, stk_out + 13*4
        leave
        movl    %ebp, stk_out + 14*4
        movl    %esp, stk_out + 15*4
        popl    %ebp
        ret

/* ---- call helpers ------------------------------------------------------------ */

        .globl  t_ret42
t_ret42:
        movl    $42, %eax
        ret

/* t_sub_callee_pops(x, y) = x - y; pops its own 8 bytes of arguments */
        .globl  t_sub_callee_pops
t_sub_callee_pops:
        movl    4(%esp), %eax
        subl    8(%esp), %eax
        ret     $8

        .section .note.GNU-stack, "", @progbits
