#include "tools/vtlab/session.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <csignal>
#include <sstream>
#include <stdexcept>

#include "core/decoder.h"
#include "core/interpreter.h"
#include "core/loader/bios.h"
#include "core/loader/file.h"
#include "privilege/bt_monitor.h"
#include "privilege/hw_sim/hw_sim_monitor.h"
#include "privilege/pv_monitor.h"
#include "privilege/trap_monitor.h"
#include "privilege/monitor.h"
#include "core/loader/flat.h"
#include "core/loader/linux.h"
#include "core/loader/load_error.h"
#include "core/loader/multiboot.h"
#include "devices/post_port.h"
#include "tools/vtlab/stats.h"

namespace vtlab::cli {

std::atomic<bool> g_interrupted{false};
extern "C" void on_signal(int) { g_interrupted = true; }

void install_signal_handlers() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

// --- serial ------------------------------------------------------------------

SerialSink::SerialSink(const std::string& spec) {
  if (spec == "stdio") {
    out_ = stdout;
  } else if (spec == "none") {
    out_ = nullptr;
  } else if (spec.rfind("file:", 0) == 0 && spec.size() > 5) {
    out_ = std::fopen(spec.substr(5).c_str(), "wb");
    if (!out_) throw LoadError(spec.substr(5) + ": cannot open for writing");
    owned_ = true;
  } else {
    throw CLI::ValidationError("--serial", "expected stdio, none or file:PATH, got " + spec);
  }
}

SerialSink::~SerialSink() {
  if (owned_) std::fclose(out_);
  else if (out_) std::fflush(out_);
}

void SerialSink::stamp_lines(std::function<uint64_t()> virtual_now) {
  virtual_now_ = std::move(virtual_now);
  host_start_ = std::chrono::steady_clock::now();
}

void SerialSink::put(uint8_t b) {
  if (!out_) return;
  if (virtual_now_ && line_start_) {
    const std::chrono::duration<double> host = std::chrono::steady_clock::now() - host_start_;
    const uint64_t v = virtual_now_();
    std::fprintf(out_, "[v %llu.%06llus | h %.2fs] ", static_cast<unsigned long long>(v / 1'000'000'000),
                 static_cast<unsigned long long>(v % 1'000'000'000 / 1000), host.count());
  }
  line_start_ = b == '\n';
  std::fputc(b, out_);
  if (b == '\n') std::fflush(out_);
}

// --- trace -------------------------------------------------------------------

TraceWriter::TraceWriter(const std::string& path, uint64_t limit) : out_(path), limit_(limit) {
  if (!out_) throw LoadError(path + ": cannot open for writing");
}

TraceWriter::~TraceWriter() {
  if (dropped_) out_ << fmt::format("{{\"truncated\":true,\"limit\":{},\"dropped\":{}}}\n", limit_, dropped_);
}

void TraceWriter::write(const ExitRecord& r) {
  if (written_ >= limit_) {
    ++dropped_;
    return;
  }
  ++written_;
  out_ << fmt::format("{{\"time\":{},\"reason\":\"{}\",\"key\":{},\"rip\":{},\"cpl\":{},\"cost\":{}", r.time,
                      exit_reason_name(r.reason), r.key, r.rip, r.cpl, r.cost);
  if (r.vmx_reason != ExitRecord::kNoVmxReason)
    out_ << fmt::format(",\"vmx_reason\":{},\"qualification\":{}", r.vmx_reason, r.qualification);
  if (const std::string cause = exit_cause_text(r); !cause.empty()) out_ << ",\"cause\":" << nlohmann::json(cause).dump();
  out_ << "}\n";
}

// --- the session -------------------------------------------------------------

namespace {
MachineConfig machine_config(const RunOptions& o, std::function<void(uint8_t)> serial_out, bool linux_kernel) {
  MachineConfig cfg;
  cfg.ram_bytes = parse_memory_size(!o.memory.empty() ? o.memory : linux_kernel ? kDefaultLinuxMemory : kDefaultMemory);
  cfg.mode = o.mode;
  cfg.strict_holes = o.strict_holes;
  cfg.trap_holes = o.holes == "trap";
  cfg.bt_tc_blocks = o.bt_tc_blocks;
  cfg.hw_backend = o.hw_backend;
  cfg.hw_paging = o.hw_paging;
  if (!o.vmcs.empty()) {
    const std::vector<uint8_t> text = read_file(o.vmcs);
    cfg.vmcs.assign(text.begin(), text.end());
  }
  cfg.vmcs_set = o.vmcs_set;
  if (!o.rtc_epoch.empty()) cfg.rtc_epoch = parse_rtc_epoch(o.rtc_epoch);
  if (!o.cost_model.empty()) {
    const std::vector<uint8_t> text = read_file(o.cost_model);
    try {
      cfg.costs.load_json(std::string(text.begin(), text.end()));
    } catch (const std::runtime_error& e) {
      throw CLI::ValidationError("--cost-model", o.cost_model + ": " + e.what());
    }
  }
  cfg.serial_out = std::move(serial_out);
  if (!o.drive.empty()) {
    const DriveSpec drive = parse_drive(o.drive);
    cfg.virtio.drive = drive.file;
    cfg.virtio.drive_read_only = drive.read_only;
  }
  cfg.virtio.console = o.virtio_console;
  if (o.post) {
    cfg.post_out = [](const PostCode& c) {
      std::fprintf(stderr, "post: port 0x%x <- 0x%0*x at %llu\n", c.port, c.size * 2, c.value,
                   static_cast<unsigned long long>(c.time));
    };
    // Debug-console text goes to stderr line by line, as QEMU's -debugcon stdio would show it.
    cfg.debugcon_out = [line = std::string()](uint8_t b) mutable {
      if (b != '\n' && line.size() < Machine::kConsoleLineLength) line.push_back(static_cast<char>(b));
      if (b == '\n') {
        std::fprintf(stderr, "debugcon: %s\n", line.c_str());
        line.clear();
      }
    };
  }
  return cfg;
}
}  // namespace

Session::Session(const RunOptions& o, std::function<void(uint8_t)> serial_out) : o_(o) {
  if (!o.kernel_linux.empty() && !o.kernel.empty())
    throw CLI::ValidationError("--kernel-linux", "give the kernel once: as KERNEL or with --kernel-linux");
  const std::string& kernel = o.kernel_linux.empty() ? o.kernel : o.kernel_linux;
  std::vector<uint8_t> image;
  if (!kernel.empty()) image = read_file(kernel);
  const bool linux_kernel = !o.kernel_linux.empty() || (o.flat.empty() && is_linux_kernel(image));
  if (!o.kernel_linux.empty() && !o.flat.empty())
    throw CLI::ValidationError("--flat", "a Linux kernel is loaded by the boot protocol, not as a flat binary");
  if (!linux_kernel && !o.initrd.empty())
    throw CLI::ValidationError("--initrd", "an initrd goes with a Linux kernel (a bzImage as KERNEL or --kernel-linux)");
  MachineConfig cfg = machine_config(o, std::move(serial_out), linux_kernel);
  cfg.acpi_tables = linux_kernel;  // so `poweroff` can reach ACPI S5 (docs/LINUX.md)
  if (!o.bt_log.empty()) {
    if (o.mode != "bt") throw CLI::ValidationError("--bt-log", "the translation log needs --mode bt");
    bt_log_ = std::make_unique<std::ofstream>(o.bt_log);
    if (!*bt_log_) throw LoadError(o.bt_log + ": cannot open for writing");
    cfg.bt_log = bt_log_.get();
  }
  try {
    machine_ = std::make_unique<Machine>(cfg);
  } catch (const std::invalid_argument& e) {
    throw CLI::ValidationError("-m", e.what());
  }
  Machine& m = *machine_;
  if (!o.trace.empty()) {
    trace_ = std::make_unique<TraceWriter>(o.trace, o.trace_limit);
    m.exits().set_sink([t = trace_.get()](const ExitRecord& r) { t->write(r); });
  }

  if (o.bios.empty() == kernel.empty())
    throw CLI::ValidationError("KERNEL", "give a KERNEL or --bios ROM, not both or neither");
  if (o.reboot && o.on_triple_fault != "stop" && o.on_triple_fault != "reset")
    throw CLI::ValidationError("--reboot", "the same as --on-triple-fault reset: it cannot be combined with "
                                               "--on-triple-fault " + o.on_triple_fault);
  if (o.holes == "trap" && o.mode != "trap")
    throw CLI::ValidationError("--holes", "it chooses what the trap monitor does with the holes: use it with --mode trap");
  if (o.holes == "trap" && o.strict_holes)
    throw CLI::ValidationError("--holes", "with --holes trap every hole traps, so --strict-holes has none to stop at");
  if ((o.reboot || o.on_triple_fault == "reset") && o.bios.empty())
    throw CLI::ValidationError(o.reboot ? "--reboot" : "--on-triple-fault",
                               "restarting needs firmware at the reset vector: use it with --bios");
  if (!o.bios.empty()) {
    if (!o.flat.empty() || !o.append.empty())
      throw CLI::ValidationError("--bios", "firmware starts at the reset vector: --flat and --append do not apply");
    load_bios(read_file(o.bios), m.memory(), m.cpu().s, o.bios);
    return;
  }
  if (linux_kernel) {
    LinuxBootOptions lo;
    lo.cmdline = o.append;
    if (!o.initrd.empty()) lo.initrd = read_file(o.initrd);
    lo.acpi_rsdp = m.acpi_tables().rsdp;
    lo.entry = o.linux_entry == "32" ? LinuxEntry::Entry32 : o.linux_entry == "64" ? LinuxEntry::Entry64 : LinuxEntry::Auto;
    load_linux(image, kernel, lo, m.memory(), m.cpu().s);
    loader_symbols_["linux_entry"] = m.cpu().s.seg[CS].base + m.cpu().s.rip;
  } else if (!o.flat.empty()) {
    uint64_t addr = 0;
    try {
      addr = std::stoull(o.flat, nullptr, 0);
    } catch (const std::exception&) {
      throw CLI::ValidationError("--flat", "not an address: " + o.flat);
    }
    load_flat(image, addr, m.memory(), m.cpu().s, o.kernel);
  } else {
    load_multiboot(image, o.kernel, o.append, m.memory(), m.cpu().s);
  }
}

Session::~Session() = default;

// Slices do not change what the guest computes: stops land on instruction
// boundaries, and virtual time does not care where the host paused.
RunResult Session::run() {
  constexpr uint64_t kSlice = 50'000'000;
  RunResult total;
  uint64_t left = o_.max_insns ? o_.max_insns : ~uint64_t{0};
  for (;;) {
    RunResult r = machine_->run(std::min(left, kSlice));
    total.append(r);
    // An exit's modelled cost can carry virtual time past the budget.
    if (o_.max_insns) left -= std::min(left, r.virtual_time);
    if (r.reason == StopReason::Shutdown && (o_.reboot || o_.on_triple_fault == "reset") && left != 0) {
      std::fflush(stdout);
      std::fprintf(stderr, "vtlab: reboot: %s; restarting at the reset vector\n", r.detail.c_str());
      machine_->reset();
      continue;
    }
    if (r.reason != StopReason::BudgetExhausted || left == 0) break;
    if (g_interrupted) {
      total.reason = StopReason::Interrupted;
      total.detail = "stopped by a signal from the host";
      break;
    }
  }
  return total;
}

int exit_status_for(const RunResult& r) {
  switch (r.reason) {
    case StopReason::GuestExit: return static_cast<int>(r.guest_status & 0xFF);
    case StopReason::Halted: return kHalted;
    case StopReason::BudgetExhausted: return kInsnLimit;
    case StopReason::Shutdown: return kShutdown;
    case StopReason::Unsupported: return kUnsupported;
    case StopReason::Interrupted: return kInterrupted;
    default: return kInternal;
  }
}

std::string stop_line(const Machine& m, const RunResult& r) {
  const CpuState& s = m.cpu().s;
  return fmt::format("vtlab: {}: {} (after {} instructions, at {:04x}:{:08x})\n", stop_reason_name(r.reason),
                     r.detail, m.cpu().icount, s.seg[CS].selector, s.rip);
}

// Instruction keys by name ("sti"), the rest in hex.
std::string exit_key_name(ExitReason reason, uint32_t key) {
  const bool by_insn = reason == ExitReason::PrivilegedInsn || reason == ExitReason::SensitiveInsn ||
                       reason == ExitReason::BtCallout;
  if (reason == ExitReason::BtCallout && key == BinaryTranslationMonitor::kPageTableWriteCallout)
    return "page-table-write";
  if (by_insn && key <= 0xFFFF) return mnemonic_name(static_cast<uint16_t>(key));
  if (reason == ExitReason::Hypercall && !PvMonitor::hypercall_name(key).empty())
    return std::string(PvMonitor::hypercall_name(key));
  return fmt::format("{:#x}", key);
}

// Exits: totals, then per reason (only reasons that occurred) with their
// sub-keys, so two runs of the same guest give the same object.
nlohmann::json exits_json(const ExitLog& log) {
  nlohmann::json by_reason = nlohmann::json::object();
  for (size_t i = 0; i < kExitReasons; ++i) {
    const auto reason = static_cast<ExitReason>(i);
    const ExitLog::ReasonCount& c = log.count(reason);
    if (!c.count) continue;
    nlohmann::json keys = nlohmann::json::object();
    for (const auto& [key, n] : c.by_key) keys[exit_key_name(reason, key)] = n;
    by_reason[std::string(exit_reason_name(reason))] = {{"count", c.count}, {"cycles", c.cycles}, {"keys", keys}};
  }
  return {{"total", log.total()}, {"cycles", log.total_cycles()}, {"by_reason", by_reason}};
}

nlohmann::json holes_json(const Monitor& monitor) {
  nlohmann::json holes = nlohmann::json::array();
  for (const Monitor::Hole& h : monitor.holes())
    holes.push_back({{"rip", h.rip}, {"insn", h.insn}, {"observed", h.observed}, {"bare_metal", h.bare_metal}});
  return holes;
}

std::string holes_summary(const Monitor& monitor) {
  const auto& holes = monitor.holes();
  if (monitor.name() == "bt")
    return "vtlab: bt: no virtualization holes: the kernel's sensitive instructions run translated, on the "
           "virtual CPU\n";
  if (monitor.name() != "trap") return {};
  if (const auto* t = dynamic_cast<const TrapAndEmulateMonitor*>(&monitor);
      t && t->hole_policy() == TrapAndEmulateMonitor::HolePolicy::Trap)
    return fmt::format("vtlab: trap: {} sensitive-but-unprivileged site{} trapped ({} trap{}), as a classically "
                       "virtualizable x86 would (--holes trap)\n",
                       t->trapped_sites(), t->trapped_sites() == 1 ? "" : "s", t->trapped_holes(),
                       t->trapped_holes() == 1 ? "" : "s");
  std::string out = fmt::format("vtlab: trap: {} virtualization hole{} found\n", holes.size(), holes.size() == 1 ? "" : "s");
  for (const Monitor::Hole& h : holes)
    out += fmt::format("  hole at {:#010x}  {:<24} got {}; bare metal: {}\n", h.rip, h.insn, h.observed, h.bare_metal);
  return out;
}

nlohmann::json Session::stats(const RunResult& r, int status) const {
  Machine& m = *machine_;
  nlohmann::json j;
  j["vtlab_version"] = VTLAB_VERSION;
  j["kernel"] = !o_.bios.empty() ? o_.bios : !o_.kernel_linux.empty() ? o_.kernel_linux : o_.kernel;
  j["mode"] = o_.mode;
  j["monitor"] = std::string(m.monitor().name());
  j["engine"] = std::string(m.engine().name());
  j["stop"] = {{"reason", stop_reason_name(r.reason)}, {"detail", r.detail}};
  j["exit_status"] = status;
  if (r.reason == StopReason::GuestExit) j["guest_exit_status"] = r.guest_status;
  j["instructions"] = m.cpu().icount;
  j["events_delivered"] = m.cpu().events;
  j["virtual_time"] = m.virtual_time();
  j["idle_time"] = m.cpu().idle;
  j["exits"] = exits_json(m.exits());
  j["exit_stats"] = exit_stats_json(m.exits());
  j["holes"] = holes_json(m.monitor());
  if (const auto* t = dynamic_cast<const TrapAndEmulateMonitor*>(&m.monitor()))
    j["hole_policy"] = t->hole_policy() == TrapAndEmulateMonitor::HolePolicy::Trap ? "trap" : "real";
  nlohmann::json counters = nlohmann::json::object();
  for (const auto& [name, value] : m.monitor().counters()) counters[name] = value;
  j["monitor_counters"] = counters;
  if (const auto* hw = dynamic_cast<const HwSimMonitor*>(&m.monitor())) j["hw"] = hw->stats_json();
  j["host_seconds"] = r.host_seconds;
  j["mips"] = r.host_seconds > 0 ? static_cast<double>(r.instructions) / r.host_seconds / 1e6 : 0.0;
  nlohmann::json post = nlohmann::json::array();
  for (const PostCode& p : m.post_codes())
    post.push_back({{"port", p.port}, {"value", p.value}, {"size", p.size}, {"time", p.time}});
  j["post_codes"] = post;
  nlohmann::json console = nlohmann::json::array();
  for (const Machine::ConsoleLine& l : m.debugcon_lines()) console.push_back({{"time", l.time}, {"text", l.text}});
  j["debugcon"] = console;
  j["reboots"] = m.resets();
  j["rom_writes_dropped"] = m.memory().dropped_writes();  // bytes written to ROM (or holes) and ignored
  nlohmann::json unclaimed = nlohmann::json::object();
  for (const auto& [port, c] : m.io().unclaimed())
    unclaimed[fmt::format("0x{:04x}", port)] = {{"reads", c.reads}, {"writes", c.writes}};
  j["unclaimed_io"] = {{"total", m.io().unclaimed_total()}, {"ports", unclaimed}};
  const BlockCache& bc = m.interpreter().cache();
  j["decode_cache"] = {{"blocks", bc.size()}, {"hits", bc.hits()}, {"misses", bc.misses()},
                       {"invalidations", bc.invalidations()}, {"capacity_flushes", bc.capacity_flushes()},
                       {"chained", m.interpreter().chained()}};
  j["serial_bytes"] = m.serial_bytes();
  return j;
}

}  // namespace vtlab::cli
