/*
 * minios64 processes: creation, the round-robin scheduler, the timer tick,
 * faults and system calls.  The kernel runs with IF=0 (interrupt gates and
 * SFMASK clear it), so only ring 3 is preempted; a switch always goes
 * through the scheduler's own context (scheduler_run on the boot stack).
 */
#include "kernel.h"

struct process procs[MAX_PROCS];
struct process *current;
volatile unsigned kernel_ticks;
int syscall_by_ud2;

static uint8_t kstacks[MAX_PROCS][KSTACK_SIZE] __attribute__((aligned(16)));
static uint64_t scheduler_ksp;

#define RFLAGS_USER 0x202 /* IF and the reserved bit 1 */

/* The kernel stack looks as if the process had been switched out in
 * trap_dispatch just before returning to ring 3: a trap frame that IRETQ
 * takes to `entry`, and below it switch_context's registers returning to
 * trap_return. */
void proc_create(int pid, const char *name, void (*entry)(void))
{
    struct process *p = &procs[pid - 1];
    p->pid = pid;
    p->name = name;
    p->pml4 = address_space_create();
    if (!p->pml4)
        panic("out of frames for an address space", 0);
    p->kstack = kstacks[pid - 1];
    struct trap_frame *f = (struct trap_frame *)(p->kstack + KSTACK_SIZE) - 1;
    memset(f, 0, sizeof *f);
    f->rip = (uint64_t)entry;
    f->cs = UCODE;
    f->rflags = RFLAGS_USER;
    f->rsp = USER_STACK_TOP;
    f->ss = UDATA;
    uint64_t *sp = (uint64_t *)f;
    *--sp = (uint64_t)trap_return;
    for (int i = 0; i < 6; i++)
        *--sp = 0; /* rbx rbp r12-r15 */
    p->ksp = (uint64_t)sp;
    p->runnable = 1;
}

/* Runs processes round-robin until none is left. */
void scheduler_run(void)
{
    for (int next = 0;; next = (next + 1) % MAX_PROCS) {
        int left = 0;
        for (int i = 0; i < MAX_PROCS; i++)
            left += procs[i].runnable;
        if (!left)
            return;
        struct process *p = &procs[next];
        if (!p->runnable)
            continue;
        current = p;
        cr3_write(p->pml4);
        set_kernel_stack((uint64_t)(p->kstack + KSTACK_SIZE));
        switch_context(&scheduler_ksp, p->ksp);
        current = 0;
        cr3_write((uint64_t)kernel_pml4);
    }
}

void yield_to_scheduler(void) { switch_context(&current->ksp, scheduler_ksp); }

static void finish(struct process *p)
{
    p->runnable = 0;
    p->done = 1;
    yield_to_scheduler();
    panic("a finished process ran again", 0);
}

void proc_kill(struct trap_frame *f, uint64_t cr2)
{
    current->killed = 1;
    current->exit_status = f->vector;
    current->fault_error = f->error;
    current->fault_cr2 = cr2;
    current->fault_rip = f->rip;
    finish(current);
}

void trap_dispatch(struct trap_frame *f)
{
    const int from_user = (f->cs & 3) == 3;
    if (f->vector >= 0x20 && f->vector < 0x30) {
        const unsigned irq = (unsigned)f->vector - 0x20;
        if (!pic_irq_is_real(irq))
            return;
        pic_eoi(irq);
        if (irq == 0) {
            kernel_ticks++;
            if (from_user) {
                current->preemptions++;
                yield_to_scheduler();
            }
        }
        return;
    }
    if (f->vector == VEC_PF) {
        const uint64_t cr2 = cr2_read();
        /* Not present in the heap: from ring 3, or the kernel reading user
         * memory for SYS_WRITE. */
        if (current && !(f->error & PF_PRESENT) && demand_zero(current, cr2))
            return;
        if (from_user)
            proc_kill(f, cr2);
        panic("page fault in the kernel", f);
    }
    if (f->vector == VEC_UD && from_user && syscall_by_ud2 && user_range_ok(f->rip, 2) &&
        ((const uint8_t *)f->rip)[0] == 0x0F && ((const uint8_t *)f->rip)[1] == 0x0B) {
        /* A patched SYSCALL (syscall=ud2): do what SYSCALL does (RCX =
         * return RIP, R11 = RFLAGS), then the call; IRETQ returns. */
        f->rip += 2;
        f->rcx = f->rip;
        f->r11 = f->rflags;
        syscall_dispatch(f);
        return;
    }
    if (from_user)
        proc_kill(f, 0);
    panic("exception in the kernel", f);
}

static uint64_t sys_write(uint64_t buf, uint64_t len)
{
    if (len > 256 || !user_range_ok(buf, len))
        return (uint64_t)-1;
    const char *s = (const char *)buf;
    for (uint64_t i = 0; i < len && current->log_len < LOG_SIZE; i++)
        current->log[current->log_len++] = s[i];
    return len;
}

uint64_t syscall_dispatch(struct trap_frame *f)
{
    const uint64_t nr = f->rax;
    if (nr < SYS_COUNT)
        current->syscalls[nr]++;
    switch (nr) {
    case SYS_WRITE:
        f->rax = sys_write(f->rdi, f->rsi);
        break;
    case SYS_GETPID:
        f->rax = (uint64_t)current->pid;
        break;
    case SYS_YIELD:
        yield_to_scheduler();
        f->rax = 0;
        break;
    case SYS_EXIT:
        current->exit_status = f->rdi;
        finish(current);
        break;
    default:
        f->rax = (uint64_t)-1;
    }
    return f->rax;
}
