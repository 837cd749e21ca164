#include "core/machine.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "core/interpreter.h"
#include "core/kvm/kvm_engine.h"
#include "devices/acpi_pm.h"
#include "devices/cmos_rtc.h"
#include "devices/debug_console.h"
#include "devices/debug_exit.h"
#include "devices/fw_cfg.h"
#include "devices/i8042.h"
#include "devices/ioapic.h"
#include "devices/local_apic.h"
#include "devices/pic8259.h"
#include "devices/pit8254.h"
#include "devices/port61.h"
#include "devices/port92.h"
#include "devices/pci_host.h"
#include "devices/reset_control.h"
#include "devices/post_port.h"
#include "devices/uart16550.h"
#include "devices/virtio_slots.h"
#include "privilege/bt_monitor.h"
#include "privilege/hw_sim/hw_sim_monitor.h"
#include "privilege/pv_monitor.h"
#include "privilege/trap_monitor.h"

namespace vtlab {

const std::vector<std::string>& Machine::modes() {
  static const std::vector<std::string> all = {"native", "trap", "bt", "hw", "pv"};
  return all;
}

Machine::Machine(const MachineConfig& cfg) : mem_(cfg.ram_bytes), cpu_(mem_, io_), exits_(cfg.costs) {
  reset_cpu_state(cpu_.s);
  if (cfg.mode == "native")
    monitor_ = std::make_unique<NativeMonitor>();
  else if (cfg.mode == "trap")
    monitor_ = std::make_unique<TrapAndEmulateMonitor>(
        cfg.strict_holes, cfg.trap_holes ? TrapAndEmulateMonitor::HolePolicy::Trap : TrapAndEmulateMonitor::HolePolicy::Real);
  else if (cfg.mode == "bt")
    monitor_ = std::make_unique<BinaryTranslationMonitor>([this] { interp_->flush(); }, cfg.bt_tc_blocks, cfg.bt_log);
  else if (cfg.mode == "hw" && cfg.hw_backend == "sim")
    monitor_ = std::make_unique<HwSimMonitor>(vmx::make_controls(cfg.hw_paging, cfg.vmcs, cfg.vmcs_set));
  else if (cfg.mode == "hw" && cfg.hw_backend == "kvm")
    monitor_ = std::make_unique<KvmMonitor>();
  else if (cfg.mode == "hw")
    throw std::invalid_argument("unknown --hw-backend \"" + cfg.hw_backend + "\" (sim or kvm)");
  else if (cfg.mode == "pv")
    monitor_ = std::make_unique<PvMonitor>([this](uint8_t b) { console_(b); });  // the hypercall console
  else
    throw std::invalid_argument("unknown mode \"" + cfg.mode + "\"");
  monitor_->attach(exits_);
  interp_ = std::make_unique<Interpreter>(cpu_);
  interp_->set_monitor(monitor_.get());
  // A timer armed earlier than the engine planned to run must cut the run short.
  cpu_.clock.set_wake([this] { cpu_.check_at = 0; });
  wire_devices(cfg);
  if (cfg.mode == "hw" && cfg.hw_backend == "kvm") {
    kvm_ = std::make_unique<KvmEngine>(cpu_, exits_);
    static_cast<KvmMonitor&>(*monitor_).set_engine(kvm_.get());
  }
}

Machine::~Machine() = default;

Engine& Machine::engine() {
  if (kvm_) return *kvm_;
  return *interp_;
}

// The port map.  Everything a guest written for QEMU's i386 PC expects at a
// fixed port; ports nobody claims read as all ones and are counted by the
// bus (see Bus::unclaimed), never fatal.
//   0x0020-21    8259A master PIC            0x00A0-A1  8259A slave PIC (IRQ 2)
//   0x0040-43    8254 PIT (channel 0: IRQ 0) 0x0061     system control port B
//   0x0060, 64   i8042 keyboard controller (IRQ 1; A20, reset)
//   0x0070-71    CMOS/RTC (IRQ 8)            0x0092     system control port A (A20, reset)
//   0x04D0-4D1   ELCR (edge/level per IRQ)   0x0510-511 QEMU fw_cfg (signature, RAM, CPUs)
//   0x0CF8       PCI CONFIG_ADDRESS (dword)  0x0CFC-CFF PCI CONFIG_DATA: a 440FX host bridge
//                                              at 00:00.0, nothing else on bus 0
//   0x0CF9       reset control register (byte)
//   0x0600-60B   ACPI PM: PM1a_EVT 0x600, PM1a_CNT 0x604, PM_TMR 0x608 (SCI: IRQ 9), as QEMU's PIIX4/ICH9
//   0x0080       POST code (captured)        0x0190  POST code (captured)
//   0x00E9       debug console (debugcon)    0x00F4  isa-debug-exit (4 ports)
//   0x03F8-3FF   COM1, 16550A UART (IRQ 4)
// MMIO:
//   0xFEE00000   local APIC (4 KiB)
//   0xFEC00000   I/O APIC (4 KiB; 24 pins: ISA IRQ n on pin n, IRQ 0 on pin 2)
//   0x000E0000   ACPI tables in RAM, RSDP first (only with MachineConfig::acpi_tables)
//   0xFEB00000   virtio-blk, IRQ 5 (with --drive)   0xFEB00200  virtio-console, IRQ 6 (docs/VIRTIO.md)
void Machine::wire_devices(const MachineConfig& cfg) {
  auto serial = cfg.serial_out;
  const auto serial_sink = [this, serial](uint8_t b) {
    if (serial_log_.size() < kSerialLogLimit) serial_log_.push_back(static_cast<char>(b));
    ++serial_bytes_;
    if (serial) serial(b);
  };
  console_ = serial_sink;
  com1_ = std::make_unique<Uart16550>(serial_sink, [this](bool level) { isa_irq(4, level); });
  debug_exit_ = std::make_unique<DebugExit>([this](uint32_t status) {
    guest_status_ = status;
    cpu_.request_stop(StopReason::GuestExit, "guest wrote to isa-debug-exit");
  });
  auto console = cfg.debugcon_out;
  debugcon_ = std::make_unique<DebugConsole>([this, console](uint8_t b) {
    note_debugcon(b);
    if (console) console(b);
  });
  const auto now = [this] { return cpu_.virtual_time(); };
  post80_ = std::make_unique<PostPort>(0x80, now, cfg.post_out);
  post190_ = std::make_unique<PostPort>(0x190, now, cfg.post_out);

  // Interrupts: the CPU's INTR pin is its local APIC's; the 8259A pair sits
  // behind the APIC's LINT0 (ExtINT), as on a PC.  A device whose interrupt
  // output changes makes the engine look again at the next boundary.
  const IntrChanged recheck = [this] { cpu_.intr_changed(); };
  pic_ = std::make_unique<DualPic>(recheck);
  ioapic_ = std::make_unique<IoApic>([this](const ApicMessage& m) { return apic_->receive(m); });
  const auto irq = [this](unsigned line) { return [this, line](bool level) { isa_irq(line, level); }; };
  pit_ = std::make_unique<Pit8254>(cpu_.clock, irq(0));
  port61_ = std::make_unique<SystemControlPortB>(cpu_.clock, *pit_);
  apic_ = std::make_unique<LocalApic>(cpu_.clock, recheck);
  apic_->set_extint_source(pic_.get());
  apic_->set_eoi_broadcast([this](uint8_t vector) { ioapic_->eoi(vector); });
  cpu_.intc = apic_.get();

  // A reset request (i8042 0xFE, port 0x92 bit 0) ends the run as a
  // shutdown: vtlab does not reboot a machine (QEMU's -no-reboot).  Both
  // controllers drive the one A20 gate; the last write wins.
  const auto a20 = [this](bool on) { cpu_.set_a20(on); };
  const auto reset = [this](const char* why) {
    cpu_.request_stop(StopReason::Shutdown, fmt::format("the guest reset the machine ({})", why));
  };
  rtc_ = std::make_unique<CmosRtc>(cpu_.clock, irq(8), cfg.ram_bytes, cfg.rtc_epoch);
  kbc_ = std::make_unique<I8042>(irq(1), a20, reset);
  port92_ = std::make_unique<SystemControlPortA>(a20, [this] { return cpu_.a20_mask == ~uint64_t{0}; }, reset);
  fw_cfg_ = std::make_unique<FwCfg>(cfg.ram_bytes, 1);
  reset_control_ = std::make_unique<ResetControl>(reset);
  pci_ = std::make_unique<PciHost>();
  // ACPI S5 ends the run like isa-debug-exit, with status 0: the guest
  // finished on purpose (the CLI exits 0).
  acpi_pm_ = std::make_unique<AcpiPm>(cpu_.clock, irq(9), [this] {
    guest_status_ = 0;
    cpu_.request_stop(StopReason::GuestExit, "the guest powered the machine off (ACPI S5)");
  });

  const bool ok = io_.insert(0x20, DualPic::kPorts, &pic_->master()) &&
                  io_.insert(0xA0, DualPic::kPorts, &pic_->slave()) &&
                  io_.insert(0x4D0, DualPic::kPorts, &pic_->elcr()) && io_.insert(0x40, 4, pit_.get()) &&
                  io_.insert(0x61, 1, port61_.get()) && io_.insert(0x60, 1, &kbc_->data_port()) &&
                  io_.insert(0x64, 1, &kbc_->control_port()) && io_.insert(0x70, CmosRtc::kPorts, rtc_.get()) &&
                  io_.insert(0x92, SystemControlPortA::kPorts, port92_.get()) &&
                  io_.insert(0x510, FwCfg::kPorts, fw_cfg_.get()) &&
                  io_.insert(0xCF9, ResetControl::kPorts, reset_control_.get()) &&
                  io_.insert(PciHost::kAddressPort, 1, &pci_->address_port()) &&
                  io_.insert(PciHost::kDataPort, PciHost::kDataPorts, &pci_->data_port()) && io_.insert(0x3F8, 8, com1_.get()) &&
                  io_.insert(0xF4, 4, debug_exit_.get()) && io_.insert(0xE9, 1, debugcon_.get()) &&
                  io_.insert(0x80, 1, post80_.get()) && io_.insert(0x190, 1, post190_.get()) &&
                  io_.insert(AcpiPm::kBase, AcpiPm::kPorts, acpi_pm_.get());
  if (!ok) throw std::logic_error("machine port map has overlapping devices");
  if (!mem_.map_mmio(LocalApic::kBase, LocalApic::kSize, apic_.get()))
    throw std::logic_error("machine memory map: the local APIC overlaps RAM or ROM");
  if (!mem_.map_mmio(IoApic::kBase, IoApic::kSize, ioapic_.get()))
    throw std::logic_error("machine memory map: the I/O APIC overlaps RAM or ROM");
  virtio_ = std::make_unique<VirtioDevices>(cfg.virtio, mem_, irq, serial_sink);
  if (cfg.acpi_tables) acpi_tables_ = install_acpi_tables(mem_);
}

// The I/O APIC's pins as a PC wires them: pin 0 belongs to the 8259A's own
// INTR, so the PIT's IRQ 0 is on pin 2 (the interrupt source override the
// MADT declares), and IRQ 2, the AT's cascade, reaches IRQ 9 as on the PIC.
// Every entry starts masked, so guests that use only the 8259A see no change.
void Machine::isa_irq(unsigned line, bool level) {
  pic_->set_irq(line, level);
  ioapic_->set_irq(line == 0 ? 2 : line == 2 ? 9 : line, level);
}

std::vector<PostCode> Machine::post_codes() const {
  std::vector<PostCode> all = post80_->codes();
  const auto& more = post190_->codes();
  all.insert(all.end(), more.begin(), more.end());
  std::stable_sort(all.begin(), all.end(), [](const PostCode& a, const PostCode& b) { return a.time < b.time; });
  return all;
}

void Machine::note_debugcon(uint8_t b) {
  if (b == '\n') {
    if (!debugcon_line_open_ && debugcon_lines_.size() < kConsoleLines)
      debugcon_lines_.push_back(ConsoleLine{cpu_.virtual_time(), {}});  // an empty line
    debugcon_line_open_ = false;
    return;
  }
  if (!debugcon_line_open_) {
    if (debugcon_lines_.size() >= kConsoleLines) return;
    debugcon_lines_.push_back(ConsoleLine{cpu_.virtual_time(), {}});
    debugcon_line_open_ = true;
  }
  std::string& text = debugcon_lines_.back().text;
  if (text.size() < kConsoleLineLength) text.push_back(static_cast<char>(b));
}

void Machine::reset() {
  reset_cpu_state(cpu_.s);
  cpu_.set_a20(true);
  cpu_.tlb.flush_all();
  cpu_.clear_stop();
  apic_->reset();
  interp_->reset();
  ++resets_;
}

RunResult Machine::run(uint64_t max_insns) {
  const auto t0 = std::chrono::steady_clock::now();
  const uint64_t start = cpu_.icount, start_vt = cpu_.virtual_time();
  RunResult r;
  monitor_->begin(cpu_);
  r.reason = engine().run(max_insns);
  r.host_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.instructions = cpu_.icount - start;
  r.virtual_time = cpu_.virtual_time() - start_vt;
  r.detail = cpu_.stop_detail();
  if (r.reason == StopReason::BudgetExhausted) r.detail = "reached the --max-insns limit";
  r.guest_status = guest_status_;
  return r;
}

}  // namespace vtlab
