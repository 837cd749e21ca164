// Test support shared by the libFuzzer targets (tests/fuzz/) and by the
// regression tests made from their findings: how one input's bytes become
// a loader call, a CPU start state with code, or a sequence of device
// accesses on a Machine.  A reproducer replayed through these functions
// runs exactly as it did under the fuzzer.  docs/FUZZING.md describes the
// input layouts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/machine.h"

namespace vtlab::test::fuzz {

// --- the loaders -------------------------------------------------------------
// The input is a kernel file for load_multiboot, a flat binary for
// load_flat (at 1 MiB, and at the address its first four bytes name), and,
// padded with 0xFF to 64 KiB, a ROM for load_bios.  A refused image is a
// LoadError; anything else escaping is a finding.  Returns how many of the
// loads succeeded.  Each load gets its own kLoaderRam of RAM.
inline constexpr uint64_t kLoaderRam = 4ull << 20;
unsigned run_loader_input(const uint8_t* data, size_t size);

// --- the CPU on arbitrary code ------------------------------------------------
// Byte 0 bits 0-2 and bytes 1-2 (little endian) bit 13 pick the start
// state (bit 13 as its bit 3, modulo CpuStart::Count), byte 0 bits 3-7
// the extras, bytes 1-2 bits 0-12 the offset in the code of the handler
// every IDT/IVT vector points at (taken modulo the code's length) and bits
// 14-15 the mode (native, trap, bt, hw: cpu_mode; hw is the sim backend), the rest is the code,
// placed at kCode with EIP/IP on its first byte.  The machine is a full
// Machine (devices wired) with kRam of RAM, run for at most `budget` units
// of virtual time.
enum class CpuStart : uint8_t {
  Real,        // real mode, every segment base 0, IVT at 0
  Flat0,       // flat 32-bit protected mode, CPL 0, paging off
  Flat3,       // the same at CPL 3 (TSS ring-0 stack, gates DPL 3)
  Paged0,      // CPL 0, 32-bit paging: the first 16 MiB identity-mapped, user+writable
  Paged3,      // the same at CPL 3
  Pae3,        // CPL 3, PAE paging: the first 16 MiB identity-mapped by 2 MiB pages
  Long0,       // 64-bit mode, CPL 0, 4-level paging: the first 16 MiB by 2 MiB pages, also
               // at the top of the address space (PML4 entry 511); 16-byte IDT gates, 64-bit TSS
  Long3,       // the same at CPL 3 (SYSCALL enabled: STAR/LSTAR point at the handler)
  Flat1,       // flat 32-bit protected mode at CPL 1, paging off (ring-1 code, data and stack)
  Flat2,       // the same at CPL 2
  Paged1,      // CPL 1 with Paged0's 32-bit paging
  Paged2,      // CPL 2 with the same paging
  Count
};
// Extra state bits on top of a start state (byte 0 bits 3-7).
namespace extra {
inline constexpr uint8_t kIopl3 = 1u << 3;         // EFLAGS.IOPL = 3: CPL 3 may do port I/O, CLI, STI
inline constexpr uint8_t kIf = 1u << 4;            // EFLAGS.IF = 1: device interrupts are taken
inline constexpr uint8_t kCr4 = 1u << 5;           // CR4.TSD, DE, PSE, PGE (protected mode only)
inline constexpr uint8_t kNxe = 1u << 6;           // EFER.NXE (protected mode only)
inline constexpr uint8_t kTrapFlag = 1u << 7;      // EFLAGS.TF: single-step #DB after each instruction
}  // namespace extra
inline constexpr uint64_t kRam = 16ull << 20;
inline constexpr uint64_t kCode = 0x1000, kMaxCode = 0xF000;
inline constexpr uint64_t kGdt = 0x10000, kIdt = 0x11000, kTss = 0x12000;
inline constexpr uint64_t kPageDir = 0x20000;  // 32-bit: PD + 5 PTs; PAE: PDPT + 2 PDs; 4-level: PML4, PDPT, 2 PDs
inline constexpr uint64_t kUserStack = 0x70000, kKernelStack = 0x80000;
inline constexpr uint16_t kCode0 = 0x08, kData0 = 0x10, kCode3 = 0x1B, kData3 = 0x23, kTssSel = 0x28;
// Long-mode starts: 64-bit code selectors and the 16-byte TSS descriptor.
inline constexpr uint16_t kCode64 = 0x30, kCode64User = 0x3B, kTss64Sel = 0x40;
// Rings 1 and 2: code and data (stack) segments of that DPL, RPL = DPL.
inline constexpr uint16_t kCode1 = 0x51, kData1 = 0x59, kCode2 = 0x62, kData2 = 0x6A;
// Virtual time counts a REP string instruction once per 4096 iterations
// (docs/ARCHITECTURE.md), so this budget allows up to ~1.6 M host-side
// iterations: an input runs in under 3 s under the sanitizers on a busy
// machine, well inside the fuzzer's 10 s hang limit (1000 units did not
// stay inside it: docs/FUZZING.md).
inline constexpr uint64_t kCpuBudget = 400;

const char* cpu_start_name(CpuStart s);
// A seed's or reproducer's bytes (empty if the file cannot be read).
std::vector<uint8_t> read_seed(const std::string& path);
// A start's name as a GoogleTest parameter name (letters, digits, '_').
inline std::string as_test_name(std::string name) {
  for (char& c : name)
    if (c == '-') c = '_';
  return name;
}
// The privilege level a start state runs its code at.
unsigned cpu_start_ring(CpuStart s);
// Builds the machine state for `start` with the handler at kCode +
// `handler_offset` (GDT, IDT or IVT, TSS, page tables), the `extras`
// (extra::*) and code at kCode.
void prepare_cpu(Machine& m, CpuStart start, uint32_t handler_offset, const uint8_t* code, size_t len,
                 uint8_t extras = 0);
RunResult run_cpu_input(const uint8_t* data, size_t size, uint64_t budget = kCpuBudget);
// Sets every exit's modelled cost to 0, so a budget of virtual time buys
// the same guest instructions under any monitor (the CPU and pv inputs).
void make_exits_free(MachineConfig& cfg);
const char* cpu_mode(const uint8_t* data, size_t size);
CpuStart cpu_input_start(const uint8_t* data, size_t size);

// --- the CPU on arbitrary code under hw --hw-backend kvm -----------------------
// The same layout as run_cpu_input (the mode bits are ignored): the start
// state runs on /dev/kvm through KvmEngine for `budget_ns` of host time
// (virtual time under KVM).  kvm_pvm (docs/KVM.md) runs CPL 0 code in
// KVM's instruction emulator (about 2 M instructions/s), so 2 ms is a few
// thousand instructions there and millions at CPL 3 in long mode; one
// KVM_RUN overruns its timer by at most milliseconds.  Starts KVM cannot
// run (32-bit and PAE paging on kvm_pvm) stop as unsupported, with the
// reason.
inline constexpr uint64_t kKvmBudgetNs = 2'000'000;
RunResult run_kvm_input(const uint8_t* data, size_t size, uint64_t budget_ns = kKvmBudgetNs);

// --- devices and the I/O paths --------------------------------------------------
// The machine has every device wired, virtio-console and virtio-blk (on a
// zeroed temporary image) included.  The input is a sequence of 8-byte
// operations [kind, a, b, c, value x4]:
//   kind % 7 == 0  port read,  1 port write: port = a | b << 8, or, with c
//                  bit 7 set, a registered port range (a picks it) + b
//                  modulo its length; width 1, 2 or 4 bytes (c & 3, 3: 4);
//   2  MMIO read, 3 write: a registered MMIO range (a picks it: the local
//      APIC, the virtio devices) + (b | (c & 0xF0) << 4), up to 4 KiB in,
//      so past the range too; width 1, 2, 4 or 8 (c & 3), any alignment;
//   4  run the CPU (STI; HLT loop, every vector an IRET) for a | b << 8
//      units of virtual time, so timers fire and interrupts are taken;
//   5  write `value` to RAM at (a | b << 8 | c << 16), 4-aligned: rings
//      and buffers for the devices to read;
//   6  the virtio driver handshake on slot a & 1, queue b & 1 of c
//      entries, rings from `value` (anywhere in RAM, or past it), so
//      notifications that follow make the device walk them.
// Returns the number of operations done.
size_t run_device_input(const uint8_t* data, size_t size);
// The virtio-blk image the device and pv inputs use: a temporary file of
// 16 KiB, zeroed again by each call, so that every input starts alike.
const std::string& fuzz_drive_image();

}  // namespace vtlab::test::fuzz
