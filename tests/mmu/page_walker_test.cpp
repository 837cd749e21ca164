// The 32-bit page walker on hand-built tables: 4 KiB and 4 MiB pages, the
// accessed and dirty bits, every #PF error-code bit, CR0.WP, and CR4.PSE.
// Expected values come from SDM vol. 3, 4.3 (32-bit paging), 4.6 (access
// rights), 4.7 (page-fault exceptions) and 4.8 (accessed and dirty flags).
#include "mmu/page_walker.h"

#include <gtest/gtest.h>

#include "core/cpu_state.h"
#include "mmu/phys_memory.h"

namespace vtlab {
namespace {

// Paging-structure entry bits.
constexpr uint32_t P = 1u << 0, RW = 1u << 1, US = 1u << 2, A = 1u << 5, D = 1u << 6, PS = 1u << 7, G = 1u << 8;

class PageWalkerTest : public testing::Test {
 protected:
  static constexpr uint64_t kPd = 0x10000, kPt = 0x11000;

  void set_pde(uint32_t lin, uint32_t v) { mem.write(pde_addr(lin), 4, v); }
  void set_pte(uint32_t lin, uint32_t v) { mem.write(pte_addr(lin), 4, v); }
  uint32_t pde(uint32_t lin) { return static_cast<uint32_t>(mem.read(pde_addr(lin), 4)); }
  uint32_t pte(uint32_t lin) { return static_cast<uint32_t>(mem.read(pte_addr(lin), 4)); }

  WalkResult walk(uint32_t lin, Access access, bool user) {
    return walker.walk(WalkRequest{lin, access, user, cr0, cr3, cr4, 0});
  }

  // A 4 KiB page at `lin` -> `phys` through the one page table at kPt.
  void map_4k(uint32_t lin, uint32_t phys, uint32_t pde_flags, uint32_t pte_flags) {
    set_pde(lin, static_cast<uint32_t>(kPt) | pde_flags);
    set_pte(lin, phys | pte_flags);
  }

  PhysicalMemory mem{16ull << 20};
  PageWalker walker{mem};
  uint64_t cr0 = cr0::PE | cr0::PG | cr0::ET;
  uint64_t cr3 = kPd;
  uint64_t cr4 = 0;

 private:
  static uint64_t pde_addr(uint32_t lin) { return kPd + (lin >> 22) * 4; }
  static uint64_t pte_addr(uint32_t lin) { return kPt + ((lin >> 12) & 0x3FF) * 4; }
};

TEST_F(PageWalkerTest, FourKiBReadSetsAccessedOnly) {
  map_4k(0x00400000, 0x123000, P | RW | US, P | RW | US);
  const WalkResult r = walk(0x00400ABC, Access::Read, false);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.t.phys, 0x123ABCu);
  EXPECT_EQ(r.t.page_size, 4096u);
  EXPECT_TRUE(r.t.user);
  EXPECT_TRUE(r.t.writable);
  EXPECT_FALSE(r.t.dirty);
  EXPECT_FALSE(r.t.global);
  EXPECT_EQ(pde(0x00400000), kPt | P | RW | US | A);
  EXPECT_EQ(pte(0x00400000), 0x123000u | P | RW | US | A);
}

// D is set in the PTE only; bit 6 of a PDE that points to a page table is
// ignored by the processor and must not be touched.
TEST_F(PageWalkerTest, FourKiBWriteSetsDirtyInThePteOnly) {
  map_4k(0x00400000, 0x123000, P | RW, P | RW);
  const WalkResult r = walk(0x00400004, Access::Write, false);
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(r.t.dirty);
  EXPECT_EQ(pde(0x00400000), kPt | P | RW | A);
  EXPECT_EQ(pte(0x00400000), 0x123000u | P | RW | A | D);
}

TEST_F(PageWalkerTest, FourMiBPageWithPse) {
  cr4 = cr4::PSE;
  set_pde(0x00800000, 0x00C00000 | PS | P | RW | US);
  WalkResult r = walk(0x00812345, Access::Read, true);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.t.phys, 0x00C12345u);
  EXPECT_EQ(r.t.page_size, 4u << 20);
  EXPECT_FALSE(r.t.dirty);
  EXPECT_EQ(pde(0x00800000), 0x00C00000u | PS | P | RW | US | A);
  r = walk(0x00BFFFFF, Access::Write, true);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.t.phys, 0x00FFFFFFu);
  EXPECT_TRUE(r.t.dirty);
  EXPECT_EQ(pde(0x00800000), 0x00C00000u | PS | P | RW | US | A | D);
}

// With CR4.PSE = 0 the PS bit is ignored: the PDE points to a page table.
TEST_F(PageWalkerTest, PsBitIgnoredWithoutPse) {
  set_pde(0x00800000, static_cast<uint32_t>(kPt) | PS | P | RW);
  set_pte(0x00800000, 0x00345000 | P | RW);
  const WalkResult r = walk(0x00800123, Access::Read, false);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.t.phys, 0x00345123u);
  EXPECT_EQ(r.t.page_size, 4096u);
  EXPECT_EQ(pde(0x00800000), kPt | PS | P | RW | A);
}

// P = 0 in the PDE: the error code carries W and U for the access, P = 0,
// and nothing is marked accessed.
TEST_F(PageWalkerTest, NotPresentPdeErrorCodes) {
  set_pde(0x00400000, static_cast<uint32_t>(kPt) | RW | US);  // P clear
  struct Case {
    Access access;
    bool user;
    uint32_t error;
  } cases[] = {{Access::Read, false, 0},
               {Access::Write, false, pfec::W},
               {Access::Read, true, pfec::U},
               {Access::Write, true, pfec::W | pfec::U},
               {Access::Execute, true, pfec::U}};  // no I bit in 32-bit paging
  for (const Case& c : cases) {
    const WalkResult r = walk(0x00400000, c.access, c.user);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error_code, c.error);
  }
  EXPECT_EQ(pde(0x00400000), kPt | RW | US);
}

// EFER.NXE means nothing to 32-bit paging: no XD bit, and no I/D bit in
// the error code, since I/D needs CR4.PAE as well (SDM 4.7).
TEST_F(PageWalkerTest, NxeDoesNotApplyTo32BitPaging) {
  map_4k(0x00400000, 0x123000, P | RW | US, US);  // PTE not present
  WalkResult r = walker.walk(WalkRequest{0x00400000, Access::Execute, true, cr0, cr3, cr4, efer::NXE});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error_code, pfec::U);
  set_pte(0x00400000, 0x123000 | P);
  r = walker.walk(WalkRequest{0x00400000, Access::Execute, true, cr0, cr3, cr4, efer::NXE});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error_code, pfec::P | pfec::U);
  r = walker.walk(WalkRequest{0x00400000, Access::Execute, false, cr0, cr3, cr4, efer::NXE});
  ASSERT_TRUE(r.ok);
  EXPECT_FALSE(r.t.nx);
}

TEST_F(PageWalkerTest, NotPresentPteLeavesThePdeUnaccessed) {
  map_4k(0x00400000, 0x123000, P | RW | US, RW | US);  // PTE P clear
  const WalkResult r = walk(0x00400000, Access::Write, true);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error_code, pfec::W | pfec::U);
  EXPECT_EQ(pde(0x00400000), kPt | P | RW | US);
  EXPECT_EQ(pte(0x00400000), 0x123000u | RW | US);
}

// U/S must be 1 at both levels for a user access.
TEST_F(PageWalkerTest, UserAccessToASupervisorPage) {
  map_4k(0x00400000, 0x123000, P | RW | US, P | RW);
  WalkResult r = walk(0x00400000, Access::Read, true);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error_code, pfec::P | pfec::U);
  map_4k(0x00400000, 0x123000, P | RW, P | RW | US);
  r = walk(0x00400000, Access::Read, true);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error_code, pfec::P | pfec::U);
  EXPECT_EQ(pde(0x00400000), kPt | P | RW);  // no A on a fault
  // A supervisor access is fine (no SMAP in this model).
  r = walk(0x00400000, Access::Read, false);
  EXPECT_TRUE(r.ok);
  EXPECT_FALSE(r.t.user);
}

// R/W must be 1 at both levels for a user write, whatever CR0.WP says.
TEST_F(PageWalkerTest, UserWriteToAReadOnlyPage) {
  for (uint64_t wp : {uint64_t{0}, cr0::WP}) {
    cr0 = cr0::PE | cr0::PG | wp;
    map_4k(0x00400000, 0x123000, P | US, P | RW | US);
    WalkResult r = walk(0x00400000, Access::Write, true);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error_code, pfec::P | pfec::W | pfec::U);
    EXPECT_EQ(pte(0x00400000), 0x123000u | P | RW | US);
    // The read side of the same page works.
    r = walk(0x00400000, Access::Read, true);
    EXPECT_TRUE(r.ok);
    EXPECT_FALSE(r.t.writable);
  }
}

// CR0.WP = 0: supervisor writes ignore R/W (and set D like any write).
TEST_F(PageWalkerTest, SupervisorWriteToReadOnlyPageWithWpClear) {
  cr0 &= ~cr0::WP;
  map_4k(0x00400000, 0x123000, P | US, P | US);
  const WalkResult r = walk(0x00400010, Access::Write, false);
  ASSERT_TRUE(r.ok);
  EXPECT_FALSE(r.t.writable);
  EXPECT_EQ(pte(0x00400000), 0x123000u | P | US | A | D);
}

TEST_F(PageWalkerTest, SupervisorWriteToReadOnlyPageWithWpSet) {
  cr0 |= cr0::WP;
  map_4k(0x00400000, 0x123000, P | RW, P);
  const WalkResult r = walk(0x00400010, Access::Write, false);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error_code, pfec::P | pfec::W);
  EXPECT_EQ(pte(0x00400000), 0x123000u | P);
  EXPECT_EQ(pde(0x00400000), kPt | P | RW);
}

// Bits 21:13 of a 4 MiB PDE are reserved when MAXPHYADDR is 32: a fault
// with RSVD and P set, checked before the access rights.  Bit 12 is PAT.
TEST_F(PageWalkerTest, ReservedBitsInA4MiBPde) {
  cr4 = cr4::PSE;
  for (unsigned bit = 13; bit <= 21; ++bit) {
    set_pde(0x00800000, 0x00C00000 | (1u << bit) | PS | P | US);
    const WalkResult r = walk(0x00800000, Access::Write, true);
    EXPECT_FALSE(r.ok) << "bit " << bit;
    EXPECT_EQ(r.error_code, pfec::P | pfec::RSVD | pfec::W | pfec::U) << "bit " << bit;
    EXPECT_EQ(pde(0x00800000), 0x00C00000u | (1u << bit) | PS | P | US);
  }
  set_pde(0x00800000, 0x00C00000 | (1u << 12) | PS | P | RW);
  const WalkResult r = walk(0x00800000, Access::Read, false);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.t.phys, 0x00C00000u);
}

// The same bits of a PDE that points to a page table are address bits,
// not reserved.
TEST_F(PageWalkerTest, PageTablePointerBitsAreNotReserved) {
  cr4 = cr4::PSE;
  constexpr uint32_t kHighPt = 0x003FE000;  // bits 21:13 set
  set_pde(0x00400000, kHighPt | P | RW);
  mem.write(kHighPt + 4 * 0x001, 4, 0x00777000 | P | RW);
  const WalkResult r = walk(0x00401008, Access::Read, false);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.t.phys, 0x00777008u);
}

// G counts only with CR4.PGE, in 4 KiB PTEs and 4 MiB PDEs alike; in a
// PDE that points to a page table it is ignored.
TEST_F(PageWalkerTest, GlobalOnlyWithPge) {
  map_4k(0x00400000, 0x123000, P | RW | G, P | RW | G);
  cr4 = 0;
  EXPECT_FALSE(walk(0x00400000, Access::Read, false).t.global);
  cr4 = cr4::PGE;
  EXPECT_TRUE(walk(0x00400000, Access::Read, false).t.global);
  set_pte(0x00400000, 0x123000 | P | RW);
  EXPECT_FALSE(walk(0x00400000, Access::Read, false).t.global);  // the PDE's G does not count
  cr4 = cr4::PSE | cr4::PGE;
  set_pde(0x00800000, 0x00C00000 | PS | P | G);
  EXPECT_TRUE(walk(0x00800000, Access::Read, false).t.global);
}

TEST_F(PageWalkerTest, Cr3FlagBitsAreNotPartOfTheAddress) {
  cr3 = kPd | 0x18;  // PWT | PCD
  map_4k(0x00400000, 0x123000, P, P);
  const WalkResult r = walk(0x00400001, Access::Read, false);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.t.phys, 0x123001u);
}

TEST(PageWalkerRights, PermitsMatchesTheWalk) {
  Translation ro_user;
  ro_user.user = true;
  ro_user.writable = false;
  EXPECT_TRUE(PageWalker::permits(ro_user, Access::Read, true, 0));
  EXPECT_TRUE(PageWalker::permits(ro_user, Access::Execute, true, 0));
  EXPECT_FALSE(PageWalker::permits(ro_user, Access::Write, true, 0));
  EXPECT_TRUE(PageWalker::permits(ro_user, Access::Write, false, 0));
  EXPECT_FALSE(PageWalker::permits(ro_user, Access::Write, false, cr0::WP));
  Translation rw_sup;
  rw_sup.writable = true;
  EXPECT_FALSE(PageWalker::permits(rw_sup, Access::Read, true, 0));
  EXPECT_TRUE(PageWalker::permits(rw_sup, Access::Write, false, cr0::WP));
  Translation nx_user = ro_user;
  nx_user.nx = true;
  EXPECT_TRUE(PageWalker::permits(nx_user, Access::Read, true, 0));
  EXPECT_FALSE(PageWalker::permits(nx_user, Access::Execute, true, 0));
  EXPECT_FALSE(PageWalker::permits(nx_user, Access::Execute, false, 0));  // supervisor too
}

}  // namespace
}  // namespace vtlab
