// The PIT's IRQ0 through the PIC to the CPU's INTR pin, wired as a PC
// wires them (and as core/machine.cpp should): a guest's timer tick end
// to end, at exact virtual times.
#include <gtest/gtest.h>

#include <random>

#include "devices/pic8259.h"
#include "devices/pit8254.h"
#include "devices/port61.h"

namespace vtlab {
namespace {

class TimerInterruptTest : public ::testing::Test {
 protected:
  TimerInterruptTest() {
    EXPECT_TRUE(io.insert(0x20, DualPic::kPorts, &pic.master()));
    EXPECT_TRUE(io.insert(0xA0, DualPic::kPorts, &pic.slave()));
    EXPECT_TRUE(io.insert(0x40, Pit8254::kPorts, &pit));
    EXPECT_TRUE(io.insert(0x61, SystemControlPortB::kPorts, &port_b));
    EXPECT_TRUE(io.insert(0x4D0, DualPic::kPorts, &pic.elcr()));
    // Linux's init_8259A, then only IRQ0 (and the cascade) unmasked.
    for (auto [port, v] : {std::pair{0x20, 0x11}, {0x21, 0x30}, {0x21, 0x04}, {0x21, 0x01},
                           {0xA0, 0x11}, {0xA1, 0x38}, {0xA1, 0x02}, {0xA1, 0x01},
                           {0x21, 0xFA}, {0xA1, 0xFF}})
      io.write(port, 1, v);
  }
  // Runs virtual time up to `until` the way the engine does: to each timer
  // deadline, timers first, then the CPU looks at INTR.  Returns the tick
  // of every interrupt taken, EOI-ing each at once.
  std::vector<std::pair<uint64_t, uint8_t>> run(uint64_t until) {
    std::vector<std::pair<uint64_t, uint8_t>> taken;
    while (clock.next_deadline() <= until) {
      t = clock.next_deadline();
      clock.run_due();
      if (pic.intr_pending()) {
        taken.push_back({t, pic.acknowledge()});
        io.write(0x20, 1, 0x20);
      }
    }
    t = until;
    return taken;
  }

  uint64_t t = 0;
  VirtualClock clock{[this] { return t; }};
  int intr_changes = 0;
  DualPic pic{[this] { ++intr_changes; }};
  Pit8254 pit{clock, [this](bool level) { pic.set_irq(0, level); }};
  SystemControlPortB port_b{clock, pit};
  IoBus io{"io"};
};

TEST_F(TimerInterruptTest, Mode2At1000HzTicksEvery1193Clocks) {
  io.write(0x43, 1, 0x34);
  io.write(0x40, 1, 1193 & 0xFF);
  io.write(0x40, 1, 1193 >> 8);
  const auto taken = run(3'000'000);
  // Loaded on edge 1; OUT rises on edges 1194, 2387 (every 1193 clocks).
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_EQ(taken[0], (std::pair<uint64_t, uint8_t>{Pit8254::time_of_clock(1194), 0x30}));
  EXPECT_EQ(taken[1], (std::pair<uint64_t, uint8_t>{Pit8254::time_of_clock(2387), 0x30}));
  EXPECT_EQ(taken[0].first, 1'000'686u);
}

TEST_F(TimerInterruptTest, Mode3At100HzAndAMaskedTickIsHeldInIrr) {
  io.write(0x43, 1, 0x36);
  io.write(0x40, 1, 11932 & 0xFF);
  io.write(0x40, 1, 11932 >> 8);
  auto taken = run(25'000'000);
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_EQ(taken[0].first, Pit8254::time_of_clock(11933));
  EXPECT_EQ(taken[1].first, Pit8254::time_of_clock(23865));
  io.write(0x21, 1, 0xFB);  // mask IRQ0
  taken = run(40'000'000);
  EXPECT_TRUE(taken.empty());
  EXPECT_EQ(pic.irr(DualPic::kMaster), 0x01);
  io.write(0x21, 1, 0xFA);
  EXPECT_TRUE(pic.intr_pending());
  EXPECT_EQ(pic.acknowledge(), 0x30);
}

// Whatever a guest writes, in whatever order and width: no crash, no timer
// left due after run_due, and the INTR the CPU sees is the one reported.
TEST_F(TimerInterruptTest, RandomGuestAccessesKeepEverythingConsistent) {
  std::mt19937_64 rng(4);
  const uint16_t ports[] = {0x20, 0x21, 0xA0, 0xA1, 0x40, 0x41, 0x42, 0x43, 0x61, 0x4D0, 0x4D1};
  bool reported = pic.intr_pending();
  int seen_changes = intr_changes;
  for (int i = 0; i < 200000; ++i) {
    const uint64_t r = rng();
    const uint16_t port = ports[r % std::size(ports)];
    const unsigned size = 1u << (r >> 8 & 3) % 3;  // 1, 2 or 4 bytes
    switch (r >> 12 & 7) {
      case 0:
      case 1:
        io.write(port, size, r >> 16);
        break;
      case 2:
        io.read(port, size);
        break;
      case 3:
        pic.set_irq(r >> 16 & 15, r >> 20 & 1);
        break;
      case 4:
        t += r >> 16 & 0xFFFFF;  // up to ~1 ms
        clock.run_due();
        ASSERT_GT(clock.next_deadline(), t);
        break;
      default:
        if (pic.intr_pending()) pic.acknowledge();
        break;
    }
    // IntrChanged fired exactly when the output flipped.
    if (pic.intr_pending() != reported) {
      ASSERT_GT(intr_changes, seen_changes);
      reported = pic.intr_pending();
    }
    seen_changes = intr_changes;
  }
}

}  // namespace
}  // namespace vtlab
