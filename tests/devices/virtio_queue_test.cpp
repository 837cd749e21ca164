// Hostile virtqueues (virtio 1.1, 2.6): every rule a driver can break in
// the rings ends with DEVICE_NEEDS_RESET, a configuration-change
// interrupt, nothing consumed or written, and vtlab unharmed.  The
// console's transmit queue is the victim: its output shows exactly what
// was consumed.
#include "devices/virtio_queue.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "devices/virtio_console.h"
#include "tests/devices/virtio_test_driver.h"

namespace vtlab {
namespace {

using namespace testing_virtio;
using Q = Virtqueue;

class VirtioQueueTest : public ::testing::Test {
 protected:
  VirtioQueueTest()
      : dev(mem, [this](bool level) { levels.push_back(level); },
            [this](uint8_t b) { out.push_back(static_cast<char>(b)); }) {
    EXPECT_TRUE(mem.map_mmio(kWindowBase, V::kWindow, &dev));
    drv.put(kBufferArea, "xyz");
  }
  void bring_up(uint64_t extra_features = 0) { drv.bring_up({&rx, &tx}, 8, extra_features); }

  // What every broken queue must look like afterwards.
  void expect_broken(VirtioError why) {
    EXPECT_EQ(dev.error(), why) << describe(dev.error());
    EXPECT_EQ(dev.status(), 15u | V::kNeedsReset);
    EXPECT_EQ(drv.rd(V::kInterruptStatus), V::kIntConfigChange);
    EXPECT_EQ(levels, std::vector<bool>({true}));
    EXPECT_EQ(drv.used_idx(tx), 0u);
    EXPECT_EQ(out, "");
    // Nothing more is processed, even a well-formed chain, until a reset.
    drv.set_desc(tx, 7, kBufferArea, 1, 0);
    drv.set_avail_idx(tx, 0);
    drv.make_available(tx, 7);
    drv.notify(tx);
    EXPECT_EQ(out, "");
    // A reset and a fresh bring-up make the device work again.
    bring_up();
    EXPECT_EQ(dev.error(), VirtioError::kNone);
    drv.set_desc(tx, 0, kBufferArea, 3, 0);
    drv.make_available(tx, 0);
    drv.notify(tx);
    EXPECT_EQ(out, "xyz");
  }

  PhysicalMemory mem{kRamBytes};
  std::vector<bool> levels;
  std::string out;
  VirtioConsole dev;
  VirtioTestDriver drv{mem};
  TestQueue rx, tx;
};

TEST_F(VirtioQueueTest, AvailIndexJumpingPastTheQueueSize) {
  bring_up();
  drv.set_desc(tx, 0, kBufferArea, 1, 0);
  drv.set_avail_idx(tx, 9);  // 9 new entries in a ring of 8
  drv.notify(tx);
  expect_broken(VirtioError::kAvailIndexJump);
}

TEST_F(VirtioQueueTest, AvailIndexOfExactlyTheQueueSizeIsFine) {
  bring_up();
  for (uint16_t i = 0; i < 8; ++i) {
    drv.set_desc(tx, i, kBufferArea + i % 3, 1, 0);
    drv.make_available(tx, i);
  }
  drv.notify(tx);
  EXPECT_EQ(out, "xyzxyzxy");
  EXPECT_EQ(drv.used_idx(tx), 8u);
  EXPECT_EQ(dev.error(), VirtioError::kNone);
}

TEST_F(VirtioQueueTest, HeadIndexOutOfRange) {
  bring_up();
  drv.make_available(tx, 8);
  drv.notify(tx);
  expect_broken(VirtioError::kHeadOutOfRange);
}

TEST_F(VirtioQueueTest, NextIndexOutOfRange) {
  bring_up();
  drv.set_desc(tx, 0, kBufferArea, 1, Q::kDescFlagNext, 0xFFFF);
  drv.make_available(tx, 0);
  drv.notify(tx);
  expect_broken(VirtioError::kNextOutOfRange);
}

TEST_F(VirtioQueueTest, NextLoopEnds) {
  bring_up();
  drv.set_desc(tx, 0, kBufferArea, 1, Q::kDescFlagNext, 1);
  drv.set_desc(tx, 1, kBufferArea, 1, Q::kDescFlagNext, 0);
  drv.make_available(tx, 0);
  drv.notify(tx);
  expect_broken(VirtioError::kChainTooLong);
}

TEST_F(VirtioQueueTest, SelfLoopEnds) {
  bring_up();
  drv.set_desc(tx, 3, kBufferArea, 1, Q::kDescFlagNext, 3);
  drv.make_available(tx, 3);
  drv.notify(tx);
  expect_broken(VirtioError::kChainTooLong);
}

TEST_F(VirtioQueueTest, ChainOfExactlyTheQueueSizeIsFine) {
  bring_up();
  for (uint16_t i = 0; i < 8; ++i) drv.set_desc(tx, i, kBufferArea + i % 3, 1, i < 7 ? Q::kDescFlagNext : 0, i + 1);
  drv.make_available(tx, 0);
  drv.notify(tx);
  EXPECT_EQ(out, "xyzxyzxy");
  EXPECT_EQ(dev.error(), VirtioError::kNone);
}

TEST_F(VirtioQueueTest, BufferRunningPastTheEndOfRam) {
  bring_up();
  drv.set_desc(tx, 0, kRamBytes - 2, 4, 0);
  drv.make_available(tx, 0);
  drv.notify(tx);
  expect_broken(VirtioError::kBufferOutsideRam);
}

TEST_F(VirtioQueueTest, BufferOnMmioOrWrappingTheAddressSpace) {
  bring_up();
  drv.set_desc(tx, 0, kWindowBase, 4, 0);  // the device's own registers
  drv.make_available(tx, 0);
  drv.notify(tx);
  EXPECT_EQ(dev.error(), VirtioError::kBufferOutsideRam);
  bring_up();
  levels.clear();
  drv.set_desc(tx, 0, 0xFFFFFFFFFFFFFFF0ull, 0x20, 0);
  drv.make_available(tx, 0);
  drv.notify(tx);
  expect_broken(VirtioError::kBufferOutsideRam);
}

TEST_F(VirtioQueueTest, WritableBufferOutsideRamInTheReceiveQueue) {
  bring_up();
  drv.set_desc(rx, 0, kRamBytes, 16, Q::kDescFlagWrite);
  drv.make_available(rx, 0);
  dev.receive("hi");
  EXPECT_EQ(dev.error(), VirtioError::kBufferOutsideRam);
  EXPECT_EQ(drv.used_idx(rx), 0u);
  EXPECT_EQ(dev.rx_pending(), 2u);  // the input is kept for a working driver
}

TEST_F(VirtioQueueTest, ReadableAfterWritable) {
  bring_up();
  drv.set_desc(tx, 0, kBufferArea, 1, Q::kDescFlagWrite | Q::kDescFlagNext, 1);
  drv.set_desc(tx, 1, kBufferArea, 1, 0);
  drv.make_available(tx, 0);
  drv.notify(tx);
  expect_broken(VirtioError::kReadableAfterWritable);
}

TEST_F(VirtioQueueTest, OverlappingBuffersAreAcceptedUpToTheCap) {
  bring_up();
  for (uint16_t i = 0; i < 8; ++i) drv.set_desc(tx, i, 0, kRamBytes, i < 7 ? Q::kDescFlagNext : 0, i + 1);
  drv.make_available(tx, 0);
  drv.notify(tx);
  EXPECT_EQ(out.size(), 8 * kRamBytes);
  EXPECT_EQ(dev.error(), VirtioError::kNone);
}

TEST_F(VirtioQueueTest, ChainLargerThanTheCap) {
  drv.bring_up({&rx, &tx}, 128);
  constexpr uint16_t kLinks = Q::kMaxChainBytes / kRamBytes + 1;  // 65 x 1 MiB
  for (uint16_t i = 0; i < kLinks; ++i)
    drv.set_desc(tx, i, 0, kRamBytes, i + 1 < kLinks ? Q::kDescFlagNext : 0, i + 1);
  drv.make_available(tx, 0);
  drv.notify(tx);
  expect_broken(VirtioError::kChainTooLarge);
}

TEST_F(VirtioQueueTest, IndirectNotNegotiated) {
  bring_up();
  drv.set_desc(tx, 0, kBufferArea + 0x1000, 16, Q::kDescFlagIndirect);
  drv.make_available(tx, 0);
  drv.notify(tx);
  expect_broken(VirtioError::kBadIndirect);
}

TEST_F(VirtioQueueTest, IndirectWithNextFlag) {
  bring_up(V::kFeatureIndirectDesc);
  drv.set_desc(tx, 0, kBufferArea + 0x1000, 16, Q::kDescFlagIndirect | Q::kDescFlagNext, 1);
  drv.make_available(tx, 0);
  drv.notify(tx);
  EXPECT_EQ(dev.error(), VirtioError::kBadIndirect);
}

TEST_F(VirtioQueueTest, IndirectTableLengthAndPlacement) {
  const uint64_t table = kBufferArea + 0x1000;
  for (const auto& [addr, len] : std::vector<std::pair<uint64_t, uint32_t>>{
           {table, 0}, {table, 24}, {table, 16 * 9} /* more entries than the queue size */, {table + 8, 16},
           {kRamBytes - 16, 32}, {kWindowBase, 16}}) {
    bring_up(V::kFeatureIndirectDesc);
    drv.set_desc(tx, 0, addr, len, Q::kDescFlagIndirect);
    drv.make_available(tx, 0);
    drv.notify(tx);
    EXPECT_EQ(dev.error(), VirtioError::kBadIndirect) << std::hex << addr << " " << len;
  }
  EXPECT_EQ(out, "");
}

TEST_F(VirtioQueueTest, IndirectNestedOrLoopingInsideItsTable) {
  const uint64_t table = kBufferArea + 0x1000;
  bring_up(V::kFeatureIndirectDesc);
  mem.write(table, 8, table);
  mem.write(table + 8, 4, 16);
  mem.write(table + 12, 2, Q::kDescFlagIndirect);
  drv.set_desc(tx, 0, table, 16, Q::kDescFlagIndirect);
  drv.make_available(tx, 0);
  drv.notify(tx);
  EXPECT_EQ(dev.error(), VirtioError::kBadIndirect);

  bring_up(V::kFeatureIndirectDesc);
  for (uint64_t i = 0; i < 2; ++i) {
    mem.write(table + 16 * i, 8, kBufferArea);
    mem.write(table + 16 * i + 8, 4, 1);
    mem.write(table + 16 * i + 12, 2, Q::kDescFlagNext);
    mem.write(table + 16 * i + 14, 2, 1 - i);  // 0 -> 1 -> 0
  }
  drv.set_desc(tx, 0, table, 32, Q::kDescFlagIndirect);
  drv.make_available(tx, 0);
  drv.notify(tx);
  EXPECT_EQ(dev.error(), VirtioError::kChainTooLong);

  bring_up(V::kFeatureIndirectDesc);
  mem.write(table + 14, 2, 2);  // entry 0 links past the two-entry table
  drv.set_desc(tx, 0, table, 32, Q::kDescFlagIndirect);
  drv.make_available(tx, 0);
  drv.notify(tx);
  EXPECT_EQ(dev.error(), VirtioError::kNextOutOfRange);
  EXPECT_EQ(out, "");
}

TEST_F(VirtioQueueTest, NotifyOnAQueueThatIsNotReady) {
  ASSERT_EQ(drv.negotiate(V::kFeatureVersion1), 11u);
  // The transmit queue programmed with a bad size: never ready.
  EXPECT_FALSE(drv.program_queue(1, 6, kRingArea, kRingArea + 0x1000, kRingArea + 0x2000));
  drv.wr(V::kStatus, 15);
  drv.wr(V::kQueueNotify, 1);
  EXPECT_EQ(dev.ignored_notifies(), 1u);
  EXPECT_EQ(dev.status(), 15u);  // ignored, not an error
  EXPECT_EQ(out, "");
}

TEST_F(VirtioQueueTest, UsedRingOutsideRamNeverBecomesReady) {
  ASSERT_EQ(drv.negotiate(V::kFeatureVersion1), 11u);
  EXPECT_FALSE(drv.program_queue(1, 8, kRingArea, kRingArea + 0x1000, 0xFFFFF000));
  EXPECT_FALSE(drv.program_queue(1, 8, kRingArea, kRingArea + 0x1000, kRamBytes - 4));
  drv.wr(V::kStatus, 15);
  drv.wr(V::kQueueNotify, 1);
  EXPECT_EQ(dev.ignored_notifies(), 1u);
  EXPECT_FALSE(dev.queue(1).ready());
}

}  // namespace
}  // namespace vtlab
