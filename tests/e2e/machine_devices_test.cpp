// The machine's port and memory map as a guest finds it: each device at
// its PC address, wired to the CPU (interrupts, A20, reset) and to the
// configuration (RAM size, RTC epoch).  Device behaviour itself is tested
// per device in tests/devices/.
#include <gtest/gtest.h>

#include "core/machine.h"

namespace vtlab::test {
namespace {

uint8_t cmos(Machine& m, uint8_t index) {
  m.io().write(0x70, 1, index);
  return static_cast<uint8_t>(m.io().read(0x71, 1));
}

TEST(MachineDevices, RtcStartsAtTheConfiguredEpochInBcd) {
  MachineConfig cfg;
  cfg.rtc_epoch = 1'907'749'230;  // 2030-06-15 10:20:30 UTC, a Saturday
  Machine m(cfg);
  EXPECT_EQ(cmos(m, 0x00), 0x30);
  EXPECT_EQ(cmos(m, 0x02), 0x20);
  EXPECT_EQ(cmos(m, 0x04), 0x10);
  EXPECT_EQ(cmos(m, 0x06), 7);  // day of week, Sunday = 1
  EXPECT_EQ(cmos(m, 0x07), 0x15);
  EXPECT_EQ(cmos(m, 0x08), 0x06);
  EXPECT_EQ(cmos(m, 0x09), 0x30);
  EXPECT_EQ(cmos(m, 0x32), 0x20);
}

TEST(MachineDevices, FwCfgAndCmosReportTheRamSize) {
  MachineConfig cfg;
  cfg.ram_bytes = 64ull << 20;
  Machine m(cfg);
  m.io().write(0x510, 2, 0x0000);
  std::string sig;
  for (int i = 0; i < 4; ++i) sig.push_back(static_cast<char>(m.io().read(0x511, 1)));
  EXPECT_EQ(sig, "QEMU");
  m.io().write(0x510, 2, 0x0003);
  uint64_t ram = 0;
  for (int i = 0; i < 8; ++i) ram |= m.io().read(0x511, 1) << (8 * i);
  EXPECT_EQ(ram, 64ull << 20);
  // Extended memory above 1 MiB in KiB, and memory above 16 MiB in 64 KiB units.
  EXPECT_EQ(cmos(m, 0x30) | cmos(m, 0x31) << 8, 63 * 1024);
  EXPECT_EQ(cmos(m, 0x34) | cmos(m, 0x35) << 8, 48 * 16);
}

TEST(MachineDevices, PicsPitAndApicAreWhereAPcHasThem) {
  Machine m(MachineConfig{});
  m.io().write(0x21, 1, 0x5A);  // OCW1: the IMR reads back
  m.io().write(0xA1, 1, 0xA5);
  EXPECT_EQ(m.io().read(0x21, 1), 0x5Au);
  EXPECT_EQ(m.io().read(0xA1, 1), 0xA5u);
  m.io().write(0x43, 1, 0xE2);  // read-back status of channel 0: mode 3, lo/hi, as firmware leaves it
  EXPECT_EQ(m.io().read(0x40, 1) & 0x3F, 0x36u);
  EXPECT_EQ(m.memory().read(0xFEE00030, 4), 0x00050014u);  // local APIC version
  EXPECT_EQ(m.io().unclaimed_total(), 0u);
}

TEST(MachineDevices, KeyboardControllerResetStopsTheMachineAsAShutdown) {
  Machine m(MachineConfig{});
  m.io().write(0x64, 1, 0xFE);
  EXPECT_EQ(m.cpu().stop_requested(), StopReason::Shutdown);
  EXPECT_EQ(m.cpu().stop_detail(), "the guest reset the machine (i8042 command 0xFE)");
}

TEST(MachineDevices, Port92GatesA20) {
  Machine m(MachineConfig{});
  EXPECT_EQ(m.cpu().a20_mask, ~uint64_t{0});
  m.io().write(0x92, 1, 0x00);
  EXPECT_EQ(m.cpu().a20_mask, ~(uint64_t{1} << 20));
  EXPECT_EQ(m.io().read(0x92, 1) & 2, 0u);
  m.io().write(0x92, 1, 0x02);
  EXPECT_EQ(m.cpu().a20_mask, ~uint64_t{0});
}

}  // namespace
}  // namespace vtlab::test
