/*
 * isatest.elf - self-checking x86 ISA test guest for vtlab.
 *
 * Runs in 32-bit protected mode as entered from a multiboot v1 loader.
 * Prints one PASS/FAIL line per check on COM1, then
 *     isatest: N checks, F failures
 * and exits through isa-debug-exit (port 0xF4) with code F.
 * An exception nobody asked for prints "UNEXPECTED ..." and exits with 0x7F.
 *
 * The paging checks need 32-bit (non-PAE) paging and 8 MiB of RAM.  A
 * multiboot command line containing "nopaging" skips them, for hosts that
 * cannot page outside long mode (e.g. this project's kvm_pvm host).
 */
#include "isatest.h"

unsigned g_checks, g_failures;

void checkv(const char *name, unsigned n, const struct val *v)
{
    g_checks++;
    for (unsigned i = 0; i < n; i++) {
        uint32_t m = v[i].mask ? v[i].mask : 0xFFFFFFFFu;
        if ((v[i].got & m) != (v[i].want & m)) {
            g_failures++;
            kprintf("FAIL %s%s%s got=%08x want=%08x\n", name,
                    v[i].what[0] ? "." : "", v[i].what, v[i].got & m, v[i].want & m);
            return;
        }
    }
    kprintf("PASS %s\n", name);
}

void check(const char *name, uint32_t got, uint32_t want)
{
    CHECKV(name, { "", got, want, 0 });
}

/* ---- GDT ------------------------------------------------------------------ */

#define SEL_CODE   0x08
#define SEL_DATA   0x10
#define SEL_NP     0x18 /* data segment marked not present, for #NP */

static uint64_t gdt[4] __attribute__((aligned(8))) = {
    0,                     /* null */
    0x00CF9A000000FFFFull, /* 0x08: code, base 0, limit 4 GiB, DPL 0, 32-bit */
    0x00CF92000000FFFFull, /* 0x10: data, base 0, limit 4 GiB, DPL 0, writable */
    0x00CF12000000FFFFull, /* 0x18: like 0x10 but P = 0 */
};

static void setup_gdt(void)
{
    struct desc_ptr gd = { sizeof gdt - 1, (uint32_t)(uintptr_t)gdt };
    __asm__ volatile("lgdt %0\n\t"
                     "ljmp %1, $1f\n"
                     "1:\tmovw %w2, %%ax\n\t"
                     "movw %%ax, %%ds\n\t"
                     "movw %%ax, %%es\n\t"
                     "movw %%ax, %%fs\n\t"
                     "movw %%ax, %%gs\n\t"
                     "movw %%ax, %%ss"
                     :
                     : "m"(gd), "i"(SEL_CODE), "i"(SEL_DATA)
                     : "eax", "memory");
}

static void test_descriptor_tables(void)
{
    uint32_t cs, ds, ss;
    struct desc_ptr g = { 0, 0 };

    __asm__ volatile("movl %%cs, %0\n\tmovl %%ds, %1\n\tmovl %%ss, %2"
                     : "=r"(cs), "=r"(ds), "=r"(ss));
    CHECKV("gdt_reload", { "cs", cs & 0xFFFF, SEL_CODE, 0 }, { "ds", ds & 0xFFFF, SEL_DATA, 0 },
           { "ss", ss & 0xFFFF, SEL_DATA, 0 });
    __asm__ volatile("sgdt %0" : "=m"(g));
    CHECKV("sgdt", { "base", g.base, (uint32_t)(uintptr_t)gdt, 0 },
           { "limit", g.limit, sizeof gdt - 1, 0 });
}

/* ---- IDT and exception handler ------------------------------------------- */

struct exc_frame {                  /* what isr_common leaves on the stack */
    uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax; /* PUSHAD */
    uint32_t vec, err;                               /* pushed by the stub */
    uint32_t eip, cs, eflags;                        /* pushed by the CPU */
};

extern const uint32_t isr_table[32];
static uint64_t idt[32] __attribute__((aligned(8)));

volatile uint32_t exc_armed, exc_skip, exc_vec, exc_err, exc_eip, exc_cr2, exc_count;

void exc_reset(void)
{
    exc_armed = 0;
    exc_skip = 0;
    exc_vec = 0xFFFFFFFFu;
    exc_err = 0xFFFFFFFFu;
    exc_eip = 0;
    exc_cr2 = 0;
}

void exc_handler(struct exc_frame *f);
void exc_handler(struct exc_frame *f)
{
    if (!exc_armed) {
        kprintf("UNEXPECTED exception vec=%u err=%08x eip=%08x cr2=%08x\n", f->vec, f->err,
                f->eip, read_cr2());
        kprintf("isatest: %u checks, %u failures\n", g_checks, g_failures + 1);
        debug_exit(0x7F);
    }
    exc_armed = 0;
    exc_vec = f->vec;
    exc_err = f->err;
    exc_eip = f->eip;
    exc_cr2 = f->vec == 14 ? read_cr2() : 0;
    exc_count++;
    f->eip += exc_skip; /* step over the faulting instruction */
}

static void setup_idt(void)
{
    for (unsigned i = 0; i < 32; i++) {
        uint32_t off = isr_table[i];
        /* 32-bit interrupt gate, DPL 0, present */
        idt[i] = (off & 0xFFFFu) | ((uint64_t)SEL_CODE << 16) | ((uint64_t)0x8E00 << 32) |
                 ((uint64_t)(off >> 16) << 48);
    }
    struct desc_ptr id = { sizeof idt - 1, (uint32_t)(uintptr_t)idt };
    __asm__ volatile("lidt %0" : : "m"(id) : "memory");

    struct desc_ptr r = { 0, 0 };
    __asm__ volatile("sidt %0" : "=m"(r));
    CHECKV("sidt", { "base", r.base, (uint32_t)(uintptr_t)idt, 0 },
           { "limit", r.limit, sizeof idt - 1, 0 });
}

/* ---- main ------------------------------------------------------------------ */

/* Is `word` one of the space-separated tokens of the multiboot command line?
 * (QEMU puts the kernel's file name first; whole tokens keep a path such as
 * /tmp/nopaging/isatest.elf from matching.) */
static int cmdline_has(const struct multiboot_info *mbi, const char *word)
{
    if (!(mbi->flags & MULTIBOOT_INFO_CMDLINE) || !mbi->cmdline)
        return 0;
    const char *s = (const char *)(uintptr_t)mbi->cmdline;
    size_t n = strlen(word);
    while (*s) {
        while (*s == ' ')
            s++;
        size_t len = 0;
        while (s[len] && s[len] != ' ')
            len++;
        if (len == n && memcmp(s, word, n) == 0)
            return 1;
        s += len;
    }
    return 0;
}

uint32_t kmain(uint32_t magic, uint32_t mbi_addr)
{
    serial_init();
    exc_reset();
    setup_gdt();
    setup_idt();

    const struct multiboot_info *mbi = (const struct multiboot_info *)(uintptr_t)mbi_addr;
    check("boot_magic", magic, MULTIBOOT_BOOTLOADER_MAGIC);
    /* the paging tests use physical memory up to 8 MiB */
    check("boot_mem_upper", (mbi->flags & MULTIBOOT_INFO_MEMORY) && mbi->mem_upper >= 7 * 1024, 1);
    test_descriptor_tables();

    test_alu();
    test_shift();
    test_muldiv();
    test_bcd();
    test_bits();
    test_string();
    test_stack();
    test_move();
    test_cond();
    test_flow();
    test_exceptions();
    if (!cmdline_has(mbi, "nopaging"))
        test_paging();

    kprintf("isatest: %u checks, %u failures\n", g_checks, g_failures);
    return g_failures;
}
