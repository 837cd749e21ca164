// VirtualClock: rate conversions and timer ordering on virtual time.
#include "core/clock.h"

#include <gtest/gtest.h>

#include <string>

namespace vtlab {
namespace {

TEST(VirtualClockTest, ConvertsDeviceRatesExactly) {
  // One PIT period (1.193182 MHz) is 838.095... ns: whole ticks, rounded down.
  EXPECT_EQ(VirtualClock::to_ticks(1, 1'193'182), 838u);
  EXPECT_EQ(VirtualClock::to_ticks(1'193'182, 1'193'182), 1'000'000'000u);
  EXPECT_EQ(VirtualClock::from_ticks(1'000'000'000, 1'193'182), 1'193'182u);
  EXPECT_EQ(VirtualClock::from_ticks(838, 1'193'182), 0u);
  EXPECT_EQ(VirtualClock::from_ticks(839, 1'193'182), 1u);
  // No overflow in the intermediate product.
  EXPECT_EQ(VirtualClock::to_ticks(uint64_t{1} << 40, 1'000'000'000), uint64_t{1} << 40);
  EXPECT_EQ(VirtualClock::to_ticks(~uint64_t{0}, 1), VirtualClock::kNever);
}

TEST(VirtualClockTest, FiresDueTimersEarliestFirstAndAllowsRearming) {
  uint64_t now = 0;
  VirtualClock clock([&] { return now; });
  std::string log;
  VirtualClock::TimerId periodic = 0;
  uint64_t period_end = 10;
  const auto a = clock.add_timer("a", [&] { log += "a"; });
  periodic = clock.add_timer("p", [&] {
    log += "p";
    period_end += 10;
    clock.arm(periodic, period_end);
  });
  const auto c = clock.add_timer("c", [&] { log += "c"; });
  EXPECT_EQ(clock.next_deadline(), VirtualClock::kNever);
  clock.arm(c, 30);
  clock.arm(a, 30);
  clock.arm(periodic, 10);
  EXPECT_EQ(clock.next_deadline(), 10u);
  now = 9;
  clock.run_due();
  EXPECT_EQ(log, "");
  now = 10;
  clock.run_due();
  EXPECT_EQ(log, "p");  // re-armed for 20
  EXPECT_EQ(clock.deadline(periodic), 20u);
  now = 35;
  clock.run_due();
  // p at 20; then a, p and c all at 30, in registration order.
  EXPECT_EQ(log, "ppapc");
  EXPECT_FALSE(clock.armed(a));
  EXPECT_EQ(clock.next_deadline(), 40u);
  clock.disarm(periodic);
  EXPECT_EQ(clock.next_deadline(), VirtualClock::kNever);
  EXPECT_EQ(clock.name(c), "c");
}

TEST(VirtualClockTest, WakesTheEngineOnlyWhenTheNextDeadlineMovesEarlier) {
  uint64_t now = 0;
  VirtualClock clock([&] { return now; });
  int wakes = 0;
  clock.set_wake([&] { ++wakes; });
  const auto t = clock.add_timer("t", [] {});
  const auto u = clock.add_timer("u", [] {});
  clock.arm(t, 100);
  EXPECT_EQ(wakes, 1);
  clock.arm(u, 200);
  EXPECT_EQ(wakes, 1);
  clock.arm(u, 50);
  EXPECT_EQ(wakes, 2);
  clock.arm(u, 300);  // later: the engine may run longer, no need to wake it
  EXPECT_EQ(wakes, 2);
  EXPECT_EQ(clock.next_deadline(), 100u);
}

}  // namespace
}  // namespace vtlab
