/*
 * System checks: exceptions delivered through our IDT (#DE #BP #OF #BR
 * #UD #NP #GP), then 32-bit paging with 4 KiB and 4 MiB (PSE) pages:
 * accessed/dirty bits, aliases, INVLPG, and #PF error codes/CR2 including
 * a supervisor write to a read-only page with CR0.WP = 1.
 */
#include "isatest.h"

#define GOOD 0x600D /* written by the instruction after the faulting one */

/* ---- exceptions ------------------------------------------------------------ */

static void test_divide_errors(void)
{
    uint32_t fe, r, a, d;

    exc_reset();
    a = 100, d = 0, r = 0;
    __asm__ volatile(EXC_ARM_FAULT
                     "movl $1f, %[fe]\n"
                     "1:\tdivl %[z]\n"
                     "2:\tmovl %[good], %[r]"
                     : [fe] "=&r"(fe), [r] "+r"(r), "+a"(a), "+d"(d)
                     : [z] "r"(0), [good] "i"(GOOD)
                     : "cc", "memory");
    CHECKV("exc_de_div0", { "vec", exc_vec, 0, 0 }, { "eip", exc_eip, fe, 0 },
           { "resumed", r, GOOD, 0 }, { "eax_kept", a, 100, 0 });

    exc_reset();
    /* EDX:EAX = 2^32, / 1: the quotient does not fit in 32 signed bits.
     * (Not -2^63 / -1: QEMU 7.2 TCG computes that with a host IDIV and
     * dies of SIGFPE itself.) */
    a = 0, d = 1, r = 0;
    __asm__ volatile(EXC_ARM_FAULT
                     "movl $1f, %[fe]\n"
                     "1:\tidivl %[one]\n"
                     "2:\tmovl %[good], %[r]"
                     : [fe] "=&r"(fe), [r] "+r"(r), "+a"(a), "+d"(d)
                     : [one] "r"(1), [good] "i"(GOOD)
                     : "cc", "memory");
    CHECKV("exc_de_idiv_overflow", { "vec", exc_vec, 0, 0 }, { "eip", exc_eip, fe, 0 },
           { "resumed", r, GOOD, 0 });

    exc_reset();
    a = 0x1000, r = 0; /* 0x1000 / 2 = 0x800 does not fit in AL */
    __asm__ volatile(EXC_ARM_FAULT
                     "movl $1f, %[fe]\n"
                     "1:\tdivb %b[two]\n"
                     "2:\tmovl %[good], %[r]"
                     : [fe] "=&r"(fe), [r] "+r"(r), "+a"(a)
                     : [two] "q"(2), [good] "i"(GOOD)
                     : "cc", "memory");
    CHECKV("exc_de_div8_overflow", { "vec", exc_vec, 0, 0 }, { "eip", exc_eip, fe, 0 },
           { "ax_kept", a, 0x1000, 0 });
}

static void test_traps(void)
{
    uint32_t te;

    /* INT3 is a trap: the saved EIP is the next instruction */
    exc_reset();
    __asm__ volatile(EXC_ARM_TRAP "movl $2f, %[te]\n1:\tint3\n2:" : [te] "=&r"(te) : : "memory");
    CHECKV("exc_bp_int3", { "vec", exc_vec, 3, 0 }, { "eip", exc_eip, te, 0 });

    exc_reset();
    __asm__ volatile(EXC_ARM_TRAP "movl $2f, %[te]\n1:\t.byte 0xCD, 0x03\n2:"
                     : [te] "=&r"(te) : : "memory");
    CHECKV("exc_bp_int_imm3", { "vec", exc_vec, 3, 0 }, { "eip", exc_eip, te, 0 });

    exc_reset();
    __asm__ volatile(EXC_ARM_TRAP "movl $2f, %[te]\n1:\tint $31\n2:"
                     : [te] "=&r"(te) : : "memory");
    CHECKV("exc_int_n", { "vec", exc_vec, 31, 0 }, { "eip", exc_eip, te, 0 },
           { "err", exc_err, 0, 0 });

    /* INTO traps only when OF = 1 */
    exc_reset();
    __asm__ volatile("pushl $0x802\n\tpopfl\n\t" EXC_ARM_TRAP "movl $2f, %[te]\n1:\tinto\n2:"
                     : [te] "=&r"(te) : : "cc", "memory");
    CHECKV("exc_of_into", { "vec", exc_vec, 4, 0 }, { "eip", exc_eip, te, 0 });

    exc_reset();
    exc_count = 0;
    __asm__ volatile("pushl $0x2\n\tpopfl\n\tinto" : : : "cc", "memory");
    check("into_no_overflow", exc_count, 0);
}

static void test_faults(void)
{
    uint32_t fe;

    exc_reset();
    {
        static const int32_t bounds[2] = { 0, 10 };
        __asm__ volatile(EXC_ARM_FAULT "movl $1f, %[fe]\n1:\tboundl %[v], (%[b])\n2:"
                         : [fe] "=&r"(fe) : [v] "r"(20), [b] "r"(bounds) : "memory");
        CHECKV("exc_br_bound", { "vec", exc_vec, 5, 0 }, { "eip", exc_eip, fe, 0 });
    }

    exc_reset();
    __asm__ volatile(EXC_ARM_FAULT "movl $1f, %[fe]\n1:\tud2\n2:" : [fe] "=&r"(fe) : : "memory");
    CHECKV("exc_ud_ud2", { "vec", exc_vec, 6, 0 }, { "eip", exc_eip, fe, 0 });

    exc_reset();
    __asm__ volatile(EXC_ARM_FAULT "movl $1f, %[fe]\n1:\t.byte 0xF0, 0x90\n2:" /* lock nop */
                     : [fe] "=&r"(fe) : : "memory");
    CHECKV("exc_ud_lock_nop", { "vec", exc_vec, 6, 0 }, { "eip", exc_eip, fe, 0 });

    /* selector 0x50: index 10 is past the GDT limit -> #GP(0x50) */
    exc_reset();
    __asm__ volatile(EXC_ARM_FAULT "movl $1f, %[fe]\n1:\tmovw %w[sel], %%fs\n2:"
                     : [fe] "=&r"(fe) : [sel] "r"(0x50) : "memory");
    CHECKV("exc_gp_selector_limit", { "vec", exc_vec, 13, 0 }, { "err", exc_err, 0x50, 0 },
           { "eip", exc_eip, fe, 0 });

    /* a null selector may go into DS..GS but never into SS -> #GP(0) */
    exc_reset();
    __asm__ volatile(EXC_ARM_FAULT "movl $1f, %[fe]\n1:\tmovw %w[sel], %%ss\n2:"
                     : [fe] "=&r"(fe) : [sel] "r"(0) : "memory");
    CHECKV("exc_gp_null_ss", { "vec", exc_vec, 13, 0 }, { "err", exc_err, 0, 0 },
           { "eip", exc_eip, fe, 0 });

    /* GDT entry 3 is a data segment with P = 0 -> #NP(0x18) */
    exc_reset();
    __asm__ volatile(EXC_ARM_FAULT "movl $1f, %[fe]\n1:\tmovw %w[sel], %%gs\n2:"
                     : [fe] "=&r"(fe) : [sel] "r"(0x18) : "memory");
    CHECKV("exc_np_segment", { "vec", exc_vec, 11, 0 }, { "err", exc_err, 0x18, 0 },
           { "eip", exc_eip, fe, 0 });

    {
        uint32_t fs, gs, ss;
        __asm__ volatile("movl %%fs, %0\n\tmovl %%gs, %1\n\tmovl %%ss, %2"
                         : "=r"(fs), "=r"(gs), "=r"(ss));
        CHECKV("faulting_loads_changed_nothing", { "fs", fs & 0xFFFF, 0x10, 0 },
               { "gs", gs & 0xFFFF, 0x10, 0 }, { "ss", ss & 0xFFFF, 0x10, 0 });
    }
}

void test_exceptions(void)
{
    test_divide_errors();
    test_traps();
    test_faults();
    exc_reset();
}

/* ---- paging ---------------------------------------------------------------- */

#define PG_P    0x001u
#define PG_RW   0x002u
#define PG_A    0x020u
#define PG_D    0x040u
#define PG_PS   0x080u
#define CR0_WP  (1u << 16)
#define CR0_PG  (1u << 31)
#define CR4_PSE (1u << 4)

#define PAGE_4M   0x400000u
#define ALIAS_4M  0x800000u  /* PDE 2: a second 4 MiB window onto physical 4 MiB */
#define UNMAPPED  0xC00000u  /* PDE 3: not present */
#define ALIAS_4K  0x3FF000u  /* last PTE of the first table, remapped */

static uint32_t pd[1024] __attribute__((aligned(4096)));
static uint32_t pt[1024] __attribute__((aligned(4096)));
static volatile uint32_t pg_ad[1024] __attribute__((aligned(4096)));  /* A/D bits */
static volatile uint32_t pg_ro[1024] __attribute__((aligned(4096)));  /* read-only */
static volatile uint32_t pg_np[1024] __attribute__((aligned(4096)));  /* not present */
static volatile uint32_t pg_alt[1024] __attribute__((aligned(4096))); /* alias target */

static uint32_t va(const volatile void *p)
{
    return (uint32_t)(uintptr_t)p;
}

static volatile uint32_t *at(uint32_t addr)
{
    return (volatile uint32_t *)(uintptr_t)addr;
}

static uint32_t pte_of(const volatile void *p)
{
    return ((volatile uint32_t *)pt)[va(p) >> 12 & 0x3FF];
}

/* one load or store that is expected to #PF */
static void pf_access(const char *name, volatile uint32_t *p, int write, uint32_t want_err)
{
    uint32_t fe, r = 0;

    exc_reset();
    if (write)
        __asm__ volatile(EXC_ARM_FAULT "movl $1f, %[fe]\n1:\tmovl %[v], (%[p])\n2:"
                         : [fe] "=&r"(fe) : [p] "r"(p), [v] "r"(0xBAD) : "memory");
    else
        __asm__ volatile(EXC_ARM_FAULT "movl $1f, %[fe]\n1:\tmovl (%[p]), %[r]\n2:"
                         : [fe] "=&r"(fe), [r] "+r"(r) : [p] "r"(p) : "memory");
    CHECKV(name, { "vec", exc_vec, 14, 0 }, { "err", exc_err, want_err, 0 },
           { "cr2", exc_cr2, va(p), 0 }, { "eip", exc_eip, fe, 0 });
}

void test_paging(void)
{
    /* identity map 0-4 MiB with 4 KiB pages, with a few special pages */
    for (uint32_t i = 0; i < 1024; i++)
        pt[i] = i << 12 | PG_P | PG_RW;
    pt[va(pg_ro) >> 12] = va(pg_ro) | PG_P;   /* read-only */
    pt[va(pg_np) >> 12] = 0;                  /* not present */
    pt[ALIAS_4K >> 12] = va(pg_alt) | PG_P | PG_RW;
    pd[0] = va(pt) | PG_P | PG_RW;
    pd[1] = PAGE_4M | PG_PS | PG_P | PG_RW;   /* 4-8 MiB identity, one 4 MiB page */
    pd[2] = PAGE_4M | PG_PS | PG_P | PG_RW;   /* 8-12 MiB -> physical 4-8 MiB */

    /* marks placed while paging is still off */
    *at(PAGE_4M + 0x100) = 0x11223344;
    pg_alt[2] = 0xA11A5;
    pg_ro[0] = 0x0EAD0;

    write_cr3(va(pd));
    write_cr4(read_cr4() | CR4_PSE);
    write_cr0(read_cr0() | CR0_PG);
    __asm__ volatile("jmp 1f\n1:" ::: "memory");
    check("paging_enabled", read_cr0() & (CR0_PG | 1), CR0_PG | 1);

    /* 4 KiB page: a read sets A only, a write then sets D */
    CHECKV("pte_clean_at_start", { "ad", pte_of(pg_ad) & (PG_A | PG_D), 0, 0 });
    (void)pg_ad[0];
    check("pte_read_sets_A", pte_of(pg_ad) & (PG_A | PG_D), PG_A);
    pg_ad[1] = 5;
    check("pte_write_sets_D", pte_of(pg_ad) & (PG_A | PG_D), PG_A | PG_D);
    check("pde_table_A", ((volatile uint32_t *)pd)[0] & PG_A, PG_A);

    /* 4 MiB page: same bits, kept in the PDE */
    {
        volatile uint32_t *vpd = pd;
        uint32_t v = *at(PAGE_4M + 0x100);
        CHECKV("pde4m_read_sets_A", { "data", v, 0x11223344, 0 },
               { "ad", vpd[1] & (PG_A | PG_D), PG_A, 0 });
        *at(PAGE_4M + 0x200) = 0x55;
        check("pde4m_write_sets_D", vpd[1] & (PG_A | PG_D), PG_A | PG_D);

        v = *at(ALIAS_4M + 0x100);
        *at(ALIAS_4M + 0x300) = 0x77;
        CHECKV("pde4m_alias", { "read", v, 0x11223344, 0 }, { "write", *at(PAGE_4M + 0x300), 0x77, 0 },
               { "ad", vpd[2] & (PG_A | PG_D), PG_A | PG_D, 0 });
    }

    /* 4 KiB alias, then remap it and flush just that entry */
    check("pte_alias", *at(ALIAS_4K + 8), 0xA11A5);
    pt[ALIAS_4K >> 12] = va(pg_ad) | PG_P | PG_RW;
    invlpg(at(ALIAS_4K));
    check("invlpg_remap", *at(ALIAS_4K + 4), 5);

    /* #PF error code: bit 0 = protection (vs not present), bit 1 = write */
    pf_access("pf_not_present_read", &pg_np[0], 0, 0);
    pf_access("pf_not_present_write", &pg_np[3], 1, 2);
    pf_access("pf_pde_not_present", at(UNMAPPED + 0x10), 0, 0);

    /* CR0.WP = 0: ring 0 may write a read-only page */
    pg_ro[1] = 0x1111;
    check("wp0_write_read_only", pg_ro[1], 0x1111);

    /* CR0.WP = 1: the same write faults with P|W (3) */
    write_cr0(read_cr0() | CR0_WP);
    invlpg(&pg_ro[0]);
    pf_access("pf_wp1_write_read_only", &pg_ro[2], 1, 3);
    CHECKV("wp1_read_only_intact", { "unwritten", pg_ro[2], 0, 0 }, { "readable", pg_ro[0], 0x0EAD0, 0 });

    write_cr0(read_cr0() & ~(CR0_PG | CR0_WP));
    check("paging_disabled", read_cr0() & CR0_PG, 0);
    exc_reset();
}
