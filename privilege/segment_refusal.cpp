#include "privilege/segment_refusal.h"

namespace vtlab {

Status refuse(Cpu& cpu, uint8_t vector, uint32_t error, SegmentCheck check, uint16_t sel, const Descriptor* d,
              const char* rule, int cpl) {
  SegmentFaultWhy& w = cpu.segment_refusal;
  w = SegmentFaultWhy{};
  w.check = check;
  w.vector = vector;
  w.error = error;
  w.cpl = static_cast<uint8_t>(cpl < 0 ? cpu.s.cpl() : static_cast<unsigned>(cpl));
  w.selector = sel;
  if (d) {
    w.has_descriptor = true;
    w.lo = d->lo;
    w.hi = d->hi;
  }
  w.rule = rule;
  w.icount = cpu.icount;
  if (check == SegmentCheck::BeyondTable) {
    // The descriptor's first byte and the limit it was held against
    // (~0: a TI=1 selector with no LDT loaded).
    const bool ldt = sel & 4;
    w.offset = sel & 0xFFF8u;
    w.limit = !ldt ? cpu.s.gdtr.limit : cpu.s.ldtr.present() ? cpu.s.ldtr.limit : ~uint64_t{0};
  }
  return cpu.raise(vector, error);
}

Status refuse_offset(Cpu& cpu, uint8_t vector, uint32_t error, uint16_t sel, const Descriptor* d, uint64_t offset,
                     uint64_t limit, const char* rule) {
  const Status st = refuse(cpu, vector, error, SegmentCheck::BeyondLimit, sel, d, rule);
  cpu.segment_refusal.offset = offset;
  cpu.segment_refusal.limit = limit;
  return st;
}

}  // namespace vtlab
