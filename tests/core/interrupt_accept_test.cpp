// When the CPU takes a maskable interrupt (SDM vol. 3, 6.8): only with
// IF=1, never inside an STI or MOV SS / POP SS shadow, waking HLT; HLT
// sleeping until the next timer in virtual time; and the TF single-step
// trap.  Real mode keeps the frames small: the handlers record the IP they
// would return to.
#include <gtest/gtest.h>

#include "support/cpu_harness.h"

namespace vtlab::test {
namespace {

// An INTR pin a test drives by hand (raise() tells the CPU, as a device's
// IntrChanged would).
class FakeIntr : public InterruptController {
 public:
  explicit FakeIntr(Cpu& cpu) : cpu_(cpu) {}
  void raise() {
    pending = true;
    cpu_.intr_changed();
  }
  bool pending = false;
  uint8_t vector = 0x20;
  int acks = 0;
  bool intr_pending() override { return pending; }
  uint8_t acknowledge() override {
    pending = false;
    ++acks;
    return vector;
  }

 private:
  Cpu& cpu_;
};

constexpr uint64_t kHandler = 0x3000;  // vector 0x20: BX counts calls, SI gets the return IP
constexpr uint64_t kDbHandler = 0x3100;  // vector 1: DX counts calls, DI gets the return IP

// A real-mode CPU with the fake INTR pin and both handlers installed.
struct RealModeBench {
  RealModeBench() : h(16) {
    h.cpu.intc = &intr;
    h.write32(0x20 * 4, static_cast<uint32_t>(kHandler));
    h.write32(1 * 4, static_cast<uint32_t>(kDbHandler));
    h.mem.write_bytes(kHandler, handler_.data(), handler_.size());
    h.mem.write_bytes(kDbHandler, db_handler_.data(), db_handler_.size());
  }

  // Snippets put the address of the label a check needs in BP
  // (`mov bp, offset label`), so no offsets are counted by hand.
  uint16_t reg16(Gpr r) const { return static_cast<uint16_t>(h.cpu.s.gpr[r]); }

  CpuHarness h;
  FakeIntr intr{h.cpu};
  std::vector<uint8_t> handler_ = assemble("inc bx\npop si\npush si\niret", 16, kHandler);
  std::vector<uint8_t> db_handler_ = assemble("inc dx\npop di\npush di\niret", 16, kDbHandler);
};

class InterruptAcceptTest : public ::testing::Test, public RealModeBench {};

TEST_F(InterruptAcceptTest, TakenOnlyWithInterruptsEnabled) {
  h.load_asm(
      "mov sp, 0x8000\n"
      "mov bp, offset after\n"
      "cli\nnop\nnop\n"
      "sti\n"
      "nop\n"
      "after: nop\n"
      "hlt\n");
  intr.raise();
  EXPECT_EQ(h.run(100), StopReason::Halted);
  EXPECT_EQ(intr.acks, 1);
  EXPECT_EQ(reg16(RBX), 1);
  // STI's shadow lets the NOP after it run first.
  EXPECT_EQ(reg16(RSI), reg16(RBP));
  EXPECT_EQ(h.cpu.stop_detail(), "HLT with interrupts enabled, but no timer is armed to wake it");
}

TEST_F(InterruptAcceptTest, StiWithInterruptsAlreadyOnHasNoShadow) {
  h.load_asm(
      "mov sp, 0x8000\n"
      "sti\n"
      "mov bp, offset after\n"
      "after: sti\n"
      "nop\n"
      "hlt\n");
  h.run(3);  // up to and including the first STI and the MOV
  intr.raise();
  h.run(100);
  EXPECT_EQ(reg16(RBX), 1);
  // The interrupt arrived before the second STI ran; had it been held for
  // a shadow it would return after the NOP.
  EXPECT_EQ(reg16(RSI), reg16(RBP));
}

// The interrupt becomes pending exactly at the boundary after MOV SS /
// POP SS (a timer at that virtual time): it must wait one more instruction.
TEST(InterruptShadow, MovSsAndPopSsHoldOffOneInstruction) {
  for (const char* load_ss : {"xor cx, cx\nmov ss, cx\n", "push ss\npop ss\n"}) {
    RealModeBench t;
    t.h.load_asm(std::string("mov sp, 0x8000\nsti\nnop\n") + load_ss +  // SS loaded at virtual time 5
                 "mov bp, offset after\n"
                 "after: nop\n"
                 "hlt\n");
    const auto timer = t.h.cpu.clock.add_timer("test", [&] { t.intr.raise(); });
    t.h.cpu.clock.arm(timer, 5);
    EXPECT_EQ(t.h.run(100), StopReason::Halted) << load_ss;
    EXPECT_EQ(t.reg16(RBX), 1) << load_ss;
    EXPECT_EQ(t.reg16(RSI), t.reg16(RBP)) << load_ss;
  }
}

TEST_F(InterruptAcceptTest, HltSleepsUntilTheTimerInVirtualTime) {
  h.load_asm(
      "mov sp, 0x8000\n"
      "sti\n"
      "hlt\n"
      "mov bp, offset after\n"
      "after: cli\n"
      "hlt\n");
  const auto t = h.cpu.clock.add_timer("test", [&] { intr.raise(); });
  h.cpu.clock.arm(t, 1'000'000);
  EXPECT_EQ(h.run(10'000'000), StopReason::Halted);
  EXPECT_EQ(reg16(RBX), 1);
  // The handler returned to the instruction after HLT.
  EXPECT_EQ(reg16(RSI), reg16(RBP) - 3);
  // Three instructions ran before the sleep; then time jumped to the
  // deadline, the interrupt was delivered (one event) and the handler,
  // MOV, CLI and the final HLT ran.
  EXPECT_EQ(h.cpu.icount, 3u + 4u + 3u);
  EXPECT_EQ(h.cpu.events, 1u);
  EXPECT_EQ(h.cpu.idle, 1'000'000u - 3u);
  EXPECT_EQ(h.cpu.virtual_time(), 1'000'000u + 1u + 7u);
  EXPECT_EQ(h.cpu.stop_detail(), "HLT with interrupts disabled");
}

TEST_F(InterruptAcceptTest, HaltedSleepStopsAtTheBudget) {
  h.load_asm("mov sp, 0x8000\nsti\nhlt\ncli\nhlt\n");
  const auto t = h.cpu.clock.add_timer("test", [&] { intr.raise(); });
  h.cpu.clock.arm(t, 5'000);
  EXPECT_EQ(h.run(1'000), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.virtual_time(), 1'000u);
  EXPECT_EQ(reg16(RBX), 0);
  EXPECT_EQ(h.run(10'000), StopReason::Halted);  // woke at 5000, returned, halted for good
  EXPECT_EQ(reg16(RBX), 1);
}

TEST_F(InterruptAcceptTest, TimersFireOnExactInstructionBoundaries) {
  h.load_asm(
      "mov sp, 0x8000\n"
      "sti\n"
      "loop: inc ax\n"
      "jmp loop\n");
  uint64_t fired_at = 0;
  const auto t = h.cpu.clock.add_timer("test", [&] {
    fired_at = h.cpu.virtual_time();
    intr.raise();
  });
  h.cpu.clock.arm(t, 1001);
  h.run(2000);
  EXPECT_EQ(fired_at, 1001u);
  EXPECT_EQ(reg16(RBX), 1);
}

TEST_F(InterruptAcceptTest, SingleStepTrapsAfterEachInstructionWithTfSet) {
  h.load_asm(
      "mov sp, 0x8000\n"
      "xor dx, dx\n"
      "pushf\npop ax\nor ax, 0x100\npush ax\n"
      "popf\n"  // sets TF: no trap after this one
      "nop\n"
      "mov bp, offset last\n"
      "and ax, 0xFEFF\npush ax\n"
      "last: popf\n"  // clears TF: still traps after it, since TF was set when it began
      "nop\n"
      "cli\nhlt\n");
  EXPECT_EQ(h.run(200), StopReason::Halted);
  // NOP, MOV, AND, PUSH, POPF.
  EXPECT_EQ(reg16(RDX), 5);
  EXPECT_EQ(reg16(RDI), reg16(RBP) + 1);  // the last trap returned after POPF
  EXPECT_EQ(h.cpu.s.dr[6] & (1u << 14), 1u << 14);
}

// Virtual time stops at 2^62 ns, far from where device deadlines
// (virtual time plus a period) would wrap.
TEST(VirtualTimeLimit, RunningIntoItStopsWithAReason) {
  CpuHarness h;
  h.load_asm("loop: inc eax\njmp loop\n");
  h.cpu.idle = Interpreter::kVirtualTimeLimit - 10;
  EXPECT_EQ(h.run(100), StopReason::Unsupported);
  EXPECT_EQ(h.cpu.virtual_time(), Interpreter::kVirtualTimeLimit);
  EXPECT_EQ(h.cpu.icount, 10u);
  EXPECT_EQ(h.cpu.stop_detail(), "virtual time reached 2^62 ns (146 years of guest time), where vtlab stops");
}

// A data breakpoint hit by POP SS is held, like its single step, until the
// instruction after it (the one that loads SP) has run (SDM 6.8.3).
TEST_F(InterruptAcceptTest, PopSsHoldsItsDataBreakpointOneInstruction) {
  h.load_asm(
      "xor dx, dx\n"
      "mov bp, offset after\n"
      "mov sp, 0x8000\n"
      "push ss\n"  // writes 0x7FFE: a trap right after it
      "pop ss\n"   // reads 0x7FFE: the trap waits for the MOV
      "mov sp, 0x6000\n"
      "after: nop\n"
      "cli\nhlt\n");
  h.cpu.s.dr[0] = 0x7FFE;
  h.cpu.s.dr[7] = 0x1 | (3u << 16);  // L0, read/write, one byte
  EXPECT_EQ(h.run(200), StopReason::Halted);
  EXPECT_EQ(reg16(RDX), 2);
  EXPECT_EQ(reg16(RDI), reg16(RBP));
  EXPECT_EQ(h.cpu.s.dr[6] & 0xF, 1u);
}

}  // namespace
}  // namespace vtlab::test
