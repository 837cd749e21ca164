// `vtlab debug --system-map`: names from a Linux-style System.map as
// breakpoint addresses. The map here describes minios as if it were linked
// at 0xc0000000 above where it runs (as the i386 kernel is, with
// phys_startup_32 naming the physical entry): `b` takes the map's virtual
// address, `pb` the physical one the offset gives, which is where minios's
// code really is, so the physical breakpoint stops there.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>

#include "support/boot.h"
#include "support/elf_symbols.h"

namespace vtlab::test {

namespace {
const std::string kCli = VTLAB_CLI;
const std::string kMiniOs = sample_binary("minios.elf");
constexpr uint32_t kLinkOffset = 0xc0000000;

std::string write_file(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}
}  // namespace

TEST(DebugSymbols, BreakOnSystemMapNames) {
  const std::map<std::string, uint32_t> syms = elf32_symbols(kMiniOs);
  ASSERT_TRUE(syms.count("kmain"));
  ASSERT_TRUE(syms.count("_start"));
  const uint32_t kmain = syms.at("kmain"), start = syms.at("_start");
  const std::string map = write_file(
      "minios.System.map", fmt::format("{:08x} A phys_startup_32\n{:08x} T startup_32\n{:08x} T kmain\n", start,
                                       start + kLinkOffset, kmain + kLinkOffset));
  const std::string commands = write_file("debug-symbols.cmd",
                                          "b kmain\n"
                                          "d 1\n"
                                          "pb kmain+0\n"
                                          "c\n"
                                          "b no_such_name\n"
                                          "q\n");
  const CommandResult r = run_command(kCli + " debug --serial none --system-map " + map + " --commands " +
                                      commands + " " + kMiniOs);
  EXPECT_EQ(r.status, 1) << r.err;  // the unknown name is an error
  const std::string head = fmt::format(
      "(vtlab) b kmain\n"
      "breakpoint 1 at linear {:#010x} (kmain)\n"
      "(vtlab) d 1\n"
      "deleted 1\n"
      "(vtlab) pb kmain+0\n"
      "breakpoint 2 at physical {:#010x} (kmain+0)\n"
      "(vtlab) c\n"
      "breakpoint 2\n"
      "0008:{:08x}  ",
      kmain + kLinkOffset, kmain, kmain);
  EXPECT_NE(r.out.find(head), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(vtlab) b no_such_name\nerror: no symbol no_such_name\n"), std::string::npos) << r.out;
}

TEST(DebugSymbols, NamesWithoutAMapSayWhy) {
  const std::string commands = write_file("debug-nomap.cmd", "b start_kernel\nb 0x10zz\nq\n");
  const CommandResult r = run_command(kCli + " debug --serial none --commands " + commands + " " + kMiniOs);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("error: no symbol start_kernel (no System.map: give vtlab debug --system-map FILE)\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("error: bad number: 0x10zz\n"), std::string::npos) << r.out;
}

TEST(DebugSymbols, MalformedMapIsOneLineAndStatus2) {
  const std::string map = write_file("bad.System.map", "c1000000 T _text\nrubbish\n");
  const CommandResult r = run_command(kCli + " debug --system-map " + map + " --commands /dev/null " + kMiniOs);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "vtlab: " + map + ":2: not a System.map line (want ADDRESS TYPE NAME): rubbish\n");
}

}  // namespace vtlab::test
