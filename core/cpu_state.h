// The architectural state of one x86 logical processor.
//
// Registers are 64 bits wide from the start so long mode needs no rewrite.
// Segment registers carry their hidden descriptor cache, because real CPUs
// use the cache, not the descriptor table, on every access (that is what
// makes "unreal" mode and stale-cache tricks work).  CPL is not stored: it
// is SS.DPL, as on hardware (Intel SDM vol. 3, 5.5; VMX keeps SS.DPL == CPL).
#pragma once

#include <array>
#include <cstdint>
#include <map>

#include "core/flags.h"

namespace vtlab {

enum Gpr : uint8_t { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };
enum SegReg : uint8_t { ES, CS, SS, DS, FS, GS, kNumSegRegs };

// Access rights in the VMX "segment access rights" layout (SDM vol. 3C,
// table 24-2), so the hidden cache can be handed to a VMCS model unchanged.
namespace ar {
inline constexpr uint32_t kTypeMask = 0xF;
inline constexpr uint32_t kAccessed = 1u << 0;   // data/code: accessed
inline constexpr uint32_t kWritable = 1u << 1;   // data: writable / code: readable
inline constexpr uint32_t kReadable = 1u << 1;
inline constexpr uint32_t kExpandDown = 1u << 2; // data only
inline constexpr uint32_t kConforming = 1u << 2; // code only
inline constexpr uint32_t kCode = 1u << 3;
inline constexpr uint32_t kS = 1u << 4;          // code/data (not system)
inline constexpr uint32_t kDplShift = 5;
inline constexpr uint32_t kDplMask = 3u << 5;
inline constexpr uint32_t kPresent = 1u << 7;
inline constexpr uint32_t kAvl = 1u << 12;
inline constexpr uint32_t kLong = 1u << 13;
inline constexpr uint32_t kDb = 1u << 14;        // default operand size / big
inline constexpr uint32_t kGranularity = 1u << 15;
}  // namespace ar

struct SegmentCache {
  uint16_t selector = 0;
  uint64_t base = 0;
  uint32_t limit = 0xFFFF;  // expanded to bytes (G already applied)
  uint32_t attrs = ar::kPresent | ar::kS | ar::kWritable | ar::kAccessed;

  unsigned dpl() const { return (attrs & ar::kDplMask) >> ar::kDplShift; }
  bool present() const { return attrs & ar::kPresent; }
  bool is_code() const { return (attrs & ar::kS) && (attrs & ar::kCode); }
  bool big() const { return attrs & ar::kDb; }
};

struct TableRegister {
  uint64_t base = 0;
  uint32_t limit = 0xFFFF;
};

namespace cr0 {
inline constexpr uint64_t PE = 1u << 0, MP = 1u << 1, EM = 1u << 2, TS = 1u << 3, ET = 1u << 4,
                          NE = 1u << 5, WP = 1u << 16, AM = 1u << 18, NW = 1u << 29, CD = 1u << 30,
                          PG = 1u << 31;
}
namespace cr4 {
inline constexpr uint64_t VME = 1u << 0, PVI = 1u << 1, TSD = 1u << 2, DE = 1u << 3, PSE = 1u << 4,
                          PAE = 1u << 5, MCE = 1u << 6, PGE = 1u << 7, PCE = 1u << 8,
                          OSFXSR = 1u << 9, OSXMMEXCPT = 1u << 10;
}
namespace efer {
inline constexpr uint64_t SCE = 1u << 0, LME = 1u << 8, LMA = 1u << 10, NXE = 1u << 11;
}

// Model-specific registers live in a sparse map: guests touch few of them,
// and the set grows per issue (SYSENTER, EFER, FS/GS base, APIC base...).
namespace msr {
inline constexpr uint32_t kTsc = 0x10;
inline constexpr uint32_t kApicBase = 0x1B;
inline constexpr uint32_t kSysenterCs = 0x174, kSysenterEsp = 0x175, kSysenterEip = 0x176;
inline constexpr uint32_t kMiscEnable = 0x1A0;
inline constexpr uint32_t kPat = 0x277;
inline constexpr uint32_t kEfer = 0xC0000080;
// Long mode (SDM vol. 4, table 2-2): SYSCALL targets and the segment bases
// 64-bit code cannot load through descriptors.
inline constexpr uint32_t kStar = 0xC0000081, kLstar = 0xC0000082, kCstar = 0xC0000083, kFmask = 0xC0000084;
inline constexpr uint32_t kFsBase = 0xC0000100, kGsBase = 0xC0000101, kKernelGsBase = 0xC0000102;
}  // namespace msr

// A 64-bit linear address is canonical when bits 63:47 are all equal
// (48-bit linear addresses, SDM vol. 1, 3.3.7.1).
constexpr bool is_canonical(uint64_t lin) {
  return static_cast<uint64_t>(static_cast<int64_t>(lin << 16) >> 16) == lin;
}

// The x87 FPU (SDM vol. 1, chapter 8).  `regs` are the physical registers
// R0..R7 in their memory format (bytes 0-7 the significand with its explicit
// integer bit, bytes 8-9 sign and 15-bit exponent); ST(i) is
// regs[(TOP + i) & 7] with TOP in fsw bits 13:11.  `ftw` is the full tag word
// (two bits per physical register: 00 valid, 01 zero, 10 special, 11 empty),
// as FSTENV stores it; FXSAVE's abridged form is derived from it.  MMX
// register MMi is the significand of Ri.  The last-instruction and
// last-data pointers are what FSTENV/FSAVE/FXSAVE report.
struct X87State {
  uint16_t fcw = 0x037F, fsw = 0, ftw = 0xFFFF;
  uint16_t fop = 0;             // last non-control opcode's low 11 bits
  uint16_t fcs = 0, fds = 0;    // selectors of the last instruction and operand
  uint64_t fip = 0, fdp = 0;    // their offsets
  std::array<std::array<uint8_t, 10>, 8> regs{};
};

// SSE/SSE2 (SDM vol. 1, chapters 10-11): XMM0..XMM15 (XMM8-15 only in
// 64-bit mode) as two little-endian quadwords each, and MXCSR (reset 1F80H:
// every exception masked, round to nearest).
struct SseState {
  std::array<std::array<uint64_t, 2>, 16> xmm{};
  uint32_t mxcsr = 0x1F80;
};

struct CpuState {
  std::array<uint64_t, 16> gpr{};
  uint64_t rip = 0;
  Flags flags;
  std::array<SegmentCache, kNumSegRegs> seg{};
  TableRegister gdtr, idtr;
  SegmentCache ldtr, tr;
  uint64_t cr0 = cr0::ET, cr2 = 0, cr3 = 0, cr4 = 0, cr8 = 0;
  uint64_t efer = 0;
  // PAE paging's four PDPTE registers: loaded from the table at CR3[31:5]
  // by the MOVs to CR0/CR3/CR4 that SDM 4.4.1 names, and used from here,
  // not memory, by every walk (a guest that edits its PDPT must reload CR3).
  std::array<uint64_t, 4> pdpte{};
  std::array<uint64_t, 8> dr{0, 0, 0, 0, 0, 0, 0xFFFF0FF0, 0x400};
  std::map<uint32_t, uint64_t> msrs;
  X87State fpu;
  SseState sse;

  // A stored MSR, or its reset value if no WRMSR has set it yet.
  uint64_t msr(uint32_t index, uint64_t reset_value = 0) const {
    const auto it = msrs.find(index);
    return it == msrs.end() ? reset_value : it->second;
  }

  bool protected_mode() const { return cr0 & cr0::PE; }
  bool paging() const { return cr0 & cr0::PG; }
  bool long_mode_active() const { return efer & efer::LMA; }
  bool v8086() const { return protected_mode() && (flags.bits() & flag::VM); }
  bool real_mode() const { return !protected_mode(); }
  unsigned cpl() const { return seg[SS].dpl(); }
  // Default operand/address size of the code segment, in bytes (2, 4 or 8).
  unsigned code_size() const {
    if (long_mode_active() && (seg[CS].attrs & ar::kLong)) return 8;
    if (real_mode() || v8086()) return 2;
    return seg[CS].big() ? 4 : 2;
  }
  unsigned stack_addr_size() const {
    if (code_size() == 8) return 8;
    return (!real_mode() && !v8086() && seg[SS].big()) ? 4 : 2;
  }
};

// Power-on state as Intel SDM vol. 3, table 9-1 gives it (reset vector
// F000:FFF0 with CS.base FFFF0000).
void reset_cpu_state(CpuState& s);

// Flat 32-bit protected mode as the multiboot spec hands a kernel over:
// CS execute/read, DS..GS/SS read/write, base 0, limit 4 GiB, CR0.PE on,
// paging off, interrupts off; the x87 as FNINIT leaves it (firmware ran).
void set_flat_protected_mode(CpuState& s);

}  // namespace vtlab
