// debugger/mode_compare.h: what `vtlab compare` and the GUI's Compare
// window share.  A run taken in slices (as the window takes it, one per
// frame) ends with exactly the figures of one uninterrupted run, under a
// monitor too; a budget stops it even when a modelled exit cost carries
// virtual time past it; native always runs first.
#include <gtest/gtest.h>

#include "core/loader/file.h"
#include "core/loader/multiboot.h"
#include "debugger/mode_compare.h"
#include "support/boot.h"

namespace vtlab::test {

namespace {

std::unique_ptr<Machine> minios(const std::string& mode) {
  MachineConfig cfg;
  cfg.mode = mode;
  auto m = std::make_unique<Machine>(cfg);
  load_multiboot(read_file(sample_binary("minios.elf")), "minios.elf", "", m->memory(), m->cpu().s);
  return m;
}

void expect_same(const ModeFigures& a, const ModeFigures& b) {
  EXPECT_EQ(a.mode, b.mode);
  EXPECT_EQ(a.instructions, b.instructions);
  EXPECT_EQ(a.virtual_time, b.virtual_time);
  EXPECT_EQ(a.exits, b.exits);
  EXPECT_EQ(a.exit_cycles, b.exit_cycles);
  EXPECT_EQ(a.by_reason, b.by_reason);
  EXPECT_EQ(a.holes_found, b.holes_found);
}

}  // namespace

TEST(ModeCompare, SlicedRunEndsWithOneRunsFigures) {
  for (const std::string mode : {"native", "trap"}) {
    SCOPED_TRACE(mode);
    const std::unique_ptr<Machine> whole = minios(mode);
    const RunResult r = whole->run(~uint64_t{0});
    ASSERT_EQ(r.reason, StopReason::GuestExit);

    const std::unique_ptr<Machine> sliced = minios(mode);
    SlicedRun run(*sliced, 0);
    unsigned slices = 0;
    while (!run.step(250'000)) ++slices;
    EXPECT_GT(slices, 30u);  // many slices, each ending on a budget
    EXPECT_EQ(run.result().reason, StopReason::GuestExit);
    EXPECT_EQ(run.result().guest_status, r.guest_status);
    EXPECT_EQ(run.result().instructions, r.instructions);
    EXPECT_EQ(run.result().virtual_time, r.virtual_time);
    EXPECT_EQ(sliced->serial_transcript(), whole->serial_transcript());
    expect_same(mode_figures(mode, *sliced), mode_figures(mode, *whole));
    EXPECT_TRUE(run.step(250'000));  // an ended run stays ended
  }
  // minios's own figures under trap, as `vtlab compare` prints them.
  const std::unique_ptr<Machine> trap = minios("trap");
  trap->run(~uint64_t{0});
  const ModeFigures f = mode_figures("trap", *trap);
  EXPECT_EQ(f.instructions, 8092115u);
  EXPECT_EQ(f.virtual_time, 31700373u);
  EXPECT_EQ(f.exits, 11876u);
  EXPECT_EQ(f.exit_cycles, 23502000u);
  EXPECT_EQ(f.by_reason[static_cast<size_t>(ExitReason::Io)], 7713u);
  EXPECT_EQ(f.holes_found, 16u);
}

TEST(ModeCompare, BudgetStopsTheRunThoughAnExitCostCarriesPastIt) {
  // Under trap an exit's modelled cost moves virtual time in one jump, so
  // the slice that reaches the budget ends beyond it: what is left is
  // then nothing, not a wrapped-around count.
  const std::unique_ptr<Machine> m = minios("trap");
  SlicedRun run(*m, 9'000'000);
  unsigned slices = 0;
  while (!run.step(1'000'000)) ++slices;
  EXPECT_EQ(run.result().reason, StopReason::BudgetExhausted);
  EXPECT_GE(run.result().virtual_time, 9'000'000u);
  EXPECT_LT(run.result().virtual_time, 9'100'000u);
  EXPECT_LE(slices, 9u);
}

TEST(ModeCompare, NativeFirstEachModeOnce) {
  EXPECT_EQ(compare_order({}), std::vector<std::string>({"native"}));
  EXPECT_EQ(compare_order({"trap", "bt", "trap", "native", "pv"}),
            std::vector<std::string>({"native", "trap", "bt", "pv"}));
  ModeFigures native, trap;
  native.virtual_time = 8416647;
  trap.virtual_time = 31700373;
  EXPECT_DOUBLE_EQ(virtual_time_ratio(trap, native), 3.766);
  EXPECT_DOUBLE_EQ(virtual_time_ratio(native, native), 1.0);
  EXPECT_DOUBLE_EQ(virtual_time_ratio(trap, ModeFigures{}), 0.0);
}

}  // namespace vtlab::test
