// The PC platform pieces Linux needs, wired in core/machine.cpp: COM1 on
// ISA IRQ 4 through the I/O APIC, the PIT's IRQ 0 on I/O APIC pin 2, the
// ACPI PM block at 0x600 with its timer on the machine's virtual time,
// and the S5 write ending the run.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/machine.h"
#include "devices/acpi_pm.h"
#include "devices/ioapic.h"
#include "devices/local_apic.h"
#include "devices/pic8259.h"

namespace vtlab {
namespace {

class PlatformMachineTest : public ::testing::Test {
 protected:
  PlatformMachineTest() : m(config()) {
    set_flat_protected_mode(m.cpu().s);
    m.cpu().s.rip = 0x1000;
  }
  static MachineConfig config() {
    MachineConfig c;
    c.ram_bytes = 4ull << 20;
    return c;
  }
  void put(const std::vector<uint8_t>& code) { ASSERT_TRUE(m.memory().write_bytes(0x1000, code.data(), code.size())); }
  void ioapic_set(uint8_t index, uint32_t v) {
    m.memory().write(IoApic::kBase + IoApic::IOREGSEL, 4, index);
    m.memory().write(IoApic::kBase + IoApic::IOWIN, 4, v);
  }
  uint32_t ioapic_get(uint8_t index) {
    m.memory().write(IoApic::kBase + IoApic::IOREGSEL, 4, index);
    return static_cast<uint32_t>(m.memory().read(IoApic::kBase + IoApic::IOWIN, 4));
  }
  bool in_irr(uint8_t v) { return m.apic().state().irr[v / 32] >> (v % 32) & 1; }

  Machine m;
};

TEST_F(PlatformMachineTest, SlpTyp5WithSlpEnPowersTheMachineOff) {
  put({
      0x66, 0xBA, 0x04, 0x06,        // mov dx, 0x604 (PM1a_CNT)
      0x66, 0xB8, 0x00, 0x34,        // mov ax, 0x3400 (SLP_TYP 5 | SLP_EN)
      0x66, 0xEF,                    // out dx, ax
      0xF4,                          // hlt: never reached
  });
  const RunResult r = m.run(1000);
  EXPECT_EQ(r.reason, StopReason::GuestExit);
  EXPECT_EQ(r.detail, "the guest powered the machine off (ACPI S5)");
  EXPECT_EQ(r.guest_status, 0u);
  EXPECT_EQ(r.instructions, 3u);
}

TEST_F(PlatformMachineTest, ThePmTimerReadsTheMachinesVirtualTime) {
  put({
      0xB9, 0x10, 0x27, 0x00, 0x00,  // mov ecx, 10000
      0xE2, 0xFE,                    // loop $
      0x66, 0xBA, 0x08, 0x06,        // mov dx, 0x608 (PM_TMR)
      0xED,                          // in eax, dx
      0xF4,                          // hlt
  });
  m.run(100'000);
  // The IN retires as instruction 10003, so it reads the count at virtual
  // time 10002 ns: floor(10002 * 3579545 / 10^9) = 35.
  EXPECT_EQ(m.cpu().s.gpr[RAX], 35u);
}

TEST_F(PlatformMachineTest, Com1RaisesIrq4ThroughTheIoApic) {
  m.memory().write(LocalApic::kBase + LocalApic::SVR, 4, 0x1FF);
  ioapic_set(IoApic::REDTBL + 2 * 4, 0x44);  // pin 4: vector 0x44, edge, unmasked
  m.io().write(0x3F8 + 4, 1, 0x08);         // MCR.OUT2
  m.io().write(0x3F8 + 1, 1, 0x02);         // IER.THRI: THR is empty
  EXPECT_TRUE(in_irr(0x44));
  EXPECT_EQ(m.pic().irr(DualPic::kMaster), 0x10);  // the 8259A saw the same edge
  EXPECT_TRUE(m.ioapic().input(4));
  EXPECT_EQ(m.io().read(0x3F8 + 2, 1), 0x02u);  // IIR: THRE, which drops the line
  EXPECT_FALSE(m.ioapic().input(4));
}

TEST_F(PlatformMachineTest, ThePitsIrq0IsPin2) {
  m.memory().write(LocalApic::kBase + LocalApic::SVR, 4, 0x1FF);
  ioapic_set(IoApic::REDTBL + 2 * 2, 0x30);
  ioapic_set(IoApic::REDTBL + 2 * 0, 0x50);  // pin 0 is the 8259A's, not the PIT's
  m.io().write(0x43, 1, 0x34);  // channel 0, mode 2
  m.io().write(0x40, 1, 0x02);
  m.io().write(0x40, 1, 0x00);
  put({0xEB, 0xFE});  // jmp $
  m.run(10'000);
  EXPECT_TRUE(in_irr(0x30));
  EXPECT_FALSE(in_irr(0x50));
  EXPECT_EQ(ioapic_get(IoApic::VER), 0x00170011u);
}

TEST_F(PlatformMachineTest, SnapshotsKeepTheIoApicAndPmRegisters) {
  ioapic_set(IoApic::REDTBL + 2 * 9, 0x18039);
  m.io().write(AcpiPm::kBase + AcpiPm::PM1_EN, 2, 0x0100);
  const MachineSnapshot snap = m.save();
  ioapic_set(IoApic::REDTBL + 2 * 9, 0x10000);
  m.io().write(AcpiPm::kBase + AcpiPm::PM1_EN, 2, 0);
  ASSERT_TRUE(m.restore(snap));
  EXPECT_EQ(ioapic_get(IoApic::REDTBL + 2 * 9), 0x18039u);
  EXPECT_EQ(m.io().read(AcpiPm::kBase + AcpiPm::PM1_EN, 2), 0x0100u);
}

TEST(PlatformMachine, AcpiTablesOnlyWhenAskedFor) {
  MachineConfig c;
  c.ram_bytes = 4ull << 20;
  Machine plain(c);
  EXPECT_EQ(plain.acpi_tables().rsdp, 0u);
  uint8_t sig[8] = {};
  ASSERT_TRUE(plain.memory().read_bytes(0xE0000, sig, 8));
  EXPECT_EQ(std::string(sig, sig + 8), std::string(8, '\0'));
  c.acpi_tables = true;
  Machine linux_pc(c);
  EXPECT_EQ(linux_pc.acpi_tables().rsdp, 0xE0000u);
  EXPECT_EQ(linux_pc.acpi_tables().region_size, 0x1000u);
  ASSERT_TRUE(linux_pc.memory().read_bytes(0xE0000, sig, 8));
  EXPECT_EQ(std::string(sig, sig + 8), "RSD PTR ");
}

}  // namespace
}  // namespace vtlab
