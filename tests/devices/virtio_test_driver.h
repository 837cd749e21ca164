// A minimal virtio driver for the device tests: it reaches a device only
// the way a guest does (32-bit MMIO through PhysicalMemory at the device's
// window) and builds split virtqueues in a small test RAM by hand, so each
// test can lay out exactly the descriptors, rings and buffers it means,
// well-formed or hostile.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "devices/virtio_mmio.h"
#include "mmu/phys_memory.h"

namespace vtlab::testing_virtio {

using V = VirtioMmioDevice;

inline constexpr uint64_t kWindowBase = 0xFEB00000;
inline constexpr uint64_t kRamBytes = 1 << 20;
// Where the test puts queue q's rings (desc, avail, used: one page each)
// and its buffers.
inline constexpr uint64_t kRingArea = 0x10000, kRingStride = 0x4000;
inline constexpr uint64_t kBufferArea = 0x40000;

struct TestQueue {
  unsigned index = 0;
  uint16_t num = 0;
  uint64_t desc = 0, avail = 0, used = 0;
  uint16_t avail_idx = 0;
};

struct UsedElem {
  uint32_t id, len;
};

class VirtioTestDriver {
 public:
  explicit VirtioTestDriver(PhysicalMemory& mem) : mem_(mem) {}

  uint32_t rd(uint32_t reg) { return static_cast<uint32_t>(mem_.read(kWindowBase + reg, 4)); }
  void wr(uint32_t reg, uint32_t v) { mem_.write(kWindowBase + reg, 4, v); }

  // Spec 3.1.1 steps 1-6: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK.
  // Returns the status read back.
  uint32_t negotiate(uint64_t features) {
    wr(V::kStatus, 0);
    wr(V::kStatus, V::kAcknowledge);
    wr(V::kStatus, V::kAcknowledge | V::kDriver);
    wr(V::kDriverFeaturesSel, 0);
    wr(V::kDriverFeatures, static_cast<uint32_t>(features));
    wr(V::kDriverFeaturesSel, 1);
    wr(V::kDriverFeatures, static_cast<uint32_t>(features >> 32));
    wr(V::kStatus, V::kAcknowledge | V::kDriver | V::kFeaturesOk);
    return rd(V::kStatus);
  }

  // Programs queue `q` with its rings in the ring area and enables it;
  // returns whether QueueReady reads 1.
  bool setup_queue(TestQueue& tq, unsigned q, uint16_t num) {
    tq = TestQueue{};
    tq.index = q;
    tq.num = num;
    tq.desc = kRingArea + kRingStride * q;
    tq.avail = tq.desc + 0x1000;
    tq.used = tq.desc + 0x2000;
    std::vector<uint8_t> zeros(kRingStride, 0);
    mem_.write_bytes(tq.desc, zeros.data(), zeros.size());
    return program_queue(q, num, tq.desc, tq.avail, tq.used);
  }

  bool program_queue(unsigned q, uint32_t num, uint64_t desc, uint64_t avail, uint64_t used) {
    wr(V::kQueueSel, q);
    wr(V::kQueueNum, num);
    wr(V::kQueueDescLow, static_cast<uint32_t>(desc));
    wr(V::kQueueDescHigh, static_cast<uint32_t>(desc >> 32));
    wr(V::kQueueDriverLow, static_cast<uint32_t>(avail));
    wr(V::kQueueDriverHigh, static_cast<uint32_t>(avail >> 32));
    wr(V::kQueueDeviceLow, static_cast<uint32_t>(used));
    wr(V::kQueueDeviceHigh, static_cast<uint32_t>(used >> 32));
    wr(V::kQueueReady, 1);
    return rd(V::kQueueReady) == 1;
  }

  // negotiate() with VERSION_1 only, the given queues set up with `num`
  // entries, then DRIVER_OK.
  void bring_up(std::vector<TestQueue*> queues, uint16_t num = 8, uint64_t extra_features = 0) {
    ASSERT_EQ(negotiate(V::kFeatureVersion1 | extra_features), 11u);
    for (unsigned q = 0; q < queues.size(); ++q) ASSERT_TRUE(setup_queue(*queues[q], q, num));
    wr(V::kStatus, 15);
  }

  void set_desc(const TestQueue& tq, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next = 0) {
    const uint64_t d = tq.desc + 16 * uint64_t{i};
    mem_.write(d, 8, addr);
    mem_.write(d + 8, 4, len);
    mem_.write(d + 12, 2, flags);
    mem_.write(d + 14, 2, next);
  }
  // Puts `head` in the next available-ring slot and publishes it.
  void make_available(TestQueue& tq, uint16_t head) {
    mem_.write(tq.avail + 4 + 2 * (tq.avail_idx % tq.num), 2, head);
    ++tq.avail_idx;
    mem_.write(tq.avail + 2, 2, tq.avail_idx);
  }
  void notify(const TestQueue& tq) { wr(V::kQueueNotify, tq.index); }
  void set_avail_flags(const TestQueue& tq, uint16_t flags) { mem_.write(tq.avail, 2, flags); }
  void set_avail_idx(TestQueue& tq, uint16_t idx) {
    tq.avail_idx = idx;
    mem_.write(tq.avail + 2, 2, idx);
  }

  uint16_t used_idx(const TestQueue& tq) { return static_cast<uint16_t>(mem_.read(tq.used + 2, 2)); }
  UsedElem used_elem(const TestQueue& tq, uint16_t slot) {
    const uint64_t e = tq.used + 4 + 8 * static_cast<uint64_t>(slot % tq.num);
    return UsedElem{static_cast<uint32_t>(mem_.read(e, 4)), static_cast<uint32_t>(mem_.read(e + 4, 4))};
  }

  void put(uint64_t addr, const std::string& bytes) { mem_.write_bytes(addr, bytes.data(), bytes.size()); }
  std::string get(uint64_t addr, uint64_t len) {
    std::string s(len, '\0');
    mem_.read_bytes(addr, s.data(), len);
    return s;
  }

 private:
  PhysicalMemory& mem_;
};

}  // namespace vtlab::testing_virtio
