#include "privilege/virtual_cpu.h"

namespace vtlab {

void VirtualCpu::capture(const CpuState& s) {
  cr0 = s.cr0;
  cr2 = s.cr2;
  cr3 = s.cr3;
  cr4 = s.cr4;
  gdtr = s.gdtr;
  idtr = s.idtr;
  ldtr = s.ldtr;
  tr = s.tr;
  interrupts = s.flags.test(flag::IF);
  iopl = (s.flags.bits() & flag::IOPL) >> 12;
  const auto it = s.msrs.find(msr::kSysenterCs);
  sysenter_cs = it == s.msrs.end() ? 0 : it->second;
}

namespace {
bool is_segment(const SegmentCache& c) { return (c.attrs & ar::kPresent) && (c.attrs & ar::kS); }

void set_dpl(SegmentCache& c, unsigned dpl) { c.attrs = (c.attrs & ~ar::kDplMask) | (dpl << ar::kDplShift); }
}  // namespace

void compress_rings(CpuState& s) {
  const bool ring0 = s.cpl() == 0;
  for (SegmentCache& c : s.seg)
    if (is_segment(c) && c.dpl() == 0) set_dpl(c, 1);
  if (ring0) {
    s.seg[CS].selector = (s.seg[CS].selector & ~3) | 1;
    s.seg[SS].selector = (s.seg[SS].selector & ~3) | 1;
  }
}

void decompress_rings(CpuState& s) {
  const bool ring1 = s.cpl() == 1;
  for (SegmentCache& c : s.seg)
    if (is_segment(c) && c.dpl() == 1) set_dpl(c, 0);
  if (ring1) {
    s.seg[CS].selector &= ~3;
    s.seg[SS].selector &= ~3;
  }
}

VirtualContext::VirtualContext(Cpu& cpu, VirtualCpu& v) : cpu_(cpu), v_(v) {
  CpuState& s = cpu.s;
  decompress_rings(s);
  s.cr0 = v.cr0;
  s.cr2 = v.cr2;
  s.cr3 = v.cr3;
  s.cr4 = v.cr4;
  s.gdtr = v.gdtr;
  s.idtr = v.idtr;
  s.ldtr = v.ldtr;
  s.tr = v.tr;
  s.flags.set(flag::IF, v.interrupts);
  s.flags.set(flag::IOPL, false);
  s.flags.set(v.iopl << 12, true);
  s.msrs[msr::kSysenterCs] = v.sysenter_cs;
}

VirtualContext::~VirtualContext() {
  v_.capture(cpu_.s);
  compress_rings(cpu_.s);
}

}  // namespace vtlab
