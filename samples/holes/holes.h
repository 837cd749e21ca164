/*
 * holes.h - shared declarations of the holes guest: its selectors, the
 * assembly routines that hold each hole instruction (sites.S), and the
 * state the fault handler shares with them.
 *
 * Every sensitive-but-unprivileged instruction (Robin & Irvine, USENIX
 * Security 2000) the kernel executes lives in sites.S behind a global
 * label, so a monitor's hole report (guest EIP) can be matched to the line
 * this guest prints for it.
 */
#ifndef HOLES_H
#define HOLES_H

/* ---- the guest's GDT (holes.c builds it) ---------------------------------- */

#define SEL_KCODE    0x08 /* code, DPL 0, flat */
#define SEL_KDATA    0x10 /* data, DPL 0, flat */
#define SEL_UCODE    0x1B /* code, DPL 3, flat (RPL 3) */
#define SEL_UDATA    0x23 /* data, DPL 3, flat (RPL 3) */
#define SEL_TSS      0x28 /* 32-bit TSS, DPL 0 */
#define SEL_LDT      0x30 /* LDT, DPL 0 */
#define SEL_CALLGATE 0x38 /* 32-bit call gate, DPL 0, to SEL_KCODE:call_gate_target */
#define GDT_ENTRIES  8

/* The IDT: exceptions 0-31 (DPL 0) and the two INT n test gates. */
#define VEC_INT_DPL0 0x40 /* interrupt gate, DPL 0 */
#define VEC_INT_DPL3 0x41 /* interrupt gate, DPL 3 */
#define IDT_ENTRIES  0x42

#define EFLAGS_IF        0x00000200u
#define EFLAGS_IOPL_MASK 0x00003000u
#define EFLAGS_IOPL(f)   (((f) >> 12) & 3u)

/* The guest's exit code (isa-debug-exit status (0x17 << 1) | 1 = 47),
 * whatever the checks observed: a monitor runs the guest to the end with
 * the wrong results, as real trap-and-emulate on x86 would. */
#define HOLES_EXIT_CODE      0x17
#define HOLES_EXIT_UNEXPECTED 0x7F

#ifndef __ASSEMBLER__
#include "guest.h"

/* ---- fault bookkeeping (sites.S arms it around each check that may fault) - */

extern volatile uint32_t exc_armed;  /* a fault now is expected */
extern volatile uint32_t exc_resume; /* where the handler resumes */
extern volatile uint32_t exc_hit, exc_vec, exc_err;

/* ---- site routines (sites.S) ------------------------------------------------ */

uint32_t read_eflags(void);                       /* PUSHF */
uint32_t read_cs(void);                           /* MOV r/m16, Sreg */
void reload_segments(void);                       /* far JMP, then data segments */
void do_sgdt(struct desc_ptr *out);
void do_sidt(struct desc_ptr *out);
void do_sldt(uint16_t *out);
void do_str(uint16_t *out);
void do_smsw(uint16_t *out);
uint32_t popf_clear_if(void);                     /* returns EFLAGS read back */
uint32_t popf_set_iopl(void);
uint32_t do_push_ss(void);
void iret_same_level(void);                       /* PUSH CS + IRET */
void iret_to_rpl0(void);
void far_call_gate(void);
void far_ret_to_rpl0(void);
void int_dpl0(void);
void int_dpl3(void);
/* Selector queries: return ZF; *out gets the result (0 when ZF = 0). */
uint32_t lar_kcode(uint32_t *out);
uint32_t lsl_kdata(uint32_t *out);
uint32_t lsl_kdata_rpl1(uint32_t *out);
uint32_t verr_kcode(uint32_t *out);
uint32_t verr_kcode_rpl1(uint32_t *out);
uint32_t verw_kdata(uint32_t *out);
uint32_t verw_kdata_rpl1(uint32_t *out);

/* What the routines above leave behind. */
extern volatile uint32_t push_cs_seen;      /* the CS image PUSH CS wrote */
extern volatile uint32_t eflags_after_iret; /* EFLAGS just after the same-level IRET */
extern volatile uint32_t gate_entered, gate_pushed_cs;
extern volatile uint32_t int_entered, int_vector, int_frame_cs, int_frame_eflags;

extern const uint32_t exc_stub_table[32];
void call_gate_target(void);
void int_stub_dpl0(void);
void int_stub_dpl3(void);

/* ---- site labels (each marks the hole instruction itself) ------------------- */

extern const char hole_pushf_site[], hole_mov_sreg_site[], hole_far_jmp_site[];
extern const char hole_sgdt_site[], hole_sidt_site[], hole_sldt_site[], hole_str_site[];
extern const char hole_smsw_site[], hole_popf_if_site[], hole_popf_iopl_site[];
extern const char hole_push_cs_site[], hole_push_ss_site[], hole_iret_flags_site[];
extern const char hole_iret_rpl0_site[], hole_far_call_site[], hole_far_ret_site[];
extern const char hole_int_dpl0_site[], hole_int_dpl3_site[];
extern const char hole_lar_kcode_site[], hole_lsl_kdata_site[], hole_lsl_kdata_rpl1_site[];
extern const char hole_verr_kcode_site[], hole_verr_kcode_rpl1_site[];
extern const char hole_verw_kdata_site[], hole_verw_kdata_rpl1_site[];
/* Sensitive instructions that are not checks (returns from handlers). */
extern const char helper_exc_iret_site[], helper_int_iret_site[], helper_gate_lret_site[];

extern const char __image_start[];

#endif /* !__ASSEMBLER__ */
#endif /* HOLES_H */
