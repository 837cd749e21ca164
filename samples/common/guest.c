/*
 * guest.c - serial console, printf-like formatter, debug exit and the
 * handful of memory/string routines gcc may emit calls to.
 */
#include "guest.h"

/* 16550 register offsets from the base port */
enum {
    UART_DATA = 0, /* RBR/THR, or divisor latch low when DLAB = 1 */
    UART_IER = 1,  /* interrupt enable, or divisor latch high when DLAB = 1 */
    UART_FCR = 2,  /* FIFO control (write) */
    UART_LCR = 3,  /* line control */
    UART_MCR = 4,  /* modem control */
    UART_LSR = 5,  /* line status */
};

#define LSR_THR_EMPTY 0x20
#define LCR_DLAB      0x80
#define LCR_8N1       0x03

#ifndef GUEST_CONSOLE_HYPERCALL /* else the kernel provides these three (a paravirtual console) */
void serial_init(void)
{
    outb(COM1_PORT + UART_IER, 0x00);     /* no interrupts: we poll */
    outb(COM1_PORT + UART_LCR, LCR_DLAB); /* expose the divisor latch */
    outb(COM1_PORT + UART_DATA, 0x01);    /* divisor 1 = 115200 baud */
    outb(COM1_PORT + UART_IER, 0x00);
    outb(COM1_PORT + UART_LCR, LCR_8N1);  /* 8 data bits, no parity, 1 stop */
    outb(COM1_PORT + UART_FCR, 0x07);     /* enable and clear both FIFOs */
    outb(COM1_PORT + UART_MCR, 0x03);     /* DTR | RTS */
}

void serial_putc(char c)
{
    while (!(inb(COM1_PORT + UART_LSR) & LSR_THR_EMPTY))
        ;
    outb(COM1_PORT + UART_DATA, (uint8_t)c);
}

#endif

void serial_puts(const char *s)
{
    while (*s)
        serial_putc(*s++);
}

#ifndef GUEST_CONSOLE_HYPERCALL
void debug_exit(uint32_t code)
{
    outl(DEBUG_EXIT_PORT, code);
    for (;;)
        __asm__ volatile("cli; hlt");
}
#endif

/* ---- formatter -------------------------------------------------------------
 * Supports %s %c %d %i %u %x %X %p %% with an optional '-' or '0' flag, a
 * field width and a (ignored) 'l' length modifier.  Output goes to COM1. */

struct fmt_spec {
    int left;   /* '-' flag */
    char pad;   /* ' ' or '0' */
    int width;
};

static int put_padded(const char *s, int len, const struct fmt_spec *sp)
{
    int n = 0;
    int fill = sp->width > len ? sp->width - len : 0;

    if (!sp->left) {
        /* zero padding goes after a sign */
        if (sp->pad == '0' && len > 0 && *s == '-') {
            serial_putc(*s++);
            len--;
            n++;
        }
        for (; fill > 0; fill--, n++)
            serial_putc(sp->pad);
    }
    for (int i = 0; i < len; i++, n++)
        serial_putc(s[i]);
    for (; fill > 0; fill--, n++)
        serial_putc(' ');
    return n;
}

static int put_number(uint32_t v, unsigned base, int negative, int upper,
                      const struct fmt_spec *sp)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char buf[12];
    int i = (int)sizeof buf;

    do {
        buf[--i] = digits[v % base];
        v /= base;
    } while (v);
    if (negative)
        buf[--i] = '-';
    return put_padded(buf + i, (int)sizeof buf - i, sp);
}

int kvprintf(const char *fmt, va_list ap)
{
    int n = 0;

    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            serial_putc(*fmt);
            n++;
            continue;
        }
        struct fmt_spec sp = { 0, ' ', 0 };
        fmt++;
        for (;; fmt++) {
            if (*fmt == '-')
                sp.left = 1;
            else if (*fmt == '0')
                sp.pad = '0';
            else
                break;
        }
        if (sp.left)
            sp.pad = ' ';
        while (*fmt >= '0' && *fmt <= '9')
            sp.width = sp.width * 10 + (*fmt++ - '0');
        while (*fmt == 'l')
            fmt++;

        switch (*fmt) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            n += put_padded(s, (int)strlen(s), &sp);
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            n += put_padded(&c, 1, &sp);
            break;
        }
        case 'd':
        case 'i': {
            int32_t v = va_arg(ap, int32_t);
            uint32_t mag = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
            n += put_number(mag, 10, v < 0, 0, &sp);
            break;
        }
        case 'u':
            n += put_number(va_arg(ap, uint32_t), 10, 0, 0, &sp);
            break;
        case 'x':
        case 'X':
            n += put_number(va_arg(ap, uint32_t), 16, 0, *fmt == 'X', &sp);
            break;
        case 'p': {
            struct fmt_spec p8 = { 0, '0', 8 };
            serial_puts("0x");
            n += 2 + put_number((uint32_t)(uintptr_t)va_arg(ap, void *), 16, 0, 0, &p8);
            break;
        }
        case '%':
            serial_putc('%');
            n++;
            break;
        case '\0':
            return n; /* lone '%' at the end */
        default:      /* unknown conversion: show it verbatim */
            serial_putc('%');
            serial_putc(*fmt);
            n += 2;
            break;
        }
    }
    return n;
}

int kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvprintf(fmt, ap);
    va_end(ap);
    return n;
}

/* ---- memory and string routines ---------------------------------------- */

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s) {
        while (n--)
            *d++ = *s++;
    } else {
        while (n--)
            d[n] = s[n];
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x < *y ? -1 : 1;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}
