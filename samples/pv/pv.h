/*
 * pv.h - the guest side of vtlab's `pv` mode, shared by the paravirtual
 * builds of the samples (minios-pv, micro-pv): the hypercalls, the
 * shared-info page, and what a kernel does instead of CLI, STI, HLT and a
 * page-table write (docs/HYPERCALLS.md has the ABI; vtlab's copy of the
 * numbers is privilege/pv_abi.h).  Native builds never include it.
 *
 * A hypercall is INT 0x82 from ring 1: number in EAX, arguments in EBX,
 * ECX, EDX, result in EAX (negative: an errno-style error).
 */
#ifndef GUEST_PV_H
#define GUEST_PV_H

#include "guest.h"

#define HYPERVISOR_console_write     0
#define HYPERVISOR_set_trap_table    1
#define HYPERVISOR_mmu_update        2
#define HYPERVISOR_mmuext_op         3
#define HYPERVISOR_set_kernel_stack  4
#define HYPERVISOR_update_descriptor 5
#define HYPERVISOR_set_timer         6
#define HYPERVISOR_block             7
#define HYPERVISOR_yield             8
#define HYPERVISOR_shutdown          9
#define HYPERVISOR_multicall         10
#define HYPERVISOR_set_shared_info   11

#define MMUEXT_PIN_L1      0
#define MMUEXT_PIN_L2      1
#define MMUEXT_UNPIN       2
#define MMUEXT_NEW_BASEPTR 3

#define TRAP_CLEARS_IF 4 /* trap_info.flags: deliver with events masked (an interrupt gate) */

/* The monitor's ring-1 kernel segments (GDT entries 1 and 2, RPL 1). */
#define PV_KERNEL_CS 0x09
#define PV_KERNEL_DS 0x11
#define PV_EXIT_PANIC 0x3E /* debug_exit code of a failed hypercall */

struct trap_info { uint8_t vector, flags; uint16_t cs; uint32_t address; };
struct mmu_update { uint32_t ptr, val; };
struct mmuext_op { uint32_t cmd, arg; };
struct multicall_entry { uint32_t op; uint32_t args[5]; int32_t result; };

/* The shared-info page: the virtual IF, the pending-event flag, CR2. */
struct shared_info {
    volatile uint32_t events_enabled;
    volatile uint32_t pending;
    volatile uint32_t cr2;
};
extern struct shared_info pv_shared;

static inline int32_t hypercall3(uint32_t nr, uint32_t a, uint32_t b, uint32_t c)
{
    int32_t r;
    __asm__ volatile("int $0x82" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
    return r;
}

/* CLI and STI: memory writes; an event that came while they were off is
 * taken with one hypercall. */
static inline void pv_events_off(void)
{
    pv_shared.events_enabled = 0;
    __asm__ volatile("" : : : "memory");
}

static inline void pv_events_on(void)
{
    pv_shared.events_enabled = 1;
    __asm__ volatile("" : : : "memory");
    if (pv_shared.pending)
        hypercall3(HYPERVISOR_yield, 0, 0, 0);
}

void pv_init(void);                 /* shared info; before anything else */
void pv_events_on_for_iret(void);   /* entry.S: the frame being returned to had IF set */
void pv_block(void);                /* STI; HLT */
void pv_set_pte(uint32_t *pte, uint32_t val); /* one validated page-table write */
void pv_switch_to(uint32_t *page_dir, uint32_t kernel_stack); /* CR3 and the ring-3 event stack */
int pv_check(int32_t result, const char *what); /* a failed hypercall ends the run (PV_EXIT_PANIC) */

#endif /* GUEST_PV_H */
