/*
 * main.c - minios boot sequence and final report.
 *
 * kmain brings the machine up in the order a real kernel must (segments,
 * then interrupts, then paging, then the interrupt sources), starts four
 * ring-3 processes, idles until all have ended, then prints what each did
 * and a list of checks.  Every line printed is the same on any correct
 * PC: nothing depends on when the timer fired (README.md says why).
 */
#include "kernel.h"

struct program {
    const char *name;
    void (*entry)(uint32_t use_sysenter);
    int expect_preempted; /* long compute loops: the timer must have taken them */
};

static const struct program programs[MAX_PROCS] = {
    { "primes", user_primes, 1 },
    { "hasher", user_hasher, 1 },
    { "rogue", user_rogue, 0 },
    { "intruder", user_intruder, 0 },
};

static int checks_failed;

static void check(int ok, const char *what)
{
    kprintf("check: %s: %s\n", what, ok ? "ok" : "FAILED");
    if (!ok)
        checks_failed++;
}

static uint16_t read_cs(void)
{
    uint16_t v;
    __asm__ volatile("mov %%cs, %0" : "=r"(v));
    return v;
}

static uint16_t read_ss(void)
{
    uint16_t v;
    __asm__ volatile("mov %%ss, %0" : "=r"(v));
    return v;
}

#ifdef MINIOS_PV
static void boot_cpu_tables(void)
{
    gdt_init();
    kprintf("gdt: the monitor's GDT: kernel code 0x09 and data 0x11 (ring 1) are its own; user code 0x1b and "
            "user data 0x23 set with the update_descriptor hypercall\n");
    kprintf("gdt: a far jump reloaded CS, now GDT entry %u (kernel code); DS, ES, FS, GS and SS "
            "too, SS now entry %u (kernel data)\n",
            read_cs() >> 3, read_ss() >> 3);
    kprintf("stack: no TSS: the set_kernel_stack hypercall names the stack for events from ring 3\n");
    idt_init();
    kprintf("traps: set_trap_table: exceptions 0-31 and vectors 0x20-0x2f with events masked, "
            "INT 0x80 callable from ring 3\n");
}

static void boot_interrupt_sources(void)
{
    pit_init();
    kprintf("timer: the set_timer hypercall: a periodic event every %u us through vector 0x20 "
            "(no 8259A or 8254 to program)\n",
            PIT_DIVISOR * 1000000u / 1193182u);
    /* Events off; block turns them on and sleeps in one hypercall. */
    while (ticks == 0) {
        pv_block();
        pv_events_off();
    }
    kprintf("timer: the kernel blocked (block hypercall) until the timer event woke it\n");
}
#else
static void boot_cpu_tables(void)
{
    gdt_init();
    kprintf("gdt: own GDT loaded with LGDT: kernel code 0x08, kernel data 0x10, "
            "user code 0x1b, user data 0x23, TSS 0x28\n");
    /* Only the index: the RPL bits show the ring the kernel really runs
     * in, which a monitor that deprivileges it cannot hide (README.md). */
    kprintf("gdt: a far jump reloaded CS, now GDT entry %u (kernel code); DS, ES, FS, GS and SS "
            "too, SS now entry %u (kernel data)\n",
            read_cs() >> 3, read_ss() >> 3);
    /* Read back from the GDT, not with STR: under a trap-and-emulate
     * monitor STR shows the monitor's TR (samples/holes). */
    kprintf("tss: LTR loaded TR = 0x%02x and marked its descriptor busy (type 0x%x): the CPU takes "
            "SS0:ESP0 from it on entry from ring 3\n",
            SEL_TSS, tss_descriptor_type());
    idt_init();
    kprintf("idt: LIDT loaded 256 gates: exceptions 0-31 and IRQs 0x20-0x2f as interrupt gates, "
            "INT 0x80 as a DPL 3 trap gate\n");
}

static void boot_interrupt_sources(void)
{
    pic_init();
    kprintf("pic: 8259A pair initialised with ICW1-ICW4: IRQ 0-7 -> vectors 0x20-0x27, "
            "IRQ 8-15 -> 0x28-0x2f\n");
    pit_init();
    kprintf("pit: channel 0 in mode 2 (rate generator), divisor %u: IRQ 0 every %u us\n",
            PIT_DIVISOR, PIT_DIVISOR * 1000000u / 1193182u);
    pic_unmask(0);
    kprintf("pic: OCW1 unmasked IRQ 0 only; masks read back: master 0x%02x, slave 0x%02x\n",
            pic_read_mask(0), pic_read_mask(1));
    /* CLI; STI; HLT: the tick cannot slip in between the test and the HLT. */
    while (ticks == 0)
        __asm__ volatile("sti; hlt; cli" : : : "memory");
    kprintf("timer: the kernel halted (STI; HLT) until IRQ 0 woke it\n");
}
#endif

static void print_log(const struct process *p)
{
    const char *s = p->log, *end = p->log + p->log_len;
    while (s < end) {
        kprintf("  | ");
        while (s < end && *s != '\n')
            serial_putc(*s++);
        serial_putc('\n');
        s++;
    }
}

/* Names the instruction a fault happened at, by the labels user.c exports. */
static void print_fault_site(uint32_t eip)
{
    static const struct { const char *name; const char *addr; } labels[] = {
        { "rogue_poke_insn", rogue_poke_insn },
        { "intruder_cli_insn", intruder_cli_insn },
    };
    for (unsigned i = 0; i < sizeof labels / sizeof labels[0]; i++) {
        uint32_t at = (uint32_t)labels[i].addr;
        if (eip >= at && eip - at < 16) {
            kprintf("%s+0x%x", labels[i].name, eip - at);
            return;
        }
    }
    kprintf("0x%08x (no known label)", eip);
}

static void report(const struct process *p, const struct program *prog)
{
    if (!p->killed) {
        kprintf("pid %d \"%s\": exited with status %u\n", p->pid, p->name, p->exit_status);
    } else {
        kprintf("pid %d \"%s\": killed by %s (vector %u), error code 0x%x", p->pid, p->name,
                exception_name(p->exit_status), p->exit_status, p->fault_error);
        if (p->exit_status == VEC_PF)
            kprintf(" (%s, %s, %s mode), CR2 0x%08x", p->fault_error & PF_PRESENT ? "protection" : "not present",
                    p->fault_error & PF_WRITE ? "write" : "read",
                    p->fault_error & PF_USER ? "user" : "supervisor", p->fault_cr2);
        kprintf(", EIP ");
        print_fault_site(p->fault_eip);
        kprintf("\n");
    }
    print_log(p);
    kprintf("  kernel: system calls through INT 0x80: %u, through SYSENTER: %u\n", p->syscalls_int80,
            p->syscalls_sysenter);
    kprintf("  kernel: heap pages mapped (zero-filled) on first touch: %u\n", p->heap_pages_mapped);
    if (prog->expect_preempted)
        kprintf("  kernel: preempted by the timer at least once: %s\n", p->preemptions ? "yes" : "no");
}

static void final_checks(int sep)
{
    const struct process *primes = &procs[0], *hasher = &procs[1], *rogue = &procs[2],
                         *intruder = &procs[3];
    check(!primes->killed && primes->exit_status == 0 && primes->preemptions > 0,
          "pid 1 computed without yielding, was preempted, and exited with 0");
    check(!hasher->killed && hasher->exit_status == 0 && hasher->preemptions > 0,
          "pid 2 was preempted, slept, and exited with 0");
    check(rogue->killed && rogue->exit_status == VEC_PF &&
              rogue->fault_error == (PF_PRESENT | PF_WRITE | PF_USER) &&
              rogue->fault_eip == (uint32_t)rogue_poke_insn && rogue->fault_cr2 == 0x00100000,
          "pid 3 was killed by #PF, error 0x7, CR2 0x00100000, at rogue_poke_insn");
    check(intruder->killed && intruder->exit_status == VEC_GP && intruder->fault_error == 0 &&
              intruder->fault_eip == (uint32_t)intruder_cli_insn,
          "pid 4 was killed by #GP, error 0x0, at intruder_cli_insn");
    int both = 1;
    for (int i = 0; i < MAX_PROCS; i++)
        both = both && procs[i].syscalls_int80 > 0 && (procs[i].syscalls_sysenter > 0) == sep;
    check(both, sep ? "every process used both INT 0x80 and SYSENTER"
                    : "every process used INT 0x80 (no SYSENTER on this CPU)");
    check(primes->heap_pages_mapped == 32 && hasher->heap_pages_mapped == 2 &&
              rogue->heap_pages_mapped == 1,
          "heap pages were mapped on first touch: 32, 2 and 1");
    check(frames_in_use() == 0, "every page frame went back to the pool");
}

uint32_t kmain(uint32_t magic, uint32_t mbi_addr)
{
    (void)mbi_addr;
    serial_init();
#ifdef MINIOS_PV
    pv_init();
    kprintf("minios-pv: minios built for vtlab's pv mode: the kernel runs at ring 1 and calls the monitor "
            "(hypercalls), with four ring-3 processes\n");
#else
    kprintf("minios: a small multitasking kernel (ring 0) with four ring-3 processes\n");
#endif
    if (magic != MULTIBOOT_BOOTLOADER_MAGIC) {
        kprintf("boot: not started by a multiboot loader (EAX = 0x%08x)\n", magic);
        return MINIOS_EXIT_FAIL;
    }
    kprintf("boot: started by a multiboot loader in 32-bit protected mode, interrupts off\n");
    if ((uint32_t)__image_end > FRAME_POOL_START ||
        (uint32_t)(__user_end - __user_start) > USER_HEAP_BASE - USER_IMAGE_BASE) {
        kprintf("boot: the image does not fit the memory map in kernel.h\n");
        return MINIOS_EXIT_FAIL;
    }

    boot_cpu_tables();
    int sep = sysenter_init();
#ifdef MINIOS_PV
    kprintf("sysenter: not used under pv (the monitor has no fast system-call callback); processes use "
            "INT 0x80 only\n");
    paging_init();
    kprintf("paging: on through the monitor (tables pinned read-only, new_baseptr hypercall); kernel at "
            "0x00001000-0x003fffff, supervisor-only, page 0 unmapped\n");
#ifdef MINIOS_VIRTIO
    virtio_init();
#endif
#else
    if (sep)
        kprintf("sysenter: CPUID has SEP; IA32_SYSENTER_CS/ESP/EIP written with WRMSR\n");
    else
        kprintf("sysenter: note: CPUID has no usable SEP; processes use INT 0x80 only\n");
    paging_init();
    kprintf("paging: on (CR0.PG, CR0.WP); kernel at 0x00001000-0x003fffff, supervisor-only, "
            "page 0 unmapped\n");
#ifdef MINIOS_VIRTIO
    virtio_init(); /* before the timer starts: its lines come at the same place in every mode */
#endif
#endif
    boot_interrupt_sources();

    for (int i = 0; i < MAX_PROCS; i++) {
        struct process *p = proc_create(programs[i].name, programs[i].entry, (uint32_t)sep);
        if (!p) {
            kprintf("proc: cannot create \"%s\"\n", programs[i].name);
            return MINIOS_EXIT_FAIL;
        }
        kprintf("proc: pid %d \"%s\": own page directory, program at 0x%08x, stack below 0x%08x\n",
                p->pid, p->name, USER_IMAGE_BASE, USER_STACK_TOP);
    }
    kprintf("sched: round-robin on IRQ 0 from now on; each process enters ring 3 by IRET\n");
    kprintf("sched: (processes write to logs that are printed once all have ended)\n");
    idle_loop();
    pic_mask_all();
#ifdef MINIOS_PV
    kprintf("sched: every process has ended; set_timer stopped the timer\n");
#else
    kprintf("sched: every process has ended; OCW1 masked IRQ 0 again\n");
#endif

    for (int i = 0; i < MAX_PROCS; i++)
        report(&procs[i], &programs[i]);
    final_checks(sep);
    uint32_t code = checks_failed ? MINIOS_EXIT_FAIL : MINIOS_EXIT_OK;
#ifdef MINIOS_PV
    kprintf("minios-pv: %s; exit code 0x%02x through the shutdown hypercall\n",
            checks_failed ? "some checks FAILED" : "all checks passed", code);
#else
    kprintf("minios: %s; exit code 0x%02x through isa-debug-exit (port 0xf4)\n",
            checks_failed ? "some checks FAILED" : "all checks passed", code);
#endif
    return code;
}
