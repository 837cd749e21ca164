// SSE/SSE2/MMX state and cache control (Intel SDM vol. 2): LDMXCSR and
// STMXCSR, EMMS, the fences LFENCE SFENCE MFENCE, PREFETCHh/PREFETCHW and
// CLFLUSH.  vtlab has one in-order CPU and no caches, so fences and
// prefetches do nothing and CLFLUSH only makes its checks.
#include "core/isa/registry.h"
#include "core/isa/sse_common.h"

namespace vtlab::isa {

namespace {

using namespace simd;

// LDMXCSR m32: #GP(0) for a bit outside MXCSR_MASK, nothing loaded.
Status ldmxcsr(Cpu& cpu, const DecodedInsn& i) {
  TRY(sse_available(cpu));
  uint32_t v;
  TRY(cpu.read<uint32_t>(i.mem.seg, effective_address(cpu, i), v));
  if (v & ~kMxcsrMask) return cpu.raise(vec::GP, 0);
  cpu.s.sse.mxcsr = v;
  return Status::Ok;
}

Status stmxcsr(Cpu& cpu, const DecodedInsn& i) {
  TRY(sse_available(cpu));
  return cpu.write<uint32_t>(i.mem.seg, effective_address(cpu, i), cpu.s.sse.mxcsr);
}

// EMMS: every x87 tag empty and TOP 0, as every MMX instruction leaves
// TOP (SDM vol. 1, table 9-3; measured by kvm_diff64).  It makes the MMX
// checks (#UD with EM, #NM with TS, #MF for a pending x87 exception).
Status emms(Cpu& cpu, const DecodedInsn&) {
  TRY(mmx_available(cpu));
  cpu.s.fpu.ftw = 0xFFFF;
  cpu.s.fpu.fsw &= static_cast<uint16_t>(~0x3800);
  return Status::Ok;
}

Status no_operation(Cpu&, const DecodedInsn&) { return Status::Ok; }

// CLFLUSH m8: faults as a byte read would (segment, then paging), but
// nothing is read: the line may be device memory with read side effects.
Status clflush(Cpu& cpu, const DecodedInsn& i) {
  const uint64_t ea = effective_address(cpu, i);
  TRY(cpu.check_segment(i.mem.seg, ea, 1, Access::Read));
  uint64_t phys;
  return cpu.translate(cpu.linear(i.mem.seg, ea), Access::Read, cpu.s.cpl() == 3, phys);
}

Handler bind_mem_only(DecodedInsn& i, Handler h) { return i.nops == 1 && i.op[0].kind == OpKind::Mem ? h : nullptr; }
template <Handler H> Handler mem_only(DecodedInsn& i, const ZydisDecodedInstruction&) { return bind_mem_only(i, H); }

}  // namespace

void register_sse_control(InsnTable& t) {
  t.add(ZYDIS_MNEMONIC_LDMXCSR, mem_only<&ldmxcsr>);
  t.add(ZYDIS_MNEMONIC_STMXCSR, mem_only<&stmxcsr>);
  t.add(ZYDIS_MNEMONIC_EMMS, fixed<&emms>);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_LFENCE, ZYDIS_MNEMONIC_SFENCE, ZYDIS_MNEMONIC_MFENCE})
    t.add(m, fixed<&no_operation>);
  // Prefetches never fault, whatever the address (SDM vol. 2, PREFETCHh).
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_PREFETCHNTA, ZYDIS_MNEMONIC_PREFETCHT0, ZYDIS_MNEMONIC_PREFETCHT1,
                          ZYDIS_MNEMONIC_PREFETCHT2, ZYDIS_MNEMONIC_PREFETCHW, ZYDIS_MNEMONIC_PREFETCH})
    t.add(m, fixed<&no_operation>);
  t.add(ZYDIS_MNEMONIC_CLFLUSH, mem_only<&clflush>);
}

}  // namespace vtlab::isa
