// `vtlab run --bios` as a user runs it: a small ROM assembled here that
// posts a code, resets the machine through port 0xCF9 on its first boot and
// exits on its second (RAM survives a reset), with and without --reboot.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>

#include "support/assemble.h"
#include "support/boot.h"

namespace vtlab::test {
namespace {

const std::string kCli = VTLAB_CLI;

std::string write_rom() {
  std::vector<uint8_t> rom(64 << 10, 0xFF);
  // CS base FFFF0000: IP 0 is the ROM's first byte, IP FFF0 its reset vector.
  const std::vector<uint8_t> code = assemble(
      "mov al, 0x11\n"
      "out 0x80, al\n"
      "xor ax, ax\n"
      "mov ds, ax\n"
      "cmp byte ptr [0x500], 0x42\n"
      "je second\n"
      "mov byte ptr [0x500], 0x42\n"
      "mov al, 0x06\n"
      "mov dx, 0xCF9\n"
      "out dx, al\n"
      "hlt\n"
      "second: mov al, 0x22\n"
      "out 0x80, al\n"
      "mov al, 5\n"
      "out 0xF4, al\n",
      16, 0);
  const std::vector<uint8_t> reset = assemble("jmp 0x0000", 16, 0xFFF0);
  std::copy(code.begin(), code.end(), rom.begin());
  std::copy(reset.begin(), reset.end(), rom.begin() + 0xFFF0);
  const std::string path = ::testing::TempDir() + "/vtlab-reset.rom";
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(rom.data()), rom.size());
  return path;
}

TEST(BiosCli, AResetStopsTheMachineUnlessRebootIsGiven) {
  const std::string rom = write_rom();
  CommandResult stop = run_command(kCli + " run --bios " + rom);
  EXPECT_EQ(stop.status, 6);
  EXPECT_NE(stop.err.find("shutdown: the guest reset the machine (port 0xCF9 hard reset)"), std::string::npos)
      << stop.err;

  CommandResult r = run_command(kCli + " run --bios " + rom + " --reboot --post --stats -");
  EXPECT_EQ(r.status, 11);  // (5 << 1) | 1 on the second boot
  EXPECT_NE(r.err.find("vtlab: reboot: the guest reset the machine (port 0xCF9 hard reset); restarting at the "
                       "reset vector\n"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("post: port 0x80 <- 0x11 at 2\n"), std::string::npos) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["reboots"], 1);
  ASSERT_EQ(j["post_codes"].size(), 3u);
  // First boot: the JMP at the reset vector and the MOV have retired when
  // the OUT writes (virtual time 2).  The reset restarts the same code; RAM
  // kept the flag.
  EXPECT_EQ(j["post_codes"][0]["value"], 0x11);
  EXPECT_EQ(j["post_codes"][0]["time"], 2);
  EXPECT_EQ(j["post_codes"][1]["time"], 13);
  EXPECT_EQ(j["post_codes"][2]["time"], 19);
  EXPECT_EQ(j["post_codes"][1]["value"], 0x11);
  EXPECT_EQ(j["post_codes"][2]["value"], 0x22);
}

}  // namespace
}  // namespace vtlab::test
