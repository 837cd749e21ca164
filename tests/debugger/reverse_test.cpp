// Reverse execution by replay from power-on: reverse-step lands on the
// exact earlier state (registers, memory, counters), also further back
// than the first replay window;
// reverse-continue goes to the last stop before here or to the start,
// leaving hit counts alone; on minios, the same states with checkpoints
// close together as with none at all (replays from power-on).
#include <gtest/gtest.h>

#include "core/loader/file.h"
#include "core/loader/multiboot.h"
#include "core/machine.h"
#include "debugger/reverse.h"
#include "support/assemble.h"
#include "support/boot.h"

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

// Where reverse execution leaves minios: (virtual time, icount, EIP, EAX, ESP).
using Landing = std::array<uint64_t, 5>;
std::vector<Landing> minios_reverse_landings(uint64_t interval, size_t* checkpoints) {
  const auto power_on = [] {
    MachineConfig c;
    auto m = std::make_shared<Machine>(c);
    load_multiboot(read_file(sample_binary("minios.elf")), "minios.elf", "", m->memory(), m->cpu().s);
    return m;
  };
  std::shared_ptr<Machine> first = power_on();
  Debugger d(*first);
  ReverseExecution rev(d, first, power_on, interval);
  first.reset();
  const auto landing = [&d] {
    const Machine& m = d.machine();
    return Landing{m.virtual_time(), m.cpu().icount, m.cpu().s.rip, m.cpu().s.gpr[RAX], m.cpu().s.gpr[RSP]};
  };
  std::vector<Landing> out;
  d.add_breakpoint(0x101830, false);  // timer_interrupt: once per PIT tick
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(d.cont().kind, Kind::Breakpoint);
    rev.note_stop();
  }
  out.push_back(landing());
  for (int i = 0; i < 3; ++i) {
    const ReverseExecution::Result r = rev.reverse_step();
    EXPECT_TRUE(r.ok) << r.error;
    out.push_back(landing());
  }
  const ReverseExecution::Result r = rev.reverse_continue();
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.stop.kind, Kind::Breakpoint);
  out.push_back(landing());
  *checkpoints = rev.checkpoints();
  return out;
}

TEST(ReverseMiniOs, ReverseStepsLandTheSameWithAndWithoutCheckpoints) {
  size_t none = 0, many = 0;
  const std::vector<Landing> from_power_on = minios_reverse_landings(0, &none);
  const std::vector<Landing> from_checkpoints = minios_reverse_landings(1 << 14, &many);
  EXPECT_EQ(none, 0u);
  EXPECT_EQ(many, 8u);  // power-on, the three stops, and what the replays passed
  EXPECT_EQ(from_checkpoints, from_power_on);
  ASSERT_EQ(from_power_on.size(), 5u);
  // Each reverse step goes back one unit of virtual time here (instructions).
  for (size_t i = 1; i < 4; ++i) {
    EXPECT_EQ(from_power_on[i][0] + 1, from_power_on[i - 1][0]);
    EXPECT_EQ(from_power_on[i][1] + 1, from_power_on[i - 1][1]);
  }
  EXPECT_EQ(from_power_on[0][2], 0x101830u);
  EXPECT_EQ(from_power_on[1][2], 0x101b83u);  // the jump into timer_interrupt
  EXPECT_EQ(from_power_on[4][2], 0x101830u);  // the second tick
  EXPECT_LT(from_power_on[4][0], from_power_on[3][0]);
}

}  // namespace
}  // namespace vtlab::test
