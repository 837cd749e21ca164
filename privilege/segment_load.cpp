#include "privilege/segment_load.h"

#include "privilege/segment_refusal.h"

namespace vtlab {

namespace {

Status prepare_real_mode(const Cpu& cpu, unsigned seg, uint16_t sel, SegmentCache& out) {
  out = cpu.s.seg[seg];
  out.selector = sel;
  out.base = uint64_t{sel} << 4;
  // CPL is SS.DPL: real mode runs at 0, virtual-8086 mode at 3.
  if (seg == SS) {
    out.attrs = (out.attrs & ~ar::kDplMask) | ((cpu.s.v8086() ? 3u : 0u) << ar::kDplShift);
  }
  return Status::Ok;
}

Status prepare_data_segment(Cpu& cpu, uint16_t sel, SegmentCache& out) {
  if (is_null_selector(sel)) {
    out = cpu.s.seg[DS];  // any cache: only "not usable" matters
    make_null_segment(out, sel);
    return Status::Ok;
  }
  Descriptor d;
  TRY(check_data_segment(cpu, sel, cpu.s.cpl(), vec::GP, false, d));
  TRY(mark_accessed(cpu, d));
  out = segment_cache(sel, d);
  return Status::Ok;
}

}  // namespace

Status check_data_segment(Cpu& cpu, uint16_t sel, unsigned cpl, uint8_t vector, bool ext, Descriptor& d) {
  TRY(fetch_descriptor(cpu, sel, d, vector, ext));
  const uint32_t error = selector_error(sel, ext);
  const int level = static_cast<int>(cpl);
  if (!d.is_data() && !d.readable_code())
    return refuse(cpu, vector, error, SegmentCheck::WrongType, sel, &d,
                  "DS, ES, FS and GS take a data or readable code segment", level);
  // Conforming code may be read from any level; everything else only from
  // levels at least as privileged as the segment, for both CPL and RPL.
  constexpr const char* kLevel = "a data or non-conforming code segment is loaded only when max(CPL, RPL) <= DPL";
  if (!d.conforming() && rpl(sel) > d.dpl())
    return refuse(cpu, vector, error, SegmentCheck::RplAboveDpl, sel, &d, kLevel, level);
  if (!d.conforming() && cpl > d.dpl())
    return refuse(cpu, vector, error, SegmentCheck::CplAboveDpl, sel, &d, kLevel, level);
  if (!d.present())
    return refuse(cpu, vec::NP, error, SegmentCheck::NotPresent, sel, &d, "the segment must be present", level);
  return Status::Ok;
}

Status check_stack_segment(Cpu& cpu, uint16_t sel, unsigned cpl, uint8_t vector, bool ext, Descriptor& d) {
  // 64-bit mode's null SS is the caller's (null_stack_allowed).
  const int level = static_cast<int>(cpl);
  if (is_null_selector(sel))
    return refuse(cpu, vector, ext ? 1 : 0, SegmentCheck::NullSelector, sel, nullptr,
                  "SS cannot be null (except in 64-bit mode below CPL 3)", level);
  TRY(fetch_descriptor(cpu, sel, d, vector, ext));
  const uint32_t error = selector_error(sel, ext);
  constexpr const char* kLevel = "SS's RPL and DPL must both equal the CPL";
  if (rpl(sel) != cpl) return refuse(cpu, vector, error, SegmentCheck::RplNotCpl, sel, &d, kLevel, level);
  if (!d.writable_data())
    return refuse(cpu, vector, error, SegmentCheck::WrongType, sel, &d, "SS takes a writable data segment", level);
  if (d.dpl() != cpl) return refuse(cpu, vector, error, SegmentCheck::DplNotCpl, sel, &d, kLevel, level);
  if (!d.present())
    return refuse(cpu, vec::SS, error, SegmentCheck::NotPresent, sel, &d, "the stack segment must be present", level);
  return Status::Ok;
}

Status prepare_segment_load(Cpu& cpu, unsigned seg, uint16_t sel, SegmentCache& out) {
  if (cpu.s.real_mode() || cpu.s.v8086()) return prepare_real_mode(cpu, seg, sel, out);
  if (seg != SS) return prepare_data_segment(cpu, sel, out);
  if (is_null_selector(sel) && null_stack_allowed(cpu.s, sel, cpu.s.cpl(), cpu.s.code_size() == 8)) {
    out = null_stack_segment(sel, cpu.s.cpl());
    return Status::Ok;
  }
  Descriptor d;
  TRY(check_stack_segment(cpu, sel, cpu.s.cpl(), vec::GP, false, d));
  TRY(mark_accessed(cpu, d));
  out = segment_cache(sel, d);
  return Status::Ok;
}

Status load_segment(Cpu& cpu, unsigned seg, uint16_t sel) {
  SegmentCache sc;
  TRY(prepare_segment_load(cpu, seg, sel, sc));
  cpu.s.seg[seg] = sc;
  return Status::Ok;
}

bool null_stack_allowed(const CpuState& s, uint16_t sel, unsigned cpl, bool to64) {
  return s.long_mode_active() && to64 && cpl < 3 && rpl(sel) == cpl;
}

SegmentCache null_stack_segment(uint16_t sel, unsigned cpl) {
  SegmentCache sc;
  sc.selector = sel;
  sc.base = 0;
  sc.limit = 0;
  sc.attrs = ar::kS | ar::kWritable | ar::kAccessed | (cpl << ar::kDplShift);  // not present: unusable
  return sc;
}

void null_inaccessible_data_segments(CpuState& s) {
  const unsigned cpl = s.cpl();
  for (unsigned seg : {ES, DS, FS, GS}) {
    SegmentCache& sc = s.seg[seg];
    const bool conforming_code = sc.is_code() && (sc.attrs & ar::kConforming);
    // An already unusable (null) register stays as it is.
    if (sc.present() && !conforming_code && sc.dpl() < cpl) make_null_segment(sc, 0);
  }
}

}  // namespace vtlab
