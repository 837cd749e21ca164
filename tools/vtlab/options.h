// What `vtlab run` and `vtlab compare` take from the command line, and the
// checks that turn text into values (each failure a one-line
// CLI::ValidationError, exit status 2).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vtlab::cli {

// Exit status of `vtlab run` (documented in --help and the README; all even,
// so they never collide with isa-debug-exit's odd (v << 1) | 1 statuses).
enum ExitStatus : int {
  kHalted = 0,        // the guest halted (HLT with nothing left that could wake it)
  kBadInput = 2,      // bad command line, unreadable or malformed kernel image
  kInsnLimit = 4,     // the --max-insns limit was reached
  kShutdown = 6,      // triple fault, or a reset request (i8042 0xFE, port 0x92)
  kUnsupported = 8,   // the guest used an instruction or feature vtlab does not model yet
  kInterrupted = 10,  // SIGINT/SIGTERM
  kInternal = 12,     // internal error
};

inline constexpr const char* kDefaultMemory = "128M";
// The x86_64 kernel alone asks for 64 MiB from 16 MiB up to decompress.
inline constexpr const char* kDefaultLinuxMemory = "512M";

struct RunOptions {
  std::string kernel;
  std::string bios;  // a firmware image instead of a kernel
  std::string mode = "native";
  std::string memory;  // empty: 128M, or 512M for a Linux kernel (kDefaultMemory, kDefaultLinuxMemory)
  std::string serial = "stdio";
  std::string stats;
  std::string stats_format = "json";  // json, or csv: the exit statistics one row per reason/sub-key/RIP
  std::string append;
  std::string flat;
  std::string kernel_linux;          // --kernel-linux: a bzImage (KERNEL is recognised as one too)
  std::string initrd;                // --initrd: the Linux kernel's initial ramdisk
  std::string linux_entry = "auto";  // --linux-entry: auto, 32 or 64
  std::string rtc_epoch;
  std::string cost_model;
  std::string trace;
  uint64_t trace_limit = 100'000;
  uint64_t max_insns = 0;  // 0: no limit
  bool post = false;       // print POST codes and debug-console lines as they come
  bool boot_log = false;   // stamp each console line with virtual and host time
  bool reboot = false;     // restart at the reset vector on a reset or triple fault
  std::string on_triple_fault = "stop";  // stop, reset (= --reboot) or debug
  bool strict_holes = false;  // trap: the first virtualization hole stops the run
  std::string holes = "real";  // trap: "real" (as x86 is) or "trap" (as if x86 were virtualizable)
  std::string bt_log;         // bt: describe every translation in this file
  uint64_t bt_tc_blocks = 4096;
  std::string drive;            // --drive file=IMG[,readonly=on]: a virtio-blk disk
  bool virtio_console = false;  // --virtio-console
  std::string hw_backend = "sim";    // hw: sim or kvm
  std::string hw_paging = "nested";  // hw: shadow or nested
  std::string vmcs;                  // hw sim: a file of VMCS control settings
  std::vector<std::string> vmcs_set; // hw sim: name=value settings after the file
  uint64_t checkpoint_interval = uint64_t{1} << 20;  // debug, run --gdb: reverse execution's (debugger/reverse.h)
};

uint64_t parse_memory_size(const std::string& text);
int64_t parse_rtc_epoch(const std::string& text);
// --drive: "file=IMG" or "file=IMG,readonly=on|off".
struct DriveSpec {
  std::string file;
  bool read_only = false;
};
DriveSpec parse_drive(const std::string& text);

}  // namespace vtlab::cli
