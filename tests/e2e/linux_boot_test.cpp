// Debian 12's own kernels (scripts/fetch-linux: linux-image-*-686 and
// -amd64 with a busybox-static initramfs) boot through `vtlab run` to the
// initramfs's /init, which prints uname and a marker and powers the machine
// off through ACPI S5.  Suites named Linux* carry the ctest label `linux`
// and skip without the cache.
//
// The command line is the same in every mode: `quiet` keeps the console to
// what userland prints plus errors (a kernel error or warning that appears
// fails the transcript comparison), `nokaslr` keeps the load address fixed
// (KASLR seeds from the TSC, which counts virtual time, so it would differ
// between modes), `cryptomgr.notests` skips the crypto self-tests (about a
// third of the i386 boot is RSA self-tests in bignum code), `printk.time=0`
// drops the kernel's timestamps (virtual time differs between modes by the
// modelled exit costs), so every mode's transcript is the same bytes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "support/boot.h"
#include "support/linux_cache.h"

namespace vtlab::test {
namespace {

constexpr const char* kAppend = "console=ttyS0 quiet nokaslr cryptomgr.notests printk.time=0";

struct Boot {
  CommandResult result;
  nlohmann::json stats;
  std::vector<std::string> transcript;  // console lines
};

Boot boot(const LinuxKernelFiles& k, const std::string& mode_flags) {
  const std::string stats = ::testing::TempDir() + "/vtlab-linux-stats.json";
  Boot b;
  b.result = run_command(std::string(VTLAB_CLI) + " run " + mode_flags + " --stats " + stats + " --kernel-linux " +
                         k.bzimage + " --initrd " + k.initrd + " --append '" + kAppend + "'");
  std::ifstream f(stats);
  if (f) b.stats = nlohmann::json::parse(f, nullptr, false);
  std::istringstream lines(b.result.out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    b.transcript.push_back(line);
  }
  return b;
}

// What every mode must print: uname -a of this kernel, the marker, and the
// kernel's last words before ACPI S5; nothing else (quiet lets errors through).
void expect_powered_off(const Boot& b, const LinuxKernelFiles& k, const std::string& machine) {
  EXPECT_EQ(b.result.status, 0) << b.result.err;
  ASSERT_EQ(b.transcript.size(), 3u) << b.result.out;
  EXPECT_EQ(b.transcript[0].rfind("Linux (none) 6.1.0-", 0), 0u) << b.transcript[0];
  EXPECT_NE(b.transcript[0].find("Debian " + k.kernel_version + " "), std::string::npos) << b.transcript[0];
  EXPECT_NE(b.transcript[0].find(" " + machine + " GNU/Linux"), std::string::npos) << b.transcript[0];
  EXPECT_EQ(b.transcript[1], k.marker);
  EXPECT_EQ(b.transcript[2], "reboot: Power down");
  EXPECT_EQ(b.stats.value("stop", nlohmann::json()).value("detail", std::string()),
            "the guest powered the machine off (ACPI S5)")
      << b.stats.dump();
}

uint64_t exits(const Boot& b, const std::string& reason) {
  const auto& by = b.stats["exits"]["by_reason"];
  return by.contains(reason) ? by[reason]["count"].get<uint64_t>() : 0;
}

class LinuxBoot : public ::testing::Test {
 protected:
  std::optional<LinuxKernelFiles> kernel(const std::string& arch) {
    std::string why;
    auto k = linux_kernel(arch, why);
    if (!k) skip_reason_ = why;
    return k;
  }
  std::string skip_reason_;
};

TEST_F(LinuxBoot, I386NativeTwiceTheSameRun) {
  const auto k = kernel("i386");
  if (!k) GTEST_SKIP() << skip_reason_;
  const Boot a = boot(*k, "--mode native");
  expect_powered_off(a, *k, "i686");
  EXPECT_EQ(exits(a, "io"), 0u);  // no monitor: nothing exits
  // Virtual time makes the boot deterministic: a second run retires the
  // same instructions at the same virtual time.
  const Boot again = boot(*k, "--mode native");
  EXPECT_EQ(again.stats["instructions"], a.stats["instructions"]);
  EXPECT_EQ(again.stats["virtual_time"], a.stats["virtual_time"]);
  EXPECT_EQ(again.result.out, a.result.out);
}

TEST_F(LinuxBoot, I386BinaryTranslation) {
  const auto k = kernel("i386");
  if (!k) GTEST_SKIP() << skip_reason_;
  const Boot b = boot(*k, "--mode bt");
  expect_powered_off(b, *k, "i686");
  EXPECT_GT(exits(b, "bt-callout"), 0u) << b.stats["exits"].dump();  // I/O, CLI/STI, ... from translated code
  EXPECT_GT(exits(b, "bt-translate"), 0u);
  EXPECT_NE(b.result.err.find("bt: no virtualization holes"), std::string::npos) << b.result.err;
}

TEST_F(LinuxBoot, I386HardwareAssistedSim) {
  const auto k = kernel("i386");
  if (!k) GTEST_SKIP() << skip_reason_;
  const Boot b = boot(*k, "--mode hw --hw-backend sim");
  expect_powered_off(b, *k, "i686");
  EXPECT_GT(exits(b, "io"), 0u);
  EXPECT_GT(exits(b, "cpuid"), 0u);
}

TEST_F(LinuxBoot, Amd64Native) {
  const auto k = kernel("amd64");
  if (!k) GTEST_SKIP() << skip_reason_;
  const Boot b = boot(*k, "--mode native");
  expect_powered_off(b, *k, "x86_64");
}

TEST_F(LinuxBoot, Amd64HardwareAssistedSim) {
  const auto k = kernel("amd64");
  if (!k) GTEST_SKIP() << skip_reason_;
  const Boot b = boot(*k, "--mode hw --hw-backend sim");
  expect_powered_off(b, *k, "x86_64");
  EXPECT_GT(exits(b, "io"), 0u);
  EXPECT_GT(exits(b, "msr-write"), 0u);
}

// The debugger stops at the kernel's entries: where the boot loader starts
// the decompressor (linux_entry), where the decompressor enters the kernel
// proper (physical 16 MiB, the 686 kernel's startup_32), and, with the
// System.map, start_kernel at its virtual address.
TEST_F(LinuxBoot, I386DebuggerStopsAtTheEntries) {
  const auto k = kernel("i386");
  if (!k) GTEST_SKIP() << skip_reason_;
  const std::string commands = ::testing::TempDir() + "/vtlab-linux-debug.txt";
  const bool map = !k->system_map.empty();
  std::ofstream(commands) << "pb 0x1000000\n"
                          << (map ? "b start_kernel\n" : "") << "c\nregs\n" << (map ? "c\n" : "") << "q\n";
  const CommandResult r = run_command(std::string(VTLAB_CLI) + " debug --serial none --commands " + commands +
                                      (map ? " --system-map " + k->system_map : "") + " --kernel-linux " +
                                      k->bzimage + " --initrd " + k->initrd + " --append '" + kAppend + "'");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("0010:00100000  cld"), std::string::npos) << r.out;  // linux_entry, before anything ran
  EXPECT_NE(r.out.find("breakpoint 1\n0010:01000000  "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("eip 0x01000000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mode protected, cpl 0, 32-bit code"), std::string::npos) << r.out;
  if (map) {
    EXPECT_NE(r.out.find("breakpoint 2\n0060:c1"), std::string::npos) << r.out;
  }
}

}  // namespace
}  // namespace vtlab::test
