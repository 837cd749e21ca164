/*
 * suite_segmentation: segment register loads and segment instructions as the
 * Intel SDM vol. 3 (ch. 3 and 5, MOV/POP Sreg, LAR, LSL, VERR/VERW, ARPL,
 * LLDT) specifies them, plus real mode, unreal mode and the round trip
 * protected -> real -> protected (realmode.S).
 *
 * QEMU's TCG checks no data/stack segment limits and no accesses through a
 * null DS, so those checks run only with the word "strict" on the command
 * line (see tests/guests/README.md).
 */
#include "suite.h"

#define S_DATA 0x30      /* RW data DPL0, accessed bit cleared before a load */
#define S_RODATA 0x38
#define S_XCODE 0x40     /* execute-only code */
#define S_RCODE 0x48     /* readable non-conforming code DPL0 */
#define S_NPDATA 0x50    /* data, P=0 */
#define S_DATA1 0x58     /* RW data DPL1 */
#define S_CONF 0x60      /* readable conforming code DPL0 */
#define S_LDT 0x68       /* LDT: 3 entries */
#define S_ED32 0x70      /* expand-down, limit 0xFFF, B=1 */
#define S_ED16 0x78      /* expand-down, limit 0xFFF, B=0 */
#define S_SMALL 0x80     /* RW data, base small_buf, limit 0xFF */
#define S_NPSTACK 0x88   /* RW data, P=0 (for SS) */
#define S_LAR 0x90       /* RW data, G=1 D=1 AVL, limit 0x0FFFF, never loaded */
#define S_INTGATE 0x98   /* a 32-bit interrupt gate type in the GDT */
#define S_CALLGATE 0xA0
#define S_CODE16 0xA8    /* 16-bit code, base REALMODE_BASE, limit 0xFFFF */
#define S_DATA16 0xB0    /* 16-bit data, base 0, limit 0xFFFF */
#define S_STACK2M 0xB8   /* RW data, base 0, limit 0x1FFFFF: holds the stack */
#define S_UNUSED 0xF8    /* inside the GDT limit, all zero */

#define L_DATA 0x04      /* LDT entry 0: RW data */
#define L_NP 0x0C        /* LDT entry 1: not present */
#define L_XCODE 0x14     /* LDT entry 2: execute-only code */

#define REALMODE_BASE 0x7000u
#define ED_BASE 0x300000u

static u64 ldt[3];
static u8 small_buf[260];  /* limit 0xFF; the spare bytes absorb what QEMU lets through */
static volatile u16 sel;
static int strict;

/* realmode.S */
extern const u8 rm_blob[], rm_blob_end[];
extern void realmode_roundtrip(void);
extern const u8 rm_cs_seen[], rm_unreal_read[], rm_int_seen[];
/* a variable of the blob in its copy at REALMODE_BASE */
#define RM_VAR(T, sym) (*(volatile T *)(REALMODE_BASE + (u32)(sym - rm_blob)))

static void ld_ds(void) { __asm__ volatile("movw %0, %%ds" : : "m"(sel)); }
static void ld_es(void) { __asm__ volatile("movw %0, %%es" : : "m"(sel)); }
static void ld_fs(void) { __asm__ volatile("movw %0, %%fs" : : "m"(sel)); }
static void ld_gs(void) { __asm__ volatile("movw %0, %%gs" : : "m"(sel)); }
static void ld_ss(void) { __asm__ volatile("movw %0, %%ss" : : "m"(sel)); }
static void pop_es(void) { __asm__ volatile("pushl %0; popl %%es" : : "m"(sel)); }
static void do_lldt(void) { __asm__ volatile("lldt %0" : : "m"(sel)); }

static void load(const char *name, void (*fn)(void), u16 s, int vec, u32 err, int ring3)
{
    struct fault f;
    sel = s;
    if (ring3)
        run_user(fn, 0x2, &f);
    else
        run_checked(fn, &f);
    check_fault(name, &f, vec, err);
}

/* Limit checks: each loads a segment and touches one offset. */
#define ACCESS_FN(fname, sreg, selector, insn)                                   \
    static void fname(void)                                                     \
    {                                                                           \
        __asm__ volatile("movw %0, %%" #sreg "\n" insn : : "r"((u16)(selector))   \
                         : "eax", "memory");                                    \
    }
ACCESS_FN(small_last, es, S_SMALL, "movb $0x5A, %%es:0xFF")
ACCESS_FN(small_past, es, S_SMALL, "movb $0x5A, %%es:0x100")
ACCESS_FN(small_dword, es, S_SMALL, "movl $0x12345678, %%es:0xFD")
ACCESS_FN(ed32_low, fs, S_ED32, "movl %%fs:0x1000, %%eax")
ACCESS_FN(ed32_below, fs, S_ED32, "movl %%fs:0xFFC, %%eax")
ACCESS_FN(ed32_top, fs, S_ED32, "movl %%fs:0xFFFFFFFC, %%eax")
ACCESS_FN(ed16_top, gs, S_ED16, "movb %%gs:0xFFFF, %%al")
ACCESS_FN(ed16_past, gs, S_ED16, "movb %%gs:0x10000, %%al")
ACCESS_FN(null_access, ds, 0, "movl 0x100000, %%eax")
ACCESS_FN(ss_past, ss, S_STACK2M, "movl %%ss:0x200000, %%eax")

static void limit_check(const char *name, void (*fn)(void), int vec)
{
    struct fault f;
    run_checked(fn, &f);
    check_fault(name, &f, vec, 0);
}

static u32 lar(u16 s, int *zf)
{
    u32 v = 0xDEADBEEF;
    u8 z;
    __asm__ volatile("larl %2, %0; setz %1" : "+r"(v), "=q"(z) : "r"((u32)s) : "cc");
    *zf = z;
    return v;
}

static u32 lsl(u16 s, int *zf)
{
    u32 v = 0xDEADBEEF;
    u8 z;
    __asm__ volatile("lsll %2, %0; setz %1" : "+r"(v), "=q"(z) : "r"((u32)s) : "cc");
    *zf = z;
    return v;
}

static int verr(u16 s)
{
    u8 z;
    __asm__ volatile("verr %1; setz %0" : "=q"(z) : "r"(s) : "cc");
    return z;
}

static int verw(u16 s)
{
    u8 z;
    __asm__ volatile("verw %1; setz %0" : "=q"(z) : "r"(s) : "cc");
    return z;
}

static void check_lar(const char *name, u16 s, int want_zf, u32 want)
{
    int zf;
    u32 v = lar(s, &zf);
    if (!want_zf)
        want = 0xDEADBEEF;  /* destination unchanged */
    check(name, zf == want_zf && v == want, "got ZF=%d 0x%08x want ZF=%d 0x%08x", zf, v, want_zf, want);
}

static void check_lsl(const char *name, u16 s, int want_zf, u32 want)
{
    int zf;
    u32 v = lsl(s, &zf);
    if (!want_zf)
        want = 0xDEADBEEF;
    check(name, zf == want_zf && v == want, "got ZF=%d 0x%08x want ZF=%d 0x%08x", zf, v, want_zf, want);
}

static void arpl_case(const char *name, u16 dst, u16 src, u16 want, int want_zf)
{
    u8 z;
    __asm__ volatile("arpl %2, %0; setz %1" : "+r"(dst), "=q"(z) : "r"(src) : "cc");
    check(name, dst == want && z == want_zf, "got 0x%04x ZF=%d want 0x%04x ZF=%d", dst, z, want, want_zf);
}

static void setup_tables(void)
{
    set_gdt_entry(S_DATA >> 3, 0, 0xFFFFF, ACC_DATA_RW, FLG_G | FLG_DB);
    set_gdt_entry(S_RODATA >> 3, 0, 0xFFFFF, ACC_DATA_RO, FLG_G | FLG_DB);
    set_gdt_entry(S_XCODE >> 3, 0, 0xFFFFF, ACC_CODE_X, FLG_G | FLG_DB);
    set_gdt_entry(S_RCODE >> 3, 0, 0xFFFFF, ACC_CODE_RX, FLG_G | FLG_DB);
    set_gdt_entry(S_NPDATA >> 3, 0, 0xFFFFF, ACC_DATA_RW & ~ACC_P, FLG_G | FLG_DB);
    set_gdt_entry(S_DATA1 >> 3, 0, 0xFFFFF, ACC_DATA_RW | ACC_DPL(1), FLG_G | FLG_DB);
    set_gdt_entry(S_CONF >> 3, 0, 0xFFFFF, ACC_CODE_RX_CONF, FLG_G | FLG_DB);
    set_gdt_entry(S_LDT >> 3, (u32)ldt, sizeof(ldt) - 1, ACC_LDT, 0);
    set_gdt_entry(S_ED32 >> 3, ED_BASE, 0xFFF, ACC_DATA_RW_DOWN, FLG_DB);
    set_gdt_entry(S_ED16 >> 3, ED_BASE, 0xFFF, ACC_DATA_RW_DOWN, 0);
    set_gdt_entry(S_SMALL >> 3, (u32)small_buf, 0xFF, ACC_DATA_RW, FLG_DB);
    set_gdt_entry(S_NPSTACK >> 3, 0, 0xFFFFF, ACC_DATA_RW & ~ACC_P, FLG_G | FLG_DB);
    set_gdt_entry(S_LAR >> 3, 0, 0x0FFFF, ACC_DATA_RW | ACC_DPL(2), FLG_G | FLG_DB | 1);
    suite_gdt[S_INTGATE >> 3] = make_gate(KCODE, 0x1000, GATE_INT32);
    suite_gdt[S_CALLGATE >> 3] = make_gate(KCODE, 0x1000, GATE_CALL32);
    set_gdt_entry(S_CODE16 >> 3, REALMODE_BASE, 0xFFFF, ACC_CODE_RX, 0);
    set_gdt_entry(S_DATA16 >> 3, 0, 0xFFFF, ACC_DATA_RW, 0);
    set_gdt_entry(S_STACK2M >> 3, 0, 0x1FF, ACC_DATA_RW, FLG_G | FLG_DB);
    ldt[0] = make_desc(0, 0xFFFFF, ACC_DATA_RW, FLG_G | FLG_DB);
    ldt[1] = make_desc(0, 0xFFFFF, ACC_DATA_RW & ~ACC_P, FLG_G | FLG_DB);
    ldt[2] = make_desc(0, 0xFFFFF, ACC_CODE_X, FLG_G | FLG_DB);
}

static void selector_loads(void)
{
    load("seg.null_ds_load", ld_ds, 0, NO_FAULT, 0, 0);
    load("seg.null_rpl3_es_load", ld_es, 3, NO_FAULT, 0, 0);
    load("seg.null_ss_load", ld_ss, 0, GP, 0, 0);
    load("seg.null_rpl_ss_load", ld_ss, 3, GP, 0, 0);
    load("seg.gdt_beyond_limit", ld_ds, 0x100, GP, 0x100, 0);
    load("seg.gdt_zero_descriptor", ld_fs, S_UNUSED, GP, S_UNUSED, 0);
    load("seg.ldt_with_null_ldtr", ld_ds, L_DATA, GP, L_DATA, 0);
    load("seg.ds_execute_only_code", ld_ds, S_XCODE, GP, S_XCODE, 0);
    load("seg.ds_readable_code", ld_ds, S_RCODE, NO_FAULT, 0, 0);
    load("seg.gs_conforming_code", ld_gs, S_CONF, NO_FAULT, 0, 0);
    load("seg.ds_tss_descriptor", ld_ds, TSS_SEL, GP, TSS_SEL, 0);
    load("seg.es_ldt_descriptor", ld_es, S_LDT, GP, S_LDT, 0);
    load("seg.fs_call_gate", ld_fs, S_CALLGATE, GP, S_CALLGATE, 0);
    load("seg.ss_readable_code", ld_ss, S_RCODE, GP, S_RCODE, 0);
    load("seg.ss_read_only_data", ld_ss, S_RODATA, GP, S_RODATA, 0);
    load("seg.ds_not_present", ld_ds, S_NPDATA, NP, S_NPDATA, 0);
    load("seg.ss_not_present", ld_ss, S_NPSTACK, SS, S_NPSTACK, 0);
    load("seg.pop_es_not_present", pop_es, S_NPDATA, NP, S_NPDATA, 0);
    load("seg.ds_rpl1_dpl0", ld_ds, S_DATA | 1, GP, S_DATA, 0);
    load("seg.ds_dpl1_cpl0", ld_ds, S_DATA1, NO_FAULT, 0, 0);
    load("seg.ss_dpl1_cpl0", ld_ss, S_DATA1, GP, S_DATA1, 0);
    load("seg.ss_rpl2_cpl0", ld_ss, KDATA | 2, GP, KDATA, 0);
    load("seg.ring3_ds_dpl0", ld_ds, KDATA | 3, GP, KDATA, 1);
    load("seg.ring3_ds_rpl0_dpl0", ld_ds, KDATA, GP, KDATA, 1);
    load("seg.ring3_es_dpl3", ld_es, UDATA, NO_FAULT, 0, 1);
    load("seg.ring3_fs_conforming_dpl0", ld_fs, S_CONF | 3, NO_FAULT, 0, 1);
    load("seg.ring3_gs_nonconforming_dpl0", ld_gs, S_RCODE | 3, GP, S_RCODE, 1);
    load("seg.ring3_ss_dpl0", ld_ss, KDATA | 3, GP, KDATA, 1);

    suite_gdt[S_DATA >> 3] &= ~(1ull << 40);
    load("seg.accessed_load", ld_ds, S_DATA, NO_FAULT, 0, 0);
    check("seg.accessed_bit_set", (suite_gdt[S_DATA >> 3] >> 40) & 1, "A=0 after the load");
}

static void ldt_checks(void)
{
    struct fault f;
    u16 ldtr;
    load("seg.lldt_data_descriptor", do_lldt, S_DATA, GP, S_DATA, 0);
    load("seg.lldt_ti_set", do_lldt, S_LDT | 4, GP, S_LDT | 4, 0);
    load("seg.lldt", do_lldt, S_LDT, NO_FAULT, 0, 0);
    __asm__ volatile("sldt %0" : "=r"(ldtr));
    check_eq("seg.sldt", ldtr, S_LDT);
    load("seg.ldt_data_load", ld_ds, L_DATA, NO_FAULT, 0, 0);
    load("seg.ldt_not_present", ld_es, L_NP, NP, L_NP, 0);
    load("seg.ldt_execute_only", ld_fs, L_XCODE, GP, L_XCODE, 0);
    load("seg.ldt_beyond_limit", ld_gs, 0x1C, GP, 0x1C, 0);
    sel = 0;
    run_checked(do_lldt, &f);
}

static void limit_checks(void)
{
    limit_check("seg.limit_last_byte", small_last, NO_FAULT);
    limit_check("seg.expand_down32_lowest", ed32_low, NO_FAULT);
    limit_check("seg.expand_down32_top", ed32_top, NO_FAULT);
    limit_check("seg.expand_down16_top", ed16_top, NO_FAULT);
    if (!strict)
        return;
    limit_check("seg.strict_limit_past", small_past, GP);
    limit_check("seg.strict_limit_dword_straddle", small_dword, GP);
    limit_check("seg.strict_expand_down32_below", ed32_below, GP);
    limit_check("seg.strict_expand_down16_past_ffff", ed16_past, GP);
    limit_check("seg.strict_null_ds_access", null_access, GP);
    limit_check("seg.strict_ss_limit", ss_past, SS);
}

static void instruction_checks(void)
{
    check_lar("seg.lar_data", S_LAR, 1, 0x00D0D200);
    check_lar("seg.lar_rpl3_dpl2", S_LAR | 3, 0, 0);
    /* accessed since seg.gs_conforming_code loaded it */
    check_lar("seg.lar_conforming_rpl3", S_CONF | 3, 1, 0x00C09F00);
    check_lar("seg.lar_busy_tss", TSS_SEL, 1, 0x00008B00);
    check_lar("seg.lar_call_gate", S_CALLGATE, 1, 0x00008C00);
    check_lar("seg.lar_interrupt_gate", S_INTGATE, 0, 0);
    check_lar("seg.lar_null", 0, 0, 0);
    check_lar("seg.lar_beyond_gdt", 0x100, 0, 0);
    check_lsl("seg.lsl_granular", S_LAR, 1, 0x0FFFFFFF);
    check_lsl("seg.lsl_byte", S_SMALL, 1, 0xFF);
    check_lsl("seg.lsl_tss", TSS_SEL, 1, sizeof(suite_tss) - 1);
    check_lsl("seg.lsl_call_gate", S_CALLGATE, 0, 0);
    check("seg.verr_readable_code", verr(S_RCODE) == 1, "ZF=0");
    check("seg.verr_execute_only", verr(S_XCODE) == 0, "ZF=1");
    check("seg.verr_conforming_rpl3", verr(S_CONF | 3) == 1, "ZF=0");
    check("seg.verw_data", verw(KDATA) == 1, "ZF=0");
    check("seg.verw_read_only", verw(S_RODATA) == 0, "ZF=1");
    check("seg.verw_code", verw(S_RCODE) == 0, "ZF=1");
    check("seg.verw_rpl3_dpl0", verw(KDATA | 3) == 0, "ZF=1");
    arpl_case("seg.arpl_raise", 0x0010, 0x0023, 0x0013, 1);
    arpl_case("seg.arpl_keep", 0x0013, 0x0021, 0x0013, 0);

    u16 tr, msw;
    struct dtr g, i;
    __asm__ volatile("str %0" : "=r"(tr));
    __asm__ volatile("smsw %0" : "=r"(msw));
    __asm__ volatile("sgdt %0; sidt %1" : "=m"(g), "=m"(i));
    check_eq("seg.str", tr, TSS_SEL);
    check_eq("seg.smsw", msw, read_cr0() & 0xFFFF);
    check("seg.sgdt", g.limit == GDT_ENTRIES * 8 - 1 && g.base == (u32)suite_gdt, "got %04x/%08x", g.limit,
          g.base);
    check("seg.sidt", i.limit == 0x7FF && i.base == (u32)suite_idt, "got %04x/%08x", i.limit, i.base);
}

static void realmode_checks(void)
{
    u8 *dst = (u8 *)REALMODE_BASE;
    for (const u8 *p = rm_blob; p < rm_blob_end; p++)
        *dst++ = *p;
    *(volatile u32 *)0x200000 = 0x5EA15EA1;
    *(volatile u16 *)0x12350 = 0;
    realmode_roundtrip();
    check_eq("seg.real_mode_cs", RM_VAR(u16, rm_cs_seen), REALMODE_BASE >> 4);
    check_eq("seg.real_mode_segment_arith", *(volatile u16 *)0x12350, 0xBEEF);
    check_eq("seg.real_mode_ivt_int", RM_VAR(u16, rm_int_seen), 0x4E54);
    check_eq("seg.unreal_read_above_1m", RM_VAR(u32, rm_unreal_read), 0x5EA15EA1);
    check_eq("seg.unreal_write_above_1m", *(volatile u32 *)0x200004, 0xC0FFEE00);
    check_eq("seg.back_in_protected_mode", read_cr0() & 1, 1);
}

void suite_main(void)
{
    strict = cmdline_has("strict");
    setup_tables();
    selector_loads();
    ldt_checks();
    limit_checks();
    instruction_checks();
    realmode_checks();
}
