// The PC the guest sees: RAM, the buses, the devices on them, one CPU and
// the engine that runs it.  Devices are wired from an explicit list in
// machine.cpp, which doubles as the machine's port and memory map.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "core/engine.h"
#include "devices/bus.h"
#include "mmu/phys_memory.h"

namespace vtlab {

class Uart16550;
class DebugExit;
class DebugConsole;
class PostPort;
class Interpreter;
struct PostCode;

struct MachineConfig {
  uint64_t ram_bytes = 128ull << 20;
  // Receives every byte the guest transmits on COM1 / writes to port 0xE9.
  std::function<void(uint8_t)> serial_out;
  std::function<void(uint8_t)> debugcon_out;
};

struct RunResult {
  StopReason reason = StopReason::None;
  std::string detail;          // one line: why it stopped
  uint32_t guest_status = 0;   // isa-debug-exit status ((v << 1) | 1) when reason == GuestExit
  uint64_t instructions = 0;
  double host_seconds = 0;
};

class Machine {
 public:
  explicit Machine(const MachineConfig& cfg);
  ~Machine();

  RunResult run(uint64_t max_insns);

  PhysicalMemory& memory() { return mem_; }
  IoBus& io() { return io_; }
  Cpu& cpu() { return cpu_; }
  Engine& engine();
  const Interpreter& interpreter() const { return *interp_; }
  // Virtual time: instructions retired (event costs are added by the
  // monitors that model them).  RDTSC reads it.
  uint64_t virtual_time() const { return cpu_.icount; }
  std::vector<PostCode> post_codes() const;
  // Bytes the guest sent to COM1, kept for stats and tests.
  const std::string& serial_transcript() const { return serial_log_; }

 private:
  void wire_devices(const MachineConfig& cfg);

  PhysicalMemory mem_;
  IoBus io_{"io"};
  Cpu cpu_;
  std::unique_ptr<Interpreter> interp_;
  std::unique_ptr<Uart16550> com1_;
  std::unique_ptr<DebugExit> debug_exit_;
  std::unique_ptr<DebugConsole> debugcon_;
  std::unique_ptr<PostPort> post80_, post190_;
  std::string serial_log_;
  uint32_t guest_status_ = 0;
};

}  // namespace vtlab
