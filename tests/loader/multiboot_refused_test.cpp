// Multiboot v1 loader, refused images: each malformed kernel gives one
// clear LoadError and leaves memory and the CPU untouched.
#include "loader/multiboot_fixture.h"

namespace vtlab::test::multiboot {
namespace {

// ---- refused images ----------------------------------------------------------

TEST_F(MultibootTest, RefusedLoadLeavesMemoryAndCpuUntouched) {
  ElfImage img = kernel();
  img.entry = 0x500000;
  const CpuState before = cpu;
  EXPECT_LOAD_ERROR(img.build(), "entry point");
  EXPECT_EQ(rd32(0x100000), 0u);
  EXPECT_EQ(rd32(0x9000), 0u);
  EXPECT_EQ(rd32(0x9500), 0u);
  EXPECT_EQ(rd32(0x105000), 0u);
  EXPECT_EQ(cpu.rip, before.rip);
  EXPECT_EQ(cpu.cr0, before.cr0);
  EXPECT_EQ(cpu.gpr, before.gpr);
}

TEST_F(MultibootTest, NoHeader) {
  ElfImage img = kernel();
  std::fill(img.segments[0].data.begin(), img.segments[0].data.begin() + 12, 0);
  EXPECT_LOAD_ERROR(img.build(), "not a multiboot kernel: no multiboot header in the first 8192 bytes");
}

TEST_F(MultibootTest, HeaderPastFirst8KiBNotFound) {
  ElfImage img = kernel();
  std::vector<uint8_t> text(0x1000, 0x90);  // header would start at file offset 8192
  std::vector<uint8_t> h = mb_header(0x3);
  text.insert(text.end(), h.begin(), h.end());
  img.segments[0] = {0x100000, 0x100000, text, static_cast<uint32_t>(text.size())};
  img.entry = 0x100000;
  EXPECT_LOAD_ERROR(img.build(), "no multiboot header");
}

TEST_F(MultibootTest, UnalignedHeaderNotFound) {
  std::vector<uint8_t> f(64, 0);
  std::vector<uint8_t> h = mb_header(0x3);
  std::memcpy(f.data() + 2, h.data(), h.size());
  EXPECT_LOAD_ERROR(f, "no multiboot header");
}

TEST_F(MultibootTest, BadChecksum) {
  std::vector<uint8_t> f = kernel().build();
  f[0x1000 + 8] ^= 1;
  EXPECT_LOAD_ERROR(f, "multiboot header at offset 0x1000 has a bad checksum");
}

TEST_F(MultibootTest, UnsupportedRequiredFlag) {
  EXPECT_LOAD_ERROR(kernel(0x3 | 0x8).build(), "does not support (required flag bits 0x0008)");
  EXPECT_LOAD_ERROR(kernel(0x8000).build(), "required flag bits 0x8000");
}

TEST_F(MultibootTest, NotElfWithoutAoutKludge) {
  std::vector<uint8_t> f(64, 0x90);
  std::vector<uint8_t> h = mb_header(0x3);
  std::memcpy(f.data() + 16, h.data(), h.size());
  EXPECT_LOAD_ERROR(f, "not an ELF file");
}

TEST_F(MultibootTest, Elf64Refused) { EXPECT_LOAD_ERROR(elf64(0x3), "64-bit ELF (ELFCLASS64)"); }

TEST_F(MultibootTest, NonI386MachineRefused) {
  ElfImage img = kernel();
  img.machine = EM_ARM;
  EXPECT_LOAD_ERROR(img.build(), "ELF machine 40 is not i386");
}

TEST_F(MultibootTest, BigEndianElfRefused) {
  std::vector<uint8_t> f = kernel().build();
  f[EI_DATA] = ELFDATA2MSB;
  EXPECT_LOAD_ERROR(f, "big-endian ELF");
}

TEST_F(MultibootTest, TruncatedElfHeader) {
  std::vector<uint8_t> f = kernel().build();
  f.resize(28);  // ident + the multiboot header moved to offset 16
  std::vector<uint8_t> h = mb_header(0x3);
  std::memcpy(f.data() + 16, h.data(), h.size());
  EXPECT_LOAD_ERROR(f, "truncated ELF header (28 bytes, need 52)");
}

TEST_F(MultibootTest, TruncatedSegmentData) {
  ElfImage img = kernel();
  std::vector<uint8_t> f = img.build();
  f.resize(img.file_offset(1) + 8);
  EXPECT_LOAD_ERROR(f, "ELF segment 1: file bytes [0x2000, 0x2040) lie outside the file");
}

TEST_F(MultibootTest, ProgramHeadersOutsideFile) {
  std::vector<uint8_t> f = kernel().build();
  poke<Elf32_Off>(f, offsetof(Elf32_Ehdr, e_phoff), static_cast<Elf32_Off>(f.size() - 40));
  EXPECT_LOAD_ERROR(f, "ELF program headers");
  EXPECT_TRUE(contains(error_of(f), "lie outside the file"));
}

TEST_F(MultibootTest, NoProgramHeaders) {
  std::vector<uint8_t> f = kernel().build();
  poke<Elf32_Half>(f, offsetof(Elf32_Ehdr, e_phnum), 0);
  EXPECT_LOAD_ERROR(f, "no program headers");
}

TEST_F(MultibootTest, NoLoadableSegments) {
  ElfImage img = kernel();
  for (Segment& s : img.segments) s.type = PT_NOTE;
  EXPECT_LOAD_ERROR(img.build(), "no loadable (PT_LOAD) segments");
}

TEST_F(MultibootTest, FileszAboveMemsz) {
  ElfImage img = kernel();
  img.segments[1].memsz = 0x10;
  EXPECT_LOAD_ERROR(img.build(), "ELF segment 1: p_filesz 0x40 exceeds p_memsz 0x10");
}

TEST_F(MultibootTest, SegmentOutsideRam) {
  ElfImage img = kernel();
  img.segments[1].paddr = kRam - 0x1000;  // bss runs past the end of RAM
  EXPECT_LOAD_ERROR(img.build(), "ELF segment 1 [0x7fff000, 0x8002000) is outside guest RAM [0, 0x8000000)");
}

TEST_F(MultibootTest, SegmentOnMmioRefused) {
  struct Dummy : BusDevice {
    uint64_t read(uint64_t, unsigned) override { return 0; }
    void write(uint64_t, unsigned, uint64_t) override {}
    std::string_view name() const override { return "dummy"; }
  } dev;
  ASSERT_TRUE(mem.map_mmio(0x103000, 0x1000, &dev));
  EXPECT_LOAD_ERROR(kernel().build(), "ELF segment 1 [0x102000, 0x105000) is outside guest RAM");
}

TEST_F(MultibootTest, SegmentOverlappingBootInfo) {
  ElfImage img = kernel();
  img.segments[1].paddr = 0x8000;
  EXPECT_LOAD_ERROR(img.build(), "ELF segment 1 [0x8000, 0xb000) overlaps the boot information area [0x9000, 0x9580)");
}

TEST_F(MultibootTest, EntryNotInLoadedBytes) {
  ElfImage img = kernel();
  img.entry = 0x102040;  // in the bss, not in bytes from the file
  EXPECT_LOAD_ERROR(img.build(), "ELF entry point 0x102040 is not inside a loaded segment");
}

TEST_F(MultibootTest, CommandLineTooLong) {
  // 2 MiB of RAM, image [0x100000, 0x105000): room for 0xFB000 bytes after
  // it; "kernel.elf " + cmdline + NUL + "vtlab" + NUL is one byte more.
  PhysicalMemory small(2ull << 20);
  std::string err = error_in(small, kernel().build(), std::string(0xFB000 - 11 - 1 - 6 + 1, 'x'));
  EXPECT_TRUE(contains(err, "kernel.elf: command line too long (1028079 bytes)")) << err;
  EXPECT_TRUE(contains(err, "(0x105000) and 0x200000")) << err;
  uint32_t v = 1;
  ASSERT_TRUE(small.read_bytes(0x9500, &v, 4));
  EXPECT_EQ(v, 0u);  // nothing written
}

TEST_F(MultibootTest, CommandLineEndingAtEndOfRamFits) {
  PhysicalMemory small(2ull << 20);
  // "kernel.elf " + cmdline + NUL + "vtlab" + NUL ends exactly at 2 MiB.
  const std::string cmdline(0xFB000 - 11 - 1 - 6, 'y');
  EXPECT_EQ(error_in(small, kernel().build(), cmdline), "");
  char last[8] = {};
  ASSERT_TRUE(small.read_bytes((2ull << 20) - 8, last, 8));
  EXPECT_EQ(std::string(last, 8), std::string("y\0vtlab\0", 8));
}

TEST_F(MultibootTest, NoRoomForCommandLineAfterImage) {
  ElfImage img = kernel();
  img.segments[1].memsz = static_cast<uint32_t>(kRam - 0x102000);  // bss up to the end of RAM
  EXPECT_LOAD_ERROR(img.build(), "no room for the command line: the kernel image, rounded up to a page, ends at "
                                 "0x8000000, the end of guest RAM");
}

TEST_F(MultibootTest, CommandLineAreaOnMmioRefused) {
  struct Dummy : BusDevice {
    uint64_t read(uint64_t, unsigned) override { return 0; }
    void write(uint64_t, unsigned, uint64_t) override {}
    std::string_view name() const override { return "dummy"; }
  } dev;
  ASSERT_TRUE(mem.map_mmio(0x105000, 0x1000, &dev));
  EXPECT_LOAD_ERROR(kernel().build(), "the command line area [0x105000, 0x105012) after the kernel image is not "
                                      "all plain guest RAM");
  EXPECT_EQ(rd32(0x100000), 0u);
}

TEST_F(MultibootTest, ImageRightAfterBootInfoAreaLoads) {
  std::vector<uint8_t> f = aout_image_at(0x9580, 0x100, 0);
  BootInfo b = load(f);
  EXPECT_EQ(b.image_start, 0x9580u);
  EXPECT_EQ(bytes(0x9580, f.size()), f);
  EXPECT_EQ(rd32(0x9500 + 16), 0xA580u);
  EXPECT_EQ(cstr(0xA580), "kernel.elf ");
}

TEST_F(MultibootTest, CommandLineAreaOverlappingBootInfoRefused) {
  // Image [0x8000, 0x9000): the command line would go at 0x9000, the memory map.
  EXPECT_LOAD_ERROR(aout_image_at(0x8000, 0x100, 0x9000),
                    "the command line area [0x9000, 0x9012) after the kernel image overlaps the boot information "
                    "area [0x9000, 0x9580)");
}

TEST_F(MultibootTest, RamTooSmallForBootInfo) {
  PhysicalMemory tiny(0x8000);
  try {
    load_multiboot(kernel().build(), "kernel.elf", "", tiny, cpu);
    ADD_FAILURE() << "expected LoadError";
  } catch (const LoadError& e) {
    EXPECT_TRUE(contains(e.what(), "too small for the boot information")) << e.what();
  }
}

TEST_F(MultibootTest, AoutTruncatedAddressFields) {
  std::vector<uint8_t> f(0x4C, 0);  // flag bit 16 set, but the file ends 12 bytes into the header
  std::vector<uint8_t> h = mb_header(0x3 | kAout, kGoodAout);
  std::memcpy(f.data() + 0x40, h.data(), 12);
  EXPECT_LOAD_ERROR(f, "multiboot header at offset 0x40 is truncated");
}

TEST_F(MultibootTest, AoutLoadAddrAboveHeaderAddr) {
  AoutFields a = kGoodAout;
  a.load_addr = 0x200044;
  EXPECT_LOAD_ERROR(aout_image(a), "a.out kludge: load_addr 0x200044 is above header_addr 0x200040");
}

TEST_F(MultibootTest, AoutHeaderOffsetMismatch) {
  AoutFields a = kGoodAout;
  a.header_addr = 0x200080;  // claims the header is 0x80 into the image; it is at file offset 0x40
  EXPECT_LOAD_ERROR(aout_image(a), "header_addr - load_addr = 0x80, but the header is at file offset 0x40");
}

TEST_F(MultibootTest, AoutLoadEndBelowLoadAddr) {
  AoutFields a = kGoodAout;
  a.load_end_addr = 0x1FF000;
  EXPECT_LOAD_ERROR(aout_image(a), "load_end_addr 0x1ff000 is below load_addr 0x200000");
}

TEST_F(MultibootTest, AoutBssEndBelowLoadEnd) {
  AoutFields a = kGoodAout;
  a.bss_end_addr = 0x2000F0;
  EXPECT_LOAD_ERROR(aout_image(a), "bss_end_addr 0x2000f0 is below load_end_addr 0x200100");
}

TEST_F(MultibootTest, AoutImageLargerThanFile) {
  AoutFields a = kGoodAout;
  a.load_end_addr = 0x200200;
  EXPECT_LOAD_ERROR(aout_image(a), "image of 0x200 bytes from file offset 0x0 is larger than the file (0x100 bytes)");
}

TEST_F(MultibootTest, AoutEntryOutsideImage) {
  AoutFields a = kGoodAout;
  a.entry_addr = 0x200100;  // first bss byte
  EXPECT_LOAD_ERROR(aout_image(a), "entry point 0x200100 is outside the loaded image [0x200000, 0x200100)");
}

TEST_F(MultibootTest, AoutOutsideRam) {
  AoutFields a{0x10000040, 0x10000000, 0x10000100, 0, 0x10000080};
  EXPECT_LOAD_ERROR(aout_image(a), "a.out kludge image [0x10000000, 0x10000100) is outside guest RAM");
}

TEST_F(MultibootTest, AoutOverlappingBootInfo) {
  AoutFields a{0x9040, 0x9000, 0x9100, 0, 0x9080};
  EXPECT_LOAD_ERROR(aout_image(a), "overlaps the boot information area");
}

}  // namespace
}  // namespace vtlab::test::multiboot
