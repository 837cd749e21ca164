/*
 * suite_tasks: hardware task switching as the Intel SDM vol. 3 (ch. 7,
 * "Task Management"; JMP, CALL, INT n, IRET) specifies it: JMP and CALL to a
 * TSS and through task gates, the back link and NT for nested tasks, busy
 * bits (a busy TSS cannot be called or jumped to), IRET with NT=1, INT
 * through a task gate, a double fault through a task gate after the kernel
 * stack ran into a not-present page, CR0.TS after a switch and #TS error
 * codes for a bad LDT or CS in the new TSS.  Task bodies are in tasks.S.
 */
#include "suite.h"

#define T_B 0x30        /* task_b, entered by JMP */
#define T_C 0x38        /* task_nested, entered by CALL */
#define G_B 0x40        /* task gate -> T_B */
#define T_INT 0x48      /* task_nested, entered by INT 0x50 */
#define T_DF 0x50       /* task_df, entered by #DF */
#define T_BADLDT 0x60   /* LDT selector = S_NOTLDT */
#define S_NOTLDT 0x68   /* a data segment */
#define T_BADCS 0x70    /* CS = KDATA */
#define VEC_TASK 0x50
#define NT 0x4000
#define TS_BIT 8
#define GUARD_PAGE 0x600000u

struct task {
    struct tss32 tss;
    u8 stack[2048];
};
static struct task tb, tc, tint, tdf, tbadldt, tbadcs;
static u32 page_dir[1024] __attribute__((aligned(4096)));
static u32 page_tables[2][1024] __attribute__((aligned(4096)));

extern void task_b(void), task_nested(void), task_df(void);
extern void k_jmp_tss(void), k_jmp_task_gate(void), k_call_tss(void), k_call_self(void), k_jmp_self(void);
extern void k_int_task_gate(void), u_int_task_gate(void), k_jmp_bad_ldt(void), k_jmp_bad_cs(void);
extern void k_overflow(void);
extern const u8 k_jmp_tss_ret[];
extern volatile u32 seen_runs, seen_tr, seen_eflags, seen_cr0, seen_old_desc, seen_new_desc;
extern volatile u32 seen_error, seen_cr2;

static u32 read_cr3(void)
{
    u32 v;
    __asm__ volatile("movl %%cr3, %0" : "=r"(v));
    return v;
}

static void make_task(struct task *t, int sel, void (*entry)(void))
{
    for (unsigned i = 0; i < sizeof(t->tss); i++)
        ((u8 *)&t->tss)[i] = 0;
    t->tss.eip = (u32)entry;
    t->tss.eflags = 0x2;
    t->tss.esp = (u32)(t->stack + sizeof(t->stack));
    t->tss.cs = KCODE;
    t->tss.ss = t->tss.ds = t->tss.es = t->tss.fs = t->tss.gs = KDATA;
    t->tss.cr3 = read_cr3();
    t->tss.iomap_base = sizeof(struct tss32);
    set_gdt_entry(sel >> 3, (u32)&t->tss, sizeof(t->tss) - 1, ACC_TSS32, 0);
}

static u32 str_now(void)
{
    u16 tr;
    __asm__ volatile("str %0" : "=r"(tr));
    return tr;
}

static u32 desc_type(int sel) { return (u32)(suite_gdt[sel >> 3] >> 40) & 0xF; }

/* After a fault inside a new task: back to the main TSS, nothing busy. */
static void restore_main_task(int other)
{
    suite_gdt[TSS_SEL >> 3] &= ~(2ull << 40);
    suite_gdt[other >> 3] &= ~(2ull << 40);
    __asm__ volatile("ltr %w0; clts" : : "r"(TSS_SEL));
}

static void jmp_and_call(void)
{
    struct fault f;
    seen_runs = 0;
    run_checked(k_jmp_tss, &f);
    check("tasks.jmp_tss_runs_and_returns", f.vector == NO_FAULT && seen_runs == 1, "vector %d runs %u",
          f.vector, seen_runs);
    check_eq("tasks.jmp_tr_in_new_task", seen_tr, T_B);
    check_eq("tasks.jmp_leaves_nt_clear", seen_eflags & NT, 0);
    check_eq("tasks.switch_sets_cr0_ts", seen_cr0 & TS_BIT, TS_BIT);
    check_eq("tasks.jmp_clears_old_busy", (seen_old_desc >> 8) & 0xF, 0x9);
    check_eq("tasks.jmp_sets_new_busy", (seen_new_desc >> 8) & 0xF, 0xB);
    check_eq("tasks.old_state_saved_eip", suite_tss.t.eip, (u32)k_jmp_tss_ret);
    check_eq("tasks.jmp_back_clears_busy", desc_type(T_B), 0x9);
    __asm__ volatile("clts");

    run_checked(k_jmp_task_gate, &f);
    check("tasks.jmp_task_gate", f.vector == NO_FAULT && seen_runs == 2, "vector %d runs %u", f.vector,
          seen_runs);
    __asm__ volatile("clts");

    run_checked(k_call_tss, &f);
    check("tasks.call_tss_iret_returns", f.vector == NO_FAULT && seen_runs == 3, "vector %d runs %u", f.vector,
          seen_runs);
    check_eq("tasks.call_tr_in_new_task", seen_tr, T_C);
    check_eq("tasks.call_sets_back_link", tc.tss.link, TSS_SEL);
    check_eq("tasks.call_sets_nt", seen_eflags & NT, NT);
    check_eq("tasks.call_keeps_old_busy", (seen_old_desc >> 8) & 0xF, 0xB);
    check_eq("tasks.iret_clears_nested_busy", desc_type(T_C), 0x9);
    check_eq("tasks.iret_restores_caller_nt", f.ret & NT, 0);
    __asm__ volatile("clts");

    run_checked(k_call_self, &f);
    check_fault("tasks.call_busy_tss", &f, GP, TSS_SEL);
    run_checked(k_jmp_self, &f);
    check_fault("tasks.jmp_busy_tss", &f, GP, TSS_SEL);
}

static void task_gates(void)
{
    struct fault f;
    run_checked(k_int_task_gate, &f);
    check("tasks.int_task_gate", f.vector == NO_FAULT && seen_runs == 4 && seen_tr == T_INT,
          "vector %d runs %u TR %x", f.vector, seen_runs, seen_tr);
    check_eq("tasks.int_task_gate_link", tint.tss.link, TSS_SEL);
    __asm__ volatile("clts");
    run_user(u_int_task_gate, 0x2, &f);
    check_fault("tasks.int_task_gate_dpl0_from_ring3", &f, GP, VEC_TASK * 8 + 2);
}

static void double_fault(void)
{
    struct fault f;
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < 1024; i++)
            page_tables[t][i] = ((t * 1024 + i) << 12) | 3;
    page_tables[1][(GUARD_PAGE >> 12) - 1024] = 0;
    page_dir[0] = (u32)page_tables[0] | 3;
    page_dir[1] = (u32)page_tables[1] | 3;
    u32 old_cr3 = read_cr3();
    __asm__ volatile("movl %0, %%cr3" : : "r"(page_dir));
    suite_tss.t.cr3 = tdf.tss.cr3 = (u32)page_dir;
    write_cr0(read_cr0() | 0x80000000u);
    run_checked(k_overflow, &f);
    write_cr0(read_cr0() & ~0x80000000u);
    __asm__ volatile("movl %0, %%cr3; clts" : : "r"(old_cr3));
    check("tasks.double_fault_task_gate", f.vector == NO_FAULT && seen_runs == 5, "vector %d runs %u", f.vector,
          seen_runs);
    check_eq("tasks.double_fault_error_code", seen_error, 0);
    check_eq("tasks.double_fault_cr2", seen_cr2, GUARD_PAGE + 0xFFC);
    check_eq("tasks.double_fault_back_link", tdf.tss.link, TSS_SEL);
}

static void bad_tss(void)
{
    struct fault f;
    run_checked(k_jmp_bad_ldt, &f);
    check_fault("tasks.ts_bad_ldt", &f, TS, S_NOTLDT);
    /* The fault belongs to the new task, whose segment registers are not
     * all loaded yet: only the error code is architectural enough to check. */
    check_eq("tasks.ts_bad_ldt_tr_is_new_task", str_now(), T_BADLDT);
    restore_main_task(T_BADLDT);
    run_checked(k_jmp_bad_cs, &f);
    check_fault("tasks.ts_bad_cs", &f, TS, KDATA);
    restore_main_task(T_BADCS);
}

void suite_main(void)
{
    make_task(&tb, T_B, task_b);
    make_task(&tc, T_C, task_nested);
    make_task(&tint, T_INT, task_nested);
    make_task(&tdf, T_DF, task_df);
    make_task(&tbadldt, T_BADLDT, task_b);
    tbadldt.tss.ldt = S_NOTLDT;
    set_gdt_entry(S_NOTLDT >> 3, 0, 0xFFFFF, ACC_DATA_RW, FLG_G | FLG_DB);
    make_task(&tbadcs, T_BADCS, task_b);
    tbadcs.tss.cs = KDATA;
    suite_gdt[G_B >> 3] = make_gate(T_B, 0, GATE_TASK);
    set_idt_gate(VEC_TASK, T_INT, 0, GATE_TASK);
    set_idt_gate(DF, T_DF, 0, GATE_TASK);

    jmp_and_call();
    task_gates();
    double_fault();
    bad_tss();
}
