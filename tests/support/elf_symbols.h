// Test support: the symbols of a guest's 32-bit ELF file, to match a
// guest EIP (a hole report, a trace) to a labelled instruction.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace vtlab::test {

// The value of each symbol of a 32-bit little-endian ELF file (its
// .symtab).  Empty if the file is not one.
std::map<std::string, uint32_t> elf32_symbols(const std::string& path);

}  // namespace vtlab::test
