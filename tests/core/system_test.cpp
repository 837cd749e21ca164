// System instructions: privilege checks, HLT and friends, descriptor-table
// registers, the machine status word, control and debug registers, INVLPG.
// Expected values are the SDM's (vol. 2 instruction pages, vol. 3 chapters
// 2, 4 and 18).  CPUID, the TSC, MSRs and x87 control: system_id_test.cpp.
#include "core/system_fixture.h"

namespace vtlab::test::system {
namespace {

// --- privilege ------------------------------------------------------------

const char* const kPrivileged[] = {
    "hlt",          "clts",         "lgdt [0x20000]", "lidt [0x20000]", "lmsw ax",          "mov cr0, eax",
    "mov eax, cr0", "mov cr3, eax", "mov eax, cr4",   "mov cr4, eax",   "mov dr7, eax",     "mov eax, dr6",
    "wbinvd",       "invd",         "rdmsr",          "wrmsr",          "invlpg [0x20000]",
};

// At CPL 1, 2 or 3 each privileged instruction is #GP(0) before it does
// anything at all.
TEST(SystemPrivilege, PrivilegedInstructionsFaultAboveCpl0) {
  for (unsigned cpl : {1u, 2u, 3u}) {
    for (const char* source : kPrivileged) {
      SCOPED_TRACE(std::string(source) + " at CPL " + std::to_string(cpl));
      CpuHarness h;
      set_cpl(h, cpl);
      h.cpu.s.gpr[RAX] = cr0::PE | cr0::ET | cr0::MP;  // a valid CR0/CR4/DR7 value, unlike the current one
      h.cpu.s.gpr[RCX] = msr::kEfer;
      h.load_asm(source);
      const Snapshot before = snapshot(h);
      DecodedInsn insn;
      ASSERT_EQ(h.execute_one(&insn), Status::Exception);
      expect_gp0(h);
      EXPECT_TRUE(insn.info & isa::info::kPrivileged);
      EXPECT_TRUE(insn.info & isa::info::kEndsBlock);
      EXPECT_EQ(snapshot(h), before);
    }
  }
}

// The sensitive-but-unprivileged ones run at CPL 3 (the virtualization
// holes the trap monitor reports), as do CPUID, RDTSC and x87 control.
TEST(SystemPrivilege, UnprivilegedSystemInstructionsRunAtCpl3) {
  const char* const sources[] = {"sgdt [0x20000]", "sidt [0x20000]", "smsw eax", "smsw word ptr [0x20000]",
                                 "cpuid",          "rdtsc",          "fninit",   "fnstsw ax",
                                 "pause",          "nop dword ptr [eax]"};
  for (const char* source : sources) {
    SCOPED_TRACE(source);
    CpuHarness h;
    set_cpl(h, 3);
    DecodedInsn insn;
    EXPECT_EQ(step(h, source, &insn), Status::Ok);
    EXPECT_FALSE(insn.info & isa::info::kPrivileged);
  }
}

// Real mode is CPL 0 whatever the SS cache says.
TEST(SystemPrivilege, RealModeIsCpl0) {
  CpuHarness h(16);
  h.cpu.s.seg[SS].attrs |= 3u << ar::kDplShift;
  h.cpu.s.cr0 |= cr0::TS;
  EXPECT_EQ(step(h, "clts"), Status::Ok);
  EXPECT_FALSE(h.cpu.s.cr0 & cr0::TS);
}

// --- HLT, CLTS, cache control, UD2, PAUSE, NOP ----------------------------

TEST(System, HltHaltsTheCpu) {
  CpuHarness h;
  h.load_asm("hlt\nnop");
  EXPECT_EQ(h.run(10), StopReason::Halted);
  EXPECT_TRUE(h.engine.halted());
  EXPECT_EQ(h.cpu.s.rip, CpuHarness::kCode + 1);
  EXPECT_EQ(h.cpu.icount, 1u);
}

TEST(System, CltsClearsOnlyTs) {
  CpuHarness h;
  h.cpu.s.cr0 |= cr0::TS | cr0::MP | cr0::NE;
  const uint64_t before = h.cpu.s.cr0;
  h.load_asm("clts");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.s.cr0, before & ~cr0::TS);
}

TEST(System, WbinvdAndInvdRetireAtCpl0) {
  CpuHarness h;
  h.load_asm("wbinvd\ninvd");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.icount, 2u);
}

TEST(System, Ud2RaisesInvalidOpcode) {
  CpuHarness h;
  ASSERT_EQ(step(h, "ud2"), Status::Exception);
  expect_fault(h, vec::UD, std::nullopt);
  EXPECT_EQ(h.cpu.s.rip, CpuHarness::kCode);
}

// PAUSE and the multi-byte NOPs (0F 1F /0) retire without touching their
// memory operand: here it is far outside a 256-byte DS.
TEST(System, PauseAndLongNopsDoNothing) {
  CpuHarness h;
  h.cpu.s.seg[DS].limit = 0xFF;
  h.cpu.s.gpr[RAX] = 0xFFFFFFF0;
  h.load_asm(R"(
    pause
    nop dword ptr [eax]
    nop word ptr [eax + eax*1 + 0x10]
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.icount, 3u);
  EXPECT_EQ(h.mem.read(CpuHarness::kCode + 2, 3), 0x001F0Fu);  // it was the 0F 1F form
}

// --- descriptor-table registers -------------------------------------------

TEST(System, LgdtLidtLoadLimitAndBase) {
  CpuHarness h;
  h.mem.write(0x20000, 2, 0x1234);
  h.write32(0x20002, 0x89ABCDEF);
  h.mem.write(0x20008, 2, 0x07FF);
  h.write32(0x2000A, 0x00012345);
  h.load_asm("lgdt [0x20000]\nlidt [0x20008]");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.s.gdtr.base, 0x89ABCDEFu);
  EXPECT_EQ(h.cpu.s.gdtr.limit, 0x1234u);
  EXPECT_EQ(h.cpu.s.idtr.base, 0x12345u);
  EXPECT_EQ(h.cpu.s.idtr.limit, 0x07FFu);
}

// 16-bit operand size: 24 bits of base, the high byte becomes 0.
TEST(System, LgdtWith16BitOperandSizeLoads24Bits) {
  CpuHarness h;
  h.mem.write(0x20000, 2, 0x1234);
  h.write32(0x20002, 0x89ABCDEF);
  h.load_asm("lgdtw [0x20000]\nlidtw [0x20000]");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.s.gdtr.base, 0x00ABCDEFu);
  EXPECT_EQ(h.cpu.s.idtr.base, 0x00ABCDEFu);
  EXPECT_EQ(h.cpu.s.gdtr.limit, 0x1234u);
}

TEST(System, LgdtInRealModeFollowsTheOperandSize) {
  CpuHarness h(16);
  h.mem.write(0x2000, 2, 0x0017);
  h.write32(0x2002, 0xFF012345);
  h.load_asm("lgdt [0x2000]\n.byte 0x66\nlidt [0x2000]");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.s.gdtr.base, 0x00012345u);
  EXPECT_EQ(h.cpu.s.idtr.base, 0xFF012345u);
  EXPECT_EQ(h.cpu.s.idtr.limit, 0x17u);
}

// The whole 6-byte operand must be inside the segment, checked before
// anything is loaded.
TEST(System, LgdtOperandPastTheSegmentLimitFaults) {
  CpuHarness h(16);
  const TableRegister before = h.cpu.s.gdtr;
  ASSERT_EQ(step(h, "lgdt [0xFFFC]"), Status::Exception);
  expect_gp0(h);
  EXPECT_EQ(h.cpu.s.gdtr.base, before.base);
  EXPECT_EQ(h.cpu.s.gdtr.limit, before.limit);
}

TEST(System, SgdtSidtStoreSixBytes) {
  CpuHarness h;
  h.cpu.s.gdtr = {0x89ABCDEF, 0x1234};
  h.cpu.s.idtr = {0x00012345, 0x07FF};
  for (uint64_t a = 0x20000; a < 0x20010; a += 4) h.write32(a, 0xCCCCCCCC);
  h.load_asm("sgdt [0x20000]\nsidt [0x20008]");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.mem.read(0x20000, 8), 0xCCCC89ABCDEF1234ull);
  EXPECT_EQ(h.mem.read(0x20008, 8), 0xCCCC0001234507FFull);
}

// The current SDM stores the full 32-bit base whatever the operand size
// (older editions stored 24 bits and a zero byte at 16 bits).
TEST(System, SgdtWith16BitOperandSizeStoresTheFullBase) {
  CpuHarness h;
  h.cpu.s.gdtr = {0x89ABCDEF, 0x1234};
  h.load_asm(".byte 0x66\nsgdt [0x20000]");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.mem.read(0x20000, 6), 0x89ABCDEF1234ull);
}

TEST(System, SgdtToAReadOnlySegmentFaults) {
  CpuHarness h;
  h.cpu.s.seg[DS].attrs &= ~ar::kWritable;
  h.write32(0x20000, 0xCCCCCCCC);
  ASSERT_EQ(step(h, "sgdt [0x20000]"), Status::Exception);
  expect_gp0(h);
  EXPECT_EQ(h.read32(0x20000), 0xCCCCCCCCu);
}

// An operand straddling into a not-present page faults before the part in
// the present page is written.
TEST(System, SgdtStraddlingIntoAMissingPageWritesNothing) {
  CpuHarness h;
  constexpr uint64_t kPd = 0x100000, kPt = 0x101000;
  for (uint32_t n = 0; n < 1024; ++n) h.write32(kPt + 4 * n, (n << 12) | 0x3);
  h.write32(kPt + 4 * 0x21, 0);  // 0x21000 not present
  h.write32(kPd, static_cast<uint32_t>(kPt) | 0x3);
  h.cpu.s.cr3 = kPd;
  h.cpu.s.cr0 |= cr0::PG;
  h.write32(0x20FFC, 0xCCCCCCCC);
  ASSERT_EQ(step(h, "sgdt [0x20FFE]"), Status::Exception);
  expect_fault(h, vec::PF, pfec::W);
  EXPECT_EQ(h.cpu.s.cr2, 0x21000u);
  EXPECT_EQ(h.read32(0x20FFC), 0xCCCCCCCCu);
}

// --- machine status word ---------------------------------------------------

// LMSW loads PE, MP, EM and TS only, and cannot clear PE.
TEST(System, LmswLoadsTheLowFourBitsButNeverClearsPe) {
  CpuHarness h;
  h.cpu.s.cr0 = cr0::PE | cr0::ET | cr0::NE | cr0::WP;
  h.cpu.s.gpr[RAX] = 0xFFFE;
  ASSERT_EQ(step(h, "lmsw ax"), Status::Ok);
  EXPECT_EQ(h.cpu.s.cr0, cr0::PE | cr0::MP | cr0::EM | cr0::TS | cr0::ET | cr0::NE | cr0::WP);
  h.cpu.s.gpr[RAX] = 0;
  ASSERT_EQ(step(h, "lmsw ax"), Status::Ok);
  EXPECT_EQ(h.cpu.s.cr0, cr0::PE | cr0::ET | cr0::NE | cr0::WP);
}

TEST(System, LmswEntersProtectedModeFromRealMode) {
  CpuHarness h(16);
  h.mem.write(0x2000, 2, 0x000F);
  const uint64_t before = h.cpu.s.cr0;
  h.load_asm("lmsw [0x2000]");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.s.cr0, before | 0xF);
  EXPECT_TRUE(h.cpu.s.protected_mode());
}

// SMSW: a 32-bit register gets CR0[31:0], a 16-bit one only its low half,
// memory always 16 bits.
TEST(System, SmswRegisterAndMemoryForms) {
  CpuHarness h;
  h.cpu.s.cr0 = cr0::CD | cr0::AM | cr0::WP | cr0::NE | cr0::ET | cr0::MP | cr0::PE;  // 0x40050033
  h.write32(0x20000, 0xCCCCCCCC);
  h.load_asm(R"(
    mov eax, 0xFFFFFFFF
    smsw eax
    mov ebx, 0xCAFEBABE
    smsw bx
    smsw word ptr [0x20000]
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RAX), 0x40050033u);
  EXPECT_EQ(h.reg32(RBX), 0xCAFE0033u);
  EXPECT_EQ(h.read32(0x20000), 0xCCCC0033u);
}

// --- control registers -------------------------------------------------------

// Reserved CR0 bits are ignored (not a fault); ET always reads 1.
TEST(System, MovCr0IgnoresReservedBitsAndForcesEt) {
  CpuHarness h;
  h.load_asm(R"(
    mov eax, 0x1FFAFFC1
    mov cr0, eax
    mov ebx, cr0
    mov eax, 0x60000011
    mov cr0, eax
    mov ecx, cr0
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RBX), 0x00000011u);
  EXPECT_EQ(h.reg32(RCX), 0x60000011u);
}

TEST(System, MovCr0InvalidCombinationsFault) {
  for (uint32_t v : {0x80000010u /* PG without PE */, 0x20000011u /* NW without CD */}) {
    SCOPED_TRACE(v);
    CpuHarness h;
    h.cpu.s.gpr[RAX] = v;
    const Snapshot before = snapshot(h);
    ASSERT_EQ(step(h, "mov cr0, eax"), Status::Exception);
    expect_gp0(h);
    EXPECT_EQ(snapshot(h), before);
  }
}

// PG, WP and PE changes flush the whole TLB; other CR0 bits do not.
TEST(System, MovCr0FlushesTheTlbWhenTranslationChanges) {
  CpuHarness h;
  const uint64_t base = h.cpu.s.cr0;
  struct Case {
    uint64_t cr0;
    uint64_t flushes;
  } cases[] = {{base | cr0::MP, 0}, {base | cr0::MP | cr0::WP, 1}, {base | cr0::WP, 0},
               {base | cr0::WP | cr0::CD, 0}, {(base | cr0::WP) & ~cr0::PE, 1}};
  for (const Case& c : cases) {
    const uint64_t before = h.cpu.tlb.flushes();
    h.cpu.s.gpr[RAX] = c.cr0;
    ASSERT_EQ(step(h, "mov cr0, eax"), Status::Ok);
    EXPECT_EQ(h.cpu.s.cr0, c.cr0);
    EXPECT_EQ(h.cpu.tlb.flushes() - before, c.flushes) << std::hex << c.cr0;
  }
}

TEST(System, MovCr2Cr3Cr4RoundTrip) {
  CpuHarness h;
  h.load_asm(R"(
    mov eax, 0xDEADBEEF
    mov cr2, eax
    mov ebx, cr2
    mov eax, 0x12345018
    mov cr3, eax
    mov ecx, cr3
    mov eax, 0xBC
    mov cr4, eax
    mov edx, cr4
  )");
  const uint64_t flushes = h.cpu.tlb.flushes();
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RBX), 0xDEADBEEFu);
  EXPECT_EQ(h.reg32(RCX), 0x12345018u);
  EXPECT_EQ(h.reg32(RDX), 0xBCu);  // TSD DE PSE PAE PGE; PAE without PG is fine
  EXPECT_EQ(h.cpu.s.cr4, cr4::TSD | cr4::DE | cr4::PSE | cr4::PAE | cr4::PGE);
  EXPECT_EQ(h.cpu.tlb.flushes() - flushes, 2u);  // the CR3 load, the CR4 paging bits
}

TEST(System, MovCr4TsdAloneDoesNotFlush) {
  CpuHarness h;
  h.cpu.s.gpr[RAX] = cr4::TSD | cr4::DE;
  const uint64_t flushes = h.cpu.tlb.flushes();
  ASSERT_EQ(step(h, "mov cr4, eax"), Status::Ok);
  EXPECT_EQ(h.cpu.tlb.flushes(), flushes);
}

// CR4 bits for features this CPU lacks are reserved: #GP(0).
TEST(System, MovCr4ReservedBitsFault) {
  for (unsigned bit : {0u, 1u, 8u, 11u, 12u, 13u, 14u, 16u, 17u, 18u, 20u, 21u, 22u, 31u}) {
    SCOPED_TRACE(bit);
    CpuHarness h;
    h.cpu.s.gpr[RAX] = cr4::PSE | (uint64_t{1} << bit);
    ASSERT_EQ(step(h, "mov cr4, eax"), Status::Exception);
    expect_gp0(h);
    EXPECT_EQ(h.cpu.s.cr4, 0u);
  }
}

// Activating long mode (PG with EFER.LME) without PAE is #GP(0).
TEST(System, LongModeWithoutPaeFaults) {
  CpuHarness h;
  h.cpu.s.efer = efer::LME;
  h.cpu.s.gpr[RAX] = 0x80000011;
  ASSERT_EQ(step(h, "mov cr0, eax"), Status::Exception);
  expect_gp0(h);
  EXPECT_FALSE(h.cpu.s.paging());
}

// --- debug registers --------------------------------------------------------

TEST(System, MovDebugRegistersWithFixedBits) {
  CpuHarness h;
  h.load_asm(R"(
    mov eax, 0x11111111
    mov dr0, eax
    mov eax, 0x33333333
    mov dr3, eax
    mov eax, 0
    mov dr6, eax
    mov dr7, eax
    mov ebx, dr6
    mov ecx, dr7
    mov eax, 0xFFFFFFFF
    mov dr6, eax
    mov dr7, eax
    mov esi, dr6
    mov edi, dr7
    mov edx, dr3
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.s.dr[0], 0x11111111u);
  EXPECT_EQ(h.reg32(RDX), 0x33333333u);
  EXPECT_EQ(h.reg32(RBX), 0xFFFF0FF0u);
  EXPECT_EQ(h.reg32(RCX), 0x00000400u);
  EXPECT_EQ(h.reg32(RSI), 0xFFFFEFFFu);
  EXPECT_EQ(h.reg32(RDI), 0xFFFF27FFu);
}

// With CR4.DE clear, DR4 and DR5 are DR6 and DR7.
TEST(System, Dr4AndDr5AliasDr6AndDr7WithoutDe) {
  CpuHarness h;
  h.load_asm(R"(
    mov eax, 0xFFFFFFFF
    mov dr4, eax
    mov ebx, dr6
    mov eax, 0
    mov dr5, eax
    mov ecx, dr7
    mov edx, dr4
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RBX), 0xFFFFEFFFu);
  EXPECT_EQ(h.reg32(RCX), 0x400u);
  EXPECT_EQ(h.reg32(RDX), 0xFFFFEFFFu);
}

TEST(System, Dr4AndDr5AreInvalidWithDe) {
  for (const char* source : {"mov dr4, eax", "mov dr5, eax", "mov eax, dr4", "mov eax, dr5"}) {
    SCOPED_TRACE(source);
    CpuHarness h;
    h.cpu.s.cr4 = cr4::DE;
    const Snapshot before = snapshot(h);
    ASSERT_EQ(step(h, source), Status::Exception);
    expect_fault(h, vec::UD, std::nullopt);
    EXPECT_EQ(snapshot(h), before);
  }
}

// The CPL check comes first: at CPL 3 even an invalid DR4 access is #GP.
TEST(System, DebugRegisterCplCheckComesFirst) {
  CpuHarness h;
  h.cpu.s.cr4 = cr4::DE;
  set_cpl(h, 3);
  ASSERT_EQ(step(h, "mov dr4, eax"), Status::Exception);
  expect_gp0(h);
}

// --- INVLPG ----------------------------------------------------------------

// INVLPG does not access its operand: an unmapped address does not fault.
TEST(System, InvlpgOfAnUnmappedAddressDoesNotFault) {
  CpuHarness h;
  h.cpu.s.cr0 |= cr0::PG;
  h.cpu.s.cr3 = 0x100000;  // an empty page directory
  h.cpu.s.gpr[RAX] = 0x7FFFF000;
  EXPECT_EQ(step(h, "invlpg [eax]"), Status::Ok);
}

TEST(System, InvlpgDropsTheTranslationOfItsLinearAddress) {
  CpuHarness h;
  h.cpu.s.seg[DS].base = 0x1000;  // the linear address includes the segment base
  h.cpu.tlb.insert(0x401000, Translation{0x999000, 4096, false, true, true, false});
  h.cpu.tlb.insert(0x400000, Translation{0x998000, 4096, false, true, true, false});
  ASSERT_EQ(step(h, "invlpg [0x400123]"), Status::Ok);
  EXPECT_EQ(h.cpu.tlb.lookup(0x401000), nullptr);
  EXPECT_NE(h.cpu.tlb.lookup(0x400000), nullptr);
}

}  // namespace
}  // namespace vtlab::test::system
