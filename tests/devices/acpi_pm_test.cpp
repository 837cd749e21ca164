#include "devices/acpi_pm.h"

#include <gtest/gtest.h>

#include <string>

#include "core/snapshot.h"

namespace vtlab {
namespace {

using P = AcpiPm;

// The PM block as the OS sees it: on an I/O bus at 0x600, with virtual time
// moved by hand, the SCI line's changes recorded ('1' rise, '0' fall) and
// power-off requests counted.
class AcpiPmTest : public ::testing::Test {
 protected:
  AcpiPmTest() { EXPECT_TRUE(io.insert(P::kBase, P::kPorts, &pm)); }
  uint64_t in(unsigned offset, unsigned size) { return io.read(P::kBase + offset, size); }
  void out(unsigned offset, unsigned size, uint64_t v) { io.write(P::kBase + offset, size, v); }
  void advance_to(uint64_t when) {
    t = when;
    clock.run_due();
  }

  uint64_t t = 0;
  VirtualClock clock{[this] { return t; }};
  std::string sci;
  int power_offs = 0;
  P pm{clock, [this](bool level) { sci.push_back(level ? '1' : '0'); }, [this] { ++power_offs; }};
  IoBus io{"io"};
};

TEST_F(AcpiPmTest, PowerOnState) {
  EXPECT_EQ(in(P::PM1_STS, 2), 0x0000u);
  EXPECT_EQ(in(P::PM1_EN, 2), 0x0000u);
  EXPECT_EQ(in(P::PM1_CNT, 2), 0x0001u);  // SCI_EN: already in ACPI mode
  EXPECT_EQ(in(P::PM_TMR, 4), 0u);
  EXPECT_EQ(in(6, 2), 0xFFFFu);  // no register between PM1_CNT and PM_TMR
  EXPECT_EQ(sci, "");
}

TEST_F(AcpiPmTest, TimerCounts3579545HzOnVirtualTimeIn24Bits) {
  advance_to(1000);
  EXPECT_EQ(in(P::PM_TMR, 4), 3u);  // 3.579545 counts in 1 us, rounded down
  advance_to(1'000'000'000);
  EXPECT_EQ(in(P::PM_TMR, 4), 0x369E99u);  // 3579545
  EXPECT_EQ(in(P::PM_TMR + 1, 1), 0x9Eu);
  EXPECT_EQ(in(P::PM_TMR + 2, 2), 0x0036u);
  advance_to(5'000'000'000);
  EXPECT_EQ(in(P::PM_TMR, 4), 0x1118FDu);  // 17897725 wrapped at 2^24; bits 31:24 read 0
  out(P::PM_TMR, 4, 0);                     // read-only
  EXPECT_EQ(pm.timer(), 0x1118FDu);
}

TEST_F(AcpiPmTest, EnableAndControlKeepOnlyTheirDefinedBits) {
  out(P::PM1_EN, 2, 0xFFFF);
  EXPECT_EQ(in(P::PM1_EN, 2), 0x4721u);  // TMR, GBL, PWRBTN, SLPBTN, RTC, PCIEXP_WAKE_DIS
  out(P::PM1_EN + 1, 1, 0x00);           // a byte write reaches the high half only
  EXPECT_EQ(in(P::PM1_EN, 2), 0x0021u);
  out(P::PM1_CNT, 2, 0x0C06);            // SLP_TYP 3, GBL_RLS, BM_RLD; SCI_EN 0 ignored
  EXPECT_EQ(in(P::PM1_CNT, 2), 0x0C03u);
  EXPECT_EQ(pm.ignored_sleeps(), 0u);
  EXPECT_EQ(in(P::PM1_STS, 4), 0x00210000u);  // a dword read covers status and enable
}

TEST_F(AcpiPmTest, SlpEnWithSlpTyp5PowersOff) {
  out(P::PM1_CNT, 2, 0x1400);  // SLP_TYP 5 without SLP_EN: nothing yet
  EXPECT_EQ(power_offs, 0);
  EXPECT_EQ(in(P::PM1_CNT, 2), 0x1401u);
  out(P::PM1_CNT, 2, 0x3400);  // | SLP_EN
  EXPECT_EQ(power_offs, 1);
  EXPECT_EQ(in(P::PM1_CNT, 2), 0x1401u);  // SLP_EN is write-only
  out(P::PM1_CNT + 1, 1, 0x34);          // the same as a byte write (Linux writes a word)
  EXPECT_EQ(power_offs, 2);
}

TEST_F(AcpiPmTest, OtherSleepStatesAreIgnoredAndCounted) {
  out(P::PM1_CNT, 2, 0x2400);  // S1 (SLP_TYP 1)
  out(P::PM1_CNT, 2, 0x2000);  // SLP_TYP 0
  EXPECT_EQ(power_offs, 0);
  EXPECT_EQ(pm.ignored_sleeps(), 2u);
}

TEST_F(AcpiPmTest, TmrStsSetsWhenBit23ChangesAndRaisesTheSciWhenEnabled) {
  advance_to(2'343'484'437);  // count 0x7FFFFF
  EXPECT_EQ(in(P::PM_TMR, 4), 0x7FFFFFu);
  EXPECT_EQ(in(P::PM1_STS, 2), 0u);
  advance_to(2'343'484'438);  // count 0x800000: bit 23 rose
  EXPECT_EQ(in(P::PM1_STS, 2), 0x0001u);
  EXPECT_EQ(sci, "");  // TMR_EN clear
  out(P::PM1_EN, 2, P::kTmr);
  EXPECT_EQ(sci, "1");
  out(P::PM1_STS, 2, 0xFFFE);  // writing 0 to TMR_STS leaves it
  EXPECT_EQ(in(P::PM1_STS, 2), 0x0001u);
  out(P::PM1_STS, 2, P::kTmr);  // write 1 to clear
  EXPECT_EQ(in(P::PM1_STS, 2), 0u);
  EXPECT_EQ(sci, "10");
  // The next change (bit 23 falling as the count wraps) fires the SCI at
  // exactly the first virtual time the count reaches 2^24.
  EXPECT_EQ(clock.next_deadline(), 4'686'968'875u);
  advance_to(4'686'968'874);
  EXPECT_EQ(sci, "10");
  advance_to(4'686'968'875);
  EXPECT_EQ(sci, "101");
  EXPECT_EQ(in(P::PM_TMR, 4), 0u);
  out(P::PM1_EN, 2, 0);
  EXPECT_EQ(sci, "1010");
  EXPECT_EQ(clock.next_deadline(), VirtualClock::kNever);
}

TEST_F(AcpiPmTest, ResetAndSnapshot) {
  out(P::PM1_EN, 2, 0x0100);
  out(P::PM1_CNT, 2, 0x0C02);
  SnapshotWriter w;
  pm.save(w);
  const auto bytes = w.take();
  pm.reset();
  EXPECT_EQ(in(P::PM1_EN, 2), 0u);
  EXPECT_EQ(in(P::PM1_CNT, 2), 1u);
  SnapshotReader r(bytes);
  ASSERT_TRUE(pm.load(r));
  EXPECT_EQ(in(P::PM1_EN, 2), 0x0100u);
  EXPECT_EQ(in(P::PM1_CNT, 2), 0x0C03u);
}

}  // namespace
}  // namespace vtlab
