// The paravirtual hypercall ABI between a `pv` guest kernel and the PV
// monitor (docs/HYPERCALLS.md is the reference; samples/minios/pv.h is the
// guest's copy of these numbers).
//
// Entry: INT 0x82 from the guest kernel (ring 1), number in EAX, arguments
// in EBX, ECX, EDX, ESI, EDI, result in EAX: 0 or a count on success, a
// negative errno-style code on failure.  Guest pointers are linear
// addresses under the guest's current page tables, read as supervisor.
#pragma once

#include <cstdint>

namespace vtlab::pv {

inline constexpr uint8_t kHypercallVector = 0x82;

enum Hypercall : uint32_t {
  kConsoleWrite = 0,    // EBX ptr, ECX len (<= kMaxConsoleWrite) -> len
  kSetTrapTable = 1,    // EBX ptr to TrapInfo[ECX] (ECX <= 256)
  kMmuUpdate = 2,       // EBX ptr to MmuUpdate[ECX] (ECX <= kMaxBatch) -> count done
  kMmuExtOp = 3,        // EBX ptr to MmuExtOp[ECX] (ECX <= kMaxBatch) -> count done
  kSetKernelStack = 4,  // EBX SS, ECX ESP: the stack for events from ring 3
  kUpdateDescriptor = 5,  // EBX GDT index, ECX low dword, EDX high dword
  kSetTimer = 6,        // EBX period in ns (0 stops it), ECX event vector (32..255)
  kBlock = 7,           // events on, sleep until one is pending
  kYield = 8,           // take pending events now (after a memory write enabled them)
  kShutdown = 9,        // EBX code: the run ends with status (code << 1) | 1
  kMulticall = 10,      // EBX ptr to MulticallEntry[ECX] (ECX <= kMaxMulticall)
  kSetSharedInfo = 11,  // EBX guest-physical page address of the shared-info page
  kHypercalls
};

// Negative errno-style results (Linux numbers).
enum Error : int32_t {
  kEPERM = -1,    // refused by policy: monitor memory, a writable page table, DPL 0
  kE2BIG = -7,    // a count or length above its limit
  kEBUSY = -16,   // a page table still in use
  kEFAULT = -14,  // a guest pointer that does not map readable (or writable) memory
  kEINVAL = -22,  // a malformed argument: alignment, range, reserved bits, nesting
  kENOSYS = -38,  // no such hypercall
};

inline constexpr uint32_t kMaxConsoleWrite = 1024;
inline constexpr uint32_t kMaxBatch = 512;
inline constexpr uint32_t kMaxMulticall = 32;

// The monitor's GDT: entries 1 and 2 are its flat ring-1 kernel code and
// data, the last its TSS; the guest fills kFirstGuestEntry..kLastGuestEntry
// with kUpdateDescriptor.
inline constexpr uint16_t kKernelCs = 0x09, kKernelDs = 0x11;
inline constexpr unsigned kGdtEntries = 16, kFirstGuestEntry = 3, kLastGuestEntry = 14, kTssEntry = 15;
// The one vector ring 3 may enter the kernel by without an exit: a real
// trap gate when the guest's trap table gives it DPL 3 and no event mask.
inline constexpr uint8_t kFastTrapVector = 0x80;

struct TrapInfo {  // 8 bytes
  uint8_t vector;
  uint8_t flags;  // bits 0-1: as a gate's DPL, the outermost ring that may raise it with INT n (the kernel counts as 0); bit 2: clear the virtual IF
  uint16_t cs;    // must be kKernelCs
  uint32_t address;
};
inline constexpr uint8_t kTrapDplMask = 3, kTrapClearsIf = 4;

struct MmuUpdate {  // 8 bytes
  uint32_t ptr;  // guest-physical address of the entry (4-byte aligned) in a pinned table
  uint32_t val;  // the new entry
};

enum MmuExtCmd : uint32_t { kPinL1 = 0, kPinL2 = 1, kUnpin = 2, kNewBaseptr = 3, kInvlpg = 4, kTlbFlush = 5 };
struct MmuExtOp {  // 8 bytes
  uint32_t cmd;
  uint32_t arg;  // a guest-physical page address, or a linear address for kInvlpg
};

struct MulticallEntry {  // 28 bytes
  uint32_t op;
  uint32_t args[5];
  int32_t result;  // written by the monitor
};

// The shared-info page, at the guest-physical page the guest names.
namespace shared {
inline constexpr uint32_t kEventsEnabled = 0;  // u32: the virtual IF (1: events may be delivered)
inline constexpr uint32_t kPending = 4;        // u32: nonzero while an event waits for events_enabled
inline constexpr uint32_t kCr2 = 8;            // u32: the address of the last page fault delivered
}  // namespace shared

// The top of guest RAM the monitor keeps for itself: no guest page table
// may map it, and it is not the guest's to use.
inline constexpr uint64_t kMonitorBytes = 64 * 1024;

}  // namespace vtlab::pv
