/*
 * suite_paging: 32-bit paging (4 KiB, 4 MiB PSE) and PAE paging (4 KiB,
 * 2 MiB, NX with IA32_EFER.NXE) as the Intel SDM vol. 3 chapter 4 defines
 * them: #PF error codes (P, W/R, U/S, RSVD, I/D) with CR2, WP for supervisor
 * writes, U/S and R/W combined over PDE and PTE, accessed/dirty bits set
 * exactly where the SDM says, and the invalidations the SDM requires to
 * make a changed entry visible (INVLPG, MOV CR3, CR4.PGE for global pages,
 * none for a not-present entry made present, a #PF for the faulting
 * address).  It never asserts that a stale TLB entry is still used: the
 * SDM allows but does not require that.
 *
 * Linear layout (identity below 4 MiB, user-accessible, so ring 3 can run
 * the suite's code):
 *   32-bit: PDE0 4 KiB identity; PDE1 (0x00400000) 4 KiB test pages onto
 *   the frames below; PDE2 (0x00800000) 4 MiB page onto physical 0;
 *   PDE3, PDE5 built per check.
 *   PAE: PD[0] 4 KiB identity 0-2 MiB; PD[1] 2 MiB identity; PD[2]
 *   (0x00400000) 4 KiB test pages; PD[3] (0x00600000) 2 MiB onto 0; PD[4]
 *   (0x00800000) 2 MiB onto 0 with NX.
 * "strict" on the command line makes the checks exact where QEMU 7.2 is
 * wrong (see check_rsvd and the PDPTE checks).
 * The NX checks need CPUID.80000001h:EDX[20] (QEMU: -cpu qemu32,+nx).
 */
#include "suite.h"

#define P 0x1u
#define RW 0x2u
#define US 0x4u
#define PWT 0x8u
#define A 0x20u
#define D 0x40u
#define PS 0x80u
#define G 0x100u
#define NX (1ull << 63)
#define TEST_BASE 0x00400000u
#define PAGE(n) (TEST_BASE + (n) * 4096u)
#define CR0_PG 0x80000000u
#define CR0_WP 0x10000u
#define CR4_PSE 0x10u
#define CR4_PAE 0x20u
#define CR4_PGE 0x80u
#define EFER 0xC0000080u
#define EFER_NXE 0x800u

static volatile u32 pd[1024] __attribute__((aligned(4096)));
static volatile u32 pt_low[1024] __attribute__((aligned(4096)));
static volatile u32 pt_test[1024] __attribute__((aligned(4096)));
static volatile u64 pdpt[4] __attribute__((aligned(32)));
static volatile u64 pae_pd[512] __attribute__((aligned(4096)));
static volatile u64 pae_pt_low[512] __attribute__((aligned(4096)));
static volatile u64 pae_pt_test[512] __attribute__((aligned(4096)));
static volatile u32 frames[8][1024] __attribute__((aligned(4096)));

static u32 read_cr(int n)
{
    u32 v = 0;
    switch (n) {
    case 2: __asm__ volatile("movl %%cr2, %0" : "=r"(v)); break;
    case 3: __asm__ volatile("movl %%cr3, %0" : "=r"(v)); break;
    case 4: __asm__ volatile("movl %%cr4, %0" : "=r"(v)); break;
    }
    return v;
}
static void write_cr(int n, u32 v)
{
    switch (n) {
    case 2: __asm__ volatile("movl %0, %%cr2" : : "r"(v)); break;
    case 3: __asm__ volatile("movl %0, %%cr3" : : "r"(v) : "memory"); break;
    case 4: __asm__ volatile("movl %0, %%cr4" : : "r"(v) : "memory"); break;
    }
}
static void invlpg(u32 linear) { __asm__ volatile("invlpg (%0)" : : "r"(linear) : "memory"); }
static void wrmsr(u32 msr, u64 v) { __asm__ volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32))); }
static u64 rdmsr(u32 msr)
{
    u32 lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((u64)hi << 32) | lo;
}
static u32 frame(int n) { return (u32)frames[n]; }

/* ---- probes: the access is the first instruction, so EIP = the probe ---- */

static volatile u32 target, value;
static void read_target(void) { value = *(volatile u32 *)target; }
static void write_target(void) { *(volatile u32 *)target = value; }
static void call_target(void) { ((void (*)(void))target)(); }

/* One line: #PF with its error code and CR2 (as check_fault prints). */
static void check_pf(const char *name, const struct fault *f, u32 error, u32 cr2)
{
    u32 got = read_cr(2);
    if (f->vector == PF && f->error == error && got != cr2)
        check(name, 0, "right #PF(0x%04x), CR2 0x%x want 0x%x", error, got, cr2);
    else
        check_fault(name, f, PF, error);
}

/* QEMU 7.2 leaves P clear in the error code of a reserved-bit fault; the
 * SDM sets P (the entries were present).  Exact only with "strict". */
static int strict;
static void check_rsvd(const char *name, u32 linear, int write, u32 error);

static int run_probe(void (*fn)(void), int user, struct fault *f)
{
    write_cr(2, 0);
    return user ? run_user(fn, 0x2, f) : run_checked(fn, f);
}
static void check_read(const char *name, u32 linear, int user, u32 error)
{
    struct fault f;
    target = linear;
    run_probe(read_target, user, &f);
    check_pf(name, &f, error, linear);
}
static void check_write(const char *name, u32 linear, int user, u32 error)
{
    struct fault f;
    target = linear;
    value = 0x5A5A5A5A;
    run_probe(write_target, user, &f);
    check_pf(name, &f, error, linear);
}
/* A fetch fault reports the target as both EIP and CR2. */
static void check_fetch(const char *name, u32 linear, int user, u32 error)
{
    struct fault f;
    target = linear;
    run_probe(user ? (void (*)(void))linear : call_target, user, &f);
    if (f.vector == PF && f.eip != linear)
        check(name, 0, "#PF(0x%04x) at EIP 0x%x want 0x%x", f.error, f.eip, linear);
    else
        check_pf(name, &f, error, linear);
}
static void check_rsvd(const char *name, u32 linear, int write, u32 error)
{
    struct fault f;
    target = linear;
    run_probe(write ? write_target : read_target, 0, &f);
    if (!strict && f.vector == PF && (f.error | P) == error)
        f.error = error;
    check_pf(name, &f, error, linear);
}

static u32 read_ok(u32 linear, struct fault *f)
{
    target = linear;
    value = 0xFFFFFFFF;
    run_probe(read_target, 0, f);
    return value;
}

/* ---- 32-bit paging ------------------------------------------------------ */

static void map32(u32 linear, u32 entry)
{
    pt_test[(linear >> 12) & 1023] = entry;
    invlpg(linear);
}

static void paging32_on(void)
{
    for (u32 i = 0; i < 1024; i++)
        pt_low[i] = i * 4096 | P | RW | US;
    pd[0] = (u32)pt_low | P | RW | US;
    pd[1] = (u32)pt_test | P | RW | US;
    pd[2] = 0 | PS | P | RW;
    write_cr(4, CR4_PSE);
    write_cr(3, (u32)pd);
    write_cr0(read_cr0() | CR0_PG | CR0_WP);
}

static void paging32_checks(void)
{
    struct fault f;
    frames[0][0] = 0x11111111;
    frames[1][0] = 0x22222222;
    map32(PAGE(0), frame(0) | P | RW | US);
    u32 v = read_ok(PAGE(0), &f);
    check("pg.4k_read", f.vector == NO_FAULT && v == 0x11111111, "event %d value 0x%x", f.vector, v);
    v = read_ok(0x00800000 + frame(1), &f);
    check("pg.4m_pse_alias_read", f.vector == NO_FAULT && v == 0x22222222, "event %d value 0x%x", f.vector, v);

    map32(PAGE(1), 0);
    check_read("pg.not_present_read", PAGE(1) + 0x123, 0, 0x0);
    check_write("pg.not_present_write", PAGE(1) + 0x124, 0, 0x2);
    check_read("pg.pde_not_present_user_read", 0x01000010, 1, 0x4);
    check_fetch("pg.not_present_fetch_no_id_bit", PAGE(1), 0, 0x0);

    map32(PAGE(2), frame(2) | P | US);
    check_write("pg.wp1_supervisor_write_read_only", PAGE(2) + 8, 0, 0x3);
    write_cr0(read_cr0() & ~CR0_WP);
    target = PAGE(2) + 8;
    value = 0x77;
    run_checked(write_target, &f);
    check("pg.wp0_supervisor_write_read_only", f.vector == NO_FAULT && frames[2][2] == 0x77,
          "event %d frame word 0x%x", f.vector, frames[2][2]);
    check_write("pg.wp0_user_write_read_only", PAGE(2) + 12, 1, 0x7);
    write_cr0(read_cr0() | CR0_WP);

    map32(PAGE(3), frame(3) | P | RW);
    check_read("pg.user_read_supervisor_pte", PAGE(3) + 4, 1, 0x5);
    frames[3][1] = 0x33;
    v = read_ok(PAGE(3) + 4, &f);
    check("pg.supervisor_read_supervisor_pte", f.vector == NO_FAULT && v == 0x33, "event %d value 0x%x", f.vector, v);
    check_fetch("pg.user_fetch_supervisor_pte", PAGE(3), 1, 0x5);

    /* PDE3 without U/S (resp. R/W) over PTEs that allow it: the PDE decides. */
    static volatile u32 pt_pde[1024] __attribute__((aligned(4096)));
    pt_pde[0] = frame(4) | P | RW | US;
    pd[3] = (u32)pt_pde | P | RW;
    invlpg(0x00C00000);
    check_read("pg.user_read_supervisor_pde", 0x00C00000, 1, 0x5);
    pd[3] = (u32)pt_pde | P | US;
    invlpg(0x00C00000);
    check_write("pg.user_write_read_only_pde", 0x00C00000, 1, 0x7);
    check_write("pg.wp1_supervisor_write_read_only_pde", 0x00C00000, 0, 0x3);

    /* A/D: a read sets A in PDE and PTE, a write sets D in the PTE only. */
    pt_pde[1] = frame(5) | P | RW | US;
    pd[3] = (u32)pt_pde | P | RW | US;
    write_cr(3, (u32)pd);
    read_ok(0x00C01000, &f);
    u32 pte = pt_pde[1], pde = pd[3];
    check("pg.read_sets_accessed_not_dirty", (pte & (A | D)) == A && (pde & (A | D)) == A, "pde 0x%x pte 0x%x", pde, pte);
    target = 0x00C01000;
    run_checked(write_target, &f);
    pte = pt_pde[1];
    pde = pd[3];
    check("pg.write_sets_dirty_in_pte_only", (pte & (A | D)) == (A | D) && (pde & (A | D)) == A, "pde 0x%x pte 0x%x",
          pde, pte);
    pt_pde[2] = frame(5) | P | US;
    write_cr(3, (u32)pd);
    check_write("pg.faulting_write_ro", 0x00C02000, 0, 0x3);
    check("pg.faulting_write_leaves_dirty_clear", !(pt_pde[2] & D), "pte 0x%x", pt_pde[2]);
    pd[4] = 0 | PS | P | RW;
    target = 0x01000000 + frame(6);
    run_checked(write_target, &f);
    check("pg.4m_write_sets_accessed_dirty", (pd[4] & (A | D)) == (A | D), "pde 0x%x", pd[4]);

    /* CR4.PSE = 0: PS in a PDE is ignored, the PDE points to a page table. */
    static volatile u32 pt_ps[1024] __attribute__((aligned(4096)));
    pt_ps[0] = frame(7) | P | RW;
    frames[7][0] = 0x77777777;
    pd[5] = (u32)pt_ps | PS | P | RW;
    write_cr(4, 0);
    v = read_ok(0x01400000, &f);
    write_cr(4, CR4_PSE);
    check("pg.ps_ignored_without_cr4_pse", f.vector == NO_FAULT && v == 0x77777777, "event %d value 0x%x", f.vector, v);
    /* With PSE, bit 21 of a 4 MiB PDE is reserved (bits 20:13 too without PSE-36). */
    pd[5] = 0x00200000 | PS | P | RW;
    write_cr(3, (u32)pd);
    check_rsvd("pg.4m_pde_reserved_bit", 0x01400000, 0, 0x9);

    /* Changing a present mapping: INVLPG, MOV CR3 and CR4.PGE make it seen. */
    map32(PAGE(4), frame(0) | P | RW);
    read_ok(PAGE(4), &f);
    pt_test[4] = frame(1) | P | RW;
    invlpg(PAGE(4));
    v = read_ok(PAGE(4), &f);
    check_eq("pg.invlpg_shows_new_frame", v, 0x22222222);
    pt_test[4] = frame(0) | P | RW;
    write_cr(3, (u32)pd);
    v = read_ok(PAGE(4), &f);
    check_eq("pg.cr3_reload_shows_new_frame", v, 0x11111111);
    write_cr(4, CR4_PSE | CR4_PGE);
    map32(PAGE(5), frame(0) | P | RW | G);
    read_ok(PAGE(5), &f);
    pt_test[5] = frame(1) | P | RW | G;
    write_cr(4, CR4_PSE);
    write_cr(4, CR4_PSE | CR4_PGE);
    v = read_ok(PAGE(5), &f);
    check_eq("pg.global_flushed_by_cr4_pge", v, 0x22222222);
    pt_test[5] = frame(0) | P | RW | G;
    invlpg(PAGE(5));
    v = read_ok(PAGE(5), &f);
    check_eq("pg.global_flushed_by_invlpg", v, 0x11111111);
    write_cr(4, CR4_PSE);

    /* No invalidation needed: a not-present entry made present (nothing was
     * cached), and the address of a #PF (the fault invalidates it). */
    pt_test[6] = 0;
    invlpg(PAGE(6));
    read_ok(PAGE(6), &f);
    pt_test[6] = frame(1) | P | RW;
    v = read_ok(PAGE(6), &f);
    check("pg.present_after_not_present_no_invlpg", f.vector == NO_FAULT && v == 0x22222222, "event %d value 0x%x",
          f.vector, v);
    map32(PAGE(7), frame(1) | P);
    read_ok(PAGE(7), &f);
    target = PAGE(7);
    value = 0x2222AAAA;
    run_checked(write_target, &f);
    pt_test[7] = frame(1) | P | RW;
    run_checked(write_target, &f);
    check("pg.page_fault_invalidates_entry", f.vector == NO_FAULT && frames[1][0] == 0x2222AAAA, "event %d word 0x%x",
          f.vector, frames[1][0]);
    frames[1][0] = 0x22222222;

    write_cr0(read_cr0() & ~CR0_PG);
}

/* ---- PAE paging ----------------------------------------------------------- */

static void map_pae(u32 linear, u64 entry)
{
    pae_pt_test[(linear >> 12) & 511] = entry;
    invlpg(linear);
}

static void pae_on(void)
{
    for (u32 i = 0; i < 512; i++)
        pae_pt_low[i] = (u64)(i * 4096) | P | RW | US;
    pae_pd[0] = (u32)pae_pt_low | P | RW | US;
    pae_pd[1] = 0x00200000 | PS | P | RW | US;
    pae_pd[2] = (u32)pae_pt_test | P | RW | US;
    pae_pd[3] = 0 | PS | P | RW;
    pae_pd[4] = NX | 0 | PS | P | RW;
    pdpt[0] = (u32)pae_pd | P;
    write_cr(4, CR4_PAE);
    write_cr(3, (u32)pdpt);
    write_cr0(read_cr0() | CR0_PG | CR0_WP);
}

static void reload_pdpt(void) { write_cr(3, (u32)pdpt); }

static void set_nxe(int on)
{
    u64 efer = rdmsr(EFER);
    wrmsr(EFER, on ? efer | EFER_NXE : efer & ~(u64)EFER_NXE);
}

static void pae_checks(int have_nx)
{
    struct fault f;
    map_pae(PAGE(0), frame(0) | P | RW | US);
    u32 v = read_ok(PAGE(0), &f);
    check("pg.pae_4k_read", f.vector == NO_FAULT && v == 0x11111111, "event %d value 0x%x", f.vector, v);
    v = read_ok(0x00600000 + frame(1), &f);
    check("pg.pae_2m_alias_read", f.vector == NO_FAULT && v == 0x22222222, "event %d value 0x%x", f.vector, v);
    target = 0x00600000 + frame(6);
    run_checked(write_target, &f);
    check("pg.pae_2m_write_sets_accessed_dirty", (pae_pd[3] & (A | D)) == (A | D), "pde 0x%x", (u32)pae_pd[3]);
    if (strict) { /* QEMU 7.2 sets bit 5 (A) in the PDPTE: reserved in PAE paging */
        check("pg.pae_pdpte_no_accessed_bit", pdpt[0] == ((u32)pae_pd | P), "pdpte 0x%x", (u32)pdpt[0]);
        /* MOV CR3 loads the PDPTEs: a reserved bit in one is #GP(0) (QEMU: none) */
        pdpt[1] = (u32)pae_pd | P | 0x100;
        run_checked(reload_pdpt, &f);
        pdpt[1] = 0;
        write_cr(3, (u32)pdpt);
        check_fault("pg.pae_cr3_load_reserved_pdpte", &f, GP, 0);
    }

    map_pae(PAGE(1), 0);
    check_read("pg.pae_not_present_read", PAGE(1) + 0x40, 0, 0x0);
    check_read("pg.pae_pdpte_not_present", 0x40000000, 0, 0x0);
    map_pae(PAGE(2), frame(2) | P | US);
    check_write("pg.pae_user_write_read_only", PAGE(2), 1, 0x7);
    check_write("pg.pae_wp1_supervisor_write", PAGE(2), 0, 0x3);

    /* Reserved bits: bit 13 of a 2 MiB PDE; bit 63 (XD) with EFER.NXE = 0. */
    pae_pd[5] = 0x00002000 | PS | P | RW;
    check_rsvd("pg.pae_2m_pde_reserved_bit", 0x00A00000, 0, 0x9);
    map_pae(PAGE(3), NX | frame(3) | P | RW);
    check_rsvd("pg.pae_xd_reserved_without_nxe", PAGE(3), 1, 0xB);
    map_pae(PAGE(4), 0);
    check_fetch("pg.pae_fetch_not_present_no_nxe", PAGE(4), 0, 0x0);

    if (!have_nx) {
        suite_printf("SKIP pg.nx_*: CPUID.80000001h:EDX[20] = 0\n");
        return;
    }
    set_nxe(1);
    /* a RET in frame 3, reached at PAGE(3) (NX) and PAGE(5) (executable) */
    *(volatile u8 *)frame(3) = 0xC3;
    map_pae(PAGE(3), NX | frame(3) | P | RW | US);
    map_pae(PAGE(5), frame(3) | P | RW | US);
    check_fetch("pg.nx_supervisor_fetch", PAGE(3), 0, 0x11);
    check_fetch("pg.nx_user_fetch", PAGE(3), 1, 0x15);
    frames[3][1] = 0x3333;
    v = read_ok(PAGE(3) + 4, &f);
    check("pg.nx_read_allowed", f.vector == NO_FAULT && v == 0x3333, "event %d value 0x%x", f.vector, v);
    target = PAGE(5);
    run_checked(call_target, &f);
    check_fault("pg.nx_clear_fetch_allowed", &f, NO_FAULT, 0);
    check_fetch("pg.id_bit_not_present_fetch_nxe", PAGE(4), 0, 0x10);
    /* NX in the 2 MiB PDE */
    check_fetch("pg.nx_2m_pde_fetch", 0x00800000 + frame(3), 0, 0x11);
    /* NX in a PDE over a PTE without it */
    static volatile u64 pae_pt_nx[512] __attribute__((aligned(4096)));
    pae_pt_nx[0] = frame(3) | P | RW;
    pae_pd[6] = NX | (u32)pae_pt_nx | P | RW;
    write_cr(3, (u32)pdpt);
    check_fetch("pg.nx_in_pde_applies_to_pte", 0x00C00000, 0, 0x11);
    set_nxe(0);
    check_rsvd("pg.pde_xd_reserved_without_nxe", 0x00C00000, 0, 0x9);
}

void suite_main(void)
{
    strict = cmdline_has("strict");
    u32 a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000000));
    int have_nx = 0;
    if (a >= 0x80000001) {
        __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000001));
        have_nx = (d >> 20) & 1;
    }
    paging32_on();
    paging32_checks();
    pae_on();
    pae_checks(have_nx);
    write_cr0(read_cr0() & ~CR0_PG);
    write_cr(4, 0);
}
