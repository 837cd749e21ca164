/*
 * user.c - the four ring-3 programs and their tiny runtime.
 *
 * Everything here is linked at USER_IMAGE_BASE (link.ld: sections
 * .user_text and .user_rodata) and mapped read-only and user-accessible in
 * every process; the rest of the image is supervisor-only.  So user code
 * must not touch anything the compiler would put elsewhere: no string
 * literals (USTR puts one in .user_rodata), no writable globals (state
 * lives on the stack or the heap), no switch jump tables and no calls
 * into kernel code such as memset (CMakeLists.txt passes -fno-jump-tables
 * and -fno-tree-loop-distribute-patterns).
 *
 * A program never prints directly: SYS_WRITE appends to its log, which the
 * kernel prints once all have ended, so the transcript does not depend on
 * where the timer happened to interrupt.
 */
#include "kernel.h"

#define USER __attribute__((section(".user_text")))
#define USTR(s)                                                         \
    ({                                                                  \
        static const char user_str_[] __attribute__((section(".user_rodata"))) = s; \
        user_str_;                                                      \
    })

uint32_t sys_int80(uint32_t nr, uint32_t a, uint32_t b);
uint32_t sys_sysenter(uint32_t nr, uint32_t a, uint32_t b);

/* The two ways into the kernel (syscall.h has the register convention). */
__asm__(".pushsection .user_text, \"ax\"\n"
        "sys_int80:\n"
        "    pushl %ebx\n"
        "    pushl %esi\n"
        "    movl 12(%esp), %eax\n"
        "    movl 16(%esp), %ebx\n"
        "    movl 20(%esp), %esi\n"
        "    int $0x80\n"
        "    popl %esi\n"
        "    popl %ebx\n"
        "    ret\n"
        "sys_sysenter:\n"
        "    pushl %ebx\n"
        "    pushl %esi\n"
        "    movl 12(%esp), %eax\n"
        "    movl 16(%esp), %ebx\n"
        "    movl 20(%esp), %esi\n"
        "    movl %esp, %ecx\n"        /* SYSEXIT's ESP */
        "    movl $1f, %edx\n"         /* SYSEXIT's EIP */
        "    sysenter\n"
        "1:  popl %esi\n"
        "    popl %ebx\n"
        "    ret\n"
        ".popsection");

/* Programs get use_sysenter from the kernel; 0 means take INT 0x80. */
static USER uint32_t sys(uint32_t use_sysenter, uint32_t nr, uint32_t a, uint32_t b)
{
    return use_sysenter ? sys_sysenter(nr, a, b) : sys_int80(nr, a, b);
}

/* Formats one line ("%u" decimal, "%x" 0x and 8 hex digits, at most two)
 * and writes it with one system call. */
static USER uint32_t print(uint32_t use_sysenter, const char *fmt, uint32_t a, uint32_t b)
{
    char line[128];
    uint32_t n = 0, args[2] = { a, b }, next_arg = 0;
    for (; *fmt && n < sizeof line - 12; fmt++) { /* room for one number */
        if (fmt[0] != '%' || (fmt[1] != 'u' && fmt[1] != 'x') || next_arg == 2) {
            line[n++] = *fmt;
            continue;
        }
        uint32_t v = args[next_arg++];
        char digits[10];
        int count = 0;
        if (*++fmt == 'x') {
            line[n++] = '0';
            line[n++] = 'x';
            for (; count < 8; count++, v >>= 4)
                digits[count] = (char)((v & 15) < 10 ? '0' + (v & 15) : 'a' + (v & 15) - 10);
        } else {
            do
                digits[count++] = (char)('0' + v % 10);
            while ((v /= 10) != 0);
        }
        while (count > 0)
            line[n++] = digits[--count];
    }
    return sys(use_sysenter, SYS_WRITE, (uint32_t)line, n);
}

static USER void __attribute__((noreturn)) user_exit(uint32_t use_sysenter, uint32_t status)
{
    sys(use_sysenter, SYS_EXIT, status, 0);
    for (;;)
        ; /* not reached: SYS_EXIT does not return */
}

/* ---- process 1: a sieve in the heap, never yields ------------------------ */

#define SIEVE_LIMIT (128u * 1024u)

USER void user_primes(uint32_t use_sysenter)
{
    uint32_t pid = sys_int80(SYS_GETPID, 0, 0);
    print(0, USTR("hello from ring 3, I am pid %u; this line came through INT 0x80\n"), pid, 0);
    if (use_sysenter)
        print(1, USTR("this line came through SYSENTER and back through SYSEXIT\n"), 0, 0);

    /* The first touch of each heap page faults; the kernel maps a zeroed
     * frame and restarts the instruction. */
    volatile uint8_t *composite = (volatile uint8_t *)USER_HEAP_BASE;
    uint32_t nonzero = 0;
    for (uint32_t i = 0; i < SIEVE_LIMIT; i++)
        nonzero += composite[i] != 0;
    print(use_sysenter, USTR("my %u-byte heap array holds %u nonzero bytes on first touch\n"),
          SIEVE_LIMIT, nonzero);

    uint32_t count = 0, largest = 0;
    for (uint32_t i = 2; i < SIEVE_LIMIT; i++) {
        if (composite[i])
            continue;
        count++;
        largest = i;
        if (i > SIEVE_LIMIT / i)
            continue; /* i * i is past the array (and would overflow) */
        for (uint32_t j = i * i; j < SIEVE_LIMIT; j += i)
            composite[j] = 1;
    }
    print(use_sysenter, USTR("primes below %u: %u\n"), SIEVE_LIMIT, count);
    print(use_sysenter, USTR("largest of them: %u\n"), largest, 0);
    user_exit(use_sysenter, 0);
}

/* ---- process 2: a hash loop, a heap page released, a sleep ---------------- */

#define HASH_ROUNDS 300000u

USER void user_hasher(uint32_t use_sysenter)
{
    uint32_t pid = sys(use_sysenter, SYS_GETPID, 0, 0);
    print(use_sysenter, USTR("hello from ring 3, I am pid %u\n"), pid, 0);

    uint32_t x = 2463534242u, hash = 2166136261u;
    for (uint32_t i = 0; i < HASH_ROUNDS; i++) {
        x ^= x << 13; /* xorshift32 */
        x ^= x >> 17;
        x ^= x << 5;
        hash = (hash ^ (x & 0xFF)) * 16777619u; /* FNV-1a */
    }
    print(use_sysenter, USTR("FNV-1a of %u xorshift32 bytes: %x\n"), HASH_ROUNDS, hash);

    volatile uint32_t *word = (volatile uint32_t *)USER_HEAP_BASE;
    *word = 0xC0FFEE;
    uint32_t released = sys_int80(SYS_HEAP_RELEASE, USER_HEAP_BASE, 0);
    print(use_sysenter, USTR("wrote 0x00c0ffee at heap address %x; SYS_HEAP_RELEASE returned %u\n"),
          USER_HEAP_BASE, released);
    print(use_sysenter, USTR("reading it again gives a fresh zeroed page: %x\n"), *word, 0);

    sys(use_sysenter, SYS_SLEEP, 2, 0);
    print(use_sysenter, USTR("slept 2 timer ticks and was woken by IRQ 0\n"), 0, 0);
    user_exit(use_sysenter, 0);
}

/* ---- process 3: writes to kernel memory ----------------------------------- */

#define KERNEL_TEXT 0x00100000u /* where link.ld puts the kernel */

USER void user_rogue(uint32_t use_sysenter)
{
    uint32_t pid = sys_int80(SYS_GETPID, 0, 0);
    print(use_sysenter, USTR("hello from ring 3, I am pid %u\n"), pid, 0);
    uint32_t result = sys(use_sysenter, SYS_WRITE, KERNEL_TEXT, 16);
    print(use_sysenter, USTR("SYS_WRITE of kernel memory at %x returned %x (refused)\n"),
          KERNEL_TEXT, result);

    volatile uint32_t *page5 = (volatile uint32_t *)(USER_HEAP_BASE + 5 * PAGE_SIZE);
    *page5 = pid;
    print(use_sysenter, USTR("heap page %x works too; now writing to the kernel at %x\n"),
          (uint32_t)page5, KERNEL_TEXT);
    __asm__ volatile(".globl rogue_poke_insn\n"
                     "rogue_poke_insn:\n\t"
                     "movl $0x0BADC0DE, 0x00100000" : : : "memory");
    print(use_sysenter, USTR("the write went through!\n"), 0, 0);
    user_exit(use_sysenter, 1);
}

/* ---- process 4: a privileged instruction --------------------------------- */

USER void user_intruder(uint32_t use_sysenter)
{
    uint32_t pid = sys_int80(SYS_GETPID, 0, 0);
    print(use_sysenter, USTR("hello from ring 3, I am pid %u; trying CLI with IOPL 0\n"), pid, 0);
    __asm__ volatile(".globl intruder_cli_insn\n"
                     "intruder_cli_insn:\n\t"
                     "cli" : : : "memory");
    print(use_sysenter, USTR("CLI went through!\n"), 0, 0);
    user_exit(use_sysenter, 1);
}
