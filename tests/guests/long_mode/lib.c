/*
 * long_mode reporting: COM1 output (polls LSR.THRE, no init), one line per
 * check, the summary and isa-debug-exit (port 0xF4).
 */
#include "lm.h"

#define COM1 0x3F8

static unsigned checks, failed;

static void putc_(char c) {
    while (!(lm_inb(COM1 + 5) & 0x20)) {
    }
    lm_outb(COM1, (u8)c);
}

void puts_(const char *s) {
    while (*s) putc_(*s++);
}

void put_hex(u64 v) {
    static const char digits[] = "0123456789abcdef";
    char buf[19];
    int n = 0;
    do {
        buf[n++] = digits[v & 0xF];
        v >>= 4;
    } while (v);
    puts_("0x");
    while (n) putc_(buf[--n]);
}

static void put_dec(unsigned v) {
    char buf[12];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) putc_(buf[--n]);
}

static void pass(const char *name, const char *suffix) {
    checks++;
    puts_("PASS ");
    puts_(name);
    puts_(suffix);
    puts_("\n");
}

static void fail_head(const char *name, const char *suffix) {
    checks++;
    failed++;
    puts_("FAIL ");
    puts_(name);
    puts_(suffix);
    puts_(": got ");
}

void check_eq(const char *name, u64 got, u64 want) { check_eq_sfx(name, "", got, want); }

void check_eq_sfx(const char *name, const char *suffix, u64 got, u64 want) {
    if (got == want) {
        pass(name, suffix);
        return;
    }
    fail_head(name, suffix);
    put_hex(got);
    puts_(" want ");
    put_hex(want);
    puts_("\n");
}

static const char *const mnemonic[32] = {
    "DE", "DB", "NMI", "BP", "OF", "BR", "UD", "NM", "DF", "09", "TS", "NP", "SS", "GP", "PF", "15",
    "MF", "AC", "MC", "XM", "VE", "CP", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31"};

static int has_error_code(int v) { return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21; }

static void put_event(int v, u64 err) {
    if (v < 0 || v > 31) {
        puts_(v == NO_FAULT ? "no exception" : "vector?");
        return;
    }
    puts_("#");
    puts_(mnemonic[v]);
    if (has_error_code(v)) {
        puts_("(");
        put_hex(err);
        puts_(")");
    }
}

/* err is compared only for vectors that push one. */
void check_fault(const char *name, const struct fault *f, int vector, u64 error) {
    const int got = (int)f->vector;
    if (got == vector && (!has_error_code(vector) || f->error == error)) {
        pass(name, "");
        return;
    }
    fail_head(name, "");
    put_event(got, f->error);
    puts_(" want ");
    put_event(vector, error);
    puts_("\n");
}

void lm_exit(u8 code) {
    lm_outl(0xF4, code);
    for (;;) __asm__ volatile("cli; hlt");
}

void lm_finish(void) {
    puts_("SUMMARY: ");
    put_dec(checks);
    puts_(" checks, ");
    put_dec(checks - failed);
    puts_(" passed, ");
    put_dec(failed);
    puts_(" failed\n");
    lm_exit(failed ? EXIT_FAIL : EXIT_PASS);
}

void unexpected(u64 vector, u64 error, u64 rip, u64 cs) {
    puts_("UNEXPECTED ");
    put_event((int)vector, error);
    puts_(" at ");
    put_hex(cs);
    puts_(":");
    put_hex(rip);
    puts_("\n");
    lm_exit(EXIT_UNEXPECTED);
}

/* A whole word of the multiboot command line (MBI flag bit 2). */
int cmdline_has(const char *word) {
    const u32 *mbi = (const u32 *)(u64)mb_info;
    if (mb_magic != 0x2BADB002u || !(mbi[0] & 4)) return 0;
    const char *p = (const char *)(u64)mbi[4];
    while (*p) {
        while (*p == ' ') p++;
        const char *w = word;
        const char *q = p;
        while (*w && *q == *w) q++, w++;
        if (!*w && (*q == ' ' || !*q)) return 1;
        while (*p && *p != ' ') p++;
    }
    return 0;
}
