/*
 * virtio.c - minios's driver for vtlab's two virtio-mmio devices
 * (docs/VIRTIO.md): virtio-blk in the slot at 0xFEB00000 and
 * virtio-console in the slot at 0xFEB00200, following the OASIS virtio 1.1
 * specification: 4.2.2 (the MMIO registers), 3.1.1 (driver initialisation),
 * 2.6 (split virtqueues), 5.2 (block) and 5.3 (console).
 *
 * It is built into minios-virtio and minios-pv-virtio only (CMakeLists.txt:
 * minios and minios-pv stay instruction for instruction what they were, so
 * their pinned counts hold), and runs once at boot, just after paging is
 * on and before the timer starts.  The slot page is mapped to
 * itself (under pv the monitor allows that one device page,
 * docs/HYPERCALLS.md); the rings are in the identity-mapped kernel, so
 * their virtual addresses are the physical ones the devices need.  No interrupts: a request is handled while the QueueNotify write
 * runs, and the driver polls the used ring afterwards.  The lines it prints
 * go through the virtio-console transmit queue when there is a console,
 * through COM1 otherwise; both end up in the same transcript.
 */
#include "kernel.h"

#define VIRTIO_MMIO_BASE 0xFEB00000u
#define VIRTIO_SLOT_SIZE 0x200u
#define VIRTIO_MAGIC     0x74726976u /* "virt" */

/* Register offsets (spec 4.2.2). */
enum {
    REG_MAGIC = 0x000, REG_VERSION = 0x004, REG_DEVICE_ID = 0x008,
    REG_DEVICE_FEATURES = 0x010, REG_DEVICE_FEATURES_SEL = 0x014,
    REG_DRIVER_FEATURES = 0x020, REG_DRIVER_FEATURES_SEL = 0x024,
    REG_QUEUE_SEL = 0x030, REG_QUEUE_NUM_MAX = 0x034, REG_QUEUE_NUM = 0x038,
    REG_QUEUE_READY = 0x044, REG_QUEUE_NOTIFY = 0x050,
    REG_INTERRUPT_STATUS = 0x060, REG_INTERRUPT_ACK = 0x064, REG_STATUS = 0x070,
    REG_QUEUE_DESC = 0x080, REG_QUEUE_DRIVER = 0x090, REG_QUEUE_DEVICE = 0x0A0,
    REG_CONFIG = 0x100,
};

/* Device status bits (spec 2.1). */
#define STATUS_ACKNOWLEDGE 1u
#define STATUS_DRIVER      2u
#define STATUS_DRIVER_OK   4u
#define STATUS_FEATURES_OK 8u

#define DEVICE_ID_BLOCK   2u
#define DEVICE_ID_CONSOLE 3u

#define VIRTQ_DESC_F_NEXT  1u
#define VIRTQ_DESC_F_WRITE 2u
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u

#define VIRTIO_BLK_T_IN  0u
#define VIRTIO_BLK_T_OUT 1u
#define SECTOR_SIZE 512u

#define QUEUE_SIZE 4u

/* A split virtqueue of QUEUE_SIZE entries (spec 2.6), in kernel memory
 * with the alignments of 2.6's table (descriptors 16, used ring 4). */
struct virtq_desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
struct virtq {
    struct virtq_desc desc[QUEUE_SIZE];
    struct { uint16_t flags, idx, ring[QUEUE_SIZE], used_event; } avail;
    struct { uint16_t flags, idx; struct { uint32_t id, len; } ring[QUEUE_SIZE]; uint16_t avail_event; } used
        __attribute__((aligned(4)));
} __attribute__((aligned(16)));

struct virtio_dev {
    uint32_t base;        /* 0: the slot holds no usable device */
    struct virtq queue;   /* the one queue the driver uses */
    uint16_t last_used;
};

static struct virtio_dev blk, console;
static uint32_t slots_page_table[1024] __attribute__((aligned(4096)));

static inline uint32_t reg_read(const struct virtio_dev *d, uint32_t off)
{
    return *(volatile uint32_t *)(d->base + off);
}

static inline void reg_write(const struct virtio_dev *d, uint32_t off, uint32_t v)
{
    *(volatile uint32_t *)(d->base + off) = v;
}

/* Driver initialisation (spec 3.1.1) up to FEATURES_OK, then queue
 * `queue_index` (spec 4.2.3.2), then DRIVER_OK.  Returns 0 when the slot
 * is empty or the device refuses; the device is then left reset. */
static int device_init(struct virtio_dev *d, uint32_t slot, uint32_t device_id, uint32_t queue_index)
{
    d->base = VIRTIO_MMIO_BASE + slot * VIRTIO_SLOT_SIZE;
    if (reg_read(d, REG_MAGIC) != VIRTIO_MAGIC || reg_read(d, REG_VERSION) != 2 ||
        reg_read(d, REG_DEVICE_ID) != device_id)
        goto absent;
    reg_write(d, REG_STATUS, 0);
    reg_write(d, REG_STATUS, STATUS_ACKNOWLEDGE);
    reg_write(d, REG_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
    /* Only VIRTIO_F_VERSION_1 (feature bit 32): word 1, bit 0. */
    reg_write(d, REG_DEVICE_FEATURES_SEL, 1);
    if (!(reg_read(d, REG_DEVICE_FEATURES) & 1))
        goto refused;
    reg_write(d, REG_DRIVER_FEATURES_SEL, 0);
    reg_write(d, REG_DRIVER_FEATURES, 0);
    reg_write(d, REG_DRIVER_FEATURES_SEL, 1);
    reg_write(d, REG_DRIVER_FEATURES, 1);
    reg_write(d, REG_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
    if (!(reg_read(d, REG_STATUS) & STATUS_FEATURES_OK))
        goto refused;

    reg_write(d, REG_QUEUE_SEL, queue_index);
    if (reg_read(d, REG_QUEUE_READY) != 0 || reg_read(d, REG_QUEUE_NUM_MAX) < QUEUE_SIZE)
        goto refused;
    memset(&d->queue, 0, sizeof d->queue);
    d->queue.avail.flags = VIRTQ_AVAIL_F_NO_INTERRUPT; /* we poll */
    d->last_used = 0;
    reg_write(d, REG_QUEUE_NUM, QUEUE_SIZE);
    reg_write(d, REG_QUEUE_DESC, (uint32_t)d->queue.desc);
    reg_write(d, REG_QUEUE_DESC + 4, 0);
    reg_write(d, REG_QUEUE_DRIVER, (uint32_t)&d->queue.avail);
    reg_write(d, REG_QUEUE_DRIVER + 4, 0);
    reg_write(d, REG_QUEUE_DEVICE, (uint32_t)&d->queue.used);
    reg_write(d, REG_QUEUE_DEVICE + 4, 0);
    reg_write(d, REG_QUEUE_READY, 1);
    if (reg_read(d, REG_QUEUE_READY) != 1)
        goto refused;
    reg_write(d, REG_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK);
    return 1;

refused:
    reg_write(d, REG_STATUS, 0);
absent:
    d->base = 0;
    return 0;
}

/* Makes the chain starting at descriptor 0 available, notifies, and waits
 * for the device to put it in the used ring.  Returns the used length, or
 * -1 if the device did not answer (it stopped with DEVICE_NEEDS_RESET). */
static int submit(struct virtio_dev *d, uint32_t queue_index)
{
    struct virtq *q = &d->queue;
    q->avail.ring[q->avail.idx % QUEUE_SIZE] = 0;
    __asm__ volatile("" : : : "memory"); /* the entry before the index (2.6.13) */
    q->avail.idx++;
    __asm__ volatile("" : : : "memory");
    reg_write(d, REG_QUEUE_NOTIFY, queue_index);
    for (int spins = 0; spins < 1000; spins++) {
        if (*(volatile uint16_t *)&q->used.idx != d->last_used) {
            int len = (int)q->used.ring[d->last_used % QUEUE_SIZE].len;
            d->last_used++;
            reg_write(d, REG_INTERRUPT_ACK, reg_read(d, REG_INTERRUPT_STATUS));
            return len;
        }
    }
    return -1;
}

static void set_desc(struct virtq *q, uint32_t i, const void *addr, uint32_t len, uint16_t flags)
{
    q->desc[i] = (struct virtq_desc){ (uint32_t)addr, len, flags, (uint16_t)(i + 1) };
}

/* ---- virtio-console: transmitq is queue 1 (no MULTIPORT, spec 5.3.2) ---- */
#define CONSOLE_TRANSMITQ 1u

static char line[160];
static uint32_t line_len;

static void put_str(const char *s)
{
    while (*s && line_len < sizeof line - 1)
        line[line_len++] = *s++;
}

static void put_hex8(uint8_t v)
{
    static const char digits[] = "0123456789abcdef";
    char s[3] = { digits[v >> 4], digits[v & 15], 0 };
    put_str(s);
}

static void put_dec(uint32_t v)
{
    char s[11];
    int i = 10;
    s[i] = 0;
    do
        s[--i] = (char)('0' + v % 10);
    while (v /= 10);
    put_str(s + i);
}

/* Ends the line being built and prints it: one transmitq buffer. */
static void put_line(void)
{
    line[line_len++] = '\n';
    if (console.base) {
        set_desc(&console.queue, 0, line, line_len, 0);
        if (submit(&console, CONSOLE_TRANSMITQ) < 0) {
            console.base = 0;
            kprintf("virtio-console: the device stopped answering; back to COM1\n");
        }
    }
    if (!console.base)
        for (uint32_t i = 0; i < line_len; i++)
            serial_putc(line[i]);
    line_len = 0;
}

/* ---- virtio-blk (spec 5.2.6): header, data, status byte ---------------- */
struct blk_header { uint32_t type, reserved; uint64_t sector; };
static struct blk_header blk_req;
static uint8_t blk_status;
static uint8_t sector_buf[SECTOR_SIZE];

/* Returns the request's status byte (0 OK), or 0xff if it was not handled. */
static uint8_t blk_transfer(uint32_t type, uint32_t sector)
{
    struct virtq *q = &blk.queue;
    blk_req = (struct blk_header){ type, 0, sector };
    blk_status = 0xFF;
    set_desc(q, 0, &blk_req, sizeof blk_req, VIRTQ_DESC_F_NEXT);
    set_desc(q, 1, sector_buf, SECTOR_SIZE, VIRTQ_DESC_F_NEXT | (type == VIRTIO_BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0));
    set_desc(q, 2, &blk_status, 1, VIRTQ_DESC_F_WRITE);
    if (submit(&blk, 0) < 0)
        return 0xFF;
    return *(volatile uint8_t *)&blk_status;
}

static const char blk_pattern[] = "minios wrote this sector through virtio-blk";

static void put_printable(const uint8_t *p, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        char c[2] = { p[i] >= 0x20 && p[i] < 0x7F ? (char)p[i] : '.', 0 };
        put_str(c);
    }
}

static void blk_demo(void)
{
    uint8_t st = blk_transfer(VIRTIO_BLK_T_IN, 0);
    put_str("virtio-blk: read sector 0 (status ");
    put_dec(st);
    put_str("): ");
    for (uint32_t i = 0; i < 16; i++) {
        put_hex8(sector_buf[i]);
        put_str(" ");
    }
    put_str("\"");
    put_printable(sector_buf, 16);
    put_str("\"");
    put_line();

    memset(sector_buf, 0, SECTOR_SIZE);
    memcpy(sector_buf, blk_pattern, sizeof blk_pattern);
    uint8_t wrote = blk_transfer(VIRTIO_BLK_T_OUT, 1);
    memset(sector_buf, 0, SECTOR_SIZE);
    uint8_t read = blk_transfer(VIRTIO_BLK_T_IN, 1);
    int same = memcmp(sector_buf, blk_pattern, sizeof blk_pattern) == 0;
    put_str("virtio-blk: wrote sector 1 (status ");
    put_dec(wrote);
    put_str("), read it back (status ");
    put_dec(read);
    put_str("): \"");
    put_printable(sector_buf, sizeof blk_pattern - 1);
    put_str(same ? "\", the same" : "\", DIFFERENT");
    put_line();
}

void virtio_init(void)
{
    paging_map_device(VIRTIO_MMIO_BASE, slots_page_table);
    /* The console first, so every line below can go through it. */
    int have_console = device_init(&console, 1, DEVICE_ID_CONSOLE, CONSOLE_TRANSMITQ);
    int have_blk = device_init(&blk, 0, DEVICE_ID_BLOCK, 0);
    put_str("virtio: slot 0xfeb00000: ");
    if (have_blk) {
        put_str("virtio-blk, ");
        put_dec(reg_read(&blk, REG_CONFIG)); /* capacity, low word: images below 2 TiB */
        put_str(" sectors, VERSION_1, one queue of 4, DRIVER_OK");
    } else {
        put_str("no virtio-blk");
    }
    put_line();
    put_str("virtio: slot 0xfeb00200: ");
    put_str(have_console ? "virtio-console, VERSION_1, transmitq of 4, DRIVER_OK; these lines go through it"
                         : "no virtio-console; these lines go to COM1");
    put_line();
    if (have_blk)
        blk_demo();
}
