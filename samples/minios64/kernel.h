/*
 * minios64: the kernel's shared definitions (README.md).  Long mode
 * (SDM vol. 3 ch. 2.5, 4.5, 5.8.8, 6.14, 7.7): a 64-bit GDT, TSS and IDT,
 * 4-level paging with one PML4 per process, SYSCALL/SYSRET.
 */
#ifndef MINIOS64_KERNEL_H
#define MINIOS64_KERNEL_H

#include "guest.h"
#include "syscall.h"

/* GDT selectors, in the order SYSCALL/SYSRET need (STAR[47:32] = KCODE,
 * STAR[63:48] = 0x18: SYSRET loads SS = 0x20|3 and CS = 0x28|3). */
#define KCODE 0x08
#define KDATA 0x10
#define UDATA 0x23
#define UCODE 0x2B
#define TSS_SEL 0x30

/* Virtual memory (every address space):
 *   0x0000000000001000-0x000000003FFFFFFF  kernel, identity, supervisor
 *   USER_IMAGE    user programs (read-only, execute), the same frames everywhere
 *   USER_HEAP     demand-zero heap, HEAP_PAGES pages at most
 *   USER_STACK_TOP - 2 pages: the stack, mapped at creation */
#define USER_IMAGE 0x0000008000000000ull /* PML4 entry 1 */
#define USER_HEAP 0x0000008040000000ull
#define HEAP_PAGES 64
#define USER_STACK_TOP 0x0000008080000000ull
#define USER_STACK_PAGES 2

/* Physical frame pool for page tables, stacks and heap pages. */
#define POOL_START 0x00200000ull
#define POOL_FRAMES 512

#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_US 0x4ull
#define PTE_PS 0x80ull
#define PTE_ADDR 0x000FFFFFFFFFF000ull

#define PF_PRESENT 0x1
#define PF_WRITE 0x2
#define PF_USER 0x4

#define VEC_UD 6
#define VEC_DF 8
#define VEC_GP 13
#define VEC_PF 14
#define VEC_TIMER 0x20

#define MAX_PROCS 3
#define LOG_SIZE 512
#define KSTACK_SIZE 8192

/* What trap_common and syscall_entry push (entry.S), lowest address first. */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss; /* as the CPU pushes them */
};

struct process {
    int pid;
    const char *name;
    uint64_t pml4;      /* physical = virtual: the kernel is identity-mapped */
    uint64_t ksp;       /* saved by switch_context */
    uint8_t *kstack;    /* KSTACK_SIZE bytes */
    int runnable, done, killed;
    uint64_t exit_status; /* status, or the vector that killed it */
    uint64_t fault_error, fault_cr2, fault_rip;
    char log[LOG_SIZE];
    unsigned log_len;
    unsigned syscalls[SYS_COUNT];
    unsigned heap_pages, preemptions;
};

/* entry.S */
extern uint64_t idt_stubs[48]; /* vectors 0-31 and 0x20-0x2F */
void syscall_entry(void);
void trap_return(void);
void switch_context(uint64_t *save_ksp, uint64_t load_ksp);
extern uint64_t kernel_pml4[];
extern uint64_t kernel_pdpt[];
extern uint8_t boot_stack_top[];
struct percpu {
    uint64_t kernel_rsp; /* %gs:0 while in syscall_entry */
    uint64_t user_rsp;   /* %gs:8 */
};
extern struct percpu percpu;

/* desc.c */
void gdt_tss_idt_init(void);
void syscall_msrs_init(void);
void set_kernel_stack(uint64_t top);

/* paging.c */
void paging_init(void);
uint64_t address_space_create(void);
int user_range_ok(uint64_t addr, uint64_t len);
int demand_zero(struct process *p, uint64_t addr);

/* ../minios/pic_pit.c, shared with minios: 8259A pair at 0x20/0x28,
 * 8254 channel 0 in mode 2 with divisor 150 (IRQ 0 every 125.7 us) */
#define PIT_DIVISOR 150u
void pic_init(void);
void pic_unmask(unsigned irq);
void pic_mask_all(void);
uint8_t pic_read_mask(int slave);
void pic_eoi(unsigned irq);
int pic_irq_is_real(unsigned irq);
void pit_init(void);

/* proc.c */
extern struct process procs[MAX_PROCS];
extern struct process *current;
void proc_create(int pid, const char *name, void (*entry)(void));
void scheduler_run(void);
void yield_to_scheduler(void);
void proc_kill(struct trap_frame *f, uint64_t cr2);
uint64_t syscall_dispatch(struct trap_frame *f);
void trap_dispatch(struct trap_frame *f);
extern volatile unsigned kernel_ticks;
/* Booted with syscall=ud2: the user image's SYSCALLs were patched to UD2,
 * and trap_dispatch runs a #UD from them as the system call (README.md). */
extern int syscall_by_ud2;

/* main.c */
void panic(const char *what, const struct trap_frame *f) __attribute__((noreturn));
void print_hex64(uint64_t v);

/* user.c: entry points and the labels the report names */
void user_sieve(void);
void user_ping(void);
void user_rogue(void);
extern const char rogue_read_insn[];

static inline uint64_t rdmsr64(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}
static inline void wrmsr64(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
static inline uint64_t cr2_read(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}
static inline void cr3_write(uint64_t v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline void invlpg64(uint64_t va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }

#endif
