// Multiboot v1 loader, successful loads: images are built in memory,
// loaded into a 128 MiB machine, and the guest-visible result is checked
// byte by byte (the boot information against qemu-system-i386 7.2).
#include "loader/multiboot_fixture.h"

namespace vtlab::test::multiboot {
namespace {

// ---- successful ELF loads ----------------------------------------------------

TEST_F(MultibootTest, ElfSegmentsCopiedAndBssZeroed) {
  ElfImage img = kernel();
  img.segments[1].memsz = 0x2800;  // bss up to 0x104800
  // Junk where the bss goes (and a bit past it): the loader must clear the bss.
  std::vector<uint8_t> junk(0x3000, 0xCC);
  ASSERT_TRUE(mem.write_bytes(0x102000, junk.data(), junk.size()));

  BootInfo b = load(img.build());
  EXPECT_EQ(b.entry, 0x10000Cu);
  EXPECT_EQ(b.format, "elf");
  EXPECT_EQ(b.image_start, 0x100000u);
  EXPECT_EQ(b.image_end, 0x104800u);
  EXPECT_EQ(b.info_addr, 0x9500u);
  EXPECT_TRUE(b.notes.empty());

  EXPECT_EQ(bytes(0x100000, img.segments[0].data.size()), img.segments[0].data);
  EXPECT_EQ(bytes(0x102000, 0x40), img.segments[1].data);
  EXPECT_EQ(bytes(0x102040, 0x2800 - 0x40), std::vector<uint8_t>(0x2800 - 0x40, 0));
  EXPECT_EQ(bytes(0x104800, 0x800), std::vector<uint8_t>(0x800, 0xCC));  // nothing written past memsz
  EXPECT_EQ(cstr(0x105000), "kernel.elf ");  // the command line, after the page-rounded image
}

TEST_F(MultibootTest, MachineStateAtEntry) {
  load(kernel().build());
  EXPECT_EQ(cpu.gpr[RAX], 0x2BADB002u);
  EXPECT_EQ(cpu.gpr[RBX], 0x9500u);
  EXPECT_EQ(cpu.rip, 0x10000Cu);
  EXPECT_TRUE(cpu.protected_mode());
  EXPECT_FALSE(cpu.paging());
  EXPECT_FALSE(cpu.flags.test(flag::IF));
  EXPECT_FALSE(cpu.flags.test(flag::VM));
  EXPECT_EQ(cpu.code_size(), 4u);
  EXPECT_EQ(cpu.cpl(), 0u);
  for (int s = 0; s < kNumSegRegs; ++s) {
    SCOPED_TRACE(s);
    EXPECT_EQ(cpu.seg[s].base, 0u);
    EXPECT_EQ(cpu.seg[s].limit, 0xFFFFFFFFu);
    EXPECT_TRUE(cpu.seg[s].present());
    EXPECT_TRUE(cpu.seg[s].big());
    EXPECT_EQ(cpu.seg[s].is_code(), s == CS);
    EXPECT_TRUE(cpu.seg[s].attrs & ar::kWritable);  // data: writable, code: readable
  }
}

// ---- boot information: what qemu-system-i386 7.2 hands a kernel --------------

struct MmapEntry {
  uint64_t base, len;
  uint32_t type;
};

// The e820 map SeaBIOS reports under QEMU, as the multiboot option ROM
// copies it to 0x9000.
std::array<MmapEntry, 6> qemu_mmap(uint64_t ram) {
  return {{{0, 0x9FC00, 1},
           {0x9FC00, 0x400, 2},
           {0xF0000, 0x10000, 2},
           {0x100000, ram - 0x100000 - 0x20000, 1},
           {ram - 0x20000, 0x20000, 2},
           {0xFFFC0000, 0x40000, 2}}};
}

void expect_mmap(PhysicalMemory& m, const std::array<MmapEntry, 6>& want) {
  for (size_t k = 0; k < want.size(); ++k) {
    SCOPED_TRACE(k);
    const uint64_t e = 0x9000 + k * 24;
    uint32_t size = 0, type = 0;
    uint64_t base = 0, len = 0;
    ASSERT_TRUE(m.read_bytes(e, &size, 4) && m.read_bytes(e + 4, &base, 8) && m.read_bytes(e + 12, &len, 8) &&
                m.read_bytes(e + 20, &type, 4));
    EXPECT_EQ(size, 20u);
    EXPECT_EQ(base, want[k].base);
    EXPECT_EQ(len, want[k].len);
    EXPECT_EQ(type, want[k].type);
  }
}

TEST_F(MultibootTest, InfoStructureByteExact) {
  // Image [0x100000, 0x105000): the command line goes at 0x105000.
  load(kernel().build(), "console=ttyS0 debug");
  const uint64_t i = 0x9500;
  EXPECT_EQ(rd32(i + 0), 0x24Fu);        // mem, boot_device, cmdline, mods, mmap, boot loader name
  EXPECT_EQ(rd32(i + 4), 639u);          // mem_lower, KiB
  EXPECT_EQ(rd32(i + 8), 129920u);       // mem_upper: 128 MiB - 1 MiB - 128 KiB, in KiB
  EXPECT_EQ(rd32(i + 12), 0x8000FFFFu);  // boot_device: drive 0x80, no partition
  EXPECT_EQ(rd32(i + 16), 0x105000u);    // cmdline
  EXPECT_EQ(cstr(0x105000), "kernel.elf console=ttyS0 debug");
  EXPECT_EQ(rd32(i + 20), 0u);         // mods_count
  EXPECT_EQ(rd32(i + 24), 0x105000u);  // mods_addr: where QEMU's (empty) module list starts
  for (uint64_t off = 28; off < 44; off += 4) EXPECT_EQ(rd32(i + off), 0u) << off;  // syms
  EXPECT_EQ(rd32(i + 44), 144u);                                                      // mmap_length
  EXPECT_EQ(rd32(i + 48), 0x9000u);                                                   // mmap_addr
  for (uint64_t off = 52; off < 64; off += 4) EXPECT_EQ(rd32(i + off), 0u) << off;  // drives, config
  // Boot loader name right after the command line's NUL.
  EXPECT_EQ(rd32(i + 64), 0x105000u + 31);
  EXPECT_EQ(bytes(0x105000 + 30, 7), (std::vector<uint8_t>{0, 'v', 't', 'l', 'a', 'b', 0}));
  for (uint64_t off = 68; off < 128; off += 4) EXPECT_EQ(rd32(i + off), 0u) << off;  // apm, vbe, fb

  expect_mmap(mem, qemu_mmap(kRam));
  EXPECT_EQ(bytes(0x9000 + 144, 0x500 - 144), std::vector<uint8_t>(0x500 - 144, 0));  // map to info
}

// The values measured under `qemu-system-i386 -kernel k.elf -m 128 -append
// "a b"` with a kernel at 1 MiB whose image (bss included) ends a little
// before 0x106000.
TEST_F(MultibootTest, MatchesQemuMeasurement) {
  ElfImage img = kernel();
  img.segments[1].memsz = 0x3ABC;  // image [0x100000, 0x105ABC)
  BootInfo b = load_multiboot(img.build(), "k.elf", "a b", mem, cpu);
  EXPECT_EQ(b.image_end, 0x105ABCu);
  EXPECT_EQ(cpu.gpr[RAX], 0x2BADB002u);
  EXPECT_EQ(cpu.gpr[RBX], 0x9500u);
  const std::array<uint32_t, 13> want{0x24F, 639, 129920, 0x8000FFFF, 0x106000, 0, 0x106000, 0, 0, 0, 0, 144,
                                      0x9000};
  for (size_t k = 0; k < want.size(); ++k) EXPECT_EQ(rd32(0x9500 + 4 * k), want[k]) << "field at " << 4 * k;
  EXPECT_EQ(cstr(0x106000), "k.elf a b");
  EXPECT_EQ(rd32(0x9500 + 64), 0x10600Au);
  EXPECT_EQ(cstr(0x10600A), "vtlab");
  expect_mmap(mem, {{{0, 0x9FC00, 1},
                     {0x9FC00, 0x400, 2},
                     {0xF0000, 0x10000, 2},
                     {0x100000, 0x7EE0000, 1},
                     {0x7FE0000, 0x20000, 2},
                     {0xFFFC0000, 0x40000, 2}}});
}

TEST_F(MultibootTest, MemoryMapWith64MiB) {
  PhysicalMemory m64(64ull << 20);
  load_multiboot(kernel().build(), "k.elf", "", m64, cpu);
  expect_mmap(m64, {{{0, 0x9FC00, 1},
                     {0x9FC00, 0x400, 2},
                     {0xF0000, 0x10000, 2},
                     {0x100000, 0x3EE0000, 1},
                     {0x3FE0000, 0x20000, 2},
                     {0xFFFC0000, 0x40000, 2}}});
  uint32_t upper = 0;
  ASSERT_TRUE(m64.read_bytes(0x9508, &upper, 4));
  EXPECT_EQ(upper, 64384u);
}

// QEMU passes "<kernel path> <append>", with the space even when -append is
// absent (qemu-system-i386 7.2: "./k.elf ").
TEST_F(MultibootTest, EmptyCmdlineIsKernelNameAndSpaceLikeQemu) {
  load(kernel().build());
  EXPECT_EQ(cstr(rd32(0x9500 + 16)), "kernel.elf ");
  EXPECT_EQ(rd32(0x9500 + 64), 0x105000u + 12);
  EXPECT_EQ(cstr(0x105000 + 12), "vtlab");
}

TEST_F(MultibootTest, MemUpperFollowsRamSize) {
  PhysicalMemory small(2ull << 20);
  load_multiboot(kernel().build(), "k", "", small, cpu);
  uint32_t upper = 0;
  ASSERT_TRUE(small.read_bytes(0x9508, &upper, 4));
  EXPECT_EQ(upper, 896u);  // 2 MiB - 1 MiB - 128 KiB
}

// The command line goes at image_start + the image size rounded up to a
// page, not at the end address rounded up (as QEMU computes it).
TEST_F(MultibootTest, CmdlineAfterPageAlignedImageSize) {
  std::vector<uint8_t> f = aout_image_at(0x200800, 0x100, 0x200A00);  // image [0x200800, 0x200A00)
  load(f, "x");
  EXPECT_EQ(rd32(0x9500 + 16), 0x201800u);
  EXPECT_EQ(rd32(0x9500 + 24), 0x201800u);
  EXPECT_EQ(cstr(0x201800), "kernel.elf x");
  EXPECT_EQ(cstr(rd32(0x9500 + 64)), "vtlab");
}

TEST_F(MultibootTest, HigherHalfEntryTranslatedToPhysical) {
  ElfImage img = kernel();
  for (Segment& s : img.segments) s.vaddr += 0xC0000000;
  img.entry = 0xC010000C;
  BootInfo b = load(img.build());
  EXPECT_EQ(b.entry, 0x10000Cu);
  EXPECT_EQ(cpu.rip, 0x10000Cu);
}

TEST_F(MultibootTest, HeaderFoundAtLastPossibleOffset) {
  ElfImage img = kernel();
  // Header as the last 12 bytes of the first 8 KiB: file offset 8180.
  std::vector<uint8_t> text(0x1000 - 12, 0x90);
  std::vector<uint8_t> h = mb_header(0x3);
  text.insert(text.end(), h.begin(), h.end());
  img.segments[0] = {0x100000, 0x100000, text, static_cast<uint32_t>(text.size())};
  img.entry = 0x100000;
  EXPECT_EQ(load(img.build()).entry, 0x100000u);
}

TEST_F(MultibootTest, VideoModeFlagAcceptedWithNote) {
  BootInfo b = load(kernel(0x7).build());
  ASSERT_EQ(b.notes.size(), 1u);
  EXPECT_TRUE(contains(b.notes[0], "video mode"));
  EXPECT_EQ(rd32(0x9500) & ((1u << 11) | (1u << 12)), 0u);
}

TEST_F(MultibootTest, OptionalHighFlagsIgnored) {
  EXPECT_EQ(load(kernel(0x3 | 0x80000000u).build()).format, "elf");
}

// ---- a.out kludge ------------------------------------------------------------


TEST_F(MultibootTest, AoutKludgeLoadsAtAddressFields) {
  std::vector<uint8_t> junk(0x1000, 0xCC);
  ASSERT_TRUE(mem.write_bytes(0x200000, junk.data(), junk.size()));
  std::vector<uint8_t> f = aout_image(kGoodAout);
  BootInfo b = load(f);
  EXPECT_EQ(b.format, "a.out-kludge");
  EXPECT_EQ(b.entry, 0x200080u);
  EXPECT_EQ(cpu.rip, 0x200080u);
  EXPECT_EQ(cpu.gpr[RAX], 0x2BADB002u);
  EXPECT_EQ(b.image_start, 0x200000u);
  EXPECT_EQ(b.image_end, 0x201000u);
  EXPECT_EQ(bytes(0x200000, f.size()), f);
  EXPECT_EQ(bytes(0x200100, 0xF00), std::vector<uint8_t>(0xF00, 0));
}

TEST_F(MultibootTest, AoutZeroLoadEndMeansWholeFileAndZeroBssMeansNone) {
  AoutFields a = kGoodAout;
  a.load_end_addr = 0;
  a.bss_end_addr = 0;
  std::vector<uint8_t> f = aout_image(a, 0x180);
  BootInfo b = load(f);
  EXPECT_EQ(b.image_end, 0x200180u);
  EXPECT_EQ(bytes(0x200000, f.size()), f);
}

TEST_F(MultibootTest, AoutLoadOffsetFollowsHeaderPosition) {
  // header_addr - load_addr = 0x20: loading starts at file offset 0x40 - 0x20.
  AoutFields a{0x300020, 0x300000, 0x300080, 0, 0x300040};
  std::vector<uint8_t> f = aout_image(a);
  load(f);
  EXPECT_EQ(bytes(0x300000, 0x80), std::vector<uint8_t>(f.begin() + 0x20, f.begin() + 0xA0));
}

TEST_F(MultibootTest, AoutKludgeTakesPrecedenceOverElf) {
  ElfImage img = kernel();
  // Same ELF, but its multiboot header says: load the whole file at 3 MiB.
  // The header is at file offset 0x1000; entry is just after it.
  std::vector<uint8_t> h = mb_header(0x3 | kAout, {0x301000, 0x300000, 0, 0, 0x301020});
  std::vector<uint8_t>& text = img.segments[0].data;
  text.erase(text.begin(), text.begin() + 12);
  text.insert(text.begin(), h.begin(), h.end());
  img.segments[0].memsz = static_cast<uint32_t>(text.size());
  std::vector<uint8_t> f = img.build();
  BootInfo b = load(f);
  EXPECT_EQ(b.format, "a.out-kludge");
  EXPECT_EQ(cpu.rip, 0x301020u);
  EXPECT_EQ(bytes(0x300000, f.size()), f);  // ELF header and all
  EXPECT_EQ(rd32(0x100000), 0u);            // PT_LOAD addresses ignored
}


TEST_F(MultibootTest, Elf64WithAoutKludgeLoads) {
  BootInfo b = load(elf64(0x3 | kAout, {0x101000, 0x100000, 0, 0x110000, 0x101020}));
  EXPECT_EQ(b.entry, 0x101020u);
  EXPECT_EQ(rd32(0x100000), 0x464C457Fu);  // "\x7fELF"
}

}  // namespace
}  // namespace vtlab::test::multiboot
