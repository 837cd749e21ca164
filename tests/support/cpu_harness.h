// Test support: one CPU with 16 MiB of RAM and no devices, code placed at
// kCode, ready in flat 32-bit protected mode (or real mode), so a test can
// run a few instructions and assert exact registers and flags.
#pragma once

#include <string>
#include <vector>

#include "core/cpu.h"
#include "core/interpreter.h"
#include "support/assemble.h"

namespace vtlab::test {

// Flag names for expected values in tests.
inline constexpr uint32_t OF = flag::OF, SF = flag::SF, ZF = flag::ZF, AF = flag::AF, PF = flag::PF,
                          CF = flag::CF;
inline constexpr uint32_t kAll = flag::kArith;

// Assembles one instruction per string in a single `as` run (instruction
// tables stay fast) and returns each instruction's bytes.
std::vector<std::vector<uint8_t>> assemble_each(const std::vector<std::string>& insns, unsigned bits = 32);

// One instruction with EAX, ECX and EDX preset: the results in EAX and EDX,
// ECX (always a source) unchanged, the six arithmetic flags.  Each case
// runs alone on a fresh block cache; all are assembled in one `as` run.
struct RegCase {
  const char* insn;
  uint32_t eax, ecx, edx, flags_in;
  uint32_t eax_out, edx_out, flags_out;
};
void run_reg_cases(const std::vector<RegCase>& cases);

// The common EAX/ECX form (EDX is 0 and must stay so).
struct EaxEcxCase {
  const char* insn;
  uint32_t eax, ecx, flags_in;
  uint32_t eax_out, flags_out;
};
void run_eax_ecx_cases(const std::vector<EaxEcxCase>& cases);

class CpuHarness {
 public:
  static constexpr uint64_t kCode = 0x1000;
  static constexpr uint64_t kData = 0x20000;
  static constexpr uint64_t kStack = 0x90000;

  // bits = 32: flat protected mode (as multiboot leaves it); 16: real mode
  // with every segment at 0; 64: 64-bit mode with 4-level paging
  // identity-mapping the first 16 MiB (see long_mode()).
  explicit CpuHarness(unsigned bits = 32);

  // Assembles `source` at kCode and points RIP at it.
  void load_asm(const std::string& source);
  void load(const std::vector<uint8_t>& bytes, uint64_t at = kCode);

  // Runs until `n` instructions retire or the machine stops.
  StopReason run(uint64_t n) { return engine.run(n); }
  // Runs every instruction of the loaded snippet (stops at its end, or
  // earlier on a stop); returns the stop reason of the last run call.
  StopReason run_to_end();
  // Runs the instruction at CS:RIP through its handler alone, as the engine
  // would, but delivers nothing it raises: a test sees the fault itself
  // (cpu.pending()) and exactly the state the handler left.  On Ok or Halt
  // RIP advances and the instruction counts as retired.  `decoded`, if
  // given, receives the decoded record.
  Status execute_one(DecodedInsn* decoded = nullptr);

  // Identity-maps the first 4 MiB with 4 KiB pages (tables at kPageTables)
  // and turns paging on; the page at `special` gets PTE flags
  // `special_flags` instead of present+writable (0: not present, 1:
  // read-only).
  static constexpr uint64_t kPageTables = 0x80000;
  void identity_paging(uint64_t special = ~uint64_t{0}, uint32_t special_flags = 3);

  // 4-level tables at kPageTables identity-mapping the first 16 MiB with
  // 2 MiB pages (present, writable, user); CR3 is the caller's.
  void four_level_tables();

  uint32_t reg32(Gpr r) const { return static_cast<uint32_t>(cpu.s.gpr[r]); }
  uint32_t flags() const { return static_cast<uint32_t>(cpu.s.flags.bits()); }
  uint32_t arith_flags() const { return flags() & flag::kArith; }
  uint32_t read32(uint64_t paddr) { return static_cast<uint32_t>(mem.read(paddr, 4)); }
  void write32(uint64_t paddr, uint32_t v) { mem.write(paddr, 4, v); }

  PhysicalMemory mem{16ull << 20};
  IoBus io{"io"};
  Cpu cpu{mem, io};
  Interpreter engine{cpu};

 private:
  void long_mode();
  uint64_t code_end_ = kCode;
};

}  // namespace vtlab::test
