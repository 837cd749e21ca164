// System instructions: HLT, CLTS, LGDT/LIDT, SGDT/SIDT, LMSW/SMSW, MOV to
// and from CRn and DRn, INVLPG, WBINVD/INVD, UD2, PAUSE.  (The x87 control
// instructions are in x87_control.cpp.)
//
// Privileged instructions (info::kPrivileged) check the CPL before anything
// else and fault with #GP(0) unless it is 0, the order Bochs follows in every
// sensitive handler: the trap and bt monitors rely on the #GP coming before
// any side effect.  SGDT, SIDT and SMSW are not privileged
// (the first three are the classic virtualization holes; that is the
// monitors' business, not this file's).
#include <fmt/format.h>

#include "core/isa/operands.h"
#include "core/isa/registry.h"

namespace vtlab::isa {

namespace {

// A register operand that holds a control or debug register value: 64 bits
// in 64-bit mode, 32 bits (zero-extended) everywhere else.
void set_native(Cpu& cpu, const Operand& o, uint64_t v) {
  if (o.size == 8) cpu.s.gpr[o.reg] = v;
  else cpu.set_reg<uint32_t>(o.reg, static_cast<uint32_t>(v));
}

// --- control registers (SDM vol. 3, 2.5; vol. 2, MOV—Move to/from CRn) ---

// CR0 bits this processor has.  Setting a reserved bit of CR0[31:0] is
// ignored, not a fault (SDM vol. 3, 2.5); ET is hardwired to 1 (P6 onward).
constexpr uint64_t kCr0Bits = cr0::PE | cr0::MP | cr0::EM | cr0::TS | cr0::ET | cr0::NE | cr0::WP | cr0::AM |
                              cr0::NW | cr0::CD | cr0::PG;
// CR4 bits matching the CPUID features above; a CR4 bit for a feature the
// processor lacks is reserved, and setting it is #GP(0).  PCE is left out:
// there are no performance counters (RDPMC always faults).
constexpr uint64_t kCr4Bits =
    cr4::TSD | cr4::DE | cr4::PSE | cr4::PAE | cr4::MCE | cr4::PGE | cr4::OSFXSR | cr4::OSXMMEXCPT;

// The PDPTE registers a MOV to CR0/CR3/CR4 loads when PAE paging is in use
// after it (SDM 4.4.1); #GP(0) with nothing changed when a present entry
// has a reserved bit set.
Status load_pdptes(Cpu& cpu, uint64_t cr3_value, std::array<uint64_t, 4>& out) {
  return cpu.walker.load_pdptes(cr3_value, out) ? Status::Ok : cpu.raise(vec::GP, 0);
}

// IA-32e mode begins and ends here (SDM vol. 3, 9.8.5): setting PG with
// EFER.LME set activates it (EFER.LMA = 1) and needs PAE; clearing PG
// leaves it, which only compatibility mode may do.
Status write_cr0(Cpu& cpu, uint64_t v) {
  CpuState& s = cpu.s;
  if (v >> 32) return cpu.raise(vec::GP, 0);  // CR0[63:32] (64-bit code only)
  v = (v & kCr0Bits) | cr0::ET;
  if ((v & cr0::PG) && !(v & cr0::PE)) return cpu.raise(vec::GP, 0);
  if ((v & cr0::NW) && !(v & cr0::CD)) return cpu.raise(vec::GP, 0);
  const bool activating = (v & cr0::PG) && !s.paging() && (s.efer & efer::LME);
  const bool deactivating = !(v & cr0::PG) && s.paging() && s.long_mode_active();
  if (activating) {
    if (!(s.cr4 & cr4::PAE)) return cpu.raise(vec::GP, 0);
    // The mode must not become 64-bit in the middle of an instruction
    // stream decoded as legacy code, nor keep a 16-bit TSS (SDM vol. 2,
    // MOV to CR0).
    const unsigned tr_type = s.tr.attrs & ar::kTypeMask;
    if ((s.seg[CS].attrs & ar::kLong) || tr_type == 1 || tr_type == 3) return cpu.raise(vec::GP, 0);
  }
  if (deactivating && s.code_size() == 8) return cpu.raise(vec::GP, 0);
  const uint64_t new_efer = activating ? s.efer | efer::LMA : deactivating ? s.efer & ~efer::LMA : s.efer;
  const uint64_t changed = s.cr0 ^ v;
  std::array<uint64_t, 4> pdpte = s.pdpte;
  if (paging_mode(v, s.cr4, new_efer) == PagingMode::Pae && (changed & (cr0::PG | cr0::CD | cr0::NW)))
    TRY(load_pdptes(cpu, s.cr3, pdpte));
  s.cr0 = v;
  s.efer = new_efer;
  s.pdpte = pdpte;
  if (changed & (cr0::PG | cr0::WP | cr0::PE)) cpu.paging_changed(false);
  return Status::Ok;
}

// Outside PAE paging the low bits of CR3 other than PWT/PCD are ignored,
// not reserved: the value is kept as written.  A load drops every TLB
// entry but the global ones (SDM vol. 3, 4.10.4.1).
Status write_cr3(Cpu& cpu, uint64_t v) {
  CpuState& s = cpu.s;
  // In IA-32e mode CR3[63:MAXPHYADDR] is reserved (SDM 4.5.2; no PCIDE).
  if (s.long_mode_active() && (v >> kMaxPhysAddrBits)) return cpu.raise(vec::GP, 0);
  std::array<uint64_t, 4> pdpte = s.pdpte;
  if (paging_mode(s.cr0, s.cr4, s.efer) == PagingMode::Pae) TRY(load_pdptes(cpu, v, pdpte));
  s.cr3 = v;
  s.pdpte = pdpte;
  cpu.paging_changed(true);
  return Status::Ok;
}

// Changing PAE, PGE or PSE drops the whole TLB, globals too (4.10.4.1);
// with paging on, PAE set and one of them changed, the PDPTEs are loaded
// (4.4.1).  Software may switch between 32-bit and PAE paging this way.
Status write_cr4(Cpu& cpu, uint64_t v) {
  CpuState& s = cpu.s;
  if (v & ~kCr4Bits) return cpu.raise(vec::GP, 0);
  if (s.long_mode_active() && !(v & cr4::PAE)) return cpu.raise(vec::GP, 0);
  const uint64_t changed = s.cr4 ^ v;
  std::array<uint64_t, 4> pdpte = s.pdpte;
  if (paging_mode(s.cr0, v, s.efer) == PagingMode::Pae && (changed & (cr4::PAE | cr4::PGE | cr4::PSE)))
    TRY(load_pdptes(cpu, s.cr3, pdpte));
  s.cr4 = v;
  s.pdpte = pdpte;
  if (changed & (cr4::PGE | cr4::PSE | cr4::PAE)) cpu.paging_changed(false);
  return Status::Ok;
}

// MOV CRn, r32/r64.  The decoder only yields CR0, CR2, CR3, CR4 and, in
// 64-bit mode, CR8; CR1 and CR5-CR7 are #UD at decode time.
Status mov_CdRd(Cpu& cpu, const DecodedInsn& i) {
  TRY(require_cpl0(cpu));
  const uint64_t v = cpu.reg_sized(i.op[1].reg, i.op[1].size);
  switch (i.op[0].reg) {
    case 0: return write_cr0(cpu, v);
    case 2: cpu.s.cr2 = v; return Status::Ok;
    case 3: return write_cr3(cpu, v);
    case 4: return write_cr4(cpu, v);
    default:  // CR8, the task-priority register: bits 63:4 are reserved
      if (v > 0xF) return cpu.raise(vec::GP, 0);
      cpu.s.cr8 = v;
      return Status::Ok;
  }
}

// MOV r32/r64, CRn
Status mov_RdCd(Cpu& cpu, const DecodedInsn& i) {
  TRY(require_cpl0(cpu));
  const CpuState& s = cpu.s;
  uint64_t v;
  switch (i.op[1].reg) {
    case 0: v = s.cr0; break;
    case 2: v = s.cr2; break;
    case 3: v = s.cr3; break;
    case 4: v = s.cr4; break;
    default: v = s.cr8; break;
  }
  set_native(cpu, i.op[0], v);
  return Status::Ok;
}

// --- debug registers (SDM vol. 3, 18.2) ----------------------------------
// The registers are stored, but breakpoints are not honoured yet: nothing
// looks at DR0-DR3/DR7 when executing or accessing memory, and DR7.GD
// (general detect: #DB on the next MOV DR) comes with that same issue.

// DR6: B0-B3, BD, BS and BT hold what is written; bits 4-11 and 16-31 read
// as 1 and bit 12 as 0 (no RTM, no bus-lock detection).
constexpr uint64_t kDr6Writable = 0xE00F, kDr6Fixed1 = 0xFFFF0FF0;
// DR7: bit 10 reads as 1, bits 11, 12, 14 and 15 as 0.
constexpr uint64_t kDr7Writable = 0xFFFF23FF, kDr7Fixed1 = 0x400;

// DR4 and DR5 are aliases of DR6 and DR7 unless CR4.DE makes them #UD.
Status debug_register(Cpu& cpu, unsigned n, unsigned& out) {
  if (n == 4 || n == 5) {
    if (cpu.s.cr4 & cr4::DE) return cpu.raise(vec::UD);
    n += 2;
  }
  out = n;
  return Status::Ok;
}

// MOV DRn, r32/r64
Status mov_DdRd(Cpu& cpu, const DecodedInsn& i) {
  TRY(require_cpl0(cpu));
  unsigned n = 0;
  TRY(debug_register(cpu, i.op[0].reg, n));
  uint64_t v = cpu.reg_sized(i.op[1].reg, i.op[1].size);
  if (n == 6 || n == 7) {
    if (v >> 32) return cpu.raise(vec::GP, 0);  // 64-bit code: bits 63:32 must be 0
    v = n == 6 ? (v & kDr6Writable) | kDr6Fixed1 : (v & kDr7Writable) | kDr7Fixed1;
  }
  cpu.s.dr[n] = v;
  return Status::Ok;
}

// MOV r32/r64, DRn
Status mov_RdDd(Cpu& cpu, const DecodedInsn& i) {
  TRY(require_cpl0(cpu));
  unsigned n = 0;
  TRY(debug_register(cpu, i.op[1].reg, n));
  set_native(cpu, i.op[0], cpu.s.dr[n]);
  return Status::Ok;
}

// --- descriptor-table registers ------------------------------------------
// The memory operand is a 16-bit limit followed by the base: 4 bytes of it
// outside 64-bit mode, 8 in 64-bit mode (where the operand size is ignored).

unsigned table_base_size(const Cpu& cpu) { return cpu.s.code_size() == 8 ? 8 : 4; }

// LGDT/LIDT m.  With a 16-bit operand size only 24 bits of base are loaded
// and the high byte becomes 0 (SDM vol. 2, LGDT/LIDT).
template <TableRegister CpuState::*Reg> Status load_table_register(Cpu& cpu, const DecodedInsn& i) {
  TRY(require_cpl0(cpu));
  const unsigned base_size = table_base_size(cpu);
  const uint64_t ea = effective_address(cpu, i);
  TRY(cpu.check_segment(i.mem.seg, ea, 2 + base_size, Access::Read));
  uint16_t limit;
  uint64_t base;
  TRY(cpu.read<uint16_t>(i.mem.seg, ea, limit));
  TRY(cpu.read_mem(i.mem.seg, (ea + 2) & all_ones(i.addrsize), base_size, base));
  if (base_size == 4 && i.opsize == 2) base &= 0x00FFFFFF;
  if (base_size == 8 && !is_canonical(base)) return cpu.raise(vec::GP, 0);
  cpu.s.*Reg = TableRegister{base, limit};
  return Status::Ok;
}

// SGDT/SIDT m.  The full 32-bit base is stored whatever the operand size:
// that is the current SDM's operation for SGDT/SIDT.  Older SDMs said a
// 16-bit operand size stores 24 bits of base and a zero byte; the two only
// differ when the base's high byte is not 0 (a 16-bit LGDT always clears it).
template <TableRegister CpuState::*Reg> Status store_table_register(Cpu& cpu, const DecodedInsn& i) {
  const TableRegister& r = cpu.s.*Reg;
  const unsigned base_size = table_base_size(cpu);
  const uint64_t ea = effective_address(cpu, i);
  TRY(probe_write(cpu, i.mem.seg, ea, 2 + base_size));
  TRY(cpu.write<uint16_t>(i.mem.seg, ea, static_cast<uint16_t>(r.limit)));
  return cpu.write_mem(i.mem.seg, (ea + 2) & all_ones(i.addrsize), base_size, r.base & all_ones(base_size));
}

// --- machine status word (CR0[15:0]) -------------------------------------

// LMSW r/m16: loads PE, MP, EM and TS from the low 4 bits.  It can set PE
// (enter protected mode) but never clear it.
Status lmsw(Cpu& cpu, const DecodedInsn& i) {
  TRY(require_cpl0(cpu));
  uint16_t msw;
  TRY(read_op<uint16_t>(cpu, i, 0, msw));
  constexpr uint64_t kMswBits = cr0::PE | cr0::MP | cr0::EM | cr0::TS;
  const uint64_t old = cpu.s.cr0;
  cpu.s.cr0 = (old & ~kMswBits) | (msw & kMswBits) | (old & cr0::PE);
  if ((old ^ cpu.s.cr0) & cr0::PE) cpu.paging_changed(false);
  return Status::Ok;
}

// SMSW r16/r32/r64 or m16.  A memory destination gets 16 bits; a register
// gets as many bits of CR0 as its operand size holds.  (The SDM leaves the
// high bits of a 32-bit destination undefined; P6 and later processors
// store CR0[31:16] there, and so do we.)
struct Smsw {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    return write_op<T>(cpu, i, 0, static_cast<T>(cpu.s.cr0));
  }
};

// --- the rest of the privileged set --------------------------------------

// HLT: the engine idles until an interrupt (core/interpreter.cpp).
Status hlt(Cpu& cpu, const DecodedInsn&) {
  TRY(require_cpl0(cpu));
  return Status::Halt;
}

Status clts(Cpu& cpu, const DecodedInsn&) {
  TRY(require_cpl0(cpu));
  cpu.s.cr0 &= ~cr0::TS;
  return Status::Ok;
}

// INVLPG m: drops the TLB entry for the page holding the operand's linear
// address, global or not.  The operand is not accessed, so nothing faults, mapped or not
// (and the segment limit is not checked either).
Status invlpg(Cpu& cpu, const DecodedInsn& i) {
  TRY(require_cpl0(cpu));
  cpu.tlb.flush_page(cpu.linear(i.mem.seg, effective_address(cpu, i)));
  return Status::Ok;
}

// WBINVD/INVD: there are no caches to write back or drop.
Status cache_control(Cpu& cpu, const DecodedInsn&) { return require_cpl0(cpu); }

// --- the odd ones ---------------------------------------------------------

// UD2, and UD1 and UD0 (which take a ModRM but never access it).
Status ud2(Cpu& cpu, const DecodedInsn&) { return cpu.raise(vec::UD); }

// RDPMC (SDM vol. 2): #GP(0) at CPL > 0 without CR4.PCE, and #GP(0) for a
// counter index the processor lacks; this one has no performance counters
// (and no CR4.PCE), so every RDPMC faults.
Status rdpmc(Cpu& cpu, const DecodedInsn&) { return cpu.raise(vec::GP, 0); }

// PAUSE is a spin-loop hint; one instruction is all it costs here.
Status pause(Cpu&, const DecodedInsn&) { return Status::Ok; }

// --- binders --------------------------------------------------------------

template <Handler H> Handler memory_only(DecodedInsn& i, const ZydisDecodedInstruction&) {
  return i.op[0].kind == OpKind::Mem ? H : nullptr;
}
template <Handler H> Handler word_operand(DecodedInsn& i, const ZydisDecodedInstruction&) {
  return i.op[0].size == 2 ? H : nullptr;
}

Handler bind_smsw(DecodedInsn& i, const ZydisDecodedInstruction&) { return by_size_wdq<Smsw>(i.op[0].size); }

constexpr uint8_t kPrivileged = info::kPrivileged | info::kEndsBlock;

}  // namespace

// MOV with a control or debug register (handed over by data.cpp's MOV
// binder).  These are privileged and may change the paging mode, so they
// end their block.
Handler bind_mov_creg(DecodedInsn& i, const ZydisDecodedInstruction&) {
  i.info |= kPrivileged;
  const Operand& dst = i.op[0];
  const Operand& src = i.op[1];
  const auto valid_cr = [](const Operand& o) { return o.reg == 0 || (o.reg >= 2 && o.reg <= 4) || o.reg == 8; };
  const auto valid_dr = [](const Operand& o) { return o.reg < 8; };
  if (dst.kind == OpKind::Creg && src.kind == OpKind::Reg) return valid_cr(dst) ? &mov_CdRd : nullptr;
  if (src.kind == OpKind::Creg && dst.kind == OpKind::Reg) return valid_cr(src) ? &mov_RdCd : nullptr;
  if (dst.kind == OpKind::Dreg && src.kind == OpKind::Reg) return valid_dr(dst) ? &mov_DdRd : nullptr;
  if (src.kind == OpKind::Dreg && dst.kind == OpKind::Reg) return valid_dr(src) ? &mov_RdDd : nullptr;
  return nullptr;
}

void register_system(InsnTable& t) {
  t.add(ZYDIS_MNEMONIC_HLT, fixed<&hlt>, kPrivileged);
  t.add(ZYDIS_MNEMONIC_CLTS, fixed<&clts>, kPrivileged);
  t.add(ZYDIS_MNEMONIC_LGDT, memory_only<&load_table_register<&CpuState::gdtr>>, kPrivileged);
  t.add(ZYDIS_MNEMONIC_LIDT, memory_only<&load_table_register<&CpuState::idtr>>, kPrivileged);
  t.add(ZYDIS_MNEMONIC_SGDT, memory_only<&store_table_register<&CpuState::gdtr>>);
  t.add(ZYDIS_MNEMONIC_SIDT, memory_only<&store_table_register<&CpuState::idtr>>);
  t.add(ZYDIS_MNEMONIC_LMSW, word_operand<&lmsw>, kPrivileged);
  t.add(ZYDIS_MNEMONIC_SMSW, bind_smsw);
  t.add(ZYDIS_MNEMONIC_INVLPG, memory_only<&invlpg>, kPrivileged);
  t.add(ZYDIS_MNEMONIC_WBINVD, fixed<&cache_control>, kPrivileged);
  t.add(ZYDIS_MNEMONIC_INVD, fixed<&cache_control>, kPrivileged);
  t.add(ZYDIS_MNEMONIC_UD2, fixed<&ud2>);
  t.add(ZYDIS_MNEMONIC_UD1, fixed<&ud2>);
  t.add(ZYDIS_MNEMONIC_UD0, fixed<&ud2>);
  t.add(ZYDIS_MNEMONIC_RDPMC, fixed<&rdpmc>);
  t.add(ZYDIS_MNEMONIC_PAUSE, fixed<&pause>);
}

}  // namespace vtlab::isa
