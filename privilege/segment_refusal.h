// The one way the segment and gate checks of privilege/ refuse: record why
// (core/segment_fault.h, for debugger/fault_explain.h) and raise the fault.
// Out of line and cold, so the checks that pass stay as they were.
#pragma once

#include "core/cpu.h"
#include "privilege/descriptors.h"

namespace vtlab {

// `rule`: the SDM rule that failed, in words (static text).  `cpl`: the
// level the check ran at when it is not the CPU's (a task switch checks at
// the new task's, IRET at the return level); -1 for the CPL.
[[gnu::cold]] Status refuse(Cpu& cpu, uint8_t vector, uint32_t error, SegmentCheck check, uint16_t sel,
                            const Descriptor* d, const char* rule, int cpl = -1);
// An offset beyond a limit (or, with `limit` ~0, not canonical).
[[gnu::cold]] Status refuse_offset(Cpu& cpu, uint8_t vector, uint32_t error, uint16_t sel, const Descriptor* d,
                                   uint64_t offset, uint64_t limit, const char* rule);
// The current task's TSS refused (its limit, or TR not holding a TSS):
// the descriptor is rebuilt from TR's cache, which is what the CPU checks.
// `offset` beyond TR's limit for BeyondLimit; ignored otherwise.
[[gnu::cold]] Status refuse_current_tss(Cpu& cpu, uint8_t vector, uint32_t error, SegmentCheck check,
                                        uint64_t offset, const char* rule);
// Marks the refusal just raised, if there is one, as one of a selector
// read from the TSS `tss` (described by `d`).
[[gnu::cold]] void note_from_tss(Cpu& cpu, uint16_t tss, const Descriptor& d);
// The descriptor TR's cache was loaded from, rebuilt from the cache.
Descriptor current_tss_descriptor(const Cpu& cpu);

}  // namespace vtlab
