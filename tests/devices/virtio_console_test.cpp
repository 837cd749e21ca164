// virtio-console port 0 (virtio 1.1, 5.3): transmit and receive through
// queues the test builds in RAM, interrupt suppression, indirect
// descriptors and the emergency write register.
#include "devices/virtio_console.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/devices/virtio_test_driver.h"

namespace vtlab {
namespace {

using namespace testing_virtio;
using C = VirtioConsole;

class VirtioConsoleTest : public ::testing::Test {
 protected:
  VirtioConsoleTest()
      : dev(mem, [this](bool level) { levels.push_back(level); },
            [this](uint8_t b) { out.push_back(static_cast<char>(b)); }) {
    EXPECT_TRUE(mem.map_mmio(kWindowBase, V::kWindow, &dev));
  }

  PhysicalMemory mem{kRamBytes};
  std::vector<bool> levels;
  std::string out;
  VirtioConsole dev;
  VirtioTestDriver drv{mem};
  TestQueue rx, tx;
};

TEST_F(VirtioConsoleTest, TransmitsAChainedBufferAndInterrupts) {
  drv.bring_up({&rx, &tx});
  drv.put(kBufferArea, "Hel");
  drv.put(kBufferArea + 0x100, "lo, virtio\n");
  drv.set_desc(tx, 5, kBufferArea, 3, Virtqueue::kDescFlagNext, 2);
  drv.set_desc(tx, 2, kBufferArea + 0x100, 11, 0);
  drv.make_available(tx, 5);
  drv.notify(tx);
  EXPECT_EQ(out, "Hello, virtio\n");
  EXPECT_EQ(drv.used_idx(tx), 1u);
  EXPECT_EQ(drv.used_elem(tx, 0).id, 5u);
  EXPECT_EQ(drv.used_elem(tx, 0).len, 0u);  // nothing written into a transmit buffer
  EXPECT_EQ(drv.rd(V::kInterruptStatus), 1u);
  EXPECT_EQ(levels, std::vector<bool>({true}));
  EXPECT_EQ(dev.status(), 15u);
}

TEST_F(VirtioConsoleTest, TransmitsSeveralChainsInRingOrderAcrossTheWrap) {
  drv.bring_up({&rx, &tx}, 2);
  drv.put(kBufferArea, "abc");
  drv.set_desc(tx, 0, kBufferArea, 1, 0);
  drv.set_desc(tx, 1, kBufferArea + 1, 1, 0);
  drv.make_available(tx, 0);
  drv.make_available(tx, 1);
  drv.notify(tx);
  EXPECT_EQ(out, "ab");
  // The third chain goes in ring slot 0 again (avail.idx 3 on a queue of 2).
  drv.set_desc(tx, 0, kBufferArea + 2, 1, 0);
  drv.make_available(tx, 0);
  drv.notify(tx);
  EXPECT_EQ(out, "abc");
  EXPECT_EQ(drv.used_idx(tx), 3u);
  EXPECT_EQ(drv.used_elem(tx, 0).id, 0u);  // slot 0 rewritten by the third chain
  EXPECT_EQ(drv.used_elem(tx, 1).id, 1u);
}

TEST_F(VirtioConsoleTest, NoInterruptWhenTheDriverSuppressesIt) {
  drv.bring_up({&rx, &tx});
  drv.set_avail_flags(tx, Virtqueue::kAvailFlagNoInterrupt);
  drv.put(kBufferArea, "q");
  drv.set_desc(tx, 0, kBufferArea, 1, 0);
  drv.make_available(tx, 0);
  drv.notify(tx);
  EXPECT_EQ(out, "q");
  EXPECT_EQ(drv.used_idx(tx), 1u);
  EXPECT_EQ(drv.rd(V::kInterruptStatus), 0u);
  EXPECT_TRUE(levels.empty());
}

TEST_F(VirtioConsoleTest, ReceivesIntoAvailableBuffersInOrder) {
  drv.bring_up({&rx, &tx});
  drv.set_desc(rx, 0, kBufferArea, 4, Virtqueue::kDescFlagWrite);
  drv.set_desc(rx, 1, kBufferArea + 0x100, 4, Virtqueue::kDescFlagWrite);
  drv.make_available(rx, 0);
  drv.make_available(rx, 1);
  drv.notify(rx);  // nothing to receive yet
  EXPECT_EQ(drv.used_idx(rx), 0u);
  EXPECT_EQ(dev.receive("abcdef"), 6u);
  EXPECT_EQ(drv.used_idx(rx), 2u);
  EXPECT_EQ(drv.used_elem(rx, 0).id, 0u);
  EXPECT_EQ(drv.used_elem(rx, 0).len, 4u);
  EXPECT_EQ(drv.used_elem(rx, 1).id, 1u);
  EXPECT_EQ(drv.used_elem(rx, 1).len, 2u);
  EXPECT_EQ(drv.get(kBufferArea, 4), "abcd");
  EXPECT_EQ(drv.get(kBufferArea + 0x100, 4), std::string("ef\0\0", 4));
  EXPECT_EQ(drv.rd(V::kInterruptStatus), 1u);
  EXPECT_EQ(dev.rx_pending(), 0u);
}

TEST_F(VirtioConsoleTest, InputWaitsForBuffersThenGoesOnNotify) {
  EXPECT_EQ(dev.receive("early"), 5u);  // before the driver exists
  drv.bring_up({&rx, &tx});
  EXPECT_EQ(dev.rx_pending(), 5u);
  drv.set_desc(rx, 3, kBufferArea, 2, Virtqueue::kDescFlagWrite | Virtqueue::kDescFlagNext, 4);
  drv.set_desc(rx, 4, kBufferArea + 0x10, 16, Virtqueue::kDescFlagWrite);
  drv.make_available(rx, 3);
  drv.notify(rx);
  EXPECT_EQ(drv.used_idx(rx), 1u);
  EXPECT_EQ(drv.used_elem(rx, 0).id, 3u);
  EXPECT_EQ(drv.used_elem(rx, 0).len, 5u);
  EXPECT_EQ(drv.get(kBufferArea, 2), "ea");
  EXPECT_EQ(drv.get(kBufferArea + 0x10, 3), "rly");
  EXPECT_EQ(dev.rx_pending(), 0u);
}

TEST_F(VirtioConsoleTest, HostInputIsBounded) {
  const std::string lots(C::kRxBuffer + 100, 'x');
  EXPECT_EQ(dev.receive(lots), C::kRxBuffer);
  EXPECT_EQ(dev.rx_space(), 0u);
  EXPECT_EQ(dev.receive("y"), 0u);
}

TEST_F(VirtioConsoleTest, IndirectDescriptorsWhenNegotiated) {
  drv.bring_up({&rx, &tx}, 8, V::kFeatureIndirectDesc);
  const uint64_t table = kBufferArea + 0x1000;
  drv.put(kBufferArea, "in");
  drv.put(kBufferArea + 0x20, "direct");
  // An indirect table of two entries; entry 0 links to entry 1.
  mem.write(table, 8, kBufferArea);
  mem.write(table + 8, 4, 2);
  mem.write(table + 12, 2, Virtqueue::kDescFlagNext);
  mem.write(table + 14, 2, 1);
  mem.write(table + 16, 8, kBufferArea + 0x20);
  mem.write(table + 24, 4, 6);
  // The WRITE flag on the descriptor naming the table is ignored (spec 2.6.5.3.2).
  drv.set_desc(tx, 0, table, 32, Virtqueue::kDescFlagIndirect | Virtqueue::kDescFlagWrite);
  drv.make_available(tx, 0);
  drv.notify(tx);
  EXPECT_EQ(out, "indirect");
  EXPECT_EQ(drv.used_idx(tx), 1u);
  EXPECT_EQ(dev.status(), 15u);
}

TEST_F(VirtioConsoleTest, EmergencyWriteWorksBeforeTheDriverIsReady) {
  mem.write(kWindowBase + V::kConfig + 8, 4, 'E');
  mem.write(kWindowBase + V::kConfig + 8, 1, '!');
  EXPECT_EQ(out, "E!");
}

TEST_F(VirtioConsoleTest, ConfigSpaceReadsZeroAndEndsAtTwelveBytes) {
  EXPECT_EQ(mem.read(kWindowBase + V::kConfig, 8), 0u);  // cols, rows, max_nr_ports
  mem.write(kWindowBase + V::kConfig + 12, 4, 'X');      // past the config: no field
  mem.write(kWindowBase + V::kConfig, 4, 'Y');           // cols/rows are read-only here
  EXPECT_EQ(mem.read(kWindowBase + V::kConfig + 0xF0, 4), 0u);
  EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace vtlab
