#include <gtest/gtest.h>

#include "core/block_cache.h"
#include "support/cpu_harness.h"

namespace vtlab::test {

namespace {
std::unique_ptr<Block> block_at(uint64_t phys, unsigned bytes) {
  auto b = std::make_unique<Block>();
  b->phys = phys;
  b->mode = 4;
  b->bytes = bytes;
  return b;
}
}  // namespace

TEST(BlockCache, WriteDropsOnlyBlocksSharingItsChunk) {
  BlockCache c;
  c.insert(block_at(0x1000, 16));   // chunk 0
  c.insert(block_at(0x1100, 200));  // chunks 2-3
  EXPECT_TRUE(c.invalidate_range(0x1080, 4));  // chunk 1: nothing there
  EXPECT_NE(c.find(0x1000, 4), nullptr);
  EXPECT_NE(c.find(0x1100, 4), nullptr);
  EXPECT_EQ(c.invalidations(), 0u);

  EXPECT_TRUE(c.invalidate_range(0x11C0, 1));  // chunk 3: the second block
  EXPECT_NE(c.find(0x1000, 4), nullptr);
  EXPECT_EQ(c.find(0x1100, 4), nullptr);
  EXPECT_EQ(c.invalidations(), 1u);

  EXPECT_FALSE(c.invalidate_range(0x1000, 1));  // last block gone: page clean
  EXPECT_EQ(c.size(), 0u);
}

TEST(BlockCache, UnknownPageIsNotCode) {
  BlockCache c;
  EXPECT_FALSE(c.invalidate_range(0x5000, 8));
}

TEST(BlockCache, SameBlockDifferentModesAreDistinct) {
  BlockCache c;
  auto a = block_at(0x2000, 8);
  auto b = block_at(0x2000, 8);
  b->mode = 2;
  c.insert(std::move(a));
  c.insert(std::move(b));
  EXPECT_NE(c.find(0x2000, 4), c.find(0x2000, 2));
  EXPECT_EQ(c.size(), 2u);
}

// Self-modifying code: the store rewrites the immediate of an instruction
// later in the same decoded block; the new value must be the one executed.
TEST(BlockCache, SelfModifyingCodeInTheRunningBlock) {
  CpuHarness h;
  h.load_asm(R"(
    mov dword ptr [patch + 1], 0x22222222
  patch:
    mov eax, 0x11111111
    mov ebx, eax
  )");
  h.run_to_end();
  EXPECT_EQ(h.reg32(RAX), 0x22222222u);
  EXPECT_EQ(h.reg32(RBX), 0x22222222u);
  EXPECT_GE(h.engine.cache().invalidations(), 1u);
}

// Data next to code in the same page does not throw the code away.
TEST(BlockCache, DataWritesBesideCodeKeepTheBlock) {
  CpuHarness h;
  h.load_asm(R"(
    mov dword ptr [data], 7
    mov eax, dword ptr [data]
    jmp done
    .balign 256
  data:
    .long 0
  done:
  )");
  h.run_to_end();
  EXPECT_EQ(h.reg32(RAX), 7u);
  EXPECT_EQ(h.engine.cache().invalidations(), 0u);
}

}  // namespace vtlab::test

namespace vtlab::test {

// Lookups are memoised; no way of dropping a block may leave the memo
// pointing at it.
TEST(BlockCache, FlushAndReplacementNeverServeAStaleBlock) {
  BlockCache c;
  Block* first = c.insert(block_at(0x3000, 16));
  EXPECT_EQ(c.find(0x3000, 4), first);
  Block* second = c.insert(block_at(0x3000, 32));  // the same key decoded again
  EXPECT_EQ(c.find(0x3000, 4), second);
  EXPECT_EQ(c.find(0x3000, 4)->bytes, 32u);
  c.flush();
  EXPECT_EQ(c.find(0x3000, 4), nullptr);
  c.collect();
}

}  // namespace vtlab::test
