// Shared by the multiboot loader tests: a small in-memory image writer (ELF
// and a.out kludge) and a fixture with a 128 MiB machine.
#pragma once

#include "core/loader/multiboot.h"

#include <elf.h>
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "core/loader/load_error.h"


namespace vtlab::test::multiboot {

constexpr uint64_t kRam = 128ull << 20;
constexpr uint32_t kAout = 1u << 16;

// ---- image builders -------------------------------------------------------

// Address fields of an a.out kludge header (flag bit 16).
struct AoutFields {
  uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

inline std::vector<uint8_t> mb_header(uint32_t flags, AoutFields a = {}) {
  std::vector<uint32_t> w{kMultibootHeaderMagic, flags, 0u - kMultibootHeaderMagic - flags};
  if (flags & kAout) w.insert(w.end(), {a.header_addr, a.load_addr, a.load_end_addr, a.bss_end_addr, a.entry_addr});
  std::vector<uint8_t> b(w.size() * 4);
  std::memcpy(b.data(), w.data(), b.size());
  return b;
}

inline std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7);
  return v;
}

template <typename T>
inline void poke(std::vector<uint8_t>& b, size_t off, T v) {
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
inline ElfImage kernel(uint32_t flags = 0x3) {
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
inline std::vector<uint8_t> aout_image(AoutFields a, size_t size = 0x100);

// An a.out kludge image of `size` bytes loaded at `load` (entry 0x80 into it),
// bss up to `bss_end` (0: none).
inline std::vector<uint8_t> aout_image_at(uint32_t load, size_t size, uint32_t bss_end) {
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

inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

#define EXPECT_LOAD_ERROR(file, substring)                                      \
  do {                                                                          \
    std::string err_ = error_of(file);                                          \
    EXPECT_TRUE(contains(err_, substring)) << "message: \"" << err_ << "\"";    \
    EXPECT_TRUE(err_.rfind("kernel.elf: ", 0) == 0) << "message: " << err_;     \
  } while (0)


// A raw (non-ELF) image: 0x40 bytes of code, the 32-byte header at file
// offset 0x40, more code; loaded at 2 MiB, bss up to 2 MiB + 4 KiB.
inline std::vector<uint8_t> aout_image(AoutFields a, size_t size) {
  std::vector<uint8_t> f = pattern(size, 0x33);
  std::vector<uint8_t> h = mb_header(0x3 | kAout, a);
  std::memcpy(f.data() + 0x40, h.data(), h.size());
  return f;
}

// A 64-bit ELF has no multiboot v1 ELF path, but the a.out kludge loads it.
inline std::vector<uint8_t> elf64(uint32_t flags, AoutFields a = {}) {
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

constexpr AoutFields kGoodAout{0x200040, 0x200000, 0x200100, 0x201000, 0x200080};

}  // namespace vtlab::test::multiboot
