/*
 * minios64 memory: the frame pool, per-process 4-level address spaces
 * (SDM vol. 3 4.5) and the demand-zero heap.  The kernel is identity-mapped
 * (boot.S), so a frame's physical address is also where the kernel sees it.
 */
#include "kernel.h"

extern uint8_t __image_end[], __user_phys[], __user_size[];

static unsigned frames_used;

/* A zeroed 4 KiB frame, or 0 when the pool is empty. */
static uint64_t frame_alloc(void)
{
    if (frames_used == POOL_FRAMES)
        return 0;
    uint64_t f = POOL_START + 4096ull * frames_used++;
    memset((void *)f, 0, 4096);
    return f;
}

int kernel_fits(void) { return (uint64_t)__image_end <= POOL_START; }

/* The entry for `va` at the last level, creating the tables above it
 * (user-accessible and writable: the leaf decides). 0 if out of frames. */
static uint64_t *pte_for(uint64_t pml4, uint64_t va)
{
    uint64_t *table = (uint64_t *)pml4;
    for (int shift = 39; shift > 12; shift -= 9) {
        uint64_t *e = &table[(va >> shift) & 511];
        if (!(*e & PTE_P)) {
            uint64_t t = frame_alloc();
            if (!t)
                return 0;
            *e = t | PTE_P | PTE_RW | PTE_US;
        }
        table = (uint64_t *)(*e & PTE_ADDR);
    }
    return &table[(va >> 12) & 511];
}

static int map_page(uint64_t pml4, uint64_t va, uint64_t pa, uint64_t flags)
{
    uint64_t *pte = pte_for(pml4, va);
    if (!pte)
        return 0;
    *pte = pa | flags;
    return 1;
}

/* A new PML4: entry 0 is the kernel's (the same PDPT in every process,
 * supervisor-only), the user image is mapped read-only at USER_IMAGE
 * from the frames the loader put at __user_phys, and the stack's pages
 * are fresh frames.  0 if out of frames. */
uint64_t address_space_create(void)
{
    uint64_t pml4 = frame_alloc();
    if (!pml4)
        return 0;
    ((uint64_t *)pml4)[0] = kernel_pml4[0];
    for (uint64_t off = 0; off < (uint64_t)__user_size; off += 4096)
        if (!map_page(pml4, USER_IMAGE + off, (uint64_t)__user_phys + off, PTE_P | PTE_US))
            return 0;
    for (int i = 1; i <= USER_STACK_PAGES; i++) {
        uint64_t f = frame_alloc();
        if (!f || !map_page(pml4, USER_STACK_TOP - 4096ull * i, f, PTE_P | PTE_RW | PTE_US))
            return 0;
    }
    return pml4;
}

static int in_range(uint64_t addr, uint64_t len, uint64_t start, uint64_t size)
{
    return addr >= start && len <= size && addr - start <= size - len;
}

/* Memory a system call may read for the caller: its image, heap or stack. */
int user_range_ok(uint64_t addr, uint64_t len)
{
    return in_range(addr, len, USER_IMAGE, (uint64_t)__user_size) ||
           in_range(addr, len, USER_HEAP, HEAP_PAGES * 4096ull) ||
           in_range(addr, len, USER_STACK_TOP - USER_STACK_PAGES * 4096ull, USER_STACK_PAGES * 4096ull);
}

/* A not-present fault at `addr`: a heap page gets a zeroed frame. */
int demand_zero(struct process *p, uint64_t addr)
{
    if (!in_range(addr, 1, USER_HEAP, HEAP_PAGES * 4096ull))
        return 0;
    uint64_t f = frame_alloc();
    if (!f || !map_page(p->pml4, addr & ~0xFFFull, f, PTE_P | PTE_RW | PTE_US))
        return 0;
    invlpg64(addr);
    p->heap_pages++;
    return 1;
}
