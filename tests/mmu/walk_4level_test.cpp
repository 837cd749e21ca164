// The 4-level (long-mode) page walker on hand-built tables: 4 KiB, 2 MiB
// and 1 GiB pages, the entry each linear-address field selects (upper-half
// addresses included), reserved bits at every level with MAXPHYADDR = 36,
// the ignored bits 62:52, execute-disable with and without EFER.NXE, U/S and
// R/W at each of the four levels, CR0.WP, and A/D bits written exactly
// where SDM 4.8 says.  Expected values come from SDM vol. 3, 4.5 (4-level
// paging, tables 4-14 to 4-20), 4.6 (access rights), 4.7 (page-fault error
// code) and 4.8 (accessed and dirty flags).  explain() for this mode is in
// walk_4level_explain_test.cpp.
#include "mmu/page_walker.h"

#include <gtest/gtest.h>

#include "core/cpu_state.h"
#include "mmu/phys_memory.h"
#include "walk_4level_fixture.h"

namespace vtlab {
namespace {

using Walk4LevelTest = test::FourLevelTables;

constexpr uint64_t P = 1u << 0, RW = 1u << 1, US = 1u << 2, A = 1u << 5, D = 1u << 6, PS = 1u << 7, G = 1u << 8,
                   XD = uint64_t{1} << 63;
constexpr uint64_t kAll = P | RW | US;

TEST_F(Walk4LevelTest, FourKiBReadSetsAccessedAtEveryLevel) {
  map_4k(kLin, 0x123000, {kAll, kAll, kAll, kAll});
  const WalkResult r = walk(kLin, Access::Read, true);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.t.phys, 0x123ABCu);
  EXPECT_EQ(r.t.page_size, 4096u);
  EXPECT_TRUE(r.t.user);
  EXPECT_TRUE(r.t.writable);
  EXPECT_FALSE(r.t.nx);
  EXPECT_FALSE(r.t.dirty);
  EXPECT_FALSE(r.t.global);
  // The entries the four fields of kLin select (bits 47:39, 38:30, 29:21, 20:12).
  EXPECT_EQ(pml4e_addr(kLin), kPml4 + 8 * 0x0FF);
  EXPECT_EQ(pdpte_addr(kLin), kPdpt + 8 * 0x102);
  EXPECT_EQ(pde_addr(kLin), kPd + 8 * 3);
  EXPECT_EQ(pte_addr(kLin), kPt + 8 * 4);
  EXPECT_EQ(entry(pml4e_addr(kLin)), kPdpt | kAll | A);
  EXPECT_EQ(entry(pdpte_addr(kLin)), kPd | kAll | A);
  EXPECT_EQ(entry(pde_addr(kLin)), kPt | kAll | A);
  EXPECT_EQ(entry(pte_addr(kLin)), 0x123000 | kAll | A);
}

// D goes into the PTE only (bit 6 of the entries above it is ignored);
// an A already set stays as it is.
TEST_F(Walk4LevelTest, FourKiBWriteSetsDirtyInThePteOnly) {
  map_4k(kLin, 0x123000, {P | RW, P | RW | A, P | RW, P | RW});
  const WalkResult r = walk(kLin + 8 - 0xABC, Access::Write, false);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.t.phys, 0x123008u);
  EXPECT_TRUE(r.t.dirty);
  EXPECT_EQ(entry(pml4e_addr(kLin)), kPdpt | P | RW | A);
  EXPECT_EQ(entry(pdpte_addr(kLin)), kPd | P | RW | A);
  EXPECT_EQ(entry(pde_addr(kLin)), kPt | P | RW | A);
  EXPECT_EQ(entry(pte_addr(kLin)), 0x123000 | P | RW | A | D);
}

// A PDE with PS=1 maps 2 MiB; the PAT bit (12) is not an address bit.  A
// and D go into the PDE, A only into the PML4E and PDPTE.
TEST_F(Walk4LevelTest, TwoMiBPage) {
  map_2m(kLin, 0x00A00000 | (1u << 12), {kAll, kAll, kAll});
  WalkResult r = walk(kLin, Access::Read, true);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.t.phys, 0x00A04ABCu);
  EXPECT_EQ(r.t.page_size, 2u << 20);
  EXPECT_FALSE(r.t.dirty);
  EXPECT_EQ(entry(pde_addr(kLin)), 0x00A00000 | (1u << 12) | PS | kAll | A);
  r = walk(kLin | 0x1FFFFF, Access::Write, true);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.t.phys, 0x00BFFFFFu);
  EXPECT_TRUE(r.t.dirty);
  EXPECT_EQ(entry(pml4e_addr(kLin)), kPdpt | kAll | A);
  EXPECT_EQ(entry(pdpte_addr(kLin)), kPd | kAll | A);
  EXPECT_EQ(entry(pde_addr(kLin)), 0x00A00000 | (1u << 12) | PS | kAll | A | D);
  EXPECT_EQ(entry(pte_addr(kLin)), 0u);  // no page table was read
}

// A PDPTE with PS=1 maps 1 GiB from bits 35:30; bit 12 is PAT.
TEST_F(Walk4LevelTest, OneGiBPage) {
  map_1g(kLin, 0xFC0000000 | (1u << 12), {kAll, kAll});
  WalkResult r = walk(kLin, Access::Read, false);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.t.phys, 0xFC0604ABCu);
  EXPECT_EQ(r.t.page_size, uint64_t{1} << 30);
  EXPECT_FALSE(r.t.dirty);
  EXPECT_EQ(entry(pdpte_addr(kLin)), 0xFC0000000 | (1u << 12) | PS | kAll | A);
  r = walk(kLin | 0x3FFFFFFF, Access::Write, true);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.t.phys, 0xFFFFFFFFFu);
  EXPECT_TRUE(r.t.dirty);
  EXPECT_EQ(entry(pml4e_addr(kLin)), kPdpt | kAll | A);
  EXPECT_EQ(entry(pdpte_addr(kLin)), 0xFC0000000 | (1u << 12) | PS | kAll | A | D);
  EXPECT_EQ(entry(pde_addr(kLin)), 0u);
}

// Upper-half addresses index the PML4 from bit 47 up (entry 256 and on);
// bits 63:48 only repeat bit 47 and play no part in the walk.
TEST_F(Walk4LevelTest, UpperHalfAddresses) {
  constexpr uint64_t kHigh = 0xFFFF800000001234, kTop = 0xFFFFFFFFFFFFF123;
  map_4k(kHigh, 0x200000, {kAll, kAll, kAll, kAll});
  map_4k(kTop, 0x300000, {kAll, kAll, kAll, kAll});
  EXPECT_EQ(pml4e_addr(kHigh), kPml4 + 8 * 256);
  EXPECT_EQ(pte_addr(kHigh), kPt + 8 * 1);
  EXPECT_EQ(pml4e_addr(kTop), kPml4 + 8 * 511);
  EXPECT_EQ(pte_addr(kTop), kPt + 8 * 511);
  WalkResult r = walk(kHigh, Access::Write, false);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.t.phys, 0x200234u);
  EXPECT_EQ(entry(kPml4 + 8 * 256), kPdpt | kAll | A);
  r = walk(kTop, Access::Read, true);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.t.phys, 0x300123u);
  r = walk(kHigh & 0x0000FFFFFFFFFFFF, Access::Read, false);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.t.phys, 0x200234u);
  // The lower-half address with the same low 32 bits uses PML4E 0.
  expect_fault(kHigh & 0xFFFFFFFF, Access::Read, false, 0);
}

// CR3 bits 11:0 (PWT, PCD and ignored bits; no PCIDs) do not move the PML4.
TEST_F(Walk4LevelTest, Cr3LowBitsAreNotAddressBits) {
  map_4k(kLin, 0x123000, {kAll, kAll, kAll, kAll});
  cr3 = kPml4 | 0xFFF;
  const WalkResult r = walk(kLin, Access::Read, false);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.t.phys, 0x123ABCu);
}

// P=0 at any level: W/U of the access (I for a fetch with NXE), P=0,
// nothing written anywhere; reserved bits of a non-present entry do not
// matter.
TEST_F(Walk4LevelTest, NotPresentAtEachLevel) {
  for (unsigned level = 0; level < 4; ++level) {
    SCOPED_TRACE(level);
    std::array<uint64_t, 4> flags{kAll, kAll, kAll, kAll};
    flags[level] = RW | US | PS | (uint64_t{1} << 40) | XD;
    map_4k(kLin, 0x123000, flags);
    expect_fault(kLin, Access::Write, true, pfec::W | pfec::U);
    expect_fault(kLin, Access::Read, false, 0);
    efer |= efer::NXE;
    expect_fault(kLin, Access::Execute, true, pfec::U | pfec::I);
    efer &= ~efer::NXE;
    expect_fault(kLin, Access::Execute, false, 0);
    EXPECT_EQ(entry(pml4e_addr(kLin)) & A, 0u);
    EXPECT_EQ(entry(pte_addr(kLin)) & A, 0u);
  }
}

// Every reserved bit gives P|RSVD plus the access bits, before any rights
// check, at the level where it is; nothing is written.
TEST_F(Walk4LevelTest, ReservedBitsAtEachLevel) {
  enum Kind { k4K, k2M, k1G };
  struct Case {
    const char* where;
    Kind kind;
    unsigned level;  // 0 = PML4E .. 3 = PTE
    uint64_t bits;
  } cases[] = {
      {"PML4E bit 7 (PS)", k4K, 0, PS},           {"PML4E bit 36", k4K, 0, uint64_t{1} << 36},
      {"PML4E bit 51", k4K, 0, uint64_t{1} << 51}, {"PML4E bit 63 (NXE=0)", k4K, 0, XD},
      {"PDPTE bit 36", k4K, 1, uint64_t{1} << 36}, {"PDPTE bit 51", k4K, 1, uint64_t{1} << 51},
      {"PDPTE bit 63 (NXE=0)", k4K, 1, XD},        {"1G PDPTE bit 13", k1G, 1, 1u << 13},
      {"1G PDPTE bit 29", k1G, 1, 1u << 29},       {"1G PDPTE bit 40", k1G, 1, uint64_t{1} << 40},
      {"1G PDPTE bit 63 (NXE=0)", k1G, 1, XD},     {"PDE bit 36", k4K, 2, uint64_t{1} << 36},
      {"PDE bit 51", k4K, 2, uint64_t{1} << 51},   {"PDE bit 63 (NXE=0)", k4K, 2, XD},
      {"2M PDE bit 13", k2M, 2, 1u << 13},         {"2M PDE bit 20", k2M, 2, 1u << 20},
      {"2M PDE bit 51", k2M, 2, uint64_t{1} << 51}, {"PTE bit 36", k4K, 3, uint64_t{1} << 36},
      {"PTE bit 51", k4K, 3, uint64_t{1} << 51},   {"PTE bit 63 (NXE=0)", k4K, 3, XD},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.where);
    // A user write to a read-only page: the rights would fault too, but
    // the reserved bit is found first.
    std::array<uint64_t, 4> flags{P | US, P | US, P | US, P | US};
    flags[c.level] |= c.bits;
    if (c.kind == k4K) map_4k(kLin, 0x123000, flags);
    else if (c.kind == k2M) map_2m(kLin, 0x00A00000, {flags[0], flags[1], flags[2]});
    else map_1g(kLin, 0x40000000, {flags[0], flags[1]});
    expect_fault(kLin, Access::Write, true, pfec::P | pfec::RSVD | pfec::W | pfec::U);
    EXPECT_EQ(entry(pml4e_addr(kLin)) & A, 0u);
  }
  // A reserved-bit fault on a fetch has I/D once NXE is on.
  efer |= efer::NXE;
  map_4k(kLin, 0x123000, {kAll, kAll | (uint64_t{1} << 40), kAll, kAll});
  expect_fault(kLin, Access::Execute, false, pfec::P | pfec::RSVD | pfec::I);
}

// Bits the 4-level formats ignore: 62:52 (reserved in PAE paging), 11:9,
// 6 and 8 of the PML4E and of non-leaf PDPTEs and PDEs, and PAT (bit 7 of
// a PTE, 12 of a large page).  None changes the page found.
TEST_F(Walk4LevelTest, IgnoredBitsAreNotReserved) {
  constexpr uint64_t kIgnored = (uint64_t{0x7FF} << 52) | (7u << 9);
  for (uint64_t nxe : {uint64_t{0}, efer::NXE}) {
    SCOPED_TRACE(nxe);
    efer = efer::LME | efer::LMA | nxe;
    map_4k(kLin, 0x123000,
           {kAll | kIgnored | D | G, kAll | kIgnored | D | G, kAll | kIgnored | D | G, kAll | kIgnored | PS});
    WalkResult r = walk(kLin, Access::Execute, true);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.t.phys, 0x123ABCu);
    map_2m(kLin, 0x00A00000 | (1u << 12), {kAll | kIgnored, kAll | kIgnored, kAll | kIgnored});
    r = walk(kLin, Access::Read, true);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.t.phys, 0x00A04ABCu);
    map_1g(kLin, 0x40000000 | (1u << 12), {kAll | kIgnored, kAll | kIgnored});
    r = walk(kLin, Access::Read, true);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.t.phys, 0x40604ABCu);
  }
}

// Execute-disable with EFER.NXE at any one of the levels (and in either
// large-page entry): fetches fault with P and I (and U for a user fetch),
// reads and writes do not.
TEST_F(Walk4LevelTest, ExecuteDisableAtEachLevelWithNxe) {
  efer |= efer::NXE;
  for (unsigned level = 0; level < 4; ++level) {
    SCOPED_TRACE(level);
    std::array<uint64_t, 4> flags{kAll, kAll, kAll, kAll};
    flags[level] |= XD;
    map_4k(kLin, 0x123000, flags);
    expect_fault(kLin, Access::Execute, false, pfec::P | pfec::I);
    expect_fault(kLin, Access::Execute, true, pfec::P | pfec::U | pfec::I);
    EXPECT_EQ(entry(pml4e_addr(kLin)) & A, 0u);
    const WalkResult r = walk(kLin, Access::Write, true);
    ASSERT_TRUE(r.ok);
    EXPECT_TRUE(r.t.nx);
  }
  map_1g(kLin, 0x40000000, {kAll, kAll | XD});
  expect_fault(kLin, Access::Execute, true, pfec::P | pfec::U | pfec::I);
  map_2m(kLin, 0x00A00000, {kAll, kAll, kAll | XD});
  expect_fault(kLin, Access::Execute, false, pfec::P | pfec::I);
  map_4k(kLin, 0x123000, {kAll, kAll, kAll, kAll});
  const WalkResult r = walk(kLin, Access::Execute, true);
  ASSERT_TRUE(r.ok);
  EXPECT_FALSE(r.t.nx);
}

// Without NXE bit 63 is reserved at every level, for every access, and a
// fetch fault never has I/D.
TEST_F(Walk4LevelTest, ExecuteDisableWithoutNxeIsReserved) {
  for (unsigned level = 0; level < 4; ++level) {
    SCOPED_TRACE(level);
    std::array<uint64_t, 4> flags{kAll, kAll, kAll, kAll};
    flags[level] |= XD;
    map_4k(kLin, 0x123000, flags);
    expect_fault(kLin, Access::Execute, true, pfec::P | pfec::RSVD | pfec::U);
    expect_fault(kLin, Access::Read, false, pfec::P | pfec::RSVD);
  }
}

// U/S must be 1 at all four levels for a user access; supervisor accesses
// ignore it (no SMEP/SMAP).
TEST_F(Walk4LevelTest, UserSupervisorAtEachLevel) {
  for (unsigned level = 0; level < 4; ++level) {
    SCOPED_TRACE(level);
    std::array<uint64_t, 4> flags{kAll, kAll, kAll, kAll};
    flags[level] &= ~US;
    map_4k(kLin, 0x123000, flags);
    expect_fault(kLin, Access::Read, true, pfec::P | pfec::U);
    expect_fault(kLin, Access::Write, true, pfec::P | pfec::W | pfec::U);
    expect_fault(kLin, Access::Execute, true, pfec::P | pfec::U);
    EXPECT_EQ(entry(pml4e_addr(kLin)) & A, 0u);
    const WalkResult r = walk(kLin, Access::Execute, false);
    ASSERT_TRUE(r.ok);
    EXPECT_FALSE(r.t.user);
  }
  map_1g(kLin, 0x40000000, {kAll, P | RW});
  expect_fault(kLin, Access::Read, true, pfec::P | pfec::U);
}

// R/W must be 1 at all four levels for a user write, and for a supervisor
// write when CR0.WP=1; with WP=0 a supervisor write succeeds and sets A at
// every level and D in the PTE.
TEST_F(Walk4LevelTest, ReadOnlyAtEachLevelAndWriteProtect) {
  for (unsigned level = 0; level < 4; ++level) {
    SCOPED_TRACE(level);
    std::array<uint64_t, 4> flags{kAll, kAll, kAll, kAll};
    flags[level] &= ~RW;
    map_4k(kLin, 0x123000, flags);
    expect_fault(kLin, Access::Write, true, pfec::P | pfec::W | pfec::U);
    cr0 |= cr0::WP;
    expect_fault(kLin, Access::Write, false, pfec::P | pfec::W);
    EXPECT_EQ(entry(pml4e_addr(kLin)), kPdpt | flags[0]);
    EXPECT_EQ(entry(pte_addr(kLin)), 0x123000 | flags[3]);
    EXPECT_TRUE(walk(kLin, Access::Read, true).ok);
    map_4k(kLin, 0x123000, flags);
    cr0 &= ~cr0::WP;
    const WalkResult r = walk(kLin, Access::Write, false);
    ASSERT_TRUE(r.ok);
    EXPECT_FALSE(r.t.writable);
    EXPECT_TRUE(r.t.dirty);
    EXPECT_EQ(entry(pml4e_addr(kLin)), kPdpt | flags[0] | A);
    EXPECT_EQ(entry(pdpte_addr(kLin)), kPd | flags[1] | A);
    EXPECT_EQ(entry(pde_addr(kLin)), kPt | flags[2] | A);
    EXPECT_EQ(entry(pte_addr(kLin)), 0x123000 | flags[3] | A | D);
  }
  cr0 |= cr0::WP;
  map_1g(kLin, 0x40000000, {kAll, P | US});
  expect_fault(kLin, Access::Write, false, pfec::P | pfec::W);
}

// G counts in the entry that maps the page, with CR4.PGE; bit 8 of the
// entries above it is ignored.
TEST_F(Walk4LevelTest, GlobalOnlyWithPgeInTheFinalEntry) {
  map_4k(kLin, 0x123000, {kAll | G, kAll | G, kAll | G, kAll | G});
  EXPECT_FALSE(walk(kLin, Access::Read, false).t.global);
  cr4 |= cr4::PGE;
  EXPECT_TRUE(walk(kLin, Access::Read, false).t.global);
  map_4k(kLin, 0x123000, {kAll | G, kAll | G, kAll | G, kAll});
  EXPECT_FALSE(walk(kLin, Access::Read, false).t.global);
  map_2m(kLin, 0x00A00000, {kAll, kAll, kAll | G});
  EXPECT_TRUE(walk(kLin, Access::Read, false).t.global);
  map_1g(kLin, 0x40000000, {kAll, kAll | G});
  EXPECT_TRUE(walk(kLin, Access::Read, false).t.global);
  map_1g(kLin, 0x40000000, {kAll | G, kAll});
  EXPECT_FALSE(walk(kLin, Access::Read, false).t.global);
}

}  // namespace
}  // namespace vtlab
