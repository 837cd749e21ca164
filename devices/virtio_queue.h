// One split virtqueue as the device side sees it, following the OASIS
// "Virtual I/O Device (VIRTIO) Version 1.1" spec, section 2.6 (1.2: 2.7):
// a descriptor table (16 bytes per entry), the driver's available ring
// (flags, idx, ring[N], used_event) and the device's used ring (flags, idx,
// ring[N] of {id, len}, avail_event).
//
// Everything the driver controls is checked before it is used:
// * enable() accepts a queue size that is a power of two no larger than
//   QueueNumMax, and ring addresses aligned as the spec's table requires
//   (16, 2, 4) whose whole extent is plain guest RAM; otherwise the queue
//   stays not ready.
// * pop() checks that avail.idx moved by at most the queue size, that every
//   descriptor index is below the queue size, that a chain has at most
//   queue-size descriptors (so a NEXT loop ends), that every buffer lies in
//   RAM, that device-writable buffers come after the readable ones, and the
//   indirect-descriptor rules (VIRTIO_F_INDIRECT_DESC is supported: a table
//   of len/16 entries, len a non-zero multiple of 16, no nesting, not
//   combined with NEXT, entries chained inside the table).  A violation is
//   a VirtioError; the transport then sets DEVICE_NEEDS_RESET.
// Ring and buffer accesses go through PhysicalMemory's bounds-checked
// accessors (read/write, read_bytes/write_bytes after is_ram), so even a
// check missed here could not reach host memory outside guest RAM.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "mmu/phys_memory.h"

namespace vtlab {

// Why a queue (and so its device) broke; kNone while all is well.
enum class VirtioError : uint8_t {
  kNone,
  kAvailIndexJump,     // avail.idx moved by more than the queue size
  kHeadOutOfRange,     // an available-ring entry names no descriptor
  kNextOutOfRange,     // a NEXT link names no descriptor
  kChainTooLong,       // more descriptors than the queue size: a loop
  kBufferOutsideRam,   // a buffer is not wholly in guest RAM
  kReadableAfterWritable,
  kBadIndirect,        // bad table length or address, INDIRECT with NEXT, nested INDIRECT
  kChainTooLarge,      // more than kMaxChainBytes in one chain
  kMissingBuffer,      // a device-specific part of the request is missing
};
std::string_view describe(VirtioError e);

// One buffer of a chain, already checked to lie in guest RAM.
struct VirtqBuffer {
  uint64_t addr;
  uint32_t len;
};

// A descriptor chain taken from the available ring: its readable buffers,
// then its writable ones, each seen as one byte stream.
struct VirtqChain {
  uint16_t head = 0;
  std::vector<VirtqBuffer> readable, writable;
  uint64_t readable_bytes = 0, writable_bytes = 0;

  // Copy [offset, offset+len) of the readable stream out, or `src` into the
  // writable stream at `offset`.  False (nothing or part copied) when the
  // range runs past the stream's end.
  bool read(PhysicalMemory& mem, uint64_t offset, void* dst, uint64_t len) const;
  bool write(PhysicalMemory& mem, uint64_t offset, const void* src, uint64_t len) const;
};

class Virtqueue {
 public:
  static constexpr uint16_t kDescFlagNext = 1, kDescFlagWrite = 2, kDescFlagIndirect = 4;
  static constexpr uint16_t kAvailFlagNoInterrupt = 1;
  // A cap on one chain's total length: a chain may name the same RAM many
  // times, and without a cap queue-size x 3 GiB would keep vtlab busy for
  // minutes.  Real drivers stay far below (Linux's block requests are at
  // most a few MiB).
  static constexpr uint64_t kMaxChainBytes = uint64_t{64} << 20;

  explicit Virtqueue(uint16_t num_max) : num_max_(num_max) {}

  // The registers the driver programs while the queue is not ready.
  uint16_t num_max() const { return num_max_; }
  uint16_t num = 0;
  uint64_t desc_addr = 0, driver_addr = 0, device_addr = 0;

  bool ready() const { return ready_; }
  // QueueReady = 1: true and ready when the size and rings check out.
  bool enable(const PhysicalMemory& mem);
  void disable() { ready_ = false; }
  // Back to the reset state (registers zero, not ready).
  void reset();

  // True when the driver has made a chain available that pop() would take.
  bool has_available(PhysicalMemory& mem) const;
  // Takes the next available chain.  Returns false when none is available
  // (error() stays kNone) or when the driver broke the rules (error() says
  // how; the queue then takes nothing more until reset).
  bool pop(PhysicalMemory& mem, bool indirect_allowed, VirtqChain& chain);
  // Returns a chain to the driver with `written` bytes put in it.  Returns
  // whether the driver wants an interrupt for it (avail.flags).
  bool push_used(PhysicalMemory& mem, uint16_t head, uint32_t written);

  VirtioError error() const { return error_; }
  uint16_t last_avail() const { return last_avail_; }
  uint16_t used_idx() const { return used_idx_; }

 private:
  bool fail(VirtioError e) {
    error_ = e;
    return false;
  }
  // Adds one descriptor's buffer to the chain (or walks its indirect table).
  bool take(PhysicalMemory& mem, uint64_t addr, uint32_t len, uint16_t flags, VirtqChain& chain);
  bool walk_indirect(PhysicalMemory& mem, uint64_t table, uint32_t len, VirtqChain& chain);

  uint16_t num_max_;
  bool ready_ = false;
  uint16_t last_avail_ = 0;  // the next avail.ring slot the device takes
  uint16_t used_idx_ = 0;    // the device's copy of used.idx
  VirtioError error_ = VirtioError::kNone;
};

}  // namespace vtlab
