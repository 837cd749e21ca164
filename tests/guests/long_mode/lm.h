/*
 * long_mode: a self-checking 64-bit ISA test (tests/guests/README.md).
 *
 * entry.S starts in multiboot's 32-bit protected mode, turns on PAE,
 * EFER.LME|NXE, CR3 and CR0.PG|WP, and far-jumps to a 64-bit code segment;
 * lm_main (checks.c) then runs the checks, one output line each:
 * "PASS name" or "FAIL name: got 0x... want 0x...", then a summary, and
 * exits through isa-debug-exit with 0x20 (status 65) when all passed, 0x21
 * (67) otherwise, 0x7F (255) on an unexpected exception.
 *
 * GDT (selectors): 0x08 kernel code 64 (L=1), 0x10 kernel data, 0x1B user
 * code 32 (compatibility mode), 0x23 user data, 0x2B user code 64, 0x30
 * kernel code 32, 0x38 the 64-bit TSS (16 bytes).  This is the order
 * SYSCALL/SYSRET need with STAR[47:32] = 0x08 and STAR[63:48] = 0x1B.
 *
 * Paging (4 levels, all entries U=1 unless said):
 *   0x00000000-0x001FFFFF  4 KiB pages, identity (pt0; page 0 not present)
 *   0x00200000-0x00FFFFFF  2 MiB pages, identity
 *   0x01000000-0x011FFFFF  pt_test: the probe pages, filled by checks.c
 *   0x40000000-0x7FFFFFFF  one 1 GiB page aliasing physical 0
 */
#ifndef LM_H
#define LM_H

typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

#define KCODE 0x08
#define KDATA 0x10
#define UCODE32 0x1B
#define UDATA 0x23
#define UCODE64 0x2B
#define KCODE32 0x30
#define TSS_SEL 0x38

#define NO_FAULT (-1)
#define VEC_RETURN 0x7F /* DPL 3 gate: the way back from ring 3 */
#define VEC_IST 0x41    /* interrupt gate on IST1 */
#define VEC_PLAIN 0x42  /* interrupt gate on the current stack */

#define EXIT_PASS 0x20
#define EXIT_FAIL 0x21
#define EXIT_UNEXPECTED 0x7F

#define MSR_EFER 0xC0000080u
#define MSR_STAR 0xC0000081u
#define MSR_LSTAR 0xC0000082u
#define MSR_SFMASK 0xC0000084u
#define MSR_FS_BASE 0xC0000100u
#define MSR_GS_BASE 0xC0000101u
#define MSR_KERNEL_GS_BASE 0xC0000102u

/* What the harness records about one run (offsets used by harness.S). */
struct fault {
    u64 vector; /* NO_FAULT (as u64) or the vector */
    u64 error;  /* error code, 0 when the CPU pushes none */
    u64 rip, cs, rflags, rsp, ss;
    u64 ret;    /* RAX when fn returned (or at INT 0x7F) */
};

/* Frame seen by the probe handlers of VEC_IST / VEC_PLAIN. */
struct probe_rec {
    u64 entry_rsp; /* RSP when the handler's first instruction ran */
    u64 rip, cs, rflags, rsp, ss;
};

/* What syscall_entry saw: [0] on SYSCALL #1 (then SYSRET), [1] on #2. */
struct sys_rec {
    u64 rcx, r11, kflags, kcs, kss, r12, r13, r14, r15;
};

extern u64 gdt[];
extern u64 idt[];
extern u64 pt_test[];
extern u8 tss64[];
extern u8 ist1_top[], kstack_top[], rsp0_top[], user_stack_top[];
extern struct probe_rec probe_rec;
extern struct sys_rec sys_rec[2];
extern u64 probe_addr;
extern u32 mb_magic, mb_info;

/* harness.S */
int run_checked(void (*fn)(void), struct fault *f);
int run_user(void (*fn)(void), u64 cs, u64 rflags, struct fault *f);
int run_sysret(void (*fn)(void), u64 r11, int wide, struct fault *f);
extern u64 exc_stubs[32];
void return_gate(void);
void probe_gate(void);
void syscall_entry(void);
void lm_outb(u16 port, u8 v);
void lm_outl(u16 port, u32 v);
u8 lm_inb(u16 port);

/* lib.c */
void puts_(const char *s);
void put_hex(u64 v);
void check_eq(const char *name, u64 got, u64 want);
void check_eq_sfx(const char *name, const char *suffix, u64 got, u64 want);
void check_fault(const char *name, const struct fault *f, int vector, u64 error);
void lm_finish(void) __attribute__((noreturn));
void lm_exit(u8 code) __attribute__((noreturn));
int cmdline_has(const char *word);
void unexpected(u64 vector, u64 error, u64 rip, u64 cs) __attribute__((noreturn));

static inline u64 rdmsr(u32 msr) {
    u32 lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((u64)hi << 32) | lo;
}
static inline void wrmsr(u32 msr, u64 v) {
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}
static inline u64 read_cr2(void) { u64 v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline void write_cr2(u64 v) { __asm__ volatile("mov %0, %%cr2" : : "r"(v)); }
static inline void invlpg(u64 a) { __asm__ volatile("invlpg (%0)" : : "r"(a) : "memory"); }

#endif
