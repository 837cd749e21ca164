// Exit statistics (tools/vtlab/stats.h): exitdemo under hw with COM1's
// ports passed through takes 51 exits whose every figure is exact, in
// --stats-format csv and in --stats' "exit_stats"; and a VM entry on a bad
// guest-state field fails before the first instruction, saying which check.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>

#include "support/boot.h"

namespace vtlab::test {

namespace {
const std::string kCli = VTLAB_CLI;
const std::string kExitDemo = " --mode hw --serial none --vmcs-set io_bitmap.0x3f8-0x3ff=0 " + sample_binary("exitdemo.elf");
}  // namespace

TEST(ExitStats, CsvIsOneRowPerReasonKeyAndRip) {
  const CommandResult r = run_command(kCli + " run --stats - --stats-format csv" + kExitDemo);
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_EQ(r.out,
            "mode,reason,key,count,share,total_cost,min_cost,mean_cost,max_cost,gap_log2\n"
            "hw,*,*,51,1.000000,148300,2300,2907.84,3300,11:49;12:1\n"
            "hw,privileged-insn,*,10,0.196078,33000,3300,3300.00,3300,13:9\n"
            "hw,privileged-insn,mov,10,0.196078,33000,3300,3300.00,3300,13:9\n"
            "hw,privileged-insn,rip:0x100850,10,0.196078,33000,3300,3300.00,3300,13:9\n"
            "hw,io,*,21,0.411765,69300,3300,3300.00,3300,11:10;13:10\n"
            "hw,io,0x80,20,0.392157,66000,3300,3300.00,3300,11:10;13:9\n"
            "hw,io,0xf4,1,0.019608,3300,3300,3300.00,3300,\n"
            "hw,io,rip:0x1002c4,1,0.019608,3300,3300,3300.00,3300,\n"
            "hw,io,rip:0x10082b,10,0.196078,33000,3300,3300.00,3300,13:9\n"
            "hw,io,rip:0x10082d,10,0.196078,33000,3300,3300.00,3300,13:9\n"
            "hw,cpuid,*,10,0.196078,23000,2300,2300.00,2300,13:9\n"
            "hw,cpuid,0x0,10,0.196078,23000,2300,2300.00,2300,13:9\n"
            "hw,cpuid,rip:0x100814,10,0.196078,23000,2300,2300.00,2300,13:9\n"
            "hw,msr-read,*,10,0.196078,23000,2300,2300.00,2300,13:9\n"
            "hw,msr-read,0xc0000080,10,0.196078,23000,2300,2300.00,2300,13:9\n"
            "hw,msr-read,rip:0x10081a,10,0.196078,23000,2300,2300.00,2300,13:9\n");
}

TEST(ExitStats, JsonCarriesTheSameFigures) {
  const CommandResult r = run_command(kCli + " run --stats -" + kExitDemo);
  ASSERT_EQ(r.status, 1) << r.err;
  const nlohmann::json s = nlohmann::json::parse(r.out)["exit_stats"];
  EXPECT_EQ(s["all"]["count"], 51);
  EXPECT_EQ(s["all"]["total_cost"], 148300);
  EXPECT_EQ(s["all"]["gap_log2"], nlohmann::json::parse("[[11, 49], [12, 1]]"));
  const nlohmann::json& port = s["by_reason"]["io"]["keys"]["0x80"];
  EXPECT_EQ(port["count"], 20);
  EXPECT_EQ(port["min_cost"], 3300);
  EXPECT_EQ(port["max_cost"], 3300);
  EXPECT_EQ(port["mean_cost"], 3300.0);
  EXPECT_DOUBLE_EQ(port["share"].get<double>(), 20.0 / 51.0);
  EXPECT_EQ(port["gap_log2"], nlohmann::json::parse("[[11, 10], [13, 9]]"));
  EXPECT_EQ(s["by_reason"]["cpuid"]["rips"]["0x100814"]["count"], 10);
}

TEST(ExitStats, BadStatsFormatIsRefused) {
  const CommandResult r = run_command(kCli + " run --stats - --stats-format xml" + kExitDemo);
  EXPECT_EQ(r.status, 2);
}

// The failed entry stops the run (status 8, unsupported) before any
// instruction, and is the one exit: reason 33 with the check as its cause.
TEST(ExitStats, FailedVmEntryNamesTheCheck) {
  const std::string trace = testing::TempDir() + "failed_entry.trace";
  const CommandResult r = run_command(kCli + " run --mode hw --serial none --vmcs-set guest_tr_access_rights=0x9b --trace " +
                                      trace + " " + sample_binary("hello.elf"));
  const std::string why =
      "VM entry failed with basic exit reason 33 (VM-entry failure due to invalid guest state): guest_tr_access_rights = "
      "0x9b: S (bit 4) must be 0: a system segment (SDM 27.3.1.2 Checks on Guest Segment Registers)";
  EXPECT_EQ(r.status, 8);
  EXPECT_EQ(r.err, "vtlab: unsupported: hw-sim: " + why + " (after 0 instructions, at 0008:0010000c)\n");
  const nlohmann::json line = nlohmann::json::parse(read_text_file(trace));
  std::remove(trace.c_str());
  EXPECT_EQ(line["reason"], "shutdown");
  EXPECT_EQ(line["vmx_reason"], 33);
  EXPECT_EQ(line["cause"], why);

  const CommandResult host = run_command(kCli + " run --mode hw --serial none --vmcs-set host_cs_selector=0 " +
                                         sample_binary("hello.elf"));
  EXPECT_EQ(host.status, 8);
  EXPECT_EQ(host.err,
            "vtlab: unsupported: hw-sim: VM entry failed with VM-instruction error 8 (VM entry with invalid host-state "
            "field(s)): host_cs_selector = 0x0: the selector for CS must not be 0000H (SDM 27.2.3 Checks on Host Segment "
            "and Descriptor-Table Registers) (after 0 instructions, at 0008:0010000c)\n");
}

}  // namespace vtlab::test
