/*
 * suite_lib: the small runtime shared by the self-checking guest suites
 * (tests/guests/suite_*).  Test infrastructure, not an OS: flat segments,
 * no paging, interrupts off (IF=0) unless a check turns them on.
 *
 * Boot: entry.S holds the multiboot v1 header and _start, which sets up a
 * 16 KiB stack and calls suite_lib_start().  That installs the GDT below,
 * an IDT, the TSS (LTR), LLDT 0, then calls the suite's
 *     void suite_main(void);
 * and finally suite_finish(), which prints the summary and exits.
 *
 * GDT (selectors):
 *   0x00 null              0x08 KCODE flat ring 0 code (32-bit, readable)
 *   0x10 KDATA flat ring 0 data      0x1B UCODE flat ring 3 code
 *   0x23 UDATA flat ring 3 data      0x28 TSS   suite_tss (32-bit, available)
 *   0x30 .. 0xF8 (GDT_FIRST_SPARE .. GDT_ENTRIES-1): zero, for the suites;
 *   fill them with set_gdt_entry().  GDT limit = GDT_ENTRIES*8-1 = 0xFF.
 * TSS: suite_tss.ss0:esp0 = KDATA:top of a 8 KiB trap stack (used when a
 *   fault or INT comes from an outer ring).  The I/O map base is 0x68 and the
 *   limit covers all 65536 bits plus the terminating 0xFF byte; the bitmap
 *   (suite_tss.iomap) starts all 1s (every port denied at CPL > IOPL).
 * IDT: 256 gates.  Vectors 0-31 are ring 0 interrupt gates to stubs that
 *   record the exception (see run_checked).  Vector SUITE_VEC_RETURN (0x7F)
 *   is a DPL 3 interrupt gate: the way back from run_at()/run_user().
 *   Vectors 32-255 (except 0x7F) are zero; set_idt_gate() fills any gate.
 *
 * Running code that may fault:
 *   int run_checked(void (*fn)(void), struct fault *f);
 *     calls fn at ring 0.  If an exception 0-31 occurs before fn returns,
 *     its vector, error code (0 when the CPU pushes none), EIP, CS, EFLAGS
 *     (and ESP, SS when it came from an outer ring) go to *f and execution
 *     resumes after run_checked, which returns the vector.  Otherwise it
 *     returns NO_FAULT (-1), with f->ret = fn's EAX and f->eflags = EFLAGS
 *     after fn.  Either way EBX/ESI/EDI/EBP, ESP, EFLAGS (IF, IOPL, NT...)
 *     are those before the call and DS/ES/FS/GS/SS are KDATA again.  Not
 *     reentrant: fn must not call run_checked/run_at itself.
 *   int run_at(void (*fn)(void), u32 cs, u32 ss, u32 eflags, struct fault *f);
 *     the same, but fn runs in the ring of cs (RPL must equal its DPL):
 *     IRET to cs:trampoline with ss:top of a 4 KiB user stack, the given
 *     EFLAGS and DS=ES=FS=GS=ss.  The trampoline calls fn and then executes
 *     INT 0x7F, which reports NO_FAULT with f->ret = fn's EAX and f->eflags
 *     = the EFLAGS at the INT (what fn left, e.g. after a POPF).
 *   int run_user(void (*fn)(void), u32 eflags, struct fault *f);
 *     run_at(fn, UCODE, UDATA, eflags, f).
 *   An exception while nothing is armed prints "UNEXPECTED #XX(...) at
 *   CS:EIP" and exits with SUITE_EXIT_UNEXPECTED.
 *
 * Reporting (one line per check, "PASS name" or "FAIL name: why"):
 *   check_fault(name, f, vec, err)  vec NO_FAULT = "no exception"; err is
 *     only compared for vectors that push one.  Failure text:
 *     "got #GP(0x0010) want #GP(0x0000)".
 *   check_eq(name, got, want)       "got 0x... want 0x..."
 *   check(name, ok, fmt, ...)       fmt/args describe a failure
 *   suite_finish()  "SUMMARY: N checks, P passed, F failed", exit 0x20
 *     (QEMU status 65) when F == 0, 0x21 (status 67) otherwise.
 *
 * Misc: suite_printf (%s %c %d %u %x %X, '0' flag and width), cmdline_has(w)
 * (whole word in the multiboot command line), port I/O, descriptor and gate
 * builders, read_cr0/write_cr0, sgdt/sidt helpers.
 */
#ifndef SUITE_H
#define SUITE_H

typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;
typedef unsigned long long u64;

#define KCODE 0x08
#define KDATA 0x10
#define UCODE 0x1B
#define UDATA 0x23
#define TSS_SEL 0x28
#define GDT_FIRST_SPARE 6
#define GDT_ENTRIES 32

#define SUITE_VEC_RETURN 0x7F
#define NO_FAULT (-1)
#define SUITE_EXIT_PASS 0x20
#define SUITE_EXIT_FAIL 0x21
#define SUITE_EXIT_UNEXPECTED 0x7F

/* vectors */
#define DE 0
#define DB 1
#define BP 3
#define OF 4
#define BR 5
#define UD 6
#define NM 7
#define DF 8
#define TS 10
#define NP 11
#define SS 12
#define GP 13
#define PF 14
#define AC 17

/* descriptor access bytes (P, DPL, S, type) */
#define ACC_P 0x80
#define ACC_DPL(n) ((n) << 5)
#define ACC_DATA_RW 0x92   /* P, S, data, writable */
#define ACC_DATA_RO 0x90
#define ACC_DATA_RW_DOWN 0x96
#define ACC_CODE_RX 0x9A   /* P, S, code, readable */
#define ACC_CODE_X 0x98
#define ACC_CODE_RX_CONF 0x9E
#define ACC_CODE_X_CONF 0x9C
#define ACC_LDT 0x82
#define ACC_TSS32 0x89
#define ACC_TSS32_BUSY 0x8B
/* flags nibble: G (4 KiB units) and D/B (32-bit) */
#define FLG_G 0x8
#define FLG_DB 0x4
/* gate types (with P) */
#define GATE_TASK 0x85
#define GATE_INT32 0x8E
#define GATE_TRAP32 0x8F
#define GATE_CALL32 0x8C
#define GATE_CALL16 0x84

struct fault {
    int vector;   /* NO_FAULT or 0-31 */
    u32 error;    /* error code pushed by the CPU, else 0 */
    u32 eip, cs, eflags;
    u32 esp, ss;  /* only when the event came from an outer ring, else 0 */
    u32 ret;      /* EAX of fn when it returned normally */
};

struct tss32 {
    u32 link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
    u32 eax, ecx, edx, ebx, esp, ebp, esi, edi;
    u32 es, cs, ss, ds, fs, gs, ldt;
    u16 trap, iomap_base;
};

struct suite_tss {
    struct tss32 t;
    u8 iomap[8192 + 1];
} __attribute__((packed));

struct dtr {
    u16 limit;
    u32 base;
} __attribute__((packed));

extern u64 suite_gdt[GDT_ENTRIES];
extern u64 suite_idt[256];
extern struct suite_tss suite_tss;
extern u8 suite_trap_stack_top[];
extern u8 suite_user_stack_top[];

void suite_main(void);   /* provided by each suite */
void suite_finish(void) __attribute__((noreturn));
void suite_exit(u8 code) __attribute__((noreturn));

int run_checked(void (*fn)(void), struct fault *f);
int run_at(void (*fn)(void), u32 cs, u32 ss, u32 eflags, struct fault *f);
int run_user(void (*fn)(void), u32 eflags, struct fault *f);

void suite_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void check(const char *name, int ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void check_eq(const char *name, u32 got, u32 want);
void check_fault(const char *name, const struct fault *f, int vector, u32 error);
int cmdline_has(const char *word);

u64 make_desc(u32 base, u32 limit, u8 access, u8 flags);
void set_gdt_entry(int index, u32 base, u32 limit, u8 access, u8 flags);
u64 make_gate(u16 selector, u32 offset, u8 type_attr);
void set_idt_gate(int vector, u16 selector, u32 offset, u8 type_attr);

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u32 read_cr0(void) { u32 v; __asm__ volatile("movl %%cr0, %0" : "=r"(v)); return v; }
static inline void write_cr0(u32 v) { __asm__ volatile("movl %0, %%cr0" : : "r"(v) : "memory"); }
static inline u32 read_eflags(void) { u32 v; __asm__ volatile("pushfl; popl %0" : "=r"(v)); return v; }

#endif
