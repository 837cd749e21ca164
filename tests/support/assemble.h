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

// The prologue the fault-explanation guests share: load the GDT at `gdt0`
// and fill 32 IDT entries at 0x200000 with 32-bit interrupt gates (code
// selector 0x08) to the label `handler`; the guest then LIDTs `idt0`.
inline constexpr const char* kGatesToHandler = R"(
  lgdt [gdt0]
  mov edi, 0x200000
  mov ecx, 32
1: mov eax, offset handler
  mov word ptr [edi], ax
  mov word ptr [edi+2], 0x08
  mov dword ptr [edi+4], 0x00008E00
  shr eax, 16
  mov word ptr [edi+6], ax
  add edi, 8
  loop 1b
)";

}  // namespace vtlab::test
