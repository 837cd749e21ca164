#include "debugger/symbols.h"

#include <fmt/format.h>

#include <cctype>
#include <stdexcept>

#include "debugger/text_views.h"

namespace vtlab {

namespace {

std::optional<uint64_t> parse_hex(std::string_view s) {
  if (s.empty() || s.size() > 16) return std::nullopt;
  uint64_t v = 0;
  for (const char c : s) {
    const int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                  : (c >= 'a' && c <= 'f')                    ? c - 'a' + 10
                  : (c >= 'A' && c <= 'F')                    ? c - 'A' + 10
                                                              : -1;
    if (d < 0) return std::nullopt;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  return v;
}

// The next whitespace-separated word of `line` from `pos`.
std::string_view word(std::string_view line, size_t& pos) {
  while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
  const size_t start = pos;
  while (pos < line.size() && line[pos] != ' ' && line[pos] != '\t') ++pos;
  return line.substr(start, pos - start);
}

}  // namespace

void SymbolTable::load_system_map(std::string_view text, const std::string& source) {
  has_map_ = true;
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t pos = 0;
    const std::string_view addr = word(line, pos), type = word(line, pos), name = word(line, pos);
    if (addr.empty()) continue;  // a blank line
    const std::optional<uint64_t> value = parse_hex(addr);
    if (!value || type.size() != 1 || name.empty() || !word(line, pos).empty())
      throw std::runtime_error(fmt::format("{}:{}: not a System.map line (want ADDRESS TYPE NAME): {}", source,
                                           line_no, std::string(line.substr(0, 80))));
    // Absolute symbols (type A) are values, not places in the kernel image.
    const bool relocated = type != "A" && type != "a";
    by_name_.emplace(std::string(name), Entry{*value, relocated});
  }
  for (const auto& [entry, phys] : {std::pair{"startup_32", "phys_startup_32"}, {"startup_64", "phys_startup_64"}}) {
    const auto e = by_name_.find(std::string_view(entry)), p = by_name_.find(std::string_view(phys));
    if (e != by_name_.end() && p != by_name_.end() && e->second.from_map) {
      load_offset_ = e->second.address - p->second.address;
      break;
    }
  }
}

void SymbolTable::define(const std::string& name, uint64_t address) {
  by_name_.insert_or_assign(name, Entry{address, false});
}

std::optional<std::pair<SymbolTable::Entry, uint64_t>> SymbolTable::find(std::string_view expr) const {
  const size_t plus = expr.find('+');
  uint64_t offset = 0;
  if (plus != std::string_view::npos) {
    const std::optional<uint64_t> v = parse_number(expr.substr(plus + 1));
    if (!v) return std::nullopt;
    offset = *v;
  }
  const auto it = by_name_.find(expr.substr(0, plus));
  if (it == by_name_.end()) return std::nullopt;
  return std::pair{it->second, offset};
}

std::optional<uint64_t> SymbolTable::linear(std::string_view expr) const {
  const auto f = find(expr);
  if (!f) return std::nullopt;
  return f->first.address + f->second;
}

std::optional<uint64_t> SymbolTable::physical(std::string_view expr) const {
  const auto f = find(expr);
  if (!f) return std::nullopt;
  return f->first.address - (f->first.from_map ? load_offset_ : 0) + f->second;
}

}  // namespace vtlab
