/*
 * trap.c - where every interrupt, exception and system call lands:
 * trap_dispatch() gets the frame entry.S built and sends it on.
 *
 *   IRQ 0                  the timer: proc.c
 *   other IRQs             not unmasked; a spurious 7/15 is recognised
 *   INT 0x80, SYSENTER     system calls (syscall.h)
 *   #PF                    heap pages on first touch; else like any fault
 *   any fault in ring 3    kills that process only
 *   any fault in ring 0    a kernel bug: panic
 */
#include "kernel.h"

#define MAX_WRITE 256u

static const char *const exception_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "(9)",  "#TS", "#NP",
    "#SS", "#GP", "#PF", "(15)", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

const char *exception_name(uint32_t vector)
{
    if (vector < 32 && exception_names[vector])
        return exception_names[vector];
    return "(reserved)";
}

void panic(const char *what, const struct trap_frame *f)
{
#ifdef MINIOS_PV
    pv_events_off();
    kprintf("PANIC: %s\n", what);
    if (f)
        kprintf("PANIC: vector %u error %x at %x:%x, CR2 %x, pid %d\n", f->vector, f->error, f->cs,
                f->eip, pv_shared.cr2, current->pid);
#else
    __asm__ volatile("cli");
    kprintf("PANIC: %s\n", what);
    if (f)
        kprintf("PANIC: vector %u error %x at %x:%x, CR2 %x, pid %d\n", f->vector, f->error, f->cs,
                f->eip, read_cr2(), current->pid);
#endif
    debug_exit(MINIOS_EXIT_PANIC);
}

static uint32_t sys_write(struct trap_frame *f)
{
    uint32_t addr = f->ebx, len = f->esi;
    if (len > MAX_WRITE || !user_range_ok(current->page_dir, addr, len))
        return SYS_ERROR;
    /* Through the process's own mapping: CR3 is its page directory. */
    proc_log(current, (const char *)addr, len);
    return len;
}

static void system_call(struct trap_frame *f)
{
    if (f->vector == VEC_SYSENTER)
        current->syscalls_sysenter++;
    else
        current->syscalls_int80++;

    uint32_t result = SYS_ERROR;
    switch (f->eax) {
    case SYS_WRITE:
        result = sys_write(f);
        break;
    case SYS_GETPID:
        result = (uint32_t)current->pid;
        break;
    case SYS_EXIT:
        proc_exit(f->ebx);
        break;
    case SYS_SLEEP:
        proc_sleep(f->ebx > 100 ? 100 : f->ebx);
        result = 0;
        break;
    case SYS_HEAP_RELEASE:
        result = heap_release(current, f->ebx) ? 0 : SYS_ERROR;
        break;
    }
    f->eax = result;
}

/* Interrupt gate: IF is still 0, so CR2 still belongs to this fault. */
static void page_fault(struct trap_frame *f)
{
#ifdef MINIOS_PV
    uint32_t cr2 = pv_shared.cr2; /* the monitor puts it in the shared-info page */
#else
    uint32_t cr2 = read_cr2();
#endif
    int has_user_space = current->pid != 0;
    if (!(f->error & PF_PRESENT) && has_user_space && heap_demand_map(current, cr2))
        return; /* the faulting instruction runs again and succeeds */
    if (from_user(f))
        proc_kill(f, cr2);
    panic("page fault in the kernel", f);
}

void trap_dispatch(struct trap_frame *f)
{
    uint32_t v = f->vector;
    if (v == VEC_TIMER) {
        timer_interrupt(f);
    } else if (v > VEC_TIMER && v < VEC_IRQ_BASE + 16) {
        unsigned irq = v - VEC_IRQ_BASE;
        if (pic_irq_is_real(irq))
            pic_eoi(irq); /* masked, so unexpected: acknowledge and ignore */
    } else if (v == VEC_SYSCALL || v == VEC_SYSENTER) {
        system_call(f);
    } else if (v == VEC_PF) {
        page_fault(f);
    } else if (from_user(f)) {
        proc_kill(f, 0);
    } else {
        panic("exception in the kernel", f);
    }
}
