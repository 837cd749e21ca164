/*
 * suite_gates: interrupt, trap and call gates and privilege transitions as
 * the Intel SDM vol. 3 (ch. 5.8, 6.12; INT n, IRET, CALL, JMP, RET) specifies
 * them: IF handling of interrupt vs trap gates, the gate DPL check for INT n
 * (#GP(vector*8+2)), the stack switch from the TSS with the pushed
 * SS:ESP/EFLAGS/CS:EIP, IRET to ring 3 nulling data segment registers,
 * 32- and 16-bit call gates (CALL and JMP, parameter copy, RET imm to the
 * outer ring, DPL/RPL/present/type faults) and conforming code keeping CPL.
 * The handlers and gate targets are in gates.S.  With "strict" on the
 * command line it also runs the check QEMU gets wrong (see README.md).
 */
#include "suite.h"

#define G_CALL_R0 0x30     /* 32-bit call gate DPL0 -> cg_target_same */
#define G_CALL_U 0x38      /* 32-bit call gate DPL3, 2 params -> cg_target_inner */
#define G_CALL16 0x40      /* 16-bit call gate DPL0 -> S_CG16:0 */
#define S_CG16 0x48        /* 32-bit code DPL0 based at cg16_target */
#define G_CALL_NP 0x50     /* call gate, P=0 */
#define G_CALL_OUTER 0x58  /* call gate DPL3 -> UCODE */
#define G_CALL_DATA 0x60   /* call gate DPL0 -> KDATA */
#define S_CONF 0x68        /* readable conforming code DPL0 */
#define G_CALL_CONF 0x70   /* call gate DPL3 -> S_CONF:conf_target */
#define G_JMP 0x78         /* call gate DPL0 -> jmp_target */
#define G_JMP16 0x80       /* 16-bit call gate DPL0 -> S_JMP16:0 */
#define S_JMP16 0x88       /* 32-bit code DPL0 based at jmp_target */

extern void gate_probe(void);
extern void k_int_gate_if(void), k_trap_gate_if(void), u_int40(void), u_int3(void), u_int42(void);
extern const u8 u_int42_ret[];
extern void k_iret_nulling(void);
extern void cg_target_same(void), k_call_same(void), cg_target_inner(void), u_call_inner(void);
extern const u8 k_call_same_ret[], u_call_inner_ret[], k_call16_ret[];
extern void cg16_target(void), k_call16(void), jmp_target(void), k_jmp_gate(void), k_jmp_gate16(void);
extern void k_call_rpl3(void), u_call_dpl0(void), k_call_np(void), k_call_outer(void), k_call_data(void);
extern void u_jmp_inner(void), u_call_direct_inner(void), u_call_conforming(void), u_call_gate_conforming(void);
extern void conf_target(void);

extern volatile u32 probe_frame[5], probe_esp, probe_eflags, probe_cs, probe_ss;
extern volatile u16 seen_seg[4];
extern volatile u32 cg_frame[6], cg_esp, cg_cs, caller_esp;

static void setup(void)
{
    /* the BIOS left the timer unmasked: keep the PICs quiet while IF=1 */
    outb(0x21, 0xFF);
    outb(0xA1, 0xFF);
    set_idt_gate(0x40, KCODE, (u32)gate_probe, GATE_INT32);
    set_idt_gate(0x41, KCODE, (u32)gate_probe, GATE_TRAP32);
    set_idt_gate(0x42, KCODE, (u32)gate_probe, GATE_INT32 | ACC_DPL(3));

    suite_gdt[G_CALL_R0 >> 3] = make_gate(KCODE, (u32)cg_target_same, GATE_CALL32);
    suite_gdt[G_CALL_U >> 3] = make_gate(KCODE, (u32)cg_target_inner, GATE_CALL32 | ACC_DPL(3)) | (2ull << 32);
    suite_gdt[G_CALL16 >> 3] = make_gate(S_CG16, 0, GATE_CALL16);
    set_gdt_entry(S_CG16 >> 3, (u32)cg16_target, 0xFFFF, ACC_CODE_RX, FLG_DB);
    suite_gdt[G_CALL_NP >> 3] = make_gate(KCODE, (u32)cg_target_same, GATE_CALL32 & ~ACC_P);
    suite_gdt[G_CALL_OUTER >> 3] = make_gate(UCODE, (u32)cg_target_same, GATE_CALL32 | ACC_DPL(3));
    suite_gdt[G_CALL_DATA >> 3] = make_gate(KDATA, (u32)cg_target_same, GATE_CALL32);
    set_gdt_entry(S_CONF >> 3, 0, 0xFFFFF, ACC_CODE_RX_CONF, FLG_G | FLG_DB);
    suite_gdt[G_CALL_CONF >> 3] = make_gate(S_CONF, (u32)conf_target, GATE_CALL32 | ACC_DPL(3));
    suite_gdt[G_JMP >> 3] = make_gate(KCODE, (u32)jmp_target, GATE_CALL32);
    suite_gdt[G_JMP16 >> 3] = make_gate(S_JMP16, 0, GATE_CALL16);
    set_gdt_entry(S_JMP16 >> 3, (u32)jmp_target, 0xFFFF, ACC_CODE_RX, FLG_DB);
}

static void interrupt_gates(void)
{
    struct fault f;
    run_checked(k_int_gate_if, &f);
    check("gates.int_gate_clears_if", f.vector == NO_FAULT && !(probe_eflags & 0x200), "handler EFLAGS 0x%x",
          probe_eflags);
    check("gates.iret_restores_if", (f.ret & 0x200) != 0, "EFLAGS after IRET 0x%x", f.ret);
    run_checked(k_trap_gate_if, &f);
    check("gates.trap_gate_keeps_if", f.vector == NO_FAULT && (probe_eflags & 0x200), "handler EFLAGS 0x%x",
          probe_eflags);

    run_user(u_int40, 0x2, &f);
    check_fault("gates.int_dpl0_from_ring3", &f, GP, 0x40 * 8 + 2);
    run_user(u_int3, 0x2, &f);
    check_fault("gates.int3_dpl0_from_ring3", &f, GP, 3 * 8 + 2);

    for (int i = 0; i < 5; i++)
        probe_frame[i] = 0;
    run_user(u_int42, 0x2, &f);
    check_fault("gates.ring3_int_returns", &f, NO_FAULT, 0);
    check_eq("gates.ring3_int_pushed_eip", probe_frame[0], (u32)u_int42_ret);
    check_eq("gates.ring3_int_pushed_cs", probe_frame[1], UCODE);
    check_eq("gates.ring3_int_pushed_eflags", probe_frame[2], 0x2);
    check_eq("gates.ring3_int_pushed_esp", probe_frame[3], (u32)suite_user_stack_top - 4);
    check_eq("gates.ring3_int_pushed_ss", probe_frame[4], UDATA);
    check_eq("gates.ring3_int_stack_from_tss", probe_esp, (u32)suite_trap_stack_top - 20);
    check("gates.ring3_int_handler_cpl0", probe_cs == KCODE && probe_ss == KDATA, "CS %x SS %x", probe_cs, probe_ss);

    run_checked(k_iret_nulling, &f);
    check_fault("gates.iret_to_ring3", &f, NO_FAULT, 0);
    check_eq("gates.iret_nulls_dpl0_ds", seen_seg[0], 0);
    check_eq("gates.iret_keeps_dpl3_es", seen_seg[1], UDATA);
    check_eq("gates.iret_keeps_conforming_fs", seen_seg[2], S_CONF);
    check_eq("gates.iret_nulls_dpl0_gs", seen_seg[3], 0);
}

static void call_gates(void)
{
    struct fault f;
    run_checked(k_call_same, &f);
    check("gates.call_gate32_same_ring",
          f.vector == NO_FAULT && cg_frame[0] == (u32)k_call_same_ret && (cg_frame[1] & 0xFFFF) == KCODE &&
              cg_esp == caller_esp - 8,
          "vector %d frame %x:%x esp delta %d", f.vector, cg_frame[1], cg_frame[0], (int)(caller_esp - cg_esp));

    run_user(u_call_inner, 0x2, &f);
    check_fault("gates.call_gate32_ring3_to_0", &f, NO_FAULT, 0);
    check("gates.call_gate32_new_cs", cg_cs == KCODE, "CS %x", cg_cs);
    check("gates.call_gate32_stack_from_tss", cg_esp == (u32)suite_trap_stack_top - 24, "ESP %x", cg_esp);
    check("gates.call_gate32_pushed_return",
          cg_frame[0] == (u32)u_call_inner_ret && (cg_frame[1] & 0xFFFF) == UCODE, "got %x:%x",
          cg_frame[1], cg_frame[0]);
    check("gates.call_gate32_param_copy", cg_frame[2] == 0x22222222 && cg_frame[3] == 0x11111111,
          "got %x %x", cg_frame[2], cg_frame[3]);
    check("gates.call_gate32_pushed_ss_esp",
          cg_frame[4] == (u32)suite_user_stack_top - 12 && (cg_frame[5] & 0xFFFF) == UDATA, "got %x:%x",
          cg_frame[5], cg_frame[4]);
    check_eq("gates.ret_imm_outer_esp", f.ret, (u32)suite_user_stack_top - 4);

    run_checked(k_call16, &f);
    check("gates.call_gate16_pushes_words",
          f.vector == NO_FAULT && cg_frame[0] == ((KCODE << 16) | ((u32)k_call16_ret & 0xFFFF)) &&
              cg_esp == caller_esp - 4,
          "vector %d frame %x esp delta %d", f.vector, cg_frame[0], (int)(caller_esp - cg_esp));

    /* a JMP through a gate pushes nothing */
    run_checked(k_jmp_gate, &f);
    check("gates.jmp_call_gate32", f.vector == NO_FAULT && f.ret == caller_esp, "vector %d ESP delta %d",
          f.vector, (int)(caller_esp - f.ret));
    run_checked(k_jmp_gate16, &f);
    check("gates.jmp_call_gate16", f.vector == NO_FAULT && f.ret == caller_esp, "vector %d ESP delta %d",
          f.vector, (int)(caller_esp - f.ret));

    run_checked(k_call_rpl3, &f);
    check_fault("gates.call_gate_rpl3_dpl0", &f, GP, G_CALL_R0);
    run_user(u_call_dpl0, 0x2, &f);
    check_fault("gates.call_gate_dpl0_from_ring3", &f, GP, G_CALL_R0);
    run_checked(k_call_np, &f);
    check_fault("gates.call_gate_not_present", &f, NP, G_CALL_NP);
    run_checked(k_call_outer, &f);
    check_fault("gates.call_gate_to_outer_ring", &f, GP, UCODE & ~3);
    run_checked(k_call_data, &f);
    check_fault("gates.call_gate_to_data", &f, GP, KDATA);
    run_user(u_jmp_inner, 0x2, &f);
    check_fault("gates.jmp_gate_to_inner_ring", &f, GP, KCODE);
    run_user(u_call_direct_inner, 0x2, &f);
    check_fault("gates.far_call_direct_inner", &f, GP, KCODE);
    run_user(u_call_conforming, 0x2, &f);
    check("gates.far_call_conforming_keeps_cpl", f.vector == NO_FAULT && f.ret == (S_CONF | 3),
          "vector %d CS %x", f.vector, f.ret);
    /* QEMU 7.2 sets CPL to the target's DPL after any call gate, even to
     * conforming code (SDM: CALL, SAME-PRIVILEGE: CS(RPL) <- CPL). */
    if (!cmdline_has("strict"))
        return;
    run_user(u_call_gate_conforming, 0x2, &f);
    check("gates.strict_call_gate_conforming_keeps_cpl", f.vector == NO_FAULT && f.ret == (S_CONF | 3),
          "vector %d CS %x", f.vector, f.ret);
}

void suite_main(void)
{
    setup();
    interrupt_gates();
    call_gates();
}
