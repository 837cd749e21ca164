// `vtlab run --boot-log`: every COM1 line starts with the virtual and host
// time of its first byte. The virtual stamps follow from the deterministic
// run, so they are the same every time; host stamps only have a format.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cstdio>
#include <cstring>
#include <sstream>

#include "support/boot.h"

namespace vtlab::test {

namespace {
const std::string kCli = VTLAB_CLI;
const std::string kMiniOs = sample_binary("minios.elf");
const std::string kHello = sample_binary("hello.elf");

struct StampedLine {
  uint64_t virtual_us = 0;  // the v stamp, in microseconds
  std::string text;         // the guest's line, without the stamp
};

// "[v S.UUUUUUs | h H.HHs] TEXT": the stamp re-printed from what was read
// must be the line's prefix, so only the exact format passes.
bool parse_stamp(const std::string& line, StampedLine& out) {
  unsigned long long secs = 0, host = 0;
  char micros[7] = {}, hundredths[3] = {};
  int end = 0;
  if (std::sscanf(line.c_str(), "[v %llu.%6[0-9]s | h %llu.%2[0-9]s]%n", &secs, micros, &host, hundredths, &end) != 4 ||
      end == 0)
    return false;
  const std::string prefix = fmt::format("[v {}.{}s | h {}.{}s] ", secs, micros, host, hundredths);
  if (std::strlen(micros) != 6 || std::strlen(hundredths) != 2 || line.compare(0, prefix.size(), prefix) != 0)
    return false;
  out = {secs * 1'000'000 + std::stoull(micros), line.substr(prefix.size())};
  return true;
}

// Splits --boot-log output into lines; a line without a well-formed stamp fails the test.
std::vector<StampedLine> parse(const std::string& out) {
  std::vector<StampedLine> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    StampedLine l;
    const bool ok = parse_stamp(line, l);
    EXPECT_TRUE(ok) << "no stamp: " << line;
    if (ok) lines.push_back(l);
  }
  return lines;
}
}  // namespace

TEST(BootLog, HelloLineIsStamped) {
  CommandResult r = run_command(kCli + " run --boot-log " + kHello);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "");
  const std::vector<StampedLine> lines = parse(r.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].text, "Hello from vtlab guest!");
  // hello prints within its first few thousand instructions.
  EXPECT_EQ(lines[0].virtual_us, 0u);
}

// The stamps take nothing from the transcript: stripped of them, it is the
// one the run without --boot-log prints; the virtual stamps never go back,
// end within the run's virtual time, and repeat exactly on a second run.
TEST(BootLog, MiniOsTranscriptUnchangedAndVirtualStampsDeterministic) {
  const std::string stats = ::testing::TempDir() + "/vtlab-boot-log-stats.json";
  CommandResult plain = run_command(kCli + " run " + kMiniOs);
  CommandResult a = run_command(kCli + " run --boot-log --stats " + stats + " " + kMiniOs);
  CommandResult b = run_command(kCli + " run --boot-log " + kMiniOs);
  ASSERT_EQ(a.status, 67) << a.err;
  EXPECT_EQ(b.status, 67);
  const std::vector<StampedLine> la = parse(a.out), lb = parse(b.out);
  std::string stripped;
  for (const StampedLine& l : la) stripped += l.text + "\n";
  EXPECT_EQ(stripped, plain.out);
  ASSERT_EQ(la.size(), lb.size());
  ASSERT_GT(la.size(), 10u);
  const std::string json = read_text_file(stats);
  const size_t at = json.find("\"virtual_time\": ");
  ASSERT_NE(at, std::string::npos);
  const uint64_t run_ns = std::stoull(json.substr(at + 16));
  for (size_t i = 0; i < la.size(); ++i) {
    EXPECT_EQ(la[i].virtual_us, lb[i].virtual_us) << "line " << i;
    if (i) {
      EXPECT_GE(la[i].virtual_us, la[i - 1].virtual_us) << "line " << i;
    }
  }
  EXPECT_GT(la.back().virtual_us, la.front().virtual_us);
  EXPECT_LE(la.back().virtual_us * 1000, run_ns);
}

// Stamps go where the console does: into the --serial file, not stdout.
TEST(BootLog, StampsFollowTheSerialFile) {
  const std::string path = ::testing::TempDir() + "/vtlab-boot-log.txt";
  CommandResult r = run_command(kCli + " run --boot-log --serial file:" + path + " " + kHello);
  EXPECT_EQ(r.out, "");
  const std::vector<StampedLine> lines = parse(read_text_file(path));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].text, "Hello from vtlab guest!");
}

}  // namespace vtlab::test
