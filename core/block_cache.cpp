#include "core/block_cache.h"

#include "mmu/phys_memory.h"

namespace vtlab {

Block* BlockCache::insert(std::unique_ptr<Block> b) {
  const uint64_t k = key(b->phys, b->mode);
  Block* raw = b.get();
  auto [it, fresh] = blocks_.try_emplace(k, nullptr);
  if (!fresh) retired_.push_back(std::move(it->second));
  it->second = std::move(b);
  if (fresh) by_page_[raw->phys & ~kPageMask].push_back(k);
  return raw;
}

void BlockCache::invalidate_page(uint64_t page) {
  auto it = by_page_.find(page);
  if (it == by_page_.end()) return;
  for (uint64_t k : it->second) {
    auto b = blocks_.find(k);
    if (b == blocks_.end()) continue;
    retired_.push_back(std::move(b->second));
    blocks_.erase(b);
  }
  by_page_.erase(it);
  ++invalidations_;
}

void BlockCache::flush() {
  for (auto& [k, b] : blocks_) retired_.push_back(std::move(b));
  blocks_.clear();
  by_page_.clear();
  ++invalidations_;
}

}  // namespace vtlab
