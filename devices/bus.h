// One range registry and one handler shape for both the port I/O bus and
// the MMIO bus (as kvmtool's mmio.c does for pio and mmio).  A device sees
// offsets from its own base (as Firecracker's BusDevice does), overlapping
// inserts are rejected, and accesses nobody claims are counted, never
// silently dropped and never fatal.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace vtlab {

class BusDevice {
 public:
  virtual ~BusDevice() = default;
  // `size` is 1, 2, 4 (or 8 on MMIO); `offset` is relative to the range base
  // the device was inserted at.  Reads return the value in the low bytes.
  virtual uint64_t read(uint64_t offset, unsigned size) = 0;
  virtual void write(uint64_t offset, unsigned size, uint64_t value) = 0;
  virtual std::string_view name() const = 0;
};

class Bus {
 public:
  struct Range {
    uint64_t base;
    uint64_t length;
    BusDevice* device;
  };
  struct Unclaimed {
    uint64_t reads = 0;
    uint64_t writes = 0;
  };

  explicit Bus(std::string name) : name_(std::move(name)) {}

  // False (and nothing inserted) when the range is empty, wraps, or
  // overlaps a range already on the bus.
  bool insert(uint64_t base, uint64_t length, BusDevice* device);
  const Range* find(uint64_t addr) const;

  // Unclaimed reads return all ones in `size` bytes, as a floating ISA bus does.
  uint64_t read(uint64_t addr, unsigned size);
  void write(uint64_t addr, unsigned size, uint64_t value);

  const std::vector<Range>& ranges() const { return ranges_; }
  // Per-address counts of accesses no device claimed.
  const std::map<uint64_t, Unclaimed>& unclaimed() const { return unclaimed_; }
  uint64_t unclaimed_total() const { return unclaimed_total_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::vector<Range> ranges_;  // sorted by base, disjoint
  std::map<uint64_t, Unclaimed> unclaimed_;
  uint64_t unclaimed_total_ = 0;
};

// Port I/O space: 64 KiB of ports.  (The same class; the alias says which bus.)
using IoBus = Bus;
using MmioBus = Bus;

inline uint64_t all_ones(unsigned size) {
  return size >= 8 ? ~uint64_t{0} : (uint64_t{1} << (size * 8)) - 1;
}

}  // namespace vtlab
