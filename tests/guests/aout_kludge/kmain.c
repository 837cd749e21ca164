/*
 * aout_kludge: reports what the multiboot loader handed over.
 *
 * Serial output goes straight to THR at 0x3F8: no UART initialisation and
 * no LSR polling at all (QEMU's 16550 accepts bytes regardless).
 *
 * Default run prints only what any QEMU-compatible loader must reproduce
 * exactly: the magic in EAX, whether MBI flag bits 0, 2 and 6 are set, and
 * the command line (QEMU passes "<kernel path> <-append text>", so the first
 * word is reduced to its basename).  With the word "verbose" on the command
 * line it also dumps the machine-dependent fields (memory sizes, memory map,
 * boot device, loader name).
 */
typedef unsigned int u32;
typedef unsigned long long u64;
typedef unsigned char u8;

struct mb_info {
    u32 flags;
    u32 mem_lower, mem_upper;
    u32 boot_device;
    u32 cmdline;
    u32 mods_count, mods_addr;
    u32 syms[4];
    u32 mmap_length, mmap_addr;
    u32 drives_length, drives_addr;
    u32 config_table;
    u32 boot_loader_name;
};

struct mb_mmap {
    u32 size;               /* of the rest of the entry, not counting itself */
    u64 base, length;
    u32 type;
} __attribute__((packed));

extern const char mb_header[], __load_start[], __load_end[], __bss_end[];
extern const u32 __image_tail[], __bss_first[];
extern void entry(void);

static inline void outb(unsigned short port, u8 v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(unsigned short port, u32 v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static void ch(char c) { outb(0x3F8, (u8)c); }

static void str(const char *s)
{
    while (*s)
        ch(*s++);
}

static void hex(u32 v, int digits)
{
    for (int i = digits - 1; i >= 0; --i)
        ch("0123456789abcdef"[(v >> (i * 4)) & 15]);
}

static void dec(u32 v)
{
    char buf[12];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        ch(buf[--n]);
}

static void bit(const char *name, u32 flags, int b)
{
    str(name);
    ch('=');
    ch((flags >> b) & 1 ? '1' : '0');
}

static int contains_word(const char *s, const char *w)
{
    for (; *s; ++s) {
        int i = 0;
        while (w[i] && s[i] == w[i])
            ++i;
        if (!w[i] && (s[i] == 0 || s[i] == ' '))
            return 1;
    }
    return 0;
}

/* Zero-initialised, so it lives in .bss: the loader must clear it. */
static u32 bss_probe[64];

void kmain(u32 magic, const struct mb_info *mbi);

void kmain(u32 magic, const struct mb_info *mbi)
{
    u32 here;
    __asm__ volatile("call 1f\n1: popl %0" : "=r"(here));

    str("aout_kludge: flat binary via multiboot a.out kludge\n");
    str("magic: ");
    hex(magic, 8);
    str(magic == 0x2BADB002 ? " ok\n" : " BAD\n");
    /* offsets fixed by head.S, so the output does not depend on code size */
    str("load_addr ");
    hex((u32)__load_start, 8);
    str(", header at +");
    hex((u32)mb_header - (u32)__load_start, 4);
    str(", entry at +");
    hex((u32)entry - (u32)__load_start, 4);
    str(", bss after image: ");
    str((u32)__bss_end > (u32)__load_end ? "yes\n" : "NO\n");
    str("running at link address: ");
    str(here > (u32)__load_start && here < (u32)__load_end ? "yes\n" : "NO\n");
    str("last image word: ");
    hex(__image_tail[0], 8);
    ch('\n');

    u32 nz = 0;
    for (unsigned i = 0; i < sizeof bss_probe / sizeof bss_probe[0]; ++i)
        nz |= bss_probe[i];
    str("bss zeroed: ");
    str(nz ? "NO\n" : "yes\n");
    nz = 0;
    for (unsigned i = 0; i < 32; ++i)
        nz |= __bss_first[i];
    str("file bytes past load_end_addr not loaded: ");
    str(nz ? "NO\n" : "yes\n");

    if (magic != 0x2BADB002) {
        str("no multiboot info\n");
        outl(0xF4, 0x7E);
        return;
    }

    u32 f = mbi->flags;
    str("mbi flags: ");
    bit("mem", f, 0);
    ch(' ');
    bit("cmdline", f, 2);
    ch(' ');
    bit("mmap", f, 6);
    ch('\n');

    const char *cmd = "";
    if (f & (1u << 2)) {
        cmd = (const char *)mbi->cmdline;
        const char *sp = cmd, *base = cmd;
        while (*sp && *sp != ' ') {
            if (*sp == '/')
                base = sp + 1;
            ++sp;
        }
        str("cmdline argv0 basename: \"");
        for (const char *p = base; p < sp; ++p)
            ch(*p);
        str("\"\ncmdline rest: \"");
        str(*sp ? sp + 1 : sp);
        str("\"\n");
    } else {
        str("cmdline: absent\n");
    }

    if (contains_word(cmd, "verbose")) {
        str("-- verbose (machine dependent) --\n");
        str("flags=");
        hex(f, 8);
        ch('\n');
        if (f & 1) {
            str("mem_lower=");
            dec(mbi->mem_lower);
            str("K mem_upper=");
            dec(mbi->mem_upper);
            str("K\n");
        }
        if (f & 2) {
            str("boot_device=");
            hex(mbi->boot_device, 8);
            ch('\n');
        }
        if (f & 8) {
            str("mods_count=");
            dec(mbi->mods_count);
            ch('\n');
        }
        if (f & (1u << 9)) {
            str("boot_loader_name=\"");
            str((const char *)mbi->boot_loader_name);
            str("\"\n");
        }
        if (f & (1u << 6)) {
            str("mmap at ");
            hex(mbi->mmap_addr, 8);
            str(" length ");
            dec(mbi->mmap_length);
            ch('\n');
            u32 p = mbi->mmap_addr, end = p + mbi->mmap_length;
            while (p < end) {
                const struct mb_mmap *e = (const struct mb_mmap *)p;
                str("  base=");
                hex((u32)(e->base >> 32), 8);
                hex((u32)e->base, 8);
                str(" len=");
                hex((u32)(e->length >> 32), 8);
                hex((u32)e->length, 8);
                str(" type=");
                dec(e->type);
                str(" size=");
                dec(e->size);
                ch('\n');
                p += e->size + 4;
            }
        }
        str("mbi at ");
        hex((u32)mbi, 8);
        ch('\n');
    }

    str("aout_kludge: done, exit 0x10\n");
    outl(0xF4, 0x10);
}
