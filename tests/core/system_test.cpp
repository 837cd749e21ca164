// System instructions: privilege checks, control and debug registers,
// descriptor-table registers, CPUID, the TSC, MSRs and x87 control.
// Expected values are the SDM's (vol. 2 instruction pages, vol. 3 chapters
// 2, 4 and 18); x87 control-word masking is cross-checked on the host.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <map>
#include <optional>
#include <string>

#include "core/decoder.h"
#include "core/isa/registry.h"
#include "support/cpu_harness.h"

namespace vtlab::test {
namespace {

// Loads `source` and runs its first instruction through execute_one.
Status step(CpuHarness& h, const std::string& source, DecodedInsn* decoded = nullptr) {
  h.load_asm(source);
  return h.execute_one(decoded);
}

void expect_fault(const CpuHarness& h, uint8_t vector, std::optional<uint32_t> error) {
  EXPECT_EQ(h.cpu.pending().kind, PendingEvent::Kind::Fault);
  EXPECT_EQ(h.cpu.pending().vector, vector);
  EXPECT_EQ(h.cpu.pending().has_error, error.has_value());
  if (error) {
    EXPECT_EQ(h.cpu.pending().error, *error);
  }
}
void expect_gp0(const CpuHarness& h) { expect_fault(h, vec::GP, 0u); }

void set_cpl(CpuHarness& h, unsigned cpl) {
  for (SegmentCache& sc : h.cpu.s.seg) {
    sc.attrs = (sc.attrs & ~ar::kDplMask) | (cpl << ar::kDplShift);
    sc.selector = static_cast<uint16_t>((sc.selector & ~3u) | cpl);
  }
}

// What a faulting instruction must leave alone.
struct Snapshot {
  std::array<uint64_t, 16> gpr;
  uint64_t rip, cr0, cr2, cr3, cr4, cr8, efer;
  std::array<uint64_t, 8> dr;
  uint64_t gdt_base, idt_base;
  uint32_t gdt_limit, idt_limit;
  std::map<uint32_t, uint64_t> msrs;
  uint16_t fcw, fsw, ftw;
  uint64_t tlb_flushes, data;
  bool operator==(const Snapshot&) const = default;
};

Snapshot snapshot(CpuHarness& h) {
  const CpuState& s = h.cpu.s;
  return Snapshot{s.gpr,
                  s.rip,
                  s.cr0, s.cr2, s.cr3, s.cr4, s.cr8,
                  s.efer,
                  s.dr,
                  s.gdtr.base, s.idtr.base, s.gdtr.limit, s.idtr.limit,
                  s.msrs,
                  s.fpu.fcw, s.fpu.fsw, s.fpu.ftw,
                  h.cpu.tlb.flushes(),
                  h.mem.read(CpuHarness::kData, 8)};
}

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
  for (unsigned bit : {0u, 1u, 6u, 8u, 9u, 10u, 11u, 12u, 13u, 14u, 16u, 17u, 18u, 20u, 21u, 22u, 31u}) {
    SCOPED_TRACE(bit);
    CpuHarness h;
    h.cpu.s.gpr[RAX] = cr4::PSE | (uint64_t{1} << bit);
    ASSERT_EQ(step(h, "mov cr4, eax"), Status::Exception);
    expect_gp0(h);
    EXPECT_EQ(h.cpu.s.cr4, 0u);
  }
}

// PAE paging is not modelled: turning paging on with CR4.PAE stops the
// machine (with a reason) instead of running with the wrong tables.
TEST(System, PagingWithPaeStopsAsUnsupported) {
  CpuHarness h;
  h.cpu.s.cr4 = cr4::PAE;
  h.load_asm("mov eax, 0x80000011\nmov cr0, eax");
  EXPECT_EQ(h.run_to_end(), StopReason::Unsupported);
  EXPECT_NE(h.cpu.stop_detail().find("PAE"), std::string::npos);
  EXPECT_EQ(h.cpu.s.cr0, cr0::PE | cr0::ET);
  EXPECT_EQ(h.cpu.s.rip, CpuHarness::kCode + 5);
}

TEST(System, SettingPaeWithPagingOnStopsAsUnsupported) {
  CpuHarness h;
  h.cpu.s.cr0 |= cr0::PG;  // the handler runs alone: no tables needed
  h.cpu.s.gpr[RAX] = cr4::PAE;
  ASSERT_EQ(step(h, "mov cr4, eax"), Status::Stop);
  EXPECT_EQ(h.cpu.stop_requested(), StopReason::Unsupported);
  EXPECT_EQ(h.cpu.s.cr4, 0u);
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

// --- CPUID ------------------------------------------------------------------

std::array<uint32_t, 4> cpuid(uint32_t leaf, uint32_t subleaf = 0) {
  CpuHarness h;
  h.cpu.s.gpr[RAX] = leaf;
  h.cpu.s.gpr[RCX] = subleaf;
  EXPECT_EQ(step(h, "cpuid"), Status::Ok);
  return {h.reg32(RAX), h.reg32(RBX), h.reg32(RCX), h.reg32(RDX)};
}
using Regs = std::array<uint32_t, 4>;  // EAX EBX ECX EDX

TEST(SystemCpuid, VendorAndMaximumLeaves) {
  EXPECT_EQ(cpuid(0), (Regs{1, 0x756E6547, 0x6C65746E, 0x49656E69}));  // "Genu" "ntel" "ineI"
  EXPECT_EQ(cpuid(0, 7), cpuid(0));                                      // no sub-leaves
  EXPECT_EQ(cpuid(0x80000000), (Regs{0x80000004, 0, 0, 0}));
  EXPECT_EQ(cpuid(0x80000001), (Regs{0, 0, 0, 0}));
}

TEST(SystemCpuid, SignatureAndFeatures) {
  const Regs r = cpuid(1);
  EXPECT_EQ(r[0], 0x00000600u);  // family 6, model 0, stepping 0
  EXPECT_EQ(r[1], 0u);
  EXPECT_EQ(r[2], 0u);
  EXPECT_EQ(r[3], 0x0001A13Cu);
  const uint32_t edx = r[3];
  EXPECT_FALSE(edx & (1u << 0)) << "FPU";
  EXPECT_TRUE(edx & (1u << 2)) << "DE";
  EXPECT_TRUE(edx & (1u << 3)) << "PSE";
  EXPECT_TRUE(edx & (1u << 4)) << "TSC";
  EXPECT_TRUE(edx & (1u << 5)) << "MSR";
  EXPECT_FALSE(edx & (1u << 6)) << "PAE";
  EXPECT_TRUE(edx & (1u << 8)) << "CX8";
  EXPECT_FALSE(edx & (1u << 9)) << "APIC";
  EXPECT_FALSE(edx & (1u << 11)) << "SEP";
  EXPECT_TRUE(edx & (1u << 13)) << "PGE";
  EXPECT_TRUE(edx & (1u << 15)) << "CMOV";
  EXPECT_TRUE(edx & (1u << 16)) << "PAT";
  EXPECT_FALSE(edx & (1u << 17)) << "PSE-36";
}

TEST(SystemCpuid, BrandString) {
  char brand[49] = {};
  for (uint32_t n = 0; n < 3; ++n) {
    const Regs r = cpuid(0x80000002 + n);
    std::memcpy(brand + 16 * n, r.data(), 16);
  }
  EXPECT_STREQ(brand, "vtlab virtual CPU");
  for (size_t n = std::strlen("vtlab virtual CPU"); n < 48; ++n) EXPECT_EQ(brand[n], 0) << n;
}

// A leaf above the highest basic or extended leaf returns the highest
// basic leaf's data (Intel's rule).
TEST(SystemCpuid, OutOfRangeLeavesReturnLeaf1) {
  for (uint32_t leaf : {2u, 0xDu, 0x40000000u, 0x7FFFFFFFu, 0x80000005u, 0x80000008u, 0xFFFFFFFFu})
    EXPECT_EQ(cpuid(leaf), cpuid(1)) << std::hex << leaf;
}

// --- time stamp counter and MSRs -------------------------------------------

// The TSC is the count of instructions retired before RDTSC.
TEST(SystemTsc, RdtscReadsInstructionsRetired) {
  CpuHarness h;
  h.load_asm("nop\nnop\nrdtsc");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RAX), 2u);
  EXPECT_EQ(h.reg32(RDX), 0u);
  CpuHarness big;
  big.cpu.icount = 0x123456789ull;
  big.load_asm("rdtsc");
  ASSERT_EQ(big.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(big.reg32(RAX), 0x23456789u);
  EXPECT_EQ(big.reg32(RDX), 1u);
}

// CR4.TSD restricts RDTSC to CPL 0.
TEST(SystemTsc, TimeStampDisable) {
  CpuHarness h;
  h.cpu.s.cr4 = cr4::TSD;
  EXPECT_EQ(step(h, "rdtsc"), Status::Ok);
  set_cpl(h, 3);
  h.cpu.s.gpr[RAX] = 0xAAAA;
  ASSERT_EQ(step(h, "rdtsc"), Status::Exception);
  expect_gp0(h);
  EXPECT_EQ(h.reg32(RAX), 0xAAAAu);
  CpuHarness real(16);
  real.cpu.s.cr4 = cr4::TSD;
  EXPECT_EQ(step(real, "rdtsc"), Status::Ok);
}

// RDMSR `index` at CPL 0: EDX:EAX, or nothing if it faulted.
std::optional<uint64_t> read_msr(CpuHarness& h, uint32_t index) {
  h.cpu.s.gpr[RCX] = index;
  if (step(h, "rdmsr") != Status::Ok) return std::nullopt;
  return (uint64_t{h.reg32(RDX)} << 32) | h.reg32(RAX);
}

Status write_msr(CpuHarness& h, uint32_t index, uint64_t v) {
  h.cpu.s.gpr[RCX] = index;
  h.cpu.s.gpr[RAX] = static_cast<uint32_t>(v);
  h.cpu.s.gpr[RDX] = static_cast<uint32_t>(v >> 32);
  return step(h, "wrmsr");
}

// IA32_TSC reads virtual time; a write sets it, and it counts on from there.
TEST(SystemMsr, TscFollowsWrites) {
  CpuHarness h;
  h.load_asm(R"(
    mov ecx, 0x10
    mov eax, 1000
    mov edx, 0
    wrmsr
    rdmsr
    mov ebx, eax
    rdtsc
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RBX), 1001u);  // WRMSR ran after 3 retired, RDMSR one later
  EXPECT_EQ(h.reg32(RAX), 1003u);
  EXPECT_EQ(h.reg32(RDX), 0u);
}

TEST(SystemMsr, ApicBaseIsTheBspsFixedValue) {
  CpuHarness h;
  EXPECT_EQ(read_msr(h, msr::kApicBase), 0xFEE00900u);
  EXPECT_EQ(write_msr(h, msr::kApicBase, 0xFEE00900), Status::Ok);
  EXPECT_EQ(write_msr(h, msr::kApicBase, 0xFEE00800), Status::Ok);  // the BSP flag is not the guest's
  EXPECT_EQ(write_msr(h, msr::kApicBase, 0xFEE00901), Status::Exception);
  expect_gp0(h);
  EXPECT_EQ(write_msr(h, msr::kApicBase, 0x1FEE00900), Status::Exception);
  EXPECT_EQ(h.cpu.stop_requested(), StopReason::None);
  EXPECT_EQ(write_msr(h, msr::kApicBase, 0xFEE00100), Status::Stop);  // disabling it
  EXPECT_EQ(h.cpu.stop_requested(), StopReason::Unsupported);
  EXPECT_EQ(read_msr(h, msr::kApicBase), 0xFEE00900u);
}

TEST(SystemMsr, SysenterMsrsAreStored) {
  CpuHarness h;
  EXPECT_EQ(read_msr(h, msr::kSysenterCs), 0u);
  EXPECT_EQ(write_msr(h, msr::kSysenterCs, 0x10), Status::Ok);
  EXPECT_EQ(write_msr(h, msr::kSysenterEsp, 0x9FFF0), Status::Ok);
  EXPECT_EQ(write_msr(h, msr::kSysenterEip, 0xC0001000), Status::Ok);
  EXPECT_EQ(read_msr(h, msr::kSysenterCs), 0x10u);
  EXPECT_EQ(read_msr(h, msr::kSysenterEsp), 0x9FFF0u);
  EXPECT_EQ(read_msr(h, msr::kSysenterEip), 0xC0001000u);
}

TEST(SystemMsr, MiscEnableKeepsItsReadOnlyBits) {
  CpuHarness h;
  EXPECT_EQ(read_msr(h, msr::kMiscEnable), 0x1801u);
  EXPECT_EQ(write_msr(h, msr::kMiscEnable, 0x1800), Status::Ok);
  EXPECT_EQ(read_msr(h, msr::kMiscEnable), 0x1800u);
  EXPECT_EQ(write_msr(h, msr::kMiscEnable, 0x1), Status::Ok);
  EXPECT_EQ(read_msr(h, msr::kMiscEnable), 0x1801u);
  EXPECT_EQ(write_msr(h, msr::kMiscEnable, 1u << 22), Status::Exception);
  expect_gp0(h);
}

TEST(SystemMsr, PatTakesOnlyValidMemoryTypes) {
  CpuHarness h;
  EXPECT_EQ(read_msr(h, msr::kPat), 0x0007040600070406u);
  EXPECT_EQ(write_msr(h, msr::kPat, 0x0700000100000006), Status::Ok);
  EXPECT_EQ(read_msr(h, msr::kPat), 0x0700000100000006u);
  for (uint64_t bad : {0x2ull, 0x3ull, 0x8ull, 0x0300000000000000ull, 0x0000000000000F00ull}) {
    EXPECT_EQ(write_msr(h, msr::kPat, bad), Status::Exception) << std::hex << bad;
    expect_gp0(h);
  }
  EXPECT_EQ(read_msr(h, msr::kPat), 0x0700000100000006u);
}

TEST(SystemMsr, EferWritableBits) {
  CpuHarness h;
  EXPECT_EQ(read_msr(h, msr::kEfer), 0u);
  EXPECT_EQ(write_msr(h, msr::kEfer, efer::SCE | efer::LME | efer::NXE), Status::Ok);
  EXPECT_EQ(read_msr(h, msr::kEfer), 0x901u);
  EXPECT_EQ(write_msr(h, msr::kEfer, efer::LMA), Status::Ok);  // LMA is read-only: ignored
  EXPECT_EQ(read_msr(h, msr::kEfer), 0u);
  EXPECT_EQ(write_msr(h, msr::kEfer, 0x2), Status::Exception);
  expect_gp0(h);
  EXPECT_EQ(write_msr(h, msr::kEfer, uint64_t{1} << 32), Status::Exception);
  EXPECT_EQ(h.cpu.s.efer, 0u);
}

// EFER.LME cannot change while paging is on.
TEST(SystemMsr, EferLmeIsFrozenWhilePaging) {
  CpuHarness h;
  h.cpu.s.cr0 |= cr0::PG;  // the handler runs alone: no tables needed
  EXPECT_EQ(write_msr(h, msr::kEfer, efer::LME), Status::Exception);
  expect_gp0(h);
  EXPECT_EQ(write_msr(h, msr::kEfer, efer::SCE), Status::Ok);
  EXPECT_EQ(h.cpu.s.efer, efer::SCE);
}

TEST(SystemMsr, UnknownMsrsFault) {
  for (uint32_t index : {0x8Bu, 0xC0000081u, 0xFFFFFFFFu}) {
    SCOPED_TRACE(index);
    CpuHarness h;
    h.cpu.s.gpr[RAX] = 0x1111;
    h.cpu.s.gpr[RDX] = 0x2222;
    EXPECT_EQ(read_msr(h, index), std::nullopt);
    expect_gp0(h);
    EXPECT_EQ(h.reg32(RAX), 0x1111u);
    EXPECT_EQ(h.reg32(RDX), 0x2222u);
    EXPECT_EQ(write_msr(h, index, 0), Status::Exception);
    expect_gp0(h);
    EXPECT_TRUE(h.cpu.s.msrs.empty());
  }
}

// --- x87 control --------------------------------------------------------------

TEST(SystemX87, FninitThenFnstswReadsZero) {
  CpuHarness h;
  h.cpu.s.fpu.fcw = 0;
  h.cpu.s.fpu.fsw = 0x3800;
  h.cpu.s.fpu.ftw = 0;
  h.cpu.s.gpr[RAX] = 0xCAFEBABE;
  h.load_asm("fninit\nfnstsw ax\nfnstcw word ptr [0x20000]");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RAX), 0xCAFE0000u);
  EXPECT_EQ(h.mem.read(0x20000, 2), 0x037Fu);
  EXPECT_EQ(h.cpu.s.fpu.ftw, 0xFFFFu);
}

TEST(SystemX87, FnstswToMemory) {
  CpuHarness h;
  h.cpu.s.fpu.fsw = 0x4321;
  h.write32(0x20000, 0xCCCCCCCC);
  h.load_asm("fnstsw word ptr [0x20000]");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.read32(0x20000), 0xCCCC4321u);
}

// What FLDCW keeps of a control word, as FNSTCW reads it back.
uint16_t emulated_fldcw(uint16_t cw) {
  CpuHarness h;
  h.mem.write(0x20000, 2, cw);
  h.load_asm("fldcw word ptr [0x20000]\nfnstcw word ptr [0x20002]");
  EXPECT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  return static_cast<uint16_t>(h.mem.read(0x20002, 2));
}

// Values recorded on an Intel Xeon host, and checked again live below.
TEST(SystemX87, FldcwKeepsTheDefinedBits) {
  const std::pair<uint16_t, uint16_t> cases[] = {
      {0x0000, 0x0040}, {0xFFFF, 0x1F7F}, {0x037F, 0x037F}, {0x1040, 0x1040}, {0xE000, 0x0040}, {0x0C3F, 0x0C7F}};
  for (auto [in, out] : cases) EXPECT_EQ(emulated_fldcw(in), out) << std::hex << in;
}

#if defined(__x86_64__) || defined(__i386__)
TEST(SystemX87, FldcwMatchesTheHostCpu) {
  for (unsigned v = 0; v <= 0xFFFF; v += 0x0FC1) {
    const uint16_t in = static_cast<uint16_t>(v);
    uint16_t host;
    asm volatile("fninit\n\tfldcw %1\n\tfnstcw %0\n\tfninit" : "=m"(host) : "m"(in));
    EXPECT_EQ(emulated_fldcw(in), host) << std::hex << in;
  }
}
#endif

// #NM per SDM vol. 3, table 2-2: x87 instructions fault on EM or TS;
// WAIT/FWAIT ignores EM and faults only on TS together with MP.
TEST(SystemX87, DeviceNotAvailable) {
  struct Case {
    uint64_t cr0_bits;
    const char* source;
    bool faults;
  } cases[] = {{cr0::EM, "fninit", true},
               {cr0::TS, "fninit", true},
               {cr0::MP, "fninit", false},
               {cr0::EM, "fnstsw ax", true},
               {cr0::TS, "fnstcw word ptr [0x20000]", true},
               {cr0::TS, "fldcw word ptr [0x20000]", true},
               {cr0::TS, "fwait", false},
               {cr0::TS | cr0::MP, "fwait", true},
               {cr0::EM, "fwait", false},
               {cr0::EM | cr0::MP, "fwait", false}};
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.source) + " cr0 " + std::to_string(c.cr0_bits));
    CpuHarness h;
    h.cpu.s.cr0 |= c.cr0_bits;
    h.cpu.s.fpu.fsw = 0x1234;
    const Snapshot before = snapshot(h);
    const Status st = step(h, c.source);
    if (c.faults) {
      ASSERT_EQ(st, Status::Exception);
      expect_fault(h, vec::NM, std::nullopt);
      EXPECT_EQ(snapshot(h), before);
    } else {
      EXPECT_EQ(st, Status::Ok);
    }
  }
}

}  // namespace
}  // namespace vtlab::test
