// CMP/TEST + Jcc fused into one handler (core/isa/fusion.h): which pairs
// fuse, and that a fused pair is indistinguishable from the two
// instructions run one by one: counts, RIP and flags at every budget, the
// stop between the two, a fault in the branch.
#include <gtest/gtest.h>

#include <vector>

#include <Zydis/Zydis.h>

#include "core/decoder.h"
#include "core/isa/fusion.h"
#include "core/isa/registry.h"
#include "support/cpu_harness.h"

namespace vtlab::test {

namespace {

// Decodes `bytes` (32-bit code at CpuHarness::kCode) into block records, as
// the engine's block builder does, then fuses them.
std::vector<DecodedInsn> fused_block(const std::vector<uint8_t>& bytes) {
  const Decoder decoder;
  std::vector<DecodedInsn> insns;
  for (size_t off = 0; off < bytes.size();) {
    DecodedInsn d;
    EXPECT_EQ(decoder.decode(bytes.data() + off, bytes.size() - off, 4, d), DecodeStatus::Ok) << off;
    if (d.len == 0) break;
    insns.push_back(d);
    off += d.len;
  }
  isa::fuse_pairs(insns, CpuHarness::kCode, 0xFFFFFFFF);
  return insns;
}

}  // namespace

TEST(Fusion, CompareAndArithmeticBranchPairsFuseAndNothingElse) {
  const std::vector<DecodedInsn> b = fused_block(assemble(R"(
    cmp eax, 5
    jne 1f
    test byte ptr [ebx], 1
    jz 1f
    cmp eax, ecx
    nop
    add eax, 1
    jc 1f
    dec ecx
    jnz 1f
    mov eax, 1
    jz 1f
    add dword ptr [ebx], 1
    jz 1f
    cmp ax, 3
    je 1f
  1:
  )"));
  ASSERT_EQ(b.size(), 12u);
  EXPECT_EQ(b[0].len, 3 + 2);  // cmp eax, 5 (83 /7 ib) + jne rel8
  EXPECT_EQ(b[0].jcc_len, 2);
  EXPECT_EQ(b[0].cond, Cond::NE);
  EXPECT_EQ(b[0].info & isa::info::kConditional, isa::info::kConditional);
  EXPECT_EQ(b[1].len, 3 + 2);  // test byte [ebx], 1 + jz rel8
  EXPECT_EQ(b[1].cond, Cond::E);
  EXPECT_EQ(b[2].jcc_len, 0);  // cmp eax, ecx: a NOP follows
  EXPECT_EQ(b[4].len, 3 + 2);  // add eax, 1 + jc
  EXPECT_EQ(b[4].cond, Cond::B);
  EXPECT_EQ(b[5].len, 1 + 2);  // dec ecx + jnz
  EXPECT_EQ(b[6].jcc_len, 0);  // MOV sets no flags: not fused
  EXPECT_EQ(b[7].jcc_len, 0);  // the jz after it
  EXPECT_EQ(b[8].jcc_len, 0);  // ADD to memory is not fused
  EXPECT_EQ(b[10].jcc_len, 0); // 16-bit compares are not fused
  EXPECT_EQ(b[10].mnemonic, ZYDIS_MNEMONIC_CMP);
}

// The fused arithmetic forms take each condition from the operation they
// ran: INC keeps CF, DEC sets ZF, ADD sets CF and OF.
TEST(Fusion, ArithmeticPairsBranchOnTheirOwnFlags) {
  CpuHarness h;
  h.load_asm(R"(
    mov eax, 0xFFFFFFFF
    stc
    inc eax
    jc 1f
    hlt
  1:
    mov ecx, 1
    dec ecx
    jz 2f
    hlt
  2:
    mov edx, 0x7FFFFFFF
    add edx, 1
    jo 3f
    hlt
  3:
    xor ebx, ebx
    jnz 4f
    mov esi, 0x55
  4:
    hlt
  )");
  ASSERT_EQ(h.run(100), StopReason::Halted);
  EXPECT_EQ(h.reg32(RSI), 0x55u);  // every branch went the way the flags say
  EXPECT_EQ(h.reg32(RAX), 0u);
  EXPECT_EQ(h.cpu.icount, 14u);  // every instruction counted, a fused pair as two
}

// The fused record's branch faults as the Jcc would: RIP at the Jcc, the
// compare retired (counted, flags recorded).
TEST(Fusion, ABranchBeyondTheLimitFaultsAtTheJcc) {
  CpuHarness h;
  const std::vector<uint8_t> code = assemble("cmp eax, eax\n je 0x200000\n");
  h.load(code);
  h.cpu.s.seg[CS].limit = 0xFFFFF;
  const std::vector<DecodedInsn> b = fused_block(code);
  ASSERT_EQ(b.size(), 1u);
  h.cpu.check_at = ~uint64_t{0};
  h.cpu.next_rip = CpuHarness::kCode + b[0].len;
  ASSERT_EQ(b[0].exec(h.cpu, b[0]), Status::Exception);
  EXPECT_EQ(h.cpu.pending().vector, vec::GP);
  EXPECT_EQ(h.cpu.pending().error, 0u);
  EXPECT_EQ(h.cpu.s.rip, CpuHarness::kCode + 2);  // cmp eax, eax is 39 C0
  EXPECT_EQ(h.cpu.icount, 1u);
  EXPECT_EQ(h.arith_flags(), ZF | PF);
}

// With the run due to end after the compare, the pair stops there: RIP
// (next_rip) at the Jcc, the compare left for the engine to count.
TEST(Fusion, ARunEndingAfterTheCompareStopsAtTheJcc) {
  CpuHarness h;
  const std::vector<uint8_t> code = assemble("cmp eax, 7\n jb 0x1000\n");
  h.load(code);
  h.cpu.s.gpr[RAX] = 3;
  const std::vector<DecodedInsn> b = fused_block(code);
  ASSERT_EQ(b.size(), 1u);
  h.cpu.check_at = h.cpu.icount + 1;
  h.cpu.next_rip = CpuHarness::kCode + b[0].len;
  ASSERT_EQ(b[0].exec(h.cpu, b[0]), Status::Ok);
  EXPECT_EQ(h.cpu.next_rip, CpuHarness::kCode + 3);
  EXPECT_EQ(h.cpu.icount, 0u);
  EXPECT_EQ(h.arith_flags(), CF | PF | AF | SF);  // 3 - 7 = 0xFFFFFFFC
}

// A counting loop of fused pairs: stopped after every possible budget, the
// machine is where running the instructions one at a time leaves it.
TEST(Fusion, EveryBudgetStopsWhereSingleSteppingDoes) {
  const char* source = R"(
    mov ecx, 4
    xor eax, eax
    xor edx, edx
  1:
    add eax, ecx
    test eax, 1
    jnz 2f
    cmp ecx, 2
    ja 2f
    inc edx
  2:
    dec ecx
    cmp ecx, 0
    jne 1b
    hlt
  )";
  CpuHarness whole;
  whole.load_asm(source);
  ASSERT_EQ(whole.run(1000), StopReason::Halted);
  const uint64_t total = whole.cpu.icount;
  EXPECT_EQ(total, 33u);  // 3 + 8 + 6 + 6 + 9 + HLT
  EXPECT_EQ(whole.reg32(RAX), 10u);
  EXPECT_EQ(whole.reg32(RDX), 1u);  // only ECX = 1 reaches the INC (sum 10 even, ECX <= 2)
  for (uint64_t n = 1; n < total; ++n) {
    CpuHarness run, step;
    run.load_asm(source);
    step.load_asm(source);
    run.run(n);
    for (uint64_t k = 0; k < n; ++k) step.run(1);
    ASSERT_EQ(run.cpu.icount, n);
    ASSERT_EQ(step.cpu.icount, n);
    EXPECT_EQ(run.cpu.s.rip, step.cpu.s.rip) << n;
    EXPECT_EQ(run.reg32(RAX), step.reg32(RAX)) << n;
    EXPECT_EQ(run.reg32(RCX), step.reg32(RCX)) << n;
    EXPECT_EQ(run.flags(), step.flags()) << n;
  }
}

}  // namespace vtlab::test
