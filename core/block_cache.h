// Decoded blocks keyed by (physical address, decode mode), after Bochs'
// trace cache.  A block is a straight run of decoded instructions within one
// 4 KiB page, ending at a branch/system instruction, the page end or
// kMaxInsns.  Writing to a page that holds blocks drops them all (the
// physical memory code bit reports the write); dropped blocks are kept
// alive until the engine is between blocks, because the block being
// executed may be the one that wrote to its own page.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "core/decoded_insn.h"

namespace vtlab {

struct Block {
  uint64_t phys = 0;  // physical address of the first byte
  unsigned mode = 0;  // decode mode key (code size in bytes)
  std::vector<DecodedInsn> insns;
};

class BlockCache {
 public:
  static constexpr unsigned kMaxInsns = 32;

  Block* find(uint64_t phys, unsigned mode) {
    auto it = blocks_.find(key(phys, mode));
    if (it == blocks_.end()) return nullptr;
    ++hits_;
    return it->second.get();
  }
  Block* insert(std::unique_ptr<Block> b);
  // Drops every block whose first byte is in the page at `page`.
  void invalidate_page(uint64_t page);
  void flush();
  // Frees blocks dropped since the last call; only call between blocks.
  void collect() { retired_.clear(); }

  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }
  uint64_t invalidations() const { return invalidations_; }
  size_t size() const { return blocks_.size(); }
  void count_miss() { ++misses_; }

 private:
  static uint64_t key(uint64_t phys, unsigned mode) { return (phys << 4) | mode; }
  std::unordered_map<uint64_t, std::unique_ptr<Block>> blocks_;
  std::unordered_map<uint64_t, std::vector<uint64_t>> by_page_;  // page -> block keys
  std::vector<std::unique_ptr<Block>> retired_;
  uint64_t hits_ = 0, misses_ = 0, invalidations_ = 0;
};

}  // namespace vtlab
