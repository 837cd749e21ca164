// PageWalker::explain in 4-level paging: the four entries (all read from
// memory, none from a register) with their decoded bits and verdicts, the
// page of each size or the #PF with its error code and the level the
// reason names; no A/D written; the same outcome as walk(); and the text
// layout with 64-bit linear addresses (mmu/walk_explain.h).
#include <gtest/gtest.h>

#include "core/cpu_state.h"
#include "mmu/walk_explain.h"
#include "walk_4level_fixture.h"

namespace vtlab {
namespace {

using Walk4LevelExplainTest = test::FourLevelTables;
using V = WalkStep::Verdict;

constexpr uint64_t P = 1u << 0, RW = 1u << 1, US = 1u << 2, PCD = 1u << 4, A = 1u << 5, D = 1u << 6,
                   PS = 1u << 7, G = 1u << 8, XD = uint64_t{1} << 63;
constexpr uint64_t kAll = P | RW | US;

void expect_explained_fault(const WalkExplanation& e, size_t steps, uint32_t error, const std::string& reason) {
  EXPECT_FALSE(e.ok);
  EXPECT_EQ(e.vector, 14u);
  EXPECT_EQ(e.error_code, error);
  EXPECT_EQ(e.reason, reason);
  ASSERT_EQ(e.steps.size(), steps);
  EXPECT_EQ(e.steps.back().verdict, V::Fault);
  for (size_t i = 0; i + 1 < steps; ++i) EXPECT_EQ(e.steps[i].verdict, V::NextTable);
}

// Every field of a successful 4 KiB walk; the tables are left as they were.
TEST_F(Walk4LevelExplainTest, FourKiBStepByStep) {
  cr4 |= cr4::PGE;
  efer |= efer::NXE;
  map_4k(kLin, 0x123000, {kAll | PCD, kAll | A, kAll, kAll | G | XD});
  const WalkExplanation e = explain(kLin, Access::Write, true);
  EXPECT_EQ(e.mode, PagingMode::FourLevel);
  EXPECT_EQ(e.linear, kLin);
  ASSERT_EQ(e.steps.size(), 4u);
  const WalkLevel levels[4] = {WalkLevel::Pml4e, WalkLevel::Pdpte, WalkLevel::Pde, WalkLevel::Pte};
  const uint64_t addrs[4] = {kPml4 + 0x7F8, kPdpt + 0x810, kPd + 0x18, kPt + 0x20};
  const uint64_t raws[4] = {kPdpt | kAll | PCD, kPd | kAll | A, kPt | kAll, 0x123000 | kAll | G | XD};
  const uint64_t next[4] = {kPdpt, kPd, kPt, 0x123000};
  for (unsigned i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    const WalkStep& s = e.steps[i];
    EXPECT_EQ(s.level, levels[i]);
    EXPECT_EQ(s.entry_addr, addrs[i]);
    EXPECT_FALSE(s.from_register);
    EXPECT_FALSE(s.in_mmio);
    EXPECT_EQ(s.raw, raws[i]);
    EXPECT_TRUE(s.bits.p && s.bits.rw && s.bits.us);
    EXPECT_EQ(s.bits.pcd, i == 0);
    EXPECT_EQ(s.bits.a, i == 1);
    EXPECT_EQ(s.bits.g, i == 3);
    EXPECT_EQ(s.bits.xd, i == 3);
    EXPECT_FALSE(s.bits.d || s.bits.ps || s.bits.pwt);
    EXPECT_EQ(s.bits.address, next[i]);
    EXPECT_EQ(s.verdict, i == 3 ? V::Page : V::NextTable);
  }
  EXPECT_TRUE(e.ok);
  EXPECT_EQ(e.t.phys, 0x123ABCu);
  EXPECT_EQ(e.t.page_size, 4096u);
  EXPECT_TRUE(e.t.user && e.t.writable && e.t.nx && e.t.global);
  EXPECT_TRUE(e.t.dirty);  // what the write would leave in the PTE
  EXPECT_EQ(e.error_code, 0u);
  EXPECT_EQ(e.reason, "");
  for (unsigned i = 0; i < 4; ++i) EXPECT_EQ(entry(addrs[i]), raws[i]);
}

// The large-page entries: PS, D and G decode there, the address is the
// page frame without the PAT bit.
TEST_F(Walk4LevelExplainTest, LargePagesEndTheWalkEarly) {
  map_1g(kLin, 0xFC0000000 | (1u << 12), {kAll, kAll | A | D | G});
  cr4 |= cr4::PGE;
  WalkExplanation e = explain(kLin, Access::Read, false);
  ASSERT_EQ(e.steps.size(), 2u);
  EXPECT_EQ(e.steps[1].level, WalkLevel::Pdpte);
  EXPECT_TRUE(e.steps[1].bits.ps && e.steps[1].bits.d && e.steps[1].bits.g && e.steps[1].bits.a);
  EXPECT_EQ(e.steps[1].bits.address, 0xFC0000000u);
  EXPECT_EQ(e.steps[1].verdict, V::Page);
  EXPECT_TRUE(e.ok);
  EXPECT_EQ(e.t.phys, 0xFC0604ABCu);
  EXPECT_EQ(e.t.page_size, uint64_t{1} << 30);
  EXPECT_TRUE(e.t.dirty);  // D was already set: a write would need no walk
  EXPECT_TRUE(e.t.global);

  map_2m(kLin, 0x00A00000 | (1u << 12), {kAll, kAll, kAll});
  e = explain(kLin, Access::Write, false);
  ASSERT_EQ(e.steps.size(), 3u);
  EXPECT_EQ(e.steps[2].level, WalkLevel::Pde);
  EXPECT_TRUE(e.steps[2].bits.ps);
  EXPECT_FALSE(e.steps[1].bits.ps);
  EXPECT_EQ(e.steps[2].bits.address, 0x00A00000u);
  EXPECT_EQ(e.steps[2].verdict, V::Page);
  EXPECT_EQ(e.t.phys, 0x00A04ABCu);
  EXPECT_EQ(e.t.page_size, 2u << 20);
  EXPECT_TRUE(e.t.dirty);
  EXPECT_EQ(entry(pde_addr(kLin)), 0x00A00000 | (1u << 12) | PS | kAll);  // nothing written
}

TEST_F(Walk4LevelExplainTest, NotPresentAtEachLevel) {
  const char* reasons[4] = {"PML4E not present", "PDPTE not present", "PDE not present", "PTE not present"};
  for (unsigned level = 0; level < 4; ++level) {
    std::array<uint64_t, 4> flags{kAll, kAll, kAll, kAll};
    flags[level] = 0;
    map_4k(kLin, 0x123000, flags);
    expect_explained_fault(explain(kLin, Access::Write, true), level + 1, pfec::W | pfec::U, reasons[level]);
  }
}

// The reason names the bit and the level; PS of a PML4E is reserved, so
// it is not shown as a page size.
TEST_F(Walk4LevelExplainTest, ReservedBitsNameBitAndLevel) {
  map_4k(kLin, 0x123000, {kAll | PS, kAll, kAll, kAll});
  WalkExplanation e = explain(kLin, Access::Read, false);
  expect_explained_fault(e, 1, pfec::P | pfec::RSVD, "reserved bit 7 set in PML4E");
  EXPECT_FALSE(e.steps[0].bits.ps);
  map_1g(kLin, 0x40000000 | (1u << 29), {kAll, kAll});
  expect_explained_fault(explain(kLin, Access::Write, true), 2, pfec::P | pfec::RSVD | pfec::W | pfec::U,
               "reserved bit 29 set in PDPTE");
  map_4k(kLin, 0x123000, {kAll, kAll, kAll, kAll | (uint64_t{1} << 51)});
  expect_explained_fault(explain(kLin, Access::Read, true), 4, pfec::P | pfec::RSVD | pfec::U, "reserved bit 51 set in PTE");
  map_4k(kLin, 0x123000, {kAll, kAll, kAll | XD, kAll});
  expect_explained_fault(explain(kLin, Access::Execute, false), 3, pfec::P | pfec::RSVD, "reserved bit 63 set in PDE");
}

// A rights fault names the outermost level that denies the access.
TEST_F(Walk4LevelExplainTest, RightsFaultsNameTheOutermostLevel) {
  map_4k(kLin, 0x123000, {kAll, P | RW, kAll, P | RW});
  expect_explained_fault(explain(kLin, Access::Read, true), 4, pfec::P | pfec::U,
               "user-mode access to a supervisor page (U/S=0 in PDPTE)");
  map_4k(kLin, 0x123000, {P | US, kAll, P | US, kAll});
  expect_explained_fault(explain(kLin, Access::Write, true), 4, pfec::P | pfec::W | pfec::U,
               "user-mode write to a read-only page (R/W=0 in PML4E)");
  cr0 |= cr0::WP;
  expect_explained_fault(explain(kLin, Access::Write, false), 4, pfec::P | pfec::W,
               "write to read-only page with CR0.WP=1 (R/W=0 in PML4E)");
  efer |= efer::NXE;
  map_1g(kLin, 0x40000000, {kAll, kAll | XD});
  expect_explained_fault(explain(kLin, Access::Execute, true), 2, pfec::P | pfec::U | pfec::I,
               "instruction fetch from an XD page (XD=1 in PDPTE)");
}

// explain() and walk() reach the same verdict, error code and translation
// (walk on a copy of the tables, since it writes A/D).
TEST_F(Walk4LevelExplainTest, AgreesWithTheWalk) {
  const std::array<uint64_t, 4> tables[] = {
      {kAll, kAll, kAll, kAll},      {P | RW, kAll, kAll, kAll},          {kAll, P | US, kAll, kAll},
      {kAll, kAll, kAll | XD, kAll}, {kAll | XD, kAll, kAll, kAll},       {kAll, kAll, kAll, 0},
      {0, kAll, kAll, kAll},         {kAll, kAll | (uint64_t{1} << 36), kAll, kAll},
  };
  for (const auto& flags : tables)
    for (uint64_t nxe : {uint64_t{0}, efer::NXE})
      for (Access a : {Access::Read, Access::Write, Access::Execute})
        for (bool user : {false, true}) {
          map_4k(kLin, 0x123000, flags);
          efer = efer::LME | efer::LMA | nxe;
          const WalkExplanation e = explain(kLin, a, user);
          const WalkResult w = walk(kLin, a, user);
          SCOPED_TRACE(format_walk(e));
          EXPECT_EQ(e.ok, w.ok);
          EXPECT_EQ(e.ok ? 0u : e.error_code, w.error_code);
          EXPECT_EQ(e.t.phys, w.t.phys);
          EXPECT_EQ(e.t.user, w.t.user);
          EXPECT_EQ(e.t.writable, w.t.writable);
          EXPECT_EQ(e.t.nx, w.t.nx);
          EXPECT_EQ(e.t.dirty, w.t.dirty);
        }
}

TEST_F(Walk4LevelExplainTest, TextLayout) {
  constexpr uint64_t kHigh = 0xFFFF800000403ABC;  // PML4E 256, PDPTE 0, PDE 2, PTE 3
  efer |= efer::NXE;
  map_4k(kHigh, 0x123000, {kAll, kAll, kAll, kAll | XD});
  EXPECT_EQ(format_walk(explain(kHigh, Access::Read, true)),
            "user read linear 0xffff800000403abc (4-level paging):\n"
            "  PML4E at 0x10800: 0x0000000000011007 [P RW US] -> table 0x11000\n"
            "  PDPTE at 0x11000: 0x0000000000012007 [P RW US] -> table 0x12000\n"
            "  PDE   at 0x12010: 0x0000000000013007 [P RW US] -> table 0x13000\n"
            "  PTE   at 0x13018: 0x8000000000123007 [P RW US XD] -> page 0x123000\n"
            "  => physical 0x123abc in a 4 KiB page: user, writable, no-execute\n");
  EXPECT_EQ(format_walk(explain(0x403ABC, Access::Execute, false)),
            "supervisor fetch linear 0x0000000000403abc (4-level paging):\n"
            "  PML4E at 0x10000: 0x0000000000000000 [-] -> fault\n"
            "  => #PF(0x10) [I]: PML4E not present\n");
  map_1g(kHigh, 0x40000000, {kAll, P | RW | PS});
  EXPECT_EQ(format_walk(explain(kHigh, Access::Write, false)),
            "supervisor write linear 0xffff800000403abc (4-level paging):\n"
            "  PML4E at 0x10800: 0x0000000000011007 [P RW US] -> table 0x11000\n"
            "  PDPTE at 0x11000: 0x0000000040000083 [P RW PS] -> page 0x40000000\n"
            "  => physical 0x40403abc in a 1 GiB page: supervisor, writable, executable\n");
}

}  // namespace
}  // namespace vtlab
