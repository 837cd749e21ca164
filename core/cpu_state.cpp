#include "core/cpu_state.h"

namespace vtlab {

void reset_cpu_state(CpuState& s) {
  s = CpuState{};
  s.gpr[RDX] = 0x00000603;  // the CPUID signature in EDX at reset (SDM 9.1.4)
  s.rip = 0xFFF0;
  s.flags.set_bits(flag::kReserved1);
  for (SegmentCache& sc : s.seg) {
    sc.selector = 0;
    sc.base = 0;
    sc.limit = 0xFFFF;
    sc.attrs = ar::kPresent | ar::kS | ar::kWritable | ar::kAccessed;
  }
  s.seg[CS].selector = 0xF000;
  s.seg[CS].base = 0xFFFF0000;
  s.seg[CS].attrs = ar::kPresent | ar::kS | ar::kCode | ar::kReadable | ar::kAccessed;
  s.gdtr = {0, 0xFFFF};
  s.idtr = {0, 0xFFFF};
  s.ldtr = SegmentCache{0, 0, 0xFFFF, ar::kPresent | 0x2};  // LDT type
  s.tr = SegmentCache{0, 0, 0xFFFF, ar::kPresent | 0xB};    // busy 32-bit TSS
  s.cr0 = 0x60000010;  // CD, NW, ET
  // x87 after power-on (table 9-1), not after FNINIT (037FH / FFFFH).
  s.fpu.fcw = 0x0040;
  s.fpu.ftw = 0x5555;
}

void set_flat_protected_mode(CpuState& s) {
  const uint32_t data = ar::kPresent | ar::kS | ar::kWritable | ar::kAccessed | ar::kDb | ar::kGranularity;
  const uint32_t code = ar::kPresent | ar::kS | ar::kCode | ar::kReadable | ar::kAccessed | ar::kDb |
                        ar::kGranularity;
  for (int i = 0; i < kNumSegRegs; ++i) {
    SegmentCache& sc = s.seg[i];
    sc.base = 0;
    sc.limit = 0xFFFFFFFF;
    sc.attrs = i == CS ? code : data;
    // Selectors as a GRUB-like loader leaves them; the spec says the guest
    // must not rely on them and must load its own GDT.
    sc.selector = i == CS ? 0x08 : 0x10;
  }
  s.cr0 = (s.cr0 | cr0::PE | cr0::ET) & ~(cr0::PG | cr0::CD | cr0::NW);
  s.flags.set_bits(flag::kReserved1);  // IF=0, VM=0
  s.gdtr = {0, 0};
  s.fpu = X87State{};  // the firmware that ran before a loader initialised the x87 (FNINIT)
}

}  // namespace vtlab
