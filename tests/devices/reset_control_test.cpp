// Port 0xCF9: which writes reset the machine, and what reads back.
#include "devices/reset_control.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vtlab {
namespace {

TEST(ResetControlTest, Bit2ResetsWithTheKindBits1And3Name) {
  std::vector<std::string> resets;
  ResetControl rc([&](const char* why) { resets.emplace_back(why); });
  rc.write(0, 1, 0x02);  // SYS_RST alone: a selection, no reset yet
  EXPECT_TRUE(resets.empty());
  EXPECT_EQ(rc.read(0, 1), 0x02u);
  rc.write(0, 1, 0x06);
  rc.write(0, 1, 0x04);
  rc.write(0, 1, 0x0E);
  EXPECT_EQ(resets, (std::vector<std::string>{"port 0xCF9 hard reset", "port 0xCF9 soft reset",
                                              "port 0xCF9 full reset"}));
  EXPECT_EQ(rc.read(0, 1), 0x0Au);  // RST_CPU never reads back
  EXPECT_EQ(rc.read(0, 2), 0xFF0Au);
}

}  // namespace
}  // namespace vtlab
