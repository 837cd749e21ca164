// The Linux boot-protocol loader: bzImages are built in memory with the
// header fields boot.rst defines, loaded into a machine, and the zero page,
// command line, initrd, GDT, page tables and entry state are checked byte by
// byte; then a tiny "kernel" that prints its command line runs through the
// CLI, found by its header.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <fstream>

#include "core/loader/linux.h"
#include "core/loader/load_error.h"
#include "support/boot.h"

namespace vtlab::test {
namespace {

using namespace linux_boot;

// A bzImage: 2 setup sectors + the boot sector, then `payload` as the
// protected-mode kernel.
struct BzImage {
  uint16_t protocol = 0x020F;
  uint8_t setup_sects = 2;
  uint8_t loadflags = kLoadedHigh;
  uint16_t xloadflags = 0;
  uint32_t cmdline_size = 2047;
  uint32_t init_size = 0x200000;
  uint64_t pref_address = 0x100000;
  uint32_t initrd_addr_max = 0x7FFFFFFF;
  std::vector<uint8_t> payload = std::vector<uint8_t>(0x1000, 0x90);

  std::vector<uint8_t> build() const {
    std::vector<uint8_t> f((setup_sects + 1) * 512, 0);
    const auto put = [&](size_t off, auto v) { std::memcpy(f.data() + off, &v, sizeof v); };
    f[kSetupSects] = setup_sects;
    put(kBootFlag, uint16_t{0xAA55});
    f[kJump] = 0xEB;
    f[kJump + 1] = 0x66;  // the header ends at 0x268
    std::memcpy(f.data() + kHeader, "HdrS", 4);
    put(kVersion, protocol);
    put(kKernelVersion, uint16_t{0x300});  // -> file offset 0x500
    std::memcpy(f.data() + 0x500, "6.1.0-test (vtlab) #1", 22);
    f[kLoadFlags] = loadflags;
    put(kCode32Start, uint32_t{0x100000});
    put(kInitrdAddrMax, initrd_addr_max);
    put(size_t{0x230}, uint32_t{0x200000});  // kernel_alignment
    f[0x234] = 1;                            // relocatable
    put(kXLoadFlags, xloadflags);
    put(kCmdlineSize, cmdline_size);
    put(size_t{0x258}, pref_address);
    put(kInitSize, init_size);
    f.insert(f.end(), payload.begin(), payload.end());
    return f;
  }
};

class BzImageLoaderTest : public ::testing::Test {
 protected:
  PhysicalMemory mem{64ull << 20};
  CpuState cpu;

  LinuxBootInfo load(const BzImage& k, LinuxBootOptions o = {}) { return load_linux(k.build(), "bzImage", o, mem, cpu); }
  template <typename T> T at(uint64_t addr) {
    T v{};
    mem.read_bytes(addr, &v, sizeof v);
    return v;
  }
  std::string refusal(const BzImage& k, LinuxBootOptions o = {}) {
    try {
      load(k, std::move(o));
    } catch (const LoadError& e) {
      return e.what();
    }
    return "(loaded)";
  }
};

TEST_F(BzImageLoaderTest, ZeroPageCommandLineAndKernel) {
  BzImage k;
  k.payload = {0xDE, 0xAD, 0xBE, 0xEF};
  LinuxBootOptions o;
  o.cmdline = "console=ttyS0 quiet";
  const LinuxBootInfo b = load(k, o);
  EXPECT_EQ(b.protocol, 0x020F);
  EXPECT_FALSE(b.entry64);
  EXPECT_EQ(b.version, "6.1.0-test (vtlab) #1");
  EXPECT_EQ(at<uint32_t>(0x100000), 0xEFBEADDEu);  // the protected-mode kernel, at 1 MiB
  // The header copied from the file, then the loader's fields.
  EXPECT_EQ(at<uint32_t>(kBootParamsAddr + kHeader), 0x53726448u);
  EXPECT_EQ(at<uint16_t>(kBootParamsAddr + kVersion), 0x020F);
  EXPECT_EQ(at<uint32_t>(kBootParamsAddr + kInitSize), 0x200000u);
  EXPECT_EQ(at<uint8_t>(kBootParamsAddr + kTypeOfLoader), 0xFF);
  EXPECT_EQ(at<uint32_t>(kBootParamsAddr + kCmdLinePtr), kCmdlineAddr);
  EXPECT_EQ(at<uint32_t>(kBootParamsAddr + kRamdiskImage), 0u);
  EXPECT_EQ(at<uint32_t>(kBootParamsAddr + kAltMemK), (63u << 20) >> 10);
  EXPECT_EQ(at<uint8_t>(kBootParamsAddr + kSentinel), 0);
  std::array<char, 21> cmd{};
  mem.read_bytes(kCmdlineAddr, cmd.data(), cmd.size());
  EXPECT_STREQ(cmd.data(), "console=ttyS0 quiet");
  // Nothing past the header's end (0x268) comes from the file.
  EXPECT_EQ(at<uint64_t>(kBootParamsAddr + 0x268), 0u);
}

TEST_F(BzImageLoaderTest, E820Map) {
  load(BzImage{});
  ASSERT_EQ(at<uint8_t>(kBootParamsAddr + kE820Entries), 4);
  const uint64_t expect[4][3] = {
      {0, 0x9FC00, 1}, {0x9FC00, 0x400, 2}, {0xE0000, 0x20000, 2}, {0x100000, (64ull << 20) - 0x100000, 1}};
  for (int i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    const uint64_t e = kBootParamsAddr + kE820Table + 20 * i;
    EXPECT_EQ(at<uint64_t>(e), expect[i][0]);
    EXPECT_EQ(at<uint64_t>(e + 8), expect[i][1]);
    EXPECT_EQ(at<uint32_t>(e + 16), expect[i][2]);
  }
}

TEST_F(BzImageLoaderTest, InitrdAtTheTopOfRamBelowItsLimit) {
  LinuxBootOptions o;
  o.initrd = std::vector<uint8_t>(0x1800, 0xA5);
  const LinuxBootInfo b = load(BzImage{}, o);
  EXPECT_EQ(b.initrd_addr, (64ull << 20) - 0x2000);  // page-aligned down
  EXPECT_EQ(at<uint32_t>(kBootParamsAddr + kRamdiskImage), (64u << 20) - 0x2000);
  EXPECT_EQ(at<uint32_t>(kBootParamsAddr + kRamdiskSize), 0x1800u);
  EXPECT_EQ(at<uint8_t>(b.initrd_addr + 0x17FF), 0xA5);

  BzImage low;
  low.initrd_addr_max = 0x01FFFFFF;  // below 32 MiB
  EXPECT_EQ(load(low, o).initrd_addr, 0x2000000u - 0x2000);
}

TEST_F(BzImageLoaderTest, ThirtyTwoBitEntryState) {
  load(BzImage{});
  EXPECT_EQ(cpu.rip, 0x100000u);
  EXPECT_EQ(cpu.gpr[RSI], kBootParamsAddr);
  EXPECT_EQ(cpu.gpr[RBX] | cpu.gpr[RBP] | cpu.gpr[RDI], 0u);
  EXPECT_TRUE(cpu.protected_mode());
  EXPECT_FALSE(cpu.paging());
  EXPECT_FALSE(cpu.flags.test(flag::IF));
  EXPECT_EQ(cpu.code_size(), 4u);
  EXPECT_EQ(cpu.seg[CS].selector, kBootCs);
  for (int s : {DS, ES, SS}) EXPECT_EQ(cpu.seg[s].selector, kBootDs);
  EXPECT_EQ(cpu.gdtr.base, kGdtAddr);
  EXPECT_EQ(cpu.gdtr.limit, 31u);
  EXPECT_EQ(at<uint64_t>(kGdtAddr + kBootCs), 0x00CF9B000000FFFFull);
  EXPECT_EQ(at<uint64_t>(kGdtAddr + kBootDs), 0x00CF93000000FFFFull);
}

TEST_F(BzImageLoaderTest, SixtyFourBitEntryIdentityMapsFourGiB) {
  BzImage k;
  k.xloadflags = kXlfKernel64;
  const LinuxBootInfo b = load(k);
  EXPECT_TRUE(b.kernel64);
  EXPECT_TRUE(b.entry64);
  EXPECT_EQ(cpu.rip, 0x100200u);
  EXPECT_EQ(cpu.code_size(), 8u);
  EXPECT_TRUE(cpu.long_mode_active());
  EXPECT_TRUE(cpu.cr4 & cr4::PAE);
  EXPECT_EQ(cpu.cr3, kPageTablesAddr);
  EXPECT_EQ(at<uint64_t>(kGdtAddr + kBootCs), 0x00AF9B000000FFFFull);
  EXPECT_EQ(at<uint64_t>(kPageTablesAddr), kPageTablesAddr + 0x1003);
  EXPECT_EQ(at<uint64_t>(kPageTablesAddr + 0x1000 + 3 * 8), kPageTablesAddr + 0x5003);  // PDPT[3]
  EXPECT_EQ(at<uint64_t>(kPageTablesAddr + 0x5000 + 511 * 8), 0xFFE00083ull);           // the last 2 MiB page
  // And the 32-bit entry on request.
  LinuxBootOptions o;
  o.entry = LinuxEntry::Entry32;
  load(k, o);
  EXPECT_EQ(cpu.rip, 0x100000u);
  EXPECT_FALSE(cpu.long_mode_active());
}

TEST_F(BzImageLoaderTest, RefusalsNameTheReason) {
  EXPECT_EQ(refusal(BzImage{}), "(loaded)");
  std::vector<uint8_t> junk(0x1000, 0);
  try {
    load_linux(junk, "k", {}, mem, cpu);
    ADD_FAILURE();
  } catch (const LoadError& e) {
    EXPECT_STREQ(e.what(), "k: not a Linux kernel (no \"HdrS\" boot-protocol header at offset 0x202)");
  }
  // A header cut short after "HdrS": refused before any field past it is read.
  std::vector<uint8_t> cut = BzImage{}.build();
  cut.resize(0x208);
  try {
    load_linux(cut, "k", {}, mem, cpu);
    ADD_FAILURE();
  } catch (const LoadError& e) {
    EXPECT_STREQ(e.what(), "k: truncated: the setup code ends at 0x600 but the file is 0x208 bytes");
  }
  BzImage old;
  old.protocol = 0x0205;
  EXPECT_EQ(refusal(old), "bzImage: boot protocol 2.05 is too old: vtlab needs 2.06 or later (Linux 2.6.22+)");
  BzImage zimage;
  zimage.loadflags = 0;
  EXPECT_EQ(refusal(zimage), "bzImage: a zImage (loaded low, below 1 MiB) is not supported: use a bzImage");
  LinuxBootOptions longline;
  longline.cmdline = std::string(2048, 'x');
  EXPECT_EQ(refusal(BzImage{}, longline), "bzImage: the command line is 2048 bytes; this kernel takes at most 2047");
  BzImage big;
  big.pref_address = 0x1000000;
  big.init_size = 0x3F97000;  // Debian's x86_64 kernel
  EXPECT_EQ(refusal(big),
            "bzImage: needs 80 MiB of RAM to decompress and run (init_size 0x3f97000 from 0x1000000); the machine "
            "has 64 MiB: give more with -m");
  LinuxBootOptions fat;
  fat.initrd = std::vector<uint8_t>(63 << 20, 0);
  EXPECT_EQ(refusal(BzImage{}, fat),
            "bzImage: the initrd (64512 KiB) does not fit between the kernel's area (up to 0x300000) and 0x4000000: "
            "give more RAM with -m");
  LinuxBootOptions want64;
  want64.entry = LinuxEntry::Entry64;
  EXPECT_EQ(refusal(BzImage{}, want64),
            "bzImage: no 64-bit entry (xloadflags bit 0 clear: not an x86_64 kernel, or boot protocol before 2.12)");
}

// A 32-bit "kernel" that prints the command line boot_params points at on
// COM1 and leaves through isa-debug-exit: the CLI recognises the bzImage by
// its header and boots it through the protocol.
TEST(BzImageCli, KernelFoundByItsHeaderPrintsItsCommandLine) {
  BzImage k;
  k.payload = {
      0x8B, 0xB6, 0x28, 0x02, 0x00, 0x00,  // mov esi, [esi + 0x228]   cmd_line_ptr
      0x66, 0xBA, 0xF8, 0x03,              // mov dx, 0x3F8
      0xAC,                                // lodsb
      0x84, 0xC0,                          // test al, al
      0x74, 0x03,                          // jz done
      0xEE,                                // out dx, al
      0xEB, 0xF8,                          // jmp lodsb
      0x66, 0xBA, 0xF4, 0x00,              // done: mov dx, 0xF4
      0xB0, 0x00,                          // mov al, 0
      0xEE,                                // out dx, al  -> exit status (0 << 1) | 1
      0xF4,                                // hlt
  };
  const std::string path = ::testing::TempDir() + "/vtlab-bzimage";
  const std::vector<uint8_t> file = k.build();
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(file.data()), file.size());
  const std::string cli = VTLAB_CLI;
  CommandResult r = run_command(cli + " run " + path + " --append 'console=ttyS0 hello'");
  EXPECT_EQ(r.out, "console=ttyS0 hello");
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.status, 1);
  r = run_command(cli + " run --kernel-linux " + path + " -m 1M");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("needs 3 MiB of RAM"), std::string::npos) << r.err;
  r = run_command(cli + " run --initrd " + path + " " + std::string(VTLAB_SAMPLES_DIR) + "/hello.elf");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "vtlab: --initrd: an initrd goes with a Linux kernel (a bzImage as KERNEL or --kernel-linux)\n");
  r = run_command(cli + " run --flat 0x100000 --kernel-linux " + path);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "vtlab: --flat: a Linux kernel is loaded by the boot protocol, not as a flat binary\n");
}

}  // namespace
}  // namespace vtlab::test
