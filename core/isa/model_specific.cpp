// The processor's identity and its model-specific state: CPUID, RDTSC,
// RDMSR and WRMSR.  RDMSR/WRMSR are privileged (#GP(0) unless CPL 0, before
// anything else); CPUID and RDTSC are not (RDTSC is, with CR4.TSD).
#include <fmt/format.h>

#include <array>

#include "core/isa/operands.h"
#include "core/isa/registry.h"

namespace vtlab::isa {

namespace {

// =========================================================================
// The processor this is (CPUID).  One table, read by CPUID and by nothing
// else; every feature bit set is something vtlab implements.
//
//   leaf 0          EAX = 1, the highest basic leaf; EBX, EDX, ECX spell
//                   "GenuineIntel"
//   leaf 1   EAX    0x00000603: family 6, model 0, stepping 3.  This is the
//                   signature reset leaves in EDX (core/cpu_state.cpp).  No
//                   real part uses model 0, so no guest takes us for one;
//                   stepping 3 because software must ignore SEP on family 6
//                   with model < 3 and stepping < 3 (the Pentium Pro rule in
//                   SDM vol. 2, SYSENTER)
//            EBX    0x00000800: brand index 0, CLFLUSH line size 8 (x 8 =
//                   64 bytes), one logical processor, initial APIC ID 0
//            ECX    0x00002000: CX16 (CMPXCHG16B) only: no SSE3 and later,
//                   and no "hypervisor present" bit (the machine is
//                   modelled, not virtualized)
//            EDX    0x0789FBFD: FPU DE PSE TSC MSR PAE MCE CX8 APIC SEP MTRR PGE
//                   MCA CMOV PAT CLFSH MMX FXSR SSE SSE2
//   0x80000000      EAX = 0x80000008, the highest extended leaf
//   0x80000001      EDX 0x24100800: SYSCALL (in 64-bit mode, as Intel
//                   reports it), NX (EFER.NXE, the XD bit of PAE and 4-level
//                   entries), Page1GB (1 GiB pages), LM (long mode);
//                   ECX bit 0: LAHF/SAHF in 64-bit mode
//   0x80000002..4   the brand string "vtlab virtual CPU", NUL-padded to 48
//   0x80000005..7   all 0: no cache or power-management information
//   0x80000008      EAX = 0x00003024: 36 physical address bits (MAXPHYADDR,
//                   the reserved bits of PAE and 4-level entries), 48 linear
//   anything else   leaf 1's data: Intel's rule for a leaf above the highest
//                   basic or extended leaf (SDM vol. 2, CPUID)
//
// Left clear on purpose:
//   PSE-36  4 MiB pages stay below 4 GiB: bits 21:13 of a 4 MiB PDE are
//           reserved (mmu/walk32.cpp).
//   PCID    CR4.PCIDE is reserved: every CR3 load flushes non-global
//           entries, which is what a CPU without PCIDs does.
//   RDTSCP  no IA32_TSC_AUX.
//   VME, SSE3 and later, XSAVE, AVX: not implemented.
// MTRR is set with read-only MTRRs (see the MSRs below): all memory is
// write-back, which is what an interpreter's memory is; Linux skips PAT
// setup on a CPU without MTRRs.
// MCE and MCA are set with one machine-check bank that never reports an
// error (see the MSRs below): nothing here fails, and Linux prints an error
// at boot on a CPU without them.
// PAT is set because the IA32_PAT MSR exists and memory types change
// nothing in an interpreter: the PAT bits in page tables are simply ignored.
// =========================================================================

struct CpuidRegs {
  uint32_t eax, ebx, ecx, edx;
};

namespace feature {  // CPUID.1:EDX
inline constexpr uint32_t FPU = 1u << 0, DE = 1u << 2, PSE = 1u << 3, TSC = 1u << 4, MSR = 1u << 5, PAE = 1u << 6,
                          MCE = 1u << 7, CX8 = 1u << 8, APIC = 1u << 9, SEP = 1u << 11, MTRR = 1u << 12,
                          PGE = 1u << 13,
                          MCA = 1u << 14, CMOV = 1u << 15,
                          PAT = 1u << 16, CLFSH = 1u << 19, MMX = 1u << 23, FXSR = 1u << 24, SSE = 1u << 25,
                          SSE2 = 1u << 26;
}
namespace feature_ecx {  // CPUID.1:ECX
inline constexpr uint32_t CX16 = 1u << 13;
}
namespace ext_feature {  // CPUID.80000001H:EDX
inline constexpr uint32_t SYSCALL = 1u << 11, NX = 1u << 20, Page1GB = 1u << 26, LM = 1u << 29;
}
namespace ext_feature_ecx {  // CPUID.80000001H:ECX
inline constexpr uint32_t LahfLm = 1u << 0;
}

constexpr uint32_t kMaxBasicLeaf = 1;
constexpr uint32_t kMaxExtendedLeaf = 0x80000008;
constexpr uint32_t kSignature = 0x00000603;
constexpr uint32_t kFeaturesEdx = feature::FPU | feature::DE | feature::PSE | feature::TSC | feature::MSR | feature::PAE |
                                  feature::MCE | feature::CX8 | feature::APIC | feature::SEP | feature::MTRR |
                                  feature::PGE |
                                  feature::MCA | feature::CMOV |
                                  feature::PAT | feature::CLFSH | feature::MMX | feature::FXSR | feature::SSE |
                                  feature::SSE2;
constexpr uint32_t kClflushLineSize = 8 << 8;  // EBX[15:8], in 8-byte units
constexpr uint32_t kExtFeaturesEdx = ext_feature::SYSCALL | ext_feature::NX | ext_feature::Page1GB | ext_feature::LM;
constexpr uint32_t kAddressSizes = (48u << 8) | kMaxPhysAddrBits;  // linear bits 15:8, physical 7:0
constexpr char kVendor[] = "GenuineIntel";
constexpr char kBrand[48] = "vtlab virtual CPU";

uint32_t dword_of(const char* s) {
  return uint32_t(uint8_t(s[0])) | uint32_t(uint8_t(s[1])) << 8 | uint32_t(uint8_t(s[2])) << 16 |
         uint32_t(uint8_t(s[3])) << 24;
}

CpuidRegs cpuid_leaf(uint32_t leaf) {
  const bool basic = leaf <= kMaxBasicLeaf;
  const bool extended = leaf >= 0x80000000 && leaf <= kMaxExtendedLeaf;
  if (!basic && !extended) leaf = kMaxBasicLeaf;
  switch (leaf) {
    case 0: return {kMaxBasicLeaf, dword_of(kVendor), dword_of(kVendor + 8), dword_of(kVendor + 4)};
    case 1: return {kSignature, kClflushLineSize, feature_ecx::CX16, kFeaturesEdx};
    case 0x80000000: return {kMaxExtendedLeaf, 0, 0, 0};
    case 0x80000001: return {0, 0, ext_feature_ecx::LahfLm, kExtFeaturesEdx};
    case 0x80000005:
    case 0x80000006:
    case 0x80000007: return {0, 0, 0, 0};
    case 0x80000008: return {kAddressSizes, 0, 0, 0};
    default: {  // 0x80000002..4: 16 bytes of the brand string each
      const char* p = kBrand + 16 * (leaf - 0x80000002);
      return {dword_of(p), dword_of(p + 4), dword_of(p + 8), dword_of(p + 12)};
    }
  }
}

Status cpuid(Cpu& cpu, const DecodedInsn&) {
  const CpuidRegs r = cpuid_leaf(cpu.reg<uint32_t>(RAX));  // no leaf here has sub-leaves: ECX is ignored
  cpu.set_reg<uint32_t>(RAX, r.eax);
  cpu.set_reg<uint32_t>(RBX, r.ebx);
  cpu.set_reg<uint32_t>(RCX, r.ecx);
  cpu.set_reg<uint32_t>(RDX, r.edx);
  return Status::Ok;
}

// --- time stamp counter and MSRs -----------------------------------------
// Time is virtual: the TSC counts virtual time (Cpu::virtual_time()).  A
// WRMSR to IA32_TSC keeps the difference, stored as the IA32_TSC entry of
// CpuState::msrs, so that the counter goes on from the value written.

uint64_t tsc(const Cpu& cpu) { return cpu.virtual_time() + cpu.s.msr(msr::kTsc); }

// RDTSC: CR4.TSD restricts it to CPL 0.
Status rdtsc(Cpu& cpu, const DecodedInsn&) {
  if ((cpu.s.cr4 & cr4::TSD) && current_cpl(cpu.s) != 0) return cpu.raise(vec::GP, 0);
  const uint64_t t = tsc(cpu);
  cpu.set_reg<uint32_t>(RAX, static_cast<uint32_t>(t));
  cpu.set_reg<uint32_t>(RDX, static_cast<uint32_t>(t >> 32));
  return Status::Ok;
}

// IA32_APIC_BASE of the bootstrap processor: base FEE00000, global enable
// (bit 11), BSP (bit 8).  Bits 0-7, 9, 10 (no x2APIC) and 36-63 (above
// MAXPHYADDR) are reserved.
constexpr uint64_t kApicBase = 0xFEE00900, kApicBsp = 1u << 8;
constexpr uint64_t kApicBaseReserved = 0xFFFFFFF0000006FFull;
// IA32_MISC_ENABLE: fast strings (bit 0) on; "BTS unavailable" (11) and
// "PEBS unavailable" (12) are read-only 1s; the rest are reserved here.
constexpr uint64_t kMiscFastStrings = 1u << 0, kMiscReadOnly = (1u << 11) | (1u << 12);
// IA32_PAT at reset: WB WT UC- UC in entries 0-3, again in 4-7.
constexpr uint64_t kPatReset = 0x0007040600070406ull;

// IA32_BIOS_SIGN_ID: software writes 0, runs CPUID(1), and reads the loaded
// microcode's revision in bits 63:32 (SDM vol. 3, 10.11.7.1).  No update is
// ever loaded here, so it reads 0 and writes change nothing.
constexpr uint32_t kBiosSignId = 0x8B;

// Machine-check architecture (SDM vol. 3, 16.3): IA32_MCG_CAP reports one
// bank and no optional registers (no MCG_CTL, CMCI, LMCE, SER); the bank's
// CTL takes any value, and its STATUS, ADDR and MISC read 0 and take only
// 0 (writing 1s to MCi_STATUS is #GP(0)).  No error is ever logged.
constexpr uint32_t kMcgCap = 0x179, kMcgStatus = 0x17A, kMc0Ctl = 0x400, kMc0Status = 0x401, kMc0Addr = 0x402,
                   kMc0Misc = 0x403;
constexpr uint64_t kMcgCapValue = 1;  // bank count in bits 7:0

// Memory-type range registers (SDM vol. 3, 12.11), read-only: IA32_MTRRCAP
// has no variable ranges, no fixed ranges and no write-combining;
// IA32_MTRR_DEF_TYPE has MTRRs enabled with default type 6 (write-back), so
// every address is WB.  Writes are accepted and change nothing: memory
// types mean nothing to an interpreter.
constexpr uint32_t kMtrrCap = 0xFE, kMtrrDefType = 0x2FF;
constexpr uint64_t kMtrrDefTypeValue = (1u << 11) | 6;  // E, type WB

// Each PAT entry must name a memory type: 0, 1, 4, 5, 6 or 7.
bool valid_pat(uint64_t v) {
  for (unsigned n = 0; n < 8; ++n) {
    const uint64_t type = (v >> (8 * n)) & 0xFF;
    if (type > 7 || type == 2 || type == 3) return false;
  }
  return true;
}

// Unknown MSRs are #GP(0), as on real processors.
Status read_msr(Cpu& cpu, uint32_t index, uint64_t& v) {
  const CpuState& s = cpu.s;
  switch (index) {
    case msr::kTsc: v = tsc(cpu); return Status::Ok;
    case msr::kApicBase: v = kApicBase; return Status::Ok;
    case kBiosSignId: v = 0; return Status::Ok;
    case kMcgCap: v = kMcgCapValue; return Status::Ok;
    case kMtrrCap: v = 0; return Status::Ok;
    case kMtrrDefType: v = kMtrrDefTypeValue; return Status::Ok;
    case kMc0Ctl: v = s.msr(index, 0); return Status::Ok;
    case kMcgStatus:
    case kMc0Status:
    case kMc0Addr:
    case kMc0Misc: v = 0; return Status::Ok;
    case msr::kSysenterCs:
    case msr::kSysenterEsp:
    case msr::kSysenterEip: v = s.msr(index, 0); return Status::Ok;
    case msr::kMiscEnable: v = s.msr(index, kMiscFastStrings | kMiscReadOnly); return Status::Ok;
    case msr::kPat: v = s.msr(index, kPatReset); return Status::Ok;
    case msr::kEfer: v = s.efer; return Status::Ok;
    case msr::kStar:
    case msr::kLstar:
    case msr::kCstar:
    case msr::kFmask:
    case msr::kKernelGsBase: v = s.msr(index); return Status::Ok;
    case msr::kFsBase: v = s.seg[FS].base; return Status::Ok;
    case msr::kGsBase: v = s.seg[GS].base; return Status::Ok;
    default: return cpu.raise(vec::GP, 0);
  }
}

Status write_efer(Cpu& cpu, uint64_t v) {
  CpuState& s = cpu.s;
  constexpr uint64_t kWritable = efer::SCE | efer::LME | efer::NXE;
  if (v & ~(kWritable | efer::LMA)) return cpu.raise(vec::GP, 0);
  v = (v & kWritable) | (s.efer & efer::LMA);  // LMA is read-only: the write's bit is ignored
  if (((v ^ s.efer) & efer::LME) && s.paging()) return cpu.raise(vec::GP, 0);
  const bool nxe_changed = (v ^ s.efer) & efer::NXE;
  s.efer = v;
  if (nxe_changed) cpu.paging_changed(false);
  return Status::Ok;
}

Status write_msr(Cpu& cpu, uint32_t index, uint64_t v) {
  CpuState& s = cpu.s;
  switch (index) {
    case msr::kTsc: s.msrs[index] = v - cpu.virtual_time(); return Status::Ok;
    case kBiosSignId: return Status::Ok;
    case kMcgCap:
    case kMtrrCap: return cpu.raise(vec::GP, 0);  // read-only registers
    case kMtrrDefType: return Status::Ok;       // read-only MTRRs: the write is dropped
    case kMc0Ctl: s.msrs[index] = v; return Status::Ok;
    case kMcgStatus:
    case kMc0Status:
    case kMc0Addr:
    case kMc0Misc: return v == 0 ? Status::Ok : cpu.raise(vec::GP, 0);
    case msr::kApicBase:
      if (v & kApicBaseReserved) return cpu.raise(vec::GP, 0);
      if ((v | kApicBsp) != kApicBase) {
        return cpu.unsupported(
            fmt::format("IA32_APIC_BASE <- {:#x}: moving or disabling the APIC is not modelled", v));
      }
      return Status::Ok;
    case msr::kSysenterCs:
    case msr::kSysenterEsp:
    case msr::kSysenterEip: s.msrs[index] = v; return Status::Ok;
    case msr::kMiscEnable:
      if (v & ~(kMiscFastStrings | kMiscReadOnly)) return cpu.raise(vec::GP, 0);
      s.msrs[index] = (v & kMiscFastStrings) | kMiscReadOnly;
      return Status::Ok;
    case msr::kPat:
      if (!valid_pat(v)) return cpu.raise(vec::GP, 0);
      s.msrs[index] = v;
      return Status::Ok;
    case msr::kEfer: return write_efer(cpu, v);
    case msr::kStar: s.msrs[index] = v; return Status::Ok;
    // The SYSCALL targets and the bases hold linear addresses: WRMSR
    // keeps them canonical (SDM vol. 2, SYSCALL), so SYSCALL need not
    // check.  IA32_FMASK has 32 bits.
    case msr::kFmask:
      if (v >> 32) return cpu.raise(vec::GP, 0);
      s.msrs[index] = v;
      return Status::Ok;
    case msr::kLstar:
    case msr::kCstar:
    case msr::kKernelGsBase:
    case msr::kFsBase:
    case msr::kGsBase:
      if (!is_canonical(v)) return cpu.raise(vec::GP, 0);
      if (index == msr::kFsBase) s.seg[FS].base = v;
      else if (index == msr::kGsBase) s.seg[GS].base = v;
      else s.msrs[index] = v;
      return Status::Ok;
    default: return cpu.raise(vec::GP, 0);
  }
}

// RDMSR/WRMSR: ECX selects the MSR, EDX:EAX holds the value.
Status rdmsr(Cpu& cpu, const DecodedInsn&) {
  TRY(require_cpl0(cpu));
  uint64_t v = 0;
  TRY(read_msr(cpu, cpu.reg<uint32_t>(RCX), v));
  cpu.set_reg<uint32_t>(RAX, static_cast<uint32_t>(v));
  cpu.set_reg<uint32_t>(RDX, static_cast<uint32_t>(v >> 32));
  return Status::Ok;
}

Status wrmsr(Cpu& cpu, const DecodedInsn&) {
  TRY(require_cpl0(cpu));
  const uint64_t v = (uint64_t{cpu.reg<uint32_t>(RDX)} << 32) | cpu.reg<uint32_t>(RAX);
  return write_msr(cpu, cpu.reg<uint32_t>(RCX), v);
}

}  // namespace

void register_model_specific(InsnTable& t) {
  constexpr uint8_t kPrivileged = info::kPrivileged | info::kEndsBlock;
  t.add(ZYDIS_MNEMONIC_RDMSR, fixed<&rdmsr>, kPrivileged);
  t.add(ZYDIS_MNEMONIC_WRMSR, fixed<&wrmsr>, kPrivileged);
  t.add(ZYDIS_MNEMONIC_CPUID, fixed<&cpuid>);
  t.add(ZYDIS_MNEMONIC_RDTSC, fixed<&rdtsc>);
}

}  // namespace vtlab::isa
