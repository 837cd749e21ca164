#include "privilege/shadow_descriptors.h"

#include <algorithm>
#include <cstring>

namespace vtlab {

uint64_t compress_descriptor(uint64_t raw) {
  constexpr uint64_t kPresent = uint64_t{1} << 47, kS = uint64_t{1} << 44;
  constexpr unsigned kDplShift = 45;
  const unsigned dpl = (raw >> kDplShift) & 3;
  const unsigned type = (raw >> 40) & 0xF;
  if (raw & kS) return dpl == 0 ? raw | (uint64_t{1} << kDplShift) : raw;
  switch (type) {
    case 0x4:
    case 0xC:  // call gates
      return dpl == 0 ? raw | (uint64_t{1} << kDplShift) : raw;
    case 0x1:
    case 0x3:
    case 0x9:
    case 0xB:  // TSS
    case 0x2:  // LDT
    case 0x5:  // task gate
      return raw & ~kPresent;
    default:
      return raw;
  }
}

bool guest_phys(Cpu& cpu, const VirtualCpu& v, uint64_t lin, uint64_t& phys) {
  lin &= 0xFFFFFFFF;
  if (!(v.cr0 & cr0::PG)) {
    phys = lin & cpu.a20_mask;
    return true;
  }
  const WalkExplanation w =
      cpu.walker.explain(WalkRequest{lin, Access::Read, false, v.cr0, v.cr3, v.cr4, cpu.s.efer, cpu.s.pdpte});
  if (!w.ok) return false;
  phys = w.t.phys & cpu.a20_mask;
  return true;
}

bool peek_guest(Cpu& cpu, const VirtualCpu& v, uint64_t lin, unsigned size, uint64_t& out) {
  out = 0;
  for (unsigned i = 0; i < size; ++i) {
    uint64_t phys;
    if (!guest_phys(cpu, v, lin + i, phys)) return false;
    out |= cpu.mem.read(phys, 1) << (8 * i);
  }
  return true;
}

void ShadowDescriptors::attach(Cpu& cpu) {
  mem_ = cpu.mem.reserve_private(window::kPrivateBytes);
  // The monitor's TSS: no ring stacks (every event enters the monitor,
  // which delivers it on the guest's own TSS), no back link (a guest IRET
  // with NT set faults and is redone on the guest's tables), and the I/O
  // map base past the limit, so every port access from ring 1 traps.
  const uint16_t io_base = 0x68;
  std::memcpy(mem_ + window::kTss + 0x66, &io_base, 2);
}

void ShadowDescriptors::copy_table(Cpu& cpu, const VirtualCpu& v, uint64_t guest_base, uint32_t limit,
                                   uint64_t offset) {
  std::memset(mem_ + offset, 0, 0x10000);
  const uint64_t entries = std::min<uint64_t>((uint64_t{limit} + 1) / 8, 0x10000 / 8);
  for (uint64_t i = 0; i < entries; ++i) {
    uint64_t raw;
    if (!peek_guest(cpu, v, guest_base + i * 8, 8, raw)) continue;  // unmapped: not present
    const uint64_t shadow = compress_descriptor(raw);
    std::memcpy(mem_ + offset + i * 8, &shadow, 8);
  }
}

void ShadowDescriptors::rebuild(Cpu& cpu, const VirtualCpu& v) {
  copy_table(cpu, v, v.gdtr.base, std::min(v.gdtr.limit, window::kMaxGuestGdtLimit), window::kGdt);
  if (v.ldtr.present() && v.ldtr.selector & ~3)
    copy_table(cpu, v, v.ldtr.base, v.ldtr.limit, window::kLdt);
  else
    std::memset(mem_ + window::kLdt, 0, 0x10000);
}

void ShadowDescriptors::install(CpuState& s, const VirtualCpu& v) const {
  s.gdtr = TableRegister{window::kBase + window::kGdt, std::min(v.gdtr.limit, window::kMaxGuestGdtLimit)};
  s.idtr = TableRegister{window::kBase + window::kIdt, 0x7FF};
  s.tr.selector = window::kTssSelector;
  s.tr.base = window::kBase + window::kTss;
  s.tr.limit = 0x67;
  s.tr.attrs = ar::kPresent | 0xB;  // busy 32-bit TSS, DPL 0
  if (v.ldtr.present() && v.ldtr.selector & ~3) {
    s.ldtr.selector = window::kLdtSelector;
    s.ldtr.base = window::kBase + window::kLdt;
    s.ldtr.limit = v.ldtr.limit;
    s.ldtr.attrs = ar::kPresent | 0x2;
  } else {
    s.ldtr = SegmentCache{};
    s.ldtr.selector = 0;
    s.ldtr.attrs = 0;
  }
}

}  // namespace vtlab
