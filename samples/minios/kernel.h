/*
 * kernel.h - what the minios kernel files share: the memory map, the
 * segment selectors, the trap frame the entry stubs build, the process
 * table entry, and the functions each kernel file offers the others.
 *
 * The layout of struct trap_frame is fixed by entry.S (the order in which
 * the CPU and the stubs push things); change both together.
 */
#ifndef MINIOS_KERNEL_H
#define MINIOS_KERNEL_H

#include "guest.h"
#include "syscall.h"

/* ---- memory map ------------------------------------------------------------
 * Physical: the kernel image is loaded at 1 MiB (the user image right after
 * its read-only part, see link.ld); page frames for page tables, user stacks
 * and heap pages come from [FRAME_POOL_START, FRAME_POOL_END).
 * Virtual, the same in every address space:
 *   0x00000000-0x00000FFF  not mapped: catches null pointers
 *   0x00001000-0x003FFFFF  kernel, identity-mapped, supervisor-only
 *   0x00400000-0x007FFFFF  user program image (text + rodata), read-only
 *   0x00800000-0x00BFFFFF  user heap, mapped on first touch, zero-filled
 *   0x00FFE000-0x00FFFFFF  user stack (two pages, mapped at creation)
 */
#define FRAME_POOL_START 0x00200000u
#define FRAME_POOL_END   0x00400000u
#define KERNEL_MAP_END   0x00400000u
#define USER_IMAGE_BASE  0x00400000u
#define USER_HEAP_BASE   0x00800000u
#define USER_HEAP_END    0x00C00000u
#define USER_STACK_PAGES 2u
#define USER_STACK_TOP   0x01000000u
#define USER_END         USER_STACK_TOP

#define PAGE_SIZE 4096u

/* Page-table entry bits (SDM vol. 3, 4.3). */
#define PTE_P  0x001u /* present */
#define PTE_W  0x002u /* writable */
#define PTE_U  0x004u /* user-accessible */
#define PTE_PCD 0x010u /* cache disabled: device registers */
#define PTE_G  0x100u /* global: survives CR3 loads (needs CR4.PGE) */

/* Page-fault error code bits (SDM vol. 3, 4.7). */
#define PF_PRESENT 0x1u /* 1: protection violation, 0: page not present */
#define PF_WRITE   0x2u
#define PF_USER    0x4u

/* ---- segments ---------------------------------------------------------------
 * The order is what SYSEXIT requires: user CS = SYSENTER_CS + 16 and
 * user SS = SYSENTER_CS + 24, both with RPL 3. */
#ifdef MINIOS_PV
/* Under pv the kernel runs at ring 1 on the monitor's own kernel segments
 * (docs/HYPERCALLS.md): the same GDT entries, RPL 1. */
#define SEL_KERNEL_CODE 0x09
#define SEL_KERNEL_DATA 0x11
#else
#define SEL_KERNEL_CODE 0x08
#define SEL_KERNEL_DATA 0x10
#endif
#define SEL_USER_CODE   (0x18 | 3)
#define SEL_USER_DATA   (0x20 | 3)
#define SEL_TSS         0x28

/* ---- interrupt vectors ---------------------------------------------------- */
#define VEC_GP        13
#define VEC_PF        14
#define VEC_IRQ_BASE  0x20 /* master PIC: 0x20-0x27, slave: 0x28-0x2F */
#define VEC_TIMER     (VEC_IRQ_BASE + 0)
#define VEC_SYSCALL   0x80
#define VEC_SYSENTER  0x100 /* not a real vector: marks frames built by SYSENTER */

#define EFLAGS_IF 0x200u
#define EFLAGS_RESERVED 0x002u

/* Built on the kernel stack by the CPU (eip..user_ss) and entry.S (the rest). */
struct trap_frame {
    uint32_t gs, fs, es, ds;
    uint32_t edi, esi, ebp, esp_at_pusha, ebx, edx, ecx, eax; /* PUSHAD order */
    uint32_t vector, error;
    uint32_t eip, cs, eflags;
    uint32_t user_esp, user_ss; /* pushed by the CPU only on a ring change */
};

static inline int from_user(const struct trap_frame *f)
{
    return (f->cs & 3) == 3;
}

/* ---- processes ---------------------------------------------------------- */
#define MAX_PROCS 4
#define KSTACK_SIZE 8192
#define PROC_LOG_SIZE 1024

enum proc_state { PROC_UNUSED, PROC_RUNNABLE, PROC_SLEEPING, PROC_ZOMBIE };

struct process {
    int pid;
    const char *name;
    enum proc_state state;
    uint32_t *page_dir;     /* physical = virtual: the kernel is identity-mapped */
    uint32_t kernel_esp;    /* saved by switch_context while not running */
    uint32_t kstack_top;
    uint32_t wake_tick;     /* PROC_SLEEPING until ticks reaches this */
    /* What happened, printed at the end (never while processes run). */
    int killed;
    uint32_t exit_status;   /* or the vector that killed it */
    uint32_t fault_error, fault_eip, fault_cr2;
    uint32_t preemptions;   /* timer took the CPU away from it in ring 3 */
    uint32_t syscalls_int80, syscalls_sysenter;
    uint32_t heap_pages_mapped;
    uint32_t log_len;
    char log[PROC_LOG_SIZE];
};

extern struct process procs[MAX_PROCS]; /* pid = index + 1 */
extern struct process *current;
extern volatile uint32_t ticks;

/* ---- desc.c: GDT, TSS, IDT, SYSENTER MSRs ---------------------------------- */
void gdt_init(void);
void idt_init(void);
void tss_set_kernel_stack(uint32_t esp0);
unsigned tss_descriptor_type(void);
int sysenter_init(void); /* 1 if CPUID says SEP and the MSRs were set */
void sysenter_set_stack(uint32_t esp);

/* ---- pic_pit.c ------------------------------------------------------------ */
#define PIT_DIVISOR 150u
void pic_init(void);
void pic_unmask(unsigned irq);
void pic_mask_all(void);
uint8_t pic_read_mask(int slave); /* OCW1 read back: the IMR */
void pic_eoi(unsigned irq);
int pic_irq_is_real(unsigned irq); /* 0 for a spurious IRQ 7 or 15 */
void pit_init(void);

/* ---- paging.c -------------------------------------------------------------- */
void paging_init(void);
uint32_t *address_space_create(void);
void address_space_destroy(uint32_t *page_dir);
uint32_t *user_page(uint32_t *page_dir, uint32_t addr); /* kernel view, or 0 */
int user_range_ok(uint32_t *page_dir, uint32_t addr, uint32_t len);
int heap_demand_map(struct process *p, uint32_t addr);
int heap_release(struct process *p, uint32_t addr);
uint32_t frames_in_use(void);
void paging_map_device(uint32_t addr, uint32_t *table); /* the -virtio builds only */
extern uint32_t kernel_page_dir[1024];

/* ---- proc.c ----------------------------------------------------------------- */
struct process *proc_create(const char *name, void (*entry)(uint32_t), uint32_t arg);
void schedule(void);
void proc_exit(uint32_t status);
void proc_kill(const struct trap_frame *f, uint32_t cr2);
void proc_sleep(uint32_t nticks);
void timer_interrupt(struct trap_frame *f);
void proc_log(struct process *p, const char *s, uint32_t len);
int procs_alive(void);
void idle_loop(void);

/* ---- trap.c ----------------------------------------------------------------- */
void trap_dispatch(struct trap_frame *f);
const char *exception_name(uint32_t vector); /* "#GP", "#PF", ... */
void panic(const char *what, const struct trap_frame *f) __attribute__((noreturn));

/* ---- virtio.c: virtio-blk and virtio-console (the -virtio builds only) --- */
void virtio_init(void);

/* ---- boot.S (samples/common): the stack kmain and the idle loop run on ---- */
extern char boot_stack_top[];

/* ---- entry.S ---------------------------------------------------------------- */
extern uint32_t isr_stub_table[48]; /* vectors 0-31 and 0x20-0x2F */
void isr_syscall(void);
void sysenter_entry(void);
void trap_return(void);
void switch_context(uint32_t *save_esp, uint32_t new_esp);
void load_segments(void); /* far jump to SEL_KERNEL_CODE, reload DS..SS */

#ifdef MINIOS_PV
#include "pv.h"

/* The virtual IF is a word in the shared-info page (pv.h). */
static inline uint32_t irq_save(void)
{
    uint32_t flags = pv_shared.events_enabled ? EFLAGS_IF : 0;
    pv_events_off();
    return flags;
}

static inline void irq_restore(uint32_t flags)
{
    if (flags & EFLAGS_IF)
        pv_events_on();
}
#else
/* Saves EFLAGS and disables interrupts; irq_restore puts IF back as it was. */
static inline uint32_t irq_save(void)
{
    uint32_t flags;
    __asm__ volatile("pushfl; popl %0; cli" : "=r"(flags) : : "memory");
    return flags;
}

static inline void irq_restore(uint32_t flags)
{
    __asm__ volatile("pushl %0; popfl" : : "r"(flags) : "memory", "cc");
}
#endif

static inline void wrmsr(uint32_t msr, uint32_t lo, uint32_t hi)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"(lo), "d"(hi));
}

/* ---- user.c (ring 3; only their addresses are used by the kernel) ----------- */
void user_primes(uint32_t use_sysenter);
void user_hasher(uint32_t use_sysenter);
void user_rogue(uint32_t use_sysenter);
void user_intruder(uint32_t use_sysenter);
extern const char rogue_poke_insn[], intruder_cli_insn[];
extern const char __user_start[], __user_end[], __user_phys[]; /* link.ld */
extern const char __image_end[];

#define MINIOS_EXIT_OK    0x21u /* QEMU exit status (0x21 << 1) | 1 = 67 */
#define MINIOS_EXIT_FAIL  0x2Fu /* a check failed: status 95 */
#define MINIOS_EXIT_PANIC 0x3Eu /* unexpected kernel-mode fault: status 125 */

#endif /* MINIOS_KERNEL_H */
