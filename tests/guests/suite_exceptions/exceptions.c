/*
 * suite_exceptions: exception classes, error codes and double faults as the
 * Intel SDM vol. 3 (chapter 6, "Interrupt and Exception Handling", and
 * chapter 17.3 on debug exceptions) defines them.
 *
 * Checked: fault vs trap (pushed EIP), the error code of each error-code
 * exception (selector index, TI, IDT bit), #DE/#UD/#BR/#OF/#BP, INT3 vs
 * INT 3, gate checks for INT n (limit, type, DPL, present) and their order,
 * #DF from contributory+contributory and page fault+page fault/contributory,
 * benign or contributory followed by another exception handled serially,
 * single-step #DB (DR6.BS, POPF setting and clearing TF, MOV SS holding the
 * trap), instruction and data breakpoints with RF.
 *
 * "strict" on the command line adds checks QEMU 7.2 TCG gets wrong (see
 * tests/guests/README.md): the EXT bit in error codes of exceptions raised
 * while delivering an exception, and a segment-limit violation taking
 * priority over a page fault on the same access.
 */
#include "suite.h"

extern void p_div_zero(void), p_idiv_overflow(void), p_ud2(void), p_lock_nop(void),
    p_lock_add_reg(void), p_bound_above(void), p_bound_inside(void), p_into_of(void),
    p_into_no_of(void), p_int3(void), p_int_3(void), p_hlt(void), p_int_44(void),
    p_ud2_ring3(void), p_tf_after_popf(void), p_tf_popf_clears(void), p_tf_then_fault(void),
    p_tf_mov_ss(void), p_tf_count(void), p_exec_bp(void), p_data_bp(void);
extern char at_div_zero[], at_idiv_overflow[], at_ud2[], at_lock_nop[], at_lock_add_reg[],
    at_bound_above[], after_into[], after_int3[], after_int_3[], at_int3[], at_int_3[], at_hlt[],
    at_int_44[], at_tf_second[], after_tf_clearing_popf[], at_tf_fault[], at_tf_mov_ss_trap[],
    step_2[], step_3[], step_end[], at_exec_bp[], after_data_bp_write[], db_counting_stub[],
    ts_conforming_stub[], int44_reached[];
extern volatile u32 watched, db_count, db_eips[8], ts_eip, ts_cs;

/* spare GDT entries used here */
#define SEL_NP_DATA 0x30    /* writable data, not present */
#define SEL_RO_DATA 0x38    /* read-only data */
#define SEL_NP_CODE 0x40    /* code, not present */
#define SEL_CONF_CODE 0x48  /* conforming code, DPL 0 */
#define SEL_LIMITED 0x50    /* data at 8 MiB (unmapped), limit 0xFFF */
#define SEL_BEYOND_GDT 0x100

#define TF 0x100u
#define RF 0x10000u
#define DR6_BS 0x4000u

static int strict;

/* One line: the event (vector and error code, as check_fault) and its EIP. */
static void check_at(const char *name, const struct fault *f, int vector, u32 error, const void *eip)
{
    if (f->vector == vector && f->eip != (u32)eip && vector != NO_FAULT &&
        (f->error == error || vector == DE || vector == DB || vector == BP || vector == OF ||
         vector == BR || vector == UD))
        check(name, 0, "right event, EIP 0x%x want 0x%x", f->eip, (u32)eip);
    else
        check_fault(name, f, vector, error);
}

static void load_idtr(u32 base, u16 limit)
{
    struct dtr d = {limit, base};
    __asm__ volatile("lidt %0" : : "m"(d) : "memory");
}
static void restore_idtr(void) { load_idtr((u32)suite_idt, 256 * 8 - 1); }

static u32 read_dr6(void) { u32 v; __asm__ volatile("movl %%dr6, %0" : "=r"(v)); return v; }
static void write_dr(int n, u32 v)
{
    switch (n) {
    case 0: __asm__ volatile("movl %0, %%dr0" : : "r"(v)); break;
    case 1: __asm__ volatile("movl %0, %%dr1" : : "r"(v)); break;
    case 6: __asm__ volatile("movl %0, %%dr6" : : "r"(v)); break;
    case 7: __asm__ volatile("movl %0, %%dr7" : : "r"(v)); break;
    }
}

/* ---- the plain exceptions ------------------------------------------ */

static void simple_exceptions(void)
{
    struct fault f;
    run_checked(p_div_zero, &f);
    check_at("exc.de_div_zero", &f, DE, 0, at_div_zero);
    run_checked(p_idiv_overflow, &f);
    check_at("exc.de_idiv_overflow", &f, DE, 0, at_idiv_overflow);
    run_checked(p_ud2, &f);
    check_at("exc.ud_ud2", &f, UD, 0, at_ud2);
    run_checked(p_lock_nop, &f);
    check_at("exc.ud_lock_nop", &f, UD, 0, at_lock_nop);
    run_checked(p_lock_add_reg, &f);
    check_at("exc.ud_lock_register_dest", &f, UD, 0, at_lock_add_reg);
    run_checked(p_bound_above, &f);
    check_at("exc.br_bound_fault", &f, BR, 0, at_bound_above);
    run_checked(p_bound_inside, &f);
    check_fault("exc.br_bound_inside", &f, NO_FAULT, 0);
    run_checked(p_into_of, &f);
    check_at("exc.of_into_trap", &f, OF, 0, after_into);
    run_checked(p_into_no_of, &f);
    check_fault("exc.of_into_no_overflow", &f, NO_FAULT, 0);
    run_checked(p_int3, &f);
    check_at("exc.bp_int3_trap", &f, BP, 0, after_int3);
    run_checked(p_int_3, &f);
    check_at("exc.bp_int_3_trap", &f, BP, 0, after_int_3);

    /* From ring 3 both forms check the gate DPL (SDM: INT n/INT3/INTO),
     * the #GP is a fault on the instruction; exceptions ignore gate DPL. */
    run_user(p_int3, 0x2, &f);
    check_at("exc.int3_ring3_gate_dpl0", &f, GP, 3 * 8 + 2, at_int3);
    run_user(p_int_3, 0x2, &f);
    check_at("exc.int_3_ring3_gate_dpl0", &f, GP, 3 * 8 + 2, at_int_3);
    run_user(p_ud2_ring3, 0x2, &f);
    check("exc.ud_ring3_ignores_gate_dpl", f.vector == UD && f.cs == UCODE && f.ss == UDATA,
          "vector %d from cs 0x%x ss 0x%x", f.vector, f.cs, f.ss);
    suite_idt[BP] |= (u64)ACC_DPL(3) << 40;
    run_user(p_int3, 0x2, &f);
    check("exc.int3_ring3_gate_dpl3", f.vector == BP && f.eip == (u32)after_int3 && f.cs == UCODE,
          "vector %d eip 0x%x cs 0x%x", f.vector, f.eip, f.cs);
    suite_idt[BP] &= ~((u64)ACC_DPL(3) << 40);
    run_user(p_hlt, 0x2, &f);
    check_at("exc.gp_hlt_ring3", &f, GP, 0, at_hlt);
}

/* ---- INT n gate checks ---------------------------------------------- */

static void int_0x40(void) { __asm__ volatile("int $0x40"); }
static void int_0x41(void) { __asm__ volatile("int $0x41"); }
static void int_0x42(void) { __asm__ volatile("int $0x42"); }
static void int_0x43(void) { __asm__ volatile("int $0x43"); }

static void gate_checks(void)
{
    struct fault f;
    u32 handler = (u32)int44_reached;

    set_idt_gate(0x40, KCODE, handler, GATE_INT32);
    load_idtr((u32)suite_idt, 0x40 * 8 + 6);   /* entry 0x40 one byte short */
    run_checked(int_0x40, &f);
    restore_idtr();
    check_fault("exc.gp_gate_beyond_idt_limit", &f, GP, 0x40 * 8 + 2);

    set_idt_gate(0x41, KCODE, handler, GATE_INT32 & ~ACC_P);
    run_checked(int_0x41, &f);
    check_fault("exc.np_gate_not_present", &f, NP, 0x41 * 8 + 2);

    set_idt_gate(0x42, KCODE, handler, ACC_TSS32);   /* not a gate type */
    run_checked(int_0x42, &f);
    check_fault("exc.gp_gate_bad_type", &f, GP, 0x42 * 8 + 2);
    set_idt_gate(0x42, KCODE, handler, ACC_TSS32 & ~ACC_P);
    run_checked(int_0x42, &f);
    check_fault("exc.prio_gate_type_before_present", &f, GP, 0x42 * 8 + 2);

    set_idt_gate(0x43, KCODE, handler, GATE_INT32);
    run_user(int_0x43, 0x2, &f);
    check_fault("exc.gp_gate_dpl_below_cpl", &f, GP, 0x43 * 8 + 2);
    set_idt_gate(0x43, KCODE, handler, GATE_INT32 & ~ACC_P);
    run_user(int_0x43, 0x2, &f);
    check_fault("exc.prio_gate_dpl_before_present", &f, GP, 0x43 * 8 + 2);

    set_idt_gate(0x40, 0, handler, GATE_INT32);
    run_checked(int_0x40, &f);
    check_fault("exc.gp_gate_null_cs", &f, GP, 0);
    set_gdt_entry(SEL_NP_CODE >> 3, 0, 0xFFFFF, ACC_CODE_RX & ~ACC_P, FLG_G | FLG_DB);
    set_idt_gate(0x40, SEL_NP_CODE, handler, GATE_INT32);
    run_checked(int_0x40, &f);
    check_fault("exc.np_gate_cs_not_present", &f, NP, SEL_NP_CODE);
    for (int v = 0x40; v <= 0x43; v++)
        suite_idt[v] = 0;
}

/* ---- selector loads ----------------------------------------------------- */

static void ds_beyond_gdt(void) { __asm__ volatile("movw %0, %%ds" : : "r"((u16)SEL_BEYOND_GDT)); }
static void ds_not_present(void) { __asm__ volatile("movw %0, %%ds" : : "r"((u16)SEL_NP_DATA)); }
static void ss_not_present(void) { __asm__ volatile("movw %0, %%ss" : : "r"((u16)SEL_NP_DATA)); }
static void ss_read_only(void) { __asm__ volatile("movw %0, %%ss" : : "r"((u16)SEL_RO_DATA)); }
static void ds_ldt_selector(void) { __asm__ volatile("movw %0, %%ds" : : "r"((u16)0x0C)); }

static void selector_faults(void)
{
    struct fault f;
    set_gdt_entry(SEL_NP_DATA >> 3, 0, 0xFFFFF, ACC_DATA_RW & ~ACC_P, FLG_G | FLG_DB);
    set_gdt_entry(SEL_RO_DATA >> 3, 0, 0xFFFFF, ACC_DATA_RO, FLG_G | FLG_DB);
    run_checked(ds_beyond_gdt, &f);
    check_fault("exc.gp_selector_beyond_gdt", &f, GP, SEL_BEYOND_GDT);
    run_checked(ds_ldt_selector, &f);   /* LDTR is null: TI=1 kept in the code */
    check_fault("exc.gp_selector_null_ldt", &f, GP, 0x0C);
    run_checked(ds_not_present, &f);
    check_fault("exc.np_data_segment", &f, NP, SEL_NP_DATA);
    run_checked(ss_not_present, &f);
    check_fault("exc.ss_stack_segment_not_present", &f, SS, SEL_NP_DATA);
    run_checked(ss_read_only, &f);
    check_fault("exc.gp_stack_segment_read_only", &f, GP, SEL_RO_DATA);
}

/* ---- #TS on a stack switch ---------------------------------------------- */

static void invalid_tss_checks(void)
{
    struct fault f;
    u64 saved_ts = suite_idt[TS];
    set_gdt_entry(SEL_CONF_CODE >> 3, 0, 0xFFFFF, ACC_CODE_RX_CONF, FLG_G | FLG_DB);
    set_idt_gate(TS, SEL_CONF_CODE, (u32)ts_conforming_stub, GATE_INT32);
    set_idt_gate(0x44, KCODE, (u32)int44_reached, GATE_INT32 | ACC_DPL(3));

    /* TSS.SS0 with RPL 3: SDM "RPL of new SS != DPL of new CS" -> #TS(SS0). */
    suite_tss.t.ss0 = KDATA | 3;
    ts_eip = 0;
    run_user(p_int_44, 0x2, &f);
    suite_tss.t.ss0 = KDATA;
    check("exc.ts_ss0_rpl_on_int_n", f.vector == NO_FAULT && f.ret == KDATA && ts_eip == (u32)at_int_44 && ts_cs == UCODE,
          "event %d error 0x%x at 0x%x (from cs 0x%x)", f.vector, f.ret, ts_eip, ts_cs);
    if (strict) {
        /* Delivering #UD (an exception, not INT n) sets EXT in the #TS code. */
        suite_tss.t.ss0 = KDATA | 3;
        run_user(p_ud2_ring3, 0x2, &f);
        suite_tss.t.ss0 = KDATA;
        check("exc.ts_ext_bit_exception", f.vector == NO_FAULT && f.ret == (KDATA | 1),
              "event %d error 0x%x", f.vector, f.ret);
    }
    suite_idt[TS] = saved_ts;
    suite_idt[0x44] = 0;
}

/* ---- double faults and serial handling ---------------------------------- */

static u32 page_dir[1024] __attribute__((aligned(4096)));
static u32 page_table[1024] __attribute__((aligned(4096)));
static u8 idt_area[3 * 4096] __attribute__((aligned(4096)));

static void paging_on(void)
{
    for (u32 i = 0; i < 1024; i++)
        page_table[i] = i * 4096 | 3;
    page_dir[0] = (u32)page_table | 3;
    __asm__ volatile("movl %0, %%cr3" : : "r"(page_dir) : "memory");
    write_cr0(read_cr0() | 0x80000000u);
}
static void paging_off(void) { write_cr0(read_cr0() & ~0x80000000u); }
static u32 read_cr2(void) { u32 v; __asm__ volatile("movl %%cr2, %0" : "=r"(v)); return v; }

static void set_page_present(u32 linear, int present)
{
    page_table[linear >> 12] = (linear & ~0xFFFu) | (present ? 3 : 2);
    __asm__ volatile("invlpg (%0)" : : "r"(linear) : "memory");
}

/* The IDT copied so that entry `split` starts the third page of idt_area. */
static u32 relocate_idt(int split)
{
    u32 base = (u32)idt_area + 2 * 4096 - split * 8;
    u8 *dst = (u8 *)base;
    const u8 *src = (const u8 *)suite_idt;
    for (u32 i = 0; i < sizeof(suite_idt); i++)
        dst[i] = src[i];
    return base;
}

static void read_unmapped(void) { (void)*(volatile u32 *)0x00800000; }
static void read_limited(void) { __asm__ volatile("pushl %%ds; movw %0, %%ds; movl 0x2000, %%eax; popl %%ds" : : "r"((u16)SEL_LIMITED) : "eax"); }

static void double_faults(void)
{
    struct fault f;
    u64 saved;

    /* contributory + contributory: #DE whose gate is not present -> #NP -> #DF */
    saved = suite_idt[DE];
    suite_idt[DE] &= ~((u64)ACC_P << 40);
    run_checked(p_div_zero, &f);
    suite_idt[DE] = saved;
    check_fault("exc.df_de_then_np", &f, DF, 0);

    /* #GP whose own gate lies beyond the IDT limit -> #GP -> #DF */
    load_idtr((u32)suite_idt, GP * 8 - 1);
    run_checked(ds_beyond_gdt, &f);
    restore_idtr();
    check_fault("exc.df_gp_gate_beyond_limit", &f, DF, 0);

    /* benign + contributory: serial.  #UD with its gate not present -> #NP */
    saved = suite_idt[UD];
    suite_idt[UD] &= ~((u64)ACC_P << 40);
    run_checked(p_ud2, &f);
    check("exc.benign_then_np_serial", f.vector == NP, "got vector %d want NP", f.vector);
    if (strict) /* EXT = 1: the #NP arose delivering an exception */
        check_fault("exc.np_ext_bit_exception", &f, NP, UD * 8 + 2 + 1);
    suite_idt[UD] = saved;
    saved = suite_idt[BR];
    suite_idt[BR] &= ~((u64)ACC_P << 40);
    run_checked(p_bound_above, &f);
    suite_idt[BR] = saved;
    check("exc.br_then_np_serial", f.vector == NP, "got vector %d want NP", f.vector);

    paging_on();
    /* page fault + page fault: reading IDT entry 14 faults -> #DF; CR2 = entry 14 */
    u32 base = relocate_idt(PF);
    set_page_present(base + PF * 8, 0);
    load_idtr(base, 256 * 8 - 1);
    run_checked(read_unmapped, &f);
    u32 cr2 = read_cr2();
    restore_idtr();
    set_page_present(base + PF * 8, 1);
    check("exc.df_pf_reading_idt", f.vector == DF && f.error == 0 && cr2 == base + PF * 8,
          "vector %d error 0x%x cr2 0x%x want #DF(0) cr2 0x%x", f.vector, f.error, cr2, base + PF * 8);

    /* contributory + page fault: serial.  #GP's entry 13 unmapped, 14 mapped */
    set_page_present(base + PF * 8 - 4096, 0);
    load_idtr(base, 256 * 8 - 1);
    run_checked(ds_beyond_gdt, &f);
    cr2 = read_cr2();
    restore_idtr();
    set_page_present(base + PF * 8 - 4096, 1);
    check("exc.gp_then_pf_serial", f.vector == PF && f.error == 0 && cr2 == base + GP * 8,
          "vector %d error 0x%x cr2 0x%x want #PF(0) cr2 0x%x", f.vector, f.error, cr2, base + GP * 8);

    /* page fault + contributory: #PF whose gate is not present -> #DF */
    saved = suite_idt[PF];
    suite_idt[PF] &= ~((u64)ACC_P << 40);
    run_checked(read_unmapped, &f);
    suite_idt[PF] = saved;
    check_fault("exc.df_pf_then_np", &f, DF, 0);

    if (strict) {
        /* Segmentation before paging: offset 0x2000 beyond the limit 0xFFF of
         * a segment whose pages are unmapped is #GP(0), not #PF. */
        set_gdt_entry(SEL_LIMITED >> 3, 0x00800000, 0xFFF, ACC_DATA_RW, FLG_DB);
        run_checked(read_limited, &f);
        check_fault("exc.prio_limit_before_page_fault", &f, GP, 0);
    }
    paging_off();
}

/* ---- debug exceptions ------------------------------------------------------ */

static void debug_checks(void)
{
    struct fault f;
    u32 dr6;

    write_dr(6, 0);
    run_checked(p_tf_after_popf, &f);
    dr6 = read_dr6();
    check("exc.db_single_step_after_next_insn",
          f.vector == DB && f.eip == (u32)at_tf_second && (f.eflags & TF) && (dr6 & (DR6_BS | 0xF)) == DR6_BS,
          "vector %d eip 0x%x eflags 0x%x dr6 0x%x want #DB eip 0x%x TF, DR6.BS", f.vector, f.eip, f.eflags, dr6,
          (u32)at_tf_second);
    run_checked(p_tf_popf_clears, &f);
    check_at("exc.db_popf_clearing_tf_traps", &f, DB, 0, after_tf_clearing_popf);
    run_checked(p_tf_then_fault, &f);
    check_at("exc.db_faulting_insn_no_step_trap", &f, UD, 0, at_tf_fault);
    run_checked(p_tf_mov_ss, &f);
    check_at("exc.db_mov_ss_holds_step_trap", &f, DB, 0, at_tf_mov_ss_trap);

    u64 saved = suite_idt[DB];
    set_idt_gate(DB, KCODE, (u32)db_counting_stub, GATE_INT32);
    db_count = 0;
    run_checked(p_tf_count, &f);
    check("exc.db_step_count_through_jump",
          f.vector == NO_FAULT && db_count == 3 && db_eips[0] == (u32)step_2 && db_eips[1] == (u32)step_3 &&
              db_eips[2] == (u32)step_end,
          "%u steps, eips 0x%x 0x%x 0x%x", db_count, db_eips[0], db_eips[1], db_eips[2]);
    suite_idt[DB] = saved;

    /* Instruction breakpoint: a fault on the instruction, DR6.B0. */
    write_dr(6, 0);
    write_dr(0, (u32)at_exec_bp);
    write_dr(7, 0x1);
    run_checked(p_exec_bp, &f);
    dr6 = read_dr6();
    check("exc.db_exec_breakpoint_fault", f.vector == DB && f.eip == (u32)at_exec_bp && (dr6 & 0x400F) == 1,
          "vector %d eip 0x%x dr6 0x%x", f.vector, f.eip, dr6);
    /* Returning with RF=1 executes it once without hitting again. */
    set_idt_gate(DB, KCODE, (u32)db_counting_stub, GATE_INT32);
    db_count = 0;
    run_checked(p_exec_bp, &f);
    suite_idt[DB] = saved;
    check("exc.db_rf_resumes_past_breakpoint", f.vector == NO_FAULT && f.ret == 8 && db_count == 1,
          "event %d eax %u after %u #DB", f.vector, f.ret, db_count);

    /* Data write breakpoint on a dword: a trap after the write. */
    write_dr(7, 0);
    write_dr(6, 0);
    write_dr(1, (u32)&watched);
    write_dr(7, 0x4 | (1u << 20) | (3u << 22));
    run_checked(p_data_bp, &f);
    dr6 = read_dr6();
    write_dr(7, 0);
    check("exc.db_data_write_trap",
          f.vector == DB && f.eip == (u32)after_data_bp_write && (dr6 & 0x400F) == 2 && watched == 0x55,
          "vector %d eip 0x%x dr6 0x%x value 0x%x", f.vector, f.eip, dr6, watched);
}

void suite_main(void)
{
    strict = cmdline_has("strict");
    simple_exceptions();
    gate_checks();
    selector_faults();
    invalid_tss_checks();
    double_faults();
    debug_checks();
}
