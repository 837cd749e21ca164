// Decoded blocks keyed by (physical address, decode mode), after Bochs'
// trace cache.  A block is a straight run of decoded instructions within one
// 4 KiB page, ending at a branch/system instruction, the page end or
// kMaxInsns.  Code is tracked in 128-byte chunks per page (Bochs' page
// write stamps do the same): a write drops only the blocks whose bytes
// share a chunk with it, so data living next to code in one page does not
// throw the code away.  Dropped blocks stay alive until the engine is
// between blocks, because the running block may have written to itself.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <array>
#include <vector>

#include "core/decoded_insn.h"

namespace vtlab {

// What decides how the bytes at CS:RIP are fetched and run, besides the
// bytes: the same block reached under another CS, code size or CPL is not
// the same successor.
struct CodeContext {
  uint64_t cs_base = 0;
  uint64_t limit_mode_cpl = 0;  // CS limit, code size << 32, CPL << 40
  bool operator==(const CodeContext&) const = default;
};

struct Block {
  uint64_t phys = 0;  // physical address of the first byte
  unsigned mode = 0;  // decode mode key (code size in bytes)
  // Which translation of the bytes this is: 0 as decoded, 1 for a ring
  // a binary translator translates (Monitor::translated_rings).
  unsigned flavor = 0;
  unsigned bytes = 0; // length of the decoded bytes
  // Its first instruction is a debugger's stop point (Interpreter::set_stop_points).
  bool stop_point = false;
  // The decoded instructions, then one end-of-block record (the engine's
  // loop stops on reaching it).
  std::vector<DecodedInsn> insns;

  // Block chaining: the blocks that ran after this one, each with the
  // code context it was found in (CodeContext: CS base and limit, code
  // size, CPL).  A link holds while no block has been dropped
  // (BlockCache::epoch) and no TLB entry flushed (Tlb::generation) since it
  // was made: then the engine goes straight to the next block without a
  // lookup.
  struct Link {
    const Block* block = nullptr;
    uint64_t rip = 0, epoch = 0, tlb_generation = 0;
    CodeContext context;
  };
  mutable std::array<Link, 2> next{};  // fall-through and taken, most often
  mutable uint8_t next_victim = 0;
};

class BlockCache {
 public:
  static constexpr unsigned kMaxInsns = 32;
  // A guest can start a block at every byte of its RAM; past this many the
  // whole cache is flushed (as QEMU's tb_flush does), which bounds host
  // memory at roughly kMaxBlocks * kMaxInsns decoded instructions.
  static constexpr size_t kMaxBlocks = 16384;
  static constexpr unsigned kChunkShift = 7;  // 128-byte chunks, 32 per page

  // A direct-mapped memo of recent lookups sits in front of the hash map:
  // a loop finds its blocks without hashing.  Every path that drops a
  // block forgets its memo slot.
  Block* find(uint64_t phys, unsigned mode, unsigned flavor = 0) {
    const uint64_t k = key(phys, mode, flavor);
    Recent& r = recent_[recent_index(k)];
    if (r.key == k && r.block) {
      ++hits_;
      return r.block;
    }
    auto it = blocks_.find(k);
    if (it == blocks_.end()) return nullptr;
    ++hits_;
    r = Recent{k, it->second.get()};
    return r.block;
  }
  // Only call between blocks (a full cache is flushed first).
  Block* insert(std::unique_ptr<Block> b);
  // A guest write to [paddr, paddr+len), within one page: drops the blocks
  // whose chunks it touches.  Returns whether the page still holds blocks.
  bool invalidate_range(uint64_t paddr, uint64_t len);
  void flush();
  // Frees blocks dropped since the last call; only call between blocks.
  void collect() { retired_.clear(); }

  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }
  uint64_t invalidations() const { return invalidations_; }
  uint64_t capacity_flushes() const { return capacity_flushes_; }
  // Counts every block dropped: a block pointer taken while it is unchanged
  // is still alive.
  uint64_t epoch() const { return epoch_; }
  size_t size() const { return blocks_.size(); }
  void count_miss() { ++misses_; }

 private:
  // Modes are 2, 4 and 8 and flavors 0 and 1: they share the low nibble.
  static uint64_t key(uint64_t phys, unsigned mode, unsigned flavor) { return (phys << 4) | mode | flavor; }
  static constexpr size_t kRecent = 4096;
  static size_t recent_index(uint64_t k) { return (k ^ (k >> 16)) & (kRecent - 1); }
  void forget(uint64_t k) {
    Recent& r = recent_[recent_index(k)];
    if (r.key == k) r.block = nullptr;
  }
  struct Recent {
    uint64_t key = ~uint64_t{0};
    Block* block = nullptr;
  };
  std::vector<Recent> recent_ = std::vector<Recent>(kRecent);
  std::unordered_map<uint64_t, std::unique_ptr<Block>> blocks_;
  struct PageBlocks {
    uint32_t chunks = 0;         // 128-byte chunks covered by some block
    std::vector<uint64_t> keys;  // blocks starting in this page
  };
  static uint32_t chunk_mask(uint64_t paddr, uint64_t len);
  std::unordered_map<uint64_t, PageBlocks> by_page_;
  std::vector<std::unique_ptr<Block>> retired_;
  uint64_t hits_ = 0, misses_ = 0, invalidations_ = 0, capacity_flushes_ = 0, epoch_ = 0;
};

}  // namespace vtlab
