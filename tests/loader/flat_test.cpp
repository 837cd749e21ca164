// Flat binary loader and read_file.
#include "core/loader/flat.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "core/loader/file.h"
#include "core/loader/load_error.h"

namespace vtlab {
namespace {

constexpr uint64_t kRam = 16ull << 20;

std::string error_of(auto&& f) {
  try {
    f();
  } catch (const LoadError& e) {
    return e.what();
  }
  return "";
}

class FlatTest : public ::testing::Test {
 protected:
  void SetUp() override { reset_cpu_state(cpu); }
  PhysicalMemory mem{kRam};
  CpuState cpu;
};

TEST_F(FlatTest, CopiesToAddressAndStartsThereInFlat32BitMode) {
  std::vector<uint8_t> code{0xB8, 0x01, 0x00, 0x00, 0x00, 0xF4};  // mov eax, 1; hlt
  BootInfo b = load_flat(code, 0x7C00, mem, cpu);
  EXPECT_EQ(b.entry, 0x7C00u);
  EXPECT_EQ(b.info_addr, 0u);
  EXPECT_EQ(b.image_start, 0x7C00u);
  EXPECT_EQ(b.image_end, 0x7C06u);
  EXPECT_EQ(b.format, "flat");

  std::vector<uint8_t> got(code.size());
  ASSERT_TRUE(mem.read_bytes(0x7C00, got.data(), got.size()));
  EXPECT_EQ(got, code);

  EXPECT_EQ(cpu.rip, 0x7C00u);
  EXPECT_TRUE(cpu.protected_mode());
  EXPECT_FALSE(cpu.paging());
  EXPECT_FALSE(cpu.flags.test(flag::IF));
  EXPECT_EQ(cpu.code_size(), 4u);
  for (int s = 0; s < kNumSegRegs; ++s) {
    EXPECT_EQ(cpu.seg[s].base, 0u) << s;
    EXPECT_EQ(cpu.seg[s].limit, 0xFFFFFFFFu) << s;
  }
}

TEST_F(FlatTest, FitsExactlyAtTheEndOfRam) {
  std::vector<uint8_t> code(0x1000, 0x90);
  EXPECT_EQ(load_flat(code, kRam - 0x1000, mem, cpu).image_end, kRam);
}

TEST_F(FlatTest, RefusesImageRunningPastRam) {
  std::vector<uint8_t> code(0x1001, 0x90);
  std::string err = error_of([&] { load_flat(code, kRam - 0x1000, mem, cpu, "boot.bin"); });
  EXPECT_EQ(err, "boot.bin: 0x1001 bytes at 0xfff000 (up to 0x1000001) do not fit in guest RAM [0, 0x1000000)");
  uint8_t b = 0xFF;
  ASSERT_TRUE(mem.read_bytes(kRam - 0x1000, &b, 1));
  EXPECT_EQ(b, 0u);  // nothing written
  EXPECT_FALSE(cpu.protected_mode());
}

TEST_F(FlatTest, RefusesAddressBeyondRamAndAbove4GiB) {
  std::vector<uint8_t> code(16, 0x90);
  EXPECT_NE(error_of([&] { load_flat(code, 64ull << 20, mem, cpu); }).find("do not fit in guest RAM"),
            std::string::npos);
  EXPECT_NE(error_of([&] { load_flat(code, 0xFFFFFFFFFFFFFFF8ull, mem, cpu); }).find("flat binary: "),
            std::string::npos);
}

TEST_F(FlatTest, RefusesEmptyImage) {
  EXPECT_EQ(error_of([&] { load_flat({}, 0x1000, mem, cpu); }), "flat binary: empty image");
}

// ---- read_file ---------------------------------------------------------------

class ReadFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vtlab_read_file_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir = tmpl;
  }
  void TearDown() override {
    for (const std::string& f : files) std::remove(f.c_str());
    rmdir(dir.c_str());
  }
  std::string write(const std::string& name, const std::string& content) {
    std::string p = dir + "/" + name;
    std::ofstream(p, std::ios::binary) << content;
    files.push_back(p);
    return p;
  }
  std::string dir;
  std::vector<std::string> files;
};

TEST_F(ReadFileTest, ReadsWholeFile) {
  std::string content("\x7f" "ELF\0\x01\x02", 7);
  std::vector<uint8_t> got = read_file(write("k.bin", content));
  EXPECT_EQ(std::string(got.begin(), got.end()), content);
}

TEST_F(ReadFileTest, MissingFile) {
  std::string p = dir + "/nope.elf";
  EXPECT_EQ(error_of([&] { read_file(p); }), p + ": cannot open: No such file or directory");
}

TEST_F(ReadFileTest, EmptyFile) {
  std::string p = write("empty.bin", "");
  EXPECT_EQ(error_of([&] { read_file(p); }), p + ": empty file");
}

TEST_F(ReadFileTest, Directory) { EXPECT_EQ(error_of([&] { read_file(dir); }), dir + ": is a directory"); }

}  // namespace
}  // namespace vtlab
