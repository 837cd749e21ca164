// The task-state segment (SDM vol. 3, 7.2.1, figure 7-2 for the 32-bit
// layout, 7.6 / figure 7-11 for the 16-bit one and 7.7 / figure 7-11 for
// the 64-bit one): where its fields sit, and the inner-level stacks it
// holds for interrupts and call gates.
#pragma once

#include <cstdint>

#include "core/cpu.h"
#include "privilege/descriptors.h"

namespace vtlab {

// Byte offsets in a 32-bit TSS.  Segment selectors sit in ES, CS, SS, DS,
// FS, GS order, which is the SegReg order, 4 bytes apart; the GPRs in
// EAX..EDI order, which is the Gpr order.
namespace tss32 {
inline constexpr uint32_t kLink = 0x00, kCr3 = 0x1C, kEip = 0x20, kEflags = 0x24, kGprs = 0x28, kSegs = 0x48,
                          kLdt = 0x60, kTrap = 0x64;
// A 32-bit TSS must be at least 104 bytes long (#TS otherwise); the old
// task's dynamic fields end with GS at 0x5C.
inline constexpr uint32_t kMinLimit = 0x67, kLastSaved = 0x5F;
}  // namespace tss32

// Byte offsets in the 64-bit TSS of IA-32e mode: RSP0-2 and IST1-7, each 8
// bytes.  It holds no task state: IA-32e mode has no task switching.
namespace tss64 {
constexpr uint32_t rsp(unsigned cpl) { return 4 + 8 * cpl; }
constexpr uint32_t ist(unsigned n) { return 28 + 8 * n; }  // n = 1..7
}  // namespace tss64

// The width of a TSS's stack-pointer fields: 4 in a 32-bit TSS, 2 in a
// 16-bit one; 0 when the cache holds no TSS at all.
unsigned tss_word_size(const SegmentCache& tr);

// The stack for privilege level `cpl` from the current TSS: ESP at
// 4 + 8*cpl and SS at 8 + 8*cpl in a 32-bit TSS (SP at 2 + 4*cpl, SS at
// 4 + 4*cpl in a 16-bit one).  Every byte read must lie within TR's limit
// (#TS(TR)); the SS is checked as the stack of `cpl`, failing with #TS
// (#SS when not present).  Used by interrupts and by CALL through a call
// gate to a more privileged level.
Status inner_stack(Cpu& cpu, unsigned cpl, bool ext, uint16_t& ss_sel, uint64_t& sp, Descriptor& ssd);

// IA-32e mode: the 8-byte stack pointer at `offset` (tss64::rsp or
// tss64::ist) in the current (64-bit) TSS; its 8 bytes must lie within TR's
// limit, else #TS(TR+EXT).  No SS comes with it: the new SS is a null
// selector (SDM vol. 3, 6.14.4).
Status tss64_stack(Cpu& cpu, uint32_t offset, bool ext, uint64_t& rsp);

}  // namespace vtlab
