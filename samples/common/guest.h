/*
 * guest.h - tiny freestanding runtime for vtlab guest programs.
 *
 * Everything here assumes the machine a QEMU i386 PC offers (and vtlab
 * models): a 16550 UART at COM1 (0x3F8) and isa-debug-exit at port 0xF4
 * (iosize 4), which ends the emulator with exit status (code << 1) | 1.
 */
#ifndef VTLAB_GUEST_H
#define VTLAB_GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* ---- descriptors --------------------------------------------------------- */

/* A GDT/LDT segment descriptor (SDM vol. 3, figure 3-8): `access` is the
 * P/DPL/S/type byte, `flags` the G/D/L/AVL nibble, `limit` 20 bits. */
static inline uint64_t segment_descriptor(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    uint64_t d = limit & 0xFFFFu;
    d |= (uint64_t)(base & 0xFFFFFFu) << 16;
    d |= (uint64_t)access << 40;
    d |= (uint64_t)((limit >> 16) & 0xFu) << 48;
    d |= (uint64_t)(flags & 0xFu) << 52;
    d |= (uint64_t)(base >> 24) << 56;
    return d;
}

/* ---- port I/O ---------------------------------------------------------- */

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}

static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}

static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}

/* ---- control registers and friends -------------------------------------- */

#define GUEST_DEFINE_CR(n)                                                   \
    static inline uint32_t read_cr##n(void)                                  \
    {                                                                        \
        uint32_t v;                                                          \
        __asm__ volatile("movl %%cr" #n ", %0" : "=r"(v));                   \
        return v;                                                            \
    }                                                                        \
    static inline void write_cr##n(uint32_t v)                               \
    {                                                                        \
        __asm__ volatile("movl %0, %%cr" #n : : "r"(v) : "memory");          \
    }
GUEST_DEFINE_CR(0)
GUEST_DEFINE_CR(2)
GUEST_DEFINE_CR(3)
GUEST_DEFINE_CR(4)
#undef GUEST_DEFINE_CR

static inline void invlpg(const volatile void *va)
{
    __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

/* Operand of LGDT/LIDT/SGDT/SIDT. */
struct __attribute__((packed)) desc_ptr {
    uint16_t limit;
    uint32_t base;
};

/* ---- multiboot v1 -------------------------------------------------------- */

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u
#define MULTIBOOT_INFO_MEMORY      0x00000001u /* mem_lower, mem_upper valid */
#define MULTIBOOT_INFO_CMDLINE     0x00000004u /* cmdline valid */

struct multiboot_info {
    uint32_t flags;
    uint32_t mem_lower;     /* KiB below 1 MiB      (flags bit 0) */
    uint32_t mem_upper;     /* KiB above 1 MiB      (flags bit 0) */
    uint32_t boot_device;
    uint32_t cmdline;       /* physical address of a C string (flags bit 2) */
    uint32_t mods_count;
    uint32_t mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length;
    uint32_t mmap_addr;
};

/* ---- COM1 serial, formatted output, exit ---------------------------------- */

#define COM1_PORT       0x3F8
#define DEBUG_EXIT_PORT 0xF4

void serial_init(void);
void serial_putc(char c);
void serial_puts(const char *s);
int kvprintf(const char *fmt, va_list ap);
int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes `code` to port 0xF4 with a 32-bit OUT, then halts for good. */
void debug_exit(uint32_t code) __attribute__((noreturn));

/* ---- the few libc functions gcc may call even when freestanding ----------- */

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* Each guest provides this; boot.S passes EAX and EBX from the loader and
 * hands the return value to debug_exit(). */
uint32_t kmain(uint32_t magic, uint32_t mbi_addr);

#endif /* VTLAB_GUEST_H */
