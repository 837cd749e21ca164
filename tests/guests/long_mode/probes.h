/*
 * long_mode: the probes (probes.S, probes_sys.S) as C sees them, and the
 * check groups (checks.c, checks_sys.c).
 */
#ifndef PROBES_H
#define PROBES_H

#include "lm.h"

/* probes.S / probes_sys.S */
#define P(name) void name(void)
P(p_r8_r15); P(p_r12_r13_base); P(p_sil); P(p_dh); P(p_zext_mov32); P(p_zext_add32);
P(p_zext_r9d); P(p_mov16); P(p_mov8); P(p_nop90); P(p_xchg_eax_eax); P(p_cmov32_false);
P(p_rip_lea); P(p_rip_load); P(p_rip_store_imm); P(p_rip_cmp_imm8); P(p_imm64);
P(p_imm32_sext); P(p_imm32_zext); P(p_push_imm); P(p_add_sext); P(p_imul_imm);
P(p_movsxd_neg); P(p_movsxd_pos); P(p_movsxd_mem); P(p_cx16_equal); P(p_cx16_differ);
P(p_cx16_misaligned); P(cx16_misaligned_insn); P(p_push_delta); P(p_pushw_delta);
P(p_push_fs_delta); P(p_pop_rsp_value); P(p_call_ret_addr); P(p_call_indirect); P(p_ret_imm);
P(p_imul1); P(p_mul); P(p_div); P(p_idiv); P(p_div_overflow); P(div_overflow_insn);
P(p_idiv_overflow); P(idiv_overflow_insn); P(p_shl63); P(p_shl64); P(p_shl65);
P(p_shl32_count33); P(p_sar63); P(p_shr60); P(p_rol4); P(p_shld); P(p_shrd); P(p_bsr_bsf);
P(p_bt40); P(p_rep_stosq); P(p_rep_movsb); P(p_std_movsq); P(p_repne_scasb); P(p_repe_cmpsq);
P(p_addr32_stosb); P(p_lodsq); P(p_fs_read); P(p_gs_read); P(p_swapgs_read); P(p_swapgs_msrs);
P(ud_first); P(p_noncanon_read); P(noncanon_read_insn); P(p_noncanon_write_high);
P(noncanon_write_insn); P(p_noncanon_rbp); P(noncanon_rbp_insn); P(p_noncanon_jmp);
P(noncanon_jmp_insn); P(p_read); P(read_insn); P(p_write); P(write_insn); P(p_exec);
P(code_page); P(p_int_plain_misaligned); P(int_plain_ret); P(p_int_ist); P(int_ist_ret);
P(p_iretq_same_ring); P(p_compat); P(p_compat_into); P(compat_into_next); P(u_cs); P(u_cli);
P(u_cli_insn); P(u_swapgs); P(u_swapgs_insn); P(u32_cs); P(u_sys); P(u_sys_ret1);
P(p_wrmsr_fs_noncanonical); P(p_cr4_clear_pae); P(p_efer_clear_lme); P(u32_sys);
P(p_syscall_no_sce); P(syscall_no_sce_insn);
#undef P
extern u64 aux[4], rip_var2, cx16_buf[4], str_dst[8], compat_out[5], ud_probe_count;

#define A(sym) ((u64)(sym))
#define FAULTED 0xFA17000000000000ull

extern u64 iret_stack_top[];
extern struct fault F;
u64 val(void (*fn)(void));

extern int strict;
void setup_tables(void);
void check_mode(void);
void check_regs(void);
void check_cx16_stack_muldiv(void);
void check_strings(void);
void check_bases(void);
void check_removed(void);

#endif
