// A POST-code catcher, like the diagnostic card a BIOS writer plugs into
// an ISA slot: firmware writes progress codes to port 0x80 (some boards use
// 0x190 too) and the card shows the last one.  Here every write is also
// logged, with its width, so tests can assert the whole sequence.
//
// The log is capped: a guest looping on OUT 0x80 (a common I/O delay idiom)
// must not grow host memory without bound.  Writes past the cap are
// counted, not stored; the readback latch still follows them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "devices/bus.h"

namespace vtlab {

class SnapshotReader;
class SnapshotWriter;

struct PostCode {
  uint16_t port;
  uint32_t value;  // as written, `size` bytes wide
  uint8_t size;
  uint64_t time = 0;  // virtual time of the write
  bool operator==(const PostCode&) const = default;
};

class PostPort : public BusDevice {
 public:
  static constexpr size_t kMaxCodes = 4096;

  // `port` is the base the machine inserts this instance at; it only labels
  // the log entries.  `now` stamps them with virtual time; `observer`
  // sees each code as it is written (for live display).
  explicit PostPort(uint16_t port, std::function<uint64_t()> now = {},
                    std::function<void(const PostCode&)> observer = {})
      : port_(port), now_(std::move(now)), observer_(std::move(observer)) {}

  // The last value written, at the width it was written; all ones before
  // the first write (what the empty ISA bus would return).
  uint64_t read(uint64_t offset, unsigned size) override;
  void write(uint64_t offset, unsigned size, uint64_t value) override;
  std::string_view name() const override { return "post_port"; }

  uint16_t port() const { return port_; }
  const std::vector<PostCode>& codes() const { return codes_; }
  uint64_t dropped() const { return dropped_; }
  void clear();

  // Checkpoints (core/snapshot.h): the registers and internal state, not
  // the wiring.  load() is false for a snapshot this device did not write.
  void save(SnapshotWriter& w) const;
  bool load(SnapshotReader& r);

 private:
  uint16_t port_;
  std::function<uint64_t()> now_;
  std::function<void(const PostCode&)> observer_;
  uint32_t latch_ = 0xFFFFFFFF;
  std::vector<PostCode> codes_;
  uint64_t dropped_ = 0;
};

}  // namespace vtlab
