/*
 * suite_iopl: I/O and interrupt-flag privilege as the Intel SDM vol. 3
 * (ch. 19.5 "Protected-mode I/O", 2.3 EFLAGS; CLI, STI, POPF, PUSHF, IRET)
 * specifies it: IN/OUT at CPL > IOPL consult the TSS I/O permission bitmap
 * (every bit of a multi-byte access, also across a byte boundary of the map;
 * a map base beyond the TSS limit denies everything), CLI/STI fault at
 * CPL > IOPL, POPF and IRET silently keep IF (CPL > IOPL) and IOPL (CPL > 0).
 *
 * Ports: 0x80 (POST) and 0x84-0x8B are only written or read for the fault
 * check; IOPL_FREE_PORT is claimed by no device and reads 0xFF.
 */
#include "suite.h"

#define IOPL3 0x3000
#define IF 0x200
#define IOPL_FREE_PORT 0x2E0

static void allow(u16 port, int yes)
{
    if (yes)
        suite_tss.iomap[port >> 3] &= (u8) ~(1u << (port & 7));
    else
        suite_tss.iomap[port >> 3] |= (u8)(1u << (port & 7));
}

static void u_outb80(void) { outb(0x80, 0x55); }
static void u_outw80(void) { outw(0x80, 0x5555); }
static void u_outl84(void) { outl(0x84, 0); }
static void u_inw87(void) { __asm__ volatile("inw $0x87, %%ax" : : : "eax"); }
/* run_user reports a function's EAX: these return what they measured */
#define AS_FN(f) ((void (*)(void))(f))
static u32 u_inb_free(void) { return inb(IOPL_FREE_PORT); }
static void u_cli(void) { __asm__ volatile("cli"); }
static void u_sti(void) { __asm__ volatile("sti"); }
/* POPF of an image with IF and IOPL flipped; EAX = PUSHF afterwards */
static u32 u_popf_flip(void)
{
    u32 v;
    __asm__ volatile(
        "pushfl\n"
        "xorl $0x3200, (%%esp)\n"
        "popfl\n"
        "pushfl\n"
        "popl %0\n"
        : "=r"(v) : : "cc");
    return v;
}
/* IRET to the same ring (pops EIP, CS, EFLAGS) with IF and IOPL flipped */
static u32 u_iret_flip(void)
{
    u32 v;
    __asm__ volatile(
        "pushfl\n"
        "xorl $0x3200, (%%esp)\n"
        "popl %%eax\n"
        "pushl %%eax\n"
        "pushl %%cs\n"
        "pushl $1f\n"
        "iret\n"
        "1: pushfl\n"
        "popl %0\n"
        : "=a"(v) : : "cc", "memory");
    return v;
}
static u32 u_pushf(void) { return read_eflags(); }

static void io(const char *name, void (*fn)(void), u32 eflags, int vec)
{
    struct fault f;
    run_user(fn, eflags, &f);
    check_fault(name, &f, vec, 0);
}

static void io_checks(void)
{
    struct fault f;
    run_checked(u_outb80, &f);
    check_fault("iopl.ring0_ignores_bitmap", &f, NO_FAULT, 0);
    io("iopl.ring3_iopl3_ignores_bitmap", u_outb80, IOPL3 | 2, NO_FAULT);
    io("iopl.denied_port", u_outb80, 2, GP);
    allow(0x80, 1);
    io("iopl.allowed_port", u_outb80, 2, NO_FAULT);
    io("iopl.word_second_byte_denied", u_outw80, 2, GP);
    allow(0x81, 1);
    io("iopl.word_both_allowed", u_outw80, 2, NO_FAULT);
    allow(0x84, 1);
    allow(0x85, 1);
    allow(0x86, 1);
    io("iopl.dword_last_byte_denied", u_outl84, 2, GP);
    allow(0x87, 1);
    io("iopl.dword_all_allowed", u_outl84, 2, NO_FAULT);
    io("iopl.word_straddles_map_byte_denied", u_inw87, 2, GP);
    allow(0x88, 1);
    io("iopl.word_straddles_map_byte_allowed", u_inw87, 2, NO_FAULT);

    allow(IOPL_FREE_PORT, 1);
    run_user(AS_FN(u_inb_free), 2, &f);
    check("iopl.allowed_read_unclaimed", f.vector == NO_FAULT && (f.ret & 0xFF) == 0xFF, "vector %d value 0x%x",
          f.vector, f.ret & 0xFF);

    u16 base = suite_tss.t.iomap_base;
    suite_tss.t.iomap_base = 0x4000;
    io("iopl.map_base_beyond_limit", u_outb80, 2, GP);
    io("iopl.map_base_beyond_limit_iopl3", u_outb80, IOPL3 | 2, NO_FAULT);
    suite_tss.t.iomap_base = base;
    io("iopl.map_restored", u_outb80, 2, NO_FAULT);
}

static void flag_checks(void)
{
    struct fault f;
    io("iopl.cli_cpl3_iopl0", u_cli, 2, GP);
    io("iopl.sti_cpl3_iopl0", u_sti, 2, GP);
    run_user(u_cli, IOPL3 | IF | 2, &f);
    check("iopl.cli_cpl3_iopl3", f.vector == NO_FAULT && !(f.eflags & IF), "vector %d EFLAGS 0x%x", f.vector,
          f.eflags);
    run_user(u_sti, IOPL3 | 2, &f);
    check("iopl.sti_cpl3_iopl3", f.vector == NO_FAULT && (f.eflags & IF), "vector %d EFLAGS 0x%x", f.vector,
          f.eflags);

    run_user(AS_FN(u_popf_flip), 2, &f);
    check("iopl.popf_cpl3_iopl0_keeps_if_iopl", f.vector == NO_FAULT && (f.ret & (IF | IOPL3)) == 0,
          "vector %d EFLAGS 0x%x", f.vector, f.ret);
    run_user(AS_FN(u_popf_flip), IOPL3 | 2, &f);
    check("iopl.popf_cpl3_iopl3_sets_if_keeps_iopl",
          f.vector == NO_FAULT && (f.ret & (IF | IOPL3)) == (IF | IOPL3), "vector %d EFLAGS 0x%x", f.vector, f.ret);
    run_checked(AS_FN(u_popf_flip), &f);
    check("iopl.popf_cpl0_changes_both", f.vector == NO_FAULT && (f.ret & (IF | IOPL3)) == (IF | IOPL3),
          "vector %d EFLAGS 0x%x", f.vector, f.ret);
    run_user(AS_FN(u_pushf), IOPL3 | 2, &f);
    check_eq("iopl.pushf_cpl3_reads_iopl", f.ret & (IF | IOPL3), IOPL3);

    run_user(AS_FN(u_iret_flip), 2, &f);
    check("iopl.iret_cpl3_iopl0_keeps_if_iopl", f.vector == NO_FAULT && (f.ret & (IF | IOPL3)) == 0,
          "vector %d EFLAGS 0x%x", f.vector, f.ret);
    run_user(AS_FN(u_iret_flip), IOPL3 | 2, &f);
    check("iopl.iret_cpl3_iopl3_sets_if_keeps_iopl",
          f.vector == NO_FAULT && (f.ret & (IF | IOPL3)) == (IF | IOPL3), "vector %d EFLAGS 0x%x", f.vector, f.ret);
    run_user(AS_FN(u_pushf), (1 << 12) | 2, &f);
    check_eq("iopl.iret_from_ring0_sets_iopl1", f.ret & IOPL3, 1 << 12);
}

void suite_main(void)
{
    /* the BIOS left the timer unmasked: keep the PICs quiet while IF=1 */
    outb(0x21, 0xFF);
    outb(0xA1, 0xFF);
    io_checks();
    flag_checks();
}
