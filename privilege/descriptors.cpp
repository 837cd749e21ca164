#include "privilege/descriptors.h"

#include "privilege/segment_refusal.h"

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

namespace {

uint64_t descriptor_address(const CpuState& s, uint16_t sel) {
  const uint64_t base = (sel & 4) ? s.ldtr.base : s.gdtr.base;
  return table_address(s, base + (sel & 0xFFF8u));
}

}  // namespace

Status fetch_descriptor(Cpu& cpu, uint16_t sel, Descriptor& out, uint8_t vector, bool ext) {
  if (!selector_in_table(cpu.s, sel))
    return refuse(cpu, vector, selector_error(sel, ext), SegmentCheck::BeyondTable, sel, nullptr,
                  "a selector's descriptor must lie inside its table");
  const uint64_t addr = descriptor_address(cpu.s, sel);
  // "A segment descriptor memory address is non-canonical" (SDM vol. 2,
  // the 64-bit mode exceptions of every instruction that reads one).
  if (!is_canonical(addr) || !is_canonical(addr + 7))
    return refuse(cpu, vector, selector_error(sel, ext), SegmentCheck::BeyondTable, sel, nullptr,
                  "a descriptor's address must be canonical");
  uint64_t raw;
  TRY(cpu.read_linear(addr, 8, raw, /*supervisor=*/true));
  out.lo = static_cast<uint32_t>(raw);
  out.hi = static_cast<uint32_t>(raw >> 32);
  out.upper = 0;
  out.addr = addr;
  return Status::Ok;
}

Status fetch_upper_half(Cpu& cpu, uint16_t sel, Descriptor& d, uint8_t vector, bool ext) {
  const CpuState& s = cpu.s;
  const uint32_t last = (sel & 0xFFF8u) + 15;
  const bool inside = (sel & 4) ? s.ldtr.present() && last <= s.ldtr.limit : last <= s.gdtr.limit;
  const uint64_t addr = descriptor_address(s, sel) + 8;
  if (!inside || !is_canonical(addr + 7))
    return refuse(cpu, vector, selector_error(sel, ext), SegmentCheck::BeyondTable, sel, &d,
                  "a 16-byte descriptor must lie wholly inside its table");
  return cpu.read_linear(addr, 8, d.upper, /*supervisor=*/true);
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
