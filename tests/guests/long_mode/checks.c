/*
 * long_mode checks: every expected value comes from the SDM (vol. 1 3.4,
 * vol. 2 instruction pages, vol. 3 chapters 4-6 and 9.8); QEMU's recording
 * holds only PASS lines.  Checks QEMU 7.2 gets wrong run only with the
 * word "strict" on the command line (README.md).
 */
#include "probes.h"

struct fault F;

/* RAX of a ring 0 probe, or FAULTED | vector if it raised an exception. */
u64 val(void (*fn)(void)) {
    return run_checked(fn, &F) == NO_FAULT ? F.ret : FAULTED | F.vector;
}

void setup_tables(void) {
    const u64 tss = A(tss64);
    gdt[7] = 103 | ((tss & 0xFFFFFF) << 16) | (0x89ull << 40) | ((tss >> 24 & 0xFF) << 56);
    gdt[8] = tss >> 32;
    *(u64 *)(tss64 + 4) = A(rsp0_top);     /* RSP0 */
    *(u64 *)(tss64 + 0x24) = A(ist1_top);  /* IST1 */
    *(u16 *)(tss64 + 0x66) = 104;          /* no I/O bitmap */
    for (int v = 0; v < 256; v++) {
        u64 h = 0, attr = 0x8E, ist = 0;   /* P, DPL 0, 64-bit interrupt gate */
        if (v < 32) h = exc_stubs[v];
        if (v == VEC_RETURN) h = A(return_gate), attr = 0xEE;
        if (v == VEC_IST) h = A(probe_gate), ist = 1;
        if (v == VEC_PLAIN) h = A(probe_gate);
        if (!h) continue;
        idt[2 * v] = (h & 0xFFFF) | ((u64)KCODE << 16) | (ist << 32) | (attr << 40) |
                     ((h >> 16 & 0xFFFF) << 48);
        idt[2 * v + 1] = h >> 32;
    }
    struct __attribute__((packed)) { u16 limit; u64 base; } d = {256 * 16 - 1, A(idt)};
    __asm__ volatile("lidt %0" : : "m"(d));
    __asm__ volatile("ltr %w0" : : "r"(TSS_SEL));
}

void check_mode(void) {
    u64 cr0, cr4, cs;
    __asm__ volatile("mov %%cr0, %0; mov %%cr4, %1; mov %%cs, %2" : "=r"(cr0), "=r"(cr4), "=r"(cs));
    check_eq("mode.efer_lme_lma_nxe", rdmsr(MSR_EFER), 0xD00);
    check_eq("mode.cr0_pg_wp_pe", cr0 & 0x80010001, 0x80010001);
    check_eq("mode.cr4_pae", cr4 & 0x20, 0x20);
    check_eq("mode.cs_64bit", cs, KCODE);
    u32 a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000001u), "c"(0));
    check_eq("cpuid.lm_nx_syscall_1g", d & 0x24100800u, 0x24100800u);
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1u), "c"(0));
    check_eq("cpuid.cx16", c & 0x2000u, 0x2000u);
}

void check_regs(void) {
    check_eq("rex.r8_r15", val(p_r8_r15), 0x08000755);
    check_eq("rex.r12_sib_r13_disp8", val(p_r12_r13_base), 0x42);
    check_eq("rex.sil", val(p_sil), 0x11111111111111AAull);
    check_eq("rex.no_rex_dh", val(p_dh), 0x222222222222BB22ull);
    check_eq("zext.mov32", val(p_zext_mov32), 0x12345678);
    check_eq("zext.add32", val(p_zext_add32), 0);
    check_eq("zext.r9d", val(p_zext_r9d), 7);
    check_eq("zext.cmov32_false", val(p_cmov32_false), 0xFFFFFFFF);
    check_eq("zext.xchg_eax_eax_87", val(p_xchg_eax_eax), 0xFFFFFFFF);
    check_eq("keep.nop_90", val(p_nop90), ~0ull);
    check_eq("keep.mov16", val(p_mov16), 0xFFFFFFFFFFFF1234ull);
    check_eq("keep.mov8", val(p_mov8), 0xFFFFFFFFFFFFFF56ull);
    check_eq("rip.lea", val(p_rip_lea), 0);
    check_eq("rip.load", val(p_rip_load), 0x1122334455667788ull);
    check_eq("rip.store_imm32", val(p_rip_store_imm), 0xAAAAAAAA13572468ull);
    check_eq("rip.cmp_imm8", val(p_rip_cmp_imm8), 1);
    check_eq("imm.mov_imm64", val(p_imm64), 0x0123456789ABCDEFull);
    check_eq("imm.mov_imm32_sext", val(p_imm32_sext), 0xFFFFFFFFFFFFFFFEull);
    check_eq("imm.mov32_imm_zext", val(p_imm32_zext), 0xFFFFFFFE);
    check_eq("imm.push_imm8_sext", val(p_push_imm), 0xFFFFFFFFFFFFFFFDull);
    check_eq("imm.add_imm32_sext", val(p_add_sext), 0xFFFFFFFF80000000ull);
    check_eq("imm.imul_imm8", val(p_imul_imm), 0xFFFFFFFFFFFFFFFEull);
    check_eq("imm.imul_imm8_of_cf", aux[0], 0x801);
    check_eq("movsxd.negative", val(p_movsxd_neg), 0xFFFFFFFF80000001ull);
    check_eq("movsxd.positive", val(p_movsxd_pos), 0x7FFFFFFF);
    check_eq("movsxd.memory", val(p_movsxd_mem), 0xFFFFFFFFFFFFFFFEull);
}

void check_cx16_stack_muldiv(void) {
    check_eq("cx16.equal_zf", val(p_cx16_equal), 1);
    check_eq("cx16.equal_stored", cx16_buf[0] << 8 | cx16_buf[1], 0x304);
    check_eq("cx16.differ_rax", val(p_cx16_differ), 3);
    check_eq("cx16.differ_rdx", aux[1], 4);
    check_eq("cx16.differ_zf", aux[0], 0);
    run_checked(p_cx16_misaligned, &F);
    check_fault("cx16.misaligned_gp", &F, 13, 0);
    check_eq("cx16.misaligned_rip", F.rip, A(cx16_misaligned_insn));

    check_eq("stack.push_8", val(p_push_delta), 8);
    check_eq("stack.push16_2", val(p_pushw_delta), 2);
    check_eq("stack.push_fs_8", val(p_push_fs_delta), 8);
    check_eq("stack.pop_rsp", val(p_pop_rsp_value), 0);
    check_eq("call.return_address", val(p_call_ret_addr), 0);
    check_eq("call.pushes_8", aux[0], 8);
    check_eq("call.indirect_r64", val(p_call_indirect), 0x77);
    check_eq("call.ret_imm16", val(p_ret_imm), 0);

    check_eq("mul.imul_rax", val(p_imul1), 0x100000000ull);
    check_eq("mul.imul_rdx", aux[0], 1);
    check_eq("mul.mul_rax", val(p_mul), 1);
    check_eq("mul.mul_rdx", aux[0], 0xFFFFFFFFFFFFFFFEull);
    check_eq("div.div_quotient", val(p_div), 0x5555555555555555ull);
    check_eq("div.div_remainder", aux[0], 1);
    check_eq("div.idiv_quotient", val(p_idiv), (u64)-3);
    check_eq("div.idiv_remainder", aux[0], (u64)-1);
    run_checked(p_div_overflow, &F);
    check_fault("div.quotient_overflow_de", &F, 0, 0);
    check_eq("div.quotient_overflow_rip", F.rip, A(div_overflow_insn));
    run_checked(p_idiv_overflow, &F);
    check_fault("div.idiv_min_by_minus1_de", &F, 0, 0);
    check_eq("div.idiv_min_by_minus1_rip", F.rip, A(idiv_overflow_insn));

    check_eq("shift.shl_63", val(p_shl63), 0x8000000000000000ull);
    check_eq("shift.shl_64_masked", val(p_shl64), 1);
    check_eq("shift.shl_65_masked", val(p_shl65), 2);
    check_eq("shift.shl32_33_masked_zext", val(p_shl32_count33), 2);
    check_eq("shift.sar_63", val(p_sar63), ~0ull);
    check_eq("shift.shr_60", val(p_shr60), 8);
    check_eq("shift.rol_4", val(p_rol4), 0x23456789ABCDEF01ull);
    check_eq("shift.shld_8", val(p_shld), 0x23456789ABCDEFFEull);
    check_eq("shift.shrd_8", val(p_shrd), 0x100123456789ABCDull);
    check_eq("bits.bsr_bsf", val(p_bsr_bsf), 63 << 8 | 8);
    check_eq("bits.bt_40", val(p_bt40), 1);
}

void check_strings(void) {
    check_eq("str.rep_stosq_sixth_untouched", val(p_rep_stosq), 0);
    check_eq("str.rep_stosq_rcx", aux[0], 0);
    check_eq("str.rep_stosq_rdi", aux[1], 40);
    check_eq("str.rep_movsb_bytes", val(p_rep_movsb), 0x131211100F0E0D0Cull);
    check_eq("str.rep_movsb_rcx", aux[0], 0);
    check_eq("str.rep_movsb_rsi", aux[1], 19);
    check_eq("str.std_rep_movsq_before", val(p_std_movsq), 0x5A5A5A5A5A5A5A5Aull);
    check_eq("str.std_rep_movsq_rdi", aux[0], 24);
    check_eq("str.std_rep_movsq_copied", str_dst[2], 0x1817161514131211ull);
    check_eq("str.repne_scasb_rcx", val(p_repne_scasb), 62);
    check_eq("str.repne_scasb_rdi", aux[0], 38);
    check_eq("str.repe_cmpsq_rcx", val(p_repe_cmpsq), 1);
    check_eq("str.repe_cmpsq_zf0", aux[0], 1);
    check_eq("str.addr32_rep_stosb_ecx", val(p_addr32_stosb), 0x080706050403EEEEull);
    check_eq("str.lodsq", val(p_lodsq), 0x0807060504030201ull);
    check_eq("str.lodsq_rsi", aux[0], 8);
}

static u64 fs_area[2] = {0x1111, 0xF5F5F5F5F5F5F5F5ull};
static u64 gs_user[1] = {0x6060606060606060ull};
static u64 gs_kernel[1] = {0x6B6B6B6B6B6B6B6Bull};

void check_bases(void) {
    wrmsr(MSR_FS_BASE, A(fs_area));
    check_eq("base.fs_msr_readback", rdmsr(MSR_FS_BASE), A(fs_area));
    check_eq("base.fs_read", val(p_fs_read), fs_area[1]);
    wrmsr(MSR_GS_BASE, A(gs_user));
    wrmsr(MSR_KERNEL_GS_BASE, A(gs_kernel));
    check_eq("base.gs_read", val(p_gs_read), gs_user[0]);
    check_eq("base.swapgs_read", val(p_swapgs_read), gs_kernel[0]);
    check_eq("base.swapgs_gs_base", val(p_swapgs_msrs), A(gs_kernel));
    check_eq("base.swapgs_kernel_gs_base", aux[0], A(gs_user));
    check_eq("base.swapgs_twice_restores", rdmsr(MSR_GS_BASE), A(gs_user));
    if (strict) { /* QEMU 7.2 loads it */
        run_checked(p_wrmsr_fs_noncanonical, &F);
        check_fault("base.wrmsr_fs_noncanonical_gp", &F, 13, 0);
    }
}

void check_removed(void) {
    static const char *const ud_names[] = {
        "ud.pusha_60", "ud.popa_61", "ud.daa_27", "ud.das_2f", "ud.aaa_37", "ud.aas_3f",
        "ud.aam_d4", "ud.aad_d5", "ud.push_es_06", "ud.pop_es_07", "ud.push_cs_0e",
        "ud.push_ss_16", "ud.pop_ss_17", "ud.push_ds_1e", "ud.pop_ds_1f", "ud.into_ce",
        "ud.call_far_9a", "ud.jmp_far_ea", "ud.salc_d6", "ud.grp1_82"};
    for (u64 i = 0; i < ud_probe_count && i < sizeof ud_names / sizeof ud_names[0]; i++) {
        void (*fn)(void) = (void (*)(void))(A(ud_first) + 16 * i);
        run_checked(fn, &F);
        if (F.vector == 6 && F.rip != A(fn)) F.vector = 0xFF; /* #UD elsewhere */
        check_fault(ud_names[i], &F, 6, 0);
    }
}
