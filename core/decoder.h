// Raw bytes -> DecodedInsn, once per instruction (Zydis underneath).
// The handler is bound here, for the exact operand form and width, from the
// per-family tables in core/isa/.
#pragma once

#include <Zydis/Zydis.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/decoded_insn.h"

namespace vtlab {

enum class DecodeStatus : uint8_t {
  Ok,
  NeedMore,     // the bytes end inside the instruction: fetch more and retry
  Invalid,      // not a valid x86 instruction in this mode: #UD
  Unsupported,  // valid, but vtlab has no handler for this form yet
};

class Decoder {
 public:
  Decoder();
  // `code_size` is the CS default size in bytes: 2, 4 or 8.
  DecodeStatus decode(const uint8_t* bytes, size_t avail, unsigned code_size, DecodedInsn& out) const;
  // Intel-syntax text (AT&T with `att`) for messages and the debugger;
  // `ip` resolves branches.  `length`, if given, receives the instruction's
  // length (0 for "(bad)").
  static std::string format(const uint8_t* bytes, size_t avail, unsigned code_size, uint64_t ip, bool att = false,
                            unsigned* length = nullptr);

 private:
  ZydisDecoder dec16_, dec32_, dec64_;
};

const char* mnemonic_name(uint16_t mnemonic);

}  // namespace vtlab
