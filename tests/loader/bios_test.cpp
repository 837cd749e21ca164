// Firmware images at the reset vector: the power-on register state of SDM
// vol. 3 table 9-1, the ROM mapped at the top of 4 GiB and shadowed below
// 1 MiB, writes to it dropped and counted, and refused sizes.
#include "core/loader/bios.h"

#include <gtest/gtest.h>

#include "core/loader/load_error.h"
#include "support/cpu_harness.h"

namespace vtlab::test {
namespace {

// A ROM of `size` bytes whose byte i is (i * 7) & 0xFF, with `code` at the
// reset vector (the last 16 bytes).
std::vector<uint8_t> rom(size_t size, const std::vector<uint8_t>& code = {}) {
  std::vector<uint8_t> r(size);
  for (size_t i = 0; i < size; ++i) r[i] = static_cast<uint8_t>(i * 7);
  std::copy(code.begin(), code.end(), r.end() - 16);
  return r;
}

TEST(ResetState, EveryRegisterAsSdmTable9_1) {
  CpuState s;
  s.gpr[RAX] = 0x1234;
  s.cr3 = 0x5000;
  reset_cpu_state(s);
  EXPECT_EQ(s.rip, 0xFFF0u);
  EXPECT_EQ(s.seg[CS].selector, 0xF000);
  EXPECT_EQ(s.seg[CS].base, 0xFFFF0000u);
  EXPECT_EQ(s.seg[CS].limit, 0xFFFFu);
  EXPECT_EQ(s.seg[CS].attrs, ar::kPresent | ar::kS | ar::kCode | ar::kReadable | ar::kAccessed);
  for (unsigned sr : {ES, SS, DS, FS, GS}) {
    EXPECT_EQ(s.seg[sr].selector, 0) << sr;
    EXPECT_EQ(s.seg[sr].base, 0u) << sr;
    EXPECT_EQ(s.seg[sr].limit, 0xFFFFu) << sr;
    EXPECT_EQ(s.seg[sr].attrs, ar::kPresent | ar::kS | ar::kWritable | ar::kAccessed) << sr;
  }
  EXPECT_EQ(s.gpr[RDX], 0x00000603u);  // the CPUID signature
  for (unsigned r : {RAX, RBX, RCX, RSP, RBP, RSI, RDI}) EXPECT_EQ(s.gpr[r], 0u) << r;
  EXPECT_EQ(s.flags.bits(), 0x2u);
  EXPECT_EQ(s.cr0, 0x60000010u);
  EXPECT_EQ(s.cr2, 0u);
  EXPECT_EQ(s.cr3, 0u);
  EXPECT_EQ(s.cr4, 0u);
  EXPECT_EQ(s.efer, 0u);
  EXPECT_EQ(s.gdtr.base, 0u);
  EXPECT_EQ(s.gdtr.limit, 0xFFFFu);
  EXPECT_EQ(s.idtr.base, 0u);
  EXPECT_EQ(s.idtr.limit, 0xFFFFu);
  EXPECT_EQ(s.ldtr.selector, 0);
  EXPECT_EQ(s.ldtr.limit, 0xFFFFu);
  EXPECT_EQ(s.tr.selector, 0);
  EXPECT_EQ(s.tr.limit, 0xFFFFu);
  for (unsigned i = 0; i < 4; ++i) EXPECT_EQ(s.dr[i], 0u);
  EXPECT_EQ(s.dr[6], 0xFFFF0FF0u);
  EXPECT_EQ(s.dr[7], 0x400u);
  EXPECT_EQ(s.fpu.fcw, 0x0040);
  EXPECT_EQ(s.fpu.fsw, 0);
  EXPECT_EQ(s.fpu.ftw, 0x5555);
  EXPECT_TRUE(s.real_mode());
  EXPECT_EQ(s.cpl(), 0u);
}

TEST(BiosLoader, MapsTheImageAtTheTopAndItsLast128KBelowOneMegabyte) {
  for (size_t size : {64u << 10, 128u << 10, 256u << 10}) {
    PhysicalMemory mem(16 << 20);
    CpuState s;
    const std::vector<uint8_t> image = rom(size);
    const BootInfo info = load_bios(image, mem, s, "test.rom");
    EXPECT_EQ(info.format, "bios");
    EXPECT_EQ(info.entry, 0xFFFFFFF0u);
    const uint64_t top = uint64_t{1} << 32;
    EXPECT_EQ(mem.read(top - size, 1), image[0]) << size;
    EXPECT_EQ(mem.read(top - 16, 4), image[size - 16] | image[size - 15] << 8 | image[size - 14] << 16 |
                                         uint64_t{image[size - 13]} << 24);
    const size_t shadow = std::min<size_t>(size, 128 << 10);
    EXPECT_EQ(mem.read(0x100000 - shadow, 1), image[size - shadow]) << size;
    EXPECT_EQ(mem.read(0xFFFFF, 1), image[size - 1]);
    EXPECT_EQ(mem.kind(0x100000 - shadow), PhysicalMemory::Kind::Rom);
    EXPECT_EQ(mem.kind(0x100000 - shadow - 1), PhysicalMemory::Kind::Ram);
    EXPECT_EQ(s.rip, 0xFFF0u);
    EXPECT_EQ(s.seg[CS].base, 0xFFFF0000u);
  }
}

TEST(BiosLoader, RefusesOtherSizesInOneLine) {
  PhysicalMemory mem(16 << 20);
  CpuState s;
  for (size_t size : {0u, 4096u, 65535u, 65537u, 96u << 10, 512u << 10}) {
    try {
      load_bios(std::vector<uint8_t>(size), mem, s, "bad.rom");
      ADD_FAILURE() << size << " accepted";
    } catch (const LoadError& e) {
      EXPECT_EQ(std::string(e.what()),
                "bad.rom: a ROM image must be 64, 128 or 256 KiB; this one is " + std::to_string(size) + " bytes");
    }
  }
}

// The first instruction comes from the top of 4 GiB; writes to the ROM
// (either view) are dropped and counted.
TEST(BiosLoader, TheCpuStartsAtTheResetVectorAndCannotWriteTheRom) {
  CpuHarness h(16);
  // mov ax, 0x1234 ; mov [0], ax with DS=F000 -> F0000 (the shadow) ; hlt
  const std::vector<uint8_t> code = {0xB8, 0x34, 0x12, 0xBB, 0x00, 0xF0, 0x8E, 0xDB,
                                     0xA3, 0x00, 0x00, 0xF4};
  const std::vector<uint8_t> image = rom(64 << 10, code);
  load_bios(image, h.mem, h.cpu.s);
  EXPECT_EQ(h.run(10), StopReason::Halted);
  EXPECT_EQ(h.cpu.icount, 5u);
  EXPECT_EQ(h.reg32(RAX) & 0xFFFF, 0x1234u);
  EXPECT_EQ(h.mem.read(0xF0000, 2), uint64_t{image[0]} | uint64_t{image[1]} << 8);
  EXPECT_EQ(h.mem.dropped_writes(), 2u);  // counted per byte
}

}  // namespace
}  // namespace vtlab::test
