// The x87 environment and state images (SDM vol. 1, figures 8-9 to 8-12):
// FNSTENV/FLDENV and FNSAVE/FRSTOR in their 32- and 16-bit protected-mode
// and real-mode layouts, byte for byte; the tag word recomputed from the
// registers (SDM 10.5.1.1), and ES recomputed by FLDENV and FNSTENV.
#include "core/isa/x87_state.h"
#include "isa/x87_fixture.h"

namespace vtlab::test::x87 {
namespace {

uint32_t rd32(CpuHarness& h, uint64_t a) { return h.read32(a); }
uint32_t rd16(CpuHarness& h, uint64_t a) { return static_cast<uint32_t>(h.mem.read(a, 2)); }

TEST(X87Env, FnstenvProtectedMode32BitLayout) {
  CpuHarness h;
  h.cpu.s.gpr[RBX] = 0x20000;
  h.load_asm("fninit\nfld1\nfadd dword ptr [ebx+4]\nfnstenv [ebx+0x100]");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  const uint32_t cs = h.cpu.s.seg[CS].selector, ds = h.cpu.s.seg[DS].selector;
  EXPECT_EQ(rd32(h, 0x20100), 0xFFFF037Fu);
  EXPECT_EQ(rd32(h, 0x20104), 0xFFFF3800u);  // TOP 7
  EXPECT_EQ(rd32(h, 0x20108), 0xFFFF3FFFu);  // R7 valid, the rest empty
  EXPECT_EQ(rd32(h, 0x2010C), 0x1004u);      // FADD's offset
  EXPECT_EQ(rd32(h, 0x20110), cs | (0x043u << 16));  // FCS, FOP (D8 43)
  EXPECT_EQ(rd32(h, 0x20114), 0x20004u);
  EXPECT_EQ(rd32(h, 0x20118), 0xFFFF0000u | ds);
}

TEST(X87Env, FnstenvRealMode16BitLayoutHoldsLinearPointers) {
  CpuHarness h(16);
  h.cpu.s.seg[DS].selector = 0x1000;
  h.cpu.s.seg[DS].base = 0x10000;
  h.cpu.s.gpr[RBX] = 4;
  h.load_asm("fninit\nfld1\nfadd dword ptr [bx+4]\nfnstenv [bx+0x100]");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  const uint64_t env = 0x10104;
  EXPECT_EQ(rd16(h, env + 0), 0x037Fu);
  EXPECT_EQ(rd16(h, env + 2), 0x3800u);
  EXPECT_EQ(rd16(h, env + 4), 0x3FFFu);
  EXPECT_EQ(rd16(h, env + 6), 0x1004u);  // IP 15:0 (CS = 0)
  EXPECT_EQ(rd16(h, env + 8), 0x0047u);  // IP 19:16 = 0, FOP D8 47
  EXPECT_EQ(rd16(h, env + 10), 0x0008u);  // DP 15:0 of linear 10008
  EXPECT_EQ(rd16(h, env + 12), 0x1000u);  // DP 19:16 in bits 15:12
  EXPECT_EQ(rd16(h, env + 14), 0u);       // nothing beyond 14 bytes
}

// FNSAVE, then FRSTOR of the same image, gives back every field.
void round_trip(const std::string& prefix, unsigned image_size) {
  CpuHarness h;
  h.cpu.s.gpr[RBX] = 0x8000;
  h.mem.write(0x8000, 4, 0x40490FDB);  // pi as m32
  h.mem.write(0x8004, 2, 0x0B7B);      // round up, ZE unmasked
  for (unsigned k = 0; k < 120; ++k) h.mem.write(0x8100 + k, 1, 0xEE);
  h.load_asm(R"(
    fninit
    fldcw [ebx+4]
    fld dword ptr [ebx]
    fldz
    fld1
    fdiv st, st(1)
  )" + prefix + "fnsave [ebx+0x100]\n" + prefix + "frstor [ebx+0x100]\n");
  ASSERT_EQ(h.run(6), StopReason::BudgetExhausted);
  const X87State before = h.cpu.s.fpu;
  EXPECT_EQ(before.fsw, 0xA884);  // B, TOP 5, ES, ZE: pending
  EXPECT_EQ(before.fip, CpuHarness::kCode + 0xB);  // the FDIV
  EXPECT_EQ(before.fdp, 0x8000u);
  EXPECT_EQ(h.execute_one(), Status::Ok);  // FNSAVE does not wait
  EXPECT_EQ(h.cpu.s.fpu.fcw, 0x037F);
  EXPECT_EQ(h.cpu.s.fpu.fsw, 0);
  EXPECT_EQ(h.cpu.s.fpu.ftw, 0xFFFF);
  EXPECT_EQ(h.mem.read(0x8100 + image_size, 1), 0xEEu);  // exactly image_size bytes
  EXPECT_EQ(h.execute_one(), Status::Ok);                // FRSTOR
  const X87State& after = h.cpu.s.fpu;
  EXPECT_EQ(after.fcw, before.fcw);
  EXPECT_EQ(after.fsw, before.fsw);
  EXPECT_EQ(after.ftw, before.ftw);
  EXPECT_EQ(after.regs, before.regs);
  EXPECT_EQ(after.fip, before.fip);
  EXPECT_EQ(after.fcs, before.fcs);
  // The 16-bit protected-mode image has no FOP field (figure 8-11).
  EXPECT_EQ(after.fop, image_size == 108 ? before.fop : 0);
  EXPECT_EQ(before.fop, 0x0F1);  // D8 F1
  EXPECT_EQ(after.fdp, before.fdp);
  EXPECT_EQ(after.fds, before.fds);
  // The pending ZE comes back with it: the next waiting instruction faults.
  h.load_asm("fld1");
  EXPECT_EQ(h.execute_one(), Status::Exception);
  EXPECT_EQ(h.cpu.pending().vector, vec::MF);
}

TEST(X87Env, FnsaveFrstorRoundTrip32Bit) { round_trip("", 108); }
TEST(X87Env, FnsaveFrstorRoundTrip16Bit) { round_trip(".byte 0x66\n", 94); }

TEST(X87Env, FldenvRecomputesTheSummaryAndFnstenvMasks) {
  CpuHarness h;
  h.cpu.s.gpr[RBX] = 0x20000;
  // FCW 037E (IE unmasked), FSW with IE but no ES: ES and B come out set.
  h.write32(0x20000, 0x037E);
  h.write32(0x20004, 0x0001);
  h.write32(0x20008, 0xFFFF);
  h.load_asm("fldenv [ebx]\nfnstenv [ebx+0x100]\nfld1");
  ASSERT_EQ(h.run(1), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.s.fpu.fsw, 0x8081);
  ASSERT_EQ(h.run(1), StopReason::BudgetExhausted);
  EXPECT_EQ(rd32(h, 0x20104), 0xFFFF8081u);
  EXPECT_EQ(h.cpu.s.fpu.fcw, 0x037F);  // FNSTENV masked everything...
  EXPECT_EQ(h.cpu.s.fpu.fsw, 0x0001);  // ...so nothing is pending any more
  EXPECT_EQ(h.execute_one(), Status::Ok);
}

TEST(X87Env, TagsAreRecomputedFromTheRegisters) {
  X87State f;
  const F80 regs[8] = {{0x3FFF, 0x8000000000000000},   // valid
                       {0x0000, 0x0000000000000000},   // zero
                       {0x0000, 0x0000000000000001},   // denormal: special
                       {0x7FFF, 0x8000000000000000},   // infinity: special
                       {0x3FFF, 0x4000000000000000},   // unnormal: special
                       {0x0000, 0x8000000000000000},   // pseudo-denormal: special
                       {0x3FFF, 0x8000000000000000},   // empty
                       {0x0000, 0x0000000000000000}};  // empty
  for (unsigned r = 0; r < 8; ++r) {
    std::memcpy(f.regs[r].data(), &regs[r].sig, 8);
    std::memcpy(f.regs[r].data() + 8, &regs[r].se, 2);
  }
  f.ftw = 0xF000;  // R0-R5 "valid" as loaded, R6 and R7 empty
  EXPECT_EQ(isa::x87_abridged_tag(f), 0x3F);
  EXPECT_EQ(isa::x87_full_tag_from_abridged(f, 0x3F), 0xFAA4);
  EXPECT_EQ(isa::x87_full_tag_from_abridged(f, 0x81), 0x7FFC);  // R0 valid, R7 zero
}

}  // namespace
}  // namespace vtlab::test::x87
