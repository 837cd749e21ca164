// The debugger's views (views.h, system_views.h, fault_explain.h) laid out
// as text, one way for every text front end: `vtlab debug`'s commands
// (tools/vtlab/debug_cli) and the gdb stub's `monitor` commands
// (gdb_monitor.h) print the same lines for the same machine.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/exits.h"
#include "debugger/debugger.h"
#include "debugger/system_views.h"
#include "debugger/views.h"

namespace vtlab {

// A number as the text front ends take it: "0x" and up to 16 hex digits,
// or up to 16 decimal digits.
std::optional<uint64_t> parse_number(std::string_view text);

// The access a walk is explained for, from the words after the address
// ("r", "w", "x", "user", in any order); nullopt for any other word.
struct WalkAccess {
  Access access = Access::Read;
  bool user = false;
};
std::optional<WalkAccess> parse_walk_access(const std::vector<std::string>& words, size_t from);

// `count` units of `unit` bytes (1, 2, 4 or 8) at a linear or physical
// address, 16 bytes a line; "(cannot read ...)" where the bytes end.
std::string memory_text(const Debugger& d, uint64_t addr, uint64_t count, unsigned unit, bool physical);

// GDT or IDT entries (empty GDT slots left out, the IVT as segment:offset).
std::string descriptor_table_text(const std::vector<DescriptorView>& entries, bool idt);

// The TSS that TR names, field by field.
std::string tss_text(const SystemTables& t);

// The TLB's valid entries and how many there are.
std::string tlb_text(const Cpu& cpu);

// The monitor's exits so far, per reason, with their modelled cycles,
// and the last `recent` exits, each with its cause (at most ExitLog keeps).
std::string exits_text(const ExitLog& log, size_t recent = 0);

// Why things went wrong (fault_explain.h): a shutdown's chain first, then
// `caught` (the exception a catch stopped after, if any), then the last
// double fault; a line saying there is nothing to explain otherwise.
std::string why_text(Machine& m, const std::optional<DeliveredEvent>& caught);

}  // namespace vtlab
