// A page walk explained in text, for the debugger and the CLI: one line per
// paging-structure entry (where it is, its raw value, the bits the
// processor reads there, and where it leads), then the page found or the
// #PF with its error code and the reason.  The content comes from
// PageWalker::explain (mmu/page_walker.h); this file only lays it out.
#pragma once

#include <string>

#include "mmu/page_walker.h"

namespace vtlab {

const char* paging_mode_name(PagingMode m);  // "paging off", "32-bit paging", ...
// The set bits of a decoded entry, in SDM order: "P RW US PWT PCD A D PS G XD".
std::string entry_bits_text(const EntryBits& b);
// #PF error-code bits by name: "P W U RSVD I", or "none" for 0.
std::string error_code_text(uint32_t error);
std::string format_walk(const WalkExplanation& e);

}  // namespace vtlab
