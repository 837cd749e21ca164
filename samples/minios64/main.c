/*
 * minios64 kmain: the boot sequence, the three processes, the report and
 * the checks (README.md).  Output that depends on timing (tick counts,
 * which process ran when) is never printed: processes write to logs that
 * are printed in pid order once all have ended.
 */
#include "kernel.h"

#define EXIT_OK 0x21
#define EXIT_CHECK_FAILED 0x2F
#define EXIT_PANIC 0x3E

int kernel_fits(void);
uint64_t gdt_entry(int i);

/* An absolute address of a user-image symbol: the image is linked above
 * 4 GiB, out of reach of RIP-relative and 32-bit references. */
#define USER_ADDR(sym)                                         \
    ({                                                         \
        uint64_t a_;                                           \
        __asm__("movabsq $" #sym ", %0" : "=r"(a_));           \
        a_;                                                    \
    })

static int failed_checks;

static void check(int ok, const char *what)
{
    kprintf("check: %s: %s\n", what, ok ? "ok" : "FAILED");
    failed_checks += !ok;
}

void print_hex64(uint64_t v) { kprintf("0x%08x%08x", (uint32_t)(v >> 32), (uint32_t)v); }

void panic(const char *what, const struct trap_frame *f)
{
    kprintf("PANIC: %s", what);
    if (f) {
        kprintf(" (vector %u, error 0x%x, RIP ", (uint32_t)f->vector, (uint32_t)f->error);
        print_hex64(f->rip);
        kprintf(", CR2 ");
        print_hex64(cr2_read());
        kprintf(")");
    }
    kprintf("\n");
    debug_exit(EXIT_PANIC);
}

/* True when the multiboot command line holds `word` as a whole token. */
static int cmdline_has(uint32_t mbi, const char *word)
{
    const struct multiboot_info *info = (const struct multiboot_info *)(uintptr_t)mbi;
    if (!(info->flags & MULTIBOOT_INFO_CMDLINE))
        return 0;
    const size_t n = strlen(word);
    for (const char *c = (const char *)(uintptr_t)info->cmdline; *c; c++) {
        if ((c == (const char *)(uintptr_t)info->cmdline || c[-1] == ' ') && memcmp(c, word, n) == 0 &&
            (c[n] == 0 || c[n] == ' '))
            return 1;
    }
    return 0;
}

/* Debug console (port 0xE9): notes that must not change the serial transcript. */
static void debugcon_puts(const char *s)
{
    while (*s)
        outb(0xE9, (uint8_t)*s++);
}

/* Every SYSCALL (0F 05) in the user image becomes UD2 (0F 0B), the same
 * length: ring 3 then enters the kernel through #UD with the call number
 * in RAX, and trap_dispatch runs the call (proc.c).  The sites come from
 * .syscall_sites (user.c); the kernel writes them through its identity
 * map, where the user image's frames lie at __user_phys. */
extern const uint64_t __syscall_sites_start[], __syscall_sites_end[];
extern uint8_t __user_phys[];
static void patch_syscalls_to_ud2(void)
{
    for (const uint64_t *site = __syscall_sites_start; site < __syscall_sites_end; site++) {
        uint8_t *insn = __user_phys + (*site - USER_IMAGE);
        if (insn[0] == 0x0F && insn[1] == 0x05)
            insn[1] = 0x0B;
    }
    syscall_by_ud2 = 1;
    debugcon_puts("minios64: syscall=ud2: every SYSCALL in the user image is now UD2; #UD from ring 3 "
                  "runs the system call and returns by IRETQ\n");
}

static void boot_report(void)
{
    uint64_t cs, ss, cr0, cr4;
    uint16_t tr;
    __asm__ volatile("mov %%cs, %0; mov %%ss, %1; mov %%cr0, %2; mov %%cr4, %3; str %4"
                     : "=r"(cs), "=r"(ss), "=r"(cr0), "=r"(cr4), "=r"(tr));
    const uint64_t efer = rdmsr64(0xC0000080u);
    kprintf("long mode: EFER.LME and CR0.PG set from 32-bit code, EFER.LMA reads %u; CR4.PAE %u, "
            "CR0.WP %u\n",
            (uint32_t)(efer >> 10) & 1, (uint32_t)(cr4 >> 5) & 1, (uint32_t)(cr0 >> 16) & 1);
    kprintf("gdt: own GDT: kernel code 0x08 (L=1), kernel data 0x10, user data 0x23, user code 0x2b "
            "(L=1), TSS 0x30 (16 bytes)\n");
    kprintf("gdt: LRETQ reloaded CS, now GDT entry %u; SS now entry %u\n", (uint32_t)(cs >> 3),
            (uint32_t)(ss >> 3));
    kprintf("tss: LTR loaded TR = 0x%02x, descriptor type now 0x%x (busy): RSP0 for entries from "
            "ring 3, IST1 for #DF\n",
            tr, (uint32_t)(gdt_entry(6) >> 40) & 0xF);
    kprintf("idt: LIDT loaded 256 16-byte gates: exceptions 0-31 and IRQs 0x20-0x2f as 64-bit "
            "interrupt gates, #DF on IST1\n");
    kprintf("syscall: EFER.SCE %u; STAR 0x%08x%08x, LSTAR = syscall_entry, SFMASK 0x%x\n",
            (uint32_t)(rdmsr64(0xC0000080u) & 1), (uint32_t)(rdmsr64(0xC0000081u) >> 32),
            (uint32_t)rdmsr64(0xC0000081u), (uint32_t)rdmsr64(0xC0000084u));
}

static void report(const struct process *p)
{
    kprintf("pid %d \"%s\": ", p->pid, p->name);
    if (!p->killed) {
        kprintf("exited with status %u\n", (uint32_t)p->exit_status);
    } else {
        kprintf("killed by vector %u, error code 0x%x (%s, %s, %s mode), CR2 ",
                (uint32_t)p->exit_status, (uint32_t)p->fault_error,
                p->fault_error & PF_PRESENT ? "protection" : "not present",
                p->fault_error & PF_WRITE ? "write" : "read", p->fault_error & PF_USER ? "user" : "supervisor");
        print_hex64(p->fault_cr2);
        const uint64_t at = USER_ADDR(rogue_read_insn);
        if (p->fault_rip >= at && p->fault_rip - at < 16)
            kprintf(", RIP rogue_read_insn+0x%x\n", (uint32_t)(p->fault_rip - at));
        else
            kprintf(", RIP not at a known label\n");
    }
    for (unsigned i = 0; i < p->log_len;) {
        kprintf("  | ");
        while (i < p->log_len && p->log[i] != '\n')
            serial_putc(p->log[i++]);
        i++;
        kprintf("\n");
    }
    kprintf("  kernel: system calls: write %u, getpid %u, yield %u, exit %u\n", p->syscalls[SYS_WRITE],
            p->syscalls[SYS_GETPID], p->syscalls[SYS_YIELD], p->syscalls[SYS_EXIT]);
    kprintf("  kernel: heap pages mapped (zero-filled) on first touch: %u\n", p->heap_pages);
    if (p->pid == 1)
        kprintf("  kernel: preempted by the timer at least once: %s\n", p->preemptions ? "yes" : "no");
}

uint32_t kmain(uint32_t magic, uint32_t mbi)
{
    serial_init();
    kprintf("minios64: a small 64-bit kernel (ring 0) with three ring-3 processes\n");
    if (magic != MULTIBOOT_BOOTLOADER_MAGIC) {
        kprintf("boot: not started by a multiboot loader (EAX = 0x%08x)\n", magic);
        return EXIT_PANIC;
    }
    if (!kernel_fits()) {
        kprintf("boot: the image overlaps the frame pool\n");
        return EXIT_PANIC;
    }
    kprintf("boot: started by a multiboot loader in 32-bit protected mode\n");
    gdt_tss_idt_init();
    syscall_msrs_init();
    boot_report();
    /* syscall=ud2, for hosts whose SYSCALL does not reach this kernel (a
     * software KVM, docs/KVM.md): the same transcript. */
    if (cmdline_has(mbi, "syscall=ud2"))
        patch_syscalls_to_ud2();
    kprintf("paging: 4 levels; kernel at 0x1000-0x3fffffff identity, supervisor-only, page 0 "
            "unmapped; each process gets its own PML4 sharing entry 0\n");
    pic_init();
    pit_init();
    pic_unmask(0);
    kprintf("pic: IRQ 0-15 -> vectors 0x20-0x2f, only IRQ 0 unmasked (masks 0x%02x 0x%02x); pit: "
            "mode 2, divisor %u\n",
            pic_read_mask(0), pic_read_mask(1), PIT_DIVISOR);
    __asm__ volatile("sti; hlt; cli");
    kprintf("timer: the kernel halted (STI; HLT) until IRQ 0 woke it\n");

    proc_create(1, "sieve", (void (*)(void))USER_ADDR(user_sieve));
    proc_create(2, "ping", (void (*)(void))USER_ADDR(user_ping));
    proc_create(3, "rogue", (void (*)(void))USER_ADDR(user_rogue));
    for (int i = 0; i < MAX_PROCS; i++)
        kprintf("proc: pid %d \"%s\": own PML4, program at 0x%08x%08x, stack below 0x%08x%08x\n",
                procs[i].pid, procs[i].name, (uint32_t)(USER_IMAGE >> 32), (uint32_t)USER_IMAGE,
                (uint32_t)(USER_STACK_TOP >> 32), (uint32_t)USER_STACK_TOP);
    kprintf("sched: round-robin, IRQ 0 preempts ring 3; processes enter ring 3 by IRETQ, "
            "system calls return by SYSRETQ\n");
    scheduler_run();
    pic_mask_all();
    kprintf("sched: every process has ended; IRQ 0 masked again\n");
    for (int i = 0; i < MAX_PROCS; i++)
        report(&procs[i]);

    const struct process *sieve = &procs[0], *ping = &procs[1], *rogue = &procs[2];
    check(!sieve->killed && sieve->exit_status == 0 && sieve->preemptions > 0 &&
              sieve->syscalls[SYS_YIELD] == 0,
          "pid 1 never yielded, was preempted by the timer, and exited with 0");
    check(!ping->killed && ping->exit_status == 2 && ping->syscalls[SYS_YIELD] == 3,
          "pid 2 yielded 3 times and exited with 2");
    check(rogue->killed && rogue->exit_status == VEC_PF &&
              rogue->fault_error == (PF_PRESENT | PF_USER) && rogue->fault_cr2 == 0x100000 &&
              rogue->fault_rip == USER_ADDR(rogue_read_insn),
          "pid 3 was killed by #PF, error 0x5, CR2 0x100000, at rogue_read_insn");
    check(sieve->heap_pages == 16 && ping->heap_pages == 1 && rogue->heap_pages == 0,
          "heap pages were mapped on first touch: 16, 1 and 0");
    const uint32_t code = failed_checks ? EXIT_CHECK_FAILED : EXIT_OK;
    kprintf("minios64: %s, exit code 0x%x\n", failed_checks ? "a check FAILED" : "all checks passed", code);
    return code;
}
