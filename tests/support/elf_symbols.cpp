#include "support/elf_symbols.h"

#include <fstream>
#include <iterator>

namespace vtlab::test {

std::map<std::string, uint32_t> elf32_symbols(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string f((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::map<std::string, uint32_t> syms;
  auto u16 = [&](size_t o) { return o + 2 <= f.size() ? uint32_t(uint8_t(f[o]) | uint8_t(f[o + 1]) << 8) : 0u; };
  auto u32 = [&](size_t o) { return o + 4 <= f.size() ? u16(o) | u16(o + 2) << 16 : 0u; };
  if (f.size() < 52 || f.compare(0, 4, "\x7f" "ELF") != 0 || f[4] != 1 || f[5] != 1) return syms;
  const uint32_t shoff = u32(32), shentsize = u16(46), shnum = u16(48);
  for (uint32_t i = 0; i < shnum; i++) {
    const size_t sh = shoff + size_t(i) * shentsize;
    if (u32(sh + 4) != 2) continue;  // SHT_SYMTAB
    const uint32_t off = u32(sh + 16), size = u32(sh + 20), entsize = u32(sh + 36);
    const size_t strtab = shoff + size_t(u32(sh + 24)) * shentsize;  // sh_link
    const uint32_t stroff = u32(strtab + 16), strsize = u32(strtab + 20);
    for (uint32_t s = 0; entsize && s + entsize <= size; s += entsize) {
      const uint32_t name = u32(off + s), value = u32(off + s + 4);
      if (name >= strsize || stroff + name >= f.size()) continue;
      syms[std::string(f.c_str() + stroff + name)] = value;
    }
  }
  return syms;
}

}  // namespace vtlab::test
