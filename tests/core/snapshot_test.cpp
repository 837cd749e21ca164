// Machine checkpoints (core/snapshot.h): a snapshot of minios restored into
// a fresh machine continues to exactly the state the original run reaches
// (registers, counters, serial bytes, exit status), from early boot, from
// inside a timer interrupt (PIC in service, PIT counting) and right after a
// serial byte; restored into the machine it came from, the run repeats;
// unchanged RAM pages are shared with the previous checkpoint; a snapshot
// of a different machine is refused.
#include <gtest/gtest.h>

#include <memory>

#include "core/loader/file.h"
#include "core/loader/multiboot.h"
#include "core/machine.h"
#include "devices/pic8259.h"
#include "support/boot.h"

namespace vtlab::test {
namespace {

constexpr uint64_t kBudget = 50'000'000;
// samples/minios's whole run (tests/e2e/minios_test.cpp).
constexpr uint64_t kMiniOsInsns = 8'091'955, kMiniOsTime = 8'416'647;

std::unique_ptr<Machine> boot_minios(uint64_t ram = 128ull << 20) {
  MachineConfig cfg;
  cfg.ram_bytes = ram;
  auto m = std::make_unique<Machine>(cfg);
  load_multiboot(read_file(sample_binary("minios.elf")), "minios.elf", "", m->memory(), m->cpu().s);
  return m;
}

// Runs to virtual time `vt` in one go.
void run_to(Machine& m, uint64_t vt) {
  ASSERT_LT(m.virtual_time(), vt);
  ASSERT_EQ(m.run(vt - m.virtual_time()).reason, StopReason::BudgetExhausted);
}

// Steps until `done` holds (at most `limit` steps).
template <typename Pred> void step_until(Machine& m, Pred done, int limit = 1'000'000) {
  for (int i = 0; i < limit && !done(); ++i) ASSERT_EQ(m.run(1).reason, StopReason::BudgetExhausted);
  ASSERT_TRUE(done());
}

struct End {
  RunResult r;
  CpuState s;
  uint64_t icount, vt, events, idle;
  std::string serial;
};

End run_to_end(Machine& m) {
  End e{m.run(kBudget), m.cpu().s, m.cpu().icount, m.virtual_time(), m.cpu().events, m.cpu().idle,
        m.serial_transcript()};
  return e;
}

void expect_same_end(const End& a, const End& b) {
  EXPECT_EQ(a.r.reason, StopReason::GuestExit) << a.r.detail;
  EXPECT_EQ(b.r.reason, a.r.reason) << b.r.detail;
  EXPECT_EQ(b.r.guest_status, a.r.guest_status);
  EXPECT_EQ(b.icount, a.icount);
  EXPECT_EQ(b.vt, a.vt);
  EXPECT_EQ(b.events, a.events);
  EXPECT_EQ(b.idle, a.idle);
  EXPECT_EQ(b.serial, a.serial);
  EXPECT_EQ(b.s.gpr, a.s.gpr);
  EXPECT_EQ(b.s.rip, a.s.rip);
  EXPECT_EQ(b.s.flags.bits(), a.s.flags.bits());
  EXPECT_EQ(b.s.cr0, a.s.cr0);
  EXPECT_EQ(b.s.cr3, a.s.cr3);
  for (unsigned i = 0; i < kNumSegRegs; ++i) EXPECT_EQ(b.s.seg[i].selector, a.s.seg[i].selector);
}

// Saves where `m` is, finishes both the original and a fresh machine the
// snapshot was restored into, and compares them with each other and with
// minios's known end.
void check_restores_exactly(Machine& m) {
  const MachineSnapshot snap = m.save();
  const End original = run_to_end(m);
  std::unique_ptr<Machine> fresh = boot_minios();
  ASSERT_TRUE(fresh->restore(snap));
  EXPECT_EQ(fresh->virtual_time(), snap.icount + snap.events + snap.idle + snap.exit_cycles);
  const End restored = run_to_end(*fresh);
  expect_same_end(original, restored);
  EXPECT_EQ(original.icount, kMiniOsInsns);
  EXPECT_EQ(original.vt, kMiniOsTime);
  EXPECT_EQ(original.r.guest_status, 67u);
}

TEST(Snapshot, MiniOsEarlyInBootContinuesExactly) {
  std::unique_ptr<Machine> m = boot_minios();
  run_to(*m, 20'000);
  check_restores_exactly(*m);
}

TEST(Snapshot, MiniOsInsideATimerInterruptContinuesExactly) {
  std::unique_ptr<Machine> m = boot_minios();
  run_to(*m, 3'000'000);
  // In the IRQ 0 handler: the master PIC has IR0 in service and the PIT's
  // next tick is armed on the clock.
  step_until(*m, [&] { return (m->pic().isr(DualPic::kMaster) & 1) != 0; });
  EXPECT_NE(m->cpu().clock.next_deadline(), VirtualClock::kNever);
  check_restores_exactly(*m);
}

TEST(Snapshot, MiniOsRightAfterASerialByteContinuesExactly) {
  std::unique_ptr<Machine> m = boot_minios();
  run_to(*m, 300'000);
  const uint64_t sent = m->serial_bytes();
  step_until(*m, [&] { return m->serial_bytes() != sent; });
  check_restores_exactly(*m);
}

TEST(Snapshot, MiniOsLateInTheRunContinuesExactly) {
  std::unique_ptr<Machine> m = boot_minios();
  run_to(*m, 8'000'000);
  check_restores_exactly(*m);
}

TEST(Snapshot, RestoredIntoTheSameMachineTheRunRepeats) {
  std::unique_ptr<Machine> m = boot_minios();
  run_to(*m, 2'500'000);
  const MachineSnapshot snap = m->save();
  const std::string serial = m->serial_transcript();
  const End first = run_to_end(*m);
  ASSERT_TRUE(m->restore(snap));
  EXPECT_EQ(m->serial_transcript(), serial);
  EXPECT_EQ(m->virtual_time(), 2'500'000u);
  expect_same_end(first, run_to_end(*m));
}

TEST(Snapshot, UnchangedPagesAreSharedWithThePreviousCheckpoint) {
  std::unique_ptr<Machine> m = boot_minios();
  run_to(*m, 4'000'000);
  const MachineSnapshot a = m->save();
  // Nothing ran: every page is the previous checkpoint's.
  const MachineSnapshot same = m->save(&a);
  EXPECT_EQ(same.ram.pages(), a.ram.pages());
  EXPECT_EQ(same.ram.own_pages(), 0u);
  EXPECT_EQ(a.ram.own_pages(), a.ram.pages());
  run_to(*m, 5'000'000);
  const MachineSnapshot b = m->save(&a);
  EXPECT_GT(b.ram.own_pages(), 0u);
  EXPECT_LT(b.ram.own_pages(), b.ram.pages());
}

TEST(Snapshot, ASnapshotOfADifferentMachineIsRefused) {
  std::unique_ptr<Machine> m = boot_minios();
  run_to(*m, 10'000);
  const MachineSnapshot snap = m->save();
  std::unique_ptr<Machine> smaller = boot_minios(64ull << 20);
  EXPECT_FALSE(smaller->restore(snap));
  EXPECT_EQ(smaller->virtual_time(), 0u);
}

TEST(Snapshot, MonitorsWithoutASnapshotSayWhy) {
  MachineConfig cfg;
  cfg.ram_bytes = 16 << 20;
  EXPECT_EQ(Machine(cfg).snapshot_unsupported(), "");
  cfg.mode = "trap";
  EXPECT_EQ(Machine(cfg).snapshot_unsupported(),
            "trap: the monitor's state (its virtual CPU, shadow tables, translations) has no snapshot");
}

}  // namespace
}  // namespace vtlab::test
