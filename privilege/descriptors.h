// Segment selectors and descriptors: decoding the 8-byte GDT/LDT/IDT
// entries (SDM vol. 3, 3.4 and 6.11) and the 16-byte system descriptors
// and gates of IA-32e mode (3.5.2, 5.8.3.1, 6.14.1, 7.2.3), fetching them
// with the table-limit check, setting the accessed bit, and turning a
// descriptor into the hidden part of a segment register.
#pragma once

#include <cstdint>

#include "core/cpu.h"

namespace vtlab {

// --- selectors (SDM vol. 3, 3.4.2) ----------------------------------------
inline unsigned rpl(uint16_t sel) { return sel & 3; }
inline bool is_null_selector(uint16_t sel) { return (sel & 0xFFFC) == 0; }
// A fault that names a selector reports index and TI, with EXT in bit 0
// (SDM vol. 3, 6.13): the RPL bits are not part of the error code.
inline uint32_t selector_error(uint16_t sel, bool ext) { return (sel & 0xFFFCu) | (ext ? 1u : 0u); }

// System-descriptor types, S = 0 (SDM vol. 3, table 3-2).
namespace sys_type {
inline constexpr unsigned kTss16Available = 0x1, kLdt = 0x2, kTss16Busy = 0x3, kCallGate16 = 0x4,
                          kTaskGate = 0x5, kInterruptGate16 = 0x6, kTrapGate16 = 0x7,
                          kTss32Available = 0x9, kTss32Busy = 0xB, kCallGate32 = 0xC,
                          kInterruptGate32 = 0xE, kTrapGate32 = 0xF;
}

// In IA-32e mode types 9/B are the 64-bit TSS, C the 64-bit call gate and
// E/F the 64-bit interrupt and trap gates (SDM vol. 3, table 3-2); the
// names above keep their legacy widths.

// One descriptor as it sits in memory (low and high doublewords, and for an
// IA-32e-mode system descriptor the upper 8 bytes), with the linear address
// it was read from (so the accessed bit can be written back).
struct Descriptor {
  uint32_t lo = 0, hi = 0;
  uint64_t upper = 0;  // bytes 8..15 of a 16-byte descriptor; 0 otherwise
  uint64_t addr = 0;

  unsigned type() const { return (hi >> 8) & 0xF; }
  bool s() const { return hi & (1u << 12); }  // 1: code or data, 0: system
  unsigned dpl() const { return (hi >> 13) & 3; }
  bool present() const { return hi & (1u << 15); }

  bool is_code() const { return s() && (type() & 8); }
  bool is_data() const { return s() && !(type() & 8); }
  bool conforming() const { return is_code() && (type() & 4); }
  bool readable_code() const { return is_code() && (type() & 2); }
  bool writable_data() const { return is_data() && (type() & 2); }
  bool accessed() const { return s() && (type() & 1); }
  // Code segments in IA-32e mode: L selects 64-bit mode; L=1 with D=1 is
  // reserved (SDM vol. 3, 5.2.1).
  bool long_code() const { return is_code() && (hi & (1u << 21)); }
  bool default_big() const { return hi & (1u << 22); }
  bool long_and_big() const { return long_code() && default_big(); }

  // Bits 63:32 of a 16-byte descriptor's base come from its upper half.
  uint64_t base() const {
    return (lo >> 16) | ((hi & 0xFF) << 16) | (hi & 0xFF000000) | ((upper & 0xFFFFFFFF) << 32);
  }
  // The type field of the upper half (bits 12:8 of its second doubleword),
  // which must be 0 (SDM vol. 3, figures 5-8 and 7-4).
  unsigned upper_type() const { return (upper >> 40) & 0x1F; }
  // In bytes, with the granularity bit applied.
  uint32_t limit() const {
    const uint32_t raw = (lo & 0xFFFF) | (hi & 0xF0000);
    return (hi & (1u << 23)) ? (raw << 12) | 0xFFF : raw;
  }
  // Type, S, DPL, P, AVL, L, D/B, G in the VMX access-rights layout the
  // segment caches use (bits 8..15 and 20..23 of the high doubleword).
  uint32_t attrs() const { return ((hi >> 8) & 0xFF) | ((hi >> 8) & 0xF000); }

  // Gate view (call, interrupt, trap and task gates).
  uint16_t gate_selector() const { return static_cast<uint16_t>(lo >> 16); }
  uint32_t gate_offset() const { return (lo & 0xFFFF) | (hi & 0xFFFF0000); }
  uint64_t gate_offset64() const { return gate_offset() | ((upper & 0xFFFFFFFF) << 32); }
  // A 64-bit interrupt or trap gate's interrupt-stack-table index (0: none).
  unsigned ist() const { return hi & 7; }
};

// The hidden part of a segment register after loading `sel` with `d`.
SegmentCache segment_cache(uint16_t sel, const Descriptor& d);

// Reads the GDT or LDT entry `sel` names.  An index beyond the table's limit
// (or a TI=1 selector with no usable LDT) raises `vector` with the selector
// error code (plus EXT).  Table reads are system accesses: they are made
// as CPL 0 whatever the CPL, and may page-fault.
Status fetch_descriptor(Cpu& cpu, uint16_t sel, Descriptor& out, uint8_t vector, bool ext = false);
// The upper 8 bytes of the 16-byte system descriptor or call gate `sel`
// names in IA-32e mode, into `d.upper` (`d` already holds the lower half):
// all 16 bytes must lie inside the table, else vector(sel+EXT).
Status fetch_upper_half(Cpu& cpu, uint16_t sel, Descriptor& d, uint8_t vector, bool ext = false);
// The linear address of an implicit table access (GDT, LDT, IDT, TSS):
// 32 bits outside IA-32e mode, where table bases are 32-bit.
inline uint64_t table_address(const CpuState& s, uint64_t lin) {
  return s.long_mode_active() ? lin : lin & 0xFFFFFFFF;
}
// Whether the 8 bytes `sel` names lie inside its table (GDT, or a usable
// LDT); the check fetch_descriptor faults on, without faulting.
bool selector_in_table(const CpuState& s, uint16_t sel);

// Sets the accessed bit of a code/data descriptor in memory, as the CPU does
// when it loads a segment register from it (SDM vol. 3, 3.4.5.1).  Done
// after every check passed, as the last step before committing.
Status mark_accessed(Cpu& cpu, Descriptor& d);

// Whether [offset, offset+size) lies inside the segment, honouring
// expand-down data segments in protected mode.  Real and virtual-8086 mode
// check the plain limit, as Cpu::check_segment does.
bool within_limit(const CpuState& s, const SegmentCache& sc, uint64_t offset, unsigned size);

// A data-segment register loaded with a null selector: usable for nothing
// until reloaded.  The selector is kept (it may carry an RPL); clearing
// the present bit makes every later access through it #GP(0).
void make_null_segment(SegmentCache& sc, uint16_t sel);

}  // namespace vtlab
