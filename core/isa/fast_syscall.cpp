// Instruction family: fast system calls (SDM vol. 2, "SYSENTER", "SYSEXIT",
// "SYSCALL", "SYSRET", "SWAPGS"; vol. 3, 5.8.7 and 5.8.8).
//
// None of them reads a descriptor: CS and SS get fixed flat caches (base 0,
// limit 4 GiB) whose selectors come from an MSR (IA32_SYSENTER_CS, or
// IA32_STAR for SYSCALL/SYSRET), which the operating system must back with
// matching GDT entries in the order the instruction assumes.  The MSRs are
// stored by WRMSR (model_specific.cpp).  SYSCALL and SYSRET exist only in
// 64-bit mode on this (Intel) processor; SYSENTER/SYSEXIT in every
// protected mode, SYSEXIT with REX.W returning to 64-bit code.
#include "core/cpu.h"
#include "core/isa/registry.h"

namespace vtlab::isa {

namespace {

// "IA32_SYSENTER_CS[15:2] = 0": the RPL bits do not make it usable.
bool is_null_cs_msr(uint16_t cs_msr) { return (cs_msr & 0xFFFC) == 0; }

// The cache these instructions load: present, S=1, DPL `dpl`, the given
// type (accessed set), G=1, base 0, limit FFFFFh pages; D/B=1, except for
// a 64-bit code segment, which has L=1 and D=0.
SegmentCache flat_segment(uint16_t sel, unsigned dpl, uint32_t type, bool long_code = false) {
  SegmentCache sc;
  sc.selector = sel;
  sc.base = 0;
  sc.limit = 0xFFFFFFFF;
  sc.attrs = type | ar::kS | (dpl << ar::kDplShift) | ar::kPresent | ar::kGranularity |
             (long_code ? ar::kLong : ar::kDb);
  return sc;
}

constexpr uint32_t kExecuteRead = ar::kCode | ar::kReadable | ar::kAccessed;  // type 11
constexpr uint32_t kReadWrite = ar::kWritable | ar::kAccessed;               // type 3

// SYSENTER: to ring 0 at IA32_SYSENTER_CS:IA32_SYSENTER_EIP with the stack
// at (CS + 8):IA32_SYSENTER_ESP.  #GP(0) in real mode or with a null CS
// MSR.  It leaves virtual-8086 mode and clears IF (the entry code runs
// with interrupts off) and RF; it saves nothing (the caller passes its return
// address and stack in registers by convention).  In IA-32e mode the
// target is 64-bit code and EIP/ESP are taken whole.
Status sysenter(Cpu& cpu, const DecodedInsn&) {
  CpuState& s = cpu.s;
  const auto cs_msr = static_cast<uint16_t>(s.msr(msr::kSysenterCs));
  if (s.real_mode() || is_null_cs_msr(cs_msr)) return cpu.raise(vec::GP, 0);
  const bool ia32e = s.long_mode_active();
  const uint64_t ip_mask = ia32e ? ~uint64_t{0} : 0xFFFFFFFF;
  s.flags.set(flag::VM | flag::IF | flag::RF, false);
  const auto cs = static_cast<uint16_t>(cs_msr & 0xFFFC);
  s.seg[CS] = flat_segment(cs, 0, kExecuteRead, ia32e);
  s.seg[SS] = flat_segment(static_cast<uint16_t>(cs + 8), 0, kReadWrite);
  s.gpr[RSP] = s.msr(msr::kSysenterEsp) & ip_mask;
  cpu.next_rip = s.msr(msr::kSysenterEip) & ip_mask;
  return Status::Ok;
}

// SYSEXIT: back to ring 3 at (CS MSR + 16) | 3 : EDX with the stack at
// (CS MSR + 24) | 3 : ECX; with REX.W to 64-bit code at (CS MSR + 32) | 3 :
// RDX with the stack at (CS MSR + 40) | 3 : RCX, both canonical.  #GP(0) in
// real mode, with a null CS MSR, or above CPL 0 (which includes
// virtual-8086 mode).
Status sysexit(Cpu& cpu, const DecodedInsn& i) {
  CpuState& s = cpu.s;
  const auto cs_msr = static_cast<uint16_t>(s.msr(msr::kSysenterCs));
  if (s.real_mode() || is_null_cs_msr(cs_msr) || s.cpl() != 0) return cpu.raise(vec::GP, 0);
  const bool to64 = i.opsize == 8;
  if (to64 && !(is_canonical(s.gpr[RDX]) && is_canonical(s.gpr[RCX]))) return cpu.raise(vec::GP, 0);
  const unsigned cs_offset = to64 ? 32 : 16;
  s.seg[CS] = flat_segment(static_cast<uint16_t>((cs_msr + cs_offset) | 3), 3, kExecuteRead, to64);
  s.seg[SS] = flat_segment(static_cast<uint16_t>((cs_msr + cs_offset + 8) | 3), 3, kReadWrite);
  const uint64_t mask = to64 ? ~uint64_t{0} : 0xFFFFFFFF;
  s.gpr[RSP] = s.gpr[RCX] & mask;
  cpu.next_rip = s.gpr[RDX] & mask;
  return Status::Ok;
}

// SYSCALL and SYSRET are #UD outside 64-bit mode and without EFER.SCE.
Status require_syscall_enabled(Cpu& cpu) {
  const CpuState& s = cpu.s;
  return s.code_size() == 8 && (s.efer & efer::SCE) ? Status::Ok : cpu.raise(vec::UD);
}

// SYSCALL: RCX = return RIP, R11 = RFLAGS, RFLAGS &= ~IA32_FMASK, then
// ring 0 at IA32_LSTAR with CS = STAR[47:32] & FFFC (64-bit code) and
// SS = STAR[47:32] + 8.  RSP is not switched: the kernel's entry does
// that (after SWAPGS).
Status syscall(Cpu& cpu, const DecodedInsn&) {
  TRY(require_syscall_enabled(cpu));
  CpuState& s = cpu.s;
  const auto sel = static_cast<uint16_t>(s.msr(msr::kStar) >> 32);
  s.gpr[RCX] = cpu.next_rip;
  s.gpr[R11] = s.flags.bits();
  s.flags.set_bits((s.flags.bits() & ~s.msr(msr::kFmask)) | flag::kReserved1);
  s.seg[CS] = flat_segment(static_cast<uint16_t>(sel & 0xFFFC), 0, kExecuteRead, true);
  s.seg[SS] = flat_segment(static_cast<uint16_t>(sel + 8), 0, kReadWrite);
  cpu.next_rip = s.msr(msr::kLstar);
  return Status::Ok;
}

// SYSRET: back to ring 3 at RCX with RFLAGS from R11.  With REX.W the
// target is 64-bit code, CS = STAR[63:48] + 16 (RCX must be canonical);
// without it compatibility mode, CS = STAR[63:48] and EIP = ECX.  SS is
// STAR[63:48] + 8 either way.  #GP(0) above CPL 0.
Status sysret(Cpu& cpu, const DecodedInsn& i) {
  TRY(require_syscall_enabled(cpu));
  CpuState& s = cpu.s;
  if (s.cpl() != 0) return cpu.raise(vec::GP, 0);
  const bool to64 = i.opsize == 8;
  if (to64 && !is_canonical(s.gpr[RCX])) return cpu.raise(vec::GP, 0);
  const auto base = static_cast<uint16_t>(s.msr(msr::kStar) >> 48);
  // "RFLAGS <- (R11 & 3C7FD7H) | 2": RF, VM and the reserved bits come out clear.
  s.flags.set_bits((s.gpr[R11] & 0x3C7FD7) | flag::kReserved1);
  s.seg[CS] = flat_segment(static_cast<uint16_t>((to64 ? base + 16 : base) | 3), 3, kExecuteRead, to64);
  s.seg[SS] = flat_segment(static_cast<uint16_t>((base + 8) | 3), 3, kReadWrite);
  cpu.next_rip = to64 ? s.gpr[RCX] : s.gpr[RCX] & 0xFFFFFFFF;
  return Status::Ok;
}

// SWAPGS exchanges the GS base with IA32_KERNEL_GS_BASE: the kernel's way
// to its per-CPU data on entry from user code.  64-bit mode only, CPL 0.
Status swapgs(Cpu& cpu, const DecodedInsn&) {
  CpuState& s = cpu.s;
  if (s.code_size() != 8) return cpu.raise(vec::UD);
  if (s.cpl() != 0) return cpu.raise(vec::GP, 0);
  const uint64_t kernel = s.msr(msr::kKernelGsBase);
  s.msrs[msr::kKernelGsBase] = s.seg[GS].base;
  s.seg[GS].base = kernel;
  return Status::Ok;
}

}  // namespace

void register_fast_syscall(InsnTable& t) {
  // Both change CS and the CPL: each ends its block.  SYSEXIT is
  // privileged (#GP(0) above CPL 0), SYSENTER is not.
  t.add(ZYDIS_MNEMONIC_SYSENTER, fixed<&sysenter>, info::kEndsBlock);
  t.add(ZYDIS_MNEMONIC_SYSEXIT, fixed<&sysexit>, info::kEndsBlock | info::kPrivileged);
  t.add(ZYDIS_MNEMONIC_SYSCALL, fixed<&syscall>, info::kEndsBlock);
  t.add(ZYDIS_MNEMONIC_SYSRET, fixed<&sysret>, info::kEndsBlock | info::kPrivileged);
  t.add(ZYDIS_MNEMONIC_SWAPGS, fixed<&swapgs>, info::kPrivileged);
}

}  // namespace vtlab::isa
