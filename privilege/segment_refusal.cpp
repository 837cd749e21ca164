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

Descriptor current_tss_descriptor(const Cpu& cpu) {
  const SegmentCache& tr = cpu.s.tr;
  // Base, limit (in pages when G is set) and the access rights at their
  // places in the 8-byte descriptor; a 64-bit TSS's upper base in `upper`.
  const bool pages = tr.attrs & ar::kGranularity;
  const uint32_t raw_limit = static_cast<uint32_t>(pages ? tr.limit >> 12 : tr.limit) & 0xFFFFF;
  const auto base = static_cast<uint32_t>(tr.base);
  Descriptor d;
  d.lo = (raw_limit & 0xFFFF) | (base << 16);
  d.hi = ((base >> 16) & 0xFF) | ((tr.attrs & 0xFF) << 8) | (raw_limit & 0xF0000) | ((tr.attrs & 0xF000) << 8) |
         (base & 0xFF000000);
  d.upper = tr.base >> 32;
  return d;
}

Status refuse_current_tss(Cpu& cpu, uint8_t vector, uint32_t error, SegmentCheck check, uint64_t offset,
                          const char* rule) {
  const Descriptor d = current_tss_descriptor(cpu);
  const Status st = refuse(cpu, vector, error, check, cpu.s.tr.selector, &d, rule);
  if (check == SegmentCheck::BeyondLimit) {
    cpu.segment_refusal.offset = offset;
    cpu.segment_refusal.limit = cpu.s.tr.limit;
  }
  return st;
}

void note_from_tss(Cpu& cpu, uint16_t tss, const Descriptor& d) {
  SegmentFaultWhy& w = cpu.segment_refusal;
  const PendingEvent& ev = cpu.pending();
  if (w.check == SegmentCheck::None || w.icount != cpu.icount || w.vector != ev.vector || w.error != ev.error) return;
  w.from_tss = tss;
  w.tss_lo = d.lo;
  w.tss_hi = d.hi;
}

}  // namespace vtlab
