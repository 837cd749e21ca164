/*
 * micro.h - what the micro kernel's files share: segment selectors, the
 * page tables and frames the workloads use, and the kernel services
 * (kernel.c) and entry points (entry.S) they call.
 *
 * Memory map: the image is identity-mapped through one page table
 * (0x00001000-0x003FFFFF, user-accessible so the ring-3 loops of entry.S
 * can run from it); 0x00800000-0x00BFFFFF (page directory entry 2) is the
 * workloads' own region, mapped by whichever page table the workload
 * installs there.  Interrupts stay off (both PICs masked, IF 0): no run
 * depends on a timer, so every count is exact.
 */
#ifndef MICRO_H
#define MICRO_H

#include "guest.h"

/* The order SYSEXIT requires: user CS = SYSENTER_CS + 16, SS = + 24. */
#ifdef MICRO_PV
/* micro-pv: the kernel at ring 1 under vtlab's pv mode (docs/HYPERCALLS.md). */
#include "pv.h"
#define SEL_KERNEL_CODE PV_KERNEL_CS
#define SEL_KERNEL_DATA PV_KERNEL_DS
/* A page becomes a page table (read-only in identity_pt, pinned as a
 * table or a directory), or goes back to being a page. */
void pv_table(void *page, int directory);
void pv_untable(void *page);
#else
#define SEL_KERNEL_CODE 0x08
#define SEL_KERNEL_DATA 0x10
#endif
#define SEL_USER_CODE   (0x18 | 3)
#define SEL_USER_DATA   (0x20 | 3)
#define SEL_TSS         0x28

#define PAGE_SIZE 4096u
#define PTE_P 0x001u
#define PTE_W 0x002u
#define PTE_U 0x004u
#define PTE_PWU (PTE_P | PTE_W | PTE_U)

#define WORK_BASE 0x00800000u /* the workloads' region: page directory entry 2 */
#define WORK_PDE  2u

typedef uint32_t page_t[1024] __attribute__((aligned(4096)));

/* kernel.c */
extern page_t kernel_pd;   /* the boot address space */
extern page_t identity_pt; /* maps 0-4 MiB, shared by every address space */
void kernel_init(void);
void page_zero(void *page);                  /* REP STOSD over one page */
void page_copy(void *dst, const void *src);  /* REP MOVSD over one page */
/* Installs the #PF handler the page-fault workload needs: NULL to take
 * any #PF as unexpected. */
void set_page_fault_handler(void (*handler)(uint32_t cr2, uint32_t error));

/* entry.S */
extern volatile uint32_t syscall_count; /* trivial ring-0 handlers bump it */
extern uint32_t user_iterations;        /* what the ring-3 loops read */
/* Runs `user_eip` at ring 3 on `user_esp`; returns when it makes its last
 * system call (EAX = 1). */
void enter_user(void (*user_eip)(void), uint32_t user_esp);
void user_int80_loop(void);
void user_sysenter_loop(void);
void sysenter_entry(void);
extern const uint32_t isr_stub_table[32];
void isr_syscall(void);

/* Called from entry.S. */
/* `where`: the faulting EIP, or CR2 for a page fault nobody expected. */
void trap_unexpected(uint32_t vector, uint32_t error, uint32_t where) __attribute__((noreturn));
void trap_page_fault(uint32_t error);

#endif /* MICRO_H */
