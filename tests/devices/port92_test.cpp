#include "devices/port92.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vtlab {
namespace {

constexpr uint64_t kPort = 0x92;

class Port92Test : public ::testing::Test {
 protected:
  Port92Test()
      : port([this](bool on) { a20_log.push_back(on), a20 = on; }, [this] { return a20; },
             [this](const char* why) { resets.emplace_back(why); }) {
    EXPECT_TRUE(io.insert(kPort, SystemControlPortA::kPorts, &port));
  }
  uint8_t in() { return static_cast<uint8_t>(io.read(kPort, 1)); }
  void out(uint8_t v) { io.write(kPort, 1, v); }

  bool a20 = true;  // the machine's gate, as the CPU comes out of reset
  std::vector<bool> a20_log;
  std::vector<std::string> resets;
  SystemControlPortA port;
  IoBus io{"io"};
};

TEST_F(Port92Test, ReadsTheCurrentA20State) {
  EXPECT_EQ(in(), 0x02);
  a20 = false;  // closed elsewhere (the keyboard controller)
  EXPECT_EQ(in(), 0x00);
}

TEST_F(Port92Test, Bit1DrivesA20) {
  out(0x00);
  EXPECT_EQ(in(), 0x00);
  out(0x02);
  EXPECT_EQ(in(), 0x02);
  EXPECT_EQ(a20_log, (std::vector<bool>{false, true}));
  EXPECT_TRUE(resets.empty());
}

TEST_F(Port92Test, FastResetOnlyOnARisingBit0) {
  out(0x03);
  EXPECT_EQ(resets, (std::vector<std::string>{"port 0x92 fast reset"}));
  out(0x03);  // still 1: no new edge
  EXPECT_EQ(resets.size(), 1u);
  out(0x02);
  out(0x01);
  EXPECT_EQ(resets.size(), 2u);
  EXPECT_EQ(a20_log, (std::vector<bool>{true, true, true, false}));
}

TEST_F(Port92Test, OtherBitsAreStored) {
  out(0xCA);  // activity lights, password lock, A20
  EXPECT_EQ(in(), 0xCA);
  EXPECT_EQ(io.read(kPort, 2), 0xFFCAu);  // 0x93 is not this port
  EXPECT_TRUE(resets.empty());
}

}  // namespace
}  // namespace vtlab
