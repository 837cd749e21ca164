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

}  // namespace vtlab
