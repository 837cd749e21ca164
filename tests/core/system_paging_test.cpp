// MOV to CR0/CR3/CR4 and the PAE PDPTE registers (SDM vol. 3, 4.4.1): which
// MOVs load them, the #GP(0) on a present entry with a reserved bit (with
// nothing changed, not even the TLB), and the long-mode seam.
#include "core/system_fixture.h"

namespace vtlab::test::system {
namespace {

constexpr uint64_t kPdpt = 0x30000;
constexpr uint64_t kPdpteValues[4] = {0x31000 | 1, 0, 0x812345000 | 1, 0x33000};  // [3] not present
constexpr std::array<uint64_t, 4> kLoaded = {kPdpteValues[0], kPdpteValues[1], kPdpteValues[2], kPdpteValues[3]};
constexpr std::array<uint64_t, 4> kStale = {0x1111, 0x2222, 0x3333, 0x4444};

class PdpteLoad : public testing::Test {
 protected:
  void SetUp() override {
    for (unsigned i = 0; i < 4; ++i) h.mem.write(kPdpt + 8 * i, 8, kPdpteValues[i]);
    h.cpu.s.cr3 = kPdpt;
    h.cpu.s.pdpte = kStale;
  }
  void make_pdpte_bad() { h.mem.write(kPdpt + 8, 8, 0x32000 | 1 | (1u << 6)); }
  // The handlers run alone (execute_one): no tables are walked for fetches.
  void pae_paging_on() {
    h.cpu.s.cr4 = cr4::PAE;
    h.cpu.s.cr0 |= cr0::PG;
  }
  Status mov(const char* insn, uint64_t eax) {
    h.cpu.s.gpr[RAX] = eax;
    return step(h, insn);
  }
  void expect_gp_and_nothing_changed(const char* insn, uint64_t eax) {
    SCOPED_TRACE(insn);
    h.cpu.s.gpr[RAX] = eax;
    h.load_asm(insn);
    const Snapshot before = snapshot(h);
    ASSERT_EQ(h.execute_one(), Status::Exception);
    expect_gp0(h);
    EXPECT_EQ(snapshot(h), before);
  }

  CpuHarness h;
};

TEST_F(PdpteLoad, MovCr3InPaeMode) {
  pae_paging_on();
  ASSERT_EQ(mov("mov cr3, eax", kPdpt | 0x18), Status::Ok);  // PWT|PCD: not address bits
  EXPECT_EQ(h.cpu.s.pdpte, kLoaded);
  EXPECT_EQ(h.cpu.s.cr3, kPdpt | 0x18);
  make_pdpte_bad();
  expect_gp_and_nothing_changed("mov cr3, eax", kPdpt);
}

// Bits 11:5 of CR3 are address bits for the PDPT.
TEST_F(PdpteLoad, PdptIs32ByteAligned) {
  pae_paging_on();
  for (unsigned i = 0; i < 4; ++i) h.mem.write(kPdpt + 0x20 + 8 * i, 8, 0x40000 + i * 0x1000 + 1);
  ASSERT_EQ(mov("mov cr3, eax", kPdpt + 0x20), Status::Ok);
  EXPECT_EQ(h.cpu.s.pdpte, (std::array<uint64_t, 4>{0x40001, 0x41001, 0x42001, 0x43001}));
}

// Without PAE paging in force a CR3 load reads no PDPT: the registers keep
// what they had (and a bad table is no fault).
TEST_F(PdpteLoad, MovCr3OutsidePaeLoadsNothing) {
  make_pdpte_bad();
  h.cpu.s.cr0 |= cr0::PG;  // 32-bit paging
  ASSERT_EQ(mov("mov cr3, eax", kPdpt), Status::Ok);
  EXPECT_EQ(h.cpu.s.pdpte, kStale);
  h.cpu.s.cr0 &= ~cr0::PG;
  h.cpu.s.cr4 = cr4::PAE;  // PAE without paging
  ASSERT_EQ(mov("mov cr3, eax", kPdpt), Status::Ok);
  EXPECT_EQ(h.cpu.s.pdpte, kStale);
}

TEST_F(PdpteLoad, MovCr0SettingPagingWithPae) {
  h.cpu.s.cr4 = cr4::PAE;
  ASSERT_EQ(mov("mov cr0, eax", h.cpu.s.cr0 | cr0::PG), Status::Ok);
  EXPECT_EQ(h.cpu.s.pdpte, kLoaded);
  h.cpu.s.pdpte = kStale;
  make_pdpte_bad();
  ASSERT_EQ(mov("mov cr0, eax", h.cpu.s.cr0 & ~cr0::PG), Status::Ok);  // paging off: no load
  EXPECT_EQ(h.cpu.s.pdpte, kStale);
  expect_gp_and_nothing_changed("mov cr0, eax", h.cpu.s.cr0 | cr0::PG);
}

// With PAE paging on, changing CD or NW reloads the PDPTEs; WP or MP does not.
TEST_F(PdpteLoad, MovCr0CacheBitsReloadInPae) {
  pae_paging_on();
  ASSERT_EQ(mov("mov cr0, eax", h.cpu.s.cr0 | cr0::WP | cr0::MP), Status::Ok);
  EXPECT_EQ(h.cpu.s.pdpte, kStale);
  ASSERT_EQ(mov("mov cr0, eax", h.cpu.s.cr0 | cr0::CD), Status::Ok);
  EXPECT_EQ(h.cpu.s.pdpte, kLoaded);
  make_pdpte_bad();
  expect_gp_and_nothing_changed("mov cr0, eax", h.cpu.s.cr0 | cr0::NW);
}

// Setting CR4.PAE with paging on switches 32-bit paging to PAE paging and
// loads the PDPTEs; so does a PGE or PSE change under PAE paging, but not
// a change of other bits.
TEST_F(PdpteLoad, MovCr4PagingBitsReload) {
  h.cpu.s.cr0 |= cr0::PG;
  ASSERT_EQ(mov("mov cr4, eax", cr4::PAE), Status::Ok);
  EXPECT_EQ(h.cpu.s.pdpte, kLoaded);
  for (uint64_t bit : {cr4::PGE, cr4::PSE}) {
    h.cpu.s.pdpte = kStale;
    ASSERT_EQ(mov("mov cr4, eax", h.cpu.s.cr4 ^ bit), Status::Ok);
    EXPECT_EQ(h.cpu.s.pdpte, kLoaded) << bit;
  }
  h.cpu.s.pdpte = kStale;
  ASSERT_EQ(mov("mov cr4, eax", h.cpu.s.cr4 | cr4::TSD | cr4::DE), Status::Ok);
  EXPECT_EQ(h.cpu.s.pdpte, kStale);
  make_pdpte_bad();
  expect_gp_and_nothing_changed("mov cr4, eax", h.cpu.s.cr4 ^ cr4::PGE);
  ASSERT_EQ(mov("mov cr4, eax", h.cpu.s.cr4 & ~cr4::PAE), Status::Ok);  // back to 32-bit paging
  EXPECT_EQ(h.cpu.s.pdpte, kStale);
}

TEST_F(PdpteLoad, SettingPaeWithABadTableFaults) {
  h.cpu.s.cr0 |= cr0::PG;
  make_pdpte_bad();
  expect_gp_and_nothing_changed("mov cr4, eax", cr4::PAE);
  EXPECT_EQ(h.cpu.s.cr4, 0u);
}

// Long mode is a later issue: CR0.PG with EFER.LME (and PAE) stops the
// machine with a reason instead of running 4-level tables as PAE ones.
}  // namespace
}  // namespace vtlab::test::system
