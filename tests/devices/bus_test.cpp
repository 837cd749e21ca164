#include "devices/bus.h"

#include <gtest/gtest.h>

#include <tuple>
#include <vector>

namespace vtlab {
namespace {

// Records every access and answers reads with a fixed pattern, so a test
// can see exactly which offset and width reached the device.
class Recorder : public BusDevice {
 public:
  struct Access {
    bool write;
    uint64_t offset;
    unsigned size;
    uint64_t value;
    bool operator==(const Access&) const = default;
  };
  uint64_t read(uint64_t offset, unsigned size) override {
    log.push_back({false, offset, size, 0});
    return reply;
  }
  void write(uint64_t offset, unsigned size, uint64_t value) override {
    log.push_back({true, offset, size, value});
  }
  std::string_view name() const override { return "recorder"; }

  uint64_t reply = 0x1122334455667788;
  std::vector<Access> log;
};

TEST(Bus, InsertRejectsEmptyNullAndWrappingRanges) {
  Bus bus("io");
  Recorder dev;
  EXPECT_FALSE(bus.insert(0x100, 0, &dev));
  EXPECT_FALSE(bus.insert(0x100, 1, nullptr));
  EXPECT_FALSE(bus.insert(~uint64_t{0} - 3, 8, &dev));
  EXPECT_FALSE(bus.insert(0x10, ~uint64_t{0}, &dev));
  EXPECT_TRUE(bus.ranges().empty());
}

TEST(Bus, InsertRejectsEveryKindOfOverlap) {
  Bus bus("io");
  Recorder a, b;
  ASSERT_TRUE(bus.insert(0x3F8, 8, &a));
  EXPECT_FALSE(bus.insert(0x3F8, 8, &b));   // identical
  EXPECT_FALSE(bus.insert(0x3F0, 9, &b));   // covers the first port
  EXPECT_FALSE(bus.insert(0x3FF, 1, &b));   // the last port
  EXPECT_FALSE(bus.insert(0x3FA, 1, &b));   // inside
  EXPECT_FALSE(bus.insert(0x300, 0x200, &b));  // encloses
  ASSERT_EQ(bus.ranges().size(), 1u);
  // Neighbours that only touch are fine.
  EXPECT_TRUE(bus.insert(0x3F0, 8, &b));
  EXPECT_TRUE(bus.insert(0x400, 1, &b));
  ASSERT_EQ(bus.ranges().size(), 3u);
  EXPECT_EQ(bus.ranges()[0].base, 0x3F0u);
  EXPECT_EQ(bus.ranges()[1].base, 0x3F8u);
  EXPECT_EQ(bus.ranges()[2].base, 0x400u);
}

TEST(Bus, InsertKeepsRangesSortedWhateverTheOrder) {
  Bus bus("io");
  Recorder d;
  ASSERT_TRUE(bus.insert(0x80, 1, &d));
  ASSERT_TRUE(bus.insert(0x3F8, 8, &d));
  ASSERT_TRUE(bus.insert(0x20, 2, &d));
  ASSERT_TRUE(bus.insert(0xE9, 1, &d));
  std::vector<uint64_t> bases;
  for (const Bus::Range& r : bus.ranges()) bases.push_back(r.base);
  EXPECT_EQ(bases, (std::vector<uint64_t>{0x20, 0x80, 0xE9, 0x3F8}));
  // An overlap with a range that is neither first nor last.
  EXPECT_FALSE(bus.insert(0x7F, 2, &d));
  EXPECT_FALSE(bus.insert(0x21, 0x5F, &d));
}

TEST(Bus, FindAtRangeEdges) {
  Bus bus("io");
  Recorder a, b;
  ASSERT_TRUE(bus.insert(0x3F8, 8, &a));
  ASSERT_TRUE(bus.insert(0x400, 4, &b));
  EXPECT_EQ(bus.find(0x3F7), nullptr);
  ASSERT_NE(bus.find(0x3F8), nullptr);
  EXPECT_EQ(bus.find(0x3F8)->device, &a);
  EXPECT_EQ(bus.find(0x3FF)->device, &a);
  EXPECT_EQ(bus.find(0x400)->device, &b);
  EXPECT_EQ(bus.find(0x403)->device, &b);
  EXPECT_EQ(bus.find(0x404), nullptr);
  EXPECT_EQ(bus.find(0), nullptr);
  EXPECT_EQ(bus.find(~uint64_t{0}), nullptr);
}

TEST(Bus, FindAtTheTopOfTheAddressSpace) {
  Bus bus("mmio");
  Recorder d;
  ASSERT_TRUE(bus.insert(~uint64_t{0} - 0xF, 0xF, &d));  // ends one short of 2^64
  EXPECT_EQ(bus.find(~uint64_t{0} - 0x10), nullptr);
  EXPECT_EQ(bus.find(~uint64_t{0} - 0xF)->device, &d);
  EXPECT_EQ(bus.find(~uint64_t{0} - 1)->device, &d);
  EXPECT_EQ(bus.find(~uint64_t{0}), nullptr);
}

TEST(Bus, DeviceSeesOffsetsFromItsBase) {
  Bus bus("io");
  Recorder d;
  ASSERT_TRUE(bus.insert(0x3F8, 8, &d));
  bus.write(0x3F8, 1, 0x41);
  bus.write(0x3FB, 1, 0x83);
  EXPECT_EQ(bus.read(0x3FD, 1), 0x88u);
  bus.write(0x3FC, 2, 0xBEEF);
  EXPECT_EQ(bus.read(0x3FE, 4), 0x55667788u);
  using A = Recorder::Access;
  EXPECT_EQ(d.log, (std::vector<A>{{true, 0, 1, 0x41},
                                   {true, 3, 1, 0x83},
                                   {false, 5, 1, 0},
                                   {true, 4, 2, 0xBEEF},
                                   {false, 6, 4, 0}}));
  EXPECT_EQ(bus.unclaimed_total(), 0u);
}

TEST(Bus, ValuesAreMaskedToTheAccessWidth) {
  Bus bus("mmio");
  Recorder d;
  ASSERT_TRUE(bus.insert(0x1000, 0x100, &d));
  bus.write(0x1000, 1, 0xABCD);
  bus.write(0x1000, 2, 0x12345678);
  bus.write(0x1000, 4, 0x1122334455667788);
  bus.write(0x1000, 8, 0x1122334455667788);
  EXPECT_EQ(d.log[0].value, 0xCDu);
  EXPECT_EQ(d.log[1].value, 0x5678u);
  EXPECT_EQ(d.log[2].value, 0x55667788u);
  EXPECT_EQ(d.log[3].value, 0x1122334455667788u);
  EXPECT_EQ(bus.read(0x1000, 1), 0x88u);
  EXPECT_EQ(bus.read(0x1000, 2), 0x7788u);
  EXPECT_EQ(bus.read(0x1000, 4), 0x55667788u);
  EXPECT_EQ(bus.read(0x1000, 8), 0x1122334455667788u);
}

TEST(Bus, UnclaimedReadsFloatHighAndAreCountedPerPort) {
  Bus bus("io");
  Recorder d;
  ASSERT_TRUE(bus.insert(0x60, 1, &d));
  EXPECT_EQ(bus.read(0x61, 1), 0xFFu);
  EXPECT_EQ(bus.read(0x61, 2), 0xFFFFu);
  EXPECT_EQ(bus.read(0x2F8, 4), 0xFFFFFFFFu);
  bus.write(0x2F8, 1, 0);
  bus.write(0x2F8, 1, 0);
  bus.write(0x5F, 1, 0);
  EXPECT_TRUE(d.log.empty());
  EXPECT_EQ(bus.unclaimed_total(), 6u);
  ASSERT_EQ(bus.unclaimed().size(), 3u);
  EXPECT_EQ(bus.unclaimed().at(0x61).reads, 2u);
  EXPECT_EQ(bus.unclaimed().at(0x61).writes, 0u);
  EXPECT_EQ(bus.unclaimed().at(0x2F8).reads, 1u);
  EXPECT_EQ(bus.unclaimed().at(0x2F8).writes, 2u);
  EXPECT_EQ(bus.unclaimed().at(0x5F).writes, 1u);
  EXPECT_EQ(bus.unclaimed().count(0x60), 0u);
}

TEST(Bus, AllOnes) {
  EXPECT_EQ(all_ones(1), 0xFFu);
  EXPECT_EQ(all_ones(2), 0xFFFFu);
  EXPECT_EQ(all_ones(4), 0xFFFFFFFFu);
  EXPECT_EQ(all_ones(8), ~uint64_t{0});
}

TEST(Bus, KeepsItsName) {
  IoBus io("io");
  MmioBus mmio("mmio");
  EXPECT_EQ(io.name(), "io");
  EXPECT_EQ(mmio.name(), "mmio");
}

}  // namespace
}  // namespace vtlab
