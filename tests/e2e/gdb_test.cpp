// `vtlab run --gdb` under Debian's real gdb in batch mode: a breakpoint
// after minios's multiboot entry, continue, registers, memory, a single
// step and kill; then a hardware watchpoint on minios's tick counter and a
// continue to the guest's own exit; reverse-stepi and reverse-continue
// over minios's timer interrupts, with checkpoints far apart and close
// together.  vtlab listens on a port the kernel picks (--gdb 0) and names
// it on stderr; the test waits for that line before starting gdb, so
// nothing depends on timing.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "support/boot.h"
#include "support/elf_symbols.h"

namespace vtlab::test {

namespace {
const std::string kCli = VTLAB_CLI;
const std::string kMiniOs = std::string(VTLAB_SAMPLES_DIR) + "/minios.elf";
const std::string kMiniOs64 = std::string(VTLAB_SAMPLES_DIR) + "/minios64.elf";

bool have_gdb() { return run_command("command -v gdb").status == 0; }

// vtlab run --gdb 0 in the background: its port, then its exit status
// and everything it wrote on stderr.
class GdbTarget {
 public:
  explicit GdbTarget(const std::string& kernel, const char* arch = "i386", const char* checkpoint_interval = nullptr)
      : GdbTarget(checkpoint_interval
                      ? std::vector<std::string>{"--gdb-arch", arch, "--checkpoint-interval", checkpoint_interval, kernel}
                      : std::vector<std::string>{"--gdb-arch", arch, kernel}) {}
  // vtlab run --serial none --gdb 0 ARGS...
  explicit GdbTarget(const std::vector<std::string>& args) {
    std::vector<std::string> words = {kCli, "run", "--serial", "none", "--gdb", "0"};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    int err[2];
    if (pipe(err) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(err[1], STDERR_FILENO);
      close(err[0]);
      close(err[1]);
      execv(kCli.c_str(), argv.data());
      _exit(127);
    }
    close(err[1]);
    err_ = fdopen(err[0], "r");
    char line[256];
    if (err_ && std::fgets(line, sizeof line, err_)) {
      first_line_ = line;
      const std::string prefix = "vtlab: waiting for gdb on 127.0.0.1:";
      if (first_line_.starts_with(prefix)) port_ = std::stoi(first_line_.substr(prefix.size()));
    }
  }
  ~GdbTarget() {
    if (pid_ > 0 && !waited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (err_) std::fclose(err_);
  }
  int port() const { return port_; }
  const std::string& first_line() const { return first_line_; }
  // Waits for vtlab to end: its exit status and the rest of its stderr.
  std::pair<int, std::string> finish() {
    std::string rest;
    char buf[512];
    while (err_ && std::fgets(buf, sizeof buf, err_)) rest += buf;
    int st = 0;
    waitpid(pid_, &st, 0);
    waited_ = true;
    return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, rest};
  }

 private:
  pid_t pid_ = -1;
  FILE* err_ = nullptr;
  std::string first_line_;
  int port_ = 0;
  bool waited_ = false;
};

std::string gdb_batch(int port, const std::vector<std::string>& commands) {
  // A stub that stopped answering fails the test instead of hanging it.
  std::string cmd = "timeout 60 gdb -batch -nx -ex 'target remote 127.0.0.1:" + std::to_string(port) + "'";
  for (const std::string& c : commands) cmd += " -ex '" + c + "'";
  return cmd;
}
}  // namespace

TEST(GdbRemote, BreakContinueRegistersMemoryStepiKill) {
  if (!have_gdb()) GTEST_SKIP() << "gdb is not installed (scripts/deps.sh --test installs it)";
  GdbTarget target(kMiniOs);
  ASSERT_GT(target.port(), 0) << target.first_line();
  const CommandResult g = run_command(gdb_batch(
      target.port(), {"break *0x100010", "continue", "info registers eip", "x/4xb 0x100000", "stepi",
                      "info registers eip", "info registers eax ebx cs ss eflags", "p/x $esi", "kill"}));
  EXPECT_EQ(g.status, 0) << g.err;
  EXPECT_EQ(g.out,
            "0x0010000c in ?? ()\n"
            "Breakpoint 1 at 0x100010\n"
            "\n"
            "Breakpoint 1, 0x00100010 in ?? ()\n"
            "eip            0x100010            0x100010\n"
            // minios's multiboot header: the magic 0x1BADB002, little-endian.
            "0x100000:\t0x02\t0xb0\t0xad\t0x1b\n"
            "0x00100012 in ?? ()\n"
            "eip            0x100012            0x100012\n"
            "eax            0x2badb002          732803074\n"
            "ebx            0x9500              38144\n"
            "cs             0x8                 8\n"
            "ss             0x10                16\n"
            "eflags         0x2                 [ ]\n"
            "$1 = 0x2badb002\n"
            "Kill the program being debugged? (y or n) [answered Y; input not from terminal]\n"
            "[Inferior 1 (Remote target) killed]\n");
  const auto [status, err] = target.finish();
  EXPECT_EQ(status, 10);
  EXPECT_EQ(err, "vtlab: interrupted: killed by gdb (after 4 instructions, at 0008:00100012)\n");
}

TEST(GdbRemote, HardwareWatchpointThenTheGuestsExit) {
  if (!have_gdb()) GTEST_SKIP() << "gdb is not installed (scripts/deps.sh --test installs it)";
  GdbTarget target(kMiniOs);
  ASSERT_GT(target.port(), 0) << target.first_line();
  // 0x10d000 is minios's `ticks`, first set to 1 by the timer interrupt.
  const CommandResult g = run_command(gdb_batch(
      target.port(), {"watch *(int *)0x10d000", "continue", "x/1xw 0x10d000", "delete", "continue"}));
  EXPECT_EQ(g.status, 0) << g.err;
  EXPECT_EQ(g.out,
            "0x0010000c in ?? ()\n"
            "Hardware watchpoint 1: *(int *)0x10d000\n"
            "\n"
            "Hardware watchpoint 1: *(int *)0x10d000\n"
            "\n"
            "Old value = 0\n"
            "New value = 1\n"
            "0x00101844 in ?? ()\n"
            "0x10d000:\t0x00000001\n"
            // gdb prints exit codes in octal: 0103 is 67, minios's (0x21 << 1) | 1.
            "[Inferior 1 (Remote target) exited with code 0103]\n");
  const auto [status, err] = target.finish();
  EXPECT_EQ(status, 67);
  EXPECT_EQ(err, "");
}

// minios64 under gdb's x86-64 register file: a breakpoint on the kernel's
// SYSCALL entry, where RCX and R11 hold what SYSCALL saved, then a step
// over its SWAPGS, which moves the kernel's per-CPU base into gs_base.
// minios's timer interrupt (0x101830, timer_interrupt) is hit once per PIT
// tick; 0x10d000 is its `ticks`.  The same session with checkpoints every
// 2^20 units (only power-on lies before these stops) and every 16384 units
// (replays start from checkpoints near them) must give the same answers.
TEST(GdbRemote, ReverseStepiAndReverseContinueOverTimerInterrupts) {
  if (!have_gdb()) GTEST_SKIP() << "gdb is not installed (scripts/deps.sh --test installs it)";
  for (const char* interval : {static_cast<const char*>(nullptr), "16384"}) {
    SCOPED_TRACE(interval ? interval : "default");
    GdbTarget target(kMiniOs, "i386", interval);
    ASSERT_GT(target.port(), 0) << target.first_line();
    const CommandResult g = run_command(gdb_batch(
        target.port(), {"break *0x101830", "continue", "continue", "x/1xw 0x10d000", "info registers eip esp",
                        "reverse-stepi", "info registers eip esp", "stepi", "info registers eip esp",
                        "reverse-continue", "x/1xw 0x10d000", "info registers eip esp", "reverse-continue",
                        "info registers eip", "reverse-stepi", "continue", "continue", "continue", "x/1xw 0x10d000",
                        "info registers eip esp eax", "kill"}));
    EXPECT_EQ(g.status, 0) << g.err;
    EXPECT_EQ(g.out,
              "0x0010000c in ?? ()\n"
              "Breakpoint 1 at 0x101830\n"
              "\n"
              "Breakpoint 1, 0x00101830 in ?? ()\n"
              "\n"
              "Breakpoint 1, 0x00101830 in ?? ()\n"
              "0x10d000:\t0x00000001\n"
              "eip            0x101830            0x101830\n"
              "esp            0x1100dc            0x1100dc\n"
              // One instruction back: the tail jump from the IRQ dispatch into the handler.
              "0x00101b83 in ?? ()\n"
              "eip            0x101b83            0x101b83\n"
              "esp            0x1100dc            0x1100dc\n"
              "\n"
              "Breakpoint 1, 0x00101830 in ?? ()\n"
              "eip            0x101830            0x101830\n"
              "esp            0x1100dc            0x1100dc\n"
              // Back to the first tick, on another stack, before ticks counted it.
              "\n"
              "Breakpoint 1, 0x00101830 in ?? ()\n"
              "0x10d000:\t0x00000000\n"
              "eip            0x101830            0x101830\n"
              "esp            0x108f54            0x108f54\n"
              // No stop before that one: the start of the run (T05replaylog:begin).
              "\n"
              "No more reverse-execution history.\n"
              "0x0010000c in ?? ()\n"
              "eip            0x10000c            0x10000c\n"
              "\n"
              "No more reverse-execution history.\n"
              "0x0010000c in ?? ()\n"
              // Forward again: the same ticks.
              "\n"
              "Breakpoint 1, 0x00101830 in ?? ()\n"
              "\n"
              "Breakpoint 1, 0x00101830 in ?? ()\n"
              "\n"
              "Breakpoint 1, 0x00101830 in ?? ()\n"
              "0x10d000:\t0x00000002\n"
              "eip            0x101830            0x101830\n"
              "esp            0x1120dc            0x1120dc\n"
              "eax            0x20                32\n"
              "Kill the program being debugged? (y or n) [answered Y; input not from terminal]\n"
              "[Inferior 1 (Remote target) killed]\n");
    const auto [status, err] = target.finish();
    EXPECT_EQ(status, 10);
    EXPECT_EQ(err, "vtlab: interrupted: killed by gdb (after 558267 instructions, at 0008:00101830)\n");
  }
}

TEST(GdbRemote, X86_64RegisterFileAtMinios64sSyscallEntry) {
  if (!have_gdb()) GTEST_SKIP() << "gdb is not installed (scripts/deps.sh --test installs it)";
  const uint32_t entry = elf32_symbols(kMiniOs64).at("syscall_entry");
  GdbTarget target(kMiniOs64, "x86-64");
  ASSERT_GT(target.port(), 0) << target.first_line();
  const std::string bp = fmt::format("break *{:#x}", entry);
  const CommandResult g = run_command(gdb_batch(
      target.port(), {bp, "continue", "info registers rip rax rcx r11 cs ss eflags gs_base", "stepi",
                      "p/x $gs_base != 0", "p/x $rip", "kill"}));
  EXPECT_EQ(g.status, 0) << g.err;
  EXPECT_EQ(g.out, fmt::format("0x000000000010000c in ?? ()\n"
                               "Breakpoint 1 at {0:#x}\n"
                               "\n"
                               "Breakpoint 1, 0x{0:016x} in ?? ()\n"
                               "rip            {0:#x}            {0:#x}\n"
                               // the first system call, from ring 3: the return RIP in the user half
                               "rax            0x1                 1\n"
                               "rcx            0x800000017b        549755814267\n"
                               "r11            0x246               582\n"
                               "cs             0x8                 8\n"
                               "ss             0x10                16\n"
                               "eflags         0x46                [ PF ZF ]\n"
                               "gs_base        0x0                 0\n"
                               "0x{1:016x} in ?? ()\n"
                               "$1 = 0x1\n"
                               "$2 = {1:#x}\n"
                               "Kill the program being debugged? (y or n) [answered Y; input not from terminal]\n"
                               "[Inferior 1 (Remote target) killed]\n",
                               entry, entry + 3));
  const auto [status, err] = target.finish();
  EXPECT_EQ(status, 10);
}

}  // namespace vtlab::test

namespace vtlab::test {

// tests/guests/boot_sector under gdb's own descriptions (--gdb-arch auto):
// from the reset vector (pc 0xFFFFFFF0, the linear F000:FFF0) to the boot
// sector at 0000:7C00 with 16-bit disassembly (i8086), the GDT it loads,
// a stepi across its far jump into 32-bit code with the registers right,
// the description read again (i386, 32-bit disassembly), then each monitor
// command's exact output and the guest's exit.  gdb prints what the stub
// sends as console output (O packets: monitor output, the note on the
// switch) on stderr, everything else on stdout.
TEST(GdbRemote, RealModeBootSectorThroughTheSwitchToProtectedMode) {
  if (!have_gdb()) GTEST_SKIP() << "gdb is not installed (scripts/deps.sh --test installs it)";
  const std::map<std::string, uint32_t> sym =
      elf32_symbols(std::string(VTLAB_GUESTS_DIR) + "/boot_sector/boot_sector.elf");
  // Where the boot sector's labels are once copied to 0x7C00.
  const auto at = [&sym](const char* name) { return sym.at(name) - sym.at("boot_sector") + 0x7C00; };
  ASSERT_EQ(at("far_jump"), 0x7C27u);
  ASSERT_EQ(at("protected_entry"), 0x7C2Cu);
  GdbTarget target({"--bios", std::string(VTLAB_GUESTS_DIR) + "/boot_sector.bin"});
  ASSERT_GT(target.port(), 0) << target.first_line();
  const CommandResult g = run_command(gdb_batch(
      target.port(),
      {"show architecture", "info registers eip cs", "break *0x7c00", "continue", "x/3i $pc",
       "info registers eip cs ss", "monitor mode", "monitor idt 0 2", "break *0x7c27", "continue", "x/1i $pc",
       "monitor gdt", "stepi", "info registers eip cs ds eflags", "unset tdesc filename", "show architecture",
       "x/2i $pc", "monitor mode", "monitor xp 0x7c00 20", "monitor translate 0x7c00",
       "monitor setp 0x7e00 dead beef", "monitor xp 0x7e00 4", "monitor tlb", "monitor exits", "monitor why",
       "monitor bogus", "continue"}));
  EXPECT_EQ(g.status, 0) << g.err;
  EXPECT_EQ(g.out,
            "0xfffffff0 in ?? ()\n"
            "The target architecture is set to \"auto\" (currently \"i8086\").\n"
            "eip            0xfffffff0          0xfffffff0\n"
            "cs             0xf000              61440\n"
            "Breakpoint 1 at 0x7c00\n"
            "\n"
            "Breakpoint 1, 0x00007c00 in ?? ()\n"
            // 16-bit code: `xor ax, ax` is two bytes, not a 32-bit form eating the next instruction.
            "=> 0x7c00:\tcli\n"
            "   0x7c01:\txor    %ax,%ax\n"
            "   0x7c03:\tmov    %ax,%ds\n"
            "eip            0x7c00              0x7c00\n"
            "cs             0x0                 0\n"
            "ss             0x0                 0\n"
            "Breakpoint 2 at 0x7c27\n"
            "\n"
            // CR0.PE is set here already, but CS is still the real-mode one: 16-bit code.
            "Breakpoint 2, 0x00007c27 in ?? ()\n"
            "=> 0x7c27:\tljmp   $0x8,$0x7c2c\n"
            "0x00007c2c in ?? ()\n"
            "eip            0x7c2c              0x7c2c\n"
            "cs             0x8                 8\n"
            "ds             0x0                 0\n"
            // PF from `or $1, %eax` on CR0 (0x60000011).
            "eflags         0x6                 [ PF ]\n"
            "The target architecture is set to \"auto\" (currently \"i386\").\n"
            "=> 0x7c2c:\tmov    $0x10,%ax\n"
            "   0x7c30:\tmov    %eax,%ds\n"
            // gdb prints exit codes in octal: 0103 is 67, (0x21 << 1) | 1.
            "[Inferior 1 (Remote target) exited with code 0103]\n");
  EXPECT_EQ(g.err,
            "warning: No executable has been specified and target does not support\n"
            "determining executable automatically.  Try using the \"file\" command.\n"
            "real mode (CR0.PE=0), 16-bit code: CS:IP 0000:7c00, CS.base 0x0: gdb's pc is the linear CS.base + IP = "
            "0x00007c00\n"
            "target description: gdb has i8086, this code's is i8086\n"
            // The IVT: vtlab has no BIOS to fill it.
            "0x00 -> 0000:0000\n"
            "0x01 -> 0000:0000\n"
            "0x0008 00cf9a000000ffff base 0x00000000 limit 0xffffffff dpl 0 P code, execute/read\n"
            "0x0010 00cf92000000ffff base 0x00000000 limit 0xffffffff dpl 0 P data, read/write\n"
            "vtlab: the CPU now runs 32-bit code: its target description is i386, gdb has i8086 (`unset tdesc "
            "filename` makes gdb read it)\n"
            "protected mode, 32-bit code: CS:EIP 0008:00007c2c, CS.base 0x0: gdb's pc is the linear CS.base + EIP = "
            "0x00007c2c\n"
            "target description: gdb has i386, this code's is i386\n"
            "0x00007c00: 0xfa 0x31 0xc0 0x8e 0xd8 0x8e 0xd0 0xbc 0x00 0x7c 0xbe 0x76 0x7c 0xac 0x84 0xc0\n"
            "0x00007c10: 0x74 0x06 0xba 0xf8\n"
            "supervisor read linear 0x00007c00 (paging off):\n"
            "  => physical 0x7c00 in a 4 KiB page: user, writable, executable\n"
            "wrote 4 bytes at physical 0x00007e00\n"
            "0x00007e00: 0xde 0xad 0xbe 0xef\n"
            "0 valid entries\n"
            "0 exits, 0 modelled cycles\n"
            "nothing to explain: no shutdown, no fault caught at this stop, no double fault so far\n"
            "error: unknown command \"bogus\" (try monitor help)\n");
  const auto [status, err] = target.finish();
  EXPECT_EQ(status, 67);
  EXPECT_EQ(err, "");
}

}  // namespace vtlab::test
