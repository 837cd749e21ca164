/*
 * holes.elf - the seventeen x86 virtualization holes of Robin & Irvine
 * ("Analysis of the Intel Pentium's Ability to Support a Secure Virtual
 * Machine Monitor", USENIX Security 2000), executed by a kernel at CPL 0.
 *
 * The kernel loads its own GDT (code/data DPL 0 and 3, a TSS, an LDT, a
 * call gate) and IDT (exceptions, a DPL-0 and a DPL-3 INT n gate), runs
 * each sensitive-but-unprivileged instruction at a labelled site (sites.S)
 * and prints one line per site:
 *     hole NAME at image+0xOFFS: <what it saw> (bare metal: <what the SDM
 *     gives at CPL 0, computed from the guest's own tables>) ok|WRONG
 * On bare metal (vtlab's `native`, QEMU) every line ends "ok".  A
 * deprivileging monitor (the kernel really at ring 1) makes them WRONG,
 * without a fault the monitor could catch - or, for the checks that do
 * fault at ring 1, with a #GP the fault handler records ("got #GP(sel)").
 * The guest always ends with "holes: N checks, ..." and exit code 0x17.
 */
#include "holes.h"

volatile uint32_t exc_armed, exc_resume, exc_hit, exc_vec, exc_err;
volatile uint32_t push_cs_seen, eflags_after_iret;
volatile uint32_t gate_entered, gate_pushed_cs;
volatile uint32_t int_entered, int_vector, int_frame_cs, int_frame_eflags;

/* ---- descriptor tables -------------------------------------------------------- */

struct tss32 {
    uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
    uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint32_t es, cs, ss, ds, fs, gs, ldt;
    uint16_t trap, iomap_base;
};

static uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(8)));
static uint64_t idt[IDT_ENTRIES] __attribute__((aligned(8)));
static uint64_t ldt[1] __attribute__((aligned(8)));
static struct tss32 tss __attribute__((aligned(16)));
static struct desc_ptr gdtr, idtr; /* what LGDT / LIDT were given */

extern char boot_stack_top[];

/* Access byte: P DPL(2) S Type(4).  Accessed bits come preset, so the CPU
 * never writes back into the tables while the checks read them. */
#define ACC_KCODE 0x9B /* P, DPL 0, code, readable, accessed */
#define ACC_KDATA 0x93 /* P, DPL 0, data, writable, accessed */
#define ACC_UCODE 0xFB
#define ACC_UDATA 0xF3
#define ACC_TSS   0x89 /* P, DPL 0, 32-bit TSS (available) */
#define ACC_LDT   0x82 /* P, DPL 0, LDT */
#define ACC_CALLGATE32 0x8C
#define ACC_INTGATE32(dpl) (0x8E | ((dpl) << 5))
#define FLAGS_4K_32 0xC /* G, D/B */

static uint64_t seg_desc(uint32_t base, uint32_t limit, uint32_t access, uint32_t flags)
{
    uint32_t lo = (limit & 0xFFFFu) | (base << 16);
    uint32_t hi = ((base >> 16) & 0xFFu) | (access << 8) | (limit & 0xF0000u) | (flags << 20) |
                  (base & 0xFF000000u);
    return ((uint64_t)hi << 32) | lo;
}

static uint64_t gate_desc(uint16_t sel, const void *target, uint32_t access)
{
    uint32_t off = (uint32_t)(uintptr_t)target;
    uint32_t lo = (off & 0xFFFFu) | ((uint32_t)sel << 16);
    uint32_t hi = (off & 0xFFFF0000u) | (access << 8); /* parameter count 0 */
    return ((uint64_t)hi << 32) | lo;
}

static void build_tables(void)
{
    gdt[0] = 0;
    gdt[SEL_KCODE >> 3] = seg_desc(0, 0xFFFFF, ACC_KCODE, FLAGS_4K_32);
    gdt[SEL_KDATA >> 3] = seg_desc(0, 0xFFFFF, ACC_KDATA, FLAGS_4K_32);
    gdt[SEL_UCODE >> 3] = seg_desc(0, 0xFFFFF, ACC_UCODE, FLAGS_4K_32);
    gdt[SEL_UDATA >> 3] = seg_desc(0, 0xFFFFF, ACC_UDATA, FLAGS_4K_32);
    gdt[SEL_TSS >> 3] = seg_desc((uint32_t)(uintptr_t)&tss, sizeof tss - 1, ACC_TSS, 0);
    gdt[SEL_LDT >> 3] = seg_desc((uint32_t)(uintptr_t)ldt, sizeof ldt - 1, ACC_LDT, 0);
    gdt[SEL_CALLGATE >> 3] = gate_desc(SEL_KCODE, call_gate_target, ACC_CALLGATE32);

    ldt[0] = seg_desc(0, 0xFFFFF, ACC_KDATA, FLAGS_4K_32);

    tss.ss0 = SEL_KDATA;
    tss.esp0 = (uint32_t)(uintptr_t)boot_stack_top;
    tss.iomap_base = sizeof tss; /* no I/O bitmap */

    for (unsigned v = 0; v < 32; v++)
        idt[v] = gate_desc(SEL_KCODE, (const void *)(uintptr_t)exc_stub_table[v], ACC_INTGATE32(0));
    idt[VEC_INT_DPL0] = gate_desc(SEL_KCODE, int_stub_dpl0, ACC_INTGATE32(0));
    idt[VEC_INT_DPL3] = gate_desc(SEL_KCODE, int_stub_dpl3, ACC_INTGATE32(3));

    gdtr.limit = sizeof gdt - 1;
    gdtr.base = (uint32_t)(uintptr_t)gdt;
    idtr.limit = sizeof idt - 1;
    idtr.base = (uint32_t)(uintptr_t)idt;
}

/* Both 8259s initialised (vectors 0x20-0x2F) and fully masked: the POPF and
 * IRET checks set IF, and no interrupt may arrive while it is set. */
static void mask_pics(void)
{
    outb(0x20, 0x11);
    outb(0xA0, 0x11);
    outb(0x21, 0x20);
    outb(0xA1, 0x28);
    outb(0x21, 0x04);
    outb(0xA1, 0x02);
    outb(0x21, 0x01);
    outb(0xA1, 0x01);
    outb(0x21, 0xFF);
    outb(0xA1, 0xFF);
}

/* ---- faults --------------------------------------------------------------------- */

struct exc_frame {
    uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax; /* PUSHAD */
    uint32_t vec, err;                               /* the stub */
    uint32_t eip, cs, eflags;                        /* the CPU */
};

static uint32_t image_offset(const void *p)
{
    return (uint32_t)((uintptr_t)p - (uintptr_t)__image_start);
}

static const char *vector_name(uint32_t vec)
{
    switch (vec) {
    case 6: return "#UD";
    case 10: return "#TS";
    case 11: return "#NP";
    case 12: return "#SS";
    case 13: return "#GP";
    case 14: return "#PF";
    default: return "#?";
    }
}

void exc_handler(struct exc_frame *f);
void exc_handler(struct exc_frame *f)
{
    if (!exc_armed) {
        kprintf("UNEXPECTED %s (vector %u) error 0x%04x at image+0x%04x\n", vector_name(f->vec),
                f->vec, f->err, image_offset((const void *)(uintptr_t)f->eip));
        debug_exit(HOLES_EXIT_UNEXPECTED);
    }
    exc_armed = 0;
    exc_hit = 1;
    exc_vec = f->vec;
    exc_err = f->err;
    f->eip = exc_resume; /* the check's own recovery label */
}

/* ---- reporting ------------------------------------------------------------------- */

static unsigned g_checks, g_wrong;

static void hole(const char *name, const char *site, int ok, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void hole(const char *name, const char *site, int ok, const char *fmt, ...)
{
    va_list ap;
    g_checks++;
    g_wrong += !ok;
    kprintf("hole %s at image+0x%04x: ", name, image_offset(site));
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
    kprintf(" %s\n", ok ? "ok" : "WRONG");
}

/* "got #GP(0x0008)" into a static buffer for the fault just recorded. */
static const char *fault_text(void)
{
    static char buf[24];
    const char *n = vector_name(exc_vec);
    const char *hex = "0123456789abcdef";
    unsigned i = 0;
    for (const char *s = "got "; *s; s++)
        buf[i++] = *s;
    for (; *n; n++)
        buf[i++] = *n;
    buf[i++] = '(';
    buf[i++] = '0';
    buf[i++] = 'x';
    for (int sh = 12; sh >= 0; sh -= 4)
        buf[i++] = hex[(exc_err >> sh) & 0xF];
    buf[i++] = ')';
    buf[i] = 0;
    return buf;
}

/* ---- what CPL 0 must see, from the guest's own descriptors (SDM vol. 3, 5.10.1) -- */

static uint64_t gdt_entry(uint16_t sel) { return gdt[sel >> 3]; }
static unsigned desc_dpl(uint64_t d) { return (unsigned)(d >> 45) & 3; }
static int desc_is_code(uint64_t d) { return (d >> 44 & 1) && (d >> 43 & 1); }
static int desc_is_data(uint64_t d) { return (d >> 44 & 1) && !(d >> 43 & 1); }
static int desc_conforming(uint64_t d) { return desc_is_code(d) && (d >> 42 & 1); }
/* code: readable; data: writable */
static int desc_rw_bit(uint64_t d) { return (d >> 41) & 1; }

static int visible_from_cpl0(uint64_t d, uint16_t sel)
{
    return desc_conforming(d) || ((sel & 3u) <= desc_dpl(d)); /* CPL 0 <= any DPL */
}

static uint32_t desc_limit(uint64_t d)
{
    uint32_t lim = (uint32_t)(d & 0xFFFF) | (uint32_t)((d >> 32) & 0xF0000);
    return (d >> 55 & 1) ? (lim << 12) | 0xFFFu : lim;
}

/* ---- the checks -------------------------------------------------------------------- */

static uint32_t g_cs_after_ljmp; /* read right after the far JMP of setup */
static uint32_t g_ljmp_faulted;
static char g_ljmp_fault[24];

static void check_far_jmp(void)
{
    if (g_ljmp_faulted)
        hole("far JMP", hole_far_jmp_site, 0, "ljmp 0x%04x:reload -> %s (bare metal: CS 0x%04x)",
             SEL_KCODE, g_ljmp_fault, SEL_KCODE);
    else
        hole("far JMP", hole_far_jmp_site, g_cs_after_ljmp == SEL_KCODE,
             "ljmp 0x%04x:reload -> CS 0x%04x, RPL %u (bare metal: CS 0x%04x, RPL 0)", SEL_KCODE,
             g_cs_after_ljmp, g_cs_after_ljmp & 3, SEL_KCODE);
}

static void check_segment_selectors(void)
{
    uint32_t cs = read_cs();
    hole("MOV r/m16,Sreg", hole_mov_sreg_site, cs == SEL_KCODE,
         "mov %%cs -> 0x%04x, RPL %u (bare metal: 0x%04x, RPL 0)", cs, cs & 3, SEL_KCODE);
    uint32_t ss = do_push_ss();
    hole("PUSH SS", hole_push_ss_site, ss == SEL_KDATA,
         "pushed 0x%04x, RPL %u (bare metal: 0x%04x, RPL 0)", ss, ss & 3, SEL_KDATA);
}

static void check_system_registers(void)
{
    struct desc_ptr g = { 0, 0 }, i = { 0, 0 };
    uint16_t ldtr = 0, tr = 0, msw = 0;

    do_sgdt(&g);
    hole("SGDT", hole_sgdt_site, g.base == gdtr.base && g.limit == gdtr.limit,
         "base 0x%08x limit 0x%04x (bare metal: base 0x%08x limit 0x%04x from LGDT)", g.base,
         g.limit, gdtr.base, gdtr.limit);
    do_sidt(&i);
    hole("SIDT", hole_sidt_site, i.base == idtr.base && i.limit == idtr.limit,
         "base 0x%08x limit 0x%04x (bare metal: base 0x%08x limit 0x%04x from LIDT)", i.base,
         i.limit, idtr.base, idtr.limit);
    do_sldt(&ldtr);
    hole("SLDT", hole_sldt_site, ldtr == SEL_LDT, "0x%04x (bare metal: 0x%04x from LLDT)", ldtr,
         SEL_LDT);
    do_str(&tr);
    hole("STR", hole_str_site, tr == SEL_TSS, "0x%04x (bare metal: 0x%04x from LTR)", tr, SEL_TSS);
    uint32_t cr0 = read_cr0(); /* MOV from CR0 is privileged: a monitor answers with the guest's */
    do_smsw(&msw);
    hole("SMSW", hole_smsw_site, msw == (cr0 & 0xFFFF),
         "0x%04x (bare metal: CR0 low word 0x%04x from MOV CR0)", msw, cr0 & 0xFFFF);
}

/* EFLAGS: what the kernel set is what CPL 0 must read back.  IOPL and IF
 * go back to 0 (the same-level IRET restores them) before the checks that
 * follow. */
static void check_flags(void)
{
    __asm__ volatile("cli");
    uint32_t f = read_eflags();
    hole("PUSHF", hole_pushf_site, !(f & EFLAGS_IF) && EFLAGS_IOPL(f) == 0,
         "after CLI: IF %u IOPL %u (bare metal: IF 0 IOPL 0)", !!(f & EFLAGS_IF), EFLAGS_IOPL(f));

    __asm__ volatile("sti");
    f = popf_clear_if();
    hole("POPF (IF)", hole_popf_if_site, !(f & EFLAGS_IF),
         "after STI, POPF of IF 0 -> IF %u (bare metal: IF 0)", !!(f & EFLAGS_IF));

    f = popf_set_iopl();
    hole("POPF (IOPL)", hole_popf_iopl_site, EFLAGS_IOPL(f) == 3,
         "POPF of IOPL 3 -> IOPL %u (bare metal: IOPL 3)", EFLAGS_IOPL(f));

    __asm__ volatile("sti");
    push_cs_seen = 0xFFFFFFFFu;
    iret_same_level();
    int iret_faulted = exc_hit;
    hole("PUSH CS", hole_push_cs_site, push_cs_seen == SEL_KCODE,
         "pushed 0x%04x, RPL %u (bare metal: 0x%04x, RPL 0)", push_cs_seen, push_cs_seen & 3,
         SEL_KCODE);
    f = eflags_after_iret;
    if (iret_faulted)
        hole("IRET (flags)", hole_iret_flags_site, 0,
             "after STI and POPF of IOPL 3, IRET of IF 0 IOPL 0 -> %s (bare metal: IF 0 IOPL 0)",
             fault_text());
    else
        hole("IRET (flags)", hole_iret_flags_site, !(f & EFLAGS_IF) && EFLAGS_IOPL(f) == 0,
             "after STI and POPF of IOPL 3, IRET of IF 0 IOPL 0 -> IF %u IOPL %u "
             "(bare metal: IF 0 IOPL 0)",
             !!(f & EFLAGS_IF), EFLAGS_IOPL(f));
    __asm__ volatile("cli");

    iret_to_rpl0();
    hole("IRET (to RPL 0)", hole_iret_rpl0_site, !exc_hit,
         "iret to 0x%04x:label -> %s (bare metal: returned)", SEL_KCODE,
         exc_hit ? fault_text() : "returned");
}

static void check_far_transfers(void)
{
    gate_entered = 0;
    gate_pushed_cs = 0xFFFFFFFFu;
    far_call_gate();
    if (exc_hit)
        hole("far CALL", hole_far_call_site, 0,
             "lcall 0x%04x (DPL-0 call gate) -> %s (bare metal: entered, pushed CS 0x%04x)",
             SEL_CALLGATE, fault_text(), SEL_KCODE);
    else
        hole("far CALL", hole_far_call_site, gate_entered && gate_pushed_cs == SEL_KCODE,
             "lcall 0x%04x (DPL-0 call gate) -> entered %u, pushed CS 0x%04x "
             "(bare metal: entered 1, pushed CS 0x%04x)",
             SEL_CALLGATE, gate_entered, gate_pushed_cs, SEL_KCODE);

    far_ret_to_rpl0();
    hole("far RET", hole_far_ret_site, !exc_hit,
         "lret to 0x%04x:label -> %s (bare metal: returned)", SEL_KCODE,
         exc_hit ? fault_text() : "returned");
}

static void check_int(const char *name, const char *site, void (*run)(void), unsigned vec,
                      unsigned gate_dpl)
{
    int_entered = 0;
    int_vector = int_frame_cs = int_frame_eflags = 0xFFFFFFFFu;
    run();
    uint32_t fl = int_frame_eflags;
    if (exc_hit)
        hole(name, site, 0,
             "int 0x%02x (DPL-%u gate) -> %s (bare metal: handler got CS 0x%04x IF 0)", vec,
             gate_dpl, fault_text(), SEL_KCODE);
    else
        hole(name, site,
             int_entered && int_vector == vec && int_frame_cs == SEL_KCODE && !(fl & EFLAGS_IF),
             "int 0x%02x (DPL-%u gate) -> handler got CS 0x%04x IF %u "
             "(bare metal: handler got CS 0x%04x IF 0)",
             vec, gate_dpl, int_frame_cs, !!(fl & EFLAGS_IF), SEL_KCODE);
}

/* LAR and LSL: ZF and the value; bare metal computed from the GDT entry. */
static void check_query(const char *name, const char *site, uint32_t (*run)(uint32_t *),
                        const char *insn, uint16_t sel, int is_lar)
{
    uint32_t got = 0;
    uint32_t zf = run(&got);
    uint64_t d = gdt_entry(sel);
    uint32_t want_zf = (uint32_t)visible_from_cpl0(d, sel);
    uint32_t want = want_zf ? (is_lar ? (uint32_t)(d >> 32) & 0x00F0FF00u : desc_limit(d)) : 0;
    hole(name, site, zf == want_zf && got == want,
         "%s 0x%04x -> ZF %u, 0x%08x (bare metal: ZF %u, 0x%08x)", insn, sel, zf, got, want_zf,
         want);
}

/* VERR and VERW: ZF only. */
static void check_verify(const char *name, const char *site, uint32_t (*run)(uint32_t *),
                         const char *insn, uint16_t sel, int write)
{
    uint32_t unused;
    uint32_t zf = run(&unused);
    uint64_t d = gdt_entry(sel);
    int usable = write ? desc_is_data(d) && desc_rw_bit(d)
                       : desc_is_data(d) || (desc_is_code(d) && desc_rw_bit(d));
    uint32_t want = (uint32_t)(usable && visible_from_cpl0(d, sel));
    hole(name, site, zf == want, "%s 0x%04x (DPL %u) -> ZF %u (bare metal: ZF %u)", insn, sel,
         desc_dpl(d), zf, want);
}

static void check_selector_queries(void)
{
    check_query("LAR", hole_lar_kcode_site, lar_kcode, "lar", SEL_KCODE, 1);
    check_query("LSL", hole_lsl_kdata_site, lsl_kdata, "lsl", SEL_KDATA, 0);
    check_query("LSL (RPL 1)", hole_lsl_kdata_rpl1_site, lsl_kdata_rpl1, "lsl", SEL_KDATA | 1, 0);
    check_verify("VERR", hole_verr_kcode_site, verr_kcode, "verr", SEL_KCODE, 0);
    check_verify("VERR (RPL 1)", hole_verr_kcode_rpl1_site, verr_kcode_rpl1, "verr",
                 SEL_KCODE | 1, 0);
    check_verify("VERW", hole_verw_kdata_site, verw_kdata, "verw", SEL_KDATA, 1);
    check_verify("VERW (RPL 1)", hole_verw_kdata_rpl1_site, verw_kdata_rpl1, "verw",
                 SEL_KDATA | 1, 1);
}

/* ---- main ----------------------------------------------------------------------------- */

static void setup(void)
{
    build_tables();
    mask_pics();
    __asm__ volatile("lgdt %0" : : "m"(gdtr) : "memory");
    __asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
    reload_segments();
    g_ljmp_faulted = exc_hit;
    if (exc_hit)
        memcpy(g_ljmp_fault, fault_text(), sizeof g_ljmp_fault);
    else
        g_cs_after_ljmp = read_cs();
    __asm__ volatile("lldt %w0" : : "r"(SEL_LDT));
    __asm__ volatile("ltr %w0" : : "r"(SEL_TSS));
    write_cr0(read_cr0() | 0x2); /* CR0.MP: a low-word bit only the guest's CR0 has */
}

uint32_t kmain(uint32_t magic, uint32_t mbi_addr)
{
    (void)magic;
    (void)mbi_addr;
    serial_init();
    setup();
    kprintf("holes: kernel at CPL 0, image at 0x%08x; GDT 0x%08x/0x%04x IDT 0x%08x/0x%04x "
            "LDTR 0x%04x TR 0x%04x\n",
            (uint32_t)(uintptr_t)__image_start, gdtr.base, gdtr.limit, idtr.base, idtr.limit,
            SEL_LDT, SEL_TSS);

    check_far_jmp();
    check_segment_selectors();
    check_system_registers();
    check_flags();
    check_far_transfers();
    check_int("INT n (DPL-0 gate)", hole_int_dpl0_site, int_dpl0, VEC_INT_DPL0, 0);
    check_int("INT n (DPL-3 gate)", hole_int_dpl3_site, int_dpl3, VEC_INT_DPL3, 3);
    check_selector_queries();

    kprintf("helper sites (handler returns, not checks): #GP IRET image+0x%04x, "
            "INT IRET image+0x%04x, call-gate LRET image+0x%04x\n",
            image_offset(helper_exc_iret_site), image_offset(helper_int_iret_site),
            image_offset(helper_gate_lret_site));
    kprintf("holes: %u checks, %u ok, %u wrong\n", g_checks, g_checks - g_wrong, g_wrong);
    return HOLES_EXIT_CODE;
}
