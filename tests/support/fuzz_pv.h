// Test support for the `pv` fuzz target (tests/fuzz/pv_fuzz.cpp) and the
// regression tests made from its findings: how one input becomes a
// paravirtual kernel's start state and code under PvMonitor.  The ABI the
// code reaches is privilege/pv_abi.h (docs/HYPERCALLS.md); the layout is
// described in docs/FUZZING.md.
//
// Random bytes seldom make a well-formed hypercall, so the code is built
// from a script: records of raw code, hypercalls with chosen numbers and
// arguments (pointers into a data area the input fills), data for that
// area, and stores to the virtio-mmio registers.  Raw code can still do
// anything, hypercalls with whatever registers it left included.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/machine.h"

namespace vtlab::test::fuzz {

// Byte 0 bits 0-1: how far the kernel got before the code runs.
enum class PvStart : uint8_t {
  Boot,    // as the monitor hands over at boot: ring 1, no trap table, no shared info, no paging
  Kernel,  // after a kernel's set-up hypercalls: shared info, trap table, kernel stack, ring-3 segments
  Paged,   // the same, then its page tables pinned and installed with new_baseptr
  User,    // the same, then IRET to ring 3 (the code runs as a process; its events enter the kernel)
  Count
};
// Byte 0 bits 2-7.
namespace pv_extra {
inline constexpr uint8_t kEventsOn = 1u << 2;   // shared info: events_enabled = 1
inline constexpr uint8_t kTimer = 1u << 3;      // set_timer(kPvTimerPeriod, kPvTimerVector) during set-up
inline constexpr uint8_t kMaskingTraps = 1u << 4;  // every trap-table entry masks events (interrupt gates)
inline constexpr uint8_t kUserInts = 1u << 5;   // every vector may be raised by INT n from ring 3 (else 3, 4, 0x80)
}  // namespace pv_extra

// Script records after the 3-byte header (byte 1-2 bits 0-12: the offset
// in the built code every trap-table entry points at):
//   00-7F  raw code: the next (k + 1) bytes;
//   80-BF  hypercall k & 0x0F (12-15: no such call); bit 0x10: no
//          arguments (the registers as the code left them); else 12
//          bytes of EBX, ECX, EDX follow, and with bit 0x20 EBX points
//          into the data area (kPvData + EBX % kPvDataBytes);
//   C0-DF  data: the next (next byte + 1) bytes go to the data area;
//   E0-FF  a 32-bit store to virtio-mmio slot k & 1: 2 bytes of register
//          offset (bits 2-8), 4 bytes of value (with bit 0x02, a
//          pointer into the data area).
inline constexpr uint64_t kPvPageDir = 0x20000;  // PD, 4 PTs for 16 MiB, 1 PT for the virtio page
inline constexpr uint64_t kPvShared = 0x26000, kPvTraps = 0x27000, kPvExtOps = 0x27800, kPvStub = 0x28000;
inline constexpr uint64_t kPvData = 0x30000, kPvDataBytes = 0x10000;
inline constexpr uint32_t kPvTimerPeriod = 1000, kPvTimerVector = 0x20;
inline constexpr uint16_t kPvUserCs = 0x1B, kPvUserDs = 0x23;  // GDT entries 3 and 4, DPL 3
// A set-up hypercall that failed shuts the guest down with this code plus
// the step's number: (code << 1) | 1 is the run's guest status.
inline constexpr uint32_t kPvSetupFailed = 0x7E00;
// Virtual time for one input.  More than the CPU target's kCpuBudget, so
// the set-up (about 350 units) and a timer event fit (the timer's shortest
// period is 1000 ns); REP strings at 4096 iterations per unit (about 6 M
// here) and hypercalls at kPvHypercallCost (at most 512 table scans each)
// stay inside the fuzzer's 10 s hang limit under the sanitizers (at most
// 3.6 s measured; docs/FUZZING.md).
inline constexpr uint64_t kPvBudget = 1500;
// Virtual time a hypercall costs here (the default cost model says 500).
inline constexpr uint64_t kPvHypercallCost = 50;

const char* pv_start_name(PvStart s);
// The code the script builds (at kCode) and the data area's bytes.
struct PvProgram {
  std::vector<uint8_t> code, data;
};
PvProgram build_pv_program(const uint8_t* script, size_t size);
// Puts the start state, the set-up stub (at kPvStub: the CPU starts
// there) and `program` into a machine in `pv` mode.
void prepare_pv(Machine& m, PvStart start, uint8_t extras, uint32_t handler_offset, const PvProgram& program);
// A machine in pv mode (virtio-blk and virtio-console wired, exits costing
// nothing) for the input, run for `budget` units; `hypercalls`, if given,
// receives how many hypercalls the run made.
RunResult run_pv_input(const uint8_t* data, size_t size, uint64_t budget = kPvBudget, uint64_t* hypercalls = nullptr);
// The machine run_pv_input runs, for tests that look at it afterwards.
MachineConfig pv_machine_config();

}  // namespace vtlab::test::fuzz
