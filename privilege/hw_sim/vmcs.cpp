#include "privilege/hw_sim/vmcs.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <stdexcept>

#include "core/cpu_state.h"

namespace vtlab::vmx {

namespace {
struct BoolControl {
  std::string_view name;
  std::string_view group;  // "pin", "primary", "secondary"
  bool Controls::*field;
  unsigned bit;  // in its control word (SDM vol. 3C, tables 25-5 to 25-7)
};
constexpr std::array<BoolControl, 20> kBoolControls = {{
    {"external_interrupt_exiting", "pin", &Controls::external_interrupt_exiting, 0},
    {"nmi_exiting", "pin", &Controls::nmi_exiting, 3},
    {"interrupt_window_exiting", "primary", &Controls::interrupt_window_exiting, 2},
    {"hlt_exiting", "primary", &Controls::hlt_exiting, 7},
    {"invlpg_exiting", "primary", &Controls::invlpg_exiting, 9},
    {"mwait_exiting", "primary", &Controls::mwait_exiting, 10},
    {"monitor_exiting", "primary", &Controls::monitor_exiting, 29},
    {"rdtsc_exiting", "primary", &Controls::rdtsc_exiting, 12},
    {"cr3_load_exiting", "primary", &Controls::cr3_load_exiting, 15},
    {"cr3_store_exiting", "primary", &Controls::cr3_store_exiting, 16},
    {"cr8_load_exiting", "primary", &Controls::cr8_load_exiting, 19},
    {"cr8_store_exiting", "primary", &Controls::cr8_store_exiting, 20},
    {"mov_dr_exiting", "primary", &Controls::mov_dr_exiting, 23},
    {"unconditional_io_exiting", "primary", &Controls::unconditional_io_exiting, 24},
    {"use_io_bitmaps", "primary", &Controls::use_io_bitmaps, 25},
    {"use_msr_bitmaps", "primary", &Controls::use_msr_bitmaps, 28},
    {"descriptor_table_exiting", "secondary", &Controls::descriptor_table_exiting, 2},
    {"unrestricted_guest", "secondary", &Controls::unrestricted_guest, 7},
    {"enable_ept", "secondary", &Controls::enable_ept, 1},
    {"enable_vpid", "secondary", &Controls::enable_vpid, 5},
}};

// The control words written whole: the named controls take their bits,
// the rest is kept as given.
struct ControlWord {
  std::string_view name;
  std::string_view group;
  uint32_t Controls::*other;
};
constexpr std::array<ControlWord, 3> kControlWords = {{
    {"pin_based_controls", "pin", &Controls::pin_other},
    {"primary_processor_based_controls", "primary", &Controls::primary_other},
    {"secondary_processor_based_controls", "secondary", &Controls::secondary_other},
}};

uint32_t named_bits(const Controls& c, std::string_view group) {
  uint32_t w = 0;
  for (const BoolControl& b : kBoolControls)
    if (b.group == group && c.*b.field) w |= 1u << b.bit;
  return w;
}

uint32_t named_mask(std::string_view group) {
  uint32_t m = 0;
  for (const BoolControl& b : kBoolControls)
    if (b.group == group) m |= 1u << b.bit;
  return m;
}

// Guest-state fields --vmcs-set may give (vm_entry.cpp reads them).
bool is_guest_field(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kPlain = {
      "guest_cr0", "guest_cr3", "guest_cr4", "guest_rflags", "guest_rip", "guest_ia32_efer", "guest_activity_state",
      "guest_gdtr_limit", "guest_idtr_limit", "guest_interruptibility_state", "guest_pending_debug_exceptions",
      "vmcs_link_pointer"};
  for (std::string_view p : kPlain)
    if (name == p) return true;
  static constexpr std::array<std::string_view, 8> kSegs = {"es", "cs", "ss", "ds", "fs", "gs", "ldtr", "tr"};
  static constexpr std::array<std::string_view, 4> kParts = {"_selector", "_base", "_limit", "_access_rights"};
  if (!name.starts_with("guest_")) return false;
  name.remove_prefix(6);
  for (std::string_view seg : kSegs)
    for (std::string_view part : kParts)
      if (name.size() == seg.size() + part.size() && name.starts_with(seg) && name.ends_with(part)) return true;
  return false;
}

constexpr std::array<std::string_view, 7> kHostSelectors = {"host_es_selector", "host_cs_selector", "host_ss_selector",
                                                            "host_ds_selector", "host_fs_selector", "host_gs_selector",
                                                            "host_tr_selector"};

constexpr uint32_t kMsrFsBase = 0xC0000100, kMsrGsBase = 0xC0000101, kMsrKernelGsBase = 0xC0000102;
constexpr uint32_t kMsrSysenterCs = 0x174, kMsrSysenterEsp = 0x175, kMsrSysenterEip = 0x176, kMsrTsc = 0x10;
constexpr uint32_t kMsrHighBase = 0xC0000000, kMsrRange = 0x2000;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

uint64_t parse_number(std::string_view text, std::string_view what) {
  text = trim(text);
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
    base = 16;
  }
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    throw std::runtime_error(fmt::format("{}: \"{}\" is not a number", what, text));
  return v;
}

bool parse_bool(std::string_view text, std::string_view what) {
  text = trim(text);
  if (text == "1" || text == "on" || text == "true" || text == "yes") return true;
  if (text == "0" || text == "off" || text == "false" || text == "no") return false;
  throw std::runtime_error(fmt::format("{}: \"{}\" is not 0/1/on/off", what, text));
}

// "0x3f8" or "0x3f8-0x3ff" (inclusive), each at most `max`.
std::pair<uint64_t, uint64_t> parse_range(std::string_view text, uint64_t max, std::string_view what) {
  const size_t dash = text.find('-');
  const uint64_t lo = parse_number(text.substr(0, dash), what);
  const uint64_t hi = dash == std::string_view::npos ? lo : parse_number(text.substr(dash + 1), what);
  if (lo > hi || hi > max) throw std::runtime_error(fmt::format("{}: range {} is out of order or beyond {:#x}", what, text, max));
  return {lo, hi};
}

// Ranges of set (or clear) bits, for --stats: ["0x0000-0x03f7", ...].
template <size_t N>
nlohmann::json ranges(const std::bitset<N>& bits, uint64_t base, bool set) {
  nlohmann::json out = nlohmann::json::array();
  size_t i = 0;
  while (i < N) {
    if (bits[i] != set) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j + 1 < N && bits[j + 1] == set) ++j;
    out.push_back(i == j ? fmt::format("{:#x}", base + i) : fmt::format("{:#x}-{:#x}", base + i, base + j));
    i = j + 1;
  }
  return out;
}
}  // namespace

uint32_t Controls::pin_word() const { return named_bits(*this, "pin") | pin_other; }
uint32_t Controls::primary_word() const { return named_bits(*this, "primary") | primary_other; }
uint32_t Controls::secondary_word() const { return named_bits(*this, "secondary") | secondary_other; }

Controls Controls::defaults(bool nested) {
  Controls c;
  c.pin_other = caps::kPinMust1;
  c.primary_other = caps::kPrimaryMust1 | caps::kActivateSecondary;
  // KVM's: save debug controls, a 64-bit host, interrupts acknowledged on
  // exit, PAT and EFER saved and loaded.
  c.exit_controls = caps::kExitMust1 | (1u << 2) | caps::kExitHostAddressSpaceSize | (1u << 15) | (0xFu << 18);
  c.host_cr0 = cr0::PE | cr0::MP | cr0::ET | cr0::NE | cr0::WP | cr0::AM | cr0::PG;
  c.host_cr3 = 0x1000;
  c.host_cr4 = cr4::PSE | cr4::PAE | cr4::PGE | cr4::OSFXSR | cr4::OSXMMEXCPT | (1u << 13);
  c.host_selectors = {0, 0x10, 0x18, 0, 0, 0, 0x40};
  c.enable_ept = nested;
  c.unrestricted_guest = nested;  // needs EPT
  // Shadow paging must see every address-space change and every #PF.
  c.invlpg_exiting = !nested;
  c.cr3_load_exiting = c.cr3_store_exiting = !nested;
  c.exception_bitmap = nested ? 0 : 1u << 14;
  // The guest owns CR0.TS (lazy FPU switching), and with EPT also CR0.WP
  // and CR4.PGE, which then change nothing the monitor keeps.
  c.cr0_guest_host_mask = ~(cr0::TS | (nested ? cr0::WP : 0));
  c.cr4_guest_host_mask = ~(cr4::DE | cr4::TSD | cr4::PCE | cr4::OSFXSR | cr4::OSXMMEXCPT | (nested ? cr4::PGE : 0));
  c.io_bitmap.set();
  c.msr_read_low.set();
  c.msr_read_high.set();
  c.msr_write_low.set();
  c.msr_write_high.set();
  // Passed through as KVM does: the guest's own, context-switched MSRs.
  for (uint32_t m : {kMsrSysenterCs, kMsrSysenterEsp, kMsrSysenterEip}) {
    c.msr_read_low.reset(m);
    c.msr_write_low.reset(m);
  }
  for (uint32_t m : {kMsrFsBase, kMsrGsBase, kMsrKernelGsBase}) {
    c.msr_read_high.reset(m - kMsrHighBase);
    c.msr_write_high.reset(m - kMsrHighBase);
  }
  c.msr_read_low.reset(kMsrTsc);
  return c;
}

void Controls::set(std::string_view name, std::string_view value) {
  name = trim(name);
  for (const BoolControl& b : kBoolControls)
    if (b.name == name) {
      this->*b.field = parse_bool(value, name);
      return;
    }
  for (const ControlWord& w : kControlWords)
    if (w.name == name) {
      const uint64_t v = parse_number(value, name);
      if (v > 0xFFFFFFFF) throw std::runtime_error(fmt::format("{}: a 32-bit control word", name));
      for (const BoolControl& b : kBoolControls)
        if (b.group == w.group) this->*b.field = (v >> b.bit) & 1;
      this->*w.other = static_cast<uint32_t>(v) & ~named_mask(w.group);
      return;
    }
  for (size_t i = 0; i < kHostSelectors.size(); ++i)
    if (kHostSelectors[i] == name) {
      const uint64_t v = parse_number(value, name);
      if (v > 0xFFFF) throw std::runtime_error(fmt::format("{}: a 16-bit selector", name));
      host_selectors[i] = static_cast<uint16_t>(v);
      return;
    }
  if (is_guest_field(name)) {
    guest[std::string(name)] = parse_number(value, name);
  } else if (name == "vm_exit_controls" || name == "vm_entry_controls") {
    const uint64_t v = parse_number(value, name);
    if (v > 0xFFFFFFFF) throw std::runtime_error(fmt::format("{}: a 32-bit control word", name));
    if (name == "vm_exit_controls") exit_controls = static_cast<uint32_t>(v);
    else entry_controls = static_cast<uint32_t>(v);
  } else if (name == "vm_entry_msr_load_count") {
    const uint64_t v = parse_number(value, name);
    if (v > 0xFFFFFFFF) throw std::runtime_error("vm_entry_msr_load_count: 32 bits");
    entry_msr_load_count = static_cast<uint32_t>(v);
  } else if (name == "vm_entry_msr_load_address") {
    entry_msr_load_address = parse_number(value, name);
  } else if (name == "cr3_target_count") {
    cr3_target_count = static_cast<uint32_t>(std::min<uint64_t>(parse_number(value, name), 0xFFFFFFFF));
  } else if (name == "vpid") {
    const uint64_t v = parse_number(value, name);
    if (v > 0xFFFF) throw std::runtime_error("vpid: 16 bits");
    vpid = static_cast<uint16_t>(v);
  } else if (name == "ept_pointer") {
    ept_pointer = parse_number(value, name);
  } else if (name == "host_cr0") {
    host_cr0 = parse_number(value, name);
  } else if (name == "host_cr3") {
    host_cr3 = parse_number(value, name);
  } else if (name == "host_cr4") {
    host_cr4 = parse_number(value, name);
  } else if (name == "exception_bitmap") {
    const uint64_t v = parse_number(value, name);
    if (v > 0xFFFFFFFF) throw std::runtime_error("exception_bitmap: 32 bits, one per vector");
    exception_bitmap = static_cast<uint32_t>(v);
  } else if (name == "cr0_guest_host_mask") {
    cr0_guest_host_mask = parse_number(value, name);
  } else if (name == "cr4_guest_host_mask") {
    cr4_guest_host_mask = parse_number(value, name);
  } else if (name == "cr0_read_shadow") {
    cr0_read_shadow = parse_number(value, name);
    cr0_read_shadow_set = true;
  } else if (name == "cr4_read_shadow") {
    cr4_read_shadow = parse_number(value, name);
    cr4_read_shadow_set = true;
  } else if (name == "io_bitmap" || name.starts_with("io_bitmap.")) {
    const bool bit = parse_bool(value, name);
    const auto [lo, hi] = name == "io_bitmap" ? std::pair<uint64_t, uint64_t>{0, 0xFFFF}
                                              : parse_range(name.substr(10), 0xFFFF, name);
    for (uint64_t p = lo; p <= hi; ++p) io_bitmap.set(p, bit);
  } else if (name == "msr_bitmap" || name.starts_with("msr_bitmap.")) {
    const bool bit = parse_bool(value, name);
    std::string_view rest = name == "msr_bitmap" ? std::string_view{} : name.substr(11);
    bool reads = true, writes = true;
    if (rest.starts_with("read")) writes = false, rest.remove_prefix(4);
    else if (rest.starts_with("write")) reads = false, rest.remove_prefix(5);
    if (!rest.empty() && rest.front() != '.') throw std::runtime_error(fmt::format("{}: unknown MSR bitmap", name));
    if (!rest.empty()) rest.remove_prefix(1);
    const std::pair<uint64_t, uint64_t> range = rest.empty() ? std::pair<uint64_t, uint64_t>{0, 0xFFFFFFFF}
                                                           : parse_range(rest, 0xFFFFFFFF, name);
    // Plain variables, not a structured binding: clang 14 (the fuzz build)
    // cannot capture those in a lambda.
    const uint64_t lo = range.first, hi = range.second;
    const auto mark = [&](std::bitset<kMsrRange>& r, std::bitset<kMsrRange>& w, uint64_t base) {
      for (uint64_t m = std::max(lo, base); m <= hi && m < base + kMsrRange; ++m) {
        if (reads) r.set(m - base, bit);
        if (writes) w.set(m - base, bit);
      }
    };
    mark(msr_read_low, msr_write_low, 0);
    mark(msr_read_high, msr_write_high, kMsrHighBase);
  } else {
    throw std::runtime_error(fmt::format("unknown VMCS control \"{}\" (see docs/HARDWARE_ASSISTED.md)", name));
  }
}

void Controls::load(std::string_view text) {
  const std::string_view body = trim(text);
  if (!body.empty() && body.front() == '{') {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(body);
    } catch (const nlohmann::json::parse_error& e) {
      throw std::runtime_error(std::string("not JSON: ") + e.what());
    }
    if (!j.is_object()) throw std::runtime_error("a VMCS file in JSON is an object of control: value");
    for (const auto& [name, value] : j.items()) {
      if (value.is_boolean()) set(name, value.get<bool>() ? "1" : "0");
      else if (value.is_number_unsigned()) set(name, std::to_string(value.get<uint64_t>()));
      else if (value.is_string()) set(name, value.get<std::string>());
      else throw std::runtime_error(fmt::format("{}: a value is a boolean, a non-negative integer or a string", name));
    }
    return;
  }
  unsigned line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (const size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = trim(line);
    if (line.empty()) continue;
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) throw std::runtime_error(fmt::format("line {}: expected name = value", line_no));
    try {
      set(line.substr(0, eq), line.substr(eq + 1));
    } catch (const std::runtime_error& e) {
      throw std::runtime_error(fmt::format("line {}: {}", line_no, e.what()));
    }
  }
}

std::string Controls::validate() const {
  if (unrestricted_guest && !enable_ept) return "unrestricted_guest needs enable_ept (SDM 26.2.1.1)";
  if (enable_ept) return "";
  // Shadow paging: the monitor must see every change of address space
  // and every page fault, or its shadow tables go stale.
  if (!(exception_bitmap & (1u << 14))) return "shadow paging (enable_ept = 0) needs exception_bitmap bit 14 (#PF)";
  if (!cr3_load_exiting) return "shadow paging (enable_ept = 0) needs cr3_load_exiting";
  if (!invlpg_exiting) return "shadow paging (enable_ept = 0) needs invlpg_exiting";
  if ((cr0_guest_host_mask & (cr0::PG | cr0::WP | cr0::PE)) != (cr0::PG | cr0::WP | cr0::PE))
    return "shadow paging (enable_ept = 0) needs CR0.PE, PG and WP in cr0_guest_host_mask";
  if ((cr4_guest_host_mask & (cr4::PSE | cr4::PAE | cr4::PGE)) != (cr4::PSE | cr4::PAE | cr4::PGE))
    return "shadow paging (enable_ept = 0) needs CR4.PSE, PAE and PGE in cr4_guest_host_mask";
  return "";
}

bool Controls::io_exits(uint16_t port, unsigned size) const {
  if (!use_io_bitmaps) return unconditional_io_exiting;
  // An access that wraps past port 0xFFFF always exits (SDM 25.1.3).
  if (uint32_t{port} + size > 0x10000) return true;
  for (unsigned i = 0; i < size; ++i)
    if (io_bitmap[port + i]) return true;
  return false;
}

bool Controls::msr_exits(uint32_t msr, bool write) const {
  if (!use_msr_bitmaps) return true;
  if (msr < kMsrRange) return write ? msr_write_low[msr] : msr_read_low[msr];
  if (msr - kMsrHighBase < kMsrRange) return write ? msr_write_high[msr - kMsrHighBase] : msr_read_high[msr - kMsrHighBase];
  return true;
}

nlohmann::json Controls::to_json() const {
  nlohmann::json j;
  for (const BoolControl& b : kBoolControls) j[std::string(b.group)][std::string(b.name)] = this->*b.field;
  j["pin_based_controls"] = fmt::format("{:#010x}", pin_word());
  j["primary_processor_based_controls"] = fmt::format("{:#010x}", primary_word());
  j["secondary_processor_based_controls"] = fmt::format("{:#010x}", secondary_word());
  j["vm_exit_controls"] = fmt::format("{:#010x}", exit_controls);
  j["exception_bitmap"] = fmt::format("{:#010x}", exception_bitmap);
  j["cr0_guest_host_mask"] = fmt::format("{:#x}", cr0_guest_host_mask);
  j["cr0_read_shadow"] = fmt::format("{:#x}", cr0_read_shadow);
  j["cr4_guest_host_mask"] = fmt::format("{:#x}", cr4_guest_host_mask);
  j["cr4_read_shadow"] = fmt::format("{:#x}", cr4_read_shadow);
  j["io_bitmap_exiting_ports"] = ranges(io_bitmap, 0, true);
  nlohmann::json reads = ranges(msr_read_low, 0, false), writes = ranges(msr_write_low, 0, false);
  for (auto& r : ranges(msr_read_high, kMsrHighBase, false)) reads.push_back(r);
  for (auto& w : ranges(msr_write_high, kMsrHighBase, false)) writes.push_back(w);
  j["msr_bitmap_passthrough"] = {{"read", reads}, {"write", writes}};
  return j;
}

Controls make_controls(std::string_view paging, std::string_view file_text, const std::vector<std::string>& settings) {
  if (paging != "nested" && paging != "shadow")
    throw std::invalid_argument(fmt::format("--hw-paging: \"{}\" is not shadow or nested", paging));
  Controls c = Controls::defaults(paging == "nested");
  try {
    c.load(file_text);
  } catch (const std::runtime_error& e) {
    throw std::invalid_argument(std::string("--vmcs: ") + e.what());
  }
  for (const std::string& s : settings) {
    const size_t eq = s.find('=');
    try {
      if (eq == std::string::npos) throw std::runtime_error(fmt::format("\"{}\" is not name=value", s));
      c.set(std::string_view(s).substr(0, eq), std::string_view(s).substr(eq + 1));
    } catch (const std::runtime_error& e) {
      throw std::invalid_argument(std::string("--vmcs-set: ") + e.what());
    }
  }
  if (c.enable_ept != (paging == "nested"))
    throw std::invalid_argument(fmt::format("--vmcs: enable_ept = {} contradicts --hw-paging {}", int{c.enable_ept}, paging));
  if (const std::string why = c.validate(); !why.empty()) throw std::invalid_argument("--vmcs: " + why);
  return c;
}

}  // namespace vtlab::vmx
