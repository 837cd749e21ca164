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

class CpuHarness {
 public:
  static constexpr uint64_t kCode = 0x1000;
  static constexpr uint64_t kData = 0x20000;
  static constexpr uint64_t kStack = 0x90000;

  // bits = 32: flat protected mode (as multiboot leaves it); 16: real mode
  // with every segment at 0.
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
  uint64_t code_end_ = kCode;
};

}  // namespace vtlab::test
