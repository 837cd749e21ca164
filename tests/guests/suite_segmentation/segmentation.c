#include "suite.h"

static void load_ds_null(void) { __asm__ volatile("movw %0, %%ds" : : "r"((u16)0)); }
static void load_ss_null(void) { __asm__ volatile("movw %0, %%ss" : : "r"((u16)0)); }
static void user_ret(void) { __asm__ volatile("movl $0x1234, %eax"); }
static void user_cli(void) { __asm__ volatile("cli"); }

void suite_main(void)
{
    struct fault f;
    run_checked(load_ds_null, &f);
    check_fault("seg.null_ds_load", &f, NO_FAULT, 0);
    run_checked(load_ss_null, &f);
    check_fault("seg.null_ss_load", &f, GP, 0);
    run_user(user_ret, 0x2, &f);
    check_fault("seg.user", &f, NO_FAULT, 0);
    suite_printf("ret=%x cs=%x eflags=%x esp=%x ss=%x\n", f.ret, f.cs, f.eflags, f.esp, f.ss);
    run_user(user_cli, 0x2, &f);
    check_fault("seg.user_cli", &f, GP, 0);
    suite_printf("eip=%x cs=%x eflags=%x esp=%x ss=%x\n", f.eip, f.cs, f.eflags, f.esp, f.ss);
}
