// The guest's CPU as the guest believes it is, while a trap-and-emulate
// monitor runs it deprivileged (docs/TRAP_AND_EMULATE.md).
//
// The real CPU runs the guest kernel at ring 1 on the monitor's tables:
// its GDTR, IDTR, LDTR and TR point into the monitor's window, CR3 at the
// shadow page tables, IF is always 1 and IOPL 0.  What the guest loaded
// lives here instead.  To emulate an instruction that trapped, or to
// deliver an event as the guest's own IDT says, the monitor swaps this
// state into the real CPU for the length of one handler (VirtualContext),
// so every rule of the SDM runs exactly as it would at ring 0, and then
// compresses the result back to ring 1.
#pragma once

#include <cstdint>

#include "core/cpu.h"

namespace vtlab {

struct VirtualCpu {
  uint64_t cr0 = 0, cr2 = 0, cr3 = 0, cr4 = 0;
  TableRegister gdtr, idtr;
  SegmentCache ldtr, tr;
  bool interrupts = false;  // EFLAGS.IF
  unsigned iopl = 0;
  uint64_t sysenter_cs = 0;  // IA32_SYSENTER_CS (the real one stays 0: SYSENTER traps)

  // Reads the virtual registers out of the real CPU (at begin, and when a
  // VirtualContext ends).
  void capture(const CpuState& s);
};

// Ring compression of the segment registers: the guest's ring-0 selectors
// and descriptors become ring 1 (CS and SS take RPL 1, every cached DPL 0
// becomes 1) and back.  Guest rings 1 and 2 are not distinguished from 0.
void compress_rings(CpuState& s);
void decompress_rings(CpuState& s);

// For the length of its life the real CPU holds the virtual state at the
// guest's own privilege level; the destructor captures what the handler
// changed into `v`.  The caller then installs the real state again.
class VirtualContext {
 public:
  VirtualContext(Cpu& cpu, VirtualCpu& v);
  ~VirtualContext();
  VirtualContext(const VirtualContext&) = delete;
  VirtualContext& operator=(const VirtualContext&) = delete;

 private:
  Cpu& cpu_;
  VirtualCpu& v_;
};

}  // namespace vtlab
