// vtlab command-line interface.
//
// Exit status of `vtlab run` (documented in --help and the README; all even,
// so they never collide with isa-debug-exit's odd (v << 1) | 1 statuses):
//   0  the guest halted (HLT with nothing left that could wake it)
//   2  bad command line, unreadable or malformed kernel image
//   4  the --max-insns limit was reached
//   6  shutdown: triple fault, or a reset request (i8042 0xFE, port 0x92)
//   8  the guest used an instruction or feature vtlab does not model yet
//  10  interrupted (SIGINT/SIGTERM)
//  12  internal error
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <ctime>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include "core/interpreter.h"
#include "core/loader/file.h"
#include "core/loader/flat.h"
#include "core/loader/load_error.h"
#include "core/loader/multiboot.h"
#include "core/machine.h"
#include "devices/post_port.h"

namespace {

using vtlab::StopReason;

enum ExitStatus : int {
  kHalted = 0,
  kBadInput = 2,
  kInsnLimit = 4,
  kShutdown = 6,
  kUnsupported = 8,
  kInterrupted = 10,
  kInternal = 12,
};

std::atomic<bool> g_interrupted{false};
extern "C" void on_signal(int) { g_interrupted = true; }

struct RunOptions {
  std::string kernel;
  std::string mode = "native";
  std::string memory = "128M";
  std::string serial = "stdio";
  std::string stats;
  std::string append;
  std::string flat;
  std::string rtc_epoch;
  uint64_t max_insns = 0;  // 0: no limit
};

// "2025-01-01", "2025-01-01T12:30:00" (UTC) or "@1735689600" (Unix seconds),
// from 1970 to 2099 (what the RTC's two-digit year and century byte hold).
int64_t parse_rtc_epoch(const std::string& text) {
  const auto bad = [&] {
    return CLI::ValidationError("--rtc-epoch",
                                "not a date: " + text + " (want YYYY-MM-DD[THH:MM:SS] in UTC, or @SECONDS)");
  };
  int64_t seconds = 0;
  if (!text.empty() && text[0] == '@') {
    size_t used = 0;
    try {
      seconds = std::stoll(text.substr(1), &used);
    } catch (const std::exception&) {
      throw bad();
    }
    if (used != text.size() - 1) throw bad();
  } else {
    std::tm tm{};
    char rest = 0;
    const int n = std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                              &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &rest);
    if (n != 3 && n != 6) throw bad();
    if (n == 3 && text.size() != 10) throw bad();
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
        tm.tm_sec > 59)
      throw bad();
    const int day = tm.tm_mday, month = tm.tm_mon;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    seconds = timegm(&tm);
    if (tm.tm_mday != day || tm.tm_mon != month - 1) throw bad();  // 2025-02-30 normalised away
  }
  constexpr int64_t kYear2100 = 4'102'444'800;
  if (seconds < 0 || seconds >= kYear2100)
    throw CLI::ValidationError("--rtc-epoch", text + " is outside 1970-01-01 .. 2099-12-31");
  return seconds;
}

// "128M", "1G", "65536K"; a bare number means MiB, as QEMU's -m does.
uint64_t parse_memory_size(const std::string& text) {
  size_t used = 0;
  unsigned long long n = 0;
  try {
    n = std::stoull(text, &used, 0);
  } catch (const std::exception&) {
    throw CLI::ValidationError("-m", "not a size: " + text);
  }
  std::string suffix = text.substr(used);
  uint64_t unit = 1ull << 20;
  if (suffix == "K" || suffix == "k") unit = 1ull << 10;
  else if (suffix == "G" || suffix == "g") unit = 1ull << 30;
  else if (suffix != "" && suffix != "M" && suffix != "m") throw CLI::ValidationError("-m", "bad size suffix: " + text);
  return n * unit;
}

class SerialSink {
 public:
  explicit SerialSink(const std::string& spec) {
    if (spec == "stdio") {
      out_ = stdout;
    } else if (spec == "none") {
      out_ = nullptr;
    } else if (spec.rfind("file:", 0) == 0 && spec.size() > 5) {
      out_ = std::fopen(spec.substr(5).c_str(), "wb");
      if (!out_) throw vtlab::LoadError(spec.substr(5) + ": cannot open for writing");
      owned_ = true;
    } else {
      throw CLI::ValidationError("--serial", "expected stdio, none or file:PATH, got " + spec);
    }
  }
  ~SerialSink() {
    if (owned_) std::fclose(out_);
    else if (out_) std::fflush(out_);
  }
  void put(uint8_t b) {
    if (!out_) return;
    std::fputc(b, out_);
    if (b == '\n') std::fflush(out_);
  }

 private:
  FILE* out_ = nullptr;
  bool owned_ = false;
};

int exit_status_for(const vtlab::RunResult& r) {
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

nlohmann::json stats_json(const RunOptions& o, vtlab::Machine& m, const vtlab::RunResult& r, int status) {
  nlohmann::json j;
  j["vtlab_version"] = VTLAB_VERSION;
  j["kernel"] = o.kernel;
  j["mode"] = o.mode;
  j["engine"] = std::string(m.engine().name());
  j["stop"] = {{"reason", vtlab::stop_reason_name(r.reason)}, {"detail", r.detail}};
  j["exit_status"] = status;
  if (r.reason == StopReason::GuestExit) j["guest_exit_status"] = r.guest_status;
  j["instructions"] = m.cpu().icount;
  j["events_delivered"] = m.cpu().events;
  j["virtual_time"] = m.virtual_time();
  j["idle_time"] = m.cpu().idle;
  j["host_seconds"] = r.host_seconds;
  j["mips"] = r.host_seconds > 0 ? static_cast<double>(r.instructions) / r.host_seconds / 1e6 : 0.0;
  nlohmann::json post = nlohmann::json::array();
  for (const vtlab::PostCode& p : m.post_codes())
    post.push_back({{"port", p.port}, {"value", p.value}, {"size", p.size}});
  j["post_codes"] = post;
  nlohmann::json unclaimed = nlohmann::json::object();
  for (const auto& [port, c] : m.io().unclaimed())
    unclaimed[fmt::format("0x{:04x}", port)] = {{"reads", c.reads}, {"writes", c.writes}};
  j["unclaimed_io"] = {{"total", m.io().unclaimed_total()}, {"ports", unclaimed}};
  const vtlab::BlockCache& bc = m.interpreter().cache();
  j["decode_cache"] = {{"blocks", bc.size()}, {"hits", bc.hits()}, {"misses", bc.misses()},
                       {"invalidations", bc.invalidations()}, {"capacity_flushes", bc.capacity_flushes()}};
  j["serial_bytes"] = m.serial_bytes();
  return j;
}

int run_command(const RunOptions& o) {
  const uint64_t ram = parse_memory_size(o.memory);
  SerialSink serial(o.serial);
  vtlab::MachineConfig cfg;
  cfg.ram_bytes = ram;
  if (!o.rtc_epoch.empty()) cfg.rtc_epoch = parse_rtc_epoch(o.rtc_epoch);
  cfg.serial_out = [&serial](uint8_t b) { serial.put(b); };
  std::optional<vtlab::Machine> machine;
  try {
    machine.emplace(cfg);
  } catch (const std::invalid_argument& e) {
    throw CLI::ValidationError("-m", e.what());
  }
  vtlab::Machine& m = *machine;

  std::vector<uint8_t> image = vtlab::read_file(o.kernel);
  if (!o.flat.empty()) {
    uint64_t addr = 0;
    try {
      addr = std::stoull(o.flat, nullptr, 0);
    } catch (const std::exception&) {
      throw CLI::ValidationError("--flat", "not an address: " + o.flat);
    }
    vtlab::load_flat(image, addr, m.memory(), m.cpu().s, o.kernel);
  } else {
    vtlab::load_multiboot(image, o.kernel, o.append, m.memory(), m.cpu().s);
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  // Run in slices so Ctrl-C stops cleanly with stats; slices do not change
  // what the guest computes (stops land on instruction boundaries).
  constexpr uint64_t kSlice = 50'000'000;
  vtlab::RunResult total;
  uint64_t left = o.max_insns ? o.max_insns : ~uint64_t{0};
  for (;;) {
    vtlab::RunResult r = m.run(std::min(left, kSlice));
    total.host_seconds += r.host_seconds;
    total.instructions += r.instructions;
    total.reason = r.reason;
    total.detail = r.detail;
    total.guest_status = r.guest_status;
    if (o.max_insns) left -= r.virtual_time;
    if (r.reason != StopReason::BudgetExhausted || left == 0) break;
    if (g_interrupted) {
      total.reason = StopReason::Interrupted;
      total.detail = "stopped by a signal from the host";
      break;
    }
  }
  const int status = exit_status_for(total);
  if (total.reason != StopReason::GuestExit) {
    const vtlab::CpuState& s = m.cpu().s;
    std::fflush(stdout);
    std::cerr << fmt::format("vtlab: {}: {} (after {} instructions, at {:04x}:{:08x})\n",
                             vtlab::stop_reason_name(total.reason), total.detail, m.cpu().icount,
                             s.seg[vtlab::CS].selector, s.rip);
  }
  if (!o.stats.empty()) {
    std::string text = stats_json(o, m, total, status).dump(2) + "\n";
    if (o.stats == "-") {
      std::fflush(stdout);
      std::cout << text << std::flush;
    } else {
      std::ofstream f(o.stats);
      if (!f) throw vtlab::LoadError(o.stats + ": cannot open for writing");
      f << text;
    }
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vtlab: an educational x86 emulator and virtualizer"};
  app.set_version_flag("--version", std::string("vtlab ") + VTLAB_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Run `vtlab run --help` for the options of run.\n"
      "Exit status of run: the guest's isa-debug-exit status ((v<<1)|1, always odd) when it exits\n"
      "that way; otherwise 0 guest halted, 2 bad command line or image, 4 --max-insns reached,\n"
      "6 shutdown (triple fault, or the guest reset the machine), 8 unsupported instruction or\n"
      "feature, 10 interrupted,\n"
      "12 internal error.");

  RunOptions o;
  CLI::App* run = app.add_subcommand("run", "Boot a kernel and run it until it exits, halts or stops");
  run->add_option("KERNEL", o.kernel, "Multiboot v1 kernel (ELF or a.out kludge), or a flat binary with --flat")
      ->required();
  run->add_option("--mode", o.mode, "How the guest runs: native (interpreter, no monitor)")
      ->check(CLI::IsMember({"native"}))
      ->capture_default_str();
  run->add_option("-m,--memory", o.memory, "Guest RAM: a size with K, M or G suffix (bare number: MiB)")
      ->capture_default_str();
  run->add_option("--serial", o.serial, "Where COM1 output goes: stdio, none or file:PATH")->capture_default_str();
  run->add_option("--max-insns", o.max_insns,
                  "Stop after this much virtual time (1 unit = 1 guest ns): instructions retired, plus "
                  "exceptions and interrupts delivered, plus time slept in HLT (0: no limit)")
      ->capture_default_str();
  run->add_option("--stats", o.stats, "Write run statistics as JSON to FILE, or - for stdout");
  run->add_option("--append", o.append, "Kernel command line passed in the multiboot info");
  run->add_option("--rtc-epoch", o.rtc_epoch,
                  "What the guest's RTC reads at power-on, in UTC: YYYY-MM-DD[THH:MM:SS] or @UNIX-SECONDS "
                  "(default 2025-01-01; the clock then runs on virtual time, so runs are repeatable)");
  run->add_option("--flat", o.flat,
                  "Load KERNEL as a flat binary at ADDR and start there in 32-bit flat protected mode");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "vtlab: " << e.what() << " (see vtlab --help)\n";
    return kBadInput;
  }

  try {
    return run_command(o);
  } catch (const vtlab::LoadError& e) {
    std::cerr << "vtlab: " << e.what() << "\n";
    return kBadInput;
  } catch (const CLI::ValidationError& e) {
    std::cerr << "vtlab: " << e.what() << "\n";
    return kBadInput;
  } catch (const std::exception& e) {
    std::cerr << "vtlab: internal error: " << e.what() << "\n";
    return kInternal;
  }
}
