// PhysicalMemory: RAM, holes, ROM, MMIO, the code-page hook, and the
// bounds every access is held to.
#include "mmu/phys_memory.h"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <vector>

namespace vtlab {
namespace {

constexpr uint64_t kRam = 16ull << 20;

// An MMIO device that logs every access and answers reads with a fixed
// pattern (the low `size` bytes of 0x8877665544332211).
class LoggingDevice : public BusDevice {
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
    return 0x8877665544332211ull & all_ones(size);
  }
  void write(uint64_t offset, unsigned size, uint64_t value) override { log.push_back({true, offset, size, value}); }
  std::string_view name() const override { return "logging"; }
  std::vector<Access> log;
};

TEST(PhysMemory, RejectsBadRamSizes) {
  EXPECT_THROW(PhysicalMemory(0), std::invalid_argument);
  EXPECT_THROW(PhysicalMemory(4097), std::invalid_argument);
  EXPECT_THROW(PhysicalMemory(PhysicalMemory::kMaxRam + kPageSize), std::invalid_argument);
}

TEST(PhysMemory, RamIsLittleEndianAtEverySize) {
  PhysicalMemory mem(kRam);
  mem.write(0x1000, 8, 0x0102030405060708ull);
  EXPECT_EQ(mem.read(0x1000, 1), 0x08u);
  EXPECT_EQ(mem.read(0x1001, 2), 0x0607u);
  EXPECT_EQ(mem.read(0x1004, 4), 0x01020304u);
  EXPECT_EQ(mem.read(0x1000, 8), 0x0102030405060708ull);
  mem.write(0x1002, 2, 0xBEEF);
  EXPECT_EQ(mem.read(0x1000, 8), 0x01020304BEEF0708ull);
  EXPECT_EQ(mem.ram()[0x1002], 0xEF);
}

TEST(PhysMemory, AccessCrossingAPageBoundary) {
  PhysicalMemory mem(kRam);
  mem.write(0x1FFE, 4, 0xAABBCCDD);
  EXPECT_EQ(mem.read(0x1FFE, 4), 0xAABBCCDDu);
  EXPECT_EQ(mem.read(0x2000, 1), 0xBBu);
  EXPECT_EQ(mem.ram_ptr(0x1FFE, 4), nullptr);  // the fast path is one page only
  EXPECT_EQ(mem.ram_ptr(0x1FFC, 4), mem.ram() + 0x1FFC);
}

// Reads of holes float high; each byte read from a hole and each byte
// written to one is counted.
TEST(PhysMemory, HolesReadAllOnesAndDropWrites) {
  PhysicalMemory mem(kRam);
  EXPECT_EQ(mem.kind(kRam), PhysicalMemory::Kind::Hole);
  EXPECT_EQ(mem.read(kRam, 1), 0xFFu);
  EXPECT_EQ(mem.read(kRam, 2), 0xFFFFu);
  EXPECT_EQ(mem.read(kRam + 0x100, 4), 0xFFFFFFFFu);
  EXPECT_EQ(mem.read(0x80000000, 8), ~uint64_t{0});
  EXPECT_EQ(mem.hole_reads(), 1u + 2 + 4 + 8);
  mem.write(kRam, 4, 0);
  EXPECT_EQ(mem.dropped_writes(), 4u);
  EXPECT_EQ(mem.read(kRam, 4), 0xFFFFFFFFu);
}

TEST(PhysMemory, AccessStraddlingTheEndOfRam) {
  PhysicalMemory mem(kRam);
  mem.write(kRam - 2, 2, 0x1234);
  EXPECT_EQ(mem.read(kRam - 2, 4), 0xFFFF1234u);
  mem.write(kRam - 2, 4, 0xAABBCCDD);
  EXPECT_EQ(mem.read(kRam - 2, 2), 0xCCDDu);
  EXPECT_EQ(mem.dropped_writes(), 2u);
}

// The last byte of the 4 GiB space: a dword there has three bytes beyond
// it, which must read as a hole, not as host memory past the page table.
TEST(PhysMemory, AccessAtTheTopOfTheAddressSpaceStaysInBounds) {
  PhysicalMemory mem(kRam);
  EXPECT_EQ(mem.read(0xFFFFFFFF, 4), 0xFFFFFFFFu);
  EXPECT_EQ(mem.read(0xFFFFFFFC, 8), ~uint64_t{0});
  mem.write(0xFFFFFFFF, 4, 0);
  EXPECT_EQ(mem.dropped_writes(), 4u);
  EXPECT_EQ(mem.kind(PhysicalMemory::kAddressSpace), PhysicalMemory::Kind::Hole);
  EXPECT_EQ(mem.read(PhysicalMemory::kAddressSpace, 4), 0xFFFFFFFFu);
  EXPECT_FALSE(mem.is_code_page(PhysicalMemory::kAddressSpace));
  mem.mark_code_page(PhysicalMemory::kAddressSpace);  // ignored, not out of bounds
  EXPECT_EQ(mem.ram_ptr(0xFFFFFFFF, 1), nullptr);
}

// With MMIO in the top page, only the byte inside the space reaches the
// device; the rest is hole.
TEST(PhysMemory, MmioAtTheTopPageSeesOnlyTheByteInside) {
  PhysicalMemory mem(kRam);
  LoggingDevice dev;
  ASSERT_TRUE(mem.map_mmio(0xFFFFF000, 0x1000, &dev));
  EXPECT_EQ(mem.read(0xFFFFFFFF, 4), 0xFFFFFF11u);
  ASSERT_EQ(dev.log.size(), 1u);
  EXPECT_EQ(dev.log[0], (LoggingDevice::Access{false, 0xFFF, 1, 0}));
}

TEST(PhysMemory, MmioDispatchesWithOffsetsAndSizes) {
  PhysicalMemory mem(kRam);
  LoggingDevice dev;
  // Over RAM, as the LAPIC page would be: RAM behind it must stay untouched.
  mem.ram()[0x100020] = 0x5A;
  ASSERT_TRUE(mem.map_mmio(0x100000, 0x1000, &dev));
  EXPECT_EQ(mem.kind(0x100000), PhysicalMemory::Kind::Mmio);
  mem.write(0x100020, 4, 0xDEADBEEF);
  EXPECT_EQ(mem.read(0x100030, 2), 0x2211u);
  EXPECT_EQ(mem.read(0x100038, 8), 0x8877665544332211ull);
  ASSERT_EQ(dev.log.size(), 3u);
  EXPECT_EQ(dev.log[0], (LoggingDevice::Access{true, 0x20, 4, 0xDEADBEEF}));
  EXPECT_EQ(dev.log[1], (LoggingDevice::Access{false, 0x30, 2, 0}));
  EXPECT_EQ(dev.log[2], (LoggingDevice::Access{false, 0x38, 8, 0}));
  EXPECT_EQ(mem.ram()[0x100020], 0x5A);
  EXPECT_EQ(mem.ram_ptr(0x100020, 4), nullptr);
  // Bulk copies do not touch MMIO.
  uint8_t buf[4];
  EXPECT_FALSE(mem.read_bytes(0x100020, buf, 4));
  EXPECT_FALSE(mem.write_bytes(0x100020, buf, 4));
  EXPECT_EQ(dev.log.size(), 3u);
}

TEST(PhysMemory, MmioPageOutsideTheDeviceRangeIsUnclaimed) {
  PhysicalMemory mem(kRam);
  LoggingDevice dev;
  ASSERT_TRUE(mem.map_mmio(0xFED00000, 0x10, &dev));
  EXPECT_EQ(mem.read(0xFED00800, 4), 0xFFFFFFFFu);
  EXPECT_TRUE(dev.log.empty());
  EXPECT_EQ(mem.mmio().unclaimed_total(), 1u);
}

TEST(PhysMemory, RomReadsItsImageAndDropsWrites) {
  PhysicalMemory mem(kRam);
  std::vector<uint8_t> image(0x100);
  for (size_t i = 0; i < image.size(); ++i) image[i] = static_cast<uint8_t>(i);
  ASSERT_TRUE(mem.map_rom(0xF0000, image));
  EXPECT_EQ(mem.kind(0xF0000), PhysicalMemory::Kind::Rom);
  EXPECT_EQ(mem.read(0xF0010, 4), 0x13121110u);
  mem.write(0xF0010, 4, 0);
  EXPECT_EQ(mem.read(0xF0010, 4), 0x13121110u);
  EXPECT_EQ(mem.dropped_writes(), 4u);
  EXPECT_EQ(mem.read(0xF0100, 1), 0xFFu);  // in the ROM page, past the image
  // Loaders may place images in ROM.
  const uint8_t patch[2] = {0xAA, 0xBB};
  EXPECT_TRUE(mem.write_bytes(0xF0000, patch, 2));
  EXPECT_EQ(mem.read(0xF0000, 2), 0xBBAAu);
}

TEST(PhysMemory, MappingsRejectOverlapsAndBadRanges) {
  PhysicalMemory mem(kRam);
  LoggingDevice dev;
  ASSERT_TRUE(mem.map_rom(0xF0000, std::vector<uint8_t>(0x10000, 0)));
  EXPECT_FALSE(mem.map_rom(0xFF000, std::vector<uint8_t>(0x10, 0)));
  EXPECT_FALSE(mem.map_mmio(0xF8000, 0x10, &dev));
  ASSERT_TRUE(mem.map_mmio(0xFEE00000, 0x1000, &dev));
  EXPECT_FALSE(mem.map_rom(0xFEE00000, std::vector<uint8_t>(1, 0)));
  EXPECT_FALSE(mem.map_mmio(0xFEE00800, 0x10, &dev));  // the bus refuses the overlap
  EXPECT_FALSE(mem.map_rom(0xFFFFF000, std::vector<uint8_t>(0x2000, 0)));
  EXPECT_FALSE(mem.map_rom(0x1000, {}));
  EXPECT_FALSE(mem.map_mmio(0x1000, 0, &dev));
  EXPECT_FALSE(mem.map_mmio(0xFFFFF000, 0x2000, &dev));
}

// A write to a page holding decoded code calls the hook with the part of
// the write inside that page.  A hook answering "no code left" clears the
// page's bit, so the next write takes no detour.
TEST(PhysMemory, CodePageHookFiresOnceAndClearsTheBit) {
  PhysicalMemory mem(kRam);
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  mem.set_code_write_hook([&](uint64_t paddr, uint64_t len) {
    calls.emplace_back(paddr, len);
    return false;
  });
  mem.mark_code_page(0x5123);
  EXPECT_TRUE(mem.is_code_page(0x5000));
  mem.write(0x4010, 4, 1);  // another page
  EXPECT_TRUE(calls.empty());
  mem.write(0x5010, 4, 1);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0], std::make_pair(uint64_t{0x5010}, uint64_t{4}));
  EXPECT_FALSE(mem.is_code_page(0x5000));
  mem.write(0x5010, 4, 2);
  EXPECT_EQ(calls.size(), 1u);
}

TEST(PhysMemory, CodePageHookKeepsTheBitWhenCodeRemains) {
  PhysicalMemory mem(kRam);
  int calls = 0;
  mem.set_code_write_hook([&](uint64_t, uint64_t) { return ++calls, true; });
  mem.mark_code_page(0x5000);
  mem.write(0x5000, 1, 1);
  mem.write(0x5001, 1, 1);
  EXPECT_EQ(calls, 2);
  EXPECT_TRUE(mem.is_code_page(0x5000));
}

// However the write is split, the hook hears of exactly the bytes that
// landed in the code page.
TEST(PhysMemory, WriteStraddlingIntoACodePageReportsThePartInside) {
  PhysicalMemory mem(kRam);
  std::set<uint64_t> reported;
  mem.set_code_write_hook([&](uint64_t paddr, uint64_t len) {
    for (uint64_t a = paddr; a < paddr + len; ++a) reported.insert(a);
    return true;
  });
  mem.mark_code_page(0x6000);
  mem.write(0x5FFE, 4, 0x11223344);
  EXPECT_EQ(reported, (std::set<uint64_t>{0x6000, 0x6001}));
  EXPECT_EQ(mem.read(0x5FFE, 4), 0x11223344u);
}

// A bulk copy that stops at the end of RAM has still written the bytes
// before it: a code page among them must hear of exactly those bytes.
TEST(PhysMemory, BulkWriteStoppingEarlyStillReportsCodeWrites) {
  PhysicalMemory mem(kRam);
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  mem.set_code_write_hook([&](uint64_t paddr, uint64_t len) {
    calls.emplace_back(paddr, len);
    return false;
  });
  mem.mark_code_page(kRam - kPageSize);
  const std::vector<uint8_t> buf(0x20, 0x90);
  EXPECT_FALSE(mem.write_bytes(kRam - 0x10, buf.data(), buf.size()));
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0], std::make_pair(kRam - 0x10, uint64_t{0x10}));
  EXPECT_EQ(mem.read(kRam - 0x10, 1), 0x90u);
}

TEST(PhysMemory, BulkWriteAcrossPagesReportsEachCodePage) {
  PhysicalMemory mem(kRam);
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  mem.set_code_write_hook([&](uint64_t paddr, uint64_t len) {
    calls.emplace_back(paddr, len);
    return false;
  });
  mem.mark_code_page(0x7000);
  mem.mark_code_page(0x9000);
  const std::vector<uint8_t> buf(0x2100, 0xCC);
  EXPECT_TRUE(mem.write_bytes(0x7F00, buf.data(), buf.size()));  // 7F00..A000
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0], std::make_pair(uint64_t{0x7F00}, uint64_t{0x100}));
  EXPECT_EQ(calls[1], std::make_pair(uint64_t{0x9000}, uint64_t{0x1000}));
}

TEST(PhysMemory, ReadBytesOverAHoleFillsZerosAndFails) {
  PhysicalMemory mem(kRam);
  mem.write(kRam - 2, 2, 0xA55A);
  uint8_t buf[4] = {1, 2, 3, 4};
  EXPECT_FALSE(mem.read_bytes(kRam - 2, buf, 4));
  EXPECT_EQ(buf[0], 0x5A);
  EXPECT_EQ(buf[1], 0xA5);
  EXPECT_EQ(buf[2], 0);
  EXPECT_EQ(buf[3], 0);
  EXPECT_FALSE(mem.read_bytes(0xFFFFFFFF, buf, 2));  // runs past 4 GiB
}

}  // namespace
}  // namespace vtlab
