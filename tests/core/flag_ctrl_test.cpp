// CLC STC CMC CLD STD LAHF SAHF PUSHF POPF CLI STI, including the
// protected-mode rules: POPF silently keeping IOPL/IF, CLI/STI #GP(0) at
// CPL > IOPL, and virtual-8086 mode with IOPL < 3.
#include <gtest/gtest.h>

#include "core/decoder.h"
#include "support/cpu_harness.h"

namespace vtlab::test {

namespace {

// Flat segments at privilege level `cpl`: every cache gets DPL = cpl and a
// selector with RPL = cpl, as a far transfer to that ring would leave them.
void set_cpl(CpuHarness& h, unsigned cpl) {
  for (int r = 0; r < kNumSegRegs; ++r) {
    SegmentCache& sc = h.cpu.s.seg[r];
    sc.attrs = (sc.attrs & ~ar::kDplMask) | (cpl << ar::kDplShift);
    sc.selector = static_cast<uint16_t>((r == CS ? 0x18 : 0x20) | cpl);
  }
}

constexpr uint32_t iopl(unsigned n) { return n << flag::kIoplShift; }
constexpr uint32_t kBit1 = flag::kReserved1;

}  // namespace

TEST(FlagCtrl, CarryAndDirectionFlags) {
  CpuHarness h;
  h.load_asm(R"(
    stc
    cmc
    cmc
    std
    clc
    cld
  )");
  const uint32_t after[] = {flag::CF, 0, flag::CF, flag::CF | flag::DF, flag::DF, 0};
  for (uint32_t expected : after) {
    ASSERT_EQ(h.run(1), StopReason::BudgetExhausted);
    EXPECT_EQ(h.flags(), expected | kBit1);
  }
}

TEST(FlagCtrl, LahfAndSahf) {
  CpuHarness h;
  h.cpu.s.flags.set_bits(flag::kArith);
  h.load_asm(R"(
    mov eax, 0x11223344
    lahf
    mov ebx, eax
    mov ah, 0x01
    sahf
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RBX), 0x1122D744u);  // SF ZF 0 AF 0 PF 1 CF
  EXPECT_EQ(h.arith_flags(), flag::CF | flag::OF);  // SAHF cannot reach OF
}

TEST(FlagCtrl, PushfStoresTheImageWithoutVmAndRf) {
  CpuHarness h;
  h.cpu.s.flags.set_bits(flag::RF | flag::AC | flag::ID | flag::IF | flag::DF | flag::CF);
  h.load_asm(R"(
    pushfd
    pushfw
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.read32(0x8FFFC), flag::AC | flag::ID | flag::IF | flag::DF | flag::CF | kBit1);
  EXPECT_EQ(h.mem.read(0x8FFFA, 2), flag::IF | flag::DF | flag::CF | kBit1);
  EXPECT_EQ(h.reg32(RSP), 0x8FFFAu);
  // PUSHF changes nothing; RF goes because an instruction completed
  // (SDM vol. 3, 17.3.1.1: RF lasts one instruction).
  EXPECT_FALSE(h.flags() & flag::RF);
}

// At CPL 0 everything but VM, VIP and VIF can change; RF is cleared and the
// reserved bits keep their fixed values.  (TF is left out of the image so
// no single-step trap is armed.)
TEST(FlagCtrl, PopfdAtCpl0) {
  CpuHarness h;
  h.cpu.s.flags.set_bits(flag::VIF | flag::VIP | flag::RF);
  h.load_asm(R"(
    push 0xFFFFFEFF
    popfd
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.flags(), 0x00247ED7u | flag::VIF | flag::VIP);
  EXPECT_EQ(h.reg32(RSP), 0x90000u);

  h.load_asm(R"(
    push 0
    popfd
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.flags(), kBit1 | flag::VIF | flag::VIP);
}

TEST(FlagCtrl, Popf16TouchesOnlyTheLowWord) {
  CpuHarness h;
  h.load_asm(R"(
    pushw 0xFEFF
    popfw
  )");
  h.run(1);
  h.cpu.s.flags.set_bits(h.flags() | flag::AC | flag::RF);
  DecodedInsn d;
  ASSERT_EQ(h.execute_one(&d), Status::Ok);  // POPF alone: the engine would clear RF after it
  EXPECT_EQ(h.flags(), 0x7ED7u | flag::AC | flag::RF);  // bit 15 stays 0; AC and RF untouched
  EXPECT_EQ(h.reg32(RSP), 0x90000u);
}

TEST(FlagCtrl, PopfAtCpl3KeepsIoplAndIf) {
  CpuHarness h;
  set_cpl(h, 3);
  h.cpu.s.flags.set_bits(0);
  h.load_asm(R"(
    push 0xFFFFFEFF
    popfd
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  // Everything else took the image: arith, DF, NT, AC, ID.
  EXPECT_EQ(h.flags(), 0x00244CD7u);

  h.cpu.s.flags.set_bits(flag::IF);
  h.load_asm(R"(
    push 0
    popfd
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.flags(), flag::IF | kBit1);  // no fault, IF silently kept
}

TEST(FlagCtrl, PopfAtCpl3WithIopl3ChangesIfButNotIopl) {
  CpuHarness h;
  set_cpl(h, 3);
  h.cpu.s.flags.set_bits(iopl(3) | flag::IF);
  h.load_asm(R"(
    push 0
    popfd
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.flags(), iopl(3) | kBit1);
}

TEST(FlagCtrl, PopfAtCpl1WithIopl2ChangesIfButNotIopl) {
  CpuHarness h;
  set_cpl(h, 1);
  h.cpu.s.flags.set_bits(iopl(2));
  h.load_asm(R"(
    push 0x200
    popfd
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.flags(), iopl(2) | flag::IF | kBit1);
}

TEST(FlagCtrl, CliAndStiAtCpl3WithIopl0RaiseGp) {
  CpuHarness h;
  set_cpl(h, 3);
  h.cpu.s.flags.set_bits(flag::IF);
  h.load({0xFA});  // cli
  ASSERT_EQ(h.execute_one(), Status::Exception);
  EXPECT_EQ(h.cpu.pending().vector, vec::GP);
  EXPECT_TRUE(h.cpu.pending().has_error);
  EXPECT_EQ(h.cpu.pending().error, 0u);
  EXPECT_EQ(h.cpu.s.rip, 0x1000u);
  EXPECT_EQ(h.flags(), flag::IF | kBit1);

  h.cpu.s.flags.set_bits(0);
  h.load({0xFB});  // sti
  ASSERT_EQ(h.execute_one(), Status::Exception);
  EXPECT_EQ(h.cpu.pending().vector, vec::GP);
  EXPECT_EQ(h.flags(), kBit1);
}

TEST(FlagCtrl, CliAndStiAtCpl3WithIopl3) {
  CpuHarness h;
  set_cpl(h, 3);
  h.cpu.s.flags.set_bits(iopl(3) | flag::IF);
  h.load_asm(R"(
    cli
    mov eax, 1
    sti
  )");
  ASSERT_EQ(h.run(2), StopReason::BudgetExhausted);
  EXPECT_EQ(h.flags(), iopl(3) | kBit1);
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.flags(), iopl(3) | flag::IF | kBit1);
}

TEST(FlagCtrl, RealModeIgnoresIopl) {
  CpuHarness h(16);
  h.load_asm(R"(
    mov esp, 0x8000
    sti
    push 0x7002
    popf
    cli
  )");
  ASSERT_EQ(h.run(2), StopReason::BudgetExhausted);
  EXPECT_EQ(h.flags(), flag::IF | kBit1);
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.flags(), iopl(3) | flag::NT | kBit1);  // POPF reached IOPL and NT
  EXPECT_EQ(h.reg32(RSP), 0x8000u);
}

// Virtual-8086 mode (CR4.VME off): PUSHF, POPF, CLI and STI need IOPL = 3.
TEST(FlagCtrl, V8086NeedsIopl3) {
  for (uint8_t op : {uint8_t{0x9C}, uint8_t{0x9D}, uint8_t{0xFA}, uint8_t{0xFB}}) {
    CpuHarness h;
    set_cpl(h, 3);
    h.cpu.s.flags.set_bits(flag::VM | iopl(2) | flag::IF);
    h.cpu.s.gpr[RSP] = 0x8000;
    h.load({op});
    ASSERT_EQ(h.execute_one(), Status::Exception) << std::hex << int(op);
    EXPECT_EQ(h.cpu.pending().vector, vec::GP);
    EXPECT_EQ(h.cpu.pending().error, 0u);
    EXPECT_EQ(h.flags(), flag::VM | iopl(2) | flag::IF | kBit1);
    EXPECT_EQ(h.reg32(RSP), 0x8000u);
  }
}

TEST(FlagCtrl, V8086WithIopl3) {
  CpuHarness h;
  set_cpl(h, 3);
  h.cpu.s.flags.set_bits(flag::VM | iopl(3));
  h.cpu.s.gpr[RSP] = 0x8000;
  h.load({0x66, 0x9C});  // pushfd: VM cleared in the image
  ASSERT_EQ(h.execute_one(), Status::Ok);
  EXPECT_EQ(h.read32(0x7FFC), iopl(3) | kBit1);

  h.write32(0x7FFC, 0xFFFFFEFF);
  h.load({0x66, 0x9D});  // popfd: IOPL and VM stay, IF may change
  ASSERT_EQ(h.execute_one(), Status::Ok);
  EXPECT_EQ(h.flags(), 0x00244ED7u | iopl(3) | flag::VM);
  EXPECT_EQ(h.reg32(RSP), 0x8000u);
}

}  // namespace vtlab::test
