// virtio-blk (virtio 1.1, 5.2) against a temporary image file: reads,
// writes (checked in the file itself), flush, GET_ID, the capacity and
// read-only checks, and the image's open errors.
#include "devices/virtio_blk.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "core/loader/load_error.h"
#include "tests/devices/virtio_test_driver.h"

namespace vtlab {
namespace {

using namespace testing_virtio;
using B = VirtioBlk;

constexpr uint64_t kSectors = 8;

std::string sector_pattern(uint64_t sector) {
  std::string s(512, '\0');
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(sector * 16 + i % 16);
  return s;
}

std::string file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

class VirtioBlkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // One image per process: ctest runs the tests of this fixture in
    // parallel, each in a process of its own.
    path = ::testing::TempDir() + "/vblk-" + std::to_string(getpid()) + ".img";
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    for (uint64_t s = 0; s < kSectors; ++s) f << sector_pattern(s);
    f << "tail";  // a partial sector: not part of the capacity
  }
  void TearDown() override { std::remove(path.c_str()); }

  void attach(bool read_only) {
    dev = std::make_unique<VirtioBlk>(mem, [this](bool level) { levels.push_back(level); },
                                      BlockImage(path, read_only));
    ASSERT_TRUE(mem.map_mmio(kWindowBase, V::kWindow, dev.get()));
    drv.bring_up({&q});
  }

  // One request: header at 0x40000, data at 0x41000, status at 0x50000,
  // laid out as three descriptors.  Returns the status byte.
  uint8_t request(uint32_t type, uint64_t sector, uint32_t data_len, bool data_writable) {
    const uint64_t header = kBufferArea, data = kBufferArea + 0x1000, status = kBufferArea + 0x10000;
    mem.write(header, 4, type);
    mem.write(header + 4, 4, 0);
    mem.write(header + 8, 8, sector);
    mem.write(status, 1, 0xEE);
    drv.set_desc(q, 0, header, 16, Virtqueue::kDescFlagNext, 1);
    drv.set_desc(q, 1, data, data_len, Virtqueue::kDescFlagNext | (data_writable ? Virtqueue::kDescFlagWrite : 0), 2);
    drv.set_desc(q, 2, status, 1, Virtqueue::kDescFlagWrite);
    drv.make_available(q, 0);
    drv.notify(q);
    return static_cast<uint8_t>(mem.read(status, 1));
  }
  uint32_t last_used_len() { return drv.used_elem(q, static_cast<uint16_t>(drv.used_idx(q) - 1)).len; }

  std::string path;
  PhysicalMemory mem{kRamBytes};
  std::vector<bool> levels;
  std::unique_ptr<VirtioBlk> dev;
  VirtioTestDriver drv{mem};
  TestQueue q;
};

TEST_F(VirtioBlkTest, IdentityFeaturesAndCapacity) {
  attach(false);
  EXPECT_EQ(drv.rd(V::kDeviceId), 2u);
  drv.wr(V::kDeviceFeaturesSel, 0);
  EXPECT_EQ(drv.rd(V::kDeviceFeatures), (1u << 28) | (1u << 9));  // INDIRECT_DESC, FLUSH
  EXPECT_EQ(mem.read(kWindowBase + V::kConfig, 8), kSectors);
  EXPECT_EQ(mem.read(kWindowBase + V::kConfig, 4), kSectors);
  EXPECT_EQ(mem.read(kWindowBase + V::kConfig + 4, 4), 0u);
  drv.wr(V::kQueueSel, 1);
  EXPECT_EQ(drv.rd(V::kQueueNumMax), 0u);  // one request queue
}

TEST_F(VirtioBlkTest, ReadsSectorsIntoGuestMemory) {
  attach(false);
  EXPECT_EQ(request(B::kIn, 2, 1024, true), B::kOk);
  EXPECT_EQ(drv.get(kBufferArea + 0x1000, 1024), sector_pattern(2) + sector_pattern(3));
  EXPECT_EQ(last_used_len(), 1025u);
  EXPECT_EQ(drv.rd(V::kInterruptStatus), 1u);
  EXPECT_EQ(levels, std::vector<bool>({true}));
}

TEST_F(VirtioBlkTest, WritesReachTheFileAtOnce) {
  attach(false);
  const std::string data(512, 'W');
  drv.put(kBufferArea + 0x1000, data);
  EXPECT_EQ(request(B::kOut, 7, 512, false), B::kOk);
  EXPECT_EQ(last_used_len(), 1u);
  std::string expected;
  for (uint64_t s = 0; s < kSectors; ++s) expected += s == 7 ? data : sector_pattern(s);
  EXPECT_EQ(file_bytes(path), expected + "tail");  // no flush needed to see it
  EXPECT_EQ(request(B::kFlush, 0, 0, false), B::kOk);
  EXPECT_EQ(last_used_len(), 1u);
}

TEST_F(VirtioBlkTest, GetIdIsTheImageNamePadded) {
  attach(false);
  EXPECT_EQ(request(B::kGetId, 0, 20, true), B::kOk);
  std::string id = path.substr(path.rfind('/') + 1);  // "vblk-PID.img", under 20 bytes
  ASSERT_LT(id.size(), 20u);
  id.resize(20, '\0');
  EXPECT_EQ(drv.get(kBufferArea + 0x1000, 20), id);
  EXPECT_EQ(last_used_len(), 21u);
}

TEST_F(VirtioBlkTest, OutOfRangeAndPartialSectorsAnswerIoerr) {
  attach(false);
  EXPECT_EQ(request(B::kIn, kSectors, 512, true), B::kIoErr);      // first sector past the end
  EXPECT_EQ(last_used_len(), 1u);
  EXPECT_EQ(request(B::kIn, kSectors - 1, 1024, true), B::kIoErr);  // runs past the end
  EXPECT_EQ(request(B::kIn, ~uint64_t{0}, 512, true), B::kIoErr);   // sector * 512 would wrap
  EXPECT_EQ(request(B::kIn, uint64_t{1} << 55, 512, true), B::kIoErr);
  EXPECT_EQ(request(B::kIn, 0, 100, true), B::kIoErr);               // not whole sectors
  drv.put(kBufferArea + 0x1000, std::string(1024, 'Z'));
  EXPECT_EQ(request(B::kOut, kSectors - 1, 1024, false), B::kIoErr);
  EXPECT_EQ(request(B::kOut, 0, 511, false), B::kIoErr);
  std::string expected;
  for (uint64_t s = 0; s < kSectors; ++s) expected += sector_pattern(s);
  EXPECT_EQ(file_bytes(path), expected + "tail");
  EXPECT_EQ(dev->status(), 15u);  // answered, not broken
}

TEST_F(VirtioBlkTest, ReadOnlyImageRefusesWrites) {
  attach(true);
  drv.wr(V::kDeviceFeaturesSel, 0);
  EXPECT_EQ(drv.rd(V::kDeviceFeatures), (1u << 28) | (1u << 9) | (1u << 5));  // + RO
  drv.put(kBufferArea + 0x1000, std::string(512, 'W'));
  EXPECT_EQ(request(B::kOut, 0, 512, false), B::kIoErr);
  EXPECT_EQ(request(B::kIn, 1, 512, true), B::kOk);
  EXPECT_EQ(drv.get(kBufferArea + 0x1000, 512), sector_pattern(1));
  std::string expected;
  for (uint64_t s = 0; s < kSectors; ++s) expected += sector_pattern(s);
  EXPECT_EQ(file_bytes(path), expected + "tail");
}

TEST_F(VirtioBlkTest, UnknownRequestTypeAnswersUnsupp) {
  attach(false);
  EXPECT_EQ(request(11, 0, 512, false), B::kUnsupp);  // DISCARD: not offered
}

TEST_F(VirtioBlkTest, HeaderSplitAcrossDescriptorsIsOneStream) {
  attach(false);
  const uint64_t h = kBufferArea;
  mem.write(h, 4, B::kIn);
  mem.write(h + 0x100, 8, 5);  // the sector, in a second buffer
  drv.set_desc(q, 0, h, 8, Virtqueue::kDescFlagNext, 1);
  drv.set_desc(q, 1, h + 0x100, 8, Virtqueue::kDescFlagNext, 2);
  drv.set_desc(q, 2, kBufferArea + 0x2000, 512 + 1, Virtqueue::kDescFlagWrite);  // data and status in one
  drv.make_available(q, 0);
  drv.notify(q);
  EXPECT_EQ(drv.get(kBufferArea + 0x2000, 512), sector_pattern(5));
  EXPECT_EQ(mem.read(kBufferArea + 0x2000 + 512, 1), B::kOk);
  EXPECT_EQ(last_used_len(), 513u);
}

TEST_F(VirtioBlkTest, RequestWithoutHeaderOrStatusNeedsReset) {
  attach(false);
  drv.set_desc(q, 0, kBufferArea, 8, Virtqueue::kDescFlagNext, 1);  // 8 header bytes only
  drv.set_desc(q, 1, kBufferArea + 0x100, 1, Virtqueue::kDescFlagWrite);
  drv.make_available(q, 0);
  drv.notify(q);
  EXPECT_EQ(dev->status(), 15u | V::kNeedsReset);
  EXPECT_EQ(dev->error(), VirtioError::kMissingBuffer);
  EXPECT_EQ(drv.rd(V::kInterruptStatus), 2u);  // configuration change
  EXPECT_EQ(drv.used_idx(q), 0u);
}

TEST_F(VirtioBlkTest, OpenErrorsAreOneLine) {
  const std::string missing = ::testing::TempDir() + "/vtlab-no-such.img";
  try {
    BlockImage image(missing, false);
    FAIL() << "opened a missing file";
  } catch (const LoadError& e) {
    EXPECT_EQ(std::string(e.what()), missing + ": cannot open: No such file or directory");
  }
  const std::string dir = ::testing::TempDir();
  try {
    BlockImage image(dir, true);
    FAIL() << "opened a directory";
  } catch (const LoadError& e) {
    EXPECT_EQ(std::string(e.what()), dir + ": not a regular file");
  }
}

}  // namespace
}  // namespace vtlab
