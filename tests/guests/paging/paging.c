/*
 * paging: 32-bit paging with 4 KiB pages and 4 MiB PSE pages.
 *
 * Linear layout built here (identity unless noted):
 *   0x00000000-0x003FFFFF  4 KiB pages (page table pt_low), kernel lives here
 *   0x00400000-0x007FFFFF  one 4 MiB PSE page
 *   0x40000000             4 KiB pages (pt_alias) onto physical 0x500000..:
 *                          +0x0000 -> 0x500000 RW, +0x1000 -> 0x501000 RO,
 *                          +0x2000 not present, +0x3000 -> 0x503000 (A/D test)
 *   0x40400000             PDE with R/W=0 over a PTE with R/W=1 (0x504000)
 *   0x80000000             4 MiB PSE page onto physical 0x400000 (alias)
 *   0x80400000             4 MiB PSE page onto physical 0x400000, read-only
 *   0x80800000             4 MiB PSE page onto physical 0x800000 (A/D test)
 *   0x60000000             nothing (PDE not present)
 *
 * Each check prints one line.  The UART is programmed (9600 8N1) before
 * use and LSR.THRE is polled.  Exit: 0x12 to isa-debug-exit (status 37).
 */
#include <stdint.h>

#define PG_P    0x001u
#define PG_RW   0x002u
#define PG_US   0x004u
#define PG_A    0x020u
#define PG_D    0x040u
#define PG_PS   0x080u

#define CR0_WP  (1u << 16)
#define CR0_PG  (1u << 31)
#define CR4_PSE (1u << 4)

struct frame {
    uint32_t cr2;
    uint32_t edi, esi, ebp, esp0, ebx, edx, ecx, eax;
    uint32_t vec, err;
    uint32_t eip, cs, eflags;
};

struct idt_gate {
    uint16_t lo, sel;
    uint8_t zero, type;
    uint16_t hi;
} __attribute__((packed));

/* volatile: the CPU writes A/D bits behind the compiler's back */
static volatile uint32_t pd[1024] __attribute__((aligned(4096)));
static volatile uint32_t pt_low[1024] __attribute__((aligned(4096)));
static volatile uint32_t pt_alias[1024] __attribute__((aligned(4096)));
static volatile uint32_t pt_rodir[1024] __attribute__((aligned(4096)));
static struct idt_gate idt[32] __attribute__((aligned(8)));

extern const uint32_t stub_addr[32];
/* The probes take their arguments in registers: EAX = address, EDX = value. */
#define REGS __attribute__((regparm(3)))
extern REGS uint32_t probe_read(uint32_t addr);
extern REGS void probe_write(uint32_t addr, uint32_t value);
extern REGS void probe_fetch(uint32_t addr);
extern const char probe_read_f[], probe_read_r[], probe_write_f[], probe_write_r[],
    probe_fetch_r[];

void pg_main(void);
void trap(struct frame *f);

/* ---- I/O ---------------------------------------------------------- */

static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p));
    return v;
}

enum { COM1 = 0x3F8 };

static void uart_init(void)
{
    outb(COM1 + 1, 0x00);   /* no interrupts */
    outb(COM1 + 3, 0x80);   /* DLAB */
    outb(COM1 + 0, 12);     /* 9600 baud */
    outb(COM1 + 1, 0);
    outb(COM1 + 3, 0x03);   /* 8N1 */
    outb(COM1 + 2, 0x07);   /* FIFO on, cleared */
}

static void tx(char c)
{
    while ((inb(COM1 + 5) & 0x20) == 0)
        ;
    outb(COM1, (uint8_t)c);
}

static void say(const char *s)
{
    for (; *s; ++s)
        tx(*s);
}

static void hx(uint32_t v, int n)
{
    for (int sh = (n - 1) * 4; sh >= 0; sh -= 4)
        tx("0123456789abcdef"[(v >> sh) & 0xF]);
}

static void yn(int b) { say(b ? "yes" : "no"); }

/* ---- control registers ------------------------------------------- */

static inline uint32_t rd_cr0(void) { uint32_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint32_t rd_cr4(void) { uint32_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void wr_cr0(uint32_t v) { __asm__ volatile("mov %0, %%cr0" ::"r"(v) : "memory"); }
static inline void wr_cr3(uint32_t v) { __asm__ volatile("mov %0, %%cr3" ::"r"(v) : "memory"); }
static inline void wr_cr4(uint32_t v) { __asm__ volatile("mov %0, %%cr4" ::"r"(v) : "memory"); }
static inline void flush_all(void) { wr_cr3((uint32_t)pd); }

static inline volatile uint32_t *at(uint32_t linear) { return (volatile uint32_t *)linear; }

/* ---- faults ------------------------------------------------------- */

static volatile uint32_t resume_at, faults, f_vec, f_err, f_cr2, f_eip;

void trap(struct frame *f)
{
    faults++;
    f_vec = f->vec;
    f_err = f->err;
    f_cr2 = f->cr2;
    f_eip = f->eip;
    if (f->vec == 14 && resume_at) {
        f->eip = resume_at;
        resume_at = 0;
        return;
    }
    say("UNEXPECTED vector ");
    hx(f->vec, 2);
    say(" err ");
    hx(f->err, 4);
    say(" eip ");
    hx(f->eip, 8);
    say(" cr2 ");
    hx(f->cr2, 8);
    tx('\n');
    __asm__ volatile("outl %0, %1" ::"a"(0x7Fu), "Nd"((uint16_t)0xF4));
    for (;;)
        __asm__ volatile("cli; hlt");
}

static void report(const char *label)
{
    say(label);
    say(": ");
    if (!faults) {
        say("no fault\n");
        return;
    }
    say("#PF err=");
    hx(f_err, 4);
    say(" cr2=");
    hx(f_cr2, 8);
}

static void try_read(const char *label, uint32_t addr)
{
    faults = 0;
    resume_at = (uint32_t)probe_read_r;
    uint32_t v = probe_read(addr);
    resume_at = 0;
    report(label);
    if (faults) {
        say(" eip at load: ");
        yn(f_eip == (uint32_t)probe_read_f);
        tx('\n');
    } else {
        (void)v;
    }
}

static void try_write(const char *label, uint32_t addr, uint32_t value)
{
    faults = 0;
    resume_at = (uint32_t)probe_write_r;
    probe_write(addr, value);
    resume_at = 0;
    report(label);
    if (faults) {
        say(" eip at store: ");
        yn(f_eip == (uint32_t)probe_write_f);
        tx('\n');
    }
}

/* ---- page tables -------------------------------------------------- */

static void build_tables(void)
{
    for (int i = 0; i < 1024; ++i) {
        pd[i] = 0;
        pt_low[i] = ((uint32_t)i << 12) | PG_P | PG_RW;
        pt_alias[i] = 0;
        pt_rodir[i] = 0;
    }
    pd[0] = (uint32_t)pt_low | PG_P | PG_RW;
    pd[1] = 0x00400000u | PG_PS | PG_P | PG_RW;
    pd[0x100] = (uint32_t)pt_alias | PG_P | PG_RW;
    pd[0x101] = (uint32_t)pt_rodir | PG_P;                 /* R/W=0 at PDE */
    pd[0x200] = 0x00400000u | PG_PS | PG_P | PG_RW;
    pd[0x201] = 0x00400000u | PG_PS | PG_P;                /* read-only 4 MiB */
    pd[0x202] = 0x00800000u | PG_PS | PG_P | PG_RW;

    pt_alias[0] = 0x00500000u | PG_P | PG_RW;
    pt_alias[1] = 0x00501000u | PG_P;                      /* read-only */
    /* pt_alias[2] stays 0: not present */
    pt_alias[3] = 0x00503000u | PG_P | PG_RW;
    pt_rodir[0] = 0x00504000u | PG_P | PG_RW;
}

static void install_idt(void)
{
    for (int v = 0; v < 32; ++v) {
        idt[v].lo = (uint16_t)stub_addr[v];
        idt[v].hi = (uint16_t)(stub_addr[v] >> 16);
        idt[v].sel = 0x08;
        idt[v].zero = 0;
        idt[v].type = 0x8E;
    }
    struct {
        uint16_t limit;
        uint32_t base;
    } __attribute__((packed)) r = {sizeof idt - 1, (uint32_t)idt};
    __asm__ volatile("lidt %0" ::"m"(r));
}

static void show_ad(const char *what, uint32_t entry)
{
    say(what);
    say(" A=");
    tx(entry & PG_A ? '1' : '0');
    say(" D=");
    tx(entry & PG_D ? '1' : '0');
    tx('\n');
}

void pg_main(void)
{
    uart_init();
    install_idt();
    say("paging: 4 KiB + 4 MiB pages, aliases, A/D bits, #PF\n");

    uint32_t leaf = 1, d;
    __asm__ volatile("cpuid" : "+a"(leaf), "=d"(d) : : "ebx", "ecx");
    say("cpuid.1 edx.pse=");
    tx(d & (1u << 3) ? '1' : '0');
    tx('\n');

    build_tables();
    wr_cr4(rd_cr4() | CR4_PSE);
    wr_cr3((uint32_t)pd);
    wr_cr0(rd_cr0() | CR0_PG | CR0_WP);
    say("paging on: cr0 pg/wp/pe=");
    hx(rd_cr0() & (CR0_PG | CR0_WP | 1u), 8);
    say(" cr4.pse=");
    tx(rd_cr4() & CR4_PSE ? '1' : '0');
    tx('\n');

    /* --- the same physical page at two (three) linear addresses --- */
    *at(0x40000010) = 0x11223344;
    say("write 40000010 (4K alias), read 00500010 (4M identity): ");
    hx(*at(0x00500010), 8);
    tx('\n');
    *at(0x00500020) = 0xA5A55A5A;
    say("write 00500020, read 40000020: ");
    hx(*at(0x40000020), 8);
    say(", read 80100020 (4M alias): ");
    hx(*at(0x80100020), 8);
    tx('\n');
    *at(0x80123454) = 0xCAFEF00D;
    say("write 80123454, read 00523454: ");
    hx(*at(0x00523454), 8);
    tx('\n');
    *at(0x80100010) = 0x0BADC0DE;
    say("write 80100010, read 40000010: ");
    hx(*at(0x40000010), 8);
    tx('\n');

    /* --- Accessed / Dirty on a 4 KiB mapping --- */
    pd[0x100] &= ~(PG_A | PG_D);
    pt_alias[3] &= ~(PG_A | PG_D);
    flush_all();
    show_ad("4K pte before access:", pt_alias[3]);
    (void)*at(0x40003000);
    show_ad("4K pte after read:   ", pt_alias[3]);
    show_ad("  its pde after read:", pd[0x100]);
    *at(0x40003004) = 1;
    show_ad("4K pte after write:  ", pt_alias[3]);
    show_ad("  its pde after write:", pd[0x100]);

    /* --- Accessed / Dirty on a 4 MiB mapping --- */
    pd[0x202] &= ~(PG_A | PG_D);
    flush_all();
    show_ad("4M pde before access:", pd[0x202]);
    (void)*at(0x80800100);
    show_ad("4M pde after read:   ", pd[0x202]);
    *at(0x80800104) = 2;
    show_ad("4M pde after write:  ", pd[0x202]);

    /* a write through a cached read-only-so-far TLB entry must set D */
    pt_alias[0] &= ~(PG_A | PG_D);
    flush_all();
    (void)*at(0x40000800);
    (void)*at(0x40000804);
    show_ad("4K pte after 2 reads:", pt_alias[0]);
    *at(0x40000808) = 3;
    show_ad("4K pte then write:   ", pt_alias[0]);

    /* --- not present --- */
    try_read("read 60000000 (PDE not present)", 0x60000000);
    try_write("write 60000004 (PDE not present)", 0x60000004, 1);
    try_read("read 40002008 (PTE not present)", 0x40002008);
    try_write("write 40002ffc (PTE not present)", 0x40002FFC, 1);

    faults = 0;
    resume_at = (uint32_t)probe_fetch_r;
    probe_fetch(0x60001000);
    resume_at = 0;
    report("fetch 60001000 (not present)");
    if (faults) {
        say(" eip==cr2: ");
        yn(f_eip == f_cr2);
        tx('\n');
    }

    /* --- read-only pages, CR0.WP set then clear --- */
    *at(0x00501010) = 0x01010101;
    pt_alias[1] &= ~(PG_A | PG_D);
    flush_all();
    try_read("WP=1 read 40001010 (RO 4K)", 0x40001010);
    try_write("WP=1 write 40001010 (RO 4K)", 0x40001010, 0xDEAD0001);
    show_ad("  RO pte after faulting write:", pt_alias[1]);
    try_write("WP=1 write 80400010 (RO 4M)", 0x80400010, 0xDEAD0002);
    try_write("WP=1 write 40400000 (RO PDE, RW PTE)", 0x40400000, 0xDEAD0003);

    wr_cr0(rd_cr0() & ~CR0_WP);
    say("cr0.wp now ");
    tx(rd_cr0() & CR0_WP ? '1' : '0');
    tx('\n');
    try_write("WP=0 write 40001010 (RO 4K)", 0x40001010, 0xBEEF0001);
    say("  read back via identity 00501010: ");
    hx(*at(0x00501010), 8);
    tx('\n');
    show_ad("  RO pte after WP=0 write:", pt_alias[1]);
    try_write("WP=0 write 80400010 (RO 4M)", 0x80400010, 0xBEEF0002);
    say("  read back via 00400010: ");
    hx(*at(0x00400010), 8);
    tx('\n');
    try_write("WP=0 write 40400000 (RO PDE, RW PTE)", 0x40400000, 0xBEEF0003);
    say("  read back via 00504000: ");
    hx(*at(0x00504000), 8);
    tx('\n');
    wr_cr0(rd_cr0() | CR0_WP);
    try_write("WP=1 again, write 40001010", 0x40001010, 0xDEAD0004);

    /* --- CR2 keeps the last faulting address --- */
    uint32_t cr2;
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    say("cr2 now ");
    hx(cr2, 8);
    tx('\n');

    say("paging: done, exit 0x12\n");
    while ((inb(COM1 + 5) & 0x40) == 0)
        ;
    __asm__ volatile("outl %0, %1" ::"a"(0x12u), "Nd"((uint16_t)0xF4));
}
