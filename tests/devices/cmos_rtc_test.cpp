#include "devices/cmos_rtc.h"

#include <gtest/gtest.h>

#include <vector>

namespace vtlab {
namespace {

using R = CmosRtc;
constexpr uint64_t kIndexPort = 0x70, kDataPort = 0x71;
constexpr uint64_t kSecond = 1'000'000'000;
constexpr uint64_t kMiB = 1ull << 20;

// The RTC as a guest sees it: on an I/O bus at 0x70, with virtual time that
// the test moves by hand.
class CmosRtcTest : public ::testing::Test {
 protected:
  explicit CmosRtcTest(uint64_t ram = 128 * kMiB, int64_t epoch = R::kDefaultEpoch)
      : rtc(clock, [this](bool level) { irq_log.push_back(level); }, ram, epoch) {
    EXPECT_TRUE(io.insert(kIndexPort, R::kPorts, &rtc));
  }
  uint8_t reg(uint8_t index) {
    io.write(kIndexPort, 1, index);
    return static_cast<uint8_t>(io.read(kDataPort, 1));
  }
  void set(uint8_t index, uint8_t v) {
    io.write(kIndexPort, 1, index);
    io.write(kDataPort, 1, v);
  }
  // Moves virtual time to `tick` and runs the timers due, as the engine
  // does at an instruction boundary.
  void at(uint64_t tick) {
    t = tick;
    clock.run_due();
  }
  std::vector<uint8_t> time_regs() {
    return {reg(R::kSeconds), reg(R::kMinutes), reg(R::kHours), reg(R::kDayOfWeek),
            reg(R::kDayOfMonth), reg(R::kMonth), reg(R::kYear), reg(R::kCentury)};
  }

  uint64_t t = 0;
  VirtualClock clock{[this] { return t; }};
  std::vector<bool> irq_log;
  CmosRtc rtc;
  IoBus io{"io"};
};

using Bytes = std::vector<uint8_t>;

TEST_F(CmosRtcTest, PowerOnRegisters) {
  EXPECT_EQ(reg(R::kRegA), 0x26);  // 32.768 kHz divider, 1024 Hz rate
  EXPECT_EQ(reg(R::kRegB), 0x02);  // 24-hour, BCD
  EXPECT_EQ(reg(R::kRegC), 0x00);
  EXPECT_EQ(reg(R::kRegD), 0x80);  // VRT
  EXPECT_EQ(io.read(kIndexPort, 1), 0xFFu);  // the index port is write-only
  EXPECT_FALSE(rtc.irq_line());
  EXPECT_FALSE(clock.armed(0));  // no interrupt enabled, no timer
}

TEST_F(CmosRtcTest, EpochReadsAsBcdDate) {
  // 2025-01-01 00:00:00 was a Wednesday: day of week 4 (Sunday = 1).
  EXPECT_EQ(time_regs(), (Bytes{0x00, 0x00, 0x00, 0x04, 0x01, 0x01, 0x25, 0x20}));
  at(3661 * kSecond + kSecond / 2);
  EXPECT_EQ(time_regs(), (Bytes{0x01, 0x01, 0x01, 0x04, 0x01, 0x01, 0x25, 0x20}));
  EXPECT_EQ(rtc.unix_time(), R::kDefaultEpoch + 3661);
}

TEST_F(CmosRtcTest, BinaryAndTwelveHourFormats) {
  at((23 * 3600 + 45 * 60 + 59) * kSecond + kSecond / 2);  // 23:45:59.5
  EXPECT_EQ(time_regs(), (Bytes{0x59, 0x45, 0x23, 0x04, 0x01, 0x01, 0x25, 0x20}));
  set(R::kRegB, 0x06);  // binary, 24-hour
  EXPECT_EQ(time_regs(), (Bytes{59, 45, 23, 4, 1, 1, 25, 20}));
  set(R::kRegB, 0x04);  // binary, 12-hour: 11 PM
  EXPECT_EQ(reg(R::kHours), 0x80 | 11);
  set(R::kRegB, 0x00);  // BCD, 12-hour
  EXPECT_EQ(reg(R::kHours), 0x91);
  EXPECT_EQ(rtc.unix_time(), R::kDefaultEpoch + 85559);  // format changes keep the time
}

TEST_F(CmosRtcTest, TwelveHourMidnightAndNoon) {
  set(R::kRegB, 0x00);
  EXPECT_EQ(reg(R::kHours), 0x12);  // 12 AM
  at(12 * 3600 * kSecond);
  EXPECT_EQ(reg(R::kHours), 0x92);  // 12 PM
  at(13 * 3600 * kSecond);
  EXPECT_EQ(reg(R::kHours), 0x81);  // 1 PM
}

TEST_F(CmosRtcTest, CalendarCarriesThroughMonthsAndLeapDay) {
  at(59 * 86400 * kSecond);  // 2025-03-01, a Saturday
  EXPECT_EQ(time_regs(), (Bytes{0x00, 0x00, 0x00, 0x07, 0x01, 0x03, 0x25, 0x20}));
  at(99705600 * kSecond);  // 2028-02-29, a Tuesday
  EXPECT_EQ(time_regs(), (Bytes{0x00, 0x00, 0x00, 0x03, 0x29, 0x02, 0x28, 0x20}));
}

class CmosRtcCenturyTest : public CmosRtcTest {
 protected:
  CmosRtcCenturyTest() : CmosRtcTest(128 * kMiB, 4102444799) {}  // 2099-12-31 23:59:59
};

TEST_F(CmosRtcCenturyTest, CenturyRollsOver) {
  EXPECT_EQ(time_regs(), (Bytes{0x59, 0x59, 0x23, 0x05, 0x31, 0x12, 0x99, 0x20}));
  at(kSecond);  // 2100-01-01, a Friday
  EXPECT_EQ(time_regs(), (Bytes{0x00, 0x00, 0x00, 0x06, 0x01, 0x01, 0x00, 0x21}));
}

TEST_F(CmosRtcTest, UipCoversTheLast244MicrosecondsBeforeEachUpdate) {
  // 32760 of the second's 32768 divider cycles have passed at 999755859.375 ns.
  at(999'755'859);
  EXPECT_EQ(reg(R::kRegA), 0x26);
  at(999'755'860);
  EXPECT_EQ(reg(R::kRegA), 0xA6);
  at(kSecond - 1);
  EXPECT_EQ(reg(R::kRegA), 0xA6);
  EXPECT_EQ(reg(R::kSeconds), 0x00);  // still the old second
  at(kSecond);
  EXPECT_EQ(reg(R::kRegA), 0x26);
  EXPECT_EQ(reg(R::kSeconds), 0x01);
  set(R::kRegA, 0xA6);  // UIP is read-only
  EXPECT_EQ(reg(R::kRegA), 0x26);
}

TEST_F(CmosRtcTest, SetFreezesTheClockAndItRunsOnFromTheWrittenTime) {
  at(10 * kSecond + kSecond / 4);
  set(R::kRegB, 0x92);  // SET with UIE: SET clears UIE
  EXPECT_EQ(reg(R::kRegB), 0x82);
  at(20 * kSecond - 1);
  EXPECT_EQ(reg(R::kSeconds), 0x10);  // frozen
  EXPECT_EQ(reg(R::kRegA), 0x26);     // no UIP while SET
  set(R::kSeconds, 0x30);
  set(R::kMinutes, 0x15);
  set(R::kHours, 0x08);
  set(R::kDayOfWeek, 0x05);
  set(R::kDayOfMonth, 0x04);
  set(R::kMonth, 0x07);
  set(R::kYear, 0x24);
  EXPECT_EQ(reg(R::kSeconds), 0x30);  // read back as written
  at(20 * kSecond + kSecond / 2);
  set(R::kRegB, 0x02);
  EXPECT_EQ(rtc.unix_time(), 1720080930);  // 2024-07-04 08:15:30
  at(21 * kSecond - 1);
  EXPECT_EQ(reg(R::kSeconds), 0x30);
  at(21 * kSecond);  // the divider keeps its phase: the next update is on time
  EXPECT_EQ(time_regs(), (Bytes{0x31, 0x15, 0x08, 0x05, 0x04, 0x07, 0x24, 0x20}));
}

TEST_F(CmosRtcTest, TimeWrittenInBinaryTwelveHourMode) {
  set(R::kRegB, 0x84);  // SET, binary, 12-hour
  set(R::kSeconds, 58);
  set(R::kMinutes, 59);
  set(R::kHours, 0x80 | 11);  // 11 PM
  set(R::kDayOfMonth, 31);
  set(R::kMonth, 12);
  set(R::kYear, 99);
  set(R::kCentury, 19);
  set(R::kDayOfWeek, 6);  // Friday
  set(R::kRegB, 0x04);
  EXPECT_EQ(rtc.unix_time(), 946684798);  // 1999-12-31 23:59:58
  at(2 * kSecond);
  EXPECT_EQ(time_regs(), (Bytes{0, 0, 12, 7, 1, 1, 0, 20}));  // 12 AM, 2000-01-01
}

TEST_F(CmosRtcTest, DayOfWeekCountsFromWhatTheGuestWrote) {
  set(R::kDayOfWeek, 0x01);  // wrong on purpose (it is a Wednesday)
  EXPECT_EQ(reg(R::kDayOfWeek), 0x01);
  at(86400 * kSecond);
  EXPECT_EQ(reg(R::kDayOfWeek), 0x02);
  at(3 * 86400 * kSecond);
  EXPECT_EQ(reg(R::kDayOfWeek), 0x04);
}

TEST_F(CmosRtcTest, DividerResetHoldsTimeAndFirstUpdateComesHalfASecondLater) {
  at(5 * kSecond + 300'000'000);
  EXPECT_EQ(reg(R::kRegC), 0x50);
  set(R::kRegA, 0x76);  // divider chain in reset
  at(7 * kSecond);
  EXPECT_EQ(reg(R::kSeconds), 0x05);
  EXPECT_EQ(reg(R::kRegC), 0x00);  // no periodic edges, no updates
  set(R::kRegA, 0x26);
  at(7 * kSecond + kSecond / 2 - 1);
  EXPECT_EQ(reg(R::kSeconds), 0x05);
  at(7 * kSecond + kSecond / 2);
  EXPECT_EQ(reg(R::kSeconds), 0x06);
  at(8 * kSecond + kSecond / 2);
  EXPECT_EQ(reg(R::kSeconds), 0x07);
}

TEST_F(CmosRtcTest, FlagsWithoutInterruptsAndRegisterCClears) {
  at(kSecond + kSecond / 2);
  EXPECT_EQ(reg(R::kRegC), 0x50);  // PF (1024 Hz edges) and UF; no IRQF
  EXPECT_EQ(reg(R::kRegC), 0x00);  // the read cleared them
  EXPECT_FALSE(clock.armed(0));
  EXPECT_TRUE(irq_log.empty());
}

TEST_F(CmosRtcTest, PeriodicInterruptAtExactTicks) {
  set(R::kRegB, 0x42);  // PIE at 1024 Hz: an edge every 976562.5 ns
  EXPECT_EQ(clock.deadline(0), 976'563u);
  at(976'562);
  EXPECT_FALSE(rtc.irq_line());
  at(976'563);
  EXPECT_TRUE(rtc.irq_line());
  EXPECT_FALSE(clock.armed(0));  // the line is up: nothing more to time
  at(1'500'000);
  EXPECT_EQ(reg(R::kRegC), 0xC0);
  EXPECT_FALSE(rtc.irq_line());
  EXPECT_EQ(clock.deadline(0), 1'953'125u);
  at(1'953'125);
  EXPECT_TRUE(rtc.irq_line());
  at(2'000'000);
  EXPECT_EQ(reg(R::kRegC), 0xC0);
  EXPECT_EQ(clock.deadline(0), 2'929'688u);
  EXPECT_EQ(irq_log, (std::vector<bool>{true, false, true, false}));
  set(R::kRegA, 0x2F);  // 2 Hz: edges on the half second
  EXPECT_EQ(clock.deadline(0), kSecond / 2);
  set(R::kRegB, 0x02);  // PIE off: the timer stops
  EXPECT_FALSE(clock.armed(0));
}

TEST_F(CmosRtcTest, EnablingWithAFlagPendingRaisesAtOnce) {
  at(kSecond / 100);
  set(R::kRegB, 0x42);
  EXPECT_TRUE(rtc.irq_line());
  set(R::kRegB, 0x02);  // disabling drops IRQF and the line
  EXPECT_FALSE(rtc.irq_line());
  EXPECT_EQ(reg(R::kRegC), 0x40);
}

TEST_F(CmosRtcTest, UpdateEndedInterrupt) {
  set(R::kRegA, 0x20);  // no periodic rate
  set(R::kRegB, 0x12);
  EXPECT_EQ(clock.deadline(0), kSecond);
  at(kSecond - 1);
  EXPECT_FALSE(rtc.irq_line());
  at(kSecond);
  EXPECT_TRUE(rtc.irq_line());
  EXPECT_EQ(reg(R::kRegC), 0x90);
  EXPECT_EQ(clock.deadline(0), 2 * kSecond);
}

TEST_F(CmosRtcTest, AlarmInterrupt) {
  set(R::kRegA, 0x20);
  set(R::kSecondsAlarm, 0x05);
  set(R::kMinutesAlarm, 0x00);
  set(R::kHoursAlarm, 0x00);
  set(R::kRegB, 0x22);
  at(4 * kSecond);
  EXPECT_FALSE(rtc.irq_line());
  EXPECT_EQ(reg(R::kRegC), 0x10);  // updates happened, no alarm yet
  at(5 * kSecond);
  EXPECT_TRUE(rtc.irq_line());
  EXPECT_EQ(reg(R::kRegC), 0xB0);  // IRQF | AF | UF
  at(6 * kSecond);
  EXPECT_FALSE(rtc.irq_line());
}

TEST_F(CmosRtcTest, AlarmDontCareMatchesEverySecond) {
  set(R::kRegA, 0x20);
  set(R::kSecondsAlarm, 0xC0);
  set(R::kMinutesAlarm, 0xFF);
  set(R::kHoursAlarm, 0xC5);
  set(R::kRegB, 0x22);
  at(kSecond);
  EXPECT_TRUE(rtc.irq_line());
  EXPECT_EQ(reg(R::kRegC), 0xB0);
}

TEST_F(CmosRtcTest, AlarmFlagFoundAfterALongGap) {
  set(R::kSecondsAlarm, 0x00);
  set(R::kMinutesAlarm, 0x30);
  set(R::kHoursAlarm, 0x03);
  at(3 * 3600 * kSecond);
  EXPECT_EQ(reg(R::kRegC) & 0x20, 0x00);
  at(3 * 86400 * kSecond);  // passed 03:30:00 three times
  EXPECT_EQ(reg(R::kRegC), 0x70);
  set(R::kHoursAlarm, 0x24);  // never matches
  at(10 * 86400 * kSecond);
  EXPECT_EQ(reg(R::kRegC), 0x50);
}

TEST_F(CmosRtcTest, MemoryBytesFor128MiB) {
  EXPECT_EQ(reg(R::kBaseMemLo), 0x80);  // 640 KiB
  EXPECT_EQ(reg(R::kBaseMemHi), 0x02);
  EXPECT_EQ(reg(R::kExtMemLo), 0xFF);  // 130048 KiB, capped
  EXPECT_EQ(reg(R::kExtMemHi), 0xFF);
  EXPECT_EQ(reg(R::kExtMem2Lo), 0xFF);
  EXPECT_EQ(reg(R::kExtMem2Hi), 0xFF);
  EXPECT_EQ(reg(R::kHighMemLo), 0x00);  // 112 MiB = 0x0700 * 64 KiB
  EXPECT_EQ(reg(R::kHighMemHi), 0x07);
  EXPECT_EQ(reg(R::kEquipment), 0x04);
  // 0x80 + 0x02 + 0xFF + 0xFF + 0x04 = 0x284
  EXPECT_EQ(reg(R::kChecksumHi), 0x02);
  EXPECT_EQ(reg(R::kChecksumLo), 0x84);
}

class CmosRtc3GiBTest : public CmosRtcTest {
 protected:
  CmosRtc3GiBTest() : CmosRtcTest(3072 * kMiB) {}
};

TEST_F(CmosRtc3GiBTest, MemoryBytesFor3GiB) {
  EXPECT_EQ(reg(R::kExtMemLo), 0xFF);
  EXPECT_EQ(reg(R::kExtMemHi), 0xFF);
  EXPECT_EQ(reg(R::kHighMemLo), 0x00);  // (3 GiB - 16 MiB) / 64 KiB = 0xBF00
  EXPECT_EQ(reg(R::kHighMemHi), 0xBF);
  EXPECT_EQ(reg(R::kChecksumHi), 0x02);
  EXPECT_EQ(reg(R::kChecksumLo), 0x84);
}

class CmosRtcSmallRamTest : public CmosRtcTest {
 protected:
  CmosRtcSmallRamTest() : CmosRtcTest(15 * kMiB) {}
};

TEST_F(CmosRtcSmallRamTest, MemoryBytesFor15MiB) {
  EXPECT_EQ(reg(R::kExtMemLo), 0x00);  // 14336 KiB = 0x3800
  EXPECT_EQ(reg(R::kExtMemHi), 0x38);
  EXPECT_EQ(reg(R::kHighMemLo), 0x00);
  EXPECT_EQ(reg(R::kHighMemHi), 0x00);
  // 0x80 + 0x02 + 0x38 + 0x04 = 0xBE
  EXPECT_EQ(reg(R::kChecksumHi), 0x00);
  EXPECT_EQ(reg(R::kChecksumLo), 0xBE);
}

TEST_F(CmosRtcTest, IndexWrapsAndRamRoundTrips) {
  io.write(kIndexPort, 1, 0xBF);  // NMI masked, index 0x3F
  EXPECT_TRUE(rtc.nmi_masked());
  io.write(kDataPort, 1, 0x5A);
  EXPECT_EQ(reg(0x3F), 0x5A);
  EXPECT_FALSE(rtc.nmi_masked());
  set(0x7F, 0xA5);
  EXPECT_EQ(reg(0xFF), 0xA5);  // index bits 6-0 only
  set(R::kRegD, 0x00);  // read-only
  EXPECT_EQ(reg(R::kRegD), 0x80);
  set(R::kRegC, 0xF0);
  EXPECT_EQ(reg(R::kRegC), 0x00);
  // A word write puts the index and the data in one access.
  io.write(kIndexPort, 2, 0x6640);
  EXPECT_EQ(reg(0x40), 0x66);
  EXPECT_EQ(io.read(kIndexPort, 2), 0x66FFu);
}

TEST_F(CmosRtcTest, GarbageTimeBytesNormalise) {
  set(R::kRegB, 0x86);  // SET, binary, 24-hour
  for (uint8_t i : {R::kSeconds, R::kMinutes, R::kHours, R::kDayOfMonth, R::kMonth, R::kYear,
                    R::kCentury, R::kDayOfWeek})
    set(i, 0xFF);
  set(R::kRegB, 0x06);
  // 25599-(255 months)-(day 255) 255:255:255, carried arithmetically; the
  // point is a definite answer and no crash.
  const int64_t t = rtc.unix_time();
  at(kSecond);
  EXPECT_EQ(rtc.unix_time(), t + 1);
}

}  // namespace
}  // namespace vtlab
