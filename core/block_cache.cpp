#include "core/block_cache.h"

#include <algorithm>

#include "mmu/phys_memory.h"

namespace vtlab {

uint32_t BlockCache::chunk_mask(uint64_t paddr, uint64_t len) {
  if (len == 0) return 0;
  const unsigned first = (paddr & kPageMask) >> kChunkShift;
  const unsigned last = ((paddr & kPageMask) + len - 1) >> kChunkShift;
  const uint32_t upto_last = last >= 31 ? ~0u : ((1u << (last + 1)) - 1);
  return upto_last & ~((1u << first) - 1);
}

Block* BlockCache::insert(std::unique_ptr<Block> b) {
  if (blocks_.size() >= kMaxBlocks) {
    flush();
    ++capacity_flushes_;
  }
  b->insns.shrink_to_fit();
  const uint64_t k = key(b->phys, b->mode, b->flavor);
  Block* raw = b.get();
  auto [it, fresh] = blocks_.try_emplace(k, nullptr);
  if (!fresh) {
    forget(k);
    retired_.push_back(std::move(it->second));
    ++epoch_;
  }
  it->second = std::move(b);
  PageBlocks& pb = by_page_[raw->phys & ~kPageMask];
  pb.chunks |= chunk_mask(raw->phys, raw->bytes);
  if (fresh) pb.keys.push_back(k);
  return raw;
}

bool BlockCache::invalidate_range(uint64_t paddr, uint64_t len) {
  auto it = by_page_.find(paddr & ~kPageMask);
  if (it == by_page_.end()) return false;
  PageBlocks& pb = it->second;
  const uint32_t hit = chunk_mask(paddr, len);
  if (!(pb.chunks & hit)) return true;

  // Drop the blocks the write touches; rebuild the page's chunk mask from
  // the survivors.
  pb.chunks = 0;
  size_t kept = 0;
  for (uint64_t k : pb.keys) {
    auto b = blocks_.find(k);
    if (b == blocks_.end()) continue;
    const uint32_t mine = chunk_mask(b->second->phys, b->second->bytes);
    if (mine & hit) {
      forget(k);
      retired_.push_back(std::move(b->second));
      blocks_.erase(b);
      ++epoch_;
    } else {
      pb.chunks |= mine;
      pb.keys[kept++] = k;
    }
  }
  pb.keys.resize(kept);
  ++invalidations_;
  if (kept == 0) {
    by_page_.erase(it);
    return false;
  }
  return true;
}

void BlockCache::flush() {
  for (auto& [k, b] : blocks_) retired_.push_back(std::move(b));
  blocks_.clear();
  by_page_.clear();
  std::fill(recent_.begin(), recent_.end(), Recent{});
  ++invalidations_;
  ++epoch_;
}

}  // namespace vtlab
