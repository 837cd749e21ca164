#include "mmu/walk_explain.h"

#include <fmt/format.h>

namespace vtlab {

namespace {

const char* access_name(Access a) {
  switch (a) {
    case Access::Read: return "read";
    case Access::Write: return "write";
    case Access::Execute: return "fetch";
  }
  return "?";
}

std::string size_text(uint64_t bytes) {
  if (bytes >= (1u << 30)) return fmt::format("{} GiB", bytes >> 30);
  return bytes >= (1u << 20) ? fmt::format("{} MiB", bytes >> 20) : fmt::format("{} KiB", bytes >> 10);
}

void append_word(std::string& out, bool on, const char* word) {
  if (!on) return;
  if (!out.empty()) out += ' ';
  out += word;
}

}  // namespace

const char* paging_mode_name(PagingMode m) {
  switch (m) {
    case PagingMode::None: return "paging off";
    case PagingMode::Bits32: return "32-bit paging";
    case PagingMode::Pae: return "PAE paging";
    case PagingMode::FourLevel: return "4-level paging";
  }
  return "?";
}

std::string entry_bits_text(const EntryBits& b) {
  std::string s;
  append_word(s, b.p, "P");
  append_word(s, b.rw, "RW");
  append_word(s, b.us, "US");
  append_word(s, b.pwt, "PWT");
  append_word(s, b.pcd, "PCD");
  append_word(s, b.a, "A");
  append_word(s, b.d, "D");
  append_word(s, b.ps, "PS");
  append_word(s, b.g, "G");
  append_word(s, b.xd, "XD");
  return s.empty() ? "-" : s;
}

std::string error_code_text(uint32_t error) {
  std::string s;
  append_word(s, error & pfec::P, "P");
  append_word(s, error & pfec::W, "W");
  append_word(s, error & pfec::U, "U");
  append_word(s, error & pfec::RSVD, "RSVD");
  append_word(s, error & pfec::I, "I");
  return s.empty() ? "none" : s;
}

std::string format_walk(const WalkExplanation& e) {
  // Long-mode linear addresses are 64 bits wide; the others 32.
  const int digits = e.mode == PagingMode::FourLevel ? 18 : 10;
  std::string out = fmt::format("{} {} linear {:#0{}x} ({}):\n", e.user ? "user" : "supervisor",
                                access_name(e.access), e.linear, digits, paging_mode_name(e.mode));
  for (const WalkStep& s : e.steps) {
    const char* where = s.from_register ? " register, loaded from" : s.in_mmio ? " in MMIO (not read) at" : " at";
    std::string leads;
    switch (s.verdict) {
      case WalkStep::Verdict::NextTable: leads = fmt::format("table {:#x}", s.bits.address); break;
      case WalkStep::Verdict::Page: leads = fmt::format("page {:#x}", s.bits.address); break;
      case WalkStep::Verdict::Fault: leads = "fault"; break;
    }
    out += fmt::format("  {:<5}{} {:#x}: {:#018x} [{}] -> {}\n", walk_level_name(s.level), where, s.entry_addr,
                       s.raw, entry_bits_text(s.bits), leads);
  }
  if (e.ok) {
    std::string rights = e.t.user ? "user" : "supervisor";
    rights += e.t.writable ? ", writable" : ", read-only";
    rights += e.t.nx ? ", no-execute" : ", executable";
    if (e.t.global) rights += ", global";
    out += fmt::format("  => physical {:#x} in a {} page: {}\n", e.t.phys, size_text(e.t.page_size), rights);
  } else {
    out += fmt::format("  => #PF({:#x}) [{}]: {}\n", e.error_code, error_code_text(e.error_code), e.reason);
  }
  return out;
}

}  // namespace vtlab
