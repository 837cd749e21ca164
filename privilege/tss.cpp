#include "privilege/tss.h"

#include "privilege/segment_load.h"
#include "privilege/segment_refusal.h"

namespace vtlab {

unsigned tss_word_size(const SegmentCache& tr) {
  if (tr.attrs & ar::kS) return 0;
  switch (tr.attrs & ar::kTypeMask) {
    case sys_type::kTss32Busy:
    case sys_type::kTss32Available: return 4;
    case sys_type::kTss16Busy:
    case sys_type::kTss16Available: return 2;
    default: return 0;
  }
}

Status inner_stack(Cpu& cpu, unsigned cpl, bool ext, uint16_t& ss_sel, uint64_t& sp, Descriptor& ssd) {
  const SegmentCache& tr = cpu.s.tr;
  const unsigned word = tss_word_size(tr);
  const uint32_t sp_at = word == 4 ? 4 + 8 * cpl : 2 + 4 * cpl;
  if (word == 0)
    return refuse_current_tss(cpu, vec::TS, selector_error(tr.selector, ext), SegmentCheck::WrongType, 0,
                              "a stack switch reads the new stack from the TSS TR holds");
  if (sp_at + word + 1 > tr.limit)
    return refuse_current_tss(cpu, vec::TS, selector_error(tr.selector, ext), SegmentCheck::BeyondLimit,
                              sp_at + word + 1, "the TSS must hold the stack (ESP and SS) for the new privilege level");
  uint64_t ss;
  TRY(cpu.read_linear(table_address(cpu.s, tr.base + sp_at), word, sp, /*supervisor=*/true));
  TRY(cpu.read_linear(table_address(cpu.s, tr.base + sp_at + word), 2, ss, /*supervisor=*/true));
  ss_sel = static_cast<uint16_t>(ss);
  return check_stack_segment(cpu, ss_sel, cpl, vec::TS, ext, ssd);
}

Status tss64_stack(Cpu& cpu, uint32_t offset, bool ext, uint64_t& rsp) {
  const SegmentCache& tr = cpu.s.tr;
  if (offset + 7 > tr.limit)
    return refuse_current_tss(cpu, vec::TS, selector_error(tr.selector, ext), SegmentCheck::BeyondLimit, offset + 7,
                              "the TSS must hold the stack pointer (RSPn or ISTn) the event switches to");
  return cpu.read_linear(tr.base + offset, 8, rsp, /*supervisor=*/true);
}

}  // namespace vtlab
