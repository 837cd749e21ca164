// Instruction family: protection control (LLDT, LTR, SLDT, STR, LAR, LSL,
// VERR, VERW, ARPL), after the SDM vol. 2 pages of each and vol. 3, 5.10
// (pointer validation) and 7.2.4 (the task register).
//
// None of these exists in real-address or virtual-8086 mode: each raises
// #UD there before anything else.  Only LLDT and LTR are privileged.  SLDT,
// STR, LAR, LSL, VERR and VERW run at any CPL and tell ring-3 code about
// the descriptor tables: they are sensitive-but-unprivileged, virtualization
// holes the trap and bt monitors find in the sensitivity table, so nothing
// here treats them specially.
//
// In IA-32e mode LLDT and LTR read 16-byte system descriptors (SDM vol. 3,
// 7.2.3; the upper half's type must be 0 and the 64-bit base canonical, as
// AMD's APM vol. 3 lists for both), and LAR and LSL judge system types by
// the IA-32e columns of their tables.  VERR and VERW look at code and data
// descriptors only, which are the same 8 bytes in every mode.
#include "core/isa/operands.h"
#include "core/isa/registry.h"
#include "privilege/descriptors.h"

namespace vtlab::isa {

namespace {

Status require_protected_mode(Cpu& cpu) {
  return cpu.s.real_mode() || cpu.s.v8086() ? cpu.raise(vec::UD) : Status::Ok;
}

Status selector_fault(Cpu& cpu, uint8_t vector, uint16_t sel) {
  return cpu.raise(vector, selector_error(sel, /*ext=*/false));
}

// The system descriptor LLDT or LTR loads: in IA-32e mode all 16 bytes must
// lie within the GDT (#GP(sel)); `d.upper` then holds the upper half.
Status fetch_system_descriptor(Cpu& cpu, uint16_t sel, Descriptor& d) {
  if (cpu.s.long_mode_active()) {
    Descriptor probe;
    TRY(fetch_upper_half(cpu, sel, probe, vec::GP));  // the 16-byte limit check first
    TRY(fetch_descriptor(cpu, sel, d, vec::GP));
    d.upper = probe.upper;
    return Status::Ok;
  }
  return fetch_descriptor(cpu, sel, d, vec::GP);
}

// After the type and present checks: the upper half's type field must be 0
// and the base canonical (IA-32e mode only).
Status check_upper_half(Cpu& cpu, uint16_t sel, const Descriptor& d) {
  if (!cpu.s.long_mode_active()) return Status::Ok;
  if (d.upper_type() != 0 || !is_canonical(d.base())) return selector_fault(cpu, vec::GP, sel);
  return Status::Ok;
}

// --- loading LDTR and TR (privileged) --------------------------------------

// LLDT r/m16.  A null selector leaves LDTR unusable (the selector is kept,
// the cache marked not present), so that every later TI=1 selector faults
// (descriptors.cpp, fetch_descriptor).  Otherwise the selector must name an
// LDT descriptor in the GDT.  The operand size is irrelevant: 16 bits are
// read from memory or the register.
Status lldt(Cpu& cpu, const DecodedInsn& i) {
  TRY(require_protected_mode(cpu));
  TRY(require_cpl0(cpu));
  uint16_t sel;
  TRY(read_op<uint16_t>(cpu, i, 0, sel));
  if (is_null_selector(sel)) {
    make_null_segment(cpu.s.ldtr, sel);
    return Status::Ok;
  }
  if (sel & 4) return selector_fault(cpu, vec::GP, sel);  // the LDT's descriptor lives in the GDT
  Descriptor d;
  TRY(fetch_system_descriptor(cpu, sel, d));
  if (d.s() || d.type() != sys_type::kLdt) return selector_fault(cpu, vec::GP, sel);
  if (!d.present()) return selector_fault(cpu, vec::NP, sel);
  TRY(check_upper_half(cpu, sel, d));
  cpu.s.ldtr = segment_cache(sel, d);
  return Status::Ok;
}

// LTR r/m16.  The selector must name an available 16- or 32-bit TSS in the
// GDT (in IA-32e mode an available 64-bit TSS, type 9); LTR marks it busy in memory (a locked read-modify-write of the
// descriptor on hardware) and loads TR from it, busy type included.  A
// busy TSS is #GP(sel): that is how a second LTR of the same TSS fails.
Status ltr(Cpu& cpu, const DecodedInsn& i) {
  TRY(require_protected_mode(cpu));
  TRY(require_cpl0(cpu));
  uint16_t sel;
  TRY(read_op<uint16_t>(cpu, i, 0, sel));
  if (is_null_selector(sel)) return cpu.raise(vec::GP, 0);
  if (sel & 4) return selector_fault(cpu, vec::GP, sel);
  Descriptor d;
  TRY(fetch_system_descriptor(cpu, sel, d));
  const unsigned type = d.type();
  const bool tss16 = type == sys_type::kTss16Available && !cpu.s.long_mode_active();
  if (d.s() || (!tss16 && type != sys_type::kTss32Available)) return selector_fault(cpu, vec::GP, sel);
  if (!d.present()) return selector_fault(cpu, vec::NP, sel);
  TRY(check_upper_half(cpu, sel, d));
  // The busy flag is bit 1 of the type, in byte 5 of the descriptor.  This
  // write is the last thing that can fault (a read-only GDT page): TR is
  // loaded only after it.
  const uint32_t busy_hi = d.hi | (2u << 8);
  TRY(cpu.write_linear(d.addr + 5, 1, (busy_hi >> 8) & 0xFF, /*supervisor=*/true));
  d.hi = busy_hi;
  cpu.s.tr = segment_cache(sel, d);
  return Status::Ok;
}

// --- storing LDTR and TR -----------------------------------------------------

// SLDT / STR r/m16, r32 (r64 with REX.W).  Memory gets 16 bits whatever the
// operand size; a 32-bit register gets the selector zero-extended (the SDM:
// "cleared for the Pentium 4, Intel Xeon and P6 family", undefined only on
// older parts), a 16-bit register keeps its upper half.  CR4.UMIP, which
// would make both #GP(0) above CPL 0, is not a CR4 bit of this processor
// (system.cpp); on the host, whose kernel sets UMIP, ring-3 SLDT and STR
// trap and Linux answers with made-up values, so the host is no oracle here.
template <SegmentCache CpuState::*Reg> struct StoreSystemSelector {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    TRY(require_protected_mode(cpu));
    return write_op<T>(cpu, i, 0, static_cast<T>((cpu.s.*Reg).selector));
  }
};

// --- LAR, LSL, VERR, VERW -------------------------------------------------------
// Each asks whether the descriptor a selector names would be usable, and
// answers in ZF alone (the other flags are kept; the host agrees).  A
// selector the instruction may not look at clears ZF and leaves the
// destination as it was; it never faults.  The present bit is not
// checked.  Reading the descriptor may still page-fault.

// Reads the descriptor behind `sel` into `d`; `found` is false for a null
// selector or one beyond its table's limit.
Status probe_descriptor(Cpu& cpu, uint16_t sel, Descriptor& d, bool& found) {
  found = !is_null_selector(sel) && selector_in_table(cpu.s, sel);
  if (!found) return Status::Ok;
  return fetch_descriptor(cpu, sel, d, vec::GP);  // cannot raise #GP: the selector is in the table
}

// The privilege rule the four share: a conforming code segment is visible
// from every level, anything else only if both CPL and RPL are at most its
// DPL (SDM vol. 3, 5.10.1).
bool visible(const Cpu& cpu, const Descriptor& d, uint16_t sel) {
  return d.conforming() || (cpu.s.cpl() <= d.dpl() && rpl(sel) <= d.dpl());
}

// System types LAR and LSL accept (SDM vol. 2, the tables on the LAR and
// LSL pages), as bit masks over the type.  Gates have access rights but no
// limit; interrupt and trap gates have neither.  In IA-32e mode only the
// 64-bit TSS (both), the 64-bit call gate (LAR) and the LDT (LSL only: the
// LAR table marks it not valid there) remain; the LSL table also marks
// type 0, "upper 8 bytes of a 16-byte descriptor", valid, which is
// followed here as written.
constexpr uint16_t type_bit(unsigned type) { return uint16_t(1u << type); }
constexpr uint16_t kTss32 = type_bit(sys_type::kTss32Available) | type_bit(sys_type::kTss32Busy);
constexpr uint16_t kTss = type_bit(sys_type::kTss16Available) | type_bit(sys_type::kTss16Busy) | kTss32;
constexpr uint16_t kLslTypes = kTss | type_bit(sys_type::kLdt);
constexpr uint16_t kLarTypes =
    kLslTypes | type_bit(sys_type::kCallGate16) | type_bit(sys_type::kTaskGate) | type_bit(sys_type::kCallGate32);
constexpr uint16_t kLslTypes64 = kTss32 | type_bit(sys_type::kLdt) | type_bit(0);
constexpr uint16_t kLarTypes64 = kTss32 | type_bit(sys_type::kCallGate32);

// The descriptor LAR or LSL reports on, if it passes: visible, and a code or
// data segment or one of `system_types`.
Status inspect_descriptor(Cpu& cpu, const DecodedInsn& i, uint16_t system_types, Descriptor& d, bool& ok) {
  uint16_t sel;
  TRY(read_op<uint16_t>(cpu, i, 1, sel));  // a 32-bit source register: its low word
  TRY(probe_descriptor(cpu, sel, d, ok));
  ok = ok && (d.s() || (system_types & type_bit(d.type()))) && visible(cpu, d, sel);
  return Status::Ok;
}

// LAR r16/r32, r/m16: the access-rights bits of the descriptor's high
// doubleword.  32 bits: mask 00FxFF00 (type, S, DPL, P, AVL, L, D/B, G);
// the SDM leaves "x", the limit's bits 19:16, open, and the host returns
// them as 0 (LAR of Linux's flat user segments gives 00CFFB00 and
// 00CFF300), so the mask is 00F0FF00.  16 bits: FF00 only.
struct Lar {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    TRY(require_protected_mode(cpu));
    Descriptor d;
    bool ok;
    TRY(inspect_descriptor(cpu, i, cpu.s.long_mode_active() ? kLarTypes64 : kLarTypes, d, ok));
    constexpr uint32_t kMask = sizeof(T) == 2 ? 0xFF00 : 0x00F0FF00;
    if (ok) cpu.set_reg<T>(i.op[0].reg, static_cast<T>(d.hi & kMask));
    cpu.s.flags.set(flag::ZF, ok);
    return Status::Ok;
  }
};

// LSL r16/r32, r/m16: the segment limit in bytes, G applied; a 16-bit
// destination gets its low word.  The limit is the raw field, whatever the
// segment's direction (expand-down too).
struct Lsl {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    TRY(require_protected_mode(cpu));
    Descriptor d;
    bool ok;
    TRY(inspect_descriptor(cpu, i, cpu.s.long_mode_active() ? kLslTypes64 : kLslTypes, d, ok));
    if (ok) cpu.set_reg<T>(i.op[0].reg, static_cast<T>(d.limit()));
    cpu.s.flags.set(flag::ZF, ok);
    return Status::Ok;
  }
};

// VERR / VERW r/m16: would a data-segment register loaded with this
// selector allow reads (data, or readable code) / writes (writable data)?
// System descriptors never qualify.
template <bool Write> Status verify_segment(Cpu& cpu, const DecodedInsn& i) {
  TRY(require_protected_mode(cpu));
  uint16_t sel;
  TRY(read_op<uint16_t>(cpu, i, 0, sel));
  Descriptor d;
  bool ok;
  TRY(probe_descriptor(cpu, sel, d, ok));
  const bool usable = Write ? d.writable_data() : (d.is_data() || d.readable_code());
  ok = ok && usable && visible(cpu, d, sel);
  cpu.s.flags.set(flag::ZF, ok);
  return Status::Ok;
}

// --- ARPL -----------------------------------------------------------------------

// ARPL r/m16, r16: raises the destination selector's RPL to the source's
// (ZF=1), or leaves it alone (ZF=0).  The destination must be writable
// whatever the outcome (the SDM's #GP(0) for a non-writable segment), but
// it is stored only when it changes: on the host an ARPL that clears ZF
// does not fault on a read-only page, one that sets ZF does.  In 64-bit
// mode opcode 63 is MOVSXD, which the decoder names so.
Status arpl(Cpu& cpu, const DecodedInsn& i) {
  TRY(require_protected_mode(cpu));
  // The SDM's #GP(0) for a non-writable segment applies whether or not
  // ARPL stores; the page is only written (and write-checked) when the RPL
  // changes, as the host CPU shows: a read, not a read-for-write.
  if (i.op[0].kind == OpKind::Mem)
    TRY(cpu.check_segment(i.mem.seg, effective_address(cpu, i), 2, Access::Write));
  uint16_t dest;
  TRY(read_op<uint16_t>(cpu, i, 0, dest));
  const uint16_t src = cpu.reg<uint16_t>(i.op[1].reg);
  const bool raised = rpl(dest) < rpl(src);
  if (raised) TRY(write_op<uint16_t>(cpu, i, 0, static_cast<uint16_t>((dest & ~3u) | rpl(src))));
  cpu.s.flags.set(flag::ZF, raised);
  return Status::Ok;
}

// --- binders --------------------------------------------------------------------

bool is_rm(const Operand& o) { return o.kind == OpKind::Reg || o.kind == OpKind::Mem; }

// LLDT, LTR, VERR, VERW: one r/m16 operand.
template <Handler H> Handler bind_selector_operand(DecodedInsn& i, const ZydisDecodedInstruction&) {
  return is_rm(i.op[0]) && i.op[0].size == 2 ? H : nullptr;
}

// SLDT, STR: m16 or r16/r32/r64.
template <typename Op> Handler bind_store(DecodedInsn& i, const ZydisDecodedInstruction&) {
  return is_rm(i.op[0]) ? by_size_wdq<Op>(i.op[0].size) : nullptr;
}

// LAR, LSL: r16/r32/r64, r/m16 (a register source may show as r32).
template <typename Op> Handler bind_inspect(DecodedInsn& i, const ZydisDecodedInstruction&) {
  return i.op[0].kind == OpKind::Reg && is_rm(i.op[1]) ? by_size_wdq<Op>(i.op[0].size) : nullptr;
}

Handler bind_arpl(DecodedInsn& i, const ZydisDecodedInstruction&) {
  return is_rm(i.op[0]) && i.op[1].kind == OpKind::Reg ? &arpl : nullptr;
}

constexpr uint8_t kPrivileged = info::kPrivileged | info::kEndsBlock;

}  // namespace

void register_protect_ctrl(InsnTable& t) {
  t.add(ZYDIS_MNEMONIC_LLDT, bind_selector_operand<&lldt>, kPrivileged);
  t.add(ZYDIS_MNEMONIC_LTR, bind_selector_operand<&ltr>, kPrivileged);
  t.add(ZYDIS_MNEMONIC_SLDT, bind_store<StoreSystemSelector<&CpuState::ldtr>>);
  t.add(ZYDIS_MNEMONIC_STR, bind_store<StoreSystemSelector<&CpuState::tr>>);
  t.add(ZYDIS_MNEMONIC_LAR, bind_inspect<Lar>);
  t.add(ZYDIS_MNEMONIC_LSL, bind_inspect<Lsl>);
  t.add(ZYDIS_MNEMONIC_VERR, bind_selector_operand<&verify_segment<false>>);
  t.add(ZYDIS_MNEMONIC_VERW, bind_selector_operand<&verify_segment<true>>);
  t.add(ZYDIS_MNEMONIC_ARPL, bind_arpl);
}

}  // namespace vtlab::isa
