// The virtio-mmio transport's registers and handshake (virtio 1.1, 4.2),
// seen through a virtio-console, the simplest concrete device.
#include "devices/virtio_mmio.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "devices/virtio_console.h"
#include "tests/devices/virtio_test_driver.h"

namespace vtlab {
namespace {

using namespace testing_virtio;

class VirtioMmioTest : public ::testing::Test {
 protected:
  VirtioMmioTest()
      : dev(mem, [this](bool level) { levels.push_back(level); },
            [this](uint8_t b) { out.push_back(static_cast<char>(b)); }) {
    EXPECT_TRUE(mem.map_mmio(kWindowBase, V::kWindow, &dev));
  }

  PhysicalMemory mem{kRamBytes};
  std::vector<bool> levels;
  std::string out;
  VirtioConsole dev;
  VirtioTestDriver drv{mem};
};

TEST_F(VirtioMmioTest, IdentityRegisters) {
  EXPECT_EQ(drv.rd(V::kMagicValue), 0x74726976u);
  EXPECT_EQ(drv.rd(V::kVersion), 2u);
  EXPECT_EQ(drv.rd(V::kDeviceId), 3u);
  EXPECT_EQ(drv.rd(V::kVendorId), 0x554d4551u);
  EXPECT_EQ(drv.rd(V::kStatus), 0u);
  EXPECT_EQ(drv.rd(V::kInterruptStatus), 0u);
  EXPECT_EQ(drv.rd(V::kConfigGeneration), 0u);
  EXPECT_EQ(drv.rd(V::kShmLenLow), 0xFFFFFFFFu);  // no shared memory region
  EXPECT_EQ(drv.rd(V::kShmLenHigh), 0xFFFFFFFFu);
  EXPECT_EQ(dev.bad_accesses(), 0u);
}

TEST_F(VirtioMmioTest, DeviceFeaturesBySelector) {
  drv.wr(V::kDeviceFeaturesSel, 0);
  EXPECT_EQ(drv.rd(V::kDeviceFeatures), (1u << 28) | (1u << 2));  // INDIRECT_DESC, EMERG_WRITE
  drv.wr(V::kDeviceFeaturesSel, 1);
  EXPECT_EQ(drv.rd(V::kDeviceFeatures), 1u);  // VERSION_1 (bit 32)
  drv.wr(V::kDeviceFeaturesSel, 2);
  EXPECT_EQ(drv.rd(V::kDeviceFeatures), 0u);
}

TEST_F(VirtioMmioTest, FeaturesOkSticksForASubsetWithVersion1) {
  EXPECT_EQ(drv.negotiate(V::kFeatureVersion1 | VirtioConsole::kFeatureEmergWrite), 11u);
  EXPECT_EQ(dev.driver_features(), V::kFeatureVersion1 | VirtioConsole::kFeatureEmergWrite);
  // Features are fixed from here on.
  drv.wr(V::kDriverFeaturesSel, 0);
  drv.wr(V::kDriverFeatures, 0);
  EXPECT_EQ(dev.driver_features(), V::kFeatureVersion1 | VirtioConsole::kFeatureEmergWrite);
  EXPECT_EQ(dev.bad_accesses(), 1u);
  drv.wr(V::kStatus, 15);
  EXPECT_EQ(drv.rd(V::kStatus), 15u);
}

TEST_F(VirtioMmioTest, FeaturesOkRefusedWithoutVersion1) {
  EXPECT_EQ(drv.negotiate(0), 3u);  // a legacy driver: FEATURES_OK does not stick
  // ... and DRIVER_OK without FEATURES_OK is refused too.
  drv.wr(V::kStatus, 7);
  EXPECT_EQ(drv.rd(V::kStatus), 3u);
}

TEST_F(VirtioMmioTest, FeaturesOkRefusedForAFeatureNotOffered) {
  EXPECT_EQ(drv.negotiate(V::kFeatureVersion1 | (uint64_t{1} << 1)), 3u);  // MULTIPORT
  EXPECT_EQ(drv.negotiate(V::kFeatureVersion1 | (uint64_t{1} << 29)), 3u);  // EVENT_IDX
}

TEST_F(VirtioMmioTest, DriverCannotSetNeedsResetNorClearBits) {
  EXPECT_EQ(drv.negotiate(V::kFeatureVersion1), 11u);
  drv.wr(V::kStatus, V::kNeedsReset | V::kAcknowledge);
  EXPECT_EQ(drv.rd(V::kStatus), 11u);
}

TEST_F(VirtioMmioTest, QueueRegistersAndSizeChecks) {
  ASSERT_EQ(drv.negotiate(V::kFeatureVersion1), 11u);
  drv.wr(V::kQueueSel, 0);
  EXPECT_EQ(drv.rd(V::kQueueNumMax), 256u);
  EXPECT_EQ(drv.rd(V::kQueueReady), 0u);
  drv.wr(V::kQueueSel, 2);  // console port 0 has two queues only
  EXPECT_EQ(drv.rd(V::kQueueNumMax), 0u);
  EXPECT_EQ(drv.rd(V::kQueueReady), 0u);

  const uint64_t d = kRingArea, a = kRingArea + 0x1000, u = kRingArea + 0x2000;
  EXPECT_FALSE(drv.program_queue(0, 0, d, a, u));
  EXPECT_FALSE(drv.program_queue(0, 3, d, a, u));    // not a power of two
  EXPECT_FALSE(drv.program_queue(0, 512, d, a, u));  // above QueueNumMax
  EXPECT_FALSE(drv.program_queue(0, 0x10008, d, a, u));  // not 16 bits
  EXPECT_EQ(dev.bad_accesses(), 4u);
  EXPECT_TRUE(drv.program_queue(0, 256, d, a, u));
  EXPECT_EQ(dev.queue(0).num, 256u);
  // A ready queue's layout does not change.
  drv.wr(V::kQueueNum, 8);
  drv.wr(V::kQueueDescLow, 0x2000);
  EXPECT_EQ(dev.queue(0).num, 256u);
  EXPECT_EQ(dev.queue(0).desc_addr, d);
  EXPECT_EQ(dev.bad_accesses(), 6u);
  EXPECT_FALSE(dev.queue(1).ready());
}

TEST_F(VirtioMmioTest, RingsMustBeAlignedAndInRam) {
  ASSERT_EQ(drv.negotiate(V::kFeatureVersion1), 11u);
  const uint64_t d = kRingArea, a = kRingArea + 0x1000, u = kRingArea + 0x2000;
  EXPECT_FALSE(drv.program_queue(0, 8, d + 8, a, u));  // descriptors: 16-byte aligned
  EXPECT_FALSE(drv.program_queue(0, 8, d, a + 1, u));  // avail: 2
  EXPECT_FALSE(drv.program_queue(0, 8, d, a, u + 2));  // used: 4
  // The used ring (6 + 8*8 bytes) runs past the end of RAM.
  EXPECT_FALSE(drv.program_queue(0, 8, d, a, kRamBytes - 64));
  // ... lies on the device's own registers, or above 4 GiB.
  EXPECT_FALSE(drv.program_queue(0, 8, d, a, kWindowBase));
  EXPECT_FALSE(drv.program_queue(0, 8, d, a, uint64_t{1} << 32));
  EXPECT_FALSE(drv.program_queue(0, 8, uint64_t{0xFFFFFFFFFFFFFFF0}, a, u));  // wraps
  EXPECT_TRUE(drv.program_queue(0, 8, d, a, kRamBytes - 72));                 // fits exactly
}

TEST_F(VirtioMmioTest, OnlyAlignedWordAccessesReachControlRegisters) {
  EXPECT_EQ(mem.read(kWindowBase + V::kMagicValue, 1), 0u);
  EXPECT_EQ(mem.read(kWindowBase + V::kMagicValue, 2), 0u);
  EXPECT_EQ(mem.read(kWindowBase + V::kMagicValue + 1, 4), 0u);
  EXPECT_EQ(mem.read(kWindowBase + V::kMagicValue, 8), 0u);
  mem.write(kWindowBase + V::kStatus, 1, V::kAcknowledge);
  EXPECT_EQ(drv.rd(V::kStatus), 0u);
  drv.wr(V::kMagicValue, 0);   // read-only
  EXPECT_EQ(drv.rd(V::kQueueNum), 0u);  // write-only
  EXPECT_EQ(drv.rd(0x0f0), 0u);         // no register
  EXPECT_EQ(dev.bad_accesses(), 8u);
}

TEST_F(VirtioMmioTest, WritingZeroToStatusResetsEverything) {
  TestQueue rx, tx;
  drv.bring_up({&rx, &tx});
  drv.set_desc(tx, 0, kBufferArea, 2, 0);
  drv.put(kBufferArea, "ok");
  drv.make_available(tx, 0);
  drv.notify(tx);
  ASSERT_EQ(out, "ok");
  ASSERT_EQ(drv.rd(V::kInterruptStatus), 1u);
  ASSERT_EQ(levels, std::vector<bool>({true}));

  drv.wr(V::kStatus, 0);
  EXPECT_EQ(drv.rd(V::kStatus), 0u);
  EXPECT_EQ(drv.rd(V::kInterruptStatus), 0u);
  EXPECT_EQ(levels, std::vector<bool>({true, false}));
  EXPECT_EQ(dev.driver_features(), 0u);
  for (unsigned q = 0; q < 2; ++q) {
    drv.wr(V::kQueueSel, q);
    EXPECT_EQ(drv.rd(V::kQueueReady), 0u);
    EXPECT_EQ(dev.queue(q).num, 0u);
    EXPECT_EQ(dev.queue(q).desc_addr, 0u);
  }
  // A notify now reaches no ready queue.
  drv.wr(V::kQueueNotify, 1);
  EXPECT_EQ(dev.ignored_notifies(), 1u);
  EXPECT_EQ(out, "ok");
}

TEST_F(VirtioMmioTest, InterruptAckLowersTheLineBitByBit) {
  TestQueue rx, tx;
  drv.bring_up({&rx, &tx});
  drv.set_desc(tx, 0, kBufferArea, 1, 0);
  drv.make_available(tx, 0);
  drv.notify(tx);
  EXPECT_TRUE(dev.irq_line());
  drv.wr(V::kInterruptAck, 2);  // not the pending bit
  EXPECT_EQ(drv.rd(V::kInterruptStatus), 1u);
  EXPECT_TRUE(dev.irq_line());
  drv.wr(V::kInterruptAck, 1);
  EXPECT_EQ(drv.rd(V::kInterruptStatus), 0u);
  EXPECT_FALSE(dev.irq_line());
  EXPECT_EQ(levels, std::vector<bool>({true, false}));
}

TEST_F(VirtioMmioTest, NotifyBeforeDriverOkOrOnAQueueNotReadyIsIgnored) {
  TestQueue rx, tx;
  ASSERT_EQ(drv.negotiate(V::kFeatureVersion1), 11u);
  ASSERT_TRUE(drv.setup_queue(tx, 1, 8));
  drv.set_desc(tx, 0, kBufferArea, 2, 0);
  drv.put(kBufferArea, "no");
  drv.make_available(tx, 0);
  drv.notify(tx);  // before DRIVER_OK
  drv.wr(V::kStatus, 15);
  drv.wr(V::kQueueNotify, 0);   // receiveq: never set up
  drv.wr(V::kQueueNotify, 7);   // no such queue
  EXPECT_EQ(dev.ignored_notifies(), 3u);
  EXPECT_EQ(out, "");
  EXPECT_EQ(drv.used_idx(tx), 0u);
  drv.notify(tx);  // now it goes
  EXPECT_EQ(out, "no");
  EXPECT_EQ(drv.used_idx(tx), 1u);
}

TEST_F(VirtioMmioTest, QueueDisabledAndEnabledAgainStartsFromTheRingStart) {
  TestQueue rx, tx;
  drv.bring_up({&rx, &tx});
  drv.set_desc(tx, 0, kBufferArea, 1, 0);
  drv.make_available(tx, 0);
  drv.notify(tx);
  ASSERT_EQ(dev.queue(1).used_idx(), 1u);
  drv.wr(V::kQueueSel, 1);
  drv.wr(V::kQueueReady, 0);
  EXPECT_EQ(drv.rd(V::kQueueReady), 0u);
  ASSERT_TRUE(drv.setup_queue(tx, 1, 8));
  EXPECT_EQ(dev.queue(1).used_idx(), 0u);
  EXPECT_EQ(dev.queue(1).last_avail(), 0u);
}

}  // namespace
}  // namespace vtlab
