#include "privilege/descriptors.h"

namespace vtlab {

SegmentCache segment_cache(uint16_t sel, const Descriptor& d) {
  SegmentCache sc;
  sc.selector = sel;
  sc.base = d.base();
  sc.limit = d.limit();
  sc.attrs = d.attrs();
  return sc;
}

bool selector_in_table(const CpuState& s, uint16_t sel) {
  // An LDTR holding a null selector is unusable (its cache is not present);
  // every TI=1 selector then lies outside the table.
  const uint32_t last = (sel & 0xFFF8u) + 7;
  if (sel & 4) return s.ldtr.present() && last <= s.ldtr.limit;
  return last <= s.gdtr.limit;
}

Status fetch_descriptor(Cpu& cpu, uint16_t sel, Descriptor& out, uint8_t vector, bool ext) {
  if (!selector_in_table(cpu.s, sel)) return cpu.raise(vector, selector_error(sel, ext));
  const uint64_t base = (sel & 4) ? cpu.s.ldtr.base : cpu.s.gdtr.base;
  const uint32_t offset = sel & 0xFFF8u;
  const uint64_t addr = (base + offset) & 0xFFFFFFFF;
  uint64_t raw;
  TRY(cpu.read_linear(addr, 8, raw, /*supervisor=*/true));
  out.lo = static_cast<uint32_t>(raw);
  out.hi = static_cast<uint32_t>(raw >> 32);
  out.addr = addr;
  return Status::Ok;
}

Status mark_accessed(Cpu& cpu, Descriptor& d) {
  if (!d.s() || d.accessed()) return Status::Ok;
  // The type byte is byte 5 of the descriptor; the CPU writes just that.
  const uint32_t hi = d.hi | (1u << 8);
  TRY(cpu.write_linear(d.addr + 5, 1, (hi >> 8) & 0xFF, /*supervisor=*/true));
  d.hi = hi;
  return Status::Ok;
}

bool within_limit(const CpuState& s, const SegmentCache& sc, uint64_t offset, unsigned size) {
  const uint64_t last = offset + size - 1;
  const bool expand_down = !(sc.attrs & ar::kCode) && (sc.attrs & ar::kExpandDown);
  if (s.real_mode() || s.v8086() || !expand_down) return last <= sc.limit;
  // Expand-down: valid offsets are limit+1 .. 0xFFFF (B=0) or 0xFFFFFFFF.
  const uint64_t upper = (sc.attrs & ar::kDb) ? 0xFFFFFFFF : 0xFFFF;
  return offset > sc.limit && last <= upper;
}

void make_null_segment(SegmentCache& sc, uint16_t sel) {
  sc.selector = sel;
  sc.attrs &= ~ar::kPresent;
}

}  // namespace vtlab
