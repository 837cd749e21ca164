// The TLB as the guest sees it, driven through Cpu::translate and guest
// instructions: a translation stays cached (stale) until INVLPG or a CR3
// load drops it, global entries survive CR3 loads while CR4.PGE is set, and
// a cached entry is still checked against the access it serves.
#include "mmu/tlb.h"

#include <gtest/gtest.h>

#include "support/cpu_harness.h"

namespace vtlab::test {
namespace {

constexpr uint32_t P = 1u << 0, RW = 1u << 1, US = 1u << 2, A = 1u << 5, D = 1u << 6, PS = 1u << 7, G = 1u << 8;

// Flat protected mode with 32-bit paging: the first 4 MiB identity-mapped
// (user, writable) so the harness's code, data and stack keep working, and
// a second page table for 4..8 MiB that tests fill in.
class TlbTest : public testing::Test {
 protected:
  static constexpr uint64_t kPd = 0x100000, kPt0 = 0x101000, kPt1 = 0x102000;
  static constexpr uint32_t kLin = 0x00400000;  // the first page kPt1 maps

  void SetUp() override {
    for (uint32_t i = 0; i < 1024; ++i) h.write32(kPt0 + 4 * i, (i << 12) | P | RW | US);
    h.write32(kPd + 0, static_cast<uint32_t>(kPt0) | P | RW | US);
    h.write32(kPd + 4, static_cast<uint32_t>(kPt1) | P | RW | US);
    h.cpu.s.cr3 = kPd;
    h.cpu.s.cr0 |= cr0::PG;
    h.cpu.paging_changed(false);
  }

  void set_pte(uint32_t lin, uint32_t v) { h.write32(kPt1 + 4 * ((lin >> 12) & 0x3FF), v); }
  uint32_t pte(uint32_t lin) { return h.read32(kPt1 + 4 * ((lin >> 12) & 0x3FF)); }

  // The physical address an access translates to, or ~0 if it faulted.
  uint64_t phys(uint64_t lin, Access access = Access::Read, bool user = false) {
    uint64_t p = 0;
    return h.cpu.translate(lin, access, user, p) == Status::Ok ? p : ~uint64_t{0};
  }

  CpuHarness h;
};

TEST_F(TlbTest, StaleTranslationUntilInvlpg) {
  set_pte(kLin, 0x200000 | P | RW);
  EXPECT_EQ(phys(kLin + 0x10), 0x200010u);
  set_pte(kLin, 0x300000 | P | RW);
  EXPECT_EQ(phys(kLin + 0x10), 0x200010u);  // still the cached one
  h.cpu.tlb.flush_page(kLin + 0xFFF);      // any address in the page
  EXPECT_EQ(phys(kLin + 0x10), 0x300010u);
}

// The same, as a guest sees it: the load after the PTE store still reads
// the old page; after INVLPG the new one.
TEST_F(TlbTest, GuestSeesTheStaleMappingUntilItsInvlpg) {
  set_pte(kLin, 0x200000 | P | RW);
  h.write32(0x200010, 0x11111111);
  h.write32(0x300010, 0x22222222);
  h.load_asm(R"(
    mov eax, dword ptr [0x400010]
    mov dword ptr [0x102000], 0x300003
    mov ebx, dword ptr [0x400010]
    invlpg [0x400000]
    mov ecx, dword ptr [0x400010]
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RAX), 0x11111111u);
  EXPECT_EQ(h.reg32(RBX), 0x11111111u);
  EXPECT_EQ(h.reg32(RCX), 0x22222222u);
}

// INVLPG drops one page, not its neighbours.
TEST_F(TlbTest, InvlpgDropsOnlyThatPage) {
  set_pte(kLin, 0x200000 | P);
  set_pte(kLin + 0x1000, 0x201000 | P);
  EXPECT_EQ(phys(kLin), 0x200000u);
  EXPECT_EQ(phys(kLin + 0x1000), 0x201000u);
  set_pte(kLin, 0x300000 | P);
  set_pte(kLin + 0x1000, 0x301000 | P);
  h.cpu.tlb.flush_page(kLin);
  EXPECT_EQ(phys(kLin), 0x300000u);
  EXPECT_EQ(phys(kLin + 0x1000), 0x201000u);
}

// MOV CR3 (the guest's own, reloading the same value) drops non-global
// entries; with CR4.PGE the global one survives, stale.  (The two pages sit
// in TLB slots the snippet's own fetches do not use, so nothing but the
// CR3 load can drop them.)
TEST_F(TlbTest, Cr3LoadKeepsGlobalEntriesWithPge) {
  h.cpu.s.cr4 |= cr4::PGE;
  set_pte(kLin, 0x200000 | P | G);
  set_pte(kLin + 0x2000, 0x202000 | P);
  EXPECT_EQ(phys(kLin), 0x200000u);
  EXPECT_EQ(phys(kLin + 0x2000), 0x202000u);
  set_pte(kLin, 0x300000 | P | G);
  set_pte(kLin + 0x2000, 0x302000 | P);
  h.load_asm(R"(
    mov eax, cr3
    mov cr3, eax
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(phys(kLin), 0x200000u);            // global: survived
  EXPECT_EQ(phys(kLin + 0x2000), 0x302000u);   // dropped and re-walked
}

// Without CR4.PGE the G bit means nothing: a CR3 load drops that entry too.
TEST_F(TlbTest, Cr3LoadDropsGlobalEntriesWithoutPge) {
  set_pte(kLin, 0x200000 | P | G);
  EXPECT_EQ(phys(kLin), 0x200000u);
  set_pte(kLin, 0x300000 | P | G);
  h.load_asm("mov eax, cr3\nmov cr3, eax");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(phys(kLin), 0x300000u);
}

// Toggling CR4.PGE is how a guest flushes global entries.
TEST_F(TlbTest, Cr4PgeToggleDropsGlobalEntries) {
  h.cpu.s.cr4 |= cr4::PGE;
  set_pte(kLin, 0x200000 | P | G);
  EXPECT_EQ(phys(kLin), 0x200000u);
  set_pte(kLin, 0x300000 | P | G);
  h.cpu.s.gpr[RBX] = cr4::PGE;
  h.load_asm(R"(
    mov eax, 0
    mov cr4, eax
    mov cr4, ebx
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(phys(kLin), 0x300000u);
}

// A cached dirty, writable entry keeps allowing writes after the PTE is
// made read-only, until the guest invalidates it.
TEST_F(TlbTest, StaleWritableEntryUntilInvlpg) {
  set_pte(kLin, 0x200000 | P | RW | US);
  EXPECT_EQ(phys(kLin, Access::Write, true), 0x200000u);
  EXPECT_EQ(pte(kLin), 0x200000u | P | RW | US | A | D);
  set_pte(kLin, 0x200000 | P | US | A | D);
  EXPECT_EQ(phys(kLin, Access::Write, true), 0x200000u);
  h.cpu.tlb.flush_page(kLin);
  EXPECT_EQ(phys(kLin, Access::Write, true), ~uint64_t{0});
  EXPECT_EQ(h.cpu.pending().vector, vec::PF);
  EXPECT_EQ(h.cpu.pending().error, pfec::P | pfec::W | pfec::U);
  EXPECT_EQ(h.cpu.s.cr2, kLin);
}

// An entry cached by a read is clean: the first write walks again and sets
// D in memory.
TEST_F(TlbTest, FirstWriteThroughACleanEntrySetsDirty) {
  set_pte(kLin, 0x200000 | P | RW);
  EXPECT_EQ(phys(kLin), 0x200000u);
  EXPECT_EQ(pte(kLin), 0x200000u | P | RW | A);
  EXPECT_EQ(phys(kLin + 4, Access::Write), 0x200004u);
  EXPECT_EQ(pte(kLin), 0x200000u | P | RW | A | D);
}

// Rights are checked on every access, cached or not: a supervisor read
// caches the page, a user read of it still faults.
TEST_F(TlbTest, CachedEntryStillChecksTheAccess) {
  set_pte(kLin, 0x200000 | P | RW);
  EXPECT_EQ(phys(kLin), 0x200000u);
  EXPECT_EQ(phys(kLin, Access::Read, true), ~uint64_t{0});
  EXPECT_EQ(h.cpu.pending().vector, vec::PF);
  EXPECT_EQ(h.cpu.pending().error, pfec::P | pfec::U);
}

// A page fault invalidates the TLB entry for its address (SDM 4.10.4.1):
// after a user read faults on a page now gone from the tables, the stale
// supervisor entry that refused it no longer serves supervisor reads.
TEST_F(TlbTest, PageFaultDropsTheStaleEntry) {
  set_pte(kLin, 0x200000 | P | RW);
  EXPECT_EQ(phys(kLin), 0x200000u);
  set_pte(kLin, 0);
  EXPECT_EQ(phys(kLin), 0x200000u);  // stale, as on hardware
  EXPECT_EQ(phys(kLin, Access::Read, true), ~uint64_t{0});
  EXPECT_EQ(h.cpu.pending().error, pfec::U);
  EXPECT_EQ(h.cpu.tlb.lookup(kLin), nullptr);
  EXPECT_EQ(phys(kLin), ~uint64_t{0});
  EXPECT_EQ(h.cpu.pending().error, 0u);
}

TEST_F(TlbTest, NotPresentPageFaultSetsCr2) {
  set_pte(kLin + 0x5000, 0);
  EXPECT_EQ(phys(kLin + 0x5123, Access::Write), ~uint64_t{0});
  EXPECT_EQ(h.cpu.pending().vector, vec::PF);
  EXPECT_TRUE(h.cpu.pending().has_error);
  EXPECT_EQ(h.cpu.pending().error, pfec::W);
  EXPECT_EQ(h.cpu.s.cr2, kLin + 0x5123);
}

// A 4 MiB page is cached in 4 KiB pieces; INVLPG of any address in it
// drops every piece.
TEST_F(TlbTest, InvlpgDropsAWholeLargePage) {
  h.cpu.s.cr4 |= cr4::PSE;
  h.cpu.paging_changed(false);
  h.write32(kPd + 8, 0x00C00000 | PS | P | RW);  // 8..12 MiB -> 12..16 MiB
  EXPECT_EQ(phys(0x00800000), 0x00C00000u);
  EXPECT_EQ(phys(0x009FF123), 0x00DFF123u);
  h.write32(kPd + 8, 0x00400000 | PS | P | RW);
  EXPECT_EQ(phys(0x009FF123), 0x00DFF123u);
  h.cpu.tlb.flush_page(0x00A00123);
  EXPECT_EQ(phys(0x00800000), 0x00400000u);
  EXPECT_EQ(phys(0x009FF123), 0x005FF123u);
}

TEST_F(TlbTest, PagingOffBypassesTheTlb) {
  set_pte(kLin, 0x200000 | P);
  EXPECT_EQ(phys(kLin), 0x200000u);
  h.cpu.s.cr0 &= ~cr0::PG;
  EXPECT_EQ(phys(kLin), kLin);
}

}  // namespace
}  // namespace vtlab::test
