// IA-32e mode in the core: activation and deactivation through CR0.PG
// (SDM vol. 3, 9.8.5), 64-bit segmentation (only FS/GS bases, canonical
// checks instead of limits: vol. 3, 5.3.1), near branches to non-canonical
// targets, the long-mode MSRs, SYSCALL/SYSRET/SWAPGS/SYSEXIT, MOVSXD,
// CMPXCHG16B, and the legacy instructions 64-bit mode removed.  Event
// delivery, IRETQ and far transfers: tests/privilege/long_mode_*_test.cpp.
#include "core/system_fixture.h"

namespace vtlab::test::system {
namespace {

constexpr uint64_t kNonCanonical = 0x0000800000000000ull;

// 32-bit protected mode with CR4.PAE and EFER.LME set and 4-level tables
// at CR3, ready for MOV CR0 to set PG.
void ready_for_long_mode(CpuHarness& h) {
  h.four_level_tables();
  h.cpu.s.cr3 = CpuHarness::kPageTables;
  h.cpu.s.cr4 |= cr4::PAE;
  h.cpu.s.efer = efer::LME;
}

TEST(LongModeActivation, SettingPgWithLmeActivatesIa32eModeInCompatibilityMode) {
  CpuHarness h;
  ready_for_long_mode(h);
  h.cpu.s.gpr[RAX] = h.cpu.s.cr0 | cr0::PG;
  ASSERT_EQ(step(h, "mov cr0, eax"), Status::Ok);
  EXPECT_EQ(h.cpu.s.efer, efer::LME | efer::LMA);
  EXPECT_TRUE(h.cpu.s.paging());
  // CS is still the 32-bit segment: compatibility mode, not 64-bit mode.
  EXPECT_EQ(h.cpu.s.code_size(), 4u);
  EXPECT_EQ(paging_mode(h.cpu.s.cr0, h.cpu.s.cr4, h.cpu.s.efer), PagingMode::FourLevel);
}

TEST(LongModeActivation, NeedsPaeAndALegacyCodeSegment) {
  {
    CpuHarness h;
  ready_for_long_mode(h);
    h.cpu.s.cr4 &= ~cr4::PAE;
    h.cpu.s.gpr[RAX] = h.cpu.s.cr0 | cr0::PG;
    const Snapshot before = snapshot(h);
    ASSERT_EQ(step(h, "mov cr0, eax"), Status::Exception);
    expect_gp0(h);
    EXPECT_EQ(snapshot(h), before);
  }
  {
    CpuHarness h;
  ready_for_long_mode(h);
    h.cpu.s.seg[CS].attrs |= ar::kLong;
    h.cpu.s.gpr[RAX] = h.cpu.s.cr0 | cr0::PG;
    ASSERT_EQ(step(h, "mov cr0, eax"), Status::Exception);
    expect_gp0(h);
    EXPECT_EQ(h.cpu.s.efer, efer::LME);
  }
}

// LMA is read-only to WRMSR, and LME cannot change while paging is on.
TEST(LongModeActivation, EferLmaIsReadOnlyAndLmeLocksUnderPaging) {
  CpuHarness h(64);
  h.cpu.s.gpr[RCX] = msr::kEfer;
  h.cpu.s.gpr[RAX] = efer::LME | efer::SCE;  // LMA clear in the written value
  h.cpu.s.gpr[RDX] = 0;
  ASSERT_EQ(step(h, "wrmsr"), Status::Ok);
  EXPECT_EQ(h.cpu.s.efer, efer::LME | efer::LMA | efer::SCE);
  h.cpu.s.gpr[RAX] = efer::SCE;  // clearing LME with PG=1
  ASSERT_EQ(step(h, "wrmsr"), Status::Exception);
  expect_gp0(h);
}

TEST(LongModeActivation, ClearingPgFaultsIn64BitModeAndLeavesFromCompatibilityMode) {
  CpuHarness h(64);
  h.cpu.s.gpr[RAX] = h.cpu.s.cr0 & ~cr0::PG;
  ASSERT_EQ(step(h, "mov cr0, rax"), Status::Exception);
  expect_gp0(h);
  EXPECT_TRUE(h.cpu.s.long_mode_active());

  CpuHarness c(64);
  c.cpu.s.seg[CS].attrs = (c.cpu.s.seg[CS].attrs & ~ar::kLong) | ar::kDb;  // compatibility mode
  c.cpu.s.gpr[RAX] = c.cpu.s.cr0 & ~cr0::PG;
  ASSERT_EQ(step(c, "mov cr0, eax"), Status::Ok);
  EXPECT_EQ(c.cpu.s.efer & (efer::LMA | efer::LME), efer::LME);
  EXPECT_FALSE(c.cpu.s.paging());
}

TEST(LongModeActivation, ControlRegisterRulesIn64BitMode) {
  CpuHarness h(64);
  h.cpu.s.gpr[RAX] = h.cpu.s.cr4 & ~cr4::PAE;
  ASSERT_EQ(step(h, "mov cr4, rax"), Status::Exception);
  expect_gp0(h);
  h.cpu.s.gpr[RAX] = uint64_t{1} << 36;  // above MAXPHYADDR
  ASSERT_EQ(step(h, "mov cr3, rax"), Status::Exception);
  expect_gp0(h);
  h.cpu.s.gpr[RAX] = 0x1000;
  ASSERT_EQ(step(h, "mov cr3, rax"), Status::Ok);
  EXPECT_EQ(h.cpu.s.cr3, 0x1000u);
  h.cpu.s.gpr[R9] = 0xFFFFFFFF00000000ull;
  ASSERT_EQ(step(h, "mov rax, cr0"), Status::Ok);
  EXPECT_EQ(h.cpu.s.gpr[RAX], h.cpu.s.cr0);
  h.cpu.s.gpr[RAX] = uint64_t{1} << 32 | h.cpu.s.cr0;
  ASSERT_EQ(step(h, "mov cr0, rax"), Status::Exception);
  expect_gp0(h);
}

// --- 64-bit mode execution ----------------------------------------------------

TEST(LongMode64, RegistersWidthsAndRipRelativeAddressing) {
  CpuHarness h(64);
  h.load_asm(R"(
    mov rax, 0x1122334455667788
    mov r15, rax
    mov r8d, 0xFFFFFFFF
    mov r9, -1
    mov r9w, 0x1234
    mov r10, -1
    mov r10b, 0
    mov r11, [rip + data]
    lea r12, [rip + data]
    movsxd r13, dword ptr [rip + data]
    mov r14, -1
    add r14d, 1
    jmp done
  data: .quad 0x80000000FFFFFFF0
  done:
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  const auto& g = h.cpu.s.gpr;
  EXPECT_EQ(g[R15], 0x1122334455667788ull);
  EXPECT_EQ(g[R8], 0xFFFFFFFFull);             // 32-bit writes zero-extend
  EXPECT_EQ(g[R9], 0xFFFFFFFFFFFF1234ull);     // 16-bit writes merge
  EXPECT_EQ(g[R10], 0xFFFFFFFFFFFFFF00ull);    // 8-bit writes merge
  EXPECT_EQ(g[R11], 0x80000000FFFFFFF0ull);
  EXPECT_EQ(g[R12], CpuHarness::kCode + 0x4Bu);  // the label, after 75 bytes of code
  EXPECT_EQ(g[R13], 0xFFFFFFFFFFFFFFF0ull);    // MOVSXD sign-extends
  EXPECT_EQ(g[R14], 0u);                       // ADD r32 zero-extends its result
}

TEST(LongMode64, StackOperationsAre64BitWide) {
  CpuHarness h(64);
  h.cpu.s.gpr[RAX] = 0x0102030405060708ull;
  h.load_asm(R"(
    push rax
    push -2
    pop rbx
    pop rcx
    call target
    jmp done
  target:
    mov rdx, [rsp]
    ret
  done:
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.s.gpr[RBX], 0xFFFFFFFFFFFFFFFEull);
  EXPECT_EQ(h.cpu.s.gpr[RCX], 0x0102030405060708ull);
  EXPECT_EQ(h.cpu.s.gpr[RDX], CpuHarness::kCode + 0x0Au);  // the return address: after the 5-byte call
  EXPECT_EQ(h.cpu.s.gpr[RSP], CpuHarness::kStack);
}

// In 64-bit mode DS/ES/SS/CS bases count as 0; FS and GS bases apply.
TEST(LongMode64, OnlyFsAndGsHaveBases) {
  CpuHarness h(64);
  h.cpu.s.seg[DS].base = 0x100000;
  h.cpu.s.seg[FS].base = 0x3000;
  h.mem.write(CpuHarness::kData, 8, 0xAAAA);
  h.mem.write(CpuHarness::kData + 0x3000, 8, 0xBBBB);
  h.load_asm("mov rax, [0x20000]\nmov rbx, fs:[0x20000]");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.s.gpr[RAX], 0xAAAAu);
  EXPECT_EQ(h.cpu.s.gpr[RBX], 0xBBBBu);
}

TEST(LongMode64, NonCanonicalAccessesFaultGpOrSs) {
  CpuHarness h(64);
  h.cpu.s.gpr[RBX] = kNonCanonical;
  const Snapshot before = snapshot(h);
  ASSERT_EQ(step(h, "mov rax, [rbx]"), Status::Exception);
  expect_gp0(h);
  EXPECT_EQ(snapshot(h), before);
  ASSERT_EQ(step(h, "mov rax, [rbp + rbx]"), Status::Exception);  // RBP base: SS
  expect_fault(h, vec::SS, 0u);
  h.cpu.s.gpr[RBX] = kNonCanonical - 4;  // the last byte crosses into the hole
  ASSERT_EQ(step(h, "mov rax, [rbx]"), Status::Exception);
  expect_gp0(h);
  h.cpu.s.gpr[RSP] = kNonCanonical + 8;
  ASSERT_EQ(step(h, "push rax"), Status::Exception);
  expect_fault(h, vec::SS, 0u);
}

// A branch to a non-canonical target faults on the branch: RIP still
// names it, RSP is untouched.
TEST(LongMode64, BranchToNonCanonicalTargetFaultsOnTheBranch) {
  CpuHarness h(64);
  h.cpu.s.gpr[RAX] = kNonCanonical;
  h.load_asm("call rax");
  const Snapshot before = snapshot(h);
  ASSERT_EQ(h.execute_one(), Status::Exception);
  expect_gp0(h);
  EXPECT_EQ(snapshot(h), before);
}

// The decoder refuses them as invalid, which the engine turns into #UD.
TEST(LongMode64, RemovedLegacyInstructionsAreUndefined) {
  // PUSHA, POPA, DAA, AAS, AAM 10, PUSH DS, POP ES, INTO, LDS (C5 is VEX),
  // far CALL ptr16:32, JMP ptr16:32
  const std::vector<std::vector<uint8_t>> removed = {{0x60}, {0x61}, {0x27}, {0x3F}, {0xD4, 0x0A}, {0x1E},
                                                     {0x07}, {0xCE}, {0x9A, 0, 0, 0, 0, 0x08, 0},
                                                     {0xEA, 0, 0, 0, 0, 0x08, 0}};
  const Decoder decoder;
  for (const auto& bytes : removed) {
    SCOPED_TRACE(testing::PrintToString(bytes));
    DecodedInsn insn;
    EXPECT_EQ(decoder.decode(bytes.data(), bytes.size(), 8, insn), DecodeStatus::Invalid);
    EXPECT_EQ(decoder.decode(bytes.data(), bytes.size(), 4, insn), DecodeStatus::Ok);
  }
}

TEST(LongMode64, Cmpxchg16bComparesRdxRaxAndNeedsAlignment) {
  CpuHarness h(64);
  h.mem.write(CpuHarness::kData, 8, 1);
  h.mem.write(CpuHarness::kData + 8, 8, 2);
  auto& g = h.cpu.s.gpr;
  g[RAX] = 1, g[RDX] = 2, g[RBX] = 0x33, g[RCX] = 0x44;
  ASSERT_EQ(step(h, "cmpxchg16b xmmword ptr [0x20000]"), Status::Ok);
  EXPECT_TRUE(h.cpu.s.flags.zf());
  EXPECT_EQ(h.mem.read(CpuHarness::kData, 8), 0x33u);
  EXPECT_EQ(h.mem.read(CpuHarness::kData + 8, 8), 0x44u);
  ASSERT_EQ(step(h, "cmpxchg16b xmmword ptr [0x20000]"), Status::Ok);  // now unequal
  EXPECT_FALSE(h.cpu.s.flags.zf());
  EXPECT_EQ(g[RAX], 0x33u);
  EXPECT_EQ(g[RDX], 0x44u);
  ASSERT_EQ(step(h, "cmpxchg16b xmmword ptr [0x20008]"), Status::Exception);
  expect_gp0(h);
}

// --- MSRs and the fast system calls --------------------------------------------

TEST(LongModeMsr, SegmentBaseMsrsAreTheCachedBasesAndMustBeCanonical) {
  CpuHarness h(64);
  auto wrmsr = [&](uint32_t index, uint64_t v) {
    h.cpu.s.gpr[RCX] = index;
    h.cpu.s.gpr[RAX] = v & 0xFFFFFFFF;
    h.cpu.s.gpr[RDX] = v >> 32;
    return step(h, "wrmsr");
  };
  ASSERT_EQ(wrmsr(msr::kFsBase, 0xFFFF800000001000ull), Status::Ok);
  EXPECT_EQ(h.cpu.s.seg[FS].base, 0xFFFF800000001000ull);
  ASSERT_EQ(wrmsr(msr::kGsBase, 0x5000), Status::Ok);
  EXPECT_EQ(h.cpu.s.seg[GS].base, 0x5000u);
  ASSERT_EQ(wrmsr(msr::kKernelGsBase, 0x6000), Status::Ok);
  for (uint32_t index : {msr::kFsBase, msr::kGsBase, msr::kKernelGsBase, msr::kLstar, msr::kCstar}) {
    EXPECT_EQ(wrmsr(index, kNonCanonical), Status::Exception) << std::hex << index;
    expect_gp0(h);
  }
  EXPECT_EQ(wrmsr(msr::kFmask, uint64_t{1} << 32), Status::Exception);
  h.cpu.s.gpr[RCX] = msr::kGsBase;
  ASSERT_EQ(step(h, "swapgs\nrdmsr"), Status::Ok);
  h.cpu.s.rip = CpuHarness::kCode + 3;
  ASSERT_EQ(h.execute_one(), Status::Ok);
  EXPECT_EQ(h.cpu.s.gpr[RAX], 0x6000u);
  EXPECT_EQ(h.cpu.s.msr(msr::kKernelGsBase), 0x5000u);
}

TEST(LongModeMsr, SwapgsIsPrivilegedAndOnlyIn64BitMode) {
  CpuHarness h(64);
  set_cpl(h, 3);
  ASSERT_EQ(step(h, "swapgs"), Status::Exception);
  expect_gp0(h);
  // Outside 64-bit mode 0F 01 F8 is no instruction at all: #UD.
  const uint8_t bytes[] = {0x0F, 0x01, 0xF8};
  DecodedInsn insn;
  EXPECT_EQ(Decoder().decode(bytes, sizeof bytes, 4, insn), DecodeStatus::Invalid);
}

TEST(LongModeSyscall, SyscallAndSysretFollowStarLstarAndFmask) {
  CpuHarness h(64);
  CpuState& s = h.cpu.s;
  s.msrs[msr::kStar] = (uint64_t{0x0023} << 48) | (uint64_t{0x0010} << 32);
  s.msrs[msr::kLstar] = 0x4000;
  s.msrs[msr::kFmask] = flag::IF | flag::TF | flag::DF;
  s.flags.set_bits(flag::kReserved1 | flag::IF | flag::DF | flag::CF);
  const uint64_t flags_before = s.flags.bits();
  h.load_asm("syscall");
  ASSERT_EQ(h.execute_one(), Status::Ok);
  EXPECT_EQ(s.rip, 0x4000u);
  EXPECT_EQ(s.gpr[RCX], CpuHarness::kCode + 2);
  EXPECT_EQ(s.gpr[R11], flags_before);
  EXPECT_EQ(s.flags.bits(), flag::kReserved1 | flag::CF);
  EXPECT_EQ(s.seg[CS].selector, 0x10);
  EXPECT_EQ(s.seg[CS].attrs, 0xA09Bu);  // G, L, P, DPL 0, code execute/read accessed
  EXPECT_EQ(s.seg[SS].selector, 0x18);
  EXPECT_EQ(s.seg[SS].attrs, 0xC093u);
  EXPECT_EQ(s.code_size(), 8u);

  // SYSRET (REX.W) to 64-bit ring 3; flags from R11 minus RF and VM.
  s.gpr[RCX] = 0x1234;
  s.gpr[R11] = flag::kReserved1 | flag::IF | flag::RF | flag::VM | flag::ZF;
  h.load({0x48, 0x0F, 0x07}, 0x4000);
  ASSERT_EQ(h.execute_one(), Status::Ok);
  EXPECT_EQ(s.rip, 0x1234u);
  EXPECT_EQ(s.flags.bits(), flag::kReserved1 | flag::IF | flag::ZF);
  EXPECT_EQ(s.seg[CS].selector, 0x33);
  EXPECT_EQ(s.seg[CS].attrs, 0xA0FBu);
  EXPECT_EQ(s.seg[SS].selector, 0x2B);
  EXPECT_EQ(s.cpl(), 3u);
  EXPECT_EQ(s.code_size(), 8u);
}

TEST(LongModeSyscall, SysretWithoutRexWReturnsToCompatibilityModeAndChecksCanonicalRcx) {
  CpuHarness h(64);
  CpuState& s = h.cpu.s;
  s.msrs[msr::kStar] = uint64_t{0x0023} << 48;
  s.gpr[RCX] = 0xFFFFFFFF00001234ull;
  s.gpr[R11] = flag::kReserved1;
  ASSERT_EQ(step(h, "sysretd"), Status::Ok);
  EXPECT_EQ(s.rip, 0x1234u);
  EXPECT_EQ(s.seg[CS].selector, 0x23);
  EXPECT_EQ(s.code_size(), 4u);

  CpuHarness w(64);
  w.cpu.s.gpr[RCX] = kNonCanonical;
  ASSERT_EQ(step(w, "sysretq"), Status::Exception);
  expect_gp0(w);
  EXPECT_EQ(w.cpu.s.cpl(), 0u);
}

TEST(LongModeSyscall, UndefinedWithoutSceOrOutside64BitMode) {
  CpuHarness h(64);
  h.cpu.s.efer &= ~efer::SCE;
  ASSERT_EQ(step(h, "syscall"), Status::Exception);
  expect_fault(h, vec::UD, std::nullopt);
  CpuHarness c;
  ASSERT_EQ(step(c, "syscall"), Status::Exception);
  expect_fault(c, vec::UD, std::nullopt);
}

TEST(LongModeSyscall, SysenterEntersAndRexWSysexitLeaves64BitCode) {
  CpuHarness h(64);
  CpuState& s = h.cpu.s;
  s.msrs[msr::kSysenterCs] = 0x08;
  s.msrs[msr::kSysenterEip] = 0xFFFF800000004000ull;
  s.msrs[msr::kSysenterEsp] = 0xFFFF800000009000ull;
  ASSERT_EQ(step(h, "sysenter"), Status::Ok);
  EXPECT_EQ(s.rip, 0xFFFF800000004000ull);
  EXPECT_EQ(s.gpr[RSP], 0xFFFF800000009000ull);
  EXPECT_EQ(s.code_size(), 8u);

  CpuHarness x(64);
  x.cpu.s.msrs[msr::kSysenterCs] = 0x08;
  x.cpu.s.gpr[RDX] = 0x7FFF00001000ull;
  x.cpu.s.gpr[RCX] = 0x7FFF00002000ull;
  ASSERT_EQ(step(x, "sysexitq"), Status::Ok);
  EXPECT_EQ(x.cpu.s.rip, 0x7FFF00001000ull);
  EXPECT_EQ(x.cpu.s.gpr[RSP], 0x7FFF00002000ull);
  EXPECT_EQ(x.cpu.s.seg[CS].selector, 0x2B);
  EXPECT_EQ(x.cpu.s.seg[SS].selector, 0x33);
  EXPECT_EQ(x.cpu.s.code_size(), 8u);
}

TEST(LongModeTables, LgdtLoadsATenByteOperandAndWantsACanonicalBase) {
  CpuHarness h(64);
  h.mem.write(CpuHarness::kData, 2, 0x0FFF);
  h.mem.write(CpuHarness::kData + 2, 8, 0xFFFF800000100000ull);
  ASSERT_EQ(step(h, "lgdt [0x20000]"), Status::Ok);
  EXPECT_EQ(h.cpu.s.gdtr.base, 0xFFFF800000100000ull);
  EXPECT_EQ(h.cpu.s.gdtr.limit, 0x0FFFu);
  ASSERT_EQ(step(h, "sgdt [0x20010]"), Status::Ok);
  EXPECT_EQ(h.mem.read(CpuHarness::kData + 0x12, 8), 0xFFFF800000100000ull);
  h.mem.write(CpuHarness::kData + 2, 8, kNonCanonical);
  ASSERT_EQ(step(h, "lidt [0x20000]"), Status::Exception);
  expect_gp0(h);
}

TEST(LongModeCpuid, ReportsLongModeSyscallNx1GbPagesAndCx16) {
  CpuHarness h(64);
  h.cpu.s.gpr[RAX] = 0x80000001;
  ASSERT_EQ(step(h, "cpuid"), Status::Ok);
  EXPECT_EQ(h.cpu.s.gpr[RDX], 0x24100800u);
  EXPECT_EQ(h.cpu.s.gpr[RCX], 1u);
  h.cpu.s.gpr[RAX] = 0x80000008;
  ASSERT_EQ(step(h, "cpuid"), Status::Ok);
  EXPECT_EQ(h.cpu.s.gpr[RAX], 0x3024u);
  h.cpu.s.gpr[RAX] = 1;
  ASSERT_EQ(step(h, "cpuid"), Status::Ok);
  EXPECT_EQ(h.cpu.s.gpr[RCX], 0x2000u);
}

}  // namespace
}  // namespace vtlab::test::system