// PAE paging as guest code sees it, run by the engine on real tables: the
// guest turns PAE on itself, faults are delivered through the IDT with the
// exact error code and CR2, the PDPTEs are registers (stale until CR3 is
// reloaded), A/D bits land where SDM 4.8 says, and the TLB keeps or drops
// translations as SDM 4.10.4.1 says (globals survive MOV CR3 but not a
// CR4.PGE toggle or INVLPG; an EFER.NXE change drops everything).
#include <gtest/gtest.h>

#include "privilege/priv_fixture.h"

namespace vtlab::test {
namespace {

constexpr uint64_t P = 1u << 0, RW = 1u << 1, US = 1u << 2, A = 1u << 5, D = 1u << 6, PS = 1u << 7, G = 1u << 8,
                   XD = uint64_t{1} << 63;

// The first 2 MiB identity-mapped with 4 KiB pages (user, writable), 2..4
// MiB identity-mapped by one 2 MiB page, and linear 4..6 MiB -> physical
// 8..10 MiB by another.  The #PF and #GP handlers are HLT, so a run stops
// in the handler with the error code on the stack.
class PaeGuest : public PrivTest {
 protected:
  static constexpr uint64_t kPdpt = 0x100000, kPd = 0x101000, kPt = 0x102000;

  void SetUp() override {
    for (uint64_t i = 0; i < 512; ++i) h.mem.write(kPt + 8 * i, 8, (i << 12) | P | RW | US);
    h.mem.write(kPd + 0, 8, kPt | P | RW | US);
    h.mem.write(kPd + 8, 8, 0x200000 | PS | P | RW | US);
    h.mem.write(kPd + 16, 8, 0x800000 | PS | P | RW | US);
    h.mem.write(kPdpt, 8, kPd | P);
    for (uint8_t v : {vec::PF, vec::GP}) h.mem.write(handler(v), 1, 0xF4);  // HLT
  }

  // PAE paging on, as if the guest had done it (the guest-code way is a test).
  void enable_pae(uint64_t efer_bits = 0) {
    h.cpu.s.cr4 |= cr4::PAE;
    h.cpu.s.cr3 = kPdpt;
    ASSERT_TRUE(h.cpu.walker.load_pdptes(kPdpt, h.cpu.s.pdpte));
    h.cpu.s.cr0 |= cr0::PG;
    h.cpu.s.efer |= efer_bits;
    h.cpu.paging_changed(false);
  }

  uint64_t pte_addr(uint32_t lin) const { return kPt + 8 * (lin >> 12); }
  void set_pte(uint32_t lin, uint64_t v) { h.mem.write(pte_addr(lin), 8, v); }
  uint64_t pte(uint32_t lin) { return h.mem.read(pte_addr(lin), 8); }

  // Runs the snippet into a fault handler; checks vector, error code, CR2.
  void expect_page_fault(uint32_t error, uint32_t cr2) {
    ASSERT_EQ(h.run_to_end(), StopReason::Halted) << h.cpu.stop_detail();
    EXPECT_EQ(h.cpu.s.rip, handler(vec::PF) + 1);
    EXPECT_EQ(stack32(0), error);
    EXPECT_EQ(h.cpu.s.cr2, cr2);
  }
};

// The guest's own switch: CR4.PAE, CR3, CR0.PG.  The PDPTEs are loaded as
// CR0.PG is set, and a 2 MiB mapping elsewhere is in force at once.
TEST_F(PaeGuest, GuestTurnsOnPaePaging) {
  h.write32(0x800010, 0x600DF00D);
  h.load_asm(R"(
    mov eax, cr4
    or eax, 0x20
    mov cr4, eax
    mov eax, 0x100000
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    mov ebx, dword ptr [0x400010]
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted) << h.cpu.stop_detail();
  EXPECT_EQ(h.reg32(RBX), 0x600DF00Du);
  EXPECT_EQ(h.cpu.s.pdpte, (std::array<uint64_t, 4>{kPd | P, 0, 0, 0}));
  EXPECT_EQ(paging_mode(h.cpu.s.cr0, h.cpu.s.cr4, h.cpu.s.efer), PagingMode::Pae);
}

// A present PDPTE with a reserved bit: MOV CR0 is #GP(0) and paging stays off.
TEST_F(PaeGuest, PagingOnWithABadPdpteFaults) {
  h.mem.write(kPdpt + 16, 8, 0x5000 | P | (1u << 2));
  h.cpu.s.cr4 = cr4::PAE;
  h.cpu.s.cr3 = kPdpt;
  h.load_asm(R"(
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::Halted);
  EXPECT_EQ(h.cpu.s.rip, handler(vec::GP) + 1);
  EXPECT_EQ(stack32(0), 0u);
  EXPECT_EQ(stack32(1), CpuHarness::kCode + 8);  // the MOV CR0 (after 3 + 5 bytes)
  EXPECT_FALSE(h.cpu.s.paging());
  EXPECT_EQ(h.cpu.s.pdpte, (std::array<uint64_t, 4>{}));
}

// PDPTEs are registers: editing the PDPT changes nothing (even after
// INVLPG) until CR3 is loaded again.
TEST_F(PaeGuest, PdptEditsWaitForTheNextCr3Load) {
  enable_pae();
  constexpr uint64_t kPd2 = 0x103000;
  for (unsigned i = 0; i < 512; ++i) h.mem.write(kPd2 + 8 * i, 8, h.mem.read(kPd + 8 * i, 8));
  h.mem.write(kPd2 + 16, 8, 0xA00000 | PS | P | RW | US);  // 4 MiB -> 10 MiB now
  h.write32(0x800010, 0x11111111);
  h.write32(0xA00010, 0x22222222);
  h.load_asm(R"(
    mov dword ptr [0x100000], 0x103001
    invlpg [0x400010]
    mov ebx, dword ptr [0x400010]
    mov eax, cr3
    mov cr3, eax
    mov ecx, dword ptr [0x400010]
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted) << h.cpu.stop_detail();
  EXPECT_EQ(h.reg32(RBX), 0x11111111u);
  EXPECT_EQ(h.reg32(RCX), 0x22222222u);
  EXPECT_EQ(h.cpu.s.pdpte[0], kPd2 | P);
}

// MOV CR3 in PAE mode with a bad PDPTE: #GP(0), CR3 and the PDPTEs kept.
TEST_F(PaeGuest, Cr3LoadWithABadPdpteFaults) {
  enable_pae();
  constexpr uint64_t kBadPdpt = 0x104000;
  h.mem.write(kBadPdpt, 8, kPd | P);
  h.mem.write(kBadPdpt + 24, 8, 0x5000 | P | (uint64_t{1} << 40));
  const uint64_t flushes = h.cpu.tlb.flushes();
  h.cpu.s.gpr[RAX] = kBadPdpt;
  h.load_asm("mov cr3, eax");
  ASSERT_EQ(h.run_to_end(), StopReason::Halted);
  EXPECT_EQ(h.cpu.s.rip, handler(vec::GP) + 1);
  EXPECT_EQ(stack32(0), 0u);
  EXPECT_EQ(h.cpu.s.cr3, kPdpt);
  EXPECT_EQ(h.cpu.s.pdpte, (std::array<uint64_t, 4>{kPd | P, 0, 0, 0}));
  EXPECT_EQ(h.cpu.tlb.flushes(), flushes);
}

// A call into an XD page faults on the fetch with P|I and CR2 = target;
// reading the same page is fine.  With NXE=0 the same bit is reserved.
TEST_F(PaeGuest, FetchFromAnXdPage) {
  enable_pae(efer::NXE);
  set_pte(0x5000, 0x5000 | P | RW | US | XD);
  h.mem.write(0x5000, 1, 0xC3);  // RET
  h.load_asm("mov eax, dword ptr [0x5000]\ncall 0x5000");
  expect_page_fault(pfec::P | pfec::I, 0x5000);
  EXPECT_EQ(h.reg32(RAX), 0xC3u);
  EXPECT_EQ(stack32(1), 0x5000u);  // the fault returns to the fetch
}

TEST_F(PaeGuest, XdBitIsReservedWithoutNxe) {
  enable_pae();
  set_pte(0x5000, 0x5000 | P | RW | US | XD);
  h.load_asm("mov eax, dword ptr [0x5000]");
  expect_page_fault(pfec::P | pfec::RSVD, 0x5000);
}

// From ring 3: a supervisor page faults P|U; a read-only page refuses
// writes (P|W|U) but not reads; a missing page gives U alone.  (Each run
// ends halted in the handler, so each case is its own test.)
class PaeRing3 : public PaeGuest {
 protected:
  void SetUp() override {
    PaeGuest::SetUp();
    enable_pae();
    set_pte(0x5000, 0x5000 | P | RW);
    set_pte(0x6000, 0x6000 | P | US);
    set_pte(0x7000, 0);
    enter_ring3();
  }
};

TEST_F(PaeRing3, ReadOfASupervisorPage) {
  h.load_asm("mov eax, dword ptr [0x5004]");
  expect_page_fault(pfec::P | pfec::U, 0x5004);
}
TEST_F(PaeRing3, WriteToAReadOnlyPage) {
  h.load_asm("mov dword ptr [0x6008], eax");
  expect_page_fault(pfec::P | pfec::W | pfec::U, 0x6008);
}
TEST_F(PaeRing3, ReadOfAReadOnlyPage) {
  h.write32(0x6008, 0x1234);
  h.load_asm("mov eax, dword ptr [0x6008]");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RAX), 0x1234u);
}
TEST_F(PaeRing3, ReadOfAMissingPage) {
  h.load_asm("mov eax, dword ptr [0x7000]");
  expect_page_fault(pfec::U, 0x7000);
}

// CR0.WP=1: a supervisor write to a read-only page faults P|W; with WP=0
// it goes through and sets D.
TEST_F(PaeGuest, SupervisorWriteWithWriteProtect) {
  enable_pae();
  set_pte(0x5000, 0x5000 | P | US);
  h.cpu.s.cr0 |= cr0::WP;
  h.load_asm("mov dword ptr [0x5000], 1");
  expect_page_fault(pfec::P | pfec::W, 0x5000);
  EXPECT_EQ(pte(0x5000), 0x5000u | P | US);
}

TEST_F(PaeGuest, SupervisorWriteWithoutWriteProtect) {
  enable_pae();
  set_pte(0x5000, 0x5000 | P | US);
  h.load_asm("mov dword ptr [0x5000], 1");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.read32(0x5000), 1u);
  EXPECT_EQ(pte(0x5000), 0x5000u | P | US | A | D);
}

// A read sets A in the PDE and PTE; a write sets D in the PTE (never in a
// PDE that points to a table); a write through a 2 MiB page sets its D.
TEST_F(PaeGuest, AccessedAndDirtyBits) {
  enable_pae();
  h.load_asm("mov eax, dword ptr [0x5000]\nmov dword ptr [0x6000], eax\nmov dword ptr [0x300000], eax");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(pte(0x5000), 0x5000u | P | RW | US | A);
  EXPECT_EQ(pte(0x6000), 0x6000u | P | RW | US | A | D);
  EXPECT_EQ(h.mem.read(kPd, 8), kPt | P | RW | US | A);
  EXPECT_EQ(h.mem.read(kPd + 8, 8), 0x200000u | PS | P | RW | US | A | D);
  EXPECT_EQ(h.mem.read(kPd + 16, 8), 0x800000u | PS | P | RW | US);  // never touched
  EXPECT_EQ(h.mem.read(kPdpt, 8), kPd | P);                             // PDPTEs have no A bit
}

// A page above 4 GiB (MAXPHYADDR is 36) is a hole: reads give all ones,
// writes vanish, and nothing faults.
TEST_F(PaeGuest, PagesAbove4GiBAreHoles) {
  enable_pae();
  set_pte(0x5000, 0x100006000 | P | RW);
  h.write32(0x6000, 0x5A5A5A5A);  // what the address would hit if it wrapped at 4 GiB
  h.load_asm("mov dword ptr [0x5000], 0\nmov eax, dword ptr [0x5000]");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RAX), 0xFFFFFFFFu);
  EXPECT_EQ(h.read32(0x6000), 0x5A5A5A5Au);
}

// What the TLB keeps of a walk is what a debugger shows: the linear and
// physical page, the size of the page, the combined rights with XD, G, D.
TEST_F(PaeGuest, TlbEntryShowsTheTranslation) {
  enable_pae(efer::NXE);
  h.cpu.s.cr4 |= cr4::PGE;
  h.mem.write(kPd + 16, 8, 0x800000 | PS | P | US | G | XD);
  uint64_t phys = 0;
  ASSERT_EQ(h.cpu.translate(0x412345, Access::Write, false, phys), Status::Ok);  // WP=0: allowed
  EXPECT_EQ(phys, 0x812345u);
  const Tlb::Entry* e = h.cpu.tlb.lookup(0x412000);
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->valid());
  EXPECT_EQ(e->vpn, 0x412u);
  EXPECT_EQ(e->ppn, 0x812u);
  EXPECT_EQ(e->page_size, 2u << 20);
  EXPECT_TRUE(e->user);
  EXPECT_FALSE(e->writable);
  EXPECT_TRUE(e->nx);
  EXPECT_TRUE(e->dirty);
  EXPECT_TRUE(e->global);
  // A cached XD entry still refuses fetches (the refusal walks again and
  // faults with I set).
  EXPECT_EQ(h.cpu.translate(0x412345, Access::Execute, false, phys), Status::Exception);
  EXPECT_EQ(h.cpu.pending().error, pfec::P | pfec::I);
}

// A debugger explains a walk from the CPU's own registers; the TLB and the
// tables stay as they were.
TEST_F(PaeGuest, ExplainFromTheCpuState) {
  enable_pae();
  const uint64_t flushes = h.cpu.tlb.flushes();
  const WalkExplanation e = h.cpu.walker.explain(h.cpu.walk_request(0x400010, Access::Write, true));
  ASSERT_EQ(e.steps.size(), 2u);
  EXPECT_EQ(e.steps[0].raw, kPd | P);
  EXPECT_EQ(e.steps[1].entry_addr, kPd + 16);
  EXPECT_EQ(e.steps[1].verdict, WalkStep::Verdict::Page);
  EXPECT_TRUE(e.ok);
  EXPECT_EQ(e.t.phys, 0x800010u);
  EXPECT_EQ(e.t.page_size, 2u << 20);
  EXPECT_EQ(h.cpu.tlb.lookup(0x400010), nullptr);
  EXPECT_EQ(h.cpu.tlb.flushes(), flushes);
  EXPECT_EQ(h.mem.read(kPd + 16, 8), 0x800000u | PS | P | RW | US);
}

// Global 2 MiB page at 4 MiB: a stale translation survives MOV CR3 ...
class PaeGlobal : public PaeGuest {
 protected:
  void SetUp() override {
    PaeGuest::SetUp();
    h.mem.write(kPd + 16, 8, 0x800000 | PS | P | RW | US | G);
    enable_pae();
    h.cpu.s.cr4 |= cr4::PGE;
    h.write32(0x800010, 0x11111111);
    h.write32(0xA00010, 0x22222222);
  }
  // Caches the global page, remaps it to 10 MiB, runs `between`, reads again.
  uint32_t read_after(const std::string& between) {
    h.cpu.s.gpr[RSI] = cr4::PAE;
    h.cpu.s.gpr[RDI] = cr4::PAE | cr4::PGE;
    h.load_asm("mov ebx, dword ptr [0x400010]\nmov dword ptr [0x101010], 0xA00187\n" + between +
               "\nmov ecx, dword ptr [0x400010]");
    EXPECT_EQ(h.run_to_end(), StopReason::BudgetExhausted) << h.cpu.stop_detail();
    EXPECT_EQ(h.reg32(RBX), 0x11111111u);
    return h.reg32(RCX);
  }
};

TEST_F(PaeGlobal, SurvivesCr3Load) { EXPECT_EQ(read_after("mov eax, cr3\nmov cr3, eax"), 0x11111111u); }
TEST_F(PaeGlobal, DroppedByPgeToggle) { EXPECT_EQ(read_after("mov cr4, esi\nmov cr4, edi"), 0x22222222u); }
TEST_F(PaeGlobal, DroppedByInvlpg) { EXPECT_EQ(read_after("invlpg [0x5FFFFF]"), 0x22222222u); }
TEST_F(PaeGlobal, DroppedByNxeChange) {
  EXPECT_EQ(read_after("mov ecx, 0xC0000080\nrdmsr\nor eax, 0x800\nwrmsr"), 0x22222222u);
}
TEST_F(PaeGlobal, KeptByOtherCr4Bits) { EXPECT_EQ(read_after("mov eax, 0xA4\nmov cr4, eax"), 0x11111111u); }

}  // namespace
}  // namespace vtlab::test
