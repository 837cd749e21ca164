#include "devices/pit8254.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "devices/port61.h"

namespace vtlab {
namespace {

constexpr uint16_t kCounter0 = 0x40, kCounter2 = 0x42, kControl = 0x43, kPortB = 0x61;
using Edge = std::pair<uint64_t, bool>;  // virtual tick, IRQ0 level

uint64_t tick(uint64_t clock) { return Pit8254::time_of_clock(clock); }

// The PIT and port 0x61 on an I/O bus, on a virtual clock the test drives.
class PitTest : public ::testing::Test {
 protected:
  PitTest() {
    EXPECT_TRUE(io.insert(0x40, Pit8254::kPorts, &pit));
    EXPECT_TRUE(io.insert(kPortB, SystemControlPortB::kPorts, &port_b));
  }
  uint8_t in(uint16_t port) { return static_cast<uint8_t>(io.read(port, 1)); }
  void out(uint16_t port, uint8_t v) { io.write(port, 1, v); }
  // Virtual time moves to CLK edge `clock`; due timers run, as the engine
  // runs them at the instruction boundary.
  void at_clock(uint64_t clock) {
    t = tick(clock);
    clock_.run_due();
  }
  // Runs the timers one deadline at a time until virtual time `until`.
  void run_until(uint64_t until) {
    while (clock_.next_deadline() <= until) {
      t = clock_.next_deadline();
      clock_.run_due();
    }
    t = until;
  }
  void program(uint16_t port, uint8_t control, uint16_t count) {
    out(kControl, control);
    out(port, static_cast<uint8_t>(count));
    out(port, static_cast<uint8_t>(count >> 8));
  }
  uint16_t latched(unsigned channel) {
    out(kControl, static_cast<uint8_t>(channel << 6));
    const uint16_t lo = in(static_cast<uint16_t>(0x40 + channel));
    return static_cast<uint16_t>(lo | in(static_cast<uint16_t>(0x40 + channel)) << 8);
  }
  uint8_t status(unsigned channel) {
    out(kControl, static_cast<uint8_t>(0xE0 | 2u << channel));
    return in(static_cast<uint16_t>(0x40 + channel));
  }

  uint64_t t = 0;
  VirtualClock clock_{[this] { return t; }};
  std::vector<Edge> edges;
  Pit8254 pit{clock_, [this](bool level) { edges.push_back({t, level}); }};
  SystemControlPortB port_b{clock_, pit};
  IoBus io{"io"};
};

TEST_F(PitTest, ClockEdgesFallOnExactTicks) {
  EXPECT_EQ(tick(0), 0u);
  EXPECT_EQ(tick(1), 839u);  // 838.095... ns per edge, rounded up
  EXPECT_EQ(tick(100), 83810u);
  EXPECT_EQ(tick(1193182), 1'000'000'000u);
  EXPECT_EQ(Pit8254::clocks_at(838), 0u);
  EXPECT_EQ(Pit8254::clocks_at(839), 1u);
  for (uint64_t k : {2u, 65537u, 987654321u}) {
    EXPECT_EQ(Pit8254::clocks_at(tick(k)), k);
    EXPECT_EQ(Pit8254::clocks_at(tick(k) - 1), k - 1);
  }
}

TEST_F(PitTest, PowerOnChannel0IsMode3At18Hz) {
  EXPECT_TRUE(edges.empty());  // nothing called during construction
  EXPECT_EQ(status(0), 0xF6);  // OUT high, null count (loads on edge 1), LSB/MSB, mode 3
  EXPECT_EQ(pit.next_irq_change(), 27463539u);
  run_until(tick(65537 + 65536));
  EXPECT_EQ(edges, (std::vector<Edge>{
                       {27463539, false}, {54926240, true}, {tick(98305), false}, {tick(131073), true}}));
  EXPECT_EQ(status(0), 0xB6);
  EXPECT_EQ(status(2), 0xF6);  // gate low: waits for a trigger
  EXPECT_EQ(status(1), 0xB6);
}

TEST_F(PitTest, Mode2RaisesIrq0OnceEveryNClocks) {
  at_clock(7);
  edges.clear();
  program(kCounter0, 0x34, 100);  // written between edges 7 and 8
  EXPECT_TRUE(edges.empty());     // OUT already high
  run_until(tick(308));
  // Loaded on edge 8; OUT low while the count is 1 (edges 107, 207, 307).
  EXPECT_EQ(edges, (std::vector<Edge>{{tick(107), false},
                                      {tick(108), true},
                                      {tick(207), false},
                                      {tick(208), true},
                                      {tick(307), false},
                                      {tick(308), true}}));
  at_clock(8);
  EXPECT_EQ(latched(0), 100);
  at_clock(9);
  EXPECT_EQ(latched(0), 99);
  at_clock(107);
  EXPECT_EQ(latched(0), 1);
  at_clock(108);
  EXPECT_EQ(latched(0), 100);
}

TEST_F(PitTest, Mode2ExactTicksFromTimeZero) {
  program(kCounter0, 0x34, 100);
  run_until(200000);
  ASSERT_GE(edges.size(), 3u);
  EXPECT_EQ(edges[0], (Edge{83810, false}));
  EXPECT_EQ(edges[1], (Edge{84648, true}));
  EXPECT_EQ(edges[2], (Edge{tick(200), false}));
}

TEST_F(PitTest, Mode3EvenCountIsHalfHighHalfLow) {
  program(kCounter0, 0x36, 4);
  const uint16_t counts[] = {4, 2, 4, 2, 4, 2};
  const bool outs[] = {true, true, false, false, true, true};
  for (unsigned i = 0; i < 6; ++i) {
    at_clock(1 + i);
    EXPECT_EQ(latched(0), counts[i]) << i;
    EXPECT_EQ(pit.out(0), outs[i]) << i;
  }
}

TEST_F(PitTest, Mode3OddCountIsHighOneClockLonger) {
  program(kCounter0, 0x36, 5);
  const uint16_t counts[] = {4, 2, 0, 4, 2, 4, 2, 0};
  const bool outs[] = {true, true, true, false, false, true, true, true};
  for (unsigned i = 0; i < 8; ++i) {
    at_clock(1 + i);
    EXPECT_EQ(latched(0), counts[i]) << i;
    EXPECT_EQ(pit.out(0), outs[i]) << i;
  }
  edges.clear();
  run_until(tick(16));
  EXPECT_EQ(edges, (std::vector<Edge>{{tick(9), false}, {tick(11), true}, {tick(14), false},
                                      {tick(16), true}}));
}

TEST_F(PitTest, Mode0GoesHighAtTerminalCountAndStays) {
  at_clock(3);
  edges.clear();
  out(kControl, 0x30);
  EXPECT_EQ(edges, (std::vector<Edge>{{tick(3), false}}));  // OUT low at the control word
  out(kCounter0, 10);
  EXPECT_EQ(status(0) & 0x40, 0x40);  // null count until loaded
  out(kCounter0, 0);
  at_clock(4);
  EXPECT_EQ(status(0), 0x30);  // OUT low, count loaded, LSB/MSB, mode 0
  EXPECT_EQ(latched(0), 10);
  at_clock(13);
  EXPECT_EQ(latched(0), 1);
  EXPECT_FALSE(pit.out(0));
  run_until(tick(20));
  EXPECT_EQ(edges, (std::vector<Edge>{{tick(3), false}, {tick(14), true}}));  // N + 1 after the write
  EXPECT_EQ(latched(0), 0xFFFA);  // keeps counting down past zero
  EXPECT_TRUE(pit.out(0));
  EXPECT_EQ(clock_.next_deadline(), VirtualClock::kNever);  // no timer while nothing changes
}

TEST_F(PitTest, Mode0FirstByteStopsCountingAndNewCountRestarts) {
  program(kCounter0, 0x30, 1000);
  at_clock(101);
  EXPECT_EQ(latched(0), 900);
  out(kCounter0, 0x10);  // LSB of a new count: counting stops
  at_clock(150);
  EXPECT_EQ(latched(0), 900);
  EXPECT_EQ(pit.counter(0).count, 900);
  out(kCounter0, 0x00);  // MSB: 16 loads on the next edge
  at_clock(151);
  EXPECT_EQ(latched(0), 16);
  edges.clear();
  run_until(tick(200));
  EXPECT_EQ(edges, (std::vector<Edge>{{tick(167), true}}));
  // Rewriting the count drops OUT again.
  program(kCounter0, 0x30, 2);
  EXPECT_FALSE(pit.out(0));
  EXPECT_EQ(edges.back(), (Edge{tick(200), false}));
}

TEST_F(PitTest, Mode2NewCountWaitsForTheEndOfTheCycle) {
  program(kCounter0, 0x34, 100);  // loaded at edge 1, reloads at 101, 201
  at_clock(50);
  out(kCounter0, 10);
  out(kCounter0, 0);
  EXPECT_TRUE(pit.counter(0).null_count);
  at_clock(60);
  EXPECT_EQ(latched(0), 41);  // still the old count
  edges.clear();
  run_until(tick(125));
  EXPECT_EQ(edges, (std::vector<Edge>{{tick(100), false}, {tick(101), true}, {tick(110), false},
                                      {tick(111), true}, {tick(120), false}, {tick(121), true}}));
  EXPECT_FALSE(pit.counter(0).null_count);
  EXPECT_EQ(pit.counter(0).initial, 10);
}

TEST_F(PitTest, Mode3NewCountWaitsForTheEndOfTheHalfCycle) {
  program(kCounter0, 0x36, 100);  // high 1-50, low 51-100, high from 101
  at_clock(20);
  out(kCounter0, 20);
  out(kCounter0, 0);
  edges.clear();
  run_until(tick(95));
  // The first half ends at 51 and the low half of 20 runs 51-60.
  EXPECT_EQ(edges, (std::vector<Edge>{{tick(51), false}, {tick(61), true}, {tick(71), false},
                                      {tick(81), true}, {tick(91), false}}));
  at_clock(52);
  EXPECT_EQ(pit.counter(0).count, 18);
}

TEST_F(PitTest, CounterLatchHoldsTheCountUntilRead) {
  program(kCounter0, 0x34, 1000);
  at_clock(11);
  out(kControl, 0x00);  // latch counter 0
  at_clock(500);
  out(kControl, 0x00);  // ignored: the first latch is unread
  EXPECT_TRUE(pit.counter(0).count_latched);
  EXPECT_EQ(in(kCounter0), 990 & 0xFF);
  at_clock(600);
  EXPECT_EQ(in(kCounter0), 990 >> 8);
  EXPECT_FALSE(pit.counter(0).count_latched);
  EXPECT_EQ(in(kCounter0), 401 & 0xFF);  // live again: loaded at edge 1, 599 edges ago
  EXPECT_EQ(in(kCounter0), 401 >> 8);
}

TEST_F(PitTest, LoHiFlipFlopsAndSingleByteAccess) {
  program(kCounter0, 0x34, 0x1234);
  at_clock(1);
  EXPECT_EQ(in(kCounter0), 0x34);
  EXPECT_EQ(in(kCounter0), 0x12);
  EXPECT_EQ(in(kCounter0), 0x34);
  out(kControl, 0x14);  // LSB only, mode 2
  out(kCounter0, 0x80);
  at_clock(2);
  EXPECT_EQ(pit.counter(0).initial, 0x80);
  EXPECT_EQ(in(kCounter0), 0x80);
  EXPECT_EQ(in(kCounter0), 0x80);
  out(kControl, 0x24);  // MSB only: count = v << 8
  out(kCounter0, 0x02);
  at_clock(3);
  EXPECT_EQ(pit.counter(0).initial, 0x0200);
  EXPECT_EQ(in(kCounter0), 0x02);
  at_clock(4);
  EXPECT_EQ(in(kCounter0), 0x01);  // 0x01FF
  EXPECT_EQ(in(kControl), 0xFF);   // write-only
  // Channel 2 holds 0 until its gate first rises; the control port floats.
  EXPECT_EQ(io.read(0x42, 2), 0xFF00u);
}

TEST_F(PitTest, ReadBackLatchesStatusThenCount) {
  program(kCounter0, 0x34, 300);
  program(kCounter2, 0xB0, 50);  // mode 0, gate low: loaded, not counting
  at_clock(21);
  out(kControl, 0xCA);  // read-back count and status of counters 0 and 2
  at_clock(40);
  EXPECT_EQ(in(kCounter0), 0x34 | 0x80);  // OUT high, not null
  EXPECT_EQ(in(kCounter0), (300 - 20) & 0xFF);
  EXPECT_EQ(in(kCounter0), (300 - 20) >> 8);
  EXPECT_EQ(in(kCounter2), 0x30);
  EXPECT_EQ(in(kCounter2), 50);
  EXPECT_EQ(in(kCounter2), 0);
  out(kControl, 0xE4);  // status only, counter 1
  EXPECT_EQ(in(0x41), 0xB6);
  out(kControl, 0xD2);  // count only, counter 0
  out(kControl, 0xE2);  // then status: read first anyway
  EXPECT_EQ(in(kCounter0), 0xB4);
  EXPECT_EQ(in(kCounter0), (300 - 39) & 0xFF);
}

TEST_F(PitTest, BcdCountsInDecimal) {
  program(kCounter0, 0x31, 0x0100);  // mode 0, BCD 100
  at_clock(1);
  EXPECT_EQ(latched(0), 0x0100);
  at_clock(2);
  EXPECT_EQ(latched(0), 0x0099);
  at_clock(55);
  EXPECT_EQ(latched(0), 0x0046);
  run_until(tick(102));
  EXPECT_EQ(edges.back(), (Edge{tick(101), true}));
  EXPECT_EQ(latched(0), 0x9999);
  program(kCounter0, 0x31, 0x0000);  // 0 = 10000
  at_clock(103);
  EXPECT_EQ(latched(0), 0x0000);
  at_clock(104);
  EXPECT_EQ(latched(0), 0x9999);
  run_until(tick(10103));
  EXPECT_EQ(edges.back(), (Edge{tick(10103), true}));
}

TEST_F(PitTest, CountZeroIs65536) {
  program(kCounter0, 0x34, 0);
  at_clock(1);
  EXPECT_EQ(latched(0), 0);
  at_clock(2);
  EXPECT_EQ(latched(0), 0xFFFF);
  edges.clear();
  run_until(tick(65537));
  EXPECT_EQ(edges, (std::vector<Edge>{{tick(65536), false}, {tick(65537), true}}));
}

TEST_F(PitTest, GateOfChannel2ComesFromPort61) {
  program(kCounter2, 0xB0, 5);  // mode 0, gate low
  at_clock(10);
  EXPECT_EQ(latched(2), 5);
  EXPECT_EQ(in(kPortB) & 0x21, 0x00);
  out(kPortB, 0x01);  // gate high between edges 10 and 11
  EXPECT_TRUE(pit.gate(2));
  at_clock(12);
  EXPECT_EQ(latched(2), 3);
  out(kPortB, 0x00);  // paused
  at_clock(30);
  EXPECT_EQ(latched(2), 3);
  EXPECT_FALSE(pit.out(2));
  out(kPortB, 0x01);
  at_clock(32);
  EXPECT_EQ(latched(2), 1);
  at_clock(33);
  EXPECT_TRUE(pit.out(2));
  EXPECT_EQ(in(kPortB) & 0x21, 0x21);  // OUT2 on bit 5
  EXPECT_TRUE(edges.empty());          // channel 2 never touches IRQ0
}

TEST_F(PitTest, GateLowStopsMode2AndATriggerRestartsIt) {
  out(kPortB, 0x01);
  program(kCounter2, 0xB4, 10);  // mode 2, loaded on edge 1
  at_clock(10);
  EXPECT_FALSE(pit.out(2));  // count 1: the low pulse
  out(kPortB, 0x00);
  EXPECT_TRUE(pit.out(2));  // gate low forces OUT high at once
  at_clock(15);
  EXPECT_EQ(latched(2), 1);
  out(kPortB, 0x01);  // trigger: reload on edge 16, low N edges later
  at_clock(16);
  EXPECT_EQ(latched(2), 10);
  at_clock(25);
  EXPECT_FALSE(pit.out(2));
  at_clock(26);
  EXPECT_TRUE(pit.out(2));
}

TEST_F(PitTest, Mode1IsAOneShotTriggeredByGate) {
  program(kCounter2, 0xB2, 3);
  at_clock(10);
  EXPECT_TRUE(pit.out(2));
  EXPECT_TRUE(pit.counter(2).null_count);
  out(kPortB, 0x01);  // trigger
  at_clock(11);
  EXPECT_FALSE(pit.out(2));
  EXPECT_EQ(latched(2), 3);
  at_clock(13);
  EXPECT_FALSE(pit.out(2));
  at_clock(14);
  EXPECT_TRUE(pit.out(2));
  out(kPortB, 0x00);
  out(kPortB, 0x01);  // retrigger
  at_clock(15);
  EXPECT_FALSE(pit.out(2));
}

TEST_F(PitTest, Modes4And5StrobeOneClock) {
  program(kCounter0, 0x38, 4);  // mode 4 on channel 0
  edges.clear();
  run_until(tick(10));
  EXPECT_EQ(edges, (std::vector<Edge>{{tick(5), false}, {tick(6), true}}));
  program(kCounter2, 0xBA, 2);  // mode 5 waits for a trigger
  at_clock(20);
  EXPECT_TRUE(pit.out(2));
  out(kPortB, 0x01);
  at_clock(23);
  EXPECT_FALSE(pit.out(2));  // N + 1 edges after the trigger
  at_clock(24);
  EXPECT_TRUE(pit.out(2));
}

TEST_F(PitTest, ALateTimerStillDeliversTheRisingEdge) {
  program(kCounter0, 0x34, 100);
  t = tick(150);  // past both edges of the first period
  clock_.run_due();
  EXPECT_EQ(edges, (std::vector<Edge>{{tick(150), false}, {tick(150), true}}));
}

TEST_F(PitTest, ControlWordStopsTheCounterUntilANewCount) {
  program(kCounter0, 0x34, 100);
  at_clock(51);
  out(kControl, 0x34);  // same mode, no count yet
  EXPECT_EQ(status(0), 0xF4);  // OUT high, null count
  EXPECT_EQ(clock_.next_deadline(), VirtualClock::kNever);
  at_clock(500);
  EXPECT_EQ(latched(0), 50);  // the element stopped where it was
  EXPECT_TRUE(edges.empty());
  out(kCounter0, 3);
  out(kCounter0, 0);
  run_until(tick(504));
  EXPECT_EQ(edges, (std::vector<Edge>{{tick(503), false}, {tick(504), true}}));
}

TEST_F(PitTest, ReadAndWriteFlipFlopsAreSeparate) {
  program(kCounter0, 0x34, 0x0500);
  at_clock(1);
  out(kCounter0, 0x40);  // LSB of a new count
  EXPECT_EQ(in(kCounter0), 0x00);  // reads still start with the LSB
  out(kCounter0, 0x00);  // MSB completes 0x0040, loaded at the end of the cycle
  EXPECT_EQ(in(kCounter0), 0x05);
  EXPECT_EQ(pit.counter(0).initial, 0x0040);
}

TEST_F(PitTest, Mode3GateLowForcesOutHighAndTriggerRestarts) {
  out(kPortB, 0x01);
  program(kCounter2, 0xB6, 6);  // loaded on edge 1: high 1-3, low 4-6
  at_clock(5);
  EXPECT_FALSE(pit.out(2));
  EXPECT_EQ(in(kPortB) & 0x20, 0x00);
  out(kPortB, 0x00);
  EXPECT_TRUE(pit.out(2));
  at_clock(9);
  EXPECT_EQ(latched(2), 4);  // held
  EXPECT_TRUE(pit.out(2));
  out(kPortB, 0x01);
  at_clock(10);
  EXPECT_EQ(latched(2), 6);
  at_clock(13);
  EXPECT_FALSE(pit.out(2));
}

TEST_F(PitTest, Mode4NewCountRestartsTheStrobe) {
  program(kCounter0, 0x38, 10);
  at_clock(5);
  out(kCounter0, 4);
  out(kCounter0, 0);  // loaded on edge 6, strobe at 10
  edges.clear();
  run_until(tick(20));
  EXPECT_EQ(edges, (std::vector<Edge>{{tick(10), false}, {tick(11), true}}));
}

TEST_F(PitTest, CountOfOneKeepsOutHighInModes2And3) {
  program(kCounter0, 0x34, 1);
  run_until(tick(50));
  EXPECT_TRUE(edges.empty());
  EXPECT_TRUE(pit.out(0));
  EXPECT_EQ(clock_.next_deadline(), VirtualClock::kNever);
  program(kCounter0, 0x36, 1);
  run_until(tick(100));
  EXPECT_TRUE(edges.empty());
}

TEST_F(PitTest, BcdDigitsAboveNineCountWithBinaryWeight) {
  program(kCounter0, 0x31, 0x001A);  // "1A" = 10 + 10 = 20
  at_clock(1);
  EXPECT_EQ(latched(0), 0x0020);
  EXPECT_EQ(pit.counter(0).initial, 0x001A);
  EXPECT_TRUE(pit.counter(0).bcd);
}

TEST_F(PitTest, ResetRestoresPowerOnAndReportsOut) {
  out(kControl, 0x30);  // mode 0: OUT low
  ASSERT_EQ(edges.size(), 1u);
  at_clock(10);
  pit.reset();
  EXPECT_EQ(edges.back(), (Edge{tick(10), true}));
  const Pit8254::CounterView v = pit.counter(0);
  EXPECT_EQ(v.mode, 3);
  EXPECT_EQ(v.access, 3);
  EXPECT_EQ(v.initial, 0);
  EXPECT_TRUE(v.null_count);
  EXPECT_EQ(pit.next_irq_change(), tick(11 + 32768));
}

// Linux's pit_calibrate_tsc: gate on, speaker off, channel 2 in mode 0,
// then spin on port 0x61 bit 5 until the terminal count.
TEST_F(PitTest, LinuxCalibrationLoopSeesOut2RiseAtTerminalCount) {
  out(kPortB, static_cast<uint8_t>((in(kPortB) & ~0x02) | 0x01));
  out(kControl, 0xB0);
  out(kCounter2, 0x9C);  // 0x2E9C = 11932, 10 ms
  out(kCounter2, 0x2E);
  EXPECT_EQ(in(kPortB) & 0x20, 0x00);
  t = tick(11932);
  EXPECT_EQ(in(kPortB) & 0x20, 0x00);
  t = tick(11933) - 1;
  EXPECT_EQ(in(kPortB) & 0x20, 0x00);
  t = tick(11933);
  EXPECT_EQ(in(kPortB) & 0x20, 0x20);
}

TEST_F(PitTest, Port61StoresLowBitsAndTogglesRefresh) {
  out(kPortB, 0xFF);
  EXPECT_EQ(in(kPortB), 0x2F);  // refresh low; OUT2 high: mode 3 starts high
  EXPECT_TRUE(port_b.speaker_enabled());
  t = 15084;
  EXPECT_EQ(in(kPortB) & 0x10, 0x00);
  t = 15085;
  EXPECT_EQ(in(kPortB) & 0x10, 0x10);
  t = 30169;
  EXPECT_EQ(in(kPortB) & 0x10, 0x10);
  t = 30170;
  EXPECT_EQ(in(kPortB) & 0x10, 0x00);
  out(kPortB, 0x02);
  EXPECT_EQ(in(kPortB) & 0x0F, 0x02);
  EXPECT_FALSE(pit.gate(2));
}

}  // namespace
}  // namespace vtlab
