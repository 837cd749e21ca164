// `hw --hw-backend sim` on whole guests: minios and the 64-bit minios print
// their native transcripts with exactly the VM exits their controls and
// paging mode cost them; the holes sample finds none (the guest kernel is
// at ring 0, so nothing it does is answered wrongly); the CLI takes the
// controls from a file and flags and shows them in --stats.  Every number
// is exact: virtual time makes runs repeatable, so a change here is a
// change in what the monitor does.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>

#include "privilege/hw_sim/hw_sim_monitor.h"
#include "support/boot.h"

namespace vtlab::test {

namespace {
constexpr uint64_t kBudget = 100'000'000;
const std::string kCli = VTLAB_CLI;

BootOutcome boot_hw(const std::string& guest, const std::string& paging, std::vector<std::string> sets = {}) {
  return boot_kernel(sample_binary(guest), "", kBudget, 128ull << 20, "hw", [&](MachineConfig& c) {
    c.hw_paging = paging;
    c.vmcs_set = sets;
  });
}
}  // namespace

// Default (KVM-like) controls with EPT: CPUID, the PG write, the port I/O
// (the UART polled), HLT, the PIT's interrupts and the windows they wait
// for.  No #PF, CR3, INVLPG or SYSENTER MSR exits: the guest owns those.
TEST(HwSim, MiniOsNestedPagingExitsExactly) {
  BootOutcome o = boot_hw("minios.elf", "nested");
  EXPECT_EQ(o.serial, read_text_file(sample_source("minios/expected.txt")));
  ASSERT_EQ(o.result.reason, StopReason::GuestExit) << o.result.detail;
  EXPECT_EQ(o.result.guest_status, 67u);
  EXPECT_EQ(o.instructions, 8'092'470u);
  EXPECT_EQ(o.result.virtual_time, 33'920'407u);
  EXPECT_EQ(o.exit_count(ExitReason::Cpuid), 3u);
  EXPECT_EQ(o.exit_count(ExitReason::CrAccess), 1u);
  EXPECT_EQ(o.exit_count(ExitReason::Io), 7'714u);
  EXPECT_EQ(o.exit_count(ExitReason::Hlt), 3u);
  EXPECT_EQ(o.exit_count(ExitReason::ExternalInterrupt), 53u);
  EXPECT_EQ(o.exit_count(ExitReason::InterruptWindow), 12u);
  EXPECT_EQ(o.exit_total, 7'786u);
  EXPECT_EQ(o.exit_cycles, 25'648'300u);
  EXPECT_EQ(o.counters.at("vmx_exit_30"), 7'714u);
  EXPECT_EQ(o.counters.at("vmx_exit_10"), 3u);
  EXPECT_EQ(o.counters.at("vmx_exit_28"), 1u);
  EXPECT_EQ(o.counters.at("vmx_exit_12"), 3u);
  EXPECT_EQ(o.counters.at("vmx_exit_1"), 53u);
  EXPECT_EQ(o.counters.at("vmx_exit_7"), 12u);
  // 2-level guest paging over 4-level EPT: 14 references per walk.
  // (Two walks more since fault frames hold RF = 1: the instruction an
  // IRET resumes with RF set runs alone, and its fetch walks.)
  EXPECT_EQ(o.counters.at("ept_walks"), 865u);
  EXPECT_EQ(o.counters.at("ept_2d_references"), 12'110u);
  EXPECT_EQ(o.counters.at("ept_max_references_per_walk"), 14u);
  EXPECT_EQ(o.counters.at("ept_violations"), 0u);
}

// Shadow paging adds what the monitor must see to keep its tables: CR3
// loads, INVLPG, #PF exits (hidden fills, guest page-table writes, the
// guest's own demand faults).
TEST(HwSim, MiniOsShadowPagingExitsExactly) {
  BootOutcome o = boot_hw("minios.elf", "shadow");
  EXPECT_EQ(o.serial, read_text_file(sample_source("minios/expected.txt")));
  ASSERT_EQ(o.result.reason, StopReason::GuestExit) << o.result.detail;
  EXPECT_EQ(o.instructions, 8'099'404u);
  EXPECT_EQ(o.result.virtual_time, 39'812'758u);
  EXPECT_EQ(o.exit_count(ExitReason::Cpuid), 3u);
  EXPECT_EQ(o.exit_count(ExitReason::CrAccess), 108u);  // 106 CR3 loads, the PG and PSE writes
  EXPECT_EQ(o.exit_count(ExitReason::Invlpg), 36u);
  EXPECT_EQ(o.exit_count(ExitReason::Io), 7'759u);
  EXPECT_EQ(o.exit_count(ExitReason::Hlt), 1u);
  EXPECT_EQ(o.exit_count(ExitReason::GuestException), 36u);  // demand-paging #PF, reflected
  EXPECT_EQ(o.exit_count(ExitReason::HiddenPageFault), 1'587u);
  EXPECT_EQ(o.exit_count(ExitReason::PageTableWrite), 32u);
  EXPECT_EQ(o.exit_count(ExitReason::ExternalInterrupt), 98u);
  EXPECT_EQ(o.exit_count(ExitReason::InterruptWindow), 14u);
  EXPECT_EQ(o.exit_total, 9'674u);
  EXPECT_EQ(o.exit_cycles, 31'713'200u);
  EXPECT_EQ(o.counters.at("vmx_exit_0"), 1'655u);  // 1587 + 32 + 36: every #PF exit
  EXPECT_EQ(o.counters.at("vmx_exit_14"), 36u);
  EXPECT_EQ(o.counters.at("vmx_exit_28"), 108u);
  EXPECT_EQ(o.counters.count("ept_walks"), 0u);
}

// The guest's own long mode under EPT: 4-level over 4-level, 24 references.
TEST(HwSim, MiniOs64PrintsTheNativeTranscript) {
  BootOutcome o = boot_hw("minios64.elf", "nested");
  EXPECT_EQ(o.serial, read_text_file(sample_source("minios64/expected.txt")));
  ASSERT_EQ(o.result.reason, StopReason::GuestExit) << o.result.detail;
  EXPECT_EQ(o.result.guest_status, 67u);
  EXPECT_EQ(o.instructions, 17'302'548u);
  EXPECT_EQ(o.exit_count(ExitReason::MsrRead), 7u);   // EFER, STAR...: not passed through
  EXPECT_EQ(o.exit_count(ExitReason::MsrWrite), 5u);
  EXPECT_EQ(o.exit_count(ExitReason::CrAccess), 2u);  // CR4.PAE, CR0.PG
  EXPECT_EQ(o.exit_total, 6'532u);
  EXPECT_EQ(o.counters.at("ept_max_references_per_walk"), 24u);
  EXPECT_EQ(o.counters.at("ept_walks"), 2'097u);
  EXPECT_EQ(o.counters.at("ept_2d_references"), 49'823u);
}

TEST(HwSim, LongModeUnderShadowPagingStopsInOneLine) {
  BootOutcome o = boot_hw("minios64.elf", "shadow");
  EXPECT_EQ(o.result.reason, StopReason::Unsupported);
  EXPECT_EQ(o.result.detail,
            "hw-sim: shadow paging models 32-bit paging only, and the guest turned on PAE or long-mode paging "
            "(use --hw-paging nested)");
}

// Bare metal's answers everywhere: the holes sample prints what it prints natively.
TEST(HwSim, HolesSampleFindsNoHoles) {
  BootOutcome o = boot_hw("holes.elf", "nested");
  EXPECT_EQ(o.serial, read_text_file(sample_source("holes/expected.txt")));
  EXPECT_TRUE(o.holes.empty());
  EXPECT_EQ(o.exit_count(ExitReason::PrivilegedInsn), 0u);
}

// samples/exitdemo does each sensitive thing 10 times; each control
// changes exactly its own line of the table (docs/HARDWARE_ASSISTED.md).
// Default: CPUID, RDMSR EFER and MOV from DR7 10 times each, OUT and IN
// on port 0x80 20, and the UART's 190 for the closing line.
TEST(HwSim, ExitDemoShowsWhatEachControlChanges) {
  struct Row {
    std::string setting;
    uint64_t total;
    unsigned vmx;     // the VMX exit reason the setting moves
    uint64_t count;   // how many of it then
  };
  const std::vector<Row> rows = {
      {"", 240, 30, 210},
      {"rdtsc_exiting=1", 250, 16, 10},
      {"descriptor_table_exiting=1", 270, 46, 20},  // SGDT, SIDT; STR is 47
      {"mov_dr_exiting=0", 230, 29, 0},
      {"io_bitmap.0x80=0", 220, 30, 190},
      {"msr_bitmap.write.0x175=1", 250, 32, 10},
      {"use_msr_bitmaps=0", 250, 32, 10},
      {"cr3_load_exiting=1", 250, 28, 10},
      {"invlpg_exiting=1", 250, 14, 10},
      {"hlt_exiting=0", 240, 12, 0},
  };
  for (const Row& r : rows) {
    std::vector<std::string> sets;
    if (!r.setting.empty()) sets.push_back(r.setting);
    BootOutcome o = boot_hw("exitdemo.elf", "nested", sets);
    EXPECT_EQ(o.serial, read_text_file(sample_source("exitdemo/expected.txt"))) << r.setting;
    EXPECT_EQ(o.result.guest_status, 1u) << r.setting;
    EXPECT_EQ(o.exit_total, r.total) << r.setting;
    const auto it = o.counters.find("vmx_exit_" + std::to_string(r.vmx));
    EXPECT_EQ(it == o.counters.end() ? 0 : it->second, r.count) << r.setting;
    EXPECT_EQ(o.exit_count(ExitReason::Cpuid), 10u) << r.setting;  // CPUID always exits
  }
  // Shadow paging adds the CR3 loads and INVLPGs it must see.
  BootOutcome shadow = boot_hw("exitdemo.elf", "shadow");
  EXPECT_EQ(shadow.exit_total, 270u);
  EXPECT_EQ(shadow.exit_count(ExitReason::CrAccess), 20u);  // 10 CR3 loads, 10 CR3 reads
  EXPECT_EQ(shadow.exit_count(ExitReason::Invlpg), 10u);
}

TEST(HwSimCli, ControlsComeFromAFileAndFlagsAndShowInStats) {
  const std::string file = testing::TempDir() + "hw_sim_controls.txt";
  std::ofstream(file) << "# no COM1 exits\nio_bitmap.0x3f8-0x3ff = 0\n";
  const CommandResult r = run_command(kCli + " run --mode hw --vmcs " + file +
                                      " --vmcs-set hlt_exiting=0 --serial none --stats - " + sample_binary("hello.elf"));
  std::remove(file.c_str());
  ASSERT_EQ(r.status, 1) << r.err;  // hello exits with isa-debug-exit code 0
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["mode"], "hw");
  EXPECT_EQ(j["monitor"], "hw-sim");
  EXPECT_EQ(j["hw"]["paging"], "nested");
  EXPECT_EQ(j["hw"]["vmcs"]["primary"]["hlt_exiting"], false);
  EXPECT_EQ(j["hw"]["vmcs"]["io_bitmap_exiting_ports"], nlohmann::json::parse(R"(["0x0-0x3f7", "0x400-0xffff"])"));
  EXPECT_EQ(j["exits"]["total"], 1);  // the isa-debug-exit write only
  EXPECT_EQ(j["hw"]["vmx_exits"]["30"]["name"], "I/O instruction");

  const CommandResult bad = run_command(kCli + " run --mode hw --vmcs-set warp=1 " + sample_binary("hello.elf"));
  EXPECT_EQ(bad.status, 2);
  EXPECT_EQ(bad.err, "vtlab: -m: --vmcs-set: unknown VMCS control \"warp\" (see docs/HARDWARE_ASSISTED.md)\n");
}

TEST(HwSimCli, CompareShowsHwBesideTheSoftwareMethods) {
  const CommandResult r = run_command(kCli + " compare --modes hw --format json " + sample_binary("hello.elf"));
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["modes"].size(), 2u);
  EXPECT_EQ(j["modes"][1]["mode"], "hw");
  EXPECT_EQ(j["modes"][1]["transcript_matches_native"], true);
  EXPECT_EQ(j["modes"][1]["exits"]["by_reason"]["io"]["count"], 56);  // the UART, polled, and isa-debug-exit
}

// hw-sim and hw-kvm put both backends in one table; KVM's column only where
// this host's /dev/kvm can run the guest (`vtlab info` says so).
TEST(HwSimCli, CompareShowsSimAndKvmSideBySide) {
  const bool kvm = run_command(kCli + " info").status == 0;
  const std::string modes = kvm ? "hw-sim,hw-kvm" : "hw-sim";
  const CommandResult r = run_command(kCli + " compare --modes " + modes + " --format json " + sample_binary("hello.elf"));
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["modes"].size(), kvm ? 3u : 2u);
  EXPECT_EQ(j["modes"][1]["mode"], "hw-sim");
  EXPECT_EQ(j["modes"][1]["exits"]["by_reason"]["io"]["count"], 56);
  if (!kvm) GTEST_SKIP() << "this host's /dev/kvm cannot run the guest: only hw-sim compared";
  EXPECT_EQ(j["modes"][2]["mode"], "hw-kvm");
  EXPECT_EQ(j["modes"][2]["transcript_matches_native"], true);
  // The same port writes reach the same devices under KVM.
  EXPECT_EQ(j["modes"][2]["exits"]["by_reason"]["io"]["keys"]["0x3f8"],
            j["modes"][1]["exits"]["by_reason"]["io"]["keys"]["0x3f8"]);
}

}  // namespace vtlab::test
