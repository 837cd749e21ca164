// Instruction family: fast system calls, SYSENTER and SYSEXIT (SDM vol. 2,
// "SYSENTER" and "SYSEXIT"; vol. 3, 5.8.7).
//
// Neither reads a descriptor: CS and SS get fixed flat caches (base 0,
// limit 4 GiB, 32-bit) whose selectors come from IA32_SYSENTER_CS, which
// the operating system must back with matching GDT entries in the order
// ring-0 code, ring-0 stack, ring-3 code, ring-3 stack.  The MSRs are
// stored by WRMSR (system.cpp).  The 64-bit forms (IA-32e mode, REX.W
// SYSEXIT) come with long mode.
#include <fmt/format.h>

#include "core/cpu.h"
#include "core/isa/registry.h"

namespace vtlab::isa {

namespace {

// "IA32_SYSENTER_CS[15:2] = 0": the RPL bits do not make it usable.
bool is_null_cs_msr(uint16_t cs_msr) { return (cs_msr & 0xFFFC) == 0; }

uint64_t sysenter_msr(const CpuState& s, uint32_t index) {
  const auto it = s.msrs.find(index);
  return it == s.msrs.end() ? 0 : it->second;
}

// The cache SYSENTER/SYSEXIT load: present, S=1, DPL `dpl`, the given
// type (accessed set), G=1, D/B=1, base 0, limit FFFFFh pages.
SegmentCache flat_segment(uint16_t sel, unsigned dpl, uint32_t type) {
  SegmentCache sc;
  sc.selector = sel;
  sc.base = 0;
  sc.limit = 0xFFFFFFFF;
  sc.attrs = type | ar::kS | (dpl << ar::kDplShift) | ar::kPresent | ar::kDb | ar::kGranularity;
  return sc;
}

constexpr uint32_t kExecuteRead = ar::kCode | ar::kReadable | ar::kAccessed;  // type 11
constexpr uint32_t kReadWrite = ar::kWritable | ar::kAccessed;               // type 3

Status require_64bit_free(Cpu& cpu, const char* what) {
  if (!cpu.s.long_mode_active()) return Status::Ok;
  return cpu.unsupported(fmt::format("{} in IA-32e mode comes with long mode", what));
}

// SYSENTER: to ring 0 at IA32_SYSENTER_CS:IA32_SYSENTER_EIP with the stack
// at (CS + 8):IA32_SYSENTER_ESP.  #GP(0) in real mode or with a null CS
// MSR.  It leaves virtual-8086 mode and clears IF (the entry code runs
// with interrupts off) and RF; it saves nothing (the caller passes its return
// address and stack in registers by convention).
Status sysenter(Cpu& cpu, const DecodedInsn&) {
  CpuState& s = cpu.s;
  const auto cs_msr = static_cast<uint16_t>(sysenter_msr(s, msr::kSysenterCs));
  if (s.real_mode() || is_null_cs_msr(cs_msr)) return cpu.raise(vec::GP, 0);
  TRY(require_64bit_free(cpu, "SYSENTER"));
  s.flags.set(flag::VM | flag::IF | flag::RF, false);
  const auto cs = static_cast<uint16_t>(cs_msr & 0xFFFC);
  s.seg[CS] = flat_segment(cs, 0, kExecuteRead);
  s.seg[SS] = flat_segment(static_cast<uint16_t>(cs + 8), 0, kReadWrite);
  s.gpr[RSP] = sysenter_msr(s, msr::kSysenterEsp) & 0xFFFFFFFF;
  cpu.next_rip = sysenter_msr(s, msr::kSysenterEip) & 0xFFFFFFFF;
  return Status::Ok;
}

// SYSEXIT: back to ring 3 at (CS MSR + 16) | 3 : EDX with the stack at
// (CS MSR + 24) | 3 : ECX.  #GP(0) in real mode, with a null CS MSR, or
// above CPL 0 (which includes virtual-8086 mode).
Status sysexit(Cpu& cpu, const DecodedInsn&) {
  CpuState& s = cpu.s;
  const auto cs_msr = static_cast<uint16_t>(sysenter_msr(s, msr::kSysenterCs));
  if (s.real_mode() || is_null_cs_msr(cs_msr) || s.cpl() != 0) return cpu.raise(vec::GP, 0);
  TRY(require_64bit_free(cpu, "SYSEXIT"));
  s.seg[CS] = flat_segment(static_cast<uint16_t>((cs_msr + 16) | 3), 3, kExecuteRead);
  s.seg[SS] = flat_segment(static_cast<uint16_t>((cs_msr + 24) | 3), 3, kReadWrite);
  s.gpr[RSP] = s.gpr[RCX] & 0xFFFFFFFF;
  cpu.next_rip = s.gpr[RDX] & 0xFFFFFFFF;
  return Status::Ok;
}

}  // namespace

void register_fast_syscall(InsnTable& t) {
  // Both change CS and the CPL: each ends its block.  SYSEXIT is
  // privileged (#GP(0) above CPL 0), SYSENTER is not.
  t.add(ZYDIS_MNEMONIC_SYSENTER, fixed<&sysenter>, info::kEndsBlock);
  t.add(ZYDIS_MNEMONIC_SYSEXIT, fixed<&sysexit>, info::kEndsBlock | info::kPrivileged);
}

}  // namespace vtlab::isa
