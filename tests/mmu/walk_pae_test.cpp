// The PAE page walker on hand-built tables: 4 KiB and 2 MiB pages, the
// PDPTE registers and their load, reserved bits at every level with
// MAXPHYADDR = 36, execute-disable and the I/D error-code bit, U/S and R/W
// at each level, CR0.WP, A/D bits and global pages.  Expected values come
// from SDM vol. 3, 4.4 (PAE paging, tables 4-8 to 4-11), 4.6 (access
// rights), 4.7 (page-fault error code) and 4.8 (accessed and dirty flags).
#include "mmu/page_walker.h"

#include <gtest/gtest.h>

#include "core/cpu_state.h"
#include "mmu/phys_memory.h"

namespace vtlab {
namespace {

constexpr uint64_t P = 1u << 0, RW = 1u << 1, US = 1u << 2, A = 1u << 5, D = 1u << 6, PS = 1u << 7, G = 1u << 8,
                   XD = uint64_t{1} << 63;

class WalkPaeTest : public testing::Test {
 protected:
  static constexpr uint64_t kPdpt = 0x10000, kPd = 0x11000, kPt = 0x12000;

  void SetUp() override { pdpte[0] = kPd | P; }

  static uint64_t pde_addr(uint64_t pd, uint32_t lin) { return pd + 8 * ((lin >> 21) & 0x1FF); }
  static uint64_t pte_addr(uint32_t lin) { return kPt + 8 * ((lin >> 12) & 0x1FF); }
  void set_pde(uint32_t lin, uint64_t v) { mem.write(pde_addr(kPd, lin), 8, v); }
  void set_pte(uint32_t lin, uint64_t v) { mem.write(pte_addr(lin), 8, v); }
  uint64_t pde(uint32_t lin) { return mem.read(pde_addr(kPd, lin), 8); }
  uint64_t pte(uint32_t lin) { return mem.read(pte_addr(lin), 8); }

  // A 4 KiB page at `lin` (in the first GiB) through the one table at kPt.
  void map_4k(uint32_t lin, uint64_t phys, uint64_t pde_flags, uint64_t pte_flags) {
    set_pde(lin, kPt | pde_flags);
    set_pte(lin, phys | pte_flags);
  }

  WalkResult walk(uint32_t lin, Access access, bool user) {
    return walker.walk(WalkRequest{lin, access, user, cr0, kPdpt, cr4, efer, pdpte});
  }
  void expect_fault(uint32_t lin, Access access, bool user, uint32_t error) {
    const WalkResult r = walk(lin, access, user);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error_code, error);
  }

  PhysicalMemory mem{16ull << 20};
  PageWalker walker{mem};
  uint64_t cr0 = cr0::PE | cr0::PG | cr0::ET;
  uint64_t cr4 = cr4::PAE;
  uint64_t efer = 0;
  std::array<uint64_t, 4> pdpte{};
};

TEST_F(WalkPaeTest, FourKiBReadSetsAccessedOnly) {
  map_4k(0x00403000, 0x123000, P | RW | US, P | RW | US);
  const WalkResult r = walk(0x00403ABC, Access::Read, true);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.t.phys, 0x123ABCu);
  EXPECT_EQ(r.t.page_size, 4096u);
  EXPECT_TRUE(r.t.user);
  EXPECT_TRUE(r.t.writable);
  EXPECT_FALSE(r.t.nx);
  EXPECT_FALSE(r.t.dirty);
  EXPECT_EQ(pde(0x00403000), kPt | P | RW | US | A);
  EXPECT_EQ(pte(0x00403000), 0x123000u | P | RW | US | A);
  EXPECT_EQ(pdpte[0], kPd | P);  // a register: nothing to mark accessed
}

// D goes into the PTE only; bit 6 of a PDE that points to a table is ignored.
TEST_F(WalkPaeTest, FourKiBWriteSetsDirtyInThePteOnly) {
  map_4k(0x00403000, 0x123000, P | RW, P | RW);
  const WalkResult r = walk(0x00403008, Access::Write, false);
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(r.t.dirty);
  EXPECT_EQ(pde(0x00403000), kPt | P | RW | A);
  EXPECT_EQ(pte(0x00403000), 0x123000u | P | RW | A | D);
}

// PS in a PAE PDE maps 2 MiB whatever CR4.PSE says; the other PDPTEs
// cover the other gigabytes.
TEST_F(WalkPaeTest, TwoMiBPagesInAnyGigabyte) {
  for (uint64_t pse : {uint64_t{0}, cr4::PSE}) {
    cr4 = cr4::PAE | pse;
    set_pde(0x00600000, 0x00A00000 | PS | P | RW | US);
    WalkResult r = walk(0x00612345, Access::Read, true);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.t.phys, 0x00A12345u);
    EXPECT_EQ(r.t.page_size, 2u << 20);
    EXPECT_FALSE(r.t.dirty);
    EXPECT_EQ(pde(0x00600000), 0x00A00000u | PS | P | RW | US | A);
    r = walk(0x007FFFFF, Access::Write, true);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.t.phys, 0x00BFFFFFu);
    EXPECT_TRUE(r.t.dirty);
    EXPECT_EQ(pde(0x00600000), 0x00A00000u | PS | P | RW | US | A | D);
  }
  constexpr uint64_t kPd3 = 0x13000;
  pdpte[3] = kPd3 | P;
  mem.write(pde_addr(kPd3, 0xC0200000), 8, 0x00E00000 | PS | P);
  const WalkResult r = walk(0xC0234567, Access::Read, false);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.t.phys, 0x00E34567u);
}

// Bits 35:32 are address bits with MAXPHYADDR = 36.
TEST_F(WalkPaeTest, PhysicalAddressesAbove4GiB) {
  map_4k(0x00403000, 0x812345000, P | RW, P | RW);
  WalkResult r = walk(0x00403ABC, Access::Read, false);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.t.phys, 0x812345ABCu);
  set_pde(0x00600000, 0xF00000000 | 0x00A00000 | PS | P);
  r = walk(0x00600010, Access::Read, false);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.t.phys, 0xF00A00010u);
}

// P=0 at any level: W/U of the access, P=0, nothing written; reserved
// bits of a non-present entry do not matter.
TEST_F(WalkPaeTest, NotPresentAtEachLevel) {
  map_4k(0x00403000, 0x123000, P | RW | US, RW | US | (uint64_t{1} << 40));  // PTE not present
  expect_fault(0x00403000, Access::Write, true, pfec::W | pfec::U);
  EXPECT_EQ(pde(0x00403000), kPt | P | RW | US);
  set_pde(0x00403000, kPt | RW | US);
  expect_fault(0x00403000, Access::Read, false, 0);
  pdpte[0] = kPd | 0x1E6;  // not present: reserved bits do not count
  expect_fault(0x00403000, Access::Read, true, pfec::U);
}

// Every reserved bit gives P|RSVD plus the access bits, before any rights
// check, at the level where it is; nothing is written.
TEST_F(WalkPaeTest, ReservedBitsAtEachLevel) {
  struct Case {
    const char* where;
    uint64_t pdpte_bits, pde_bits, pte_bits;
    bool large;
  } cases[] = {
      {"PDPTE bit 1", 1u << 1, 0, 0, false},       {"PDPTE bit 2", 1u << 2, 0, 0, false},
      {"PDPTE bit 5", 1u << 5, 0, 0, false},       {"PDPTE bit 8", 1u << 8, 0, 0, false},
      {"PDPTE bit 36", uint64_t{1} << 36, 0, 0, false}, {"PDPTE bit 63", XD, 0, 0, false},
      {"PDE bit 36", 0, uint64_t{1} << 36, 0, false},   {"PDE bit 62", 0, uint64_t{1} << 62, 0, false},
      {"PDE bit 63 (NXE=0)", 0, XD, 0, false},          {"2M PDE bit 13", 0, 1u << 13, 0, true},
      {"2M PDE bit 20", 0, 1u << 20, 0, true},           {"2M PDE bit 40", 0, uint64_t{1} << 40, 0, true},
      {"PTE bit 36", 0, 0, uint64_t{1} << 36, false},   {"PTE bit 51", 0, 0, uint64_t{1} << 51, false},
      {"PTE bit 63 (NXE=0)", 0, 0, XD, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.where);
    pdpte[0] = kPd | P | c.pdpte_bits;
    if (c.large) set_pde(0x00600000, 0x00A00000 | PS | P | US | c.pde_bits);
    else map_4k(0x00600000, 0x123000, P | US | c.pde_bits, P | US | c.pte_bits);
    // A user write to a read-only page: the rights would fault too, but
    // the reserved bit is found first.
    expect_fault(0x00600000, Access::Write, true, pfec::P | pfec::RSVD | pfec::W | pfec::U);
    EXPECT_EQ(pde(0x00600000) & A, 0u);
  }
}

// Bits the formats ignore (or give to PAT) are not reserved.
TEST_F(WalkPaeTest, IgnoredAndPatBitsAreNotReserved) {
  map_4k(0x00403000, 0x123000, P | RW | D | G | (7u << 9), P | RW | PS | (7u << 9));
  EXPECT_TRUE(walk(0x00403000, Access::Read, false).ok);
  set_pde(0x00600000, 0x00A00000 | PS | P | (1u << 12) | (7u << 9));
  EXPECT_TRUE(walk(0x00600000, Access::Read, false).ok);
  pdpte[0] = kPd | P | (1u << 3) | (1u << 4) | (7u << 9);  // PWT PCD, ignored 11:9
  EXPECT_TRUE(walk(0x00600000, Access::Read, false).ok);
}

// Execute-disable with EFER.NXE: fetches fault with P and I (and U for a
// user fetch) from a page with XD at either level; reads and writes do not.
TEST_F(WalkPaeTest, ExecuteDisableFaultsWithTheIdBit) {
  efer = efer::NXE;
  map_4k(0x00403000, 0x123000, P | RW | US, P | RW | US | XD);
  expect_fault(0x00403000, Access::Execute, false, pfec::P | pfec::I);
  expect_fault(0x00403000, Access::Execute, true, pfec::P | pfec::U | pfec::I);
  WalkResult r = walk(0x00403000, Access::Write, true);
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(r.t.nx);
  EXPECT_EQ(pte(0x00403000), 0x123000u | P | RW | US | A | D | XD);  // the fetch faults wrote nothing
  map_4k(0x00403000, 0x123000, P | RW | US | XD, P | RW | US);    // XD in the PDE only
  expect_fault(0x00403000, Access::Execute, true, pfec::P | pfec::U | pfec::I);
  set_pde(0x00600000, 0x00A00000 | PS | P | XD);
  expect_fault(0x00600000, Access::Execute, false, pfec::P | pfec::I);
  set_pde(0x00600000, 0x00A00000 | PS | P);
  r = walk(0x00600000, Access::Execute, false);
  ASSERT_TRUE(r.ok);
  EXPECT_FALSE(r.t.nx);
}

// I/D is set for any faulting fetch once PAE and NXE are on (not present,
// reserved, rights), and never with NXE=0 (SDM 4.7).
TEST_F(WalkPaeTest, IdBitOnlyWithNxe) {
  set_pte(0x00403000, 0);
  set_pde(0x00403000, kPt | P | RW | US);
  efer = efer::NXE;
  expect_fault(0x00403000, Access::Execute, true, pfec::U | pfec::I);
  set_pte(0x00403000, 0x123000 | P | (uint64_t{1} << 40));
  expect_fault(0x00403000, Access::Execute, false, pfec::P | pfec::RSVD | pfec::I);
  set_pte(0x00403000, 0x123000 | P);
  expect_fault(0x00403000, Access::Execute, true, pfec::P | pfec::U | pfec::I);
  expect_fault(0x00403000, Access::Read, true, pfec::P | pfec::U);
  efer = 0;
  set_pte(0x00403000, 0);
  expect_fault(0x00403000, Access::Execute, true, pfec::U);
  set_pte(0x00403000, 0x123000 | P | XD);  // bit 63 reserved with NXE=0
  expect_fault(0x00403000, Access::Execute, false, pfec::P | pfec::RSVD);
}

// U/S must be 1 at both the PDE and the PTE for a user access (PAE
// PDPTEs have no U/S bit); supervisor accesses ignore it (no SMAP/SMEP).
TEST_F(WalkPaeTest, UserSupervisorAtEachLevel) {
  for (auto [pde_us, pte_us] : {std::pair<uint64_t, uint64_t>{0, US}, {US, 0}}) {
    map_4k(0x00403000, 0x123000, P | RW | pde_us, P | RW | pte_us);
    for (Access a : {Access::Read, Access::Write, Access::Execute}) {
      const uint32_t w = a == Access::Write ? pfec::W : 0;
      expect_fault(0x00403000, a, true, pfec::P | pfec::U | w);
    }
    EXPECT_EQ(pde(0x00403000) & A, 0u);
    const WalkResult r = walk(0x00403000, Access::Execute, false);
    ASSERT_TRUE(r.ok);
    EXPECT_FALSE(r.t.user);
  }
}

// R/W must be 1 at both levels for a user write, and for a supervisor
// write when CR0.WP=1; with WP=0 a supervisor write succeeds and sets D.
TEST_F(WalkPaeTest, ReadOnlyAtEachLevelAndWriteProtect) {
  for (auto [pde_rw, pte_rw] : {std::pair<uint64_t, uint64_t>{0, RW}, {RW, 0}}) {
    map_4k(0x00403000, 0x123000, P | US | pde_rw, P | US | pte_rw);
    expect_fault(0x00403000, Access::Write, true, pfec::P | pfec::W | pfec::U);
    cr0 |= cr0::WP;
    expect_fault(0x00403000, Access::Write, false, pfec::P | pfec::W);
    EXPECT_EQ(pte(0x00403000), 0x123000u | P | US | pte_rw);
    cr0 &= ~cr0::WP;
    const WalkResult r = walk(0x00403000, Access::Write, false);
    ASSERT_TRUE(r.ok);
    EXPECT_FALSE(r.t.writable);
    EXPECT_EQ(pte(0x00403000), 0x123000u | P | US | pte_rw | A | D);
  }
}

TEST_F(WalkPaeTest, GlobalOnlyWithPgeInTheFinalEntry) {
  map_4k(0x00403000, 0x123000, P | G, P | G);
  EXPECT_FALSE(walk(0x00403000, Access::Read, false).t.global);
  cr4 |= cr4::PGE;
  EXPECT_TRUE(walk(0x00403000, Access::Read, false).t.global);
  set_pte(0x00403000, 0x123000 | P);
  EXPECT_FALSE(walk(0x00403000, Access::Read, false).t.global);
  set_pde(0x00600000, 0x00A00000 | PS | P | G);
  EXPECT_TRUE(walk(0x00600000, Access::Read, false).t.global);
}

// The PDPTE load: four entries from CR3[31:5] (the low five bits are not
// part of the address); a present entry with a reserved bit refuses the
// whole load and leaves the registers alone.
TEST_F(WalkPaeTest, LoadPdptes) {
  constexpr uint64_t kTable = kPdpt + 0x20;
  const uint64_t good[4] = {0x11000 | P, 0, 0x812345000 | P | (1u << 3), 0x5000 | 0x1E6};  // last: not present
  for (unsigned i = 0; i < 4; ++i) mem.write(kTable + 8 * i, 8, good[i]);
  std::array<uint64_t, 4> regs{};
  ASSERT_TRUE(walker.load_pdptes(kTable | 0x1F, regs));
  EXPECT_EQ(regs, (std::array<uint64_t, 4>{good[0], good[1], good[2], good[3]}));
  for (uint64_t bad : {uint64_t{1} << 1, uint64_t{1} << 2, uint64_t{1} << 5, uint64_t{1} << 6, uint64_t{1} << 7,
                       uint64_t{1} << 8, uint64_t{1} << 36, XD}) {
    SCOPED_TRACE(bad);
    mem.write(kTable + 8 * 3, 8, 0x5000 | P | bad);
    std::array<uint64_t, 4> kept = {1, 2, 3, 4};
    EXPECT_FALSE(walker.load_pdptes(kTable, kept));
    EXPECT_EQ(kept, (std::array<uint64_t, 4>{1, 2, 3, 4}));
  }
}

}  // namespace
}  // namespace vtlab
