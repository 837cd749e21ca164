// The vtlab binary as a user meets it: exit statuses, one-line errors,
// stats output.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>

#include "support/boot.h"

namespace vtlab::test {

namespace {
const std::string kCli = VTLAB_CLI;
const std::string kHello = std::string(VTLAB_SAMPLES_DIR) + "/hello.elf";

int count_lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }
}  // namespace

TEST(Cli, HelloPrintsItsLineAndExitsLikeQemu) {
  CommandResult r = run_command(kCli + " run " + kHello);
  EXPECT_EQ(r.out, "Hello from vtlab guest!\n");
  EXPECT_EQ(r.status, 1);  // debug-exit code 0 -> (0 << 1) | 1
  EXPECT_EQ(r.err, "");
}

TEST(Cli, SerialNoneAndFile) {
  CommandResult none = run_command(kCli + " run --serial none " + kHello);
  EXPECT_EQ(none.out, "");
  EXPECT_EQ(none.status, 1);
  const std::string path = ::testing::TempDir() + "/vtlab-serial.txt";
  CommandResult file = run_command(kCli + " run --serial file:" + path + " " + kHello);
  EXPECT_EQ(file.out, "");
  EXPECT_EQ(read_text_file(path), "Hello from vtlab guest!\n");
}

TEST(Cli, MissingKernelIsOneLineAndStatus2) {
  CommandResult r = run_command(kCli + " run /no/such/kernel.elf");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "vtlab: /no/such/kernel.elf: cannot open: No such file or directory\n");
}

TEST(Cli, NotAMultibootImageIsOneLineAndStatus2) {
  const std::string path = ::testing::TempDir() + "/vtlab-not-a-kernel.bin";
  std::ofstream(path) << "just some text, no multiboot header here\n";
  CommandResult r = run_command(kCli + " run " + path);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(count_lines(r.err), 1);
  EXPECT_NE(r.err.find("multiboot"), std::string::npos) << r.err;
}

TEST(Cli, BadFlagsAreStatus2) {
  EXPECT_EQ(run_command(kCli + " run --mode warp " + kHello).status, 2);
  EXPECT_EQ(run_command(kCli + " run --serial tty " + kHello).status, 2);
  EXPECT_EQ(run_command(kCli + " run -m 12Q " + kHello).status, 2);
  EXPECT_EQ(run_command(kCli + " run -m 5G " + kHello).status, 2);
  EXPECT_EQ(run_command(kCli + " run --no-such-flag " + kHello).status, 2);
  CommandResult epoch = run_command(kCli + " run --rtc-epoch 2025-02-30 " + kHello);
  EXPECT_EQ(epoch.status, 2);
  EXPECT_EQ(epoch.err, "vtlab: --rtc-epoch: not a date: 2025-02-30 (want YYYY-MM-DD[THH:MM:SS] in UTC, or @SECONDS)\n");
  EXPECT_EQ(run_command(kCli + " run --rtc-epoch 2100-01-01 " + kHello).status, 2);
  EXPECT_EQ(run_command(kCli + " run --rtc-epoch @-5 " + kHello).status, 2);
  EXPECT_EQ(run_command(kCli).status, 2);
}

TEST(Cli, MaxInsnsStopsWithStatus4AndSaysWhy) {
  CommandResult r = run_command(kCli + " run --max-insns 10 " + kHello);
  EXPECT_EQ(r.status, 4);
  EXPECT_EQ(count_lines(r.err), 1);
  EXPECT_NE(r.err.find("max-insns"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("after 10 instructions"), std::string::npos) << r.err;
}

TEST(Cli, SigintStopsCleanlyWithStatus10AndStats) {
  const std::string path = ::testing::TempDir() + "/vtlab-int-stats.json";
  const std::string cpubound = std::string(VTLAB_SAMPLES_DIR) + "/cpubound.elf";
  CommandResult r = run_command("timeout --preserve-status -s INT 0.5 " + kCli +
                                " run --append rounds=1000000 --stats " + path + " " + cpubound);
  EXPECT_EQ(r.status, 10);
  EXPECT_EQ(count_lines(r.err), 1);
  EXPECT_NE(r.err.find("interrupted"), std::string::npos) << r.err;
  nlohmann::json j = nlohmann::json::parse(read_text_file(path));
  EXPECT_EQ(j["stop"]["reason"], "interrupted");
  EXPECT_EQ(j["exit_status"], 10);
}

TEST(Cli, StatsJson) {
  const std::string path = ::testing::TempDir() + "/vtlab-stats.json";
  CommandResult r = run_command(kCli + " run --stats " + path + " " + kHello);
  ASSERT_EQ(r.status, 1);
  nlohmann::json j = nlohmann::json::parse(read_text_file(path));
  EXPECT_EQ(j["stop"]["reason"], "guest-exit");
  EXPECT_EQ(j["exit_status"], 1);
  EXPECT_EQ(j["guest_exit_status"], 1);
  EXPECT_EQ(j["mode"], "native");
  EXPECT_GT(j["instructions"].get<uint64_t>(), 0u);
  EXPECT_EQ(j["virtual_time"], j["instructions"]);
  EXPECT_TRUE(j.contains("host_seconds"));
  EXPECT_TRUE(j.contains("mips"));
  EXPECT_TRUE(j["post_codes"].is_array());
  EXPECT_EQ(j["serial_bytes"], 24);
}

TEST(Cli, StatsCountExitsAndTraceWritesThem) {
  const std::string stats = ::testing::TempDir() + "/exits.json", trace = ::testing::TempDir() + "/exits.jsonl";
  CommandResult r = run_command(kCli + " run --serial none --stats " + stats + " --trace " + trace + " " + kHello);
  EXPECT_EQ(r.status, 1);
  const std::string text = read_text_file(stats);
  EXPECT_NE(text.find("\"monitor\": \"native\""), std::string::npos);
  EXPECT_NE(text.find("\"exits\": {\n    \"by_reason\": {},\n    \"cycles\": 0,\n    \"total\": 0\n  }"),
            std::string::npos)
      << text;
  EXPECT_EQ(read_text_file(trace), "");  // native never exits
}

TEST(Cli, BadCostModelIsOneLineAndStatus2) {
  const std::string model = ::testing::TempDir() + "/costs.json";
  std::ofstream(model) << R"({"io": 5, "warp": 1})";
  CommandResult r = run_command(kCli + " run --cost-model " + model + " " + kHello);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "vtlab: --cost-model: " + model + ": unknown exit reason \"warp\" (see docs/EXITS.md)\n");
  EXPECT_EQ(run_command(kCli + " run --cost-model /nonexistent.json " + kHello).status, 2);
}

TEST(Cli, CompareJsonIsTheSameEveryRun) {
  const std::string cmd = kCli + " compare --format json --append rounds=1 " + kHello;
  CommandResult a = run_command(cmd), b = run_command(cmd);
  EXPECT_EQ(a.status, 0);
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.out.find("\"transcript_matches_native\": true"), std::string::npos) << a.out;
  EXPECT_NE(a.out.find("\"instructions\": 415"), std::string::npos) << a.out;
  EXPECT_EQ(a.err, "vtlab compare: running native...\n");
  CommandResult table = run_command(kCli + " compare " + kHello);
  EXPECT_EQ(table.status, 0);
  EXPECT_NE(table.out.find("transcript = native                yes"), std::string::npos) << table.out;
  EXPECT_EQ(run_command(kCli + " compare --modes warp " + kHello).status, 2);
  EXPECT_EQ(run_command(kCli + " compare --format xml " + kHello).status, 2);
}

TEST(Cli, BiosFlagsAreCheckedInOneLine) {
  CommandResult none = run_command(kCli + " run");
  EXPECT_EQ(none.status, 2);
  EXPECT_EQ(none.err, "vtlab: KERNEL: give a KERNEL or --bios ROM, not both or neither\n");
  EXPECT_EQ(run_command(kCli + " run --bios " + kHello + " " + kHello).status, 2);
  CommandResult size = run_command(kCli + " run --bios " + kHello);
  EXPECT_EQ(size.status, 2);
  EXPECT_NE(size.err.find(": a ROM image must be 64, 128 or 256 KiB; this one is "), std::string::npos) << size.err;
  CommandResult reboot = run_command(kCli + " run --reboot " + kHello);
  EXPECT_EQ(reboot.status, 2);
  EXPECT_EQ(reboot.err, "vtlab: --reboot: restarting needs firmware at the reset vector: use it with --bios\n");
}

TEST(Cli, VersionAndHelp) {
  CommandResult v = run_command(kCli + " --version");
  EXPECT_EQ(v.status, 0);
  EXPECT_EQ(v.out.rfind("vtlab ", 0), 0u);
  CommandResult h = run_command(kCli + " run --help");
  EXPECT_EQ(h.status, 0);
  for (const char* flag : {"--mode", "--memory", "--serial", "--max-insns", "--stats", "--append", "--flat", "--rtc-epoch",
                           "--cost-model", "--trace", "--trace-limit", "--bios", "--post", "--reboot"})
    EXPECT_NE(h.out.find(flag), std::string::npos) << flag;
}

}  // namespace vtlab::test
