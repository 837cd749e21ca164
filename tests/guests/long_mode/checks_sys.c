/*
 * long_mode system checks (SDM vol. 3): canonical addresses (3.3.7.1,
 * 6.15), 4-level paging and #PF error codes (4.5, 4.7), 64-bit interrupt
 * frames, IST and IRETQ (6.14), compatibility mode (5.2.1), ring 3 by IRETQ
 * and SYSRET, SYSCALL with STAR/LSTAR/SFMASK (5.8.8), and lm_main.
 */
#include "probes.h"

#define PAGE_TEST 0x01000000ull /* pt_test[i] maps PAGE_TEST + i * 4096 */
#define PTE_P 1ull
#define PTE_RW 2ull
#define PTE_US 4ull
#define PTE_XD (1ull << 63)
#define PTE_RSVD51 (1ull << 51)

int strict;
u64 probe_addr;
static u64 pf_page[512] __attribute__((aligned(4096)));

static void check_canonical(void) {
    write_cr2(0x1234);
    run_checked(p_noncanon_read, &F);
    check_fault("canon.read_gp", &F, 13, 0);
    check_eq("canon.read_rip", F.rip, A(noncanon_read_insn));
    check_eq("canon.read_leaves_cr2", read_cr2(), 0x1234);
    run_checked(p_noncanon_write_high, &F);
    check_fault("canon.write_below_upper_half_gp", &F, 13, 0);
    check_eq("canon.write_rip", F.rip, A(noncanon_write_insn));
    if (strict) {
        run_checked(p_noncanon_rbp, &F);
        check_fault("canon.rbp_based_ss", &F, 12, 0);
        check_eq("canon.rbp_based_rip", F.rip, A(noncanon_rbp_insn));
        run_checked(p_noncanon_jmp, &F);
        check_fault("canon.jmp_target_gp", &F, 13, 0);
        check_eq("canon.jmp_target_rip_is_jmp", F.rip, A(noncanon_jmp_insn));
    }
}

static void map_probe_pages(void) {
    pt_test[0] = A(pf_page) | PTE_P | PTE_RW | PTE_US;
    pt_test[1] = 0;
    pt_test[2] = A(pf_page) | PTE_P | PTE_US;
    pt_test[3] = A(code_page) | PTE_P;
    pt_test[4] = A(code_page) | PTE_P | PTE_RW | PTE_US | PTE_XD;
    pt_test[5] = A(pf_page) | PTE_P | PTE_RW | PTE_US | PTE_RSVD51;
    for (int i = 0; i < 6; i++) invlpg(PAGE_TEST + 4096 * (u64)i);
}

/* Runs fn at ring 0 (user == 0) or ring 3 with probe_addr = addr: #PF(err)
 * with CR2 = addr and RIP = rip. */
static void check_pf(const char *name, void (*fn)(void), int user, u64 addr, u64 err, u64 rip) {
    probe_addr = addr;
    write_cr2(0);
    if (user)
        run_user(fn, UCODE64, 2, &F);
    else
        run_checked(fn, &F);
    check_fault(name, &F, 14, err);
    check_eq_sfx(name, "_rip", F.rip, rip);
    check_eq_sfx(name, "_cr2", read_cr2(), addr);
}

static void check_paging(void) {
    map_probe_pages();
    pf_page[0] = 0xABCD;
    probe_addr = PAGE_TEST;
    check_eq("pg.4k_alias_read", val(p_read), 0xABCD);
    volatile u64 *two_mib = (volatile u64 *)0x300000;
    *two_mib = 0x2222333344445555ull;
    check_eq("pg.2m_read_back", *two_mib, 0x2222333344445555ull);
    probe_addr = 0x40300000;
    check_eq("pg.1g_alias_of_2m_page", val(p_read), 0x2222333344445555ull);
    probe_addr = 0x40000000 + A(&rip_var2);
    check_eq("pg.1g_alias_of_kernel", val(p_read), rip_var2);
    probe_addr = PAGE_TEST + 2 * 4096;
    check_eq("pg.read_only_read", val(p_read), 0xABCD);
    probe_addr = PAGE_TEST + 3 * 4096;
    check_eq("pg.supervisor_exec_ring0", val(p_exec), 42);
    probe_addr = PAGE_TEST + 4 * 4096;
    check_eq("pg.xd_page_read", val(p_read), *(u64 *)A(code_page));

    check_pf("pg.not_present_read", p_read, 0, PAGE_TEST + 4096, 0x0,
             A(read_insn));
    check_pf("pg.not_present_write", p_write, 0, PAGE_TEST + 4096, 0x2,
             A(write_insn));
    check_pf("pg.read_only_write_wp", p_write, 0,
             PAGE_TEST + 2 * 4096, 0x3, A(write_insn));
    check_pf("pg.xd_fetch", p_exec, 0, PAGE_TEST + 4 * 4096, 0x11,
             PAGE_TEST + 4 * 4096);
    check_pf("pg.pml4e_not_present", p_read, 0, 0x0000700000000000ull,
             0x0, A(read_insn));
    check_pf("pg.upper_half_not_present", p_read, 0,
             0xFFFF800000001000ull, 0x0, A(read_insn));
    /* RSVD with P: QEMU 7.2 reports 0x8 (P clear); the default run masks P. */
    probe_addr = PAGE_TEST + 5 * 4096;
    run_checked(p_read, &F);
    if (!strict && F.vector == 14) F.error |= PTE_P;
    check_fault("pg.reserved_bit51_read", &F, 14, 0x9);
    check_eq("pg.reserved_bit51_read_cr2", read_cr2(), PAGE_TEST + 5 * 4096);

    check_pf("pg.user_read_supervisor", p_read, 1,
             PAGE_TEST + 3 * 4096, 0x5, A(read_insn));
    check_pf("pg.user_write_read_only", p_write, 1,
             PAGE_TEST + 2 * 4096, 0x7, A(write_insn));
    check_pf("pg.user_fetch_supervisor", p_exec, 1,
             PAGE_TEST + 3 * 4096, 0x15, PAGE_TEST + 3 * 4096);
    probe_addr = PAGE_TEST;
    run_user(p_read, UCODE64, 2, &F);
    check_eq("pg.user_read_user_page", F.vector == (u64)NO_FAULT ? F.ret : F.vector, 0xABCD);
}

static void check_interrupts(void) {
    run_checked(p_int_plain_misaligned, &F);
    check_eq("int.gate_aligns_rsp_16", probe_rec.entry_rsp, (aux[0] & ~15ull) - 40);
    check_eq("int.frame_rip", probe_rec.rip, A(int_plain_ret));
    check_eq("int.frame_cs", probe_rec.cs, KCODE);
    check_eq("int.frame_rsp_unaligned", probe_rec.rsp, aux[0]);
    check_eq("int.frame_ss", probe_rec.ss, KDATA);
    run_checked(p_int_ist, &F);
    check_eq("int.ist1_stack", probe_rec.entry_rsp, A(ist1_top) - 40);
    check_eq("int.ist1_frame_rsp", probe_rec.rsp, aux[0]);
    check_eq("int.ist1_frame_rip", probe_rec.rip, A(int_ist_ret));
    run_checked(p_iretq_same_ring, &F);
    check_eq("iretq.same_ring_loads_rsp", aux[0], A(iret_stack_top) - 8);
    check_eq("iretq.same_ring_loads_rflags", aux[1], 0xC7);

    if (strict) { /* QEMU 7.2 clears PAE under LMA (and then triple-faults) */
        run_checked(p_cr4_clear_pae, &F);
        check_fault("lm.clear_cr4_pae_gp", &F, 13, 0);
    }
    if (strict) { /* QEMU 7.2 clears LME under CR0.PG */
        run_checked(p_efer_clear_lme, &F);
        check_fault("lm.clear_efer_lme_gp", &F, 13, 0);
    }
}

static void check_compat(void) {
    check_eq("compat.far_return_in", val(p_compat), 0);
    check_eq("compat.byte_40_is_inc_eax", compat_out[0] & 0xFFFFFFFF, 0);
    check_eq("compat.push_esp_minus_4", compat_out[1] & 0xFFFFFFFF, 4);
    check_eq("compat.cs", compat_out[2] & 0xFFFF, KCODE32);
    check_eq("compat.pusha_32_bytes", compat_out[3] & 0xFFFFFFFF, 32);
    check_eq("compat.far_jmp_back_cs", compat_out[4], KCODE);
    run_checked(p_compat_into, &F);
    check_fault("compat.into_of", &F, 4, 0);
    check_eq("compat.into_rip_after", F.rip, A(compat_into_next));
    check_eq("compat.into_cs", F.cs, KCODE32);
}

static void check_ring3(void) {
    run_user(u_cs, UCODE64, 2, &F);
    check_eq("ring3.iretq_cs_ss", F.ret, (u64)UCODE64 << 16 | UDATA);
    check_eq("ring3.int_frame_cs", F.cs, UCODE64);
    check_eq("ring3.int_frame_ss", F.ss, UDATA);
    check_eq("ring3.int_frame_rsp", F.rsp, A(user_stack_top));
    run_user(u_cli, UCODE64, 2, &F);
    check_fault("ring3.cli_gp", &F, 13, 0);
    check_eq("ring3.cli_rip", F.rip, A(u_cli_insn));
    run_user(u_swapgs, UCODE64, 2, &F);
    check_fault("ring3.swapgs_gp", &F, 13, 0);
    run_user(u32_cs, UCODE32, 2, &F);
    check_eq("ring3.iretq_to_compat_cs", F.ret & 0xFFFF, UCODE32);
    check_eq("ring3.compat_int_frame_cs", F.cs, UCODE32);
}

static void check_syscall(void) {
    run_checked(p_syscall_no_sce, &F);
    check_fault("sys.syscall_without_sce_ud", &F, 6, 0);
    check_eq("sys.syscall_without_sce_rip", F.rip, A(syscall_no_sce_insn));
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | 1);
    wrmsr(MSR_STAR, (u64)UCODE32 << 48 | (u64)KCODE << 32);
    wrmsr(MSR_LSTAR, A(syscall_entry));
    wrmsr(MSR_SFMASK, 0x701); /* CF TF IF DF */
    check_eq("sys.efer_sce", rdmsr(MSR_EFER), 0xD01);
    int v = run_sysret(u_sys, 0x842, 1, &F);
    check_eq("sys.ends_by_syscall", (u64)v << 8 | F.ret, (u64)NO_FAULT << 8 | 2);
    check_eq("sys.sysretq_cs", sys_rec[1].r13, UCODE64);
    check_eq("sys.sysretq_ss", sys_rec[1].r14, UDATA);
    check_eq("sys.sysretq_rflags_from_r11", sys_rec[1].r12, 0x842);
    check_eq("sys.syscall_rcx_return_rip", sys_rec[0].rcx, A(u_sys_ret1));
    check_eq("sys.syscall_r11_rflags", sys_rec[0].r11, 0xC43);
    /* QEMU 7.2 also clears the arithmetic flags; the default run masks them. */
    const u64 arith = strict ? 0 : 0x8D5;
    check_eq("sys.syscall_sfmask_clears", sys_rec[0].kflags & ~arith, 0x842 & ~arith);
    check_eq("sys.syscall_cs", sys_rec[0].kcs, KCODE);
    check_eq("sys.syscall_ss", sys_rec[0].kss, KDATA);
    check_eq("sys.second_sysretq_rflags", sys_rec[1].r15, 0xC43);
    run_sysret(u32_sys, 2, 0, &F);
    check_eq("sys.sysretl_compat_cs", F.ret & 0xFFFF, UCODE32);
    check_eq("sys.sysretl_frame_ss", F.ss, UDATA);
}

void lm_main(void) {
    puts_("long_mode: 64-bit mode reached\n");
    strict = cmdline_has("strict");
    setup_tables();
    check_mode();
    check_regs();
    check_cx16_stack_muldiv();
    check_strings();
    check_bases();
    check_removed();
    check_canonical();
    check_paging();
    check_interrupts();
    check_compat();
    check_ring3();
    check_syscall();
    lm_finish();
}
