// The shape of an 8-bit ISA device: a row of byte-wide registers.  A wider
// access reaches consecutive registers one byte at a time, as the ISA bus
// splits it, and bytes past the last register float high.
#pragma once

#include <cstdint>

#include "devices/bus.h"

namespace vtlab {

class ByteRegisters : public BusDevice {
 public:
  explicit ByteRegisters(unsigned count) : count_(count) {}

  uint64_t read(uint64_t offset, unsigned size) final {
    uint64_t v = 0;
    for (unsigned i = 0; i < size; ++i) {
      const uint64_t reg = offset + i;
      const uint64_t b = reg < count_ ? read_reg(static_cast<unsigned>(reg)) : 0xFF;
      v |= b << (8 * i);
    }
    return v;
  }
  void write(uint64_t offset, unsigned size, uint64_t value) final {
    for (unsigned i = 0; i < size && offset + i < count_; ++i)
      write_reg(static_cast<unsigned>(offset + i), static_cast<uint8_t>(value >> (8 * i)));
  }

 protected:
  virtual uint8_t read_reg(unsigned reg) = 0;
  virtual void write_reg(unsigned reg, uint8_t value) = 0;

 private:
  unsigned count_;
};

}  // namespace vtlab
