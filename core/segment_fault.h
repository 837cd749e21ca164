// Why the last segment or gate check refused: which selector, which
// descriptor (as read from the GDT/LDT), which rule of SDM vol. 3,
// chapter 5 (privilege levels, types, present bits, limits) failed.  The
// checks in privilege/ write it just before they raise #GP/#NP/#SS/#TS
// (privilege/segment_refusal.h), so the path that passes pays nothing;
// debugger/fault_explain.h puts it in words.
#pragma once

#include <cstdint>

namespace vtlab {

enum class SegmentCheck : uint8_t {
  None,
  NullSelector,  // a null selector where one may not be used
  BeyondTable,   // the selector's index lies beyond the GDT/LDT limit (or TI=1 with no LDT)
  WrongType,     // the descriptor is not the kind of segment or gate this use needs
  RplAboveDpl,   // RPL > DPL
  CplAboveDpl,   // CPL > DPL
  RplNotCpl,     // RPL != CPL (SS)
  DplNotCpl,     // DPL != CPL (SS, non-conforming code)
  DplAboveCpl,   // DPL > CPL (conforming code, a call's target)
  RplAboveCpl,   // RPL > CPL (a direct JMP/CALL to non-conforming code)
  RplBelowCpl,   // RPL < CPL (a return to a more privileged level)
  DplNotRpl,     // DPL != RPL (a return to non-conforming code)
  DplAboveRpl,   // DPL > RPL (a return to conforming code)
  GateDpl,       // the gate's DPL is below the CPL or the selector's RPL
  NotPresent,    // P = 0
  BeyondLimit,   // an offset beyond a segment's (or the TSS's) limit
  Busy,          // a TSS whose busy bit is not what the switch needs
};

struct SegmentFaultWhy {
  SegmentCheck check = SegmentCheck::None;
  uint8_t vector = 0;
  uint8_t cpl = 0;
  bool has_descriptor = false;
  uint16_t selector = 0;
  uint32_t error = 0;
  uint32_t lo = 0, hi = 0;  // the descriptor, when has_descriptor
  uint64_t offset = 0, limit = 0;  // BeyondLimit, BeyondTable: what lay beyond what
  // The rule in words ("SS must be a writable data segment"); static text.
  const char* rule = "";
  // Cpu::icount when it was written: a fault raised by the instruction at
  // that count is the one it explains.
  uint64_t icount = 0;
  // When the selector was read from a TSS (a task switch's new task, SDM
  // vol. 3, table 7-1; IRET's previous-task link): that TSS's selector
  // (non-zero) and its descriptor.
  uint16_t from_tss = 0;
  uint32_t tss_lo = 0, tss_hi = 0;
};

}  // namespace vtlab
