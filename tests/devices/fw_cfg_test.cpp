#include "devices/fw_cfg.h"

#include <gtest/gtest.h>

#include <vector>

namespace vtlab {
namespace {

constexpr uint64_t kSelector = 0x510, kData = 0x511;
using Bytes = std::vector<uint8_t>;

class FwCfgTest : public ::testing::Test {
 protected:
  FwCfgTest() { EXPECT_TRUE(io.insert(kSelector, FwCfg::kPorts, &cfg)); }
  void select(uint16_t key) { io.write(kSelector, 2, key); }
  Bytes bytes(size_t n) {
    Bytes b;
    for (size_t i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(io.read(kData, 1)));
    return b;
  }
  Bytes item(uint16_t key, size_t n) {
    select(key);
    return bytes(n);
  }

  FwCfg cfg{3ull << 30, 2};  // 3 GiB, 2 CPUs
  IoBus io{"io"};
};

TEST_F(FwCfgTest, SignatureThenZerosPastTheEnd) {
  EXPECT_EQ(item(0x0000, 6), (Bytes{'Q', 'E', 'M', 'U', 0, 0}));
}

TEST_F(FwCfgTest, SignatureIsSelectedAtReset) { EXPECT_EQ(bytes(4), (Bytes{'Q', 'E', 'M', 'U'})); }

TEST_F(FwCfgTest, IdAdvertisesThePortInterfaceOnly) {
  EXPECT_EQ(item(0x0001, 5), (Bytes{0x01, 0, 0, 0, 0}));
}

TEST_F(FwCfgTest, RamSizeIs64BitLittleEndian) {
  EXPECT_EQ(item(0x0003, 9), (Bytes{0, 0, 0, 0xC0, 0, 0, 0, 0, 0}));
}

TEST_F(FwCfgTest, CpuCounts) {
  EXPECT_EQ(item(0x0005, 3), (Bytes{2, 0, 0}));
  EXPECT_EQ(item(0x000F, 3), (Bytes{2, 0, 0}));  // max CPUs
  EXPECT_EQ(item(0x000E, 3), (Bytes{0, 0, 0}));  // boot menu off
  EXPECT_EQ(item(0x0004, 2), (Bytes{1, 0}));     // no graphics
}

TEST_F(FwCfgTest, FileDirectoryIsEmpty) { EXPECT_EQ(item(0x0019, 5), (Bytes{0, 0, 0, 0, 0})); }

TEST_F(FwCfgTest, UuidIsSixteenZeros) {
  EXPECT_EQ(item(0x0002, 17), Bytes(17, 0));
}

TEST_F(FwCfgTest, SelectingRewinds) {
  EXPECT_EQ(item(0x0000, 2), (Bytes{'Q', 'E'}));
  EXPECT_EQ(item(0x0000, 2), (Bytes{'Q', 'E'}));
  EXPECT_EQ(cfg.selector(), 0x0000);
}

TEST_F(FwCfgTest, UnknownSelectorsReadZero) {
  EXPECT_EQ(item(0x0006, 3), (Bytes{0, 0, 0}));
  EXPECT_EQ(item(0x8003, 2), (Bytes{0, 0}));  // the x86 table is empty here
  EXPECT_EQ(item(0xFFFF, 2), (Bytes{0, 0}));
  EXPECT_EQ(cfg.selector(), 0xFFFF);
}

TEST_F(FwCfgTest, WriteBitSelectsTheSameItem) {
  EXPECT_EQ(item(0x4000, 4), (Bytes{'Q', 'E', 'M', 'U'}));
}

TEST_F(FwCfgTest, PortsAsQemusCombinedRegion) {
  select(0x0000);
  EXPECT_EQ(io.read(kSelector, 1), 'Q');  // a byte read at 0x510 reads data too
  io.write(kData, 1, 0x55);               // data writes are ignored
  io.write(kSelector, 1, 0x05);           // a byte write does not select
  EXPECT_EQ(io.read(kData, 1), 'E');
  EXPECT_EQ(io.read(kData, 2), 0u);       // wider reads are refused and do not advance
  EXPECT_EQ(io.read(kData, 4), 0u);
  EXPECT_EQ(io.read(kData, 1), 'M');
  io.write(kSelector, 4, 0x0005);         // nor does a dword write
  EXPECT_EQ(io.read(kData, 1), 'U');
  io.write(kData, 2, 0x0005);             // a word write at 0x511 selects, as on QEMU
  EXPECT_EQ(bytes(2), (Bytes{2, 0}));
}

TEST(FwCfgSizes, RamAndCpuBytesFollowTheConstructor) {
  FwCfg cfg(128ull << 20, 1);
  cfg.write(0, 2, 0x0003);
  Bytes b;
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(cfg.read(1, 1)));
  EXPECT_EQ(b, (Bytes{0, 0, 0, 0x08, 0, 0, 0, 0}));
  cfg.write(0, 2, 0x0005);
  EXPECT_EQ(cfg.read(1, 1), 1u);
  EXPECT_EQ(cfg.read(1, 1), 0u);
}

}  // namespace
}  // namespace vtlab
