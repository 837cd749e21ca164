#include "devices/pic8259.h"

#include <gtest/gtest.h>

namespace vtlab {
namespace {

constexpr uint16_t kMasterCmd = 0x20, kMasterData = 0x21, kSlaveCmd = 0xA0, kSlaveData = 0xA1;
constexpr uint16_t kElcr = 0x4D0;
constexpr auto M = DualPic::kMaster;
constexpr auto S = DualPic::kSlave;

// Both PICs on an I/O bus as a PC has them; the CPU side is called directly.
class PicTest : public ::testing::Test {
 protected:
  PicTest() : pic([this] { ++changes; }) {
    EXPECT_TRUE(io.insert(0x20, DualPic::kPorts, &pic.master()));
    EXPECT_TRUE(io.insert(0xA0, DualPic::kPorts, &pic.slave()));
    EXPECT_TRUE(io.insert(kElcr, DualPic::kPorts, &pic.elcr()));
  }
  uint8_t in(uint16_t port) { return static_cast<uint8_t>(io.read(port, 1)); }
  void out(uint16_t port, uint8_t v) { io.write(port, 1, v); }
  // The sequence Linux's init_8259A writes: edge, cascade, ICW4 with
  // 8086 mode; the slave hangs off IR2 and has ID 2.
  void init(uint8_t master_base = 0x20, uint8_t slave_base = 0x28, uint8_t icw4 = 0x01) {
    out(kMasterCmd, 0x11);
    out(kMasterData, master_base);
    out(kMasterData, 0x04);
    out(kMasterData, icw4);
    out(kSlaveCmd, 0x11);
    out(kSlaveData, slave_base);
    out(kSlaveData, 0x02);
    out(kSlaveData, icw4);
  }
  void pulse(unsigned irq) {
    pic.set_irq(irq, true);
    pic.set_irq(irq, false);
  }
  // Non-specific EOI to the chips that serviced `irq`, as a handler does.
  void eoi(unsigned irq) {
    if (irq >= 8) out(kSlaveCmd, 0x20);
    out(kMasterCmd, 0x20);
  }

  int changes = 0;
  DualPic pic;
  IoBus io{"io"};
};

TEST_F(PicTest, UninitialisedChipLatchesButRaisesNothing) {
  pic.set_irq(0, true);
  EXPECT_FALSE(pic.intr_pending());
  EXPECT_EQ(changes, 0);
  EXPECT_EQ(in(kMasterCmd), 0x01);  // IRR
  EXPECT_EQ(in(kMasterData), 0x00);
  EXPECT_FALSE(pic.initialised(M));
  init();
  // ICW1 reset the edge sense: the level still high is no new request.
  EXPECT_EQ(pic.irr(M), 0x00);
  EXPECT_FALSE(pic.intr_pending());
  pic.set_irq(0, false);
  pic.set_irq(0, true);
  EXPECT_TRUE(pic.intr_pending());
  EXPECT_EQ(pic.acknowledge(), 0x20);
}

TEST_F(PicTest, LinuxProbeReadsTheMaskBackBeforeInitialisation) {
  out(kSlaveData, 0xFF);
  out(kMasterData, 0xA5);  // probe_8259A's test pattern
  EXPECT_EQ(in(kMasterData), 0xA5);
  EXPECT_EQ(in(kSlaveData), 0xFF);
  EXPECT_FALSE(pic.initialised(M));
}

TEST_F(PicTest, EveryIrqGetsItsVectorAfterTheIcwSequence) {
  init(0x30, 0x38);
  EXPECT_TRUE(pic.initialised(M));
  EXPECT_TRUE(pic.initialised(S));
  EXPECT_EQ(pic.vector_base(M), 0x30);
  EXPECT_EQ(pic.vector_base(S), 0x38);
  for (unsigned irq = 0; irq < 16; ++irq) {
    if (irq == 2) continue;
    pulse(irq);
    ASSERT_TRUE(pic.intr_pending()) << irq;
    EXPECT_EQ(pic.acknowledge(), 0x30 + irq) << irq;
    EXPECT_FALSE(pic.intr_pending()) << irq;
    eoi(irq);
    EXPECT_EQ(pic.isr(M), 0) << irq;
    EXPECT_EQ(pic.isr(S), 0) << irq;
  }
}

TEST_F(PicTest, Icw2LowBitsAreIgnored) {
  init(0x27, 0x7F);
  EXPECT_EQ(pic.vector_base(M), 0x20);
  EXPECT_EQ(pic.vector_base(S), 0x78);
  pulse(4);
  EXPECT_EQ(pic.acknowledge(), 0x24);
  pulse(15);
  eoi(4);
  EXPECT_EQ(pic.acknowledge(), 0x7F);
}

TEST_F(PicTest, SingleModeSkipsIcw3AndNoIcw4MeansNoAeoi) {
  out(kMasterCmd, 0x12);  // SNGL, no IC4
  out(kMasterData, 0x40);
  EXPECT_TRUE(pic.initialised(M));
  out(kMasterData, 0xFE);  // already OCW1
  EXPECT_EQ(in(kMasterData), 0xFE);
  out(kMasterData, 0x00);
  pic.set_irq(0, true);
  EXPECT_EQ(pic.acknowledge(), 0x40);
  EXPECT_EQ(pic.isr(M), 0x01);
  // Not cascaded: an IR2 request is the master's own.
  out(kMasterCmd, 0x20);
  pic.set_irq(9, true);
  out(kSlaveCmd, 0x11);
  out(kSlaveData, 0x48);
  out(kSlaveData, 0x02);
  out(kSlaveData, 0x01);
  pic.set_irq(9, false);
  pic.set_irq(9, true);
  EXPECT_EQ(pic.acknowledge(), 0x42);
  EXPECT_EQ(pic.isr(S), 0x00);
}

TEST_F(PicTest, FullyNestedPriorityAndNonSpecificEoi) {
  init();
  pulse(3);
  pulse(1);
  EXPECT_EQ(pic.irr(M), 0x0A);
  EXPECT_EQ(pic.acknowledge(), 0x21);
  EXPECT_FALSE(pic.intr_pending());  // IR3 is below IR1 in service
  pulse(0);
  EXPECT_TRUE(pic.intr_pending());  // IR0 nests above it
  EXPECT_EQ(pic.acknowledge(), 0x20);
  EXPECT_EQ(pic.isr(M), 0x03);
  out(kMasterCmd, 0x20);  // clears the highest in service: IR0
  EXPECT_EQ(pic.isr(M), 0x02);
  EXPECT_FALSE(pic.intr_pending());
  out(kMasterCmd, 0x20);
  EXPECT_TRUE(pic.intr_pending());
  EXPECT_EQ(pic.acknowledge(), 0x23);
  out(kMasterCmd, 0x20);
  EXPECT_EQ(pic.isr(M), 0x00);
  out(kMasterCmd, 0x20);  // nothing in service: no effect
  EXPECT_EQ(pic.isr(M), 0x00);
}

TEST_F(PicTest, SpecificEoiClearsOnlyTheNamedLevel) {
  init();
  pulse(5);
  EXPECT_EQ(pic.acknowledge(), 0x25);
  pulse(6);  // below IR5: waits
  pulse(4);
  EXPECT_EQ(pic.acknowledge(), 0x24);
  EXPECT_EQ(pic.isr(M), 0x30);
  out(kMasterCmd, 0x65);  // specific EOI, level 5
  EXPECT_EQ(pic.isr(M), 0x10);
  EXPECT_FALSE(pic.intr_pending());  // IR4 still blocks IR6
  out(kMasterCmd, 0x64);
  EXPECT_EQ(pic.acknowledge(), 0x26);
}

TEST_F(PicTest, RotateOnNonSpecificEoiMakesTheServicedLevelLowest) {
  init();
  pulse(1);
  EXPECT_EQ(pic.acknowledge(), 0x21);
  out(kMasterCmd, 0xA0);
  EXPECT_EQ(pic.isr(M), 0x00);
  EXPECT_EQ(pic.lowest_priority(M), 1);
  pulse(0);
  pulse(3);
  pulse(2);      // IRQ 2 is IRQ 9 on an AT: not the master's IR2
  EXPECT_EQ(pic.irr(M), 0x0D);  // IR0, IR3 and the slave's INTR on IR2
  // Order now 2 3 4 5 6 7 0 1: IR2 (the slave) first, then IR3, then IR0.
  EXPECT_EQ(pic.acknowledge(), 0x29);
  eoi(9);
  EXPECT_EQ(pic.acknowledge(), 0x23);
  out(kMasterCmd, 0x20);
  EXPECT_EQ(pic.acknowledge(), 0x20);
}

TEST_F(PicTest, RotateOnSpecificEoiAndSetPriority) {
  init();
  out(kMasterCmd, 0xC4);  // set priority: IR4 lowest, IR5 highest
  EXPECT_EQ(pic.lowest_priority(M), 4);
  pulse(3);
  pulse(5);
  EXPECT_EQ(pic.acknowledge(), 0x25);
  EXPECT_FALSE(pic.intr_pending());  // IR3 ranks below IR5 now
  out(kMasterCmd, 0xE5);  // rotate on specific EOI 5: IR5 lowest
  EXPECT_EQ(pic.lowest_priority(M), 5);
  EXPECT_EQ(pic.isr(M), 0x00);
  pulse(7);
  EXPECT_EQ(pic.acknowledge(), 0x27);  // IR6 7 0 ... 3: IR7 beats IR3
  out(kMasterCmd, 0x40);  // SL alone: no operation
  EXPECT_EQ(pic.isr(M), 0x80);
  EXPECT_EQ(pic.lowest_priority(M), 5);
}

TEST_F(PicTest, AutoEoiSetsNoInServiceBitAndCanRotate) {
  init(0x20, 0x28, 0x03);
  EXPECT_TRUE(pic.auto_eoi(M));
  pulse(1);
  EXPECT_EQ(pic.acknowledge(), 0x21);
  EXPECT_EQ(pic.isr(M), 0x00);
  pulse(4);
  EXPECT_TRUE(pic.intr_pending());  // nothing in service blocks IR4
  EXPECT_EQ(pic.acknowledge(), 0x24);
  EXPECT_EQ(pic.lowest_priority(M), 7);
  out(kMasterCmd, 0x80);  // rotate in AEOI mode
  pulse(1);
  EXPECT_EQ(pic.acknowledge(), 0x21);
  EXPECT_EQ(pic.lowest_priority(M), 1);
  pulse(0);
  pulse(3);
  EXPECT_EQ(pic.acknowledge(), 0x23);  // IR0 is now next to last
  EXPECT_EQ(pic.lowest_priority(M), 3);
  out(kMasterCmd, 0x00);  // rotate in AEOI off
  EXPECT_EQ(pic.acknowledge(), 0x20);
  EXPECT_EQ(pic.lowest_priority(M), 3);
}

TEST_F(PicTest, MaskHoldsRequestsInIrr) {
  init();
  out(kMasterData, 0xFB);
  out(kSlaveData, 0xFF);
  EXPECT_EQ(in(kMasterData), 0xFB);
  EXPECT_EQ(in(kSlaveData), 0xFF);
  pulse(0);
  pulse(12);
  EXPECT_FALSE(pic.intr_pending());
  EXPECT_EQ(pic.irr(M), 0x01);
  EXPECT_EQ(pic.irr(S), 0x10);
  out(kSlaveData, 0xEF);
  EXPECT_TRUE(pic.intr_pending());
  EXPECT_EQ(pic.acknowledge(), 0x2C);
  out(kMasterData, 0xFA);
  EXPECT_TRUE(pic.intr_pending());  // IR0 outranks the IR2 in service
  EXPECT_EQ(pic.acknowledge(), 0x20);
}

TEST_F(PicTest, CascadeDeliversTheSlaveVectorAndSetsBothInService) {
  init();
  pulse(10);
  EXPECT_EQ(pic.irr(S), 0x04);
  EXPECT_EQ(pic.irr(M), 0x04);
  EXPECT_TRUE(pic.intr_pending());
  pulse(3);
  EXPECT_EQ(pic.acknowledge(), 0x2A);  // the slave's IR2 outranks IR3
  EXPECT_EQ(pic.isr(M), 0x04);
  EXPECT_EQ(pic.isr(S), 0x04);
  EXPECT_EQ(pic.irr(M), 0x08);
  pulse(9);  // above IRQ 10 on the slave, but the master's IR2 is busy
  EXPECT_FALSE(pic.intr_pending());
  out(kSlaveCmd, 0x20);
  EXPECT_FALSE(pic.intr_pending());
  out(kMasterCmd, 0x20);
  EXPECT_TRUE(pic.intr_pending());
  EXPECT_EQ(pic.acknowledge(), 0x29);  // the slave INTR re-latched IR2
  eoi(9);
  EXPECT_EQ(pic.acknowledge(), 0x23);
  pulse(1);
  pulse(14);
  out(kMasterCmd, 0x20);
  EXPECT_EQ(pic.acknowledge(), 0x21);
  out(kMasterCmd, 0x20);
  EXPECT_EQ(pic.acknowledge(), 0x2E);
}

TEST_F(PicTest, SpecialFullyNestedLetsAHigherSlaveLevelThrough) {
  out(kMasterCmd, 0x11);
  out(kMasterData, 0x20);
  out(kMasterData, 0x04);
  out(kMasterData, 0x11);  // SFNM
  out(kSlaveCmd, 0x11);
  out(kSlaveData, 0x28);
  out(kSlaveData, 0x02);
  out(kSlaveData, 0x01);
  pulse(11);
  EXPECT_EQ(pic.acknowledge(), 0x2B);
  pulse(9);
  EXPECT_TRUE(pic.intr_pending());
  EXPECT_EQ(pic.acknowledge(), 0x29);
  EXPECT_EQ(pic.isr(S), 0x0A);
  pulse(12);  // below IRQ 11 on the slave itself
  EXPECT_FALSE(pic.intr_pending());
}

TEST_F(PicTest, SlaveWithAnotherIdLeavesTheBusFloating) {
  out(kMasterCmd, 0x11);
  out(kMasterData, 0x20);
  out(kMasterData, 0x04);
  out(kMasterData, 0x01);
  out(kSlaveCmd, 0x11);
  out(kSlaveData, 0x28);
  out(kSlaveData, 0x03);  // slave ID 3, but it hangs off IR2
  out(kSlaveData, 0x01);
  pulse(8);
  EXPECT_EQ(pic.acknowledge(), 0xFF);
  EXPECT_EQ(pic.isr(M), 0x04);
  EXPECT_EQ(pic.isr(S), 0x00);
}

TEST_F(PicTest, RequestGoneBeforeInta_IsSpuriousIrq7) {
  init();
  out(kElcr, 0x08);  // IRQ 3 level-triggered
  pic.set_irq(3, true);
  EXPECT_TRUE(pic.intr_pending());
  pic.set_irq(3, false);
  EXPECT_FALSE(pic.intr_pending());
  EXPECT_EQ(pic.acknowledge(), 0x27);
  EXPECT_EQ(pic.isr(M), 0x00);
  // Masked between INTR and INTA: the same.
  pulse(5);
  EXPECT_TRUE(pic.intr_pending());
  out(kMasterData, 0x20);
  EXPECT_EQ(pic.acknowledge(), 0x27);
  EXPECT_EQ(pic.isr(M), 0x00);
  EXPECT_EQ(pic.irr(M), 0x20);
}

TEST_F(PicTest, SlaveSpuriousIsIrq15WithTheMasterIr2InService) {
  init();
  out(kElcr + 1, 0x04);  // IRQ 10 level-triggered
  pic.set_irq(10, true);
  EXPECT_TRUE(pic.intr_pending());
  pic.set_irq(10, false);
  // The master latched the slave's INTR edge on IR2 and keeps it.
  EXPECT_TRUE(pic.intr_pending());
  EXPECT_EQ(pic.irr(M), 0x04);
  EXPECT_EQ(pic.acknowledge(), 0x2F);
  EXPECT_EQ(pic.isr(M), 0x04);
  EXPECT_EQ(pic.isr(S), 0x00);
  out(kMasterCmd, 0x20);  // what a spurious-IRQ15 handler owes the master
  EXPECT_EQ(pic.isr(M), 0x00);
}

TEST_F(PicTest, PollCommandActsAsIntaOnTheNextRead) {
  init();
  out(kMasterCmd, 0x0C);
  EXPECT_EQ(in(kMasterCmd), 0x07);  // no request: I = 0
  pulse(6);
  pulse(4);
  out(kMasterCmd, 0x0C);
  EXPECT_EQ(in(kMasterData), 0x84);  // either port
  EXPECT_EQ(pic.isr(M), 0x10);
  EXPECT_EQ(pic.irr(M), 0x40);
  EXPECT_EQ(in(kMasterData), 0x00);  // one read only: IMR again
  out(kMasterCmd, 0x0C);
  EXPECT_EQ(in(kMasterCmd), 0x07);  // IR6 is below IR4 in service
  out(kMasterCmd, 0x20);
  pulse(13);
  out(kMasterCmd, 0x0C);
  EXPECT_EQ(in(kMasterCmd), 0x82);  // the master only names its IR2
  out(kSlaveCmd, 0x0C);
  EXPECT_EQ(in(kSlaveCmd), 0x85);
  EXPECT_EQ(pic.isr(S), 0x20);
  EXPECT_EQ(in(kMasterCmd), 0x40);  // IRR, IR6 still waits
}

TEST_F(PicTest, Ocw3SelectsIrrOrIsrUntilChanged) {
  init();
  pulse(3);
  pulse(5);
  EXPECT_EQ(pic.acknowledge(), 0x23);
  EXPECT_EQ(in(kMasterCmd), 0x20);  // IRR after ICW1
  out(kMasterCmd, 0x0B);
  EXPECT_EQ(in(kMasterCmd), 0x08);
  out(kMasterCmd, 0x08);  // RR = 0: keep the selection
  EXPECT_EQ(in(kMasterCmd), 0x08);
  out(kMasterCmd, 0x0A);
  EXPECT_EQ(in(kMasterCmd), 0x20);
  out(kMasterCmd, 0x0B);
  out(kMasterCmd, 0x11);  // ICW1 resets to IRR
  EXPECT_EQ(in(kMasterCmd), 0x00);
}

TEST_F(PicTest, EdgeInputLatchesOnceLevelInputFollowsTheLine) {
  init();
  pic.set_irq(4, true);
  pic.set_irq(4, false);  // low does not clear the latched edge
  EXPECT_EQ(pic.irr(M), 0x10);
  pic.set_irq(4, true);
  EXPECT_EQ(pic.acknowledge(), 0x24);
  out(kMasterCmd, 0x20);
  EXPECT_FALSE(pic.intr_pending());  // still high, but no new edge
  pic.set_irq(4, true);              // driving high again is no edge either
  EXPECT_FALSE(pic.intr_pending());
  pic.set_irq(4, false);
  pic.set_irq(4, true);
  EXPECT_TRUE(pic.intr_pending());
  EXPECT_EQ(pic.acknowledge(), 0x24);
  out(kMasterCmd, 0x20);

  out(kElcr, 0x20);  // IRQ 5 level
  EXPECT_TRUE(pic.level_triggered(M, 5));
  pic.set_irq(5, true);
  EXPECT_EQ(pic.acknowledge(), 0x25);
  EXPECT_EQ(pic.irr(M), 0x20);  // a level request stays while asserted
  out(kMasterCmd, 0x20);
  EXPECT_TRUE(pic.intr_pending());  // and interrupts again after EOI
  EXPECT_EQ(pic.acknowledge(), 0x25);
  pic.set_irq(5, false);
  EXPECT_EQ(pic.irr(M), 0x00);
  out(kMasterCmd, 0x20);
  EXPECT_FALSE(pic.intr_pending());
}

TEST_F(PicTest, ElcrKeepsOnlyThePiixWritableBits) {
  EXPECT_EQ(in(kElcr), 0x00);
  EXPECT_EQ(in(kElcr + 1), 0x00);
  out(kElcr, 0xFF);
  out(kElcr + 1, 0xFF);
  EXPECT_EQ(in(kElcr), 0xF8);
  EXPECT_EQ(in(kElcr + 1), 0xDE);
  EXPECT_EQ(io.read(kElcr, 2), 0xDEF8u);
  init();  // ICW1 leaves the ELCR alone
  EXPECT_EQ(pic.elcr_bits(M), 0xF8);
  EXPECT_FALSE(pic.level_triggered(M, 0));
  EXPECT_TRUE(pic.level_triggered(S, 7));
  // Switching to level shows the line; back to edge keeps the latch.
  out(kElcr, 0x00);
  pic.set_irq(6, true);
  out(kElcr, 0x40);
  EXPECT_EQ(pic.irr(M), 0x40);
  pic.set_irq(6, false);
  EXPECT_EQ(pic.irr(M), 0x00);
  pic.set_irq(6, true);
  out(kElcr, 0x00);
  pic.set_irq(6, false);
  EXPECT_EQ(pic.irr(M), 0x40);
}

TEST_F(PicTest, LtimMakesEveryInputLevelTriggered) {
  out(kMasterCmd, 0x19);
  out(kMasterData, 0x08);
  out(kMasterData, 0x04);
  out(kMasterData, 0x01);
  EXPECT_TRUE(pic.level_triggered(M, 0));
  pic.set_irq(0, true);
  EXPECT_EQ(pic.acknowledge(), 0x08);
  out(kMasterCmd, 0x20);
  EXPECT_TRUE(pic.intr_pending());
  pic.set_irq(0, false);
  EXPECT_FALSE(pic.intr_pending());
}

TEST_F(PicTest, SpecialMaskModeEnablesLowerLevels) {
  init();
  pulse(3);
  EXPECT_EQ(pic.acknowledge(), 0x23);
  pulse(5);
  EXPECT_FALSE(pic.intr_pending());
  out(kMasterCmd, 0x68);  // set special mask
  EXPECT_TRUE(pic.special_mask(M));
  EXPECT_FALSE(pic.intr_pending());  // IR3 unmasked still blocks
  out(kMasterData, 0x08);  // mask the level in service
  EXPECT_TRUE(pic.intr_pending());
  EXPECT_EQ(pic.acknowledge(), 0x25);
  EXPECT_EQ(pic.isr(M), 0x28);
  out(kMasterCmd, 0x20);  // skips the masked IR3: clears IR5
  EXPECT_EQ(pic.isr(M), 0x08);
  pulse(3);
  EXPECT_FALSE(pic.intr_pending());  // IR3 itself stays masked
  out(kMasterCmd, 0x48);  // reset special mask
  EXPECT_FALSE(pic.special_mask(M));
  out(kMasterData, 0x00);
  EXPECT_FALSE(pic.intr_pending());  // in service again blocks itself
  out(kMasterCmd, 0x20);
  EXPECT_EQ(pic.acknowledge(), 0x23);
}

TEST_F(PicTest, ReinitialisingClearsStateAndHoldsIntrLow) {
  init();
  pulse(1);
  pulse(6);
  out(kMasterData, 0x40);
  EXPECT_EQ(pic.acknowledge(), 0x21);
  out(kMasterCmd, 0x11);
  EXPECT_FALSE(pic.initialised(M));
  EXPECT_EQ(pic.isr(M), 0x00);
  EXPECT_EQ(pic.imr(M), 0x00);
  EXPECT_EQ(pic.irr(M), 0x00);
  pulse(1);
  EXPECT_FALSE(pic.intr_pending());  // mid-sequence
  out(kMasterData, 0x50);
  out(kMasterData, 0x04);
  out(kMasterData, 0x01);
  EXPECT_EQ(pic.acknowledge(), 0x51);
}

TEST_F(PicTest, IntrChangedFiresOnEveryChangeOfTheOutputOnly) {
  init();
  EXPECT_EQ(changes, 0);
  pic.set_irq(0, true);
  EXPECT_EQ(changes, 1);
  pic.set_irq(1, true);  // INTR already high
  EXPECT_EQ(changes, 1);
  EXPECT_EQ(pic.acknowledge(), 0x20);
  EXPECT_EQ(changes, 2);
  out(kMasterCmd, 0x20);
  EXPECT_EQ(changes, 3);
  out(kMasterData, 0xFF);
  EXPECT_EQ(changes, 4);
  EXPECT_FALSE(pic.intr_pending());
}

TEST_F(PicTest, OutOfRangeIrqsAreIgnoredAndResetRestoresPowerOn) {
  init();
  pic.set_irq(16, true);
  pic.set_irq(~0u, true);
  EXPECT_FALSE(pic.intr_pending());
  out(kElcr, 0x08);
  pulse(3);
  pic.reset();
  EXPECT_FALSE(pic.initialised(M));
  EXPECT_EQ(pic.irr(M), 0x00);
  EXPECT_EQ(pic.elcr_bits(M), 0x00);
  EXPECT_EQ(pic.vector_base(M), 0x00);
  EXPECT_EQ(in(kSlaveData), 0x00);
  EXPECT_EQ(io.read(kMasterData, 2), 0xFF00u);  // the byte past IMR floats
}

}  // namespace
}  // namespace vtlab
