// The interpreter engine's own rules: budgets on virtual time, block
// boundaries, CS limits on cached code, and bounded host memory.
#include <gtest/gtest.h>

#include "support/cpu_harness.h"

namespace vtlab::test {

// A guest whose #UD handler is the faulting UD2 itself retires nothing, but
// every delivery costs virtual time, so the budget still ends the run.
TEST(Engine, FaultLoopStillUsesUpTheBudget) {
  CpuHarness h(16);
  h.mem.write(6 * 4, 4, 0x0000'1000);   // IVT[#UD] = 0000:1000
  h.load({0x0F, 0x0B});                 // ud2 at 0x1000
  h.cpu.s.seg[SS].selector = 0x8000;    // stack far from code; SP wraps in its segment
  h.cpu.s.seg[SS].base = 0x80000;
  EXPECT_EQ(h.run(1000), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.icount, 0u);
  EXPECT_EQ(h.cpu.events, 1000u);
  EXPECT_EQ(h.cpu.virtual_time(), 1000u);
}

// IP wraps from FFFF to 0 inside one 16-bit code segment; when CS.base is
// not page-aligned the byte after FFFF is in the same page, and must not be
// executed as the next instruction.
TEST(Engine, SixteenBitIpWrapsInsideTheSegment) {
  CpuHarness h(16);
  h.cpu.s.seg[CS].selector = 0x0010;
  h.cpu.s.seg[CS].base = 0x100;
  h.load({0xB8, 0x11, 0x11}, 0x100);               // IP 0000: mov ax, 0x1111
  h.mem.write_bytes(0x100 + 0xFFFE, "\x90\x90", 2);  // IP FFFE: nop; nop
  h.mem.write_bytes(0x10100, "\xB8\x22\x22", 3);     // linear base+0x10000: not code
  h.cpu.s.rip = 0xFFFE;
  h.run(3);
  EXPECT_EQ(h.reg32(RAX) & 0xFFFF, 0x1111u);
  EXPECT_EQ(h.cpu.s.rip, 0x0003u);
}

// A block decoded under a 4 GiB CS limit must not let later code run past a
// smaller limit: the instruction beyond it faults with #GP(0).
TEST(Engine, CachedBlockHonoursASmallerCsLimit) {
  CpuHarness h;
  h.load({0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90});
  h.run(8);  // decodes and caches the 8 NOPs
  h.cpu.s.rip = 0x1000;
  h.cpu.s.seg[CS].limit = 0x1003;
  h.run(4);  // the four NOPs inside the limit retire
  EXPECT_EQ(h.cpu.s.rip, 0x1004u);
  const uint64_t retired = h.cpu.icount;
  h.run(1);  // the fifth NOP is beyond the limit: #GP(0), (no IDT) shutdown
  EXPECT_EQ(h.cpu.icount, retired);
  EXPECT_EQ(h.cpu.stop_requested(), StopReason::Shutdown);
}

// One block per byte offset of a run of RETs: the cache flushes itself when
// full instead of growing with the guest.
TEST(Engine, BlockCacheIsBounded) {
  CpuHarness h;
  const uint64_t sled = 0x100000;
  const unsigned entries = BlockCache::kMaxBlocks + 100;
  std::vector<uint8_t> code(entries, 0xC3);  // ret, ret, ...
  h.mem.write_bytes(sled, code.data(), code.size());
  // esi walks the RETs: call each byte, so each offset starts a block.
  h.load_asm(R"(
    mov esi, 0x100000
    mov ecx, )" + std::to_string(entries) + R"(
  next:
    call esi
    inc esi
    loop next
  )");
  h.run_to_end();
  EXPECT_EQ(h.reg32(RSI), sled + entries);
  EXPECT_LE(h.engine.cache().size(), BlockCache::kMaxBlocks);
  EXPECT_GE(h.engine.cache().capacity_flushes(), 1u);
}

}  // namespace vtlab::test
