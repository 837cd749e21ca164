/*
 * pv.c - the guest side of `pv` (pv.h), linked only into the paravirtual
 * builds: the console, shutdown, the shared-info page, blocking, and the
 * hypercall batches their kernels use.
 */
#include "pv.h"

/* Page-aligned, as set_shared_info requires; the monitor writes only its first words. */
struct shared_info pv_shared __attribute__((aligned(4096)));

static char line[128];
static uint32_t line_len;

static void console_flush(void)
{
    if (line_len)
        hypercall3(HYPERVISOR_console_write, (uint32_t)line, line_len, 0);
    line_len = 0;
}

/* samples/common/guest.c leaves these to the kernel under GUEST_CONSOLE_HYPERCALL:
 * a line at a time, one hypercall each, instead of two port exits a byte. */
void serial_init(void)
{
}

void serial_putc(char c)
{
    line[line_len++] = c;
    if (c == '\n' || line_len == sizeof line)
        console_flush();
}

void debug_exit(uint32_t code)
{
    console_flush();
    hypercall3(HYPERVISOR_shutdown, code, 0, 0);
    for (;;)
        ;
}

int pv_check(int32_t result, const char *what)
{
    if (result < 0) {
        kprintf("PANIC: hypercall %s failed: %d\n", what, result);
        debug_exit(PV_EXIT_PANIC);
    }
    return result;
}

void pv_init(void)
{
    pv_check(hypercall3(HYPERVISOR_set_shared_info, (uint32_t)&pv_shared, 0, 0), "set_shared_info");
}

void pv_events_on_for_iret(void)
{
    pv_events_on();
}

void pv_block(void)
{
    hypercall3(HYPERVISOR_block, 0, 0, 0);
}

void pv_set_pte(uint32_t *pte, uint32_t val)
{
    struct mmu_update u = { (uint32_t)pte, val };
    pv_check(hypercall3(HYPERVISOR_mmu_update, (uint32_t)&u, 1, 0), "mmu_update");
}

void pv_switch_to(uint32_t *page_dir, uint32_t kernel_stack)
{
    struct mmuext_op op = { MMUEXT_NEW_BASEPTR, (uint32_t)page_dir };
    struct multicall_entry calls[2] = {
        { HYPERVISOR_mmuext_op, { (uint32_t)&op, 1, 0, 0, 0 }, 0 },
        { HYPERVISOR_set_kernel_stack, { PV_KERNEL_DS, kernel_stack, 0, 0, 0 }, 0 },
    };
    pv_check(hypercall3(HYPERVISOR_multicall, (uint32_t)calls, 2, 0), "multicall");
    pv_check(calls[0].result, "new_baseptr");
    pv_check(calls[1].result, "set_kernel_stack");
}
