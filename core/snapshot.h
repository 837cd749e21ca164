// Machine checkpoints: everything a Machine needs to continue a run exactly
// as it would have from the moment it was saved, for reverse execution
// (debugger/reverse.h).  A checkpoint lives in host memory only and is
// restored into a machine of the same build and the same MachineConfig (the
// same mode, RAM size, devices and loaded image); it is not a file format.
//
// What is saved: the CPU (CpuState, the counters behind virtual time, the
// interrupt shadow, the A20 gate, pending data-breakpoint hits, the fault
// chains, the modelled TLB), the interpreter's halted state, guest RAM, the
// deadlines armed on the VirtualClock, each device's registers (its own
// save/load over SnapshotWriter/SnapshotReader below) and what the machine
// logged (serial transcript, debug console, POST codes).  The block cache is
// not saved: it is flushed, which changes no architectural result.
//
// Guest RAM: only pages that are not all zero are kept (a page the guest
// never touched is not even read: mincore says it is not resident), and a
// page equal to the same page of the previous checkpoint is shared with it,
// so a checkpoint costs the pages written since the one before, plus the
// page index and the CPU and device state.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "core/cpu.h"

namespace vtlab {

class PhysicalMemory;

// Device registers as bytes: plain values and arrays of them, copied whole.
class SnapshotWriter {
 public:
  template <typename T> void put(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>, "snapshots copy plain data only");
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  template <typename T> void put_vector(const std::vector<T>& v) {
    static_assert(std::is_trivially_copyable_v<T>, "snapshots copy plain data only");
    put(static_cast<uint64_t>(v.size()));
    const auto* p = reinterpret_cast<const uint8_t*>(v.data());
    bytes_.insert(bytes_.end(), p, p + v.size() * sizeof(T));
  }
  void put_string(const std::string& s) { put_vector(std::vector<char>(s.begin(), s.end())); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  std::vector<uint8_t> take() { return std::move(bytes_); }

 private:
  std::vector<uint8_t> bytes_;
};

// Reads back what a SnapshotWriter wrote, in the same order.  Every get
// checks the length left; after a failure ok() is false and nothing more is
// read, so a device's load can read everything and test ok() once.
class SnapshotReader {
 public:
  explicit SnapshotReader(const std::vector<uint8_t>& bytes) : bytes_(bytes) {}
  template <typename T> bool get(T& v) {
    static_assert(std::is_trivially_copyable_v<T>, "snapshots copy plain data only");
    if (!ok_ || bytes_.size() - at_ < sizeof(T)) return ok_ = false;
    std::memcpy(&v, bytes_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return true;
  }
  // `max`: the most elements a well-formed snapshot can hold here.
  template <typename T> bool get_vector(std::vector<T>& v, uint64_t max) {
    uint64_t n = 0;
    if (!get(n) || n > max || (bytes_.size() - at_) / sizeof(T) < n) return ok_ = false;
    v.resize(n);
    if (n) std::memcpy(v.data(), bytes_.data() + at_, n * sizeof(T));  // an empty vector's data() may be null
    at_ += n * sizeof(T);
    return true;
  }
  bool get_string(std::string& s, uint64_t max) {
    std::vector<char> c;
    if (!get_vector(c, max)) return false;
    s.assign(c.begin(), c.end());
    return true;
  }
  // A check a device makes on what it read (an index within its array).
  bool require(bool condition) { return ok_ = ok_ && condition; }
  bool ok() const { return ok_; }
  bool at_end() const { return ok_ && at_ == bytes_.size(); }

 private:
  const std::vector<uint8_t>& bytes_;
  size_t at_ = 0;
  bool ok_ = true;
};

// Guest RAM as a checkpoint keeps it (see the header comment).
class RamSnapshot {
 public:
  using Page = std::array<uint8_t, 4096>;
  // `previous`: the checkpoint before this one, whose unchanged pages are
  // shared (nullptr: none).
  static RamSnapshot capture(PhysicalMemory& mem, const RamSnapshot* previous);
  // False when `mem` is not the size this was taken from (nothing written).
  bool restore(PhysicalMemory& mem) const;
  size_t pages() const { return pages_.size(); }
  uint64_t ram_size() const { return ram_size_; }
  // Pages copied for this checkpoint (the rest are the previous one's).
  size_t own_pages() const { return own_pages_; }
  // Host bytes this checkpoint added: the pages it does not share with the
  // previous one, and its page index.
  uint64_t own_bytes() const;

 private:
  struct Kept {
    uint32_t index;  // page number
    std::shared_ptr<const Page> bytes;
  };
  uint64_t ram_size_ = 0;
  std::vector<Kept> pages_;  // by page number
  size_t own_pages_ = 0;
};

// One checkpoint of a whole Machine (Machine::save / Machine::restore).
struct MachineSnapshot {
  CpuState cpu;
  uint64_t icount = 0, events = 0, idle = 0, exit_cycles = 0;
  uint64_t next_rip = 0, a20_mask = ~uint64_t{0};
  uint64_t shadow_icount = 0, shadow_events = 0;
  bool shadow_blocks_debug = false;
  uint8_t data_breakpoint_hits = 0;
  bool halted = false;
  uint8_t held_data_hits = 0;
  std::array<Tlb::Entry, Tlb::kEntries> tlb{};
  std::vector<ChainedEvent> shutdown_chain, last_double_fault;
  std::vector<uint64_t> timer_deadlines;  // VirtualClock, by timer id
  std::vector<uint8_t> devices;           // each device's save(), in wiring order, then the machine's logs
  RamSnapshot ram;

  // Host bytes this checkpoint holds beyond those it shares with the one
  // before it.
  uint64_t own_bytes() const;
};

}  // namespace vtlab
