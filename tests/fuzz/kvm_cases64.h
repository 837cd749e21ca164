// The 64-bit differential test's guest (kvm_diff64.cpp) and the forms
// beyond register/ALU ones (kvm_snippets64.cpp): string, stack and control
// instructions and faulting ones, each a short code snippet that falls
// through to the next instruction (or faults) plus the register and data
// values it needs.  The guest runs at CPL 3 in 64-bit mode with CR0.AM
// set; every vector v is an interrupt gate to a ring-0 HLT at kHandler + v,
// so the vector, the exception frame on RSP0 and CR2 say how a case ended.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace vtlab::kvmtest {

// Guest-physical (and, through the identity map, linear) layout.
inline constexpr uint64_t kGuestRam = 4 << 20;
inline constexpr uint64_t kCode = 0x1000, kCodeBytes = 0x1000, kHandler = 0x2000, kPml4 = 0x10000, kGdt = 0x20000,
                          kIdt = 0x21000, kTss = 0x22000, kKernelStack = 0x80000;
// What is reset before each case: the image build_guest writes, the data
// page and the kernel stack.  (A store through a register a sequence made
// random may land elsewhere in the user-writable first 2 MiB and stay in
// KVM's RAM; resetting all 2 MiB per case made the test 20 times slower,
// for a case that has not shown up.)
inline constexpr uint64_t kImageBytes = 0x90000;
// The data page: memory operands ([RBX + disp8], RBX = kData), string
// source and destination, and the user stack (RSP = kStack).  Compared.
inline constexpr uint64_t kData = 0x40000, kDataBytes = 0x1000, kStack = kData + 0x800;
// The exception frame's bytes below RSP0 that are compared.
inline constexpr uint64_t kFrameBytes = 48;
// Linear regions for page faults: 2-4 MiB user read-only, 4-6 MiB
// supervisor (both on physical 2-4 MiB), nothing mapped from 6 MiB on.
inline constexpr uint64_t kUserReadOnly = 2 << 20, kSupervisor = 4 << 20, kUnmapped = 6 << 20;
inline constexpr uint64_t kNonCanonical = 0x0000800000000000ull;
inline constexpr uint16_t kCode0 = 0x08, kData3 = 0x1B, kCode3 = 0x23, kTr = 0x28;

using Rng = std::mt19937_64;

// The x87, MMX and SSE state a case starts from and ends with, as FXSAVE
// holds it (SDM vol. 1, 10.5.1): `st` in stack order (ST(i), whose
// significand is MMj for physical register j = (TOP + i) & 7), `ftw` the
// abridged tag (bit j: physical register Rj not empty).  The default is
// what FNINIT and reset leave.  The guest runs with CR0.MP = 1, EM = TS = 0
// and CR4.OSFXSR = OSXMMEXCPT = 1 on both sides.
struct FpuState {
  uint16_t fcw = 0x037F, fsw = 0;
  uint8_t ftw = 0;
  uint8_t st[8][10] = {};
  uint64_t xmm[16][2] = {};
  uint32_t mxcsr = 0x1F80;
  // The last x87 instruction's address (compared), its opcode and its
  // memory operand's address (not compared: this CPU, like every Intel
  // one since about 2013, stores them only for an instruction with an
  // unmasked exception: CPUID.(7,0):EBX[6] FDP_EXCPTN_ONLY, and FOP
  // compatibility mode off, SDM vol. 1, 8.1.9.1); 0 at the start.
  uint16_t fop = 0;
  uint64_t fip = 0, fdp = 0;
};

struct State {
  uint64_t gpr[16];
  uint64_t flags;
  uint8_t data[kDataBytes];
  FpuState fpu;
};

// The state a case ends in: registers at the handler's HLT (RSP on the
// ring-0 stack), which vector's HLT (rip = kHandler + vector + 1), the
// frame below RSP0, CR2, the data page and the x87/MMX/SSE state.
struct Outcome {
  uint64_t gpr[16];
  uint64_t rip;
  uint64_t cr2;
  uint8_t frame[kFrameBytes];
  uint8_t data[kDataBytes];
  FpuState fpu;
  // KVM's side only, not compared: instructions this host's KVM ran
  // through its instruction emulator rather than the CPU (its
  // insn_emulation counter; the ring-0 HLT counts one).
  uint64_t emulated;
};

// One form: `make` returns its bytes for linear address `at`, and sets in
// `in` the registers, flags or data it needs (later instructions of a
// sequence may still change them).
struct Snippet {
  std::string name;
  std::function<std::vector<uint8_t>(Rng&, uint64_t at, State& in)> make;
};

std::vector<Snippet> snippets();

// The x87, MMX, SSE and SSE2 forms (kvm_simd64.cpp), and a random start
// state for them, boundary-weighted.
std::vector<Snippet> simd_snippets();
void random_fpu(Rng& rng, FpuState& fpu);

// Writes the guest's tables and handlers into `ram` (kImageBytes long).
void build_guest(uint8_t* ram);

}  // namespace vtlab::kvmtest
