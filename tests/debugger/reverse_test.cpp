// Reverse execution by replay from power-on: reverse-step lands on the
// exact earlier state (registers, memory, counters), also further back
// than the first replay window;
// reverse-continue goes to the last stop before here or to the start,
// leaving hit counts alone.
#include <gtest/gtest.h>

#include "core/machine.h"
#include "debugger/reverse.h"
#include "support/assemble.h"

namespace vtlab::test {
namespace {

using Kind = StopEvent::Kind;

class ReverseTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kCode = 0x1000;

  // Power-on: flat protected mode with `source` at kCode.
  std::shared_ptr<Machine> power_on() {
    MachineConfig c;
    c.ram_bytes = 16 << 20;
    auto m = std::make_shared<Machine>(c);
    set_flat_protected_mode(m->cpu().s);
    m->cpu().s.gpr[RSP] = 0x90000;
    const std::vector<uint8_t> b = assemble(source_, 32, kCode);
    EXPECT_TRUE(m->memory().write_bytes(kCode, b.data(), b.size()));
    m->cpu().s.rip = kCode;
    return m;
  }
  void start(const std::string& source) {
    source_ = source;
    std::shared_ptr<Machine> m = power_on();
    dbg_ = std::make_unique<Debugger>(*m);
    rev_ = std::make_unique<ReverseExecution>(*dbg_, m, [this] { return power_on(); });
  }
  const CpuState& s() { return dbg_->machine().cpu().s; }
  uint64_t icount() { return dbg_->machine().cpu().icount; }

  std::string source_;
  std::unique_ptr<Debugger> dbg_;
  std::unique_ptr<ReverseExecution> rev_;
};

TEST_F(ReverseTest, ReverseStepRestoresTheExactEarlierState) {
  start("mov eax, 1\nmov [0x3000], eax\ninc eax\nmov [0x3000], eax\nhlt\n");
  for (int i = 0; i < 4; ++i) dbg_->step();
  EXPECT_EQ(s().gpr[RAX], 2u);
  ASSERT_TRUE(rev_->reverse_step().ok);
  EXPECT_EQ(s().rip, kCode + 11);  // before the second store
  EXPECT_EQ(icount(), 3u);
  EXPECT_EQ(dbg_->machine().virtual_time(), 3u);
  EXPECT_EQ(dbg_->machine().memory().read(0x3000, 4), 1u);
  ASSERT_TRUE(rev_->reverse_step().ok);
  EXPECT_EQ(s().gpr[RAX], 1u);
  EXPECT_EQ(s().rip, kCode + 10);
  // Forward again: the same run.
  dbg_->step();
  dbg_->step();
  EXPECT_EQ(dbg_->machine().memory().read(0x3000, 4), 2u);
  EXPECT_EQ(icount(), 4u);
}

TEST_F(ReverseTest, ReverseStepAtTheStartSaysSo) {
  start("nop\nhlt\n");
  const ReverseExecution::Result r = rev_->reverse_step();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "at the start of the run");
  EXPECT_EQ(s().rip, kCode);
}

TEST_F(ReverseTest, ReverseStepReachesBackPastTheFirstWindow) {
  // 20000 iterations of a 2-instruction loop: far beyond 4096 units.
  start("mov ecx, 20000\nl: dec ecx\njnz l\nmov ebx, 7\nhlt\n");
  EXPECT_EQ(dbg_->run_to(kCode + 8).kind, Kind::RunTo);  // mov ebx, 7
  EXPECT_EQ(icount(), 40001u);
  ASSERT_TRUE(rev_->reverse_step().ok);
  EXPECT_EQ(icount(), 40000u);
  EXPECT_EQ(s().rip, kCode + 6);  // the last jnz
  EXPECT_EQ(s().gpr[RCX], 0u);
}

TEST_F(ReverseTest, ReverseContinueGoesToTheLastStopBeforeHere) {
  start("mov ecx, 3\nl: inc eax\ndec ecx\njnz l\nmov ebx, 7\nhlt\n");
  const unsigned bp = dbg_->add_breakpoint(kCode + 5, false);  // inc eax
  for (int i = 0; i < 3; ++i) EXPECT_EQ(dbg_->cont().kind, Kind::Breakpoint);
  EXPECT_EQ(s().gpr[RAX], 2u);
  EXPECT_EQ(dbg_->breakpoints()[0].hits, 3u);
  ReverseExecution::Result r = rev_->reverse_continue();
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.stop.kind, Kind::Breakpoint);
  EXPECT_EQ(r.stop.id, bp);
  EXPECT_EQ(s().gpr[RAX], 1u);  // the second time round
  EXPECT_EQ(s().rip, kCode + 5);
  EXPECT_EQ(dbg_->breakpoints()[0].hits, 3u);
  ASSERT_TRUE((r = rev_->reverse_continue()).ok);
  EXPECT_EQ(s().gpr[RAX], 0u);
  EXPECT_EQ(icount(), 1u);
  // No stop before the first hit: back to the start.
  ASSERT_TRUE((r = rev_->reverse_continue()).ok);
  EXPECT_EQ(r.stop.kind, Kind::Step);
  EXPECT_EQ(icount(), 0u);
  EXPECT_EQ(s().rip, kCode);
}

}  // namespace
}  // namespace vtlab::test
