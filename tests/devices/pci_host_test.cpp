// PCI configuration mechanism #1 with the 440FX host bridge alone on bus 0
// (devices/pci_host.h), through the machine's port bus as a guest sees it.
#include <gtest/gtest.h>

#include "core/machine.h"

namespace vtlab::test {
namespace {

class PciHostTest : public ::testing::Test {
 protected:
  Machine m{MachineConfig{}};
  uint64_t config(uint32_t address, unsigned port_offset = 0, unsigned size = 4) {
    m.io().write(0xCF8, 4, address);
    return m.io().read(0xCFC + port_offset, size);
  }
};

TEST_F(PciHostTest, HostBridgeAtZeroZeroZero) {
  EXPECT_EQ(config(0x80000000), 0x12378086u);  // 8086:1237
  EXPECT_EQ(config(0x80000004), 0x02000007u);  // command: I/O, memory, master
  EXPECT_EQ(config(0x80000008), 0x06000002u);  // host bridge, revision 2
  EXPECT_EQ(config(0x8000000C), 0u);           // header type 0
  EXPECT_EQ(config(0x80000040), 0u);
  // Bytes and words by the data port's low bits.
  EXPECT_EQ(config(0x80000000, 2, 2), 0x1237u);
  EXPECT_EQ(config(0x80000008, 3, 1), 0x06u);
  EXPECT_EQ(config(0x80000000, 1, 1), 0x80u);
}

TEST_F(PciHostTest, NothingElseAnswers) {
  EXPECT_EQ(config(0x80000800), 0xFFFFFFFFu);  // device 1
  EXPECT_EQ(config(0x80000100), 0xFFFFFFFFu);  // function 1
  EXPECT_EQ(config(0x80010000), 0xFFFFFFFFu);  // bus 1
  EXPECT_EQ(config(0x00000000), 0xFFFFFFFFu);  // enable bit clear
  EXPECT_EQ(config(0x80000000, 0, 2), 0x8086u);
}

// Linux's pci_check_type1: a byte write to 0xCFB does not disturb the
// address register, the address reads back with its reserved bits clear,
// and a byte at 0xCF9 is still the reset control register.
TEST_F(PciHostTest, AddressRegisterIsDwordOnly) {
  m.io().write(0xCF8, 4, 0xFFFFFFFF);
  EXPECT_EQ(m.io().read(0xCF8, 4), 0x80FFFFFCu);
  m.io().write(0xCF8, 1, 0x01);
  m.io().write(0xCFB, 1, 0x01);
  EXPECT_EQ(m.io().read(0xCF8, 4), 0x80FFFFFCu);
  EXPECT_EQ(m.io().read(0xCF8, 1), 0xFFu);
  m.io().write(0xCF9, 1, 0x02);  // SYS_RST latched, no reset
  EXPECT_EQ(m.io().read(0xCF9, 1), 0x02u);
  m.io().write(0xCFC, 4, 0x12345678);  // configuration writes change nothing
  EXPECT_EQ(config(0x80000000), 0x12378086u);
}

}  // namespace
}  // namespace vtlab::test
