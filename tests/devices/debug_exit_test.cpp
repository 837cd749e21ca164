#include "devices/debug_exit.h"

#include <gtest/gtest.h>

#include <vector>

namespace vtlab {
namespace {

class DebugExitTest : public ::testing::Test {
 protected:
  DebugExitTest() : dev([this](uint32_t s) { statuses.push_back(s); }) {
    EXPECT_TRUE(io.insert(0xF4, 4, &dev));
  }
  std::vector<uint32_t> statuses;
  DebugExit dev;
  IoBus io{"io"};
};

TEST_F(DebugExitTest, ByteWritesExitWithShiftedStatus) {
  io.write(0xF4, 1, 0x00);
  io.write(0xF4, 1, 0x01);
  io.write(0xF4, 1, 0x10);
  io.write(0xF4, 1, 0xFF);
  EXPECT_EQ(statuses, (std::vector<uint32_t>{0x01, 0x03, 0x21, 0x1FF}));
}

TEST_F(DebugExitTest, WiderWritesUseTheWholeValueIn32Bits) {
  io.write(0xF4, 2, 0x1234);
  io.write(0xF4, 4, 0x12345678);
  io.write(0xF4, 4, 0x80000001);  // bit 31 shifts out, as in QEMU
  io.write(0xF4, 4, 0xFFFFFFFF);
  EXPECT_EQ(statuses, (std::vector<uint32_t>{0x2469, 0x2468ACF1, 0x00000003, 0xFFFFFFFF}));
}

TEST_F(DebugExitTest, AnyOffsetInTheRangeExits) {
  io.write(0xF5, 1, 0x02);
  io.write(0xF7, 1, 0x03);
  EXPECT_EQ(statuses, (std::vector<uint32_t>{0x05, 0x07}));
}

TEST_F(DebugExitTest, ReadsReturnZeroAndDoNotExit) {
  EXPECT_EQ(io.read(0xF4, 1), 0u);
  EXPECT_EQ(io.read(0xF4, 2), 0u);
  EXPECT_EQ(io.read(0xF4, 4), 0u);
  EXPECT_TRUE(statuses.empty());
  EXPECT_EQ(io.unclaimed_total(), 0u);
}

TEST(DebugExit, MasksToTheAccessWidthWhenCalledDirectly) {
  uint32_t got = 0;
  DebugExit dev([&](uint32_t s) { got = s; });
  dev.write(0, 1, 0x1FF);
  EXPECT_EQ(got, 0x1FFu);
  EXPECT_EQ(DebugExit::status_for(0x1'0000'0002), 0x5u);
  EXPECT_EQ(dev.name(), "debug_exit");
}

TEST(DebugExit, WithoutACallbackWritesAreHarmless) {
  DebugExit dev(nullptr);
  dev.write(0, 4, 0x42);
  EXPECT_EQ(dev.read(0, 1), 0u);
}

}  // namespace
}  // namespace vtlab
