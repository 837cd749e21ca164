// `pv` on whole guests: minios-pv (minios through its paravirt-ops layer,
// samples/minios/pv.h) prints its transcript with exactly the exits
// paravirtualization costs it, far fewer than `trap` costs the unmodified
// minios for the same work; an unmodified kernel under pv stops at its
// first privileged instruction with one clear line.  Every number is exact:
// virtual time makes runs repeatable.
#include <gtest/gtest.h>

#include "core/loader/file.h"
#include "core/loader/multiboot.h"
#include "privilege/pv_abi.h"
#include "support/boot.h"

namespace vtlab::test {

namespace {
constexpr uint64_t kBudget = 100'000'000;
const std::string kCli = VTLAB_CLI;

struct PvRun {
  BootOutcome o;
  std::map<uint32_t, uint64_t> hypercalls;  // per hypercall number
};

PvRun run_pv(const std::string& elf) {
  PvRun r;
  MachineConfig cfg;
  cfg.ram_bytes = 128ull << 20;
  cfg.mode = "pv";
  Machine m(cfg);
  load_multiboot(read_file(elf), elf.substr(elf.rfind('/') + 1), "", m.memory(), m.cpu().s);
  r.o.result = m.run(kBudget);
  r.o.serial = m.serial_transcript();
  r.o.instructions = m.cpu().icount;
  for (size_t i = 0; i < kExitReasons; ++i) r.o.exits[i] = m.exits().count(static_cast<ExitReason>(i)).count;
  r.o.exit_total = m.exits().total();
  r.o.exit_cycles = m.exits().total_cycles();
  for (const auto& [name, value] : m.monitor().counters()) r.o.counters[name] = value;
  r.hypercalls = m.exits().count(ExitReason::Hypercall).by_key;
  return r;
}
}  // namespace

TEST(PvMode, MiniOsPvPrintsItsTranscriptWithExactExits) {
  const PvRun r = run_pv(sample_binary("minios-pv.elf"));
  const BootOutcome& o = r.o;
  EXPECT_EQ(o.serial, read_text_file(sample_source("minios/expected-pv.txt")));
  ASSERT_EQ(o.result.reason, StopReason::GuestExit) << o.result.detail;
  EXPECT_EQ(o.result.guest_status, 67u);
  EXPECT_EQ(o.instructions, 8'165'765u);
  EXPECT_EQ(o.result.virtual_time, 8'711'794u);
  EXPECT_EQ(o.exit_count(ExitReason::Hypercall), 168u);
  EXPECT_EQ(o.exit_count(ExitReason::GuestException), 37u);     // 36 #PF, 1 #GP; INT 0x80 exits no more
  EXPECT_EQ(o.exit_count(ExitReason::ExternalInterrupt), 66u);  // the virtual timer
  EXPECT_EQ(o.exit_total, 271u);  // nothing else: no I/O, CR, MSR, shadow-paging or privileged-insn exits
  EXPECT_EQ(o.exit_cycles, 257'000u);
  const std::map<uint32_t, uint64_t> expected = {
      {pv::kConsoleWrite, 56}, {pv::kSetTrapTable, 1}, {pv::kMmuUpdate, 36},  // heap pages mapped and released
      {pv::kMmuExtOp, 1},      {pv::kSetTimer, 2},     {pv::kBlock, 3},
      {pv::kYield, 7},         {pv::kShutdown, 1},     {pv::kMulticall, 60},  // switches, address spaces, GDT
      {pv::kSetSharedInfo, 1},
  };
  EXPECT_EQ(r.hypercalls, expected);
  EXPECT_EQ(o.counters.at("events_delivered"), 103u);
  EXPECT_EQ(o.counters.at("fast_system_calls"), 22u);  // INT 0x80 through the real gate, no exit
  EXPECT_EQ(o.counters.at("multicall_entries"), 121u);
  EXPECT_EQ(o.counters.at("tables_pinned"), 2u);  // every process's tables went back: the kernel's two stay
}

// The same work: minios under trap-and-emulate against minios-pv under pv
// (the numbers in tests/e2e/trap_test.cpp and above).
TEST(PvMode, FarFewerExitsThanTrapRunningUnmodifiedMiniOs) {
  const BootOutcome trap = boot_kernel(sample_binary("minios.elf"), "", kBudget, 128ull << 20, "trap");
  const PvRun pv = run_pv(sample_binary("minios-pv.elf"));
  ASSERT_EQ(trap.result.reason, StopReason::GuestExit);
  ASSERT_EQ(pv.o.result.reason, StopReason::GuestExit);
  EXPECT_EQ(trap.exit_total, 11'876u);
  EXPECT_EQ(pv.o.exit_total, 271u);
  EXPECT_LT(pv.o.exit_total * 40, trap.exit_total);
  EXPECT_EQ(trap.exit_cycles, 23'502'000u);
  EXPECT_EQ(pv.o.exit_cycles, 257'000u);
  EXPECT_LT(pv.o.result.virtual_time, trap.result.virtual_time);
}

TEST(PvMode, RunsAreRepeatable) {
  const PvRun a = run_pv(sample_binary("minios-pv.elf"));
  const PvRun b = run_pv(sample_binary("minios-pv.elf"));
  EXPECT_EQ(a.o.instructions, b.o.instructions);
  EXPECT_EQ(a.o.exits, b.o.exits);
  EXPECT_EQ(a.hypercalls, b.hypercalls);
}

// An unmodified kernel: its first CLI (samples/common/boot.S) ends the run.
TEST(PvMode, UnmodifiedKernelStopsAtItsFirstPrivilegedInstruction) {
  const PvRun r = run_pv(sample_binary("minios.elf"));
  EXPECT_EQ(r.o.result.reason, StopReason::Unsupported);
  EXPECT_EQ(r.o.result.detail,
            "this guest is not paravirtualized: cli at 0x0010000c (run it with --mode trap or bt)");
  EXPECT_EQ(r.o.instructions, 0u);
  EXPECT_EQ(r.o.serial, "");
}

TEST(PvCli, UnmodifiedKernelGivesOneErrorLineAndStatus8) {
  const CommandResult c = run_command(kCli + " run --mode pv --serial none " + sample_binary("minios.elf"));
  EXPECT_EQ(c.status, 8);
  EXPECT_EQ(c.err,
            "vtlab: unsupported: this guest is not paravirtualized: cli at 0x0010000c (run it with --mode trap or bt) "
            "(after 0 instructions, at 0009:0010000c)\n");
}

TEST(PvCli, CompareShowsTrapAndPvSideBySide) {
  const CommandResult c =
      run_command(kCli + " compare --modes trap,pv --format csv --pv-kernel " + sample_binary("minios-pv.elf") + " " +
                  sample_binary("minios.elf"));
  EXPECT_EQ(c.status, 0) << c.err;
  EXPECT_NE(c.out.find("trap,"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("pv,"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find(",271,"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find(",11876,"), std::string::npos) << c.out;
}

}  // namespace vtlab::test
