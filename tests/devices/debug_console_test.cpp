#include "devices/debug_console.h"

#include <gtest/gtest.h>

#include <string>

namespace vtlab {
namespace {

class DebugConsoleTest : public ::testing::Test {
 protected:
  DebugConsoleTest() : con([this](uint8_t b) { out.push_back(static_cast<char>(b)); }) {
    EXPECT_TRUE(io.insert(0xE9, 1, &con));
  }
  std::string out;
  DebugConsole con;
  IoBus io{"io"};
};

TEST_F(DebugConsoleTest, ByteWritesReachTheHostInOrder) {
  for (char c : std::string("boot ok\n")) io.write(0xE9, 1, static_cast<uint8_t>(c));
  EXPECT_EQ(out, "boot ok\n");
}

TEST_F(DebugConsoleTest, WiderWritesEmitOnlyTheLowByte) {
  io.write(0xE9, 2, 0x4241);
  io.write(0xE9, 4, 0x44434241);
  EXPECT_EQ(out, "AA");
}

TEST_F(DebugConsoleTest, ReadsReturnE9SoGuestsCanDetectIt) {
  EXPECT_EQ(io.read(0xE9, 1), 0xE9u);
  EXPECT_EQ(io.read(0xE9, 1), 0xE9u);
  EXPECT_EQ(io.read(0xE9, 2), 0x00E9u);
  EXPECT_EQ(out, "");
}

TEST_F(DebugConsoleTest, EveryByteValuePassesThrough) {
  io.write(0xE9, 1, 0x00);
  io.write(0xE9, 1, 0xFF);
  io.write(0xE9, 1, 0x1B);
  EXPECT_EQ(out, std::string("\x00\xFF\x1B", 3));
}

TEST(DebugConsole, WithoutACallbackWritesAreHarmless) {
  DebugConsole con(nullptr);
  con.write(0, 1, 'x');
  EXPECT_EQ(con.read(0, 1), DebugConsole::kReadback);
  EXPECT_EQ(con.name(), "debug_console");
}

}  // namespace
}  // namespace vtlab
