// PageWalker::explain: every entry the walk reads with its decoded bits and
// verdict, the page found or the #PF with error code and reason, exactly;
// it writes no A/D bit and reads no device; and it agrees with walk() on
// every outcome, since both are the same code.  Plus the text layout
// (mmu/walk_explain.h).
#include "mmu/walk_explain.h"

#include <gtest/gtest.h>

#include "core/cpu_state.h"
#include "mmu/phys_memory.h"

namespace vtlab {
namespace {

constexpr uint64_t P = 1u << 0, RW = 1u << 1, US = 1u << 2, PWT = 1u << 3, A = 1u << 5, D = 1u << 6,
                   PS = 1u << 7, G = 1u << 8, XD = uint64_t{1} << 63;
using V = WalkStep::Verdict;

class WalkExplainTest : public testing::Test {
 protected:
  static constexpr uint64_t kPdpt = 0x10000, kPd = 0x11000, kPt = 0x12000;
  static constexpr uint32_t kLin = 0x00403ABC;  // PDE 2, PTE 3 in PAE; PDE 1, PTE 3 in 32-bit

  void SetUp() override { pdpte[0] = kPd | P; }

  // PAE tables for kLin.
  void map_pae(uint64_t pde_flags, uint64_t pte_flags) {
    mem.write(kPd + 8 * 2, 8, kPt | pde_flags);
    mem.write(kPt + 8 * 3, 8, 0x123000 | pte_flags);
  }
  // 32-bit paging with the page directory at kPd.
  void use_32bit(uint64_t cr4_bits) {
    cr4 = cr4_bits;
    cr3 = kPd;
  }

  WalkRequest request(Access access, bool user, uint64_t lin = kLin) {
    return WalkRequest{lin, access, user, cr0, cr3, cr4, efer, pdpte};
  }
  WalkExplanation explain(Access access, bool user, uint64_t lin = kLin) {
    return walker.explain(request(access, user, lin));
  }
  void expect_fault(const WalkExplanation& e, size_t steps, uint32_t error, const std::string& reason) {
    EXPECT_FALSE(e.ok);
    EXPECT_EQ(e.vector, 14u);
    EXPECT_EQ(e.error_code, error);
    EXPECT_EQ(e.reason, reason);
    ASSERT_EQ(e.steps.size(), steps);
    EXPECT_EQ(e.steps.back().verdict, V::Fault);
    for (size_t i = 0; i + 1 < steps; ++i) EXPECT_EQ(e.steps[i].verdict, V::NextTable);
  }

  PhysicalMemory mem{16ull << 20};
  PageWalker walker{mem};
  uint64_t cr0 = cr0::PE | cr0::PG | cr0::ET | cr0::WP;
  uint64_t cr3 = kPdpt;
  uint64_t cr4 = cr4::PAE;
  uint64_t efer = efer::NXE;
  std::array<uint64_t, 4> pdpte{};
};

// Every field of a successful PAE walk; the tables are left as they were.
TEST_F(WalkExplainTest, PaeSuccessStepByStep) {
  cr4 |= cr4::PGE;
  map_pae(P | RW | US, P | RW | US | A | G | XD);
  const WalkExplanation e = explain(Access::Write, true);
  EXPECT_EQ(e.mode, PagingMode::Pae);
  EXPECT_EQ(e.linear, kLin);
  EXPECT_EQ(e.access, Access::Write);
  EXPECT_TRUE(e.user);
  ASSERT_EQ(e.steps.size(), 3u);

  const WalkStep& s0 = e.steps[0];
  EXPECT_EQ(s0.level, WalkLevel::Pdpte);
  EXPECT_EQ(s0.entry_addr, kPdpt);
  EXPECT_TRUE(s0.from_register);
  EXPECT_EQ(s0.raw, kPd | P);
  EXPECT_TRUE(s0.bits.p);
  EXPECT_FALSE(s0.bits.rw || s0.bits.us || s0.bits.a || s0.bits.ps || s0.bits.xd);
  EXPECT_EQ(s0.bits.address, kPd);
  EXPECT_EQ(s0.verdict, V::NextTable);

  const WalkStep& s1 = e.steps[1];
  EXPECT_EQ(s1.level, WalkLevel::Pde);
  EXPECT_EQ(s1.entry_addr, kPd + 16);
  EXPECT_FALSE(s1.from_register);
  EXPECT_FALSE(s1.in_mmio);
  EXPECT_EQ(s1.raw, kPt | P | RW | US);
  EXPECT_TRUE(s1.bits.p && s1.bits.rw && s1.bits.us);
  EXPECT_FALSE(s1.bits.a || s1.bits.d || s1.bits.ps || s1.bits.g || s1.bits.xd);
  EXPECT_EQ(s1.bits.address, kPt);
  EXPECT_EQ(s1.verdict, V::NextTable);

  const WalkStep& s2 = e.steps[2];
  EXPECT_EQ(s2.level, WalkLevel::Pte);
  EXPECT_EQ(s2.entry_addr, kPt + 24);
  EXPECT_EQ(s2.raw, 0x123000 | P | RW | US | A | G | XD);
  EXPECT_TRUE(s2.bits.p && s2.bits.rw && s2.bits.us && s2.bits.a && s2.bits.g && s2.bits.xd);
  EXPECT_FALSE(s2.bits.d || s2.bits.ps || s2.bits.pwt || s2.bits.pcd);
  EXPECT_EQ(s2.bits.address, 0x123000u);
  EXPECT_EQ(s2.verdict, V::Page);

  EXPECT_TRUE(e.ok);
  EXPECT_EQ(e.t.phys, 0x123ABCu);
  EXPECT_EQ(e.t.page_size, 4096u);
  EXPECT_TRUE(e.t.user);
  EXPECT_TRUE(e.t.writable);
  EXPECT_TRUE(e.t.nx);
  EXPECT_TRUE(e.t.global);
  EXPECT_TRUE(e.t.dirty);  // what the write would leave in the PTE
  EXPECT_EQ(e.vector, 0u);
  EXPECT_EQ(e.error_code, 0u);
  EXPECT_EQ(e.reason, "");
  // Nothing written: no A in the PDE, no D in the PTE.
  EXPECT_EQ(mem.read(kPd + 16, 8), kPt | P | RW | US);
  EXPECT_EQ(mem.read(kPt + 24, 8), 0x123000 | P | RW | US | A | G | XD);
}

TEST_F(WalkExplainTest, ThirtyTwoBitFourMiBPage) {
  use_32bit(cr4::PSE);
  mem.write(kPd + 4 * 2, 4, 0x00C00000 | PS | P | RW | D | A | PWT);
  const WalkExplanation e = explain(Access::Read, false, 0x00812345);
  EXPECT_EQ(e.mode, PagingMode::Bits32);
  ASSERT_EQ(e.steps.size(), 1u);
  EXPECT_EQ(e.steps[0].level, WalkLevel::Pde);
  EXPECT_EQ(e.steps[0].entry_addr, kPd + 8);
  EXPECT_EQ(e.steps[0].raw, 0x00C00000 | PS | P | RW | D | A | PWT);
  EXPECT_TRUE(e.steps[0].bits.ps && e.steps[0].bits.d && e.steps[0].bits.pwt);
  EXPECT_FALSE(e.steps[0].bits.xd || e.steps[0].bits.us || e.steps[0].bits.g);
  EXPECT_EQ(e.steps[0].bits.address, 0x00C00000u);
  EXPECT_EQ(e.steps[0].verdict, V::Page);
  EXPECT_TRUE(e.ok);
  EXPECT_EQ(e.t.phys, 0x00C12345u);
  EXPECT_EQ(e.t.page_size, 4u << 20);
  EXPECT_FALSE(e.t.user);
  EXPECT_FALSE(e.t.nx);
}

TEST_F(WalkExplainTest, NotPresentAtEachLevel) {
  pdpte[0] = kPd;
  expect_fault(explain(Access::Read, false), 1, 0, "PDPTE not present");
  pdpte[0] = kPd | P;
  map_pae(RW, P);
  expect_fault(explain(Access::Write, true), 2, pfec::W | pfec::U, "PDE not present");
  map_pae(P | RW, 0);
  expect_fault(explain(Access::Execute, false), 3, pfec::I, "PTE not present");
  use_32bit(0);
  mem.write(kPd + 4, 4, 0);
  expect_fault(explain(Access::Execute, true), 1, pfec::U, "PDE not present");  // 32-bit: no I
}

TEST_F(WalkExplainTest, ReservedBitsNameBitAndLevel) {
  pdpte[0] = kPd | P | PS;  // only state set from outside can hold this
  expect_fault(explain(Access::Read, false), 1, pfec::P | pfec::RSVD, "reserved bit 7 set in PDPTE");
  pdpte[0] = kPd | P;
  map_pae(P | RW, P | (uint64_t{1} << 40) | (uint64_t{1} << 50));
  expect_fault(explain(Access::Read, true), 3, pfec::P | pfec::RSVD | pfec::U, "reserved bit 40 set in PTE");
  efer = 0;
  map_pae(P | RW | XD, P);
  expect_fault(explain(Access::Execute, false), 2, pfec::P | pfec::RSVD, "reserved bit 63 set in PDE");
  use_32bit(cr4::PSE);
  mem.write(kPd + 4 * 2, 4, 0x00C00000 | (1u << 13) | PS | P);
  expect_fault(explain(Access::Write, false, 0x00800000), 1, pfec::P | pfec::RSVD | pfec::W,
               "reserved bit 13 set in PDE");
}

TEST_F(WalkExplainTest, RightsFaultsSayWhichBitAndWhere) {
  map_pae(P | RW, P | RW | US);
  expect_fault(explain(Access::Read, true), 3, pfec::P | pfec::U,
               "user-mode access to a supervisor page (U/S=0 in PDE)");
  map_pae(P | RW | US, P | US);
  expect_fault(explain(Access::Write, true), 3, pfec::P | pfec::W | pfec::U,
               "user-mode write to a read-only page (R/W=0 in PTE)");
  expect_fault(explain(Access::Write, false), 3, pfec::P | pfec::W,
               "write to read-only page with CR0.WP=1 (R/W=0 in PTE)");
  map_pae(P | RW | US | XD, P | RW | US);
  expect_fault(explain(Access::Execute, true), 3, pfec::P | pfec::U | pfec::I,
               "instruction fetch from an XD page (XD=1 in PDE)");
  cr0 &= ~cr0::WP;  // the same supervisor write now succeeds
  map_pae(P | RW | US, P | US);
  EXPECT_TRUE(explain(Access::Write, false).ok);
}

// A page table in MMIO is not read on the debugger's behalf: its entry
// shows as all ones, and the device sees nothing.
TEST_F(WalkExplainTest, NoDeviceReads) {
  struct Counter : BusDevice {
    uint64_t read(uint64_t, unsigned) override { return ++reads, 0; }
    void write(uint64_t, unsigned, uint64_t) override { ++writes; }
    std::string_view name() const override { return "counter"; }
    int reads = 0, writes = 0;
  } dev;
  ASSERT_TRUE(mem.map_mmio(0xF00000, 0x1000, &dev));
  use_32bit(0);
  mem.write(kPd + 4, 4, 0xF00000 | P | RW);
  const WalkExplanation e = explain(Access::Read, false);
  ASSERT_EQ(e.steps.size(), 2u);
  EXPECT_TRUE(e.steps[1].in_mmio);
  EXPECT_EQ(e.steps[1].raw, 0xFFFFFFFFu);
  EXPECT_EQ(dev.reads, 0);
  EXPECT_EQ(dev.writes, 0);
}

// explain() and walk() reach the same verdict, error code and translation
// on every case (walk on a second copy of the tables, since it writes A/D).
TEST_F(WalkExplainTest, AgreesWithTheWalk) {
  struct Case {
    uint64_t pde, pte;
  } tables[] = {{P | RW | US, P | RW | US}, {P | RW, P | RW | US}, {P | US, P | RW | US},
                {P | RW | US | XD, P | RW | US}, {P | RW | US, P | RW | US | (uint64_t{1} << 36)}, {0, 0},
                {P | RW | US, 0}};
  for (const Case& c : tables)
    for (uint64_t nxe : {uint64_t{0}, efer::NXE})
      for (Access a : {Access::Read, Access::Write, Access::Execute})
        for (bool user : {false, true}) {
          map_pae(c.pde, c.pte);
          efer = nxe;
          const WalkExplanation e = explain(a, user);
          const WalkResult w = walker.walk(request(a, user));
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

TEST_F(WalkExplainTest, PagingOff) {
  cr0 = cr0::PE;
  const WalkExplanation e = explain(Access::Write, true, 0x12345678);
  EXPECT_EQ(e.mode, PagingMode::None);
  EXPECT_TRUE(e.steps.empty());
  EXPECT_TRUE(e.ok);
  EXPECT_EQ(e.t.phys, 0x12345678u);
}

TEST_F(WalkExplainTest, TextLayout) {
  map_pae(P | RW | US, P | RW | US | XD);
  EXPECT_EQ(format_walk(explain(Access::Read, true)),
            "user read linear 0x00403abc (PAE paging):\n"
            "  PDPTE register, loaded from 0x10000: 0x0000000000011001 [P] -> table 0x11000\n"
            "  PDE   at 0x11010: 0x0000000000012007 [P RW US] -> table 0x12000\n"
            "  PTE   at 0x12018: 0x8000000000123007 [P RW US XD] -> page 0x123000\n"
            "  => physical 0x123abc in a 4 KiB page: user, writable, no-execute\n");
  EXPECT_EQ(format_walk(explain(Access::Execute, false)),
            "supervisor fetch linear 0x00403abc (PAE paging):\n"
            "  PDPTE register, loaded from 0x10000: 0x0000000000011001 [P] -> table 0x11000\n"
            "  PDE   at 0x11010: 0x0000000000012007 [P RW US] -> table 0x12000\n"
            "  PTE   at 0x12018: 0x8000000000123007 [P RW US XD] -> fault\n"
            "  => #PF(0x11) [P I]: instruction fetch from an XD page (XD=1 in PTE)\n");
}

}  // namespace
}  // namespace vtlab
