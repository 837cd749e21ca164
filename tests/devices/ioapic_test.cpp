#include "devices/ioapic.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/snapshot.h"

namespace vtlab {
namespace {

using A = LocalApic;
using IO = IoApic;

constexpr uint32_t kUnmaskedEdge = 0x00000000, kLevel = 0x8000, kActiveLow = 0x2000, kLogical = 0x800;

// The I/O APIC wired to a real local APIC, as the machine wires them:
// messages go to LocalApic::receive, EOI broadcasts come back to eoi().
class IoApicTest : public ::testing::Test {
 protected:
  IoApicTest() {
    apic.set_eoi_broadcast([this](uint8_t v) { ioapic.eoi(v); });
    apic.write(A::SVR, 4, 0x1FF);
  }
  uint32_t reg(uint8_t index) {
    ioapic.write(IO::IOREGSEL, 4, index);
    return static_cast<uint32_t>(ioapic.read(IO::IOWIN, 4));
  }
  void set_reg(uint8_t index, uint32_t v) {
    ioapic.write(IO::IOREGSEL, 4, index);
    ioapic.write(IO::IOWIN, 4, v);
  }
  void program(unsigned pin, uint32_t low, uint8_t dest = 0) {
    set_reg(static_cast<uint8_t>(IO::REDTBL + 2 * pin + 1), uint32_t{dest} << 24);
    set_reg(static_cast<uint8_t>(IO::REDTBL + 2 * pin), low);
  }
  uint32_t low(unsigned pin) { return reg(static_cast<uint8_t>(IO::REDTBL + 2 * pin)); }
  bool in_irr(uint8_t v) { return apic.state().irr[v / 32] >> (v % 32) & 1; }
  bool in_tmr(uint8_t v) { return apic.state().tmr[v / 32] >> (v % 32) & 1; }
  // The CPU's INTA cycle; returns the vector.
  uint8_t take() {
    EXPECT_TRUE(apic.intr_pending());
    return apic.acknowledge();
  }
  void eoi() { apic.write(A::EOI, 4, 0); }

  uint64_t t = 0;
  VirtualClock clock{[this] { return t; }};
  A apic{clock, [] {}};
  IO ioapic{[this](const ApicMessage& m) { return apic.receive(m); }};
};

TEST_F(IoApicTest, ResetState) {
  EXPECT_EQ(reg(IO::ID), 0u);
  EXPECT_EQ(reg(IO::VER), 0x00170011u);
  EXPECT_EQ(reg(IO::ARB), 0u);
  for (unsigned pin = 0; pin < IO::kPins; ++pin) {
    EXPECT_EQ(low(pin), 0x00010000u) << pin;
    EXPECT_EQ(reg(static_cast<uint8_t>(IO::REDTBL + 2 * pin + 1)), 0u) << pin;
  }
  ioapic.set_irq(4, true);  // masked: nothing reaches the APIC
  EXPECT_FALSE(apic.intr_pending());
  EXPECT_EQ(ioapic.bad_accesses(), 0u);
}

TEST_F(IoApicTest, IdWriteLoadsTheArbitrationIdToo) {
  set_reg(IO::ID, 0xFFFFFFFF);
  EXPECT_EQ(reg(IO::ID), 0x0F000000u);
  EXPECT_EQ(reg(IO::ARB), 0x0F000000u);
  set_reg(IO::ARB, 0);  // read-only
  set_reg(IO::VER, 0);
  EXPECT_EQ(reg(IO::ARB), 0x0F000000u);
  EXPECT_EQ(reg(IO::VER), 0x00170011u);
  EXPECT_EQ(ioapic.bad_accesses(), 0u);
}

TEST_F(IoApicTest, IoregselKeepsEightBitsAndOddAccessesAreCounted) {
  ioapic.write(IO::IOREGSEL, 4, 0x12345601);
  EXPECT_EQ(ioapic.read(IO::IOREGSEL, 4), 0x01u);
  EXPECT_EQ(ioapic.read(IO::IOWIN, 4), 0x00170011u);
  EXPECT_EQ(ioapic.read(IO::IOWIN, 1), 0u);   // not 32-bit
  EXPECT_EQ(ioapic.read(0x20, 4), 0u);        // no register there on the 82093AA
  ioapic.write(IO::IOREGSEL, 2, 0x10);        // ignored
  EXPECT_EQ(ioapic.read(IO::IOREGSEL, 4), 0x01u);
  EXPECT_EQ(reg(0x40), 0u);                   // past entry 23
  set_reg(0x03, 0xFFFFFFFF);
  EXPECT_EQ(ioapic.bad_accesses(), 5u);
}

TEST_F(IoApicTest, EntryBitsDeliveryStatusAndRemoteIrrAreReadOnly) {
  set_reg(IO::REDTBL + 2 * 5, 0xFFFFFFFF);
  set_reg(IO::REDTBL + 2 * 5 + 1, 0xFFFFFFFF);
  EXPECT_EQ(low(5), 0x0001AFFFu);
  EXPECT_EQ(reg(IO::REDTBL + 2 * 5 + 1), 0xFF000000u);
  EXPECT_EQ(ioapic.entry(5), 0xFF0000000001AFFFull);
}

TEST_F(IoApicTest, EdgeEntryDeliversItsVectorOncePerRisingEdge) {
  program(4, kUnmaskedEdge | 0x34);
  ioapic.set_irq(4, true);
  EXPECT_TRUE(in_irr(0x34));
  EXPECT_FALSE(in_tmr(0x34));
  EXPECT_EQ(take(), 0x34);
  ioapic.set_irq(4, true);  // no edge
  EXPECT_FALSE(apic.intr_pending());
  ioapic.set_irq(4, false);
  EXPECT_FALSE(apic.intr_pending());
  ioapic.set_irq(4, true);
  EXPECT_TRUE(in_irr(0x34));
  eoi();  // retires the first one; no broadcast for an edge vector
  EXPECT_EQ(take(), 0x34);
  EXPECT_EQ(low(4), 0x34u);  // remote IRR stays clear for edge entries
}

TEST_F(IoApicTest, EdgeWhileMaskedIsLost) {
  program(4, IO::kMasked | 0x34);
  ioapic.set_irq(4, true);
  program(4, 0x34);  // unmasked with the pin still high: no new edge
  EXPECT_FALSE(apic.intr_pending());
  ioapic.set_irq(4, false);
  ioapic.set_irq(4, true);
  EXPECT_EQ(take(), 0x34);
}

TEST_F(IoApicTest, LevelEntrySetsRemoteIrrUntilTheApicEoiBroadcast) {
  program(9, kLevel | 0x39);
  ioapic.set_irq(9, true);
  EXPECT_TRUE(in_irr(0x39));
  EXPECT_TRUE(in_tmr(0x39));
  EXPECT_EQ(low(9), 0xC039u);  // remote IRR
  EXPECT_EQ(take(), 0x39);
  ioapic.set_irq(9, false);
  ioapic.set_irq(9, true);  // remote IRR holds a second message back
  EXPECT_FALSE(apic.intr_pending());
  eoi();  // broadcast: remote IRR clears, the pin is still asserted: sent again
  EXPECT_EQ(low(9), 0xC039u);
  EXPECT_EQ(take(), 0x39);
  ioapic.set_irq(9, false);
  eoi();
  EXPECT_EQ(low(9), 0x8039u);
  EXPECT_FALSE(apic.intr_pending());
}

TEST_F(IoApicTest, UnmaskingAnAssertedLevelEntrySendsIt) {
  program(9, IO::kMasked | kLevel | 0x39);
  ioapic.set_irq(9, true);
  EXPECT_FALSE(apic.intr_pending());
  program(9, kLevel | 0x39);
  EXPECT_EQ(take(), 0x39);
}

TEST_F(IoApicTest, ActiveLowPolarityAssertsOnTheLowLevel) {
  program(10, kLevel | kActiveLow | 0x3A);
  EXPECT_EQ(take(), 0x3A);  // the pin is low: asserted at once
  ioapic.set_irq(10, true);
  eoi();
  EXPECT_EQ(low(10), 0xA03Au);  // deasserted: no remote IRR, nothing sent
  EXPECT_FALSE(apic.intr_pending());
}

TEST_F(IoApicTest, SwitchingToEdgeClearsRemoteIrr) {
  program(9, kLevel | 0x39);
  ioapic.set_irq(9, true);
  EXPECT_EQ(low(9), 0xC039u);
  program(9, IO::kMasked | 0x39);  // Linux's EOI for pre-0x20 I/O APICs
  EXPECT_EQ(low(9), 0x10039u);
  program(9, IO::kMasked | kLevel | 0x39);
  EXPECT_EQ(low(9), 0x18039u);
}

TEST_F(IoApicTest, DestinationsAreMatchedByTheLocalApic) {
  program(3, 0x33, /*dest=*/5);  // physical APIC ID 5: nobody
  ioapic.set_irq(3, true);
  EXPECT_FALSE(in_irr(0x33));
  EXPECT_EQ(ioapic.undelivered(), 1u);
  apic.write(A::LDR, 4, 0x01000000);  // flat logical ID bit 0
  program(3, kLogical | 0x33, 0x01);
  ioapic.set_irq(3, false);
  ioapic.set_irq(3, true);
  EXPECT_EQ(take(), 0x33);
  program(3, 0x33, 0xFF);  // physical broadcast
  ioapic.set_irq(3, false);
  ioapic.set_irq(3, true);
  EXPECT_TRUE(in_irr(0x33));
}

TEST_F(IoApicTest, LowestPriorityIsFixedAndOtherModesAreIgnored) {
  program(1, 0x100 | 0x41);  // lowest priority
  ioapic.set_irq(1, true);
  EXPECT_EQ(take(), 0x41);
  program(2, 0x700);  // ExtINT
  program(6, 0x400);  // NMI
  ioapic.set_irq(2, true);
  ioapic.set_irq(6, true);
  EXPECT_EQ(apic.ignored_messages(), 2u);
  EXPECT_EQ(ioapic.undelivered(), 2u);
  program(7, 0x07);  // an illegal vector: the APIC's receive error
  ioapic.set_irq(7, true);
  apic.write(A::ESR, 4, 0);
  EXPECT_EQ(apic.read(A::ESR, 4), A::kEsrReceiveIllegalVector);
}

TEST_F(IoApicTest, ResetMasksEveryEntryAndKeepsTheInputs) {
  program(9, kLevel | 0x39);
  ioapic.set_irq(9, true);
  set_reg(IO::ID, 0x02000000);
  ioapic.reset();
  EXPECT_EQ(low(9), 0x10000u);
  EXPECT_EQ(reg(IO::ID), 0u);
  EXPECT_TRUE(ioapic.input(9));
}

TEST_F(IoApicTest, SnapshotRoundTrips) {
  program(9, kLevel | 0x39, 0);
  ioapic.set_irq(9, true);
  SnapshotWriter w;
  ioapic.save(w);
  const auto bytes = w.take();
  IO other{[](const ApicMessage&) { return true; }};
  SnapshotReader r(bytes);
  ASSERT_TRUE(other.load(r));
  EXPECT_EQ(other.entry(9), ioapic.entry(9));
  EXPECT_TRUE(other.input(9));
}

// The local APIC's side on its own: level-triggered messages set TMR and
// only their EOI is broadcast; a later edge-triggered acceptance (a
// self-IPI) clears TMR again.
TEST(LocalApicMessages, LevelMessagesSetTmrAndTheirEoiIsBroadcast) {
  uint64_t t = 0;
  VirtualClock clock{[&t] { return t; }};
  A apic{clock, [] {}};
  apic.write(A::SVR, 4, 0x1FF);
  std::vector<unsigned> broadcasts;
  apic.set_eoi_broadcast([&](uint8_t v) { broadcasts.push_back(v); });
  ApicMessage m;
  m.vector = 0x51;
  m.level = true;
  EXPECT_TRUE(apic.receive(m));
  EXPECT_EQ(apic.read(A::TMR0 + 0x20, 4), 1u << 0x11);
  EXPECT_EQ(apic.acknowledge(), 0x51);
  apic.write(A::EOI, 4, 0);
  EXPECT_EQ(broadcasts, std::vector<unsigned>{0x51});
  apic.write(A::ICR_LOW, 4, (1u << 18) | 0x51);  // self-IPI, edge
  EXPECT_EQ(apic.read(A::TMR0 + 0x20, 4), 0u);
  EXPECT_EQ(apic.acknowledge(), 0x51);
  apic.write(A::EOI, 4, 0);
  EXPECT_EQ(broadcasts.size(), 1u);
  m.destination = 3;  // not this APIC (ID 0)
  EXPECT_FALSE(apic.receive(m));
  m.destination = 0;
  m.delivery_mode = 4;  // NMI: not modelled
  EXPECT_FALSE(apic.receive(m));
  EXPECT_EQ(apic.ignored_messages(), 1u);
  EXPECT_EQ(apic.read(A::IRR0 + 0x20, 4), 0u);
}

}  // namespace
}  // namespace vtlab
