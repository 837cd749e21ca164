// Random register writes and random ring contents against both virtio
// devices, from a fixed seed: vtlab must not crash (run it under
// VTLAB_SANITIZE to catch what a crash would not show), the interrupt line
// must always follow InterruptStatus, a broken device must say so in its
// status, the block image must never grow, and two runs from the same seed
// must end in the same state.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <sys/stat.h>

#include "devices/virtio_blk.h"
#include "devices/virtio_console.h"
#include "tests/devices/virtio_test_driver.h"

namespace vtlab {
namespace {

using namespace testing_virtio;

constexpr std::array<uint32_t, 30> kRegs = {
    V::kMagicValue, V::kVersion, V::kDeviceId, V::kVendorId, V::kDeviceFeatures, V::kDeviceFeaturesSel,
    V::kDriverFeatures, V::kDriverFeaturesSel, V::kQueueSel, V::kQueueNumMax, V::kQueueNum, V::kQueueReady,
    V::kQueueNotify, V::kInterruptStatus, V::kInterruptAck, V::kStatus, V::kQueueDescLow, V::kQueueDescHigh,
    V::kQueueDriverLow, V::kQueueDriverHigh, V::kQueueDeviceLow, V::kQueueDeviceHigh, V::kShmSel, V::kShmLenLow,
    V::kConfigGeneration, V::kConfig, V::kConfig + 4, V::kConfig + 8, 0x0f0, 0x1fc};

struct Outcome {
  std::string out;
  uint32_t status = 0, interrupt_status = 0;
  std::set<VirtioError> errors;
  uint64_t bad_accesses = 0, ignored_notifies = 0, used_interrupts = 0;
  bool operator==(const Outcome&) const = default;
};

// Drives `dev` (mapped at kWindowBase over `mem`) with `ops` random steps.
template <typename Device>
Outcome fuzz(PhysicalMemory& mem, Device& dev, bool& line, const std::string& out, uint32_t seed, int ops) {
  std::mt19937 rng(seed);
  const auto pick = [&](uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng); };
  VirtioTestDriver drv(mem);
  std::vector<TestQueue> queues(2);
  Outcome o;
  const auto value = [&]() -> uint64_t {
    switch (pick(4)) {
      case 0: return pick(17);
      case 1: return kRingArea + 0x1000 * pick(8) + 2 * pick(4);
      case 2: return uint64_t{1} << pick(64);
      default: return rng() | (uint64_t{rng()} << 32);
    }
  };
  for (int step = 0; step < ops; ++step) {
    const uint32_t used_before = dev.interrupt_status();
    switch (pick(10)) {
      case 0: {  // a well-behaved bring-up, with a random queue size (some invalid)
        drv.negotiate(V::kFeatureVersion1 | (pick(2) ? V::kFeatureIndirectDesc : 0));
        for (unsigned q = 0; q < 2; ++q) drv.setup_queue(queues[q], q, static_cast<uint16_t>(1u << pick(10)));
        drv.wr(V::kStatus, 15);
        break;
      }
      case 1: case 2: {  // any register, any width, any value
        const uint64_t offset = pick(3) ? kRegs[pick(kRegs.size())] : pick(V::kWindow);
        static constexpr unsigned kSizes[] = {1, 2, 4, 8};
        const unsigned size = pick(4) ? 4 : kSizes[pick(4)];
        if (pick(3))
          mem.write(kWindowBase + offset, size, value());
        else
          mem.read(kWindowBase + offset, size);
        break;
      }
      case 3: case 4: {  // a descriptor: often plausible, sometimes anything
        const uint64_t d = kRingArea + kRingStride * pick(2) + 16 * pick(16);
        mem.write(d, 8, pick(2) ? kBufferArea + 0x200 * pick(16) : value());
        mem.write(d + 8, 4, pick(2) ? 1 + pick(0x400) : value());
        mem.write(d + 12, 2, pick(8));  // NEXT, WRITE, INDIRECT in every combination
        mem.write(d + 14, 2, pick(4) ? pick(16) : value());
        break;
      }
      case 5: {  // publish heads, now and then with an absurd index
        TestQueue& tq = queues[pick(2)];
        if (tq.num == 0) break;
        if (pick(8))
          drv.make_available(tq, static_cast<uint16_t>(pick(tq.num + 1)));
        else
          drv.set_avail_idx(tq, static_cast<uint16_t>(value()));
        drv.set_avail_flags(tq, static_cast<uint16_t>(pick(2)));
        break;
      }
      case 6: case 7:
        drv.wr(V::kQueueNotify, static_cast<uint32_t>(pick(3)));
        break;
      case 8: {  // a block request: header, data, status as a three-descriptor chain
        const uint64_t h = kBufferArea + 0x200 * pick(16);
        static constexpr uint32_t kTypes[] = {0, 1, 4, 8, 11};
        mem.write(h, 4, kTypes[pick(5)]);
        mem.write(h + 8, 8, pick(4) ? pick(12) : value());
        const TestQueue& tq = queues[0];
        if (tq.num < 4) break;
        const auto head = static_cast<uint16_t>(pick(tq.num - 2));
        const uint16_t data_write = pick(2) ? Virtqueue::kDescFlagWrite : 0;
        drv.set_desc(tq, head, h, 16, Virtqueue::kDescFlagNext, head + 1);
        drv.set_desc(tq, head + 1, kBufferArea + 0x2000, 512 * static_cast<uint32_t>(pick(3)),
                     Virtqueue::kDescFlagNext | data_write, head + 2);
        drv.set_desc(tq, head + 2, kBufferArea + 0x1F00, 1, Virtqueue::kDescFlagWrite);
        drv.make_available(queues[0], head);
        break;
      }
      default:
        if constexpr (std::is_same_v<Device, VirtioConsole>) dev.receive(std::string(pick(40), 'r'));
        break;
    }
    // The line follows InterruptStatus, whatever happened; a broken device says so.
    const bool broken_unsaid = dev.error() != VirtioError::kNone && !(dev.status() & V::kNeedsReset);
    if (line != dev.irq_line() || dev.irq_line() != (dev.interrupt_status() != 0) || broken_unsaid) {
      ADD_FAILURE() << "seed " << seed << ", step " << step << ": line " << line << ", InterruptStatus "
                    << dev.interrupt_status() << ", status " << dev.status();
      break;
    }
    if (dev.error() != VirtioError::kNone) o.errors.insert(dev.error());
    if ((dev.interrupt_status() & V::kIntUsedBuffer) && !(used_before & V::kIntUsedBuffer)) ++o.used_interrupts;
  }
  o.out = out;
  o.status = dev.status();
  o.interrupt_status = dev.interrupt_status();
  o.bad_accesses = dev.bad_accesses();
  o.ignored_notifies = dev.ignored_notifies();
  return o;
}

Outcome fuzz_console(uint32_t seed) {
  PhysicalMemory mem(kRamBytes);
  bool line = false;
  std::string out;
  VirtioConsole dev(mem, [&](bool level) { line = level; }, [&](uint8_t b) {
    if (out.size() < 4096) out.push_back(static_cast<char>(b));
  });
  EXPECT_TRUE(mem.map_mmio(kWindowBase, V::kWindow, &dev));
  return fuzz(mem, dev, line, out, seed, 40000);
}

Outcome fuzz_blk(uint32_t seed, const std::string& path) {
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << std::string(8 * 512 + 3, 'b');
  }
  PhysicalMemory mem(kRamBytes);
  bool line = false;
  std::string out;
  VirtioBlk dev(mem, [&](bool level) { line = level; }, BlockImage(path, false));
  EXPECT_TRUE(mem.map_mmio(kWindowBase, V::kWindow, &dev));
  Outcome o = fuzz(mem, dev, line, out, seed, 40000);
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 8 * 512 + 3);  // writes stay inside the capacity
  return o;
}

TEST(VirtioFuzzTest, ConsoleSurvivesRandomRegistersAndRings) {
  const Outcome a = fuzz_console(20261125);
  // The run reached the interesting places: chains went through, and
  // drivers broke the rules in several ways.
  EXPECT_GT(a.used_interrupts, 0u);
  EXPECT_FALSE(a.out.empty());
  EXPECT_GE(a.errors.size(), 6u);
  EXPECT_GT(a.bad_accesses, 0u);
  EXPECT_TRUE(a == fuzz_console(20261125));  // deterministic
}

TEST(VirtioFuzzTest, BlockDeviceSurvivesRandomRegistersAndRings) {
  const std::string path = ::testing::TempDir() + "/vtlab-virtio-fuzz.img";
  const Outcome a = fuzz_blk(7, path);
  EXPECT_GT(a.used_interrupts, 0u);
  EXPECT_GE(a.errors.size(), 6u);
  EXPECT_TRUE(a == fuzz_blk(7, path));
  std::remove(path.c_str());
}

}  // namespace
}  // namespace vtlab
