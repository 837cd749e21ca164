#include "support/boot.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>

#include "core/loader/file.h"
#include "core/loader/multiboot.h"

namespace vtlab::test {

BootOutcome boot_kernel(const std::string& path, const std::string& cmdline, uint64_t max_insns, uint64_t ram,
                        const std::string& mode, const std::function<void(MachineConfig&)>& configure) {
  BootOutcome o;
  MachineConfig cfg;
  cfg.ram_bytes = ram;
  cfg.mode = mode;
  if (configure) configure(cfg);
  cfg.debugcon_out = [&o](uint8_t b) { o.debugcon.push_back(static_cast<char>(b)); };
  Machine m(cfg);
  // The loader puts the kernel's name at the front of the command line (as
  // QEMU does); use the bare file name so results do not depend on where
  // the build directory is.
  const std::string name = path.substr(path.rfind('/') + 1);
  load_multiboot(read_file(path), name, cmdline, m.memory(), m.cpu().s);
  o.result = m.run(max_insns);
  o.serial = m.serial_transcript();
  o.instructions = m.cpu().icount;
  for (size_t i = 0; i < kExitReasons; ++i) o.exits[i] = m.exits().count(static_cast<ExitReason>(i)).count;
  o.exit_total = m.exits().total();
  o.exit_cycles = m.exits().total_cycles();
  o.holes = m.monitor().holes();
  for (const auto& [name, value] : m.monitor().counters()) o.counters[name] = value;
  return o;
}

std::string read_text_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

bool file_exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

CommandResult run_command(const std::string& cmd) {
  CommandResult r;
  char err_path[] = "/tmp/vtlab-cmd-err-XXXXXX";
  int fd = mkstemp(err_path);
  if (fd < 0) return r;
  close(fd);
  FILE* p = popen((cmd + " 2>" + err_path).c_str(), "r");
  if (!p) return r;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) r.out.append(buf, n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.err = read_text_file(err_path);
  unlink(err_path);
  return r;
}

std::string why_at_first_exception(const std::string& name, const std::string& bin) {
  const std::string cmds = ::testing::TempDir() + "/" + name + ".cmd";
  std::ofstream(cmds) << "catch exception\nc\nwhy\nq\n";
  const CommandResult r =
      run_command(std::string(VTLAB_CLI) + " debug --serial none --flat 0x100000 --commands " + cmds + " " + bin);
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  const size_t at = r.out.find("(vtlab) c\n");
  return at == std::string::npos ? r.out : r.out.substr(at);
}

}  // namespace vtlab::test
