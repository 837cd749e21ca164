// samples/bench, the guests bench/run measures (docs/PERFORMANCE.md): each
// workload prints QEMU's line (samples/bench/expected.txt, rounds=2) on
// COM1 and the same bytes on port 0xE9 (Bochs's console), retires exactly
// the instructions it did when the counts were recorded, the same number
// in each round and in every mode (the runner divides by these counts, so
// a change in them is a change in what is measured), and bench.img is laid out as bootsect.S expects.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <sstream>

#include "support/boot.h"

namespace vtlab::test {

namespace {

struct Workload {
  const char* name;
  uint64_t per_round;          // what bench/run divides host time by
  uint64_t instructions_at_2;  // rounds=2, boot and exit included, with boot_kernel's command
                              // line (vtlab run's also names the kernel: longer to scan)
};

const Workload kWorkloads[] = {
    {"int", 5'557'087, 11'124'656},
    {"syscall", 22'081, 53'829},
    {"pagefault", 4'363, 18'995},
};

BootOutcome run(const char* image, const std::string& workload, unsigned rounds, const std::string& mode) {
  return boot_kernel(sample_binary(image), "w=" + workload + " rounds=" + std::to_string(rounds), 50'000'000,
                     128ull << 20, mode);
}

std::string expected_line(const std::string& workload) {
  std::istringstream in(read_text_file(sample_source("bench/expected.txt")));
  for (std::string line; std::getline(in, line);)
    if (line.rfind("bench " + workload + " ", 0) == 0) return line + "\n";
  return "(no line for " + workload + ")";
}

std::string read_binary_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

uint32_t le32(const std::string& bytes, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(bytes.at(at + i))) << (8 * i);
  return v;
}

}  // namespace

TEST(BenchGuests, NativePrintsQemusLinesOnCom1AndPortE9) {
  for (const Workload& w : kWorkloads) {
    SCOPED_TRACE(w.name);
    const BootOutcome o = run("bench.elf", w.name, 2, "native");
    ASSERT_EQ(o.result.reason, StopReason::GuestExit) << o.result.detail;
    EXPECT_EQ(o.result.guest_status, 1u);
    EXPECT_EQ(o.serial, expected_line(w.name));
    EXPECT_EQ(o.debugcon, o.serial);
    EXPECT_EQ(o.instructions, w.instructions_at_2);
  }
}

// The runner's premise: a run retires a + b*N instructions (N of the same
// number of digits), so N and 2N rounds differ by exactly b*N.
TEST(BenchGuests, EveryRoundRetiresTheSameInstructions) {
  for (const Workload& w : kWorkloads) {
    SCOPED_TRACE(w.name);
    const uint64_t one = run("bench.elf", w.name, 1, "native").instructions;
    const uint64_t two = run("bench.elf", w.name, 2, "native").instructions;
    const uint64_t four = run("bench.elf", w.name, 4, "native").instructions;
    EXPECT_EQ(two - one, w.per_round);
    EXPECT_EQ(four - two, 2 * w.per_round);
  }
}

TEST(BenchGuests, EveryModeRetiresNativesInstructions) {
  for (const Workload& w : kWorkloads) {
    const BootOutcome native = run("bench.elf", w.name, 1, "native");
    for (const std::string mode : {"trap", "bt", "hw"}) {
      SCOPED_TRACE(std::string(w.name) + " " + mode);
      const BootOutcome o = run("bench.elf", w.name, 1, mode);
      ASSERT_EQ(o.result.reason, StopReason::GuestExit) << o.result.detail;
      EXPECT_EQ(o.serial, native.serial);
      EXPECT_EQ(o.instructions, native.instructions);
    }
  }
}

TEST(BenchGuests, PvFlavourPrintsTheSameLines) {
  for (const Workload& w : kWorkloads) {
    SCOPED_TRACE(w.name);
    const BootOutcome o = run("bench-pv.elf", w.name, 2, "pv");
    ASSERT_EQ(o.result.reason, StopReason::GuestExit) << o.result.detail;
    EXPECT_EQ(o.result.guest_status, 1u);
    EXPECT_EQ(o.serial, expected_line(w.name));
  }
}

TEST(BenchGuests, AnUnknownWorkloadListsTheNames) {
  const BootOutcome o = boot_kernel(sample_binary("bench.elf"), "w=nope");
  EXPECT_EQ(o.result.guest_status, 5u);  // kmain returned 2
  EXPECT_EQ(o.serial, "bench: w=NAME rounds=N, NAME one of: int syscall pagefault\n");
}

// Sector 0 the boot sector with bench.elf's entry point at offset 504,
// sector 1 the default command line, sector 2 on the kernel's first bytes
// (its multiboot header, which link.ld puts first at 1 MiB).
TEST(BenchGuests, FloppyImageIsLaidOutForTheBootSector) {
  const std::string img = read_binary_file(sample_binary("bench.img"));
  const std::string elf = read_binary_file(sample_binary("bench.elf"));
  ASSERT_EQ(img.size(), 1'474'560u);
  ASSERT_GE(elf.size(), 28u);
  EXPECT_EQ(static_cast<uint8_t>(img[510]), 0x55);
  EXPECT_EQ(static_cast<uint8_t>(img[511]), 0xAA);
  EXPECT_EQ(le32(img, 504), le32(elf, 24));
  EXPECT_EQ(img.substr(512, 16), std::string("w=int rounds=1\0\0", 16));
  EXPECT_EQ(le32(img, 1024), 0x1BADB002u);
}

}  // namespace vtlab::test
