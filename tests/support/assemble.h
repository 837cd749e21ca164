// Test support: assemble a snippet with the host's GNU as (Intel syntax) so
// instruction tests read as assembly, not as hex.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vtlab::test {

// `bits` is 16, 32 or 64.  Labels and directives are allowed; the snippet is
// placed at `origin` (so absolute branch targets come out right).  Throws
// std::runtime_error with the assembler's message on error.
std::vector<uint8_t> assemble(const std::string& source, unsigned bits = 32, uint64_t origin = 0x1000);

}  // namespace vtlab::test
