// Test support: boot a kernel file on a fresh Machine and collect what a
// user would see (serial bytes, stop reason, exit status, counts).
#pragma once

#include <array>
#include <functional>
#include <map>
#include <cstdint>
#include <string>
#include <vector>

#include "core/machine.h"
#include "privilege/monitor.h"

namespace vtlab::test {

struct BootOutcome {
  RunResult result;
  std::string serial;
  std::string debugcon;  // bytes written to port 0xE9
  uint64_t instructions = 0;
  std::array<uint64_t, kExitReasons> exits{};  // per reason
  uint64_t exit_total = 0, exit_cycles = 0;
  std::vector<Monitor::Hole> holes;
  std::map<std::string, uint64_t> counters;  // Monitor::counters()
  uint64_t exit_count(ExitReason r) const { return exits[static_cast<size_t>(r)]; }
};

// A built sample (build/samples/NAME) and a file of its sources (samples/PATH).
inline std::string sample_binary(const std::string& name) { return std::string(VTLAB_SAMPLES_DIR) + "/" + name; }
inline std::string sample_source(const std::string& path) {
  return std::string(VTLAB_GUESTS_SRC_DIR) + "/../../samples/" + path;
}

// Multiboot kernel (or a.out-kludge flat file) with an optional command line.
BootOutcome boot_kernel(const std::string& path, const std::string& cmdline = "",
                        uint64_t max_insns = 500'000'000, uint64_t ram = 128ull << 20,
                        const std::string& mode = "native",
                        const std::function<void(MachineConfig&)>& configure = nullptr);

std::string read_text_file(const std::string& path);
bool file_exists(const std::string& path);

// Runs a shell command, returning its exit status and what it wrote to
// stdout and stderr (separately).
struct CommandResult {
  int status = -1;
  std::string out, err;
};
CommandResult run_command(const std::string& cmd);

// `vtlab debug` on the flat binary `bin` (loaded and started at 0x100000),
// run to its first exception (`catch exception`), then `why`: the
// transcript from the `c` on.  `name` names the command file.
std::string why_at_first_exception(const std::string& name, const std::string& bin);

}  // namespace vtlab::test
