/*
 * c_protected: protected-mode plumbing in one freestanding C file.
 *
 * Everything lives here: the multiboot header, the entry, the interrupt
 * stubs and the small test routines are top-level asm; the tables and the
 * reporting are C.  Nothing is shared with samples/common.
 *
 * QEMU's TCG does not check data segment limits, so the limit tests only
 * run when the command line holds the word "strict"; the default run prints
 * only what QEMU gets right.
 *
 * It installs its own GDT (flat code/data plus a byte-limit segment, 32- and
 * 16-bit expand-down segments, a 16-bit stack segment, an execute-only code
 * segment, a not-present one, a read-only one and a 16-bit code segment),
 * reloads CS with a far jump, installs an IDT and then reports, line by line:
 * segment limit faults ("strict" only), selector-load faults with their
 * error codes, #DE,
 * #BP/#OF/#BR/#UD, INT 0x30 through a trap gate whose handler changes EAX
 * and the saved EFLAGS, IDT gate faults (not present, bad type, beyond the
 * IDT limit), IRET with a crafted EFLAGS image, a far call into 16-bit code
 * and pushes on a 16-bit stack segment that wrap SP.
 *
 * Faulting EIPs are printed relative to a label on the faulting (or, for
 * traps, the trapping) instruction.  The UART is not initialised; LSR.THRE
 * is polled before each byte.  A few bytes also go to the debug console at
 * 0xE9.  Exit: 0x11 to isa-debug-exit (status 35); 0x7F on a surprise.
 */
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

#define SEL_CODE    0x08
#define SEL_DATA    0x10
#define SEL_SMALL   0x18    /* base small_buf, limit 0xFF, byte granular */
#define SEL_EDOWN32 0x20    /* expand-down, limit 0xFFF, B=1 */
#define SEL_EDOWN16 0x28    /* expand-down, limit 0xFFF, B=0 */
#define SEL_STACK16 0x30    /* base 0x200000, limit 0xFFFF, B=0 */
#define SEL_XONLY   0x38    /* execute-only code */
#define SEL_NOTPRES 0x40    /* data, P=0 */
#define SEL_RDONLY  0x48    /* read-only data */
#define SEL_CODE16  0x50    /* 16-bit code, base code16_start */
#define GDT_ENTRIES 11

#define EDOWN_BASE  0x00300000u
#define STACK16_BASE 0x00200000u

/* ------------------------------------------------------------------ */
/* multiboot header, entry, interrupt stubs                            */

__asm__(
    ".section .mb, \"a\"\n"
    ".balign 4\n"
    ".long 0x1BADB002, 0, -0x1BADB002\n"   /* flags 0: nothing requested */

    ".text\n"
    ".globl boot\n"
    "boot:\n"
    "    movl $boot_stack_top, %esp\n"
    "    pushl $0\n"
    "    popfl\n"
    "    pushl %ebx\n"                       /* multiboot info */
    "    pushl %eax\n"                       /* magic */
    "    call c_main\n"
    "0:  cli\n"
    "    hlt\n"
    "    jmp 0b\n"

    /* isrN: push a dummy error code where the CPU pushes none */
    ".macro ISR_NOERR v\n"
    "isr\\v: pushl $0\n"
    "    pushl $\\v\n"
    "    jmp isr_common\n"
    ".endm\n"
    ".macro ISR_ERR v\n"
    "isr\\v: pushl $\\v\n"
    "    jmp isr_common\n"
    ".endm\n"
    ".irp v, 0,1,2,3,4,5,6,7,9,15,16,18,19,48\n"
    "    ISR_NOERR \\v\n"
    ".endr\n"
    ".irp v, 8,10,11,12,13,14,17\n"
    "    ISR_ERR \\v\n"
    ".endr\n"
    "isr_common:\n"
    "    pushal\n"
    "    pushl %ds\n"
    "    pushl %es\n"
    "    pushl %fs\n"
    "    pushl %gs\n"
    "    movw $0x10, %ax\n"
    "    movw %ax, %ds\n"
    "    movw %ax, %es\n"
    "    cld\n"
    "    pushl %esp\n"
    "    call isr_c\n"
    "    addl $4, %esp\n"
    "    popl %gs\n"
    "    popl %fs\n"
    "    popl %es\n"
    "    popl %ds\n"
    "    popal\n"
    "    addl $8, %esp\n"
    "    iret\n"

    ".section .rodata\n"
    ".balign 4\n"
    ".globl isr_table\n"
    "isr_table:\n"
    ".irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19\n"
    "    .long isr\\v\n"
    ".endr\n"
    ".globl isr_48\n"
    "isr_48: .long isr48\n"

    ".bss\n"
    ".balign 16\n"
    "boot_stack: .skip 16384\n"
    "boot_stack_top:\n"
    ".text\n");

/*
 * Test routines.  Each `name` is called from C; `name_f` labels the
 * instruction expected to fault or trap, `name_r` is where the exception
 * handler resumes a fault.  They only clobber EAX, ECX, EDX (and restore
 * the data segment registers they touch).
 */
__asm__(
    ".text\n"
    /* reload CS through a far jump and the data segments from the new GDT */
    ".globl reload_segments\n"
    "reload_segments:\n"
    "    ljmp $0x08, $1f\n"
    "1:  movw $0x10, %ax\n"
    "    movw %ax, %ds\n"
    "    movw %ax, %es\n"
    "    movw %ax, %fs\n"
    "    movw %ax, %gs\n"
    "    movw %ax, %ss\n"
    "    ret\n"

    ".macro TEST name\n"
    "    .globl \\name, \\name\\()_f, \\name\\()_r\n"
    "\\name:\n"
    ".endm\n"

    /* limits of a 256-byte expand-up segment in ES */
    "TEST t_small_byte\n"
    "    movw $0x18, %ax\n"
    "    movw %ax, %es\n"
    "t_small_byte_f:\n"
    "    movb $0x5A, %es:0xFF\n"
    "t_small_byte_r:\n"
    "    movw $0x10, %ax\n"
    "    movw %ax, %es\n"
    "    ret\n"
    "TEST t_small_dword\n"
    "    movw $0x18, %ax\n"
    "    movw %ax, %es\n"
    "t_small_dword_f:\n"
    "    movl $0xA5A5A5A5, %es:0xFD\n"
    "t_small_dword_r:\n"
    "    movw $0x10, %ax\n"
    "    movw %ax, %es\n"
    "    ret\n"
    "TEST t_small_past\n"
    "    movw $0x18, %ax\n"
    "    movw %ax, %es\n"
    "t_small_past_f:\n"
    "    movb $0xC3, %es:0x100\n"
    "t_small_past_r:\n"
    "    movw $0x10, %ax\n"
    "    movw %ax, %es\n"
    "    ret\n"

    /* 32-bit expand-down in FS: valid offsets 0x1000..0xFFFFFFFF */
    ".macro EDOWN name, sreg, sel, insn\n"
    "TEST \\name\n"
    "    movw $\\sel, %ax\n"
    "    movw %ax, \\sreg\n"
    "\\name\\()_f:\n"
    "    \\insn\n"
    "\\name\\()_r:\n"
    "    movw $0x10, %ax\n"
    "    movw %ax, \\sreg\n"
    "    ret\n"
    ".endm\n"
    "EDOWN t_ed32_1000, %fs, 0x20, \"movl %fs:0x1000, %edx\"\n"
    "EDOWN t_ed32_0ffc, %fs, 0x20, \"movl %fs:0xFFC, %edx\"\n"
    "EDOWN t_ed32_top,  %fs, 0x20, \"movl %fs:0xFFFFFFFC, %edx\"\n"
    /* 16-bit expand-down in GS: valid offsets 0x1000..0xFFFF */
    "EDOWN t_ed16_ffff, %gs, 0x28, \"movb %gs:0xFFFF, %dl\"\n"
    "EDOWN t_ed16_fffe, %gs, 0x28, \"movl %gs:0xFFFE, %edx\"\n"
    "EDOWN t_ed16_10000, %gs, 0x28, \"movb %gs:0x10000, %dl\"\n"
    "EDOWN t_ed16_0800, %gs, 0x28, \"movb %gs:0x800, %dl\"\n"
    "EDOWN t_null_access, %ds, 0x00, \"movl 0x1000, %edx\"\n"

    /* selector loads */
    ".macro LOADSEG name, sreg, sel\n"
    "TEST \\name\n"
    "    movw $\\sel, %ax\n"
    "\\name\\()_f:\n"
    "    movw %ax, \\sreg\n"
    "\\name\\()_r:\n"
    "    movw $0x10, %ax\n"
    "    movw %ax, \\sreg\n"
    "    ret\n"
    ".endm\n"
    "LOADSEG t_ld_xonly,   %ds, 0x38\n"
    "LOADSEG t_ld_beyond,  %ds, 0x1F8\n"
    "LOADSEG t_ld_notpres, %ds, 0x40\n"
    "LOADSEG t_ld_rpl3,    %ds, 0x13\n"
    "LOADSEG t_ld_code16,  %ds, 0x50\n"
    "LOADSEG t_ld_nullds,  %ds, 0x00\n"
    "LOADSEG t_ld_ss_null, %ss, 0x00\n"
    "LOADSEG t_ld_ss_ro,   %ss, 0x48\n"
    "LOADSEG t_ld_ss_16,   %ss, 0x30\n"
    "LOADSEG t_ld_ldt,     %es, 0x0C\n"

    /* divide errors */
    "TEST t_div0\n"
    "    movl $1234, %eax\n"
    "    xorl %edx, %edx\n"
    "    xorl %ecx, %ecx\n"
    "t_div0_f:\n"
    "    divl %ecx\n"
    "t_div0_r:\n"
    "    ret\n"
    "TEST t_idiv_ovf\n"
    "    movl $0x80000000, %eax\n"
    "    cltd\n"
    "    movl $-1, %ecx\n"
    "t_idiv_ovf_f:\n"
    "    idivl %ecx\n"
    "t_idiv_ovf_r:\n"
    "    ret\n"
    "TEST t_div8_ovf\n"
    "    movw $0x1000, %ax\n"
    "    movb $0x10, %cl\n"
    "t_div8_ovf_f:\n"
    "    divb %cl\n"
    "t_div8_ovf_r:\n"
    "    ret\n"

    /* traps and the other simple faults */
    "TEST t_int3\n"
    "t_int3_f:\n"
    "    int3\n"
    "t_int3_r:\n"
    "    ret\n"
    "TEST t_into_set\n"
    "    movl $0x7FFFFFFF, %eax\n"
    "    incl %eax\n"                         /* OF = 1 */
    "t_into_set_f:\n"
    "    into\n"
    "t_into_set_r:\n"
    "    ret\n"
    "TEST t_into_clear\n"
    "    xorl %eax, %eax\n"                   /* OF = 0 */
    "t_into_clear_f:\n"
    "    into\n"
    "t_into_clear_r:\n"
    "    ret\n"
    "TEST t_bound\n"
    "    movl $11, %eax\n"
    "t_bound_f:\n"
    "    boundl %eax, bound_pair\n"
    "t_bound_r:\n"
    "    ret\n"
    "TEST t_ud2\n"
    "t_ud2_f:\n"
    "    ud2\n"
    "t_ud2_r:\n"
    "    ret\n"

    /* INT 0x30: handler returns EAX*3+1 and sets CF|OF, clears ZF */
    "TEST t_int30\n"
    "    movl $41, %eax\n"
    "    cmpl %eax, %eax\n"                   /* ZF=1 PF=1 CF=0 OF=0 */
    "t_int30_f:\n"
    "    int $0x30\n"
    "t_int30_r:\n"
    "    pushfl\n"
    "    popl int30_flags\n"
    "    movl %eax, int30_eax\n"
    "    ret\n"

    /* gate problems */
    "TEST t_int31\n"
    "t_int31_f:\n"
    "    int $0x31\n"
    "t_int31_r:\n"
    "    ret\n"
    "TEST t_int32\n"
    "t_int32_f:\n"
    "    int $0x32\n"
    "t_int32_r:\n"
    "    ret\n"
    "TEST t_int50\n"
    "t_int50_f:\n"
    "    int $0x50\n"
    "t_int50_r:\n"
    "    ret\n"

    /* IRET to the next instruction with a crafted EFLAGS image */
    ".globl t_iret_flags\n"
    "t_iret_flags:\n"
    "    pushl iret_flags_in\n"
    "    pushl %cs\n"
    "    pushl $1f\n"
    "    iret\n"
    "1:  pushfl\n"
    "    popl iret_flags_out\n"
    "    pushl $2\n"
    "    popfl\n"
    "    ret\n"

    /* far call into a 16-bit code segment (base = code16_start) */
    ".globl t_code16\n"
    "t_code16:\n"
    "    pushl %ebx\n"
    "    movl $0x12345678, %eax\n"
    "    movl $0xCAFEBABE, %ebx\n"
    "    movl $0x5A5AFFFF, %ecx\n"
    "    lcall $0x50, $0\n"
    "    movl %eax, c16_eax\n"
    "    movl %ebx, c16_ebx\n"
    "    movl %ecx, c16_ecx\n"
    "    movl %edx, c16_edx\n"
    "    popl %ebx\n"
    "    ret\n"
    ".code16\n"
    ".globl code16_start\n"
    "code16_start:\n"
    "    movw $0x1111, %ax\n"                 /* only AX: EAX high half stays */
    "    addw %ax, %ax\n"
    "    movl $0xDEADBEEF, %edx\n"            /* 0x66 prefix in 16-bit code */
    "    xchgb %dl, %dh\n"
    "    incw %cx\n"                          /* CX FFFF -> 0, ECX high half stays */
    "    movw %cs, %bx\n"                     /* BX = 0x0050 */
    "    lretl\n"                             /* 0x66 0xCB: pop EIP and CS */
    ".code32\n"

    /* pushes on a 16-bit stack segment wrap SP, keep ESP's high half */
    ".globl t_stack16\n"
    "t_stack16:\n"
    "    pushl %ebx\n"
    "    pushl %esi\n"
    "    pushl %edi\n"
    "    pushl %ebp\n"
    "    movl %esp, saved_esp\n"
    "    movw $0x30, %ax\n"
    "    movw %ax, %ss\n"
    "    movl $0xABCD0002, %esp\n"
    "    pushw $0x1122\n"
    "    movl %esp, %ebx\n"
    "    pushw $0x3344\n"
    "    movl %esp, %ecx\n"
    "    pushl $0x55667788\n"
    "    movl %esp, %edx\n"
    "    popl %eax\n"
    "    popw %si\n"
    "    popw %di\n"
    "    movl %esp, %ebp\n"
    "    movl %ebx, st16_esp+0\n"
    "    movl %ecx, st16_esp+4\n"
    "    movl %edx, st16_esp+8\n"
    "    movl %ebp, st16_esp+12\n"
    "    movl %eax, st16_pop+0\n"
    "    movw %si, st16_pop+4\n"
    "    movw %di, st16_pop+8\n"
    "    movw $0x10, %ax\n"
    "    movw %ax, %ss\n"
    "    movl saved_esp, %esp\n"
    "    popl %ebp\n"
    "    popl %edi\n"
    "    popl %esi\n"
    "    popl %ebx\n"
    "    ret\n");

/* ------------------------------------------------------------------ */
/* data                                                                */

struct frame {
    u32 gs, fs, es, ds;
    u32 edi, esi, ebp, esp0, ebx, edx, ecx, eax;
    u32 vec, err;
    u32 eip, cs, eflags;
};

struct seg_desc {
    u16 limit_lo, base_lo;
    u8 base_mid, access, gran, base_hi;
} __attribute__((packed));

struct gate {
    u16 off_lo, sel;
    u8 zero, type;
    u16 off_hi;
} __attribute__((packed));

struct table_reg {
    u16 limit;
    u32 base;
} __attribute__((packed));

static struct seg_desc gdt[GDT_ENTRIES] __attribute__((aligned(8)));
static struct gate idt[64] __attribute__((aligned(8)));

/* A page of which the first 256 bytes are the small segment; the rest
 * is a guard that must stay untouched. */
u8 small_buf[512] __attribute__((aligned(256)));

volatile u32 resume_eip;
volatile struct {
    u32 count, vec, err, eip, cs, eflags;
} last;

u32 int30_eax, int30_flags;
u32 iret_flags_in = 0x0025BCFD, iret_flags_out;
u32 c16_eax, c16_ebx, c16_ecx, c16_edx;
u32 saved_esp, st16_esp[4], st16_pop[3];
int bound_pair[2] = {0, 10};

extern const u32 isr_table[20], isr_48[1];
extern const char code16_start[];

void c_main(u32 magic, const u32 *mbi);
void isr_c(struct frame *f);
void reload_segments(void);

#define DECL_TEST(n) extern void n(void); extern const char n##_f[], n##_r[];
DECL_TEST(t_small_byte)
DECL_TEST(t_small_dword)
DECL_TEST(t_small_past)
DECL_TEST(t_ed32_1000)
DECL_TEST(t_ed32_0ffc)
DECL_TEST(t_ed32_top)
DECL_TEST(t_ed16_ffff)
DECL_TEST(t_ed16_fffe)
DECL_TEST(t_ed16_10000)
DECL_TEST(t_ed16_0800)
DECL_TEST(t_null_access)
DECL_TEST(t_ld_xonly)
DECL_TEST(t_ld_beyond)
DECL_TEST(t_ld_notpres)
DECL_TEST(t_ld_rpl3)
DECL_TEST(t_ld_code16)
DECL_TEST(t_ld_nullds)
DECL_TEST(t_ld_ss_null)
DECL_TEST(t_ld_ss_ro)
DECL_TEST(t_ld_ss_16)
DECL_TEST(t_ld_ldt)
DECL_TEST(t_div0)
DECL_TEST(t_idiv_ovf)
DECL_TEST(t_div8_ovf)
DECL_TEST(t_int3)
DECL_TEST(t_into_set)
DECL_TEST(t_into_clear)
DECL_TEST(t_bound)
DECL_TEST(t_ud2)
DECL_TEST(t_int30)
DECL_TEST(t_int31)
DECL_TEST(t_int32)
DECL_TEST(t_int50)
extern void t_iret_flags(void), t_code16(void), t_stack16(void);

/* ------------------------------------------------------------------ */
/* port I/O and output                                                 */

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port)
{
    u8 v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static void putc_serial(char c)
{
    while (!(inb(0x3FD) & 0x20))
        ;
    outb(0x3F8, (u8)c);
}

static void puts_serial(const char *s)
{
    while (*s)
        putc_serial(*s++);
}

static void put_hex(u32 v, int digits)
{
    while (digits--)
        putc_serial("0123456789ABCDEF"[(v >> (digits * 4)) & 15]);
}

static void put_sdec(int v)
{
    char b[12];
    int n = 0;
    u32 u = v < 0 ? 0u - (u32)v : (u32)v;
    if (v < 0)
        putc_serial('-');
    do {
        b[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    while (n)
        putc_serial(b[--n]);
}

static void debugcon(const char *s)
{
    while (*s)
        outb(0xE9, (u8)*s++);
}

static void halt_exit(u32 code)
{
    outl(0xF4, code);
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* ------------------------------------------------------------------ */
/* tables                                                              */

static void set_seg(int i, u32 base, u32 limit, u8 access, u8 flags)
{
    gdt[i].limit_lo = (u16)limit;
    gdt[i].base_lo = (u16)base;
    gdt[i].base_mid = (u8)(base >> 16);
    gdt[i].access = access;
    gdt[i].gran = (u8)((flags << 4) | ((limit >> 16) & 0x0F));
    gdt[i].base_hi = (u8)(base >> 24);
}

static void set_gate(int v, u32 off, u8 type)
{
    idt[v].off_lo = (u16)off;
    idt[v].sel = SEL_CODE;
    idt[v].zero = 0;
    idt[v].type = type;
    idt[v].off_hi = (u16)(off >> 16);
}

static void setup_tables(void)
{
    /* flags nibble: G=8, D/B=4 */
    set_seg(0, 0, 0, 0, 0);
    set_seg(1, 0, 0xFFFFF, 0x9A, 0xC);
    set_seg(2, 0, 0xFFFFF, 0x92, 0xC);
    set_seg(3, (u32)small_buf, 0xFF, 0x92, 0x4);
    set_seg(4, EDOWN_BASE, 0xFFF, 0x96, 0x4);
    set_seg(5, EDOWN_BASE, 0xFFF, 0x96, 0x0);
    set_seg(6, STACK16_BASE, 0xFFFF, 0x92, 0x0);
    set_seg(7, 0, 0xFFFFF, 0x98, 0xC);
    set_seg(8, 0, 0xFFFFF, 0x12, 0xC);
    set_seg(9, 0, 0xFFFFF, 0x90, 0xC);
    set_seg(10, (u32)code16_start, 0xFFFF, 0x9A, 0x0);

    struct table_reg g = {sizeof gdt - 1, (u32)gdt};
    __asm__ volatile("lgdt %0" : : "m"(g));
    reload_segments();

    for (int v = 0; v < 20; ++v)
        set_gate(v, isr_table[v], 0x8E);     /* 32-bit interrupt gates */
    set_gate(0x30, isr_48[0], 0x8F);         /* 32-bit trap gate */
    set_gate(0x31, isr_48[0], 0x0E);         /* well-formed but P=0 */
    /* 0x32 stays all-zero: not a gate type at all */
    struct table_reg r = {sizeof idt - 1, (u32)idt};
    __asm__ volatile("lidt %0" : : "m"(r));
    /* LDTR after reset is base 0 limit FFFF: make it null so TI=1 faults */
    __asm__ volatile("lldt %w0" : : "r"(0));
}

/* ------------------------------------------------------------------ */
/* exceptions                                                          */

static const char *const exc_name[20] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#MF9",
    "#TS", "#NP", "#SS", "#GP", "#PF", "x15", "#MF", "#AC", "#MC", "#XM",
};

void isr_c(struct frame *f)
{
    last.count++;
    last.vec = f->vec;
    last.err = f->err;
    last.eip = f->eip;
    last.cs = f->cs;
    last.eflags = f->eflags;

    if (f->vec == 0x30) {
        f->eax = f->eax * 3 + 1;
        f->eflags = (f->eflags | 0x801) & ~0x40u;   /* CF, OF set; ZF clear */
        return;
    }
    if (f->vec == 3 || f->vec == 4)
        return;                                   /* traps: EIP is already past */
    if (resume_eip) {
        f->eip = resume_eip;
        resume_eip = 0;
        f->ds = f->es = f->fs = f->gs = SEL_DATA;
        return;
    }
    puts_serial("UNEXPECTED exception vec=");
    put_hex(f->vec, 2);
    puts_serial(" err=");
    put_hex(f->err, 4);
    puts_serial(" eip=");
    put_hex(f->eip, 8);
    putc_serial('\n');
    halt_exit(0x7F);
}

static void run(const char *what, void (*fn)(void), const char *at, const char *resume)
{
    last.count = 0;
    resume_eip = (u32)resume;
    fn();
    resume_eip = 0;
    puts_serial(what);
    puts_serial(": ");
    if (!last.count) {
        puts_serial("no exception\n");
        return;
    }
    puts_serial(last.vec < 20 ? exc_name[last.vec] : "INT");
    if (last.vec == 8 || (last.vec >= 10 && last.vec <= 14) || last.vec == 17) {
        putc_serial('(');
        put_hex(last.err, 4);
        putc_serial(')');
    }
    puts_serial(" vec=");
    put_hex(last.vec, 2);
    puts_serial(" eip=label");
    int d = (int)(last.eip - (u32)at);
    if (d >= 0)
        putc_serial('+');
    put_sdec(d);
    puts_serial(" cs=");
    put_hex(last.cs, 4);
    if (last.count != 1) {
        puts_serial(" count=");
        put_sdec((int)last.count);
    }
    putc_serial('\n');
}

#define RUN(what, n) run(what, n, n##_f, n##_r)

static u16 read_sreg_cs(void) { u16 v; __asm__ volatile("movw %%cs, %0" : "=r"(v)); return v; }
static u16 read_sreg_ds(void) { u16 v; __asm__ volatile("movw %%ds, %0" : "=r"(v)); return v; }
static u16 read_sreg_ss(void) { u16 v; __asm__ volatile("movw %%ss, %0" : "=r"(v)); return v; }

static int cmdline_has(u32 magic, const u32 *mbi, const char *w)
{
    if (magic != 0x2BADB002 || !(mbi[0] & 4))
        return 0;
    for (const char *s = (const char *)mbi[4]; *s; ++s) {
        int i = 0;
        while (w[i] && s[i] == w[i])
            ++i;
        if (!w[i] && (s[i] == 0 || s[i] == ' '))
            return 1;
    }
    return 0;
}

void c_main(u32 magic, const u32 *mbi)
{
    debugcon("c_protected: hello debugcon\n");
    puts_serial("c_protected: own GDT/IDT, segment and interrupt checks\n");

    setup_tables();
    puts_serial("after far jump: cs=");
    put_hex(read_sreg_cs(), 4);
    puts_serial(" ds=");
    put_hex(read_sreg_ds(), 4);
    puts_serial(" ss=");
    put_hex(read_sreg_ss(), 4);
    putc_serial('\n');

    struct table_reg g, i;
    __asm__ volatile("sgdt %0\n\tsidt %1" : "=m"(g), "=m"(i));
    puts_serial("sgdt limit=");
    put_hex(g.limit, 4);
    puts_serial(" base==gdt: ");
    puts_serial(g.base == (u32)gdt ? "yes" : "no");
    puts_serial("; sidt limit=");
    put_hex(i.limit, 4);
    puts_serial(" base==idt: ");
    puts_serial(i.base == (u32)idt ? "yes\n" : "no\n");

    /*
     * Segment limits.  QEMU's TCG never checks data segment limits (neither
     * expand-up nor expand-down), so these lines cannot be compared against
     * QEMU; they run only with "strict" on the command line.
     */
    if (!cmdline_has(magic, mbi, "strict")) {
        puts_serial("segment limit checks: skipped (pass \"strict\")\n");
        goto limits_done;
    }
    for (int k = 0; k < 512; ++k)
        small_buf[k] = 0;
    RUN("es(limit FF) byte at FF", t_small_byte);
    RUN("es(limit FF) dword at FD", t_small_dword);
    RUN("es(limit FF) byte at 100", t_small_past);
    puts_serial("small_buf FC..103:");
    for (int k = 0xFC; k < 0x104; ++k) {
        putc_serial(' ');
        put_hex(small_buf[k], 2);
    }
    putc_serial('\n');

    *(volatile u32 *)(EDOWN_BASE + 0x1000) = 0x0BADF00D;
    RUN("fs(expand-down 32, limit FFF) dword at 1000", t_ed32_1000);
    RUN("fs(expand-down 32, limit FFF) dword at FFC", t_ed32_0ffc);
    RUN("fs(expand-down 32, limit FFF) dword at FFFFFFFC", t_ed32_top);
    RUN("gs(expand-down 16, limit FFF) byte at FFFF", t_ed16_ffff);
    RUN("gs(expand-down 16, limit FFF) dword at FFFE", t_ed16_fffe);
    RUN("gs(expand-down 16, limit FFF) byte at 10000", t_ed16_10000);
    RUN("gs(expand-down 16, limit FFF) byte at 800", t_ed16_0800);
    RUN("null ds, dword at 1000", t_null_access);
limits_done:

    /* selector loads */
    RUN("mov ds, 0038 (execute-only code)", t_ld_xonly);
    RUN("mov ds, 01F8 (beyond GDT limit)", t_ld_beyond);
    RUN("mov ds, 0040 (not present)", t_ld_notpres);
    RUN("mov ds, 0013 (RPL3 > DPL0)", t_ld_rpl3);
    RUN("mov ds, 0050 (readable code)", t_ld_code16);
    RUN("mov ds, 0000 (null)", t_ld_nullds);
    RUN("mov ss, 0000 (null)", t_ld_ss_null);
    RUN("mov ss, 0048 (read-only)", t_ld_ss_ro);
    RUN("mov ss, 0030 (16-bit writable)", t_ld_ss_16);
    RUN("mov es, 000C (TI=1, after lldt 0)", t_ld_ldt);

    /* divide errors */
    RUN("div ecx=0", t_div0);
    RUN("idiv 80000000/-1", t_idiv_ovf);
    RUN("div8 1000/10", t_div8_ovf);

    /* traps and faults without error codes */
    RUN("int3", t_int3);
    RUN("into OF=1", t_into_set);
    RUN("into OF=0", t_into_clear);
    RUN("bound 11 in [0,10]", t_bound);
    RUN("ud2", t_ud2);

    /* software interrupt through a trap gate */
    RUN("int 30", t_int30);
    puts_serial("int 30 returned eax=");
    put_sdec((int)int30_eax);
    puts_serial(" flags(CF PF ZF SF OF)=");
    put_hex(int30_flags & 0x8C5, 3);
    puts_serial(" saved eflags IF=");
    putc_serial(last.eflags & 0x200 ? '1' : '0');
    putc_serial('\n');

    RUN("int 31 (gate P=0)", t_int31);
    RUN("int 32 (zero descriptor)", t_int32);
    RUN("int 50 (beyond IDT limit)", t_int50);

    /* IRET with a crafted EFLAGS image */
    t_iret_flags();
    puts_serial("iret eflags in=");
    put_hex(iret_flags_in, 8);
    puts_serial(" out=");
    put_hex(iret_flags_out, 8);
    putc_serial('\n');

    /* 16-bit code segment */
    t_code16();
    puts_serial("code16: eax=");
    put_hex(c16_eax, 8);
    puts_serial(" ebx=");
    put_hex(c16_ebx, 8);
    puts_serial(" ecx=");
    put_hex(c16_ecx, 8);
    puts_serial(" edx=");
    put_hex(c16_edx, 8);
    putc_serial('\n');

    /* 16-bit stack segment */
    *(volatile u32 *)(STACK16_BASE + 0xFFFC) = 0;
    *(volatile u32 *)(STACK16_BASE + 0x0000) = 0;
    t_stack16();
    puts_serial("stack16 esp:");
    for (int k = 0; k < 4; ++k) {
        putc_serial(' ');
        put_hex(st16_esp[k], 8);
    }
    puts_serial(" pops: ");
    put_hex(st16_pop[0], 8);
    putc_serial(' ');
    put_hex(st16_pop[1] & 0xFFFF, 4);
    putc_serial(' ');
    put_hex(st16_pop[2] & 0xFFFF, 4);
    putc_serial('\n');
    puts_serial("stack16 memory: [0]=");
    put_hex(*(volatile u16 *)(STACK16_BASE + 0), 4);
    puts_serial(" [FFFA]=");
    put_hex(*(volatile u32 *)(STACK16_BASE + 0xFFFA), 8);
    puts_serial(" [FFFE]=");
    put_hex(*(volatile u16 *)(STACK16_BASE + 0xFFFE), 4);
    putc_serial('\n');

    debugcon("c_protected: bye\n");
    puts_serial("c_protected: done, exit 0x11\n");
    halt_exit(0x11);
}
