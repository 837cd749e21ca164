// samples/rom booted as firmware from the reset vector: the serial line,
// the debug-console text, the POST codes in order and the exit status
// recorded from `qemu-system-i386 -bios` (samples/rom/record_qemu.sh), the
// exact instruction count, and no write ever reaching the ROM.
#include <gtest/gtest.h>

#include <sstream>

#include "core/loader/bios.h"
#include "core/loader/file.h"
#include "core/machine.h"
#include "devices/post_port.h"
#include "support/boot.h"

namespace vtlab::test {
namespace {

const std::string kRom = std::string(VTLAB_SAMPLES_DIR) + "/rom.bin";
const std::string kExpected = std::string(VTLAB_GUESTS_SRC_DIR) + "/../../samples/rom/expected";

std::vector<uint32_t> expected_post() {
  std::istringstream in(read_text_file(kExpected + ".post"));
  std::vector<uint32_t> codes;
  std::string word;
  while (in >> word) codes.push_back(static_cast<uint32_t>(std::stoul(word, nullptr, 16)));
  return codes;
}

TEST(SampleRom, BootsFromTheResetVectorAsUnderQemu) {
  std::string debugcon;
  MachineConfig cfg;
  cfg.debugcon_out = [&debugcon](uint8_t b) { debugcon.push_back(static_cast<char>(b)); };
  Machine m(cfg);
  load_bios(read_file(kRom), m.memory(), m.cpu().s, "rom.bin");
  const RunResult r = m.run(10'000'000);
  ASSERT_EQ(r.reason, StopReason::GuestExit) << r.detail;
  EXPECT_EQ(std::to_string(r.guest_status & 0xFF) + "\n", read_text_file(kExpected + ".status"));
  EXPECT_EQ(m.serial_transcript(), read_text_file(kExpected + ".txt"));
  EXPECT_EQ(debugcon, read_text_file(kExpected + ".debugcon"));
  std::vector<uint32_t> post;
  for (const PostCode& c : m.post_codes()) post.push_back(c.value);
  EXPECT_EQ(post, expected_post());
  EXPECT_EQ(m.post_codes().front().time, 1u);  // after the far JMP at the reset vector
  EXPECT_EQ(m.memory().dropped_writes(), 0u);
  EXPECT_EQ(m.cpu().icount, 9'877u);
}

}  // namespace
}  // namespace vtlab::test
