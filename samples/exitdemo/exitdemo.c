/*
 * exitdemo.elf - one of each sensitive thing, ROUNDS times, for watching
 * how the hw mode's VMCS controls change the exit table
 * (docs/HARDWARE_ASSISTED.md): CPUID, RDTSC, RDMSR and WRMSR, an OUT and
 * an IN on the POST port, MOV from and to CR0 (the same value), a CR3
 * reload, MOV from CR4, INVLPG, SGDT, SIDT, STR and MOV from DR7.  Paging
 * stays off and no interrupt is enabled, so nothing else exits; the line
 * it prints at the end is the only serial traffic.
 */
#include "guest.h"

#define ROUNDS 10
#define MSR_EFER 0xC0000080u
#define MSR_SYSENTER_ESP 0x175u
#define POST_PORT 0x80

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

uint32_t kmain(uint32_t magic, uint32_t mbi_addr)
{
    (void)magic;
    (void)mbi_addr;
    static volatile uint32_t scratch;
    struct desc_ptr gdtr, idtr;
    uint32_t a, b, c, d, sum = 0;
    for (int i = 0; i < ROUNDS; ++i) {
        cpuid(0, &a, &b, &c, &d);
        sum += (uint32_t)rdtsc() & 1;
        sum += (uint32_t)rdmsr(MSR_EFER);
        wrmsr(MSR_SYSENTER_ESP, 0x9000u + (uint32_t)i);
        outb(POST_PORT, (uint8_t)i);
        sum += inb(POST_PORT);
        write_cr0(read_cr0());
        write_cr3(read_cr3());
        sum += read_cr4();
        invlpg(&scratch);
        __asm__ volatile("sgdt %0" : "=m"(gdtr));
        __asm__ volatile("sidt %0" : "=m"(idtr));
        uint16_t tr;
        __asm__ volatile("str %0" : "=r"(tr));
        uint32_t dr7;
        __asm__ volatile("mov %%dr7, %0" : "=r"(dr7));
        sum += tr + dr7 + gdtr.limit + idtr.limit;
    }
    (void)sum;  /* timing-dependent (RDTSC): not printed */
    serial_init();
    kprintf("exitdemo: %d rounds of cpuid rdtsc rdmsr wrmsr out in cr0 cr3 cr4 invlpg sgdt sidt str dr7\n", ROUNDS);
    return 0;
}
