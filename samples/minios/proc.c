/*
 * proc.c - processes and the round-robin scheduler.
 *
 * Each process has a kernel stack of its own; everything about a process
 * that is not in its address space lives on that stack while it is not
 * running (its trap frame, and under it the registers switch_context
 * saved).  A switch is: CR3 := the next page directory, TSS.ESP0 and
 * IA32_SYSENTER_ESP := the top of the next kernel stack, switch_context.
 *
 * The kernel is not preemptible: the timer takes the CPU away from a
 * process only when it interrupted ring 3.  Kernel code that changes
 * scheduling state runs with interrupts disabled (irq_save/irq_restore).
 *
 * The idle context is kmain's own (on the boot stack, with the kernel's
 * page directory): it runs whenever no process is runnable.
 */
#include "kernel.h"

struct process procs[MAX_PROCS];
static struct process idle_proc = { .pid = 0, .name = "idle", .state = PROC_RUNNABLE };
struct process *current = &idle_proc;
volatile uint32_t ticks;

static uint8_t kernel_stacks[MAX_PROCS][KSTACK_SIZE] __attribute__((aligned(16)));

void proc_log(struct process *p, const char *s, uint32_t len)
{
    uint32_t room = PROC_LOG_SIZE - p->log_len;
    if (len > room)
        len = room; /* a chatty process loses its tail, nothing else */
    memcpy(p->log + p->log_len, s, len);
    p->log_len += len;
}

/*
 * The kernel stack of a process that has never run, laid out as if it had
 * been switched away from just before returning to ring 3:
 *   trap frame (user EIP = entry, ESP = its stack, EFLAGS.IF = 1)
 *   return address trap_return        <- where switch_context's RET goes
 *   EBP EBX ESI EDI = 0                <- kernel_esp
 * The user stack holds `arg` above a zero return address, the way a C
 * function expects to be called; entry must call SYS_EXIT, not return.
 */
struct process *proc_create(const char *name, void (*entry)(uint32_t), uint32_t arg)
{
    int slot = 0;
    while (slot < MAX_PROCS && procs[slot].state != PROC_UNUSED)
        slot++;
    if (slot == MAX_PROCS)
        return 0;
    struct process *p = &procs[slot];
    memset(p, 0, sizeof *p);
    p->page_dir = address_space_create();
    if (!p->page_dir)
        return 0;
    p->pid = slot + 1;
    p->name = name;

    uint32_t *stack_page = user_page(p->page_dir, USER_STACK_TOP - PAGE_SIZE);
    stack_page[1023] = arg;
    stack_page[1022] = 0;
    uint32_t user_esp = USER_STACK_TOP - 8;

    p->kstack_top = (uint32_t)(kernel_stacks[slot] + KSTACK_SIZE);
    struct trap_frame *f = (struct trap_frame *)(p->kstack_top - sizeof *f);
    memset(f, 0, sizeof *f);
    f->gs = f->fs = f->es = f->ds = SEL_USER_DATA;
    f->eip = (uint32_t)entry;
    f->cs = SEL_USER_CODE;
    f->eflags = EFLAGS_IF | EFLAGS_RESERVED; /* IOPL 0: no CLI/STI/IN/OUT in ring 3 */
    f->user_esp = user_esp;
    f->user_ss = SEL_USER_DATA;

    uint32_t *k = (uint32_t *)f;
    *--k = (uint32_t)trap_return;
    for (int i = 0; i < 4; i++)
        *--k = 0;
    p->kernel_esp = (uint32_t)k;
    p->state = PROC_RUNNABLE;
    return p;
}

/* The next runnable process after the current one in pid order, wrapping
 * around; the current one only if no other is runnable; else idle. */
static struct process *pick_next(void)
{
    int start = current == &idle_proc ? 0 : current->pid; /* slot after current */
    for (int i = 0; i < MAX_PROCS; i++) {
        struct process *p = &procs[(start + i) % MAX_PROCS];
        if (p->state == PROC_RUNNABLE)
            return p;
    }
    return &idle_proc;
}

static void switch_to(struct process *next)
{
    struct process *prev = current;
    current = next;
#ifdef MINIOS_PV
    uint32_t stack_top = next == &idle_proc ? (uint32_t)boot_stack_top : next->kstack_top;
    pv_switch_to(next == &idle_proc ? kernel_page_dir : next->page_dir, stack_top); /* one multicall */
#else
    write_cr3((uint32_t)(next == &idle_proc ? kernel_page_dir : next->page_dir));
    uint32_t stack_top = next == &idle_proc ? (uint32_t)boot_stack_top : next->kstack_top;
    tss_set_kernel_stack(stack_top);
    sysenter_set_stack(stack_top);
#endif
    if (prev->state == PROC_ZOMBIE && prev->page_dir) {
        /* CR3 no longer points at it: its frames can go. */
        address_space_destroy(prev->page_dir);
        prev->page_dir = 0;
    }
    switch_context(&prev->kernel_esp, next->kernel_esp);
}

void schedule(void)
{
    uint32_t flags = irq_save();
    struct process *next = pick_next();
    if (next != current)
        switch_to(next);
    irq_restore(flags);
}

/* IRQ 0: count, wake sleepers, acknowledge, maybe preempt.  The EOI comes
 * before any switch: the PIC blocks further IRQ 0s until it gets one, and
 * the next process must not run without its timer. */
void timer_interrupt(struct trap_frame *f)
{
    ticks++;
    for (int i = 0; i < MAX_PROCS; i++)
        if (procs[i].state == PROC_SLEEPING && (int32_t)(ticks - procs[i].wake_tick) >= 0)
            procs[i].state = PROC_RUNNABLE;
    pic_eoi(0);
    if (!from_user(f))
        return; /* the kernel, or idle in HLT: it reschedules by itself */
    struct process *next = pick_next();
    if (next != current) {
        current->preemptions++;
        switch_to(next);
    }
}

void proc_sleep(uint32_t nticks)
{
    uint32_t flags = irq_save();
    current->wake_tick = ticks + (nticks ? nticks : 1);
    current->state = PROC_SLEEPING;
    schedule();
    irq_restore(flags);
}

void proc_exit(uint32_t status)
{
    irq_save();
    current->exit_status = status;
    current->state = PROC_ZOMBIE;
    schedule();
    panic("a dead process was scheduled", 0);
}

/* A fault in ring 3 ends only the process that made it. */
void proc_kill(const struct trap_frame *f, uint32_t cr2)
{
    irq_save();
    current->killed = 1;
    current->exit_status = f->vector;
    current->fault_error = f->error;
    current->fault_eip = f->eip;
    current->fault_cr2 = cr2;
    current->state = PROC_ZOMBIE;
    schedule();
    panic("a killed process was scheduled", 0);
}

int procs_alive(void)
{
    int n = 0;
    for (int i = 0; i < MAX_PROCS; i++)
        if (procs[i].state == PROC_RUNNABLE || procs[i].state == PROC_SLEEPING)
            n++;
    return n;
}

/*
 * The idle context: run processes until none is runnable, then halt until
 * an interrupt (the timer, which may wake a sleeper).  CLI before the check
 * and STI right before HLT close the race with the timer: STI takes effect
 * only after HLT has begun, so a tick that arrives in between wakes it.
 */
void idle_loop(void)
{
    for (;;) {
#ifdef MINIOS_PV
        pv_events_off();
#else
        __asm__ volatile("cli");
#endif
        if (!procs_alive())
            break;
        schedule();
        if (!procs_alive())
            break;
#ifdef MINIOS_PV
        pv_block(); /* events on and sleep, in one hypercall: no race either */
#else
        __asm__ volatile("sti; hlt" : : : "memory");
#endif
    }
}
