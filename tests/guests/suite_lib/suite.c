/*
 * suite_lib: tables, serial output, reporting and exit for the guest suites.
 * The API is described in suite.h.  Serial: COM1 at 0x3F8, not initialised
 * (QEMU and vtlab need no setup), LSR.THRE polled before each byte.  Exit:
 * a byte to QEMU's isa-debug-exit at 0xF4.
 */
#include <stdarg.h>

#include "suite.h"

u64 suite_gdt[GDT_ENTRIES] __attribute__((aligned(8)));
u64 suite_idt[256] __attribute__((aligned(8)));
struct suite_tss suite_tss __attribute__((aligned(16)));

extern const u32 suite_exc_stubs[32];
extern void suite_return_stub(void);

/* copied at start: suites may overwrite low and high free memory */
static char cmdline[256];
static unsigned checks, failures;

/* ------------------------------------------------------------------ */
/* output */

static void serial_putc(char c)
{
    while (!(inb(0x3FD) & 0x20)) {
    }
    outb(0x3F8, (u8)c);
}

static void put_str(const char *s)
{
    while (*s)
        serial_putc(*s++);
}

static void put_num(u32 v, unsigned base, int upper, int width, char pad, int neg)
{
    char buf[12];
    int n = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        buf[n++] = digits[v % base];
        v /= base;
    } while (v);
    if (neg)
        buf[n++] = '-';
    while (width-- > n)
        serial_putc(pad);
    while (n)
        serial_putc(buf[--n]);
}

static void vprint(const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            serial_putc(*fmt);
            continue;
        }
        char pad = ' ';
        int width = 0;
        if (*++fmt == '0')
            pad = *fmt++;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        switch (*fmt) {
        case 's': put_str(va_arg(ap, const char *)); break;
        case 'c': serial_putc((char)va_arg(ap, int)); break;
        case 'u': put_num(va_arg(ap, u32), 10, 0, width, pad, 0); break;
        case 'x': put_num(va_arg(ap, u32), 16, 0, width, pad, 0); break;
        case 'X': put_num(va_arg(ap, u32), 16, 1, width, pad, 0); break;
        case 'd': {
            int v = va_arg(ap, int);
            put_num(v < 0 ? -(u32)v : (u32)v, 10, 0, width, pad, v < 0);
            break;
        }
        case '%': serial_putc('%'); break;
        default: serial_putc('?'); break;
        }
    }
}

void suite_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprint(fmt, ap);
    va_end(ap);
}

void suite_exit(u8 code)
{
    outb(0xF4, code);
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* ------------------------------------------------------------------ */
/* reporting */

static const char *const vec_names[32] = {
    "DE", "DB", "NMI", "BP", "OF", "BR", "UD", "NM", "DF", "09", "TS", "NP", "SS", "GP", "PF", "0F",
    "MF", "AC", "MC", "XM", "VE", "CP", "16", "17", "18", "19", "1A", "1B", "1C", "1D", "1E", "1F"};

static int has_error_code(int v)
{
    return v == DF || (v >= TS && v <= PF) || v == AC || v == 21 || v == 29 || v == 30;
}

static void put_event(int v, u32 err)
{
    if (v == NO_FAULT)
        put_str("no exception");
    else if (v < 0 || v > 31)
        suite_printf("vector %d", v);
    else if (has_error_code(v))
        suite_printf("#%s(0x%04x)", vec_names[v], err);
    else
        suite_printf("#%s", vec_names[v]);
}

void suite_unexpected(u32 vector, u32 error, u32 eip, u32 cs)
{
    put_str("UNEXPECTED ");
    put_event(vector < 32 ? (int)vector : 32, error);
    suite_printf(" vector 0x%02x at %04x:%08x\n", vector, cs & 0xFFFF, eip);
    suite_exit(SUITE_EXIT_UNEXPECTED);
}

static void report(const char *name, int ok)
{
    checks++;
    if (ok) {
        suite_printf("PASS %s\n", name);
    } else {
        failures++;
        suite_printf("FAIL %s: ", name);
    }
}

void check(const char *name, int ok, const char *fmt, ...)
{
    report(name, ok);
    if (ok)
        return;
    va_list ap;
    va_start(ap, fmt);
    vprint(fmt, ap);
    va_end(ap);
    serial_putc('\n');
}

void check_eq(const char *name, u32 got, u32 want)
{
    check(name, got == want, "got 0x%x want 0x%x", got, want);
}

void check_fault(const char *name, const struct fault *f, int vector, u32 error)
{
    int ok = f->vector == vector && (!has_error_code(vector) || f->error == error);
    report(name, ok);
    if (ok)
        return;
    put_str("got ");
    put_event(f->vector, f->error);
    put_str(" want ");
    put_event(vector, error);
    serial_putc('\n');
}

void suite_finish(void)
{
    suite_printf("SUMMARY: %u checks, %u passed, %u failed\n", checks, checks - failures, failures);
    suite_exit(failures ? SUITE_EXIT_FAIL : SUITE_EXIT_PASS);
}

int cmdline_has(const char *word)
{
    const char *p = cmdline;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *w = word;
        while (*w && *p == *w) {
            p++;
            w++;
        }
        if (!*w && (*p == ' ' || !*p))
            return 1;
        while (*p && *p != ' ')
            p++;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* descriptors */

u64 make_desc(u32 base, u32 limit, u8 access, u8 flags)
{
    u32 lo = (limit & 0xFFFF) | (base << 16);
    u32 hi = ((base >> 16) & 0xFF) | ((u32)access << 8) | (limit & 0xF0000) |
             ((u32)(flags & 0xF) << 20) | (base & 0xFF000000);
    return ((u64)hi << 32) | lo;
}

void set_gdt_entry(int index, u32 base, u32 limit, u8 access, u8 flags)
{
    suite_gdt[index] = make_desc(base, limit, access, flags);
}

u64 make_gate(u16 selector, u32 offset, u8 type_attr)
{
    u32 lo = (offset & 0xFFFF) | ((u32)selector << 16);
    u32 hi = (offset & 0xFFFF0000) | ((u32)type_attr << 8);
    return ((u64)hi << 32) | lo;
}

void set_idt_gate(int vector, u16 selector, u32 offset, u8 type_attr)
{
    suite_idt[vector] = make_gate(selector, offset, type_attr);
}

/* ------------------------------------------------------------------ */
/* start */

void suite_lib_start(u32 magic, const u32 *mbi)
{
    if (magic == 0x2BADB002 && (mbi[0] & 4)) {
        const char *src = (const char *)mbi[4];
        for (unsigned i = 0; i < sizeof(cmdline) - 1 && src[i]; i++)
            cmdline[i] = src[i];
    }

    set_gdt_entry(1, 0, 0xFFFFF, ACC_CODE_RX, FLG_G | FLG_DB);
    set_gdt_entry(2, 0, 0xFFFFF, ACC_DATA_RW, FLG_G | FLG_DB);
    set_gdt_entry(3, 0, 0xFFFFF, ACC_CODE_RX | ACC_DPL(3), FLG_G | FLG_DB);
    set_gdt_entry(4, 0, 0xFFFFF, ACC_DATA_RW | ACC_DPL(3), FLG_G | FLG_DB);
    set_gdt_entry(5, (u32)&suite_tss, sizeof(suite_tss) - 1, ACC_TSS32, 0);
    suite_tss.t.ss0 = KDATA;
    suite_tss.t.esp0 = (u32)suite_trap_stack_top;
    suite_tss.t.iomap_base = sizeof(struct tss32);
    for (unsigned i = 0; i < sizeof(suite_tss.iomap); i++)
        suite_tss.iomap[i] = 0xFF;

    for (int v = 0; v < 32; v++)
        set_idt_gate(v, KCODE, suite_exc_stubs[v], GATE_INT32);
    set_idt_gate(SUITE_VEC_RETURN, KCODE, (u32)suite_return_stub, GATE_INT32 | ACC_DPL(3));

    struct dtr gdtr = {GDT_ENTRIES * 8 - 1, (u32)suite_gdt};
    struct dtr idtr = {256 * 8 - 1, (u32)suite_idt};
    __asm__ volatile(
        "lgdt %0\n"
        "lidt %1\n"
        "ljmp $0x08, $1f\n"
        "1: movw $0x10, %%ax\n"
        "movw %%ax, %%ds\n"
        "movw %%ax, %%es\n"
        "movw %%ax, %%fs\n"
        "movw %%ax, %%gs\n"
        "movw %%ax, %%ss\n"
        "xorl %%eax, %%eax\n"
        "lldt %%ax\n"
        "movw $0x28, %%ax\n"
        "ltr %%ax\n"
        :
        : "m"(gdtr), "m"(idtr)
        : "eax", "memory");

    suite_main();
    suite_finish();
}
