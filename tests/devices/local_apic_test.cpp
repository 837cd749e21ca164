#include "devices/local_apic.h"

#include <gtest/gtest.h>

namespace vtlab {
namespace {

using A = LocalApic;

constexpr uint32_t kSvrEnabled = 0x1FF;      // spurious vector 0xFF, APIC on
constexpr uint32_t kIcrSelf = 1u << 18;      // destination shorthand "self"
constexpr uint32_t kIcrAllButSelf = 3u << 18;
constexpr uint32_t kIcrLogical = 1u << 11;

// An 8259A stand-in behind LINT0: one interrupt waiting or none.
class FakePic : public InterruptController {
 public:
  bool intr_pending() override { return pending; }
  uint8_t acknowledge() override {
    ++acks;
    pending = false;
    return vector;
  }
  bool pending = false;
  uint8_t vector = 0x20;
  int acks = 0;
};

// The APIC as the CPU sees it: 32-bit loads and stores at its offsets, the
// INTR/INTA interface, and virtual time the test moves by hand.
class LocalApicTest : public ::testing::Test {
 protected:
  uint32_t rd(uint32_t reg) { return static_cast<uint32_t>(apic.read(reg, 4)); }
  void wr(uint32_t reg, uint32_t v) { apic.write(reg, 4, v); }
  void advance_to(uint64_t when) {
    t = when;
    clock.run_due();
  }
  // The CPU taking every interrupt the APIC offers and finishing it at once.
  int take_and_eoi_all() {
    int n = 0;
    while (apic.intr_pending()) {
      apic.acknowledge();
      wr(A::EOI, 0);
      ++n;
    }
    return n;
  }
  void self_ipi(uint8_t vector) { wr(A::ICR_LOW, kIcrSelf | vector); }
  // IRR/ISR/TMR word `n` of the register at `base`.
  uint32_t word(uint32_t base, unsigned n) { return rd(base + 0x10 * n); }
  uint32_t latched_esr() {
    wr(A::ESR, 0);
    return rd(A::ESR);
  }

  uint64_t t = 0;
  VirtualClock clock{[this] { return t; }};
  int changes = 0;
  A apic{clock, [this] { ++changes; }};
};

TEST_F(LocalApicTest, PowerOnState) {
  EXPECT_EQ(rd(A::ID), 0u);
  EXPECT_EQ(rd(A::VERSION), 0x00050014u);  // version 0x14, max LVT entry 5
  EXPECT_EQ(rd(A::TPR), 0u);
  EXPECT_EQ(rd(A::APR), 0u);
  EXPECT_EQ(rd(A::PPR), 0u);
  EXPECT_EQ(rd(A::LDR), 0u);
  EXPECT_EQ(rd(A::DFR), 0xFFFFFFFFu);
  EXPECT_EQ(rd(A::SVR), 0xFFu);
  for (unsigned n = 0; n < 8; ++n) {
    EXPECT_EQ(word(A::ISR0, n), 0u);
    EXPECT_EQ(word(A::TMR0, n), 0u);
    EXPECT_EQ(word(A::IRR0, n), 0u);
  }
  EXPECT_EQ(rd(A::ESR), 0u);
  EXPECT_EQ(rd(A::ICR_LOW), 0u);
  EXPECT_EQ(rd(A::ICR_HIGH), 0u);
  EXPECT_EQ(rd(A::LVT_TIMER), 0x10000u);
  EXPECT_EQ(rd(A::LVT_THERMAL), 0x10000u);
  EXPECT_EQ(rd(A::LVT_PERF), 0x10000u);
  EXPECT_EQ(rd(A::LVT_LINT0), 0x700u);  // virtual wire, as QEMU resets the BSP
  EXPECT_EQ(rd(A::LVT_LINT1), 0x10000u);
  EXPECT_EQ(rd(A::LVT_ERROR), 0x10000u);
  EXPECT_EQ(rd(A::TIMER_INITIAL), 0u);
  EXPECT_EQ(rd(A::TIMER_CURRENT), 0u);
  EXPECT_EQ(rd(A::TIMER_DIVIDE), 0u);
  EXPECT_FALSE(apic.intr_pending());
  ASSERT_EQ(clock.timer_count(), 1u);
  EXPECT_EQ(clock.name(0), "local-apic timer");
  EXPECT_FALSE(clock.armed(0));
}

TEST_F(LocalApicTest, ResetRestoresPowerOnState) {
  wr(A::SVR, kSvrEnabled);
  wr(A::TPR, 0x20);
  wr(A::LVT_TIMER, 0x30);
  wr(A::TIMER_INITIAL, 100);
  self_ipi(0x40);
  apic.reset();
  EXPECT_EQ(rd(A::SVR), 0xFFu);
  EXPECT_EQ(rd(A::TPR), 0u);
  EXPECT_EQ(rd(A::LVT_TIMER), 0x10000u);
  EXPECT_EQ(rd(A::LVT_LINT0), 0x700u);
  EXPECT_EQ(word(A::IRR0, 2), 0u);
  EXPECT_EQ(rd(A::TIMER_CURRENT), 0u);
  EXPECT_FALSE(clock.armed(0));
}

TEST_F(LocalApicTest, IdIsBits31To24AndVersionIsReadOnly) {
  wr(A::ID, 0x12345678);
  EXPECT_EQ(rd(A::ID), 0x12000000u);
  wr(A::VERSION, 0);
  wr(A::PPR, 0xFF);
  wr(A::APR, 0xFF);
  EXPECT_EQ(rd(A::VERSION), 0x00050014u);
  EXPECT_EQ(rd(A::PPR), 0u);
  EXPECT_EQ(rd(A::APR), 0u);
  EXPECT_EQ(latched_esr(), 0u);  // read-only registers are not illegal
}

TEST_F(LocalApicTest, WritableBitsOfEachRegister) {
  wr(A::SVR, 0xFFFFFFFF);
  EXPECT_EQ(rd(A::SVR), 0x1FFu);
  wr(A::TPR, 0xFFFFFFFF);
  EXPECT_EQ(rd(A::TPR), 0xFFu);
  wr(A::TPR, 0);
  wr(A::LDR, 0xFFFFFFFF);
  EXPECT_EQ(rd(A::LDR), 0xFF000000u);
  wr(A::DFR, 0);
  EXPECT_EQ(rd(A::DFR), 0x0FFFFFFFu);  // bits 27:0 are reserved ones
  wr(A::ICR_HIGH, 0xFFFFFFFF);
  EXPECT_EQ(rd(A::ICR_HIGH), 0xFF000000u);
  wr(A::TIMER_DIVIDE, 0xFFFFFFFF);
  EXPECT_EQ(rd(A::TIMER_DIVIDE), 0x0Bu);
  const uint32_t regs[] = {A::LVT_TIMER, A::LVT_THERMAL, A::LVT_PERF,
                           A::LVT_LINT0, A::LVT_LINT1, A::LVT_ERROR};
  const uint32_t expect[] = {0x000300FF, 0x000107FF, 0x000107FF, 0x0001A7FF, 0x0001A7FF, 0x000100FF};
  for (int i = 0; i < 6; ++i) {
    wr(regs[i], 0xFFFFFFFF);
    EXPECT_EQ(rd(regs[i]), expect[i]) << i;
  }
  // Mode 2 (TSC-deadline) is not offered: bit 18 is reserved.
  wr(A::LVT_TIMER, 0x40030);
  EXPECT_EQ(rd(A::LVT_TIMER), 0x30u);
  // IRR, ISR, TMR are read-only.
  wr(A::IRR0 + 0x20, 0xFFFFFFFF);
  wr(A::ISR0 + 0x20, 0xFFFFFFFF);
  EXPECT_EQ(word(A::IRR0, 2), 0u);
  EXPECT_EQ(word(A::ISR0, 2), 0u);
}

TEST_F(LocalApicTest, PprIsTprOrTheInServiceClass) {
  wr(A::SVR, kSvrEnabled);
  wr(A::TPR, 0x35);
  EXPECT_EQ(rd(A::PPR), 0x35u);
  self_ipi(0x51);
  ASSERT_TRUE(apic.intr_pending());
  EXPECT_EQ(apic.acknowledge(), 0x51);
  EXPECT_EQ(rd(A::PPR), 0x50u);  // ISR class 5 above TPR class 3: sub-class 0
  wr(A::TPR, 0x57);
  EXPECT_EQ(rd(A::PPR), 0x57u);  // equal classes: TPR whole
  wr(A::TPR, 0x60);
  EXPECT_EQ(rd(A::PPR), 0x60u);
  wr(A::TPR, 0);
  wr(A::EOI, 0);
  EXPECT_EQ(rd(A::PPR), 0u);
}

TEST_F(LocalApicTest, TprBlocksClassesAtOrBelowIt) {
  wr(A::SVR, kSvrEnabled);
  wr(A::TPR, 0x4F);
  self_ipi(0x4E);
  EXPECT_FALSE(apic.intr_pending());  // class 4 is not above class 4
  self_ipi(0x50);
  ASSERT_TRUE(apic.intr_pending());
  EXPECT_EQ(apic.acknowledge(), 0x50);
  wr(A::EOI, 0);
  EXPECT_FALSE(apic.intr_pending());
  wr(A::TPR, 0x3F);
  ASSERT_TRUE(apic.intr_pending());
  EXPECT_EQ(apic.acknowledge(), 0x4E);
}

TEST_F(LocalApicTest, IrrToIsrToEoiWithNestedPriorities) {
  wr(A::SVR, kSvrEnabled);
  self_ipi(0x40);
  EXPECT_EQ(word(A::IRR0, 2), 0x1u);
  ASSERT_TRUE(apic.intr_pending());
  EXPECT_EQ(apic.acknowledge(), 0x40);
  EXPECT_EQ(word(A::IRR0, 2), 0u);
  EXPECT_EQ(word(A::ISR0, 2), 0x1u);
  self_ipi(0x45);  // same class as the one in service: waits
  EXPECT_EQ(word(A::IRR0, 2), 0x20u);
  EXPECT_FALSE(apic.intr_pending());
  self_ipi(0x80);  // higher class: nests
  ASSERT_TRUE(apic.intr_pending());
  EXPECT_EQ(apic.acknowledge(), 0x80);
  EXPECT_EQ(word(A::ISR0, 4), 0x1u);
  EXPECT_EQ(rd(A::PPR), 0x80u);
  EXPECT_FALSE(apic.intr_pending());
  wr(A::EOI, 0);  // retires 0x80, the highest in service
  EXPECT_EQ(word(A::ISR0, 4), 0u);
  EXPECT_EQ(word(A::ISR0, 2), 0x1u);
  EXPECT_EQ(rd(A::PPR), 0x40u);
  EXPECT_FALSE(apic.intr_pending());
  wr(A::EOI, 0);  // retires 0x40
  EXPECT_EQ(word(A::ISR0, 2), 0u);
  ASSERT_TRUE(apic.intr_pending());
  EXPECT_EQ(apic.acknowledge(), 0x45);
  wr(A::EOI, 0);
  wr(A::EOI, 0);  // nothing in service: harmless
  EXPECT_EQ(word(A::ISR0, 2), 0u);
  EXPECT_FALSE(apic.intr_pending());
  EXPECT_EQ(word(A::TMR0, 2), 0u);  // all edge-triggered
}

TEST_F(LocalApicTest, IntrChangedOnEveryPendingStateChange) {
  int before = changes;
  wr(A::SVR, kSvrEnabled);
  EXPECT_EQ(changes, ++before);
  wr(A::TPR, 0x10);
  EXPECT_EQ(changes, ++before);
  self_ipi(0x40);
  EXPECT_EQ(changes, ++before);
  apic.acknowledge();
  wr(A::EOI, 0);
  EXPECT_EQ(changes, ++before);
  wr(A::LVT_LINT0, 0x10700);
  EXPECT_EQ(changes, ++before);
  wr(A::LDR, 0);
  EXPECT_EQ(changes, before);
}

TEST_F(LocalApicTest, IrrIsHeldWhileSoftwareDisabled) {
  self_ipi(0x40);  // the APIC may still send while disabled (SDM 10.4.7.2)
  EXPECT_EQ(word(A::IRR0, 2), 0x1u);
  EXPECT_FALSE(apic.intr_pending());
  wr(A::SVR, kSvrEnabled);
  ASSERT_TRUE(apic.intr_pending());
  EXPECT_EQ(apic.acknowledge(), 0x40);
}

TEST_F(LocalApicTest, SoftwareDisableForcesLvtMasks) {
  wr(A::LVT_TIMER, 0x30);  // disabled since reset: the mask stays set
  EXPECT_EQ(rd(A::LVT_TIMER), 0x10030u);
  wr(A::SVR, kSvrEnabled);
  wr(A::LVT_TIMER, 0x30);
  wr(A::LVT_ERROR, 0xEE);
  wr(A::LVT_LINT1, 0x400);
  EXPECT_EQ(rd(A::LVT_TIMER), 0x30u);
  wr(A::SVR, 0xFF);  // explicit disable: every entry masked
  EXPECT_EQ(rd(A::LVT_TIMER), 0x10030u);
  EXPECT_EQ(rd(A::LVT_ERROR), 0x100EEu);
  EXPECT_EQ(rd(A::LVT_LINT0), 0x10700u);
  EXPECT_EQ(rd(A::LVT_LINT1), 0x10400u);
  EXPECT_EQ(rd(A::LVT_THERMAL), 0x10000u);
  wr(A::LVT_TIMER, 0x31);  // clearing the mask is ignored
  EXPECT_EQ(rd(A::LVT_TIMER), 0x10031u);
  wr(A::TIMER_INITIAL, 10);
  advance_to(100);  // past the expiry at 20 (divide by 2)
  EXPECT_EQ(word(A::IRR0, 1), 0u);
  wr(A::SVR, kSvrEnabled);  // enabling leaves the masks for software to clear
  EXPECT_EQ(rd(A::LVT_TIMER), 0x10031u);
}

// One-shot: the count reaches 0 (and interrupts) initial * divisor ticks
// after the initial-count write, for every divide configuration.
TEST_F(LocalApicTest, OneShotTimerAtExactTicksForEachDivider) {
  struct Case {
    uint32_t code, divisor;
  };
  const Case cases[] = {{0x0, 2}, {0x1, 4}, {0x2, 8}, {0x3, 16},
                        {0x8, 32}, {0x9, 64}, {0xA, 128}, {0xB, 1}};
  wr(A::SVR, kSvrEnabled);
  wr(A::LVT_TIMER, 0x30);
  uint64_t t0 = 1000;
  for (const Case& c : cases) {
    advance_to(t0);
    wr(A::TIMER_DIVIDE, c.code);
    EXPECT_EQ(apic.timer_divisor(), c.divisor);
    wr(A::TIMER_INITIAL, 10);
    EXPECT_EQ(apic.timer_deadline(), t0 + 10 * c.divisor);
    EXPECT_EQ(rd(A::TIMER_CURRENT), 10u);
    advance_to(t0 + c.divisor - 1);
    EXPECT_EQ(rd(A::TIMER_CURRENT), 10u);
    advance_to(t0 + c.divisor);
    EXPECT_EQ(rd(A::TIMER_CURRENT), 9u);
    advance_to(t0 + 10 * c.divisor - 1);
    EXPECT_EQ(rd(A::TIMER_CURRENT), 1u);
    EXPECT_EQ(word(A::IRR0, 1), 0u) << c.divisor;
    advance_to(t0 + 10 * c.divisor);
    EXPECT_EQ(word(A::IRR0, 1), 0x10000u) << c.divisor;  // vector 0x30
    EXPECT_EQ(rd(A::TIMER_CURRENT), 0u);
    EXPECT_FALSE(clock.armed(0));
    EXPECT_EQ(take_and_eoi_all(), 1);
    advance_to(t0 + 100 * c.divisor);
    EXPECT_EQ(word(A::IRR0, 1), 0u);  // one shot only
    t0 = t + 7;
  }
}

TEST_F(LocalApicTest, PeriodicTimerReloadsEveryPeriod) {
  wr(A::SVR, kSvrEnabled);
  wr(A::LVT_TIMER, 0x20030);  // periodic, vector 0x30
  wr(A::TIMER_DIVIDE, 0x1);   // divide by 4
  t = 500;
  wr(A::TIMER_INITIAL, 5);    // a period of 20 ticks
  for (uint64_t k = 1; k <= 3; ++k) {
    advance_to(500 + 20 * k - 1);
    EXPECT_EQ(rd(A::TIMER_CURRENT), 1u);
    EXPECT_EQ(take_and_eoi_all(), 0) << k;
    advance_to(500 + 20 * k);
    EXPECT_EQ(rd(A::TIMER_CURRENT), 5u);  // reloaded
    EXPECT_EQ(take_and_eoi_all(), 1) << k;
    EXPECT_EQ(clock.deadline(0), 500 + 20 * (k + 1));
    advance_to(500 + 20 * k + 4);
    EXPECT_EQ(rd(A::TIMER_CURRENT), 4u);
  }
}

TEST_F(LocalApicTest, PeriodicTimerDividerOneCountsEveryTick) {
  wr(A::SVR, kSvrEnabled);
  wr(A::LVT_TIMER, 0x20031);
  wr(A::TIMER_DIVIDE, 0xB);
  wr(A::TIMER_INITIAL, 1000);
  int fired = 0;
  for (uint64_t when = 1; when <= 10'000; ++when) {
    advance_to(when);
    fired += take_and_eoi_all();
    EXPECT_EQ(rd(A::TIMER_CURRENT), 1000 - when % 1000) << when;
  }
  EXPECT_EQ(fired, 10);
}

TEST_F(LocalApicTest, MaskedTimerCountsWithoutInterrupting) {
  wr(A::SVR, kSvrEnabled);
  wr(A::LVT_TIMER, 0x10030);
  wr(A::TIMER_DIVIDE, 0xB);
  wr(A::TIMER_INITIAL, 100);
  advance_to(50);
  EXPECT_EQ(rd(A::TIMER_CURRENT), 50u);
  advance_to(100);
  EXPECT_EQ(rd(A::TIMER_CURRENT), 0u);
  EXPECT_EQ(word(A::IRR0, 1), 0u);
  EXPECT_FALSE(clock.armed(0));  // one-shot done: no timer left armed
  // Periodic and masked: the count still wraps; unmasking lets the next
  // expiry through.
  wr(A::LVT_TIMER, 0x30030);
  wr(A::TIMER_INITIAL, 100);
  advance_to(250);
  EXPECT_EQ(rd(A::TIMER_CURRENT), 50u);
  EXPECT_EQ(word(A::IRR0, 1), 0u);
  wr(A::LVT_TIMER, 0x20030);
  advance_to(300);
  EXPECT_EQ(word(A::IRR0, 1), 0x10000u);
}

TEST_F(LocalApicTest, InitialCountZeroStopsTheTimer) {
  wr(A::SVR, kSvrEnabled);
  wr(A::LVT_TIMER, 0x20030);
  wr(A::TIMER_DIVIDE, 0xB);
  wr(A::TIMER_INITIAL, 100);
  advance_to(30);
  EXPECT_TRUE(clock.armed(0));
  wr(A::TIMER_INITIAL, 0);
  EXPECT_FALSE(clock.armed(0));
  EXPECT_EQ(rd(A::TIMER_CURRENT), 0u);
  EXPECT_EQ(apic.timer_deadline(), VirtualClock::kNever);
  advance_to(1000);
  EXPECT_EQ(word(A::IRR0, 1), 0u);
}

TEST_F(LocalApicTest, RewritingInitialCountRestartsTheCount) {
  wr(A::SVR, kSvrEnabled);
  wr(A::LVT_TIMER, 0x30);
  wr(A::TIMER_DIVIDE, 0xB);
  wr(A::TIMER_INITIAL, 100);
  advance_to(90);
  wr(A::TIMER_INITIAL, 100);
  advance_to(100);
  EXPECT_EQ(rd(A::TIMER_CURRENT), 90u);
  EXPECT_EQ(word(A::IRR0, 1), 0u);
  advance_to(190);
  EXPECT_EQ(word(A::IRR0, 1), 0x10000u);
}

TEST_F(LocalApicTest, DivideChangeKeepsTheCountAndRestartsThePhase) {
  wr(A::SVR, kSvrEnabled);
  wr(A::LVT_TIMER, 0x30);
  wr(A::TIMER_DIVIDE, 0xB);
  wr(A::TIMER_INITIAL, 100);
  advance_to(40);
  wr(A::TIMER_DIVIDE, 0x0);  // divide by 2 from now on
  EXPECT_EQ(rd(A::TIMER_CURRENT), 60u);
  advance_to(41);
  EXPECT_EQ(rd(A::TIMER_CURRENT), 60u);
  advance_to(42);
  EXPECT_EQ(rd(A::TIMER_CURRENT), 59u);
  advance_to(40 + 2 * 60 - 1);
  EXPECT_EQ(word(A::IRR0, 1), 0u);
  advance_to(40 + 2 * 60);
  EXPECT_EQ(word(A::IRR0, 1), 0x10000u);
}

TEST_F(LocalApicTest, PeriodicToOneShotFinishesThePeriod) {
  wr(A::SVR, kSvrEnabled);
  wr(A::LVT_TIMER, 0x20030);
  wr(A::TIMER_DIVIDE, 0xB);
  wr(A::TIMER_INITIAL, 100);
  advance_to(230);
  EXPECT_EQ(take_and_eoi_all(), 1);  // the expiries at 100 and 200 coalesce
  wr(A::LVT_TIMER, 0x30);
  EXPECT_EQ(rd(A::TIMER_CURRENT), 70u);
  advance_to(300);
  EXPECT_EQ(take_and_eoi_all(), 1);
  EXPECT_FALSE(clock.armed(0));
  advance_to(400);
  EXPECT_EQ(take_and_eoi_all(), 0);
}

TEST_F(LocalApicTest, SelfIpiViaShorthandAndOwnId) {
  wr(A::SVR, kSvrEnabled);
  self_ipi(0x41);
  EXPECT_EQ(rd(A::ICR_LOW), kIcrSelf | 0x41);  // delivery status reads idle
  EXPECT_EQ(word(A::IRR0, 2), 0x2u);
  wr(A::ID, 0x05000000);
  wr(A::ICR_HIGH, 0x05000000);
  wr(A::ICR_LOW, 0x42);  // fixed, physical destination 5 = own ID
  EXPECT_EQ(word(A::IRR0, 2), 0x6u);
  wr(A::ICR_HIGH, 0xFF000000);
  wr(A::ICR_LOW, 0x43);  // physical broadcast includes this CPU
  wr(A::ICR_LOW, (2u << 18) | 0x44);  // all including self
  EXPECT_EQ(word(A::IRR0, 2), 0x1Eu);
  EXPECT_EQ(apic.ignored_ipis(), 0u);
}

TEST_F(LocalApicTest, OtherDestinationsAndModesAreRecordedNotDelivered) {
  wr(A::SVR, kSvrEnabled);
  wr(A::ICR_HIGH, 0x01000000);
  wr(A::ICR_LOW, 0x41);  // CPU 1 does not exist
  wr(A::ICR_LOW, kIcrAllButSelf | 0x42);
  wr(A::ICR_LOW, kIcrSelf | 0x400);   // NMI
  wr(A::ICR_LOW, 0xC500);             // INIT assert
  wr(A::ICR_LOW, kIcrSelf | 0x143);   // lowest priority
  for (unsigned n = 0; n < 8; ++n) EXPECT_EQ(word(A::IRR0, n), 0u);
  EXPECT_EQ(apic.ignored_ipis(), 5u);
  EXPECT_EQ(latched_esr(), 0u);
}

TEST_F(LocalApicTest, LogicalDestinationsMatchFlatAndClusterModels) {
  wr(A::SVR, kSvrEnabled);
  wr(A::LDR, 0x02000000);  // flat model (DFR all ones), logical ID bit 1
  wr(A::ICR_HIGH, 0x05000000);
  wr(A::ICR_LOW, kIcrLogical | 0x41);  // no common bit
  wr(A::ICR_HIGH, 0x03000000);
  wr(A::ICR_LOW, kIcrLogical | 0x42);
  EXPECT_EQ(word(A::IRR0, 2), 0x4u);
  wr(A::DFR, 0x0FFFFFFF);  // cluster model: cluster 3, member bit 1
  wr(A::LDR, 0x32000000);
  wr(A::ICR_HIGH, 0x23000000);
  wr(A::ICR_LOW, kIcrLogical | 0x43);  // other cluster
  wr(A::ICR_HIGH, 0x33000000);
  wr(A::ICR_LOW, kIcrLogical | 0x44);
  EXPECT_EQ(word(A::IRR0, 2), 0x14u);
  EXPECT_EQ(apic.ignored_ipis(), 2u);
}

TEST_F(LocalApicTest, IllegalVectorsSetEsrAndAreNotDelivered) {
  wr(A::SVR, kSvrEnabled);
  self_ipi(0x0F);
  for (unsigned n = 0; n < 8; ++n) EXPECT_EQ(word(A::IRR0, n), 0u);
  EXPECT_EQ(rd(A::ESR), 0u);  // visible only after a write to ESR
  EXPECT_EQ(latched_esr(), A::kEsrSendIllegalVector);
  EXPECT_EQ(latched_esr(), 0u);  // the write started collecting afresh
  // An LVT entry firing with an illegal vector: a receive error.
  wr(A::LVT_TIMER, 0x05);
  wr(A::TIMER_DIVIDE, 0xB);
  wr(A::TIMER_INITIAL, 10);
  advance_to(10);
  EXPECT_EQ(word(A::IRR0, 0), 0u);
  EXPECT_EQ(latched_esr(), A::kEsrReceiveIllegalVector);
}

TEST_F(LocalApicTest, ErrorsRaiseTheLvtErrorInterrupt) {
  wr(A::SVR, kSvrEnabled);
  wr(A::LVT_ERROR, 0xEE);
  self_ipi(0x01);
  ASSERT_TRUE(apic.intr_pending());
  EXPECT_EQ(apic.acknowledge(), 0xEE);
  wr(A::EOI, 0);
  // An error entry with an illegal vector only records it.
  wr(A::LVT_ERROR, 0x02);
  self_ipi(0x01);
  EXPECT_FALSE(apic.intr_pending());
  EXPECT_EQ(latched_esr(), A::kEsrSendIllegalVector | A::kEsrReceiveIllegalVector);
}

TEST_F(LocalApicTest, ReservedOffsetsReadZeroAndSetIllegalRegister) {
  const uint32_t reserved[] = {0x000, 0x010, 0x040, 0x070, 0x0C0, 0x2F0, 0x3A0, 0x3F0, 0xFF0};
  for (uint32_t off : reserved) {
    EXPECT_EQ(rd(off), 0u) << off;
    EXPECT_EQ(latched_esr(), A::kEsrIllegalRegister) << off;
    wr(off, 0xFFFFFFFF);
    EXPECT_EQ(latched_esr(), A::kEsrIllegalRegister) << off;
    EXPECT_EQ(rd(off), 0u) << off;
    latched_esr();
  }
}

TEST_F(LocalApicTest, MisalignedAndNarrowAccessesAreIgnoredAndCounted) {
  wr(A::TPR, 0x20);
  EXPECT_EQ(apic.read(A::TPR, 1), 0u);
  EXPECT_EQ(apic.read(A::TPR, 2), 0u);
  EXPECT_EQ(apic.read(A::TPR, 8), 0u);
  EXPECT_EQ(apic.read(A::TPR + 4, 4), 0u);
  EXPECT_EQ(apic.read(A::VERSION + 1, 4), 0u);
  apic.write(A::TPR, 1, 0x30);
  apic.write(A::TPR + 8, 4, 0x30);
  apic.write(A::TPR, 8, 0x30);
  EXPECT_EQ(apic.read(0x1000, 4), 0u);  // past the page
  apic.write(~uint64_t{0} - 3, 4, 0x30);
  EXPECT_EQ(rd(A::TPR), 0x20u);
  EXPECT_EQ(apic.misaligned_accesses(), 10u);
  EXPECT_EQ(latched_esr(), 0u);
}

TEST_F(LocalApicTest, ExtIntPassesThePicThroughLint0) {
  FakePic pic;
  EXPECT_FALSE(apic.intr_pending());  // no PIC plugged in
  apic.set_extint_source(&pic);
  EXPECT_FALSE(apic.intr_pending());
  pic.pending = true;
  // Power-up state: software-disabled, LINT0 in virtual-wire mode.
  ASSERT_TRUE(apic.intr_pending());
  EXPECT_EQ(apic.acknowledge(), 0x20);
  EXPECT_EQ(pic.acks, 1);
  for (unsigned n = 0; n < 8; ++n) {
    EXPECT_EQ(word(A::IRR0, n), 0u);
    EXPECT_EQ(word(A::ISR0, n), 0u);
  }
  EXPECT_FALSE(apic.intr_pending());
  // TPR does not apply to ExtINT.
  wr(A::TPR, 0xFF);
  pic.pending = true;
  EXPECT_TRUE(apic.intr_pending());
  wr(A::TPR, 0);
  wr(A::SVR, kSvrEnabled);
  EXPECT_TRUE(apic.intr_pending());
  wr(A::LVT_LINT0, 0x10700);  // masked
  EXPECT_FALSE(apic.intr_pending());
  wr(A::LVT_LINT0, 0x00020);  // fixed mode, vector 0x20: not a PIC path here
  EXPECT_FALSE(apic.intr_pending());
  wr(A::LVT_LINT0, 0x00700);
  EXPECT_TRUE(apic.intr_pending());
  wr(A::SVR, 0xFF);  // explicit software disable masks LINT0 too
  EXPECT_FALSE(apic.intr_pending());
  EXPECT_EQ(pic.acks, 1);
}

TEST_F(LocalApicTest, ApicInterruptsComeBeforeExtInt) {
  FakePic pic;
  apic.set_extint_source(&pic);
  wr(A::SVR, kSvrEnabled);
  pic.pending = true;
  self_ipi(0x40);
  EXPECT_EQ(apic.acknowledge(), 0x40);
  EXPECT_EQ(pic.acks, 0);
  ASSERT_TRUE(apic.intr_pending());  // the 0x40 in service does not hold the PIC back
  EXPECT_EQ(apic.acknowledge(), 0x20);
  EXPECT_EQ(pic.acks, 1);
}

TEST_F(LocalApicTest, TprRaiseBeforeAcknowledgeGivesTheSpuriousVector) {
  wr(A::SVR, 0x1EF);  // spurious vector 0xEF
  self_ipi(0x50);
  ASSERT_TRUE(apic.intr_pending());
  wr(A::TPR, 0x50);  // the guest raises TPR between INTR and INTA
  EXPECT_EQ(apic.acknowledge(), 0xEF);
  for (unsigned n = 0; n < 8; ++n) EXPECT_EQ(word(A::ISR0, n), 0u);
  EXPECT_EQ(word(A::IRR0, 2), 0x10000u);  // still waiting
  wr(A::TPR, 0);
  ASSERT_TRUE(apic.intr_pending());
  EXPECT_EQ(apic.acknowledge(), 0x50);
}

// Near the end of 64-bit time a long period must not wrap round to a
// deadline in the past (which would fire for ever): it saturates to never.
TEST_F(LocalApicTest, DeadlinesPastTheEndOfTimeSaturateInsteadOfWrapping) {
  wr(A::SVR, kSvrEnabled);
  t = VirtualClock::kNever - 1000;
  wr(A::TIMER_DIVIDE, 0xA);         // divide by 128
  wr(A::LVT_TIMER, 0x30040);        // periodic, masked
  wr(A::TIMER_INITIAL, 0xFFFFFFFF);  // ~550 s per period
  EXPECT_EQ(clock.next_deadline(), VirtualClock::kNever);
}

}  // namespace
}  // namespace vtlab
