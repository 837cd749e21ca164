// Multiboot v1 loader: images are built in memory (a small 32-bit ELF
// writer below), loaded into a 128 MiB machine, and the guest-visible
// result is checked byte by byte.
#include "core/loader/multiboot.h"

#include <elf.h>
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "core/loader/load_error.h"

namespace vtlab {
namespace {

constexpr uint64_t kRam = 128ull << 20;
constexpr uint32_t kAout = 1u << 16;

// ---- image builders -------------------------------------------------------

// Address fields of an a.out kludge header (flag bit 16).
struct AoutFields {
  uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

std::vector<uint8_t> mb_header(uint32_t flags, AoutFields a = {}) {
  std::vector<uint32_t> w{kMultibootHeaderMagic, flags, 0u - kMultibootHeaderMagic - flags};
  if (flags & kAout) w.insert(w.end(), {a.header_addr, a.load_addr, a.load_end_addr, a.bss_end_addr, a.entry_addr});
  std::vector<uint8_t> b(w.size() * 4);
  std::memcpy(b.data(), w.data(), b.size());
  return b;
}

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7);
  return v;
}

template <typename T>
void poke(std::vector<uint8_t>& b, size_t off, T v) {
  std::memcpy(b.data() + off, &v, sizeof v);
}

struct Segment {
  uint32_t paddr, vaddr;
  std::vector<uint8_t> data;
  uint32_t memsz;
  uint32_t type = PT_LOAD;
};

// A 32-bit i386 ELF executable: header, program headers, then each
// segment's bytes at the next 4 KiB boundary (the first at 0x1000).
struct ElfImage {
  uint16_t machine = EM_386;
  uint32_t entry = 0;
  std::vector<Segment> segments;

  uint32_t file_offset(size_t i) const {
    uint32_t off = 0x1000;
    for (size_t k = 0; k < i; ++k) off += (static_cast<uint32_t>(segments[k].data.size()) + 0xFFF) & ~0xFFFu;
    return off;
  }

  std::vector<uint8_t> build() const {
    std::vector<uint8_t> f(file_offset(segments.size() - 1) + segments.back().data.size(), 0);
    Elf32_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS32;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_EXEC;
    eh.e_machine = machine;
    eh.e_version = EV_CURRENT;
    eh.e_entry = entry;
    eh.e_phoff = sizeof(Elf32_Ehdr);
    eh.e_ehsize = sizeof(Elf32_Ehdr);
    eh.e_phentsize = sizeof(Elf32_Phdr);
    eh.e_phnum = static_cast<uint16_t>(segments.size());
    poke(f, 0, eh);
    for (size_t i = 0; i < segments.size(); ++i) {
      const Segment& s = segments[i];
      Elf32_Phdr ph{};
      ph.p_type = s.type;
      ph.p_offset = file_offset(i);
      ph.p_vaddr = s.vaddr;
      ph.p_paddr = s.paddr;
      ph.p_filesz = static_cast<uint32_t>(s.data.size());
      ph.p_memsz = s.memsz;
      ph.p_flags = PF_R | PF_X;
      ph.p_align = 0x1000;
      poke(f, sizeof(Elf32_Ehdr) + i * sizeof(Elf32_Phdr), ph);
      std::memcpy(f.data() + ph.p_offset, s.data.data(), s.data.size());
    }
    return f;
  }
};

// The usual kernel: text at 1 MiB starting with the multiboot header
// (file offset 0x1000), data + bss at 1 MiB + 8 KiB.
ElfImage kernel(uint32_t flags = 0x3) {
  std::vector<uint8_t> text = mb_header(flags);
  std::vector<uint8_t> code = pattern(0x100, 0x10);
  text.insert(text.end(), code.begin(), code.end());
  ElfImage img;
  img.entry = 0x100000 + 12;
  img.segments.push_back({0x100000, 0x100000, text, static_cast<uint32_t>(text.size())});
  img.segments.push_back({0x102000, 0x102000, pattern(0x40, 0x80), 0x3000});
  return img;
}

// A raw a.out kludge image (defined with the a.out tests below).
std::vector<uint8_t> aout_image(AoutFields a, size_t size = 0x100);

// An a.out kludge image of `size` bytes loaded at `load` (entry 0x80 into it),
// bss up to `bss_end` (0: none).
std::vector<uint8_t> aout_image_at(uint32_t load, size_t size, uint32_t bss_end) {
  return aout_image({load + 0x40, load, static_cast<uint32_t>(load + size), bss_end, load + 0x80}, size);
}

// ---- fixture ---------------------------------------------------------------

class MultibootTest : public ::testing::Test {
 protected:
  void SetUp() override { reset_cpu_state(cpu); }

  BootInfo load(const std::vector<uint8_t>& f, const std::string& cmdline = "") {
    return load_multiboot(f, "kernel.elf", cmdline, mem, cpu);
  }
  // The LoadError message, or "" if the load succeeded.
  std::string error_of(const std::vector<uint8_t>& f, const std::string& cmdline = "") {
    return error_in(mem, f, cmdline);
  }
  std::string error_in(PhysicalMemory& m, const std::vector<uint8_t>& f, const std::string& cmdline = "") {
    try {
      load_multiboot(f, "kernel.elf", cmdline, m, cpu);
    } catch (const LoadError& e) {
      return e.what();
    }
    return "";
  }
  uint32_t rd32(uint64_t a) {
    uint32_t v = 0;
    EXPECT_TRUE(mem.read_bytes(a, &v, 4));
    return v;
  }
  uint64_t rd64(uint64_t a) {
    uint64_t v = 0;
    EXPECT_TRUE(mem.read_bytes(a, &v, 8));
    return v;
  }
  std::vector<uint8_t> bytes(uint64_t a, size_t n) {
    std::vector<uint8_t> v(n);
    EXPECT_TRUE(mem.read_bytes(a, v.data(), n));
    return v;
  }
  std::string cstr(uint64_t a) {
    std::string s;
    for (char c; mem.read_bytes(a, &c, 1) && c; ++a) s += c;
    return s;
  }

  PhysicalMemory mem{kRam};
  CpuState cpu;
};

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

#define EXPECT_LOAD_ERROR(file, substring)                                      \
  do {                                                                          \
    std::string err_ = error_of(file);                                          \
    EXPECT_TRUE(contains(err_, substring)) << "message: \"" << err_ << "\"";    \
    EXPECT_TRUE(err_.rfind("kernel.elf: ", 0) == 0) << "message: " << err_;     \
  } while (0)

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

// A raw (non-ELF) image: 0x40 bytes of code, the 32-byte header at file
// offset 0x40, more code; loaded at 2 MiB, bss up to 2 MiB + 4 KiB.
std::vector<uint8_t> aout_image(AoutFields a, size_t size) {
  std::vector<uint8_t> f = pattern(size, 0x33);
  std::vector<uint8_t> h = mb_header(0x3 | kAout, a);
  std::memcpy(f.data() + 0x40, h.data(), h.size());
  return f;
}
constexpr AoutFields kGoodAout{0x200040, 0x200000, 0x200100, 0x201000, 0x200080};

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

// A 64-bit ELF has no multiboot v1 ELF path, but the a.out kludge loads it.
std::vector<uint8_t> elf64(uint32_t flags, AoutFields a = {}) {
  std::vector<uint8_t> f(0x1100, 0);
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_machine = EM_X86_64;
  poke(f, 0, eh);
  std::vector<uint8_t> h = mb_header(flags, a);
  std::memcpy(f.data() + 0x1000, h.data(), h.size());
  return f;
}

TEST_F(MultibootTest, Elf64WithAoutKludgeLoads) {
  BootInfo b = load(elf64(0x3 | kAout, {0x101000, 0x100000, 0, 0x110000, 0x101020}));
  EXPECT_EQ(b.entry, 0x101020u);
  EXPECT_EQ(rd32(0x100000), 0x464C457Fu);  // "\x7fELF"
}

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
}  // namespace vtlab
