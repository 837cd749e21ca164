/*
 * paging.c - physical page frames and 32-bit paging with 4 KiB pages
 * (Intel SDM vol. 3, chapter 4: 4.3 for the entry formats, 4.10 for when
 * the TLB must be told about a change).
 *
 * One page table maps the kernel (supervisor-only) and is shared by every
 * address space through page-directory entry 0.  Each process gets its own
 * page directory and its own tables for the user part (kernel.h has the
 * map).  Frames come from a fixed pool and are handed out most recently
 * freed first, so every run uses the same frames in the same order.
 */
#include "kernel.h"

#define POOL_FRAMES ((FRAME_POOL_END - FRAME_POOL_START) / PAGE_SIZE)
#define CR0_WP  (1u << 16) /* supervisor writes honour read-only pages too */
#define CR0_PG  (1u << 31)
#define CR4_PGE (1u << 7)
#define CPUID1_EDX_PGE (1u << 13)

#define PDE_INDEX(va) ((va) >> 22)
#define PTE_INDEX(va) (((va) >> 12) & 0x3FF)
#define FRAME_OF(entry) ((entry) & ~0xFFFu)

uint32_t kernel_page_dir[1024] __attribute__((aligned(4096)));
static uint32_t kernel_page_table[1024] __attribute__((aligned(4096)));

static uint32_t free_frames[POOL_FRAMES]; /* a stack of free frame addresses */
static uint32_t free_count;

uint32_t frames_in_use(void)
{
    return POOL_FRAMES - free_count;
}

/* A zero-filled frame, or 0 when the pool is empty. */
static uint32_t *frame_alloc(void)
{
    uint32_t flags = irq_save(); /* the page-fault handler allocates too */
    uint32_t frame = free_count ? free_frames[--free_count] : 0;
    irq_restore(flags);
    if (frame)
        memset((void *)frame, 0, PAGE_SIZE);
    return (uint32_t *)frame;
}

static void frame_free(uint32_t frame)
{
    uint32_t flags = irq_save();
    free_frames[free_count++] = frame;
    irq_restore(flags);
}

#ifdef MINIOS_PV
/* Under pv a page table is pinned: read-only in the kernel's own map and
 * changed only through mmu_update, which the monitor validates. */
static uint32_t *kernel_map_entry(uint32_t frame)
{
    return &kernel_page_table[frame / PAGE_SIZE];
}

static int sealed(const uint32_t *page_dir)
{
    return !(*kernel_map_entry((uint32_t)page_dir) & PTE_W);
}

/* Read-only in the kernel map, then pinned: the tables under the user
 * part first, the directory last, in one multicall. */
static void pv_seal(uint32_t *page_dir)
{
    struct mmu_update ups[8];
    struct mmuext_op ops[8];
    uint32_t n = 0;
    for (uint32_t pde = PDE_INDEX(USER_IMAGE_BASE); pde < 1024; pde++) {
        if (!(page_dir[pde] & PTE_P))
            continue;
        if (n == 7)
            pv_check(-7 /* -E2BIG */, "seal: too many page tables");
        uint32_t table = FRAME_OF(page_dir[pde]);
        ups[n] = (struct mmu_update){ (uint32_t)kernel_map_entry(table), table | PTE_P };
        ops[n++] = (struct mmuext_op){ MMUEXT_PIN_L1, table };
    }
    ups[n] = (struct mmu_update){ (uint32_t)kernel_map_entry((uint32_t)page_dir), (uint32_t)page_dir | PTE_P };
    ops[n++] = (struct mmuext_op){ MMUEXT_PIN_L2, (uint32_t)page_dir };
    struct multicall_entry calls[2] = {
        { HYPERVISOR_mmu_update, { (uint32_t)ups, n, 0, 0, 0 }, 0 },
        { HYPERVISOR_mmuext_op, { (uint32_t)ops, n, 0, 0, 0 }, 0 },
    };
    pv_check(hypercall3(HYPERVISOR_multicall, (uint32_t)calls, 2, 0), "multicall");
    pv_check(calls[0].result, "seal: mmu_update");
    pv_check(calls[1].result, "seal: pin");
}

/* The reverse: unpinned (directory first), then writable again. */
static void pv_release(uint32_t *page_dir)
{
    struct mmu_update ups[8];
    struct mmuext_op ops[8];
    uint32_t n = 0;
    ups[n] = (struct mmu_update){ (uint32_t)kernel_map_entry((uint32_t)page_dir), (uint32_t)page_dir | PTE_P | PTE_W };
    ops[n++] = (struct mmuext_op){ MMUEXT_UNPIN, (uint32_t)page_dir };
    for (uint32_t pde = PDE_INDEX(USER_IMAGE_BASE); pde < 1024 && n < 8; pde++) {
        if (!(page_dir[pde] & PTE_P))
            continue;
        uint32_t table = FRAME_OF(page_dir[pde]);
        ups[n] = (struct mmu_update){ (uint32_t)kernel_map_entry(table), table | PTE_P | PTE_W };
        ops[n++] = (struct mmuext_op){ MMUEXT_UNPIN, table };
    }
    struct multicall_entry calls[2] = {
        { HYPERVISOR_mmuext_op, { (uint32_t)ops, n, 0, 0, 0 }, 0 },
        { HYPERVISOR_mmu_update, { (uint32_t)ups, n, 0, 0, 0 }, 0 },
    };
    pv_check(hypercall3(HYPERVISOR_multicall, (uint32_t)calls, 2, 0), "multicall");
    pv_check(calls[0].result, "release: unpin");
    pv_check(calls[1].result, "release: mmu_update");
}

void paging_init(void)
{
    for (uint32_t f = FRAME_POOL_END; f > FRAME_POOL_START; f -= PAGE_SIZE)
        free_frames[free_count++] = f - PAGE_SIZE; /* lowest frame on top */

    /* The same identity map, without global pages, and with the two
     * tables themselves read-only: the monitor refuses to pin a table
     * that any table maps writable. */
    kernel_page_table[0] = 0;
    for (uint32_t i = 1; i < 1024; i++)
        kernel_page_table[i] = (i * PAGE_SIZE) | PTE_P | PTE_W;
    *kernel_map_entry((uint32_t)kernel_page_table) &= ~PTE_W;
    *kernel_map_entry((uint32_t)kernel_page_dir) &= ~PTE_W;
    memset(kernel_page_dir, 0, sizeof kernel_page_dir);
    kernel_page_dir[0] = (uint32_t)kernel_page_table | PTE_P | PTE_W;

    struct mmuext_op ops[3] = {
        { MMUEXT_PIN_L1, (uint32_t)kernel_page_table },
        { MMUEXT_PIN_L2, (uint32_t)kernel_page_dir },
        { MMUEXT_NEW_BASEPTR, (uint32_t)kernel_page_dir },
    };
    pv_check(hypercall3(HYPERVISOR_mmuext_op, (uint32_t)ops, 3, 0), "mmuext_op");
}
#else
void paging_init(void)
{
    for (uint32_t f = FRAME_POOL_END; f > FRAME_POOL_START; f -= PAGE_SIZE)
        free_frames[free_count++] = f - PAGE_SIZE; /* lowest frame on top */

    /* Global pages stay in the TLB across CR3 loads: right for the kernel,
     * which is mapped identically in every address space. */
    uint32_t a, b, c, d, global = 0;
    cpuid(1, &a, &b, &c, &d);
    if (d & CPUID1_EDX_PGE) {
        write_cr4(read_cr4() | CR4_PGE);
        global = PTE_G;
    }

    /* Identity map of the first 4 MiB, supervisor-only, page 0 left out. */
    kernel_page_table[0] = 0;
    for (uint32_t i = 1; i < 1024; i++)
        kernel_page_table[i] = (i * PAGE_SIZE) | PTE_P | PTE_W | global;
    memset(kernel_page_dir, 0, sizeof kernel_page_dir);
    kernel_page_dir[0] = (uint32_t)kernel_page_table | PTE_P | PTE_W;

    write_cr3((uint32_t)kernel_page_dir);
    write_cr0(read_cr0() | CR0_PG | CR0_WP);
}
#endif

/* Maps the page of device registers at `addr` to itself in the kernel's
 * directory (supervisor-only, uncached) through `table`, a page table of
 * its own: only the boot address space needs it (virtio.c).  Under pv the
 * table is pinned first, which the monitor allows for the virtio page only. */
#ifdef MINIOS_VIRTIO
void paging_map_device(uint32_t addr, uint32_t *table)
{
    table[PTE_INDEX(addr)] = FRAME_OF(addr) | PTE_P | PTE_W | PTE_PCD;
#ifdef MINIOS_PV
    pv_set_pte(kernel_map_entry((uint32_t)table), (uint32_t)table | PTE_P);
    struct mmuext_op pin = { MMUEXT_PIN_L1, (uint32_t)table };
    pv_check(hypercall3(HYPERVISOR_mmuext_op, (uint32_t)&pin, 1, 0), "mmuext_op");
    pv_set_pte(&kernel_page_dir[PDE_INDEX(addr)], (uint32_t)table | PTE_P | PTE_W);
#else
    kernel_page_dir[PDE_INDEX(addr)] = (uint32_t)table | PTE_P | PTE_W; /* was not present: no INVLPG */
#endif
}
#endif

/* Page table `pde_index` of page_dir, allocated on first use. */
static uint32_t *page_table(uint32_t *page_dir, uint32_t pde_index, uint32_t pde_flags)
{
    if (!(page_dir[pde_index] & PTE_P)) {
        uint32_t *table = frame_alloc();
        if (!table)
            return 0;
        page_dir[pde_index] = (uint32_t)table | pde_flags | PTE_P;
    }
    return (uint32_t *)FRAME_OF(page_dir[pde_index]);
}

uint32_t *address_space_create(void)
{
    uint32_t *page_dir = frame_alloc();
    if (!page_dir)
        return 0;
    page_dir[0] = kernel_page_dir[0]; /* the one shared kernel table */

    /* The program image: the same frames in every process, read-only. */
    uint32_t *image = page_table(page_dir, PDE_INDEX(USER_IMAGE_BASE), PTE_U);
    uint32_t image_pages = ((uint32_t)__user_end - (uint32_t)__user_start) / PAGE_SIZE;
    if (!image)
        goto fail;
    for (uint32_t i = 0; i < image_pages; i++)
        image[i] = ((uint32_t)__user_phys + i * PAGE_SIZE) | PTE_P | PTE_U;

    /* The heap's table exists from the start; its pages come on demand. */
    if (!page_table(page_dir, PDE_INDEX(USER_HEAP_BASE), PTE_U | PTE_W))
        goto fail;

    uint32_t *stack = page_table(page_dir, PDE_INDEX(USER_STACK_TOP - 1), PTE_U | PTE_W);
    if (!stack)
        goto fail;
    for (uint32_t i = 1; i <= USER_STACK_PAGES; i++) {
        uint32_t *frame = frame_alloc();
        if (!frame)
            goto fail;
        stack[PTE_INDEX(USER_STACK_TOP - i * PAGE_SIZE)] = (uint32_t)frame | PTE_P | PTE_W | PTE_U;
    }
#ifdef MINIOS_PV
    pv_seal(page_dir);
#endif
    return page_dir;

fail:
    address_space_destroy(page_dir);
    return 0;
}

/* Gives back the frames of the user part; never call it on the page
 * directory CR3 holds.  The image frames belong to the kernel image. */
void address_space_destroy(uint32_t *page_dir)
{
#ifdef MINIOS_PV
    if (sealed(page_dir))
        pv_release(page_dir);
#endif
    for (uint32_t pde = PDE_INDEX(USER_IMAGE_BASE); pde < 1024; pde++) {
        if (!(page_dir[pde] & PTE_P))
            continue;
        uint32_t *table = (uint32_t *)FRAME_OF(page_dir[pde]);
        if (pde != PDE_INDEX(USER_IMAGE_BASE))
            for (uint32_t i = 0; i < 1024; i++)
                if (table[i] & PTE_P)
                    frame_free(FRAME_OF(table[i]));
        frame_free((uint32_t)table);
    }
    frame_free((uint32_t)page_dir);
}

static uint32_t *pte_of(uint32_t *page_dir, uint32_t addr)
{
    if (!(page_dir[PDE_INDEX(addr)] & PTE_P))
        return 0;
    return (uint32_t *)FRAME_OF(page_dir[PDE_INDEX(addr)]) + PTE_INDEX(addr);
}

uint32_t *user_page(uint32_t *page_dir, uint32_t addr)
{
    uint32_t *pte = pte_of(page_dir, addr);
    if (!pte || !(*pte & PTE_P))
        return 0;
    return (uint32_t *)FRAME_OF(*pte);
}

static int in_heap(uint32_t addr)
{
    return addr >= USER_HEAP_BASE && addr < USER_HEAP_END;
}

/* May the kernel read [addr, addr + len) for the process?  Only user
 * addresses: mapped user pages, or heap pages it will map on first touch
 * (a kernel-mode #PF there is handled like a user one). */
int user_range_ok(uint32_t *page_dir, uint32_t addr, uint32_t len)
{
    if (addr < USER_IMAGE_BASE || addr >= USER_END || len > USER_END - addr)
        return 0;
    for (uint32_t page = addr & ~(PAGE_SIZE - 1); page < addr + len; page += PAGE_SIZE) {
        uint32_t *pte = pte_of(page_dir, page);
        int mapped = pte && (*pte & PTE_P) && (*pte & PTE_U);
        if (!mapped && !in_heap(page))
            return 0;
    }
    return 1;
}

/* Page-fault help: give a zero-filled frame to a not-present heap page. */
int heap_demand_map(struct process *p, uint32_t addr)
{
    if (!in_heap(addr))
        return 0;
    uint32_t *pte = pte_of(p->page_dir, addr);
    if (!pte || (*pte & PTE_P))
        return 0;
    uint32_t *frame = frame_alloc();
    if (!frame)
        return 0;
#ifdef MINIOS_PV
    pv_set_pte(pte, (uint32_t)frame | PTE_P | PTE_W | PTE_U); /* the monitor flushes the TLB */
#else
    *pte = (uint32_t)frame | PTE_P | PTE_W | PTE_U;
    /* Not-present entries are never cached in the TLB, but the SDM allows
     * caching of the upper paging structures: INVLPG covers both. */
    invlpg((void *)addr);
#endif
    p->heap_pages_mapped++;
    return 1;
}

/* SYS_HEAP_RELEASE: unmap a heap page and free its frame.  Here INVLPG is
 * essential: without it the TLB may keep translating the address to the
 * freed frame, and the process would read its old data. */
int heap_release(struct process *p, uint32_t addr)
{
    if (!in_heap(addr))
        return 0;
    uint32_t *pte = pte_of(p->page_dir, addr);
    if (!pte || !(*pte & PTE_P))
        return 0;
    uint32_t frame = FRAME_OF(*pte);
#ifdef MINIOS_PV
    pv_set_pte(pte, 0);
#else
    *pte = 0;
    invlpg((void *)addr);
#endif
    frame_free(frame);
    return 1;
}
