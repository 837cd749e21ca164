#include "devices/i8042.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vtlab {
namespace {

constexpr uint64_t kData = 0x60, kControl = 0x64;
using Bytes = std::vector<uint8_t>;

// The controller as a guest sees it: its two one-port views on an I/O bus.
class I8042Test : public ::testing::Test {
 protected:
  I8042Test()
      : kbc([this](bool level) { irq_log.push_back(level); },
            [this](bool on) { a20_log.push_back(on); },
            [this](const char* why) { resets.emplace_back(why); }) {
    EXPECT_TRUE(io.insert(kData, 1, &kbc.data_port()));
    EXPECT_TRUE(io.insert(kControl, 1, &kbc.control_port()));
  }
  uint8_t status() { return static_cast<uint8_t>(io.read(kControl, 1)); }
  uint8_t data() { return static_cast<uint8_t>(io.read(kData, 1)); }
  void command(uint8_t c) { io.write(kControl, 1, c); }
  void send(uint8_t v) { io.write(kData, 1, v); }
  // Reads every byte waiting, polling OBF as drivers do.
  Bytes drain() {
    Bytes b;
    while ((status() & 0x01) && b.size() < 64) b.push_back(data());
    return b;
  }
  // Turns the keyboard interrupt off so IRQ logs only show what a test wants.
  void quiet() {
    command(0x60);
    send(0x44);
  }

  std::vector<bool> irq_log, a20_log;
  std::vector<std::string> resets;
  I8042 kbc;
  IoBus io{"io"};
};

TEST_F(I8042Test, PowerOnStatusAndCommandByte) {
  EXPECT_EQ(status(), 0x14);  // unlocked, system flag; nothing to read
  command(0x20);
  EXPECT_EQ(status(), 0x1D);  // OBF, and A2: the last write was a command
  EXPECT_EQ(data(), 0x45);
  EXPECT_EQ(status(), 0x1C);
  EXPECT_EQ(data(), 0x45);  // an empty buffer re-reads its last byte
  EXPECT_TRUE(resets.empty());
}

TEST_F(I8042Test, WriteCommandByteControlsSysFlagAndIrq) {
  command(0x60);
  send(0x00);
  EXPECT_EQ(status(), 0x10);  // A2 cleared by the data write, SYS follows bit 2
  command(0x20);
  EXPECT_EQ(drain(), (Bytes{0x00}));
  EXPECT_TRUE(irq_log.empty());  // the keyboard interrupt is off
  command(0x60);
  send(0x01);
  command(0x20);
  EXPECT_TRUE(kbc.irq_line());
  EXPECT_EQ(data(), 0x01);
  EXPECT_FALSE(kbc.irq_line());
  EXPECT_EQ(irq_log, (std::vector<bool>{true, false}));
}

TEST_F(I8042Test, ControllerRamBeyondTheCommandByte) {
  command(0x65);
  send(0x99);
  command(0x25);
  command(0x3F);
  EXPECT_EQ(drain(), (Bytes{0x99, 0x00}));
}

TEST_F(I8042Test, SelfTestAndInterfaceTests) {
  quiet();
  command(0xAA);
  command(0xAB);
  command(0xA9);
  EXPECT_EQ(drain(), (Bytes{0x55, 0x00, 0x00}));
  EXPECT_EQ(status() & 0x04, 0x04);  // a passed self-test sets SYS
}

TEST_F(I8042Test, EnableAndDisablePortsInTheCommandByte) {
  quiet();
  command(0xAD);
  command(0xA7);
  EXPECT_EQ(kbc.command_byte(), 0x74);
  command(0xAE);
  EXPECT_EQ(kbc.command_byte(), 0x64);
  command(0xA8);
  EXPECT_EQ(kbc.command_byte(), 0x44);
}

TEST_F(I8042Test, KeyboardResetAndEnable) {
  quiet();
  send(0xFF);
  EXPECT_EQ(drain(), (Bytes{0xFA, 0xAA}));
  send(0xF5);
  send(0xF4);
  EXPECT_EQ(drain(), (Bytes{0xFA, 0xFA}));
}

TEST_F(I8042Test, IdentifyUntranslatedAndTranslated) {
  command(0x60);
  send(0x04);  // translation off
  send(0xF2);
  EXPECT_EQ(drain(), (Bytes{0xFA, 0xAB, 0x83}));
  command(0x60);
  send(0x44);  // translation on: set 2's 0x83 reaches the CPU as 0x41
  send(0xF2);
  EXPECT_EQ(drain(), (Bytes{0xFA, 0xAB, 0x41}));
}

TEST_F(I8042Test, CommandsWithAParameterAckTwice) {
  quiet();
  send(0xED);
  send(0x07);  // all LEDs on
  send(0xF3);
  send(0x20);
  EXPECT_EQ(drain(), (Bytes{0xFA, 0xFA, 0xFA, 0xFA}));
  send(0xEE);
  send(0xE6);  // anything else is acknowledged
  EXPECT_EQ(drain(), (Bytes{0xEE, 0xFA}));
}

TEST_F(I8042Test, WritingToTheKeyboardEnablesItsInterface) {
  quiet();
  command(0xAD);
  send(0xF4);
  EXPECT_EQ(kbc.command_byte() & 0x10, 0);
  EXPECT_EQ(drain(), (Bytes{0xFA}));
}

TEST_F(I8042Test, EveryQueuedByteIsItsOwnInterrupt) {
  send(0xFF);  // power-on command byte enables IRQ 1
  EXPECT_EQ(irq_log, (std::vector<bool>{true}));
  EXPECT_EQ(data(), 0xFA);
  EXPECT_EQ(irq_log, (std::vector<bool>{true, false, true}));  // an edge for 0xAA
  EXPECT_EQ(data(), 0xAA);
  EXPECT_EQ(irq_log, (std::vector<bool>{true, false, true, false}));
}

TEST_F(I8042Test, OutputPortReadAndA20Commands) {
  quiet();
  command(0xD0);
  EXPECT_EQ(drain(), (Bytes{0xCF}));
  command(0xDD);
  command(0xD0);
  EXPECT_EQ(drain(), (Bytes{0xCD}));
  command(0xDF);
  EXPECT_EQ(a20_log, (std::vector<bool>{false, true}));
  EXPECT_EQ(kbc.output_port(), 0xCF);
  EXPECT_TRUE(resets.empty());
}

TEST_F(I8042Test, OutputPortShowsTheIrqOutputs) {
  command(0xD0);  // the byte is queued behind nothing: bit 4 is clear when sampled
  command(0xD0);  // now a keyboard byte is waiting: bit 4 set
  EXPECT_EQ(drain(), (Bytes{0xCF, 0xDF}));
}

TEST_F(I8042Test, WriteOutputPortDrivesA20AndReset) {
  command(0xD1);
  send(0xCD);  // A20 off, reset line high
  EXPECT_EQ(a20_log, (std::vector<bool>{false}));
  EXPECT_TRUE(resets.empty());
  command(0xD1);
  send(0xCE);  // reset line low
  EXPECT_EQ(a20_log, (std::vector<bool>{false, true}));
  EXPECT_EQ(resets, (std::vector<std::string>{"i8042 output port reset line low"}));
  EXPECT_TRUE(drain().empty());  // neither write reached the keyboard
}

TEST_F(I8042Test, PulseCommandsReset) {
  command(0xFE);
  EXPECT_EQ(resets, (std::vector<std::string>{"i8042 command 0xFE"}));
  command(0xFF);  // pulses nothing
  command(0xF1);  // pulses bits 1-3 only
  EXPECT_EQ(resets.size(), 1u);
  command(0xF0);
  EXPECT_EQ(resets.back(), "i8042 command 0xF0");
  EXPECT_TRUE(a20_log.empty());
}

TEST_F(I8042Test, WriteBuffersAndAuxBytes) {
  quiet();
  command(0xD2);
  send(0x1C);
  EXPECT_EQ(status() & 0x21, 0x01);
  EXPECT_EQ(data(), 0x1C);
  command(0xD3);
  send(0x42);
  EXPECT_EQ(status() & 0x21, 0x21);  // aux data flagged in status bit 5
  EXPECT_EQ(data(), 0x42);
  command(0xD4);
  send(0xF4);  // to a mouse that is not there
  EXPECT_TRUE(drain().empty());
}

TEST_F(I8042Test, QueueIsBounded) {
  quiet();
  for (int i = 0; i < 40; ++i) command(0xAA);
  EXPECT_EQ(kbc.pending(), I8042::kQueueSize);
  EXPECT_EQ(drain(), Bytes(I8042::kQueueSize, 0x55));
}

TEST_F(I8042Test, ReadInputPortAnswersSoAPollingGuestGoesOn) {
  quiet();
  command(0xC0);
  EXPECT_EQ(drain(), Bytes{0x80});
}

}  // namespace
}  // namespace vtlab
