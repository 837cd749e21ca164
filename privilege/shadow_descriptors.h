// The monitor's own descriptor tables, in monitor-private memory
// (PhysicalMemory::reserve_private) that no guest mapping can reach.  The
// real CPU sees them through a 4 MiB window at the top of the linear
// address space, the place VMware's monitor took: only the CPU's implicit
// accesses to its tables land there (privilege/shadow_mmu.h); a guest
// access to the same addresses is emulated against the guest's own page
// tables and counted.
//
// The shadow GDT and LDT are the guest's with ring compression applied:
// code and data descriptors and call gates of DPL 0 say DPL 1, so the
// deprivileged kernel can load its own segments.  TSS, LDT and task-gate
// descriptors are marked not present: the real CPU must never switch
// tasks on guest tables, so using one faults, and the monitor redoes it
// on the guest's (the task switch is emulated).
#pragma once

#include <cstdint>

#include "core/cpu.h"
#include "privilege/virtual_cpu.h"

namespace vtlab {

namespace window {
inline constexpr uint64_t kBase = 0xFFC00000;  // linear
inline constexpr uint64_t kSize = 4u << 20;
inline constexpr uint64_t kGdt = 0x00000, kIdt = 0x10000, kTss = 0x10800, kLdt = 0x20000;
inline constexpr uint64_t kPrivateBytes = 0x30000;  // what the tables take
// The monitor's selectors for its TSS and the shadow LDT: the top two GDT
// slots (a guest GDT is clipped below them).
inline constexpr uint16_t kTssSelector = 0xFFF0, kLdtSelector = 0xFFF8;
inline constexpr uint32_t kMaxGuestGdtLimit = 0xFFEF;
inline bool contains(uint64_t lin) { return lin - kBase < kSize; }
// The implicit accesses the window serves: the tables the monitor keeps there.
inline bool holds_table(uint64_t lin) { return lin - kBase < kPrivateBytes; }
}  // namespace window

// Rewrites one guest descriptor for the shadow table (see above).
uint64_t compress_descriptor(uint64_t raw);

class ShadowDescriptors {
 public:
  // Reserves the monitor's memory and writes its TSS.
  void attach(Cpu& cpu);
  // Copies the guest's GDT (or LDT) into the shadow, compressed.  Entries
  // the guest's tables do not map read as not present.
  void rebuild(Cpu& cpu, const VirtualCpu& v);
  // The real GDTR, IDTR, LDTR and TR while the guest runs.
  void install(CpuState& s, const VirtualCpu& v) const;

 private:
  void copy_table(Cpu& cpu, const VirtualCpu& v, uint64_t guest_base, uint32_t limit, uint64_t offset);
  uint8_t* mem_ = nullptr;
};

// Reads guest linear memory the way the guest's own tables map it, with no
// side effect on the guest (no A/D bits, no fault): a monitor looking.
bool peek_guest(Cpu& cpu, const VirtualCpu& v, uint64_t lin, unsigned size, uint64_t& out);
// The guest-physical address of a linear one under the guest's tables.
bool guest_phys(Cpu& cpu, const VirtualCpu& v, uint64_t lin, uint64_t& phys);

}  // namespace vtlab
