// The PC the guest sees: RAM, the buses, the devices on them, one CPU and
// the engine that runs it.  Devices are wired from an explicit list in
// machine.cpp, which doubles as the machine's port and memory map.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <ostream>
#include <memory>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "core/engine.h"
#include "core/exits.h"
#include "core/snapshot.h"
#include "devices/acpi_tables.h"
#include "devices/bus.h"
#include "devices/virtio_slots.h"
#include "mmu/phys_memory.h"

namespace vtlab {

class Uart16550;
class DebugExit;
class DebugConsole;
class PostPort;
class LocalApic;
class IoApic;
class AcpiPm;
class DualPic;
class Pit8254;
class SystemControlPortB;
class SystemControlPortA;
class CmosRtc;
class I8042;
class FwCfg;
class ResetControl;
class PciHost;
class Interpreter;
class KvmEngine;
class Monitor;
struct PostCode;

struct MachineConfig {
  uint64_t ram_bytes = 128ull << 20;
  // How the guest runs (docs/EXITS.md): "native", "trap" or "bt".
  std::string mode = "native";
  // trap: stop at the first virtualization hole found.
  bool strict_holes = false;
  // trap: the holes trap to the monitor as if x86 were classically
  // virtualizable (--holes trap), instead of behaving as real x86 does.
  bool trap_holes = false;
  // bt: kernel blocks translated before the translation cache is flushed,
  // and where every translation is described (nullptr: nowhere).
  size_t bt_tc_blocks = 4096;
  std::ostream* bt_log = nullptr;
  CostModel costs;
  // hw (docs/HARDWARE_ASSISTED.md): the backend ("sim", or "kvm": /dev/kvm,
  // docs/KVM.md), the
  // memory virtualization ("nested" or "shadow"), and the VMCS controls:
  // a --vmcs file's text and --vmcs-set "name=value" settings, in order.
  std::string hw_backend = "sim";
  std::string hw_paging = "nested";
  std::string vmcs;
  std::vector<std::string> vmcs_set;
  // What the RTC reads at virtual time 0, in seconds since 1970-01-01 UTC
  // (fixed, so runs are deterministic): 2025-01-01 00:00:00.
  int64_t rtc_epoch = 1'735'689'600;
  // Receives every byte the guest transmits on COM1 / writes to port 0xE9.
  std::function<void(uint8_t)> serial_out;
  std::function<void(uint8_t)> debugcon_out;
  // Sees each POST code as the guest writes it (vtlab run --post).
  std::function<void(const PostCode&)> post_out;
  // virtio-mmio devices (docs/VIRTIO.md); virtio-console output goes where COM1's does.
  VirtioConfig virtio;
  // Write the ACPI tables (devices/acpi_tables.h) into RAM at 0xE0000 when
  // the machine is built: the Linux loader asks for them; other guests keep
  // that RAM as it was.  The I/O APIC and the ACPI PM block exist either way.
  bool acpi_tables = false;
};

struct RunResult {
  StopReason reason = StopReason::None;
  std::string detail;          // one line: why it stopped
  uint32_t guest_status = 0;   // isa-debug-exit status ((v << 1) | 1) when reason == GuestExit
  uint64_t instructions = 0;  // retired during this run
  uint64_t virtual_time = 0;  // virtual time that passed during this run
  double host_seconds = 0;

  // A run made of slices: the sums, and the last slice's stop.
  void append(const RunResult& slice) {
    host_seconds += slice.host_seconds;
    instructions += slice.instructions;
    virtual_time += slice.virtual_time;
    reason = slice.reason;
    detail = slice.detail;
    guest_status = slice.guest_status;
  }
};

class Machine {
 public:
  explicit Machine(const MachineConfig& cfg);
  ~Machine();

  RunResult run(uint64_t max_insns);
  // Restarts the CPU at the reset vector after a reset request or a triple
  // fault (vtlab run --reboot): the CPU and its local APIC return to their
  // power-on state and the A20 gate opens; memory and the other devices
  // keep their state, for the firmware to re-initialise.
  void reset();
  uint64_t resets() const { return resets_; }

  PhysicalMemory& memory() { return mem_; }
  const PhysicalMemory& memory() const { return mem_; }
  IoBus& io() { return io_; }
  Cpu& cpu() { return cpu_; }
  const Cpu& cpu() const { return cpu_; }
  Engine& engine();
  const LocalApic& apic() const { return *apic_; }
  const DualPic& pic() const { return *pic_; }
  const IoApic& ioapic() const { return *ioapic_; }
  const AcpiPm& acpi_pm() const { return *acpi_pm_; }
  // Where the ACPI tables are (rsdp 0: MachineConfig::acpi_tables was off).
  const AcpiTables& acpi_tables() const { return acpi_tables_; }
  const Pit8254& pit() const { return *pit_; }
  const Interpreter& interpreter() const { return *interp_; }
  VirtioDevices& virtio() { return *virtio_; }
  const Monitor& monitor() const { return *monitor_; }
  // For a debugger (debugger/): it puts its own monitor in front of the
  // machine's to see every event, and hands each on to this one.
  Interpreter& interpreter() { return *interp_; }
  Monitor& monitor() { return *monitor_; }
  ExitLog& exits() { return exits_; }
  const ExitLog& exits() const { return exits_; }
  // The modes `mode` may name.
  static const std::vector<std::string>& modes();
  // Virtual time: instructions retired plus events delivered (monitors will
  // add modelled costs).  RDTSC reads it.
  uint64_t virtual_time() const { return cpu_.virtual_time(); }
  // POST codes from ports 0x80 and 0x190, in the order they were written.
  std::vector<PostCode> post_codes() const;
  // Text written to the debug console (port 0xE9), one entry per line with
  // the virtual time of its first byte; at most kConsoleLines lines of at
  // most kConsoleLineLength bytes are kept.
  struct ConsoleLine {
    uint64_t time;
    std::string text;
  };
  static constexpr size_t kConsoleLines = 4096, kConsoleLineLength = 1024;
  const std::vector<ConsoleLine>& debugcon_lines() const { return debugcon_lines_; }
  // Bytes the guest sent to COM1, kept for stats and tests: the first
  // kSerialLogLimit of them (a guest must not grow host memory without
  // bound); serial_bytes() counts them all.
  static constexpr size_t kSerialLogLimit = 1 << 20;
  const std::string& serial_transcript() const { return serial_log_; }
  uint64_t serial_bytes() const { return serial_bytes_; }

  // Checkpoints (core/snapshot.h, defined in core/snapshot.cpp): why this
  // machine's state cannot be saved ("" when it can); the state now, sharing
  // unchanged RAM pages with `previous`; and that state put back, into this
  // machine or a fresh one built from the same config and image.  restore
  // is false for a snapshot of a different machine (RAM size and timers
  // are checked before anything changes; a device refusing its state later
  // leaves the machine in no defined state).
  std::string snapshot_unsupported() const;
  MachineSnapshot save(const MachineSnapshot* previous = nullptr);
  bool restore(const MachineSnapshot& snap);

 private:
  void wire_devices(const MachineConfig& cfg);
  // Drives ISA IRQ `line` (0-15) on both interrupt controllers.
  void isa_irq(unsigned line, bool level);
  std::function<void(uint8_t)> console_;  // where COM1's bytes go (pv's console hypercall too)
  void note_debugcon(uint8_t b);

  PhysicalMemory mem_;
  IoBus io_{"io"};
  Cpu cpu_;
  ExitLog exits_;
  std::unique_ptr<Monitor> monitor_;
  std::unique_ptr<Interpreter> interp_;
  std::unique_ptr<KvmEngine> kvm_;  // hw with --hw-backend kvm: runs the guest instead of interp_
  std::unique_ptr<Uart16550> com1_;
  std::unique_ptr<DebugExit> debug_exit_;
  std::unique_ptr<DebugConsole> debugcon_;
  std::unique_ptr<PostPort> post80_, post190_;
  std::unique_ptr<DualPic> pic_;
  std::unique_ptr<IoApic> ioapic_;
  std::unique_ptr<AcpiPm> acpi_pm_;
  AcpiTables acpi_tables_;
  std::unique_ptr<Pit8254> pit_;
  std::unique_ptr<SystemControlPortB> port61_;
  std::unique_ptr<LocalApic> apic_;
  std::unique_ptr<CmosRtc> rtc_;
  std::unique_ptr<I8042> kbc_;
  std::unique_ptr<SystemControlPortA> port92_;
  std::unique_ptr<FwCfg> fw_cfg_;
  std::unique_ptr<ResetControl> reset_control_;
  std::unique_ptr<PciHost> pci_;
  std::unique_ptr<VirtioDevices> virtio_;
  std::string serial_log_;
  std::vector<ConsoleLine> debugcon_lines_;
  bool debugcon_line_open_ = false;
  uint64_t serial_bytes_ = 0;
  uint32_t guest_status_ = 0;
  uint64_t resets_ = 0;
};

}  // namespace vtlab
