#include "core/exits.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <stdexcept>

namespace vtlab {

namespace {
constexpr std::array<std::string_view, kExitReasons> kNames = {
    "privileged-insn", "sensitive-insn", "guest-exception",   "io",               "mmio",
    "hlt",             "cpuid",          "msr-read",          "msr-write",        "cr-access",
    "invlpg",          "page-table-write", "hidden-page-fault", "external-interrupt", "interrupt-window",
    "hypercall",       "bt-translate",   "bt-callout",        "tc-flush",         "shutdown",
};
}  // namespace

std::string_view exit_reason_name(ExitReason r) { return kNames.at(static_cast<size_t>(r)); }

std::optional<ExitReason> exit_reason_from_name(std::string_view name) {
  for (size_t i = 0; i < kExitReasons; ++i)
    if (kNames[i] == name) return static_cast<ExitReason>(i);
  return std::nullopt;
}

namespace {
// "PG", "PE|PG": the named control-register bits in `bits`, else hex.
std::string cr_bits(uint64_t bits, bool cr4) {
  static constexpr std::array<std::string_view, 32> kCr0 = {
      "PE", "MP", "EM", "TS", "ET", "NE", "", "", "", "", "", "", "", "", "", "",
      "WP", "", "AM", "", "", "", "", "", "", "", "", "", "", "NW", "CD", "PG"};
  static constexpr std::array<std::string_view, 32> kCr4 = {
      "VME", "PVI", "TSD", "DE", "PSE", "PAE", "MCE", "PGE", "PCE", "OSFXSR", "OSXMMEXCPT", "UMIP", "LA57",
      "VMXE", "SMXE", "", "FSGSBASE", "PCIDE", "OSXSAVE", "", "SMEP", "SMAP", "PKE", "CET", "PKS"};
  std::string out;
  for (unsigned b = 0; b < 64; ++b) {
    if (!((bits >> b) & 1)) continue;
    const std::string_view name = b < 32 ? (cr4 ? kCr4[b] : kCr0[b]) : std::string_view{};
    if (!out.empty()) out += '|';
    if (name.empty()) out += fmt::format("bit {}", b);
    else out += name;
  }
  return out;
}

constexpr std::array<std::string_view, 32> kVectorNames = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "", "#TS", "#NP", "#SS", "#GP", "#PF", "",
    "#MF", "#AC", "#MC", "#XM", "#VE", "#CP"};

std::string vector_text(uint64_t v) {
  const std::string_view name = v < kVectorNames.size() ? kVectorNames[v] : std::string_view{};
  return name.empty() ? fmt::format("{}", v) : fmt::format("{} ({})", v, name);
}
}  // namespace

std::string exit_cause_text(const ExitRecord& r) {
  const ExitCause& c = r.cause;
  switch (c.kind) {
    case CauseKind::None: return {};
    case CauseKind::IoBitmap:
      return fmt::format("I/O bitmap {} bit for port {:#x} set", c.arg < 0x8000 ? 'A' : 'B', c.arg);
    case CauseKind::IoWraps: return "the access wraps past port 0xffff, which always exits";
    case CauseKind::UnconditionalIo: return "unconditional I/O exiting (I/O bitmaps off)";
    case CauseKind::MsrReadBitmap: return fmt::format("MSR read bitmap bit for {:#x} set", c.arg);
    case CauseKind::MsrWriteBitmap: return fmt::format("MSR write bitmap bit for {:#x} set", c.arg);
    case CauseKind::MsrOutsideBitmaps:
      return fmt::format("MSR {:#x} is outside the MSR bitmaps' ranges, which always exits", c.arg);
    case CauseKind::MsrBitmapsOff: return "MSR bitmaps off: every RDMSR and WRMSR exits";
    case CauseKind::Cr0Owned:
      return fmt::format("CR0 guest/host mask owns {}, written unlike the read shadow", cr_bits(c.arg, false));
    case CauseKind::Cr4Owned:
      return fmt::format("CR4 guest/host mask owns {}, written unlike the read shadow", cr_bits(c.arg, true));
    case CauseKind::CltsOwned: return "CR0 guest/host mask owns TS, set in the read shadow (CLTS)";
    case CauseKind::LmswOwned:
      return fmt::format("CR0 guest/host mask owns {}, which LMSW changes against the read shadow", cr_bits(c.arg, false));
    case CauseKind::Cr3Load: return "CR3-load exiting on";
    case CauseKind::Cr3Store: return "CR3-store exiting on";
    case CauseKind::Cr8Load: return "CR8-load exiting on";
    case CauseKind::Cr8Store: return "CR8-store exiting on";
    case CauseKind::MovDr: return "MOV-DR exiting on";
    case CauseKind::CpuidAlways: return "CPUID always exits in VMX non-root operation";
    case CauseKind::HltExiting: return "HLT exiting";
    case CauseKind::InvlpgExiting: return "INVLPG exiting";
    case CauseKind::RdtscExiting: return "RDTSC exiting";
    case CauseKind::MwaitExiting: return "MWAIT exiting";
    case CauseKind::MonitorExiting: return "MONITOR exiting";
    case CauseKind::DescriptorTableExiting: return "descriptor-table exiting";
    case CauseKind::ExceptionBitmap: return fmt::format("exception bitmap bit {}", vector_text(c.arg));
    case CauseKind::ExternalInterruptExiting: return fmt::format("external-interrupt exiting (vector {:#x})", c.arg);
    case CauseKind::InterruptWindowExiting: return "interrupt-window exiting";
    case CauseKind::EptViolation:
      return fmt::format("EPT violation: guest-physical {:#x} is not mapped by the EPT (a device page)", c.arg);
    case CauseKind::TripleFaultAlways: return "a triple fault always exits";
    case CauseKind::ShadowPageFault:
      if (r.reason == ExitReason::PageTableWrite)
        return fmt::format("exception bitmap bit 14 (#PF): a write to the traced guest page table at linear {:#x}",
                           c.arg);
      return fmt::format("exception bitmap bit 14 (#PF): no shadow page-table entry for linear {:#x}", c.arg);
    case CauseKind::EntryFailure: return c.detail ? *c.detail : std::string("VM entry failed");
    case CauseKind::Reflected:
      return fmt::format("vector {} at CPL {}: the monitor reflects it through the guest's IDT", vector_text(c.arg),
                         c.cpl);
    case CauseKind::Privileged: return fmt::format("{} is privileged: #GP at CPL {}", c.insn, c.cpl);
    case CauseKind::IoplSensitive:
      return fmt::format("{} at CPL {} faults: IOPL {} < CPL", c.insn, c.cpl, c.iopl);
    case CauseKind::PortIo:
      return fmt::format("{} at CPL {} faults: IOPL {} < CPL and the TSS I/O bitmap refuses port {:#x}", c.insn, c.cpl,
                         c.iopl, c.arg);
    case CauseKind::RingCompression:
      return fmt::format("{} at CPL {} faults: {} (ring compression)", c.insn, c.cpl, c.rule);
    case CauseKind::TranslatedCallout:
      // arg: the sensitivity class (privilege/sensitivity.h): 2 IOPL-sensitive, 3 a hole.
      if (c.arg == 3)
        return fmt::format("{} at CPL {} {}: a virtualization hole, translated into a monitor call", c.insn, c.cpl,
                           c.rule);
      if (c.arg == 2)
        return fmt::format("{} at CPL {} is IOPL-sensitive (IOPL {} < CPL): translated into a monitor call", c.insn,
                           c.cpl, c.iopl);
      return fmt::format("{} is privileged: translated into a monitor call", c.insn);
    case CauseKind::TranslateBlock: return "guest kernel code (CPL 1) runs only translated";
    case CauseKind::TcFull: return "the translation cache is full (--bt-tc-blocks)";
    case CauseKind::DeviceInterrupt:
      return fmt::format("device interrupt (vector {:#x}): delivered by the monitor through the guest's IDT", c.arg);
    case CauseKind::VirtualIfOpened: return "the guest's virtual IF went to 1 with an interrupt pending";
    case CauseKind::ShadowFill: return "the shadow page table had no entry: filled from the guest's walk";
    case CauseKind::TracedWrite: return "a write to a write-protected (traced) guest page-table or descriptor-table page";
    case CauseKind::HoleTrapped:
      return fmt::format("{} at CPL {} is a virtualization hole ({}): with --holes trap it traps as if privileged",
                         c.insn, c.cpl, c.rule);
  }
  return {};
}

std::string exit_line(const ExitRecord& r) {
  std::string line = fmt::format("t {:>10}  {:<18} key {:#06x}  rip {:08x}  cpl {}  {} cycles", r.time,
                                 exit_reason_name(r.reason), r.key, r.rip, r.cpl, r.cost);
  if (std::string why = exit_cause_text(r); !why.empty()) line += "  <- " + why;
  return line;
}

// Round figures of the right order, not measurements of one CPU: see
// docs/EXITS.md for the reasoning and the published figures they follow.
CostModel::CostModel() {
  set(ExitReason::PrivilegedInsn, 2000);
  set(ExitReason::SensitiveInsn, 0);  // observed, no transition
  set(ExitReason::GuestException, 2000);
  set(ExitReason::Io, 2000);
  set(ExitReason::Mmio, 3000);
  set(ExitReason::Hlt, 1000);
  set(ExitReason::Cpuid, 1000);
  set(ExitReason::MsrRead, 1000);
  set(ExitReason::MsrWrite, 1000);
  set(ExitReason::CrAccess, 1000);
  set(ExitReason::Invlpg, 1000);
  set(ExitReason::PageTableWrite, 2000);
  set(ExitReason::HiddenPageFault, 2000);
  set(ExitReason::ExternalInterrupt, 1500);
  set(ExitReason::InterruptWindow, 1000);
  set(ExitReason::Hypercall, 500);
  set(ExitReason::BtTranslate, 5000);
  set(ExitReason::BtCallout, 200);
  set(ExitReason::TcFlush, 10000);
  set(ExitReason::Shutdown, 0);
}

void CostModel::load_json(const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw std::runtime_error(std::string("not JSON: ") + e.what());
  }
  if (!j.is_object()) throw std::runtime_error("a cost model is a JSON object of reason: cycles");
  CostModel updated = *this;
  for (const auto& [name, value] : j.items()) {
    if (name == "vm-round-trip") {
      if (!value.is_number_unsigned()) throw std::runtime_error("\"" + name + "\": cycles must be a non-negative integer");
      updated.set_vm_round_trip(value.get<uint64_t>());
      continue;
    }
    const std::optional<ExitReason> r = exit_reason_from_name(name);
    if (!r) throw std::runtime_error("unknown exit reason \"" + name + "\" (see docs/EXITS.md)");
    if (!value.is_number_unsigned()) throw std::runtime_error("\"" + name + "\": cycles must be a non-negative integer");
    updated.set(*r, value.get<uint64_t>());
  }
  *this = updated;
}

void ExitFigures::add(uint64_t cost, uint64_t time) {
  if (count) {
    const uint64_t gap = time >= last_time ? time - last_time : 0;
    const size_t k = gap ? static_cast<size_t>(std::bit_width(gap) - 1) : 0;
    if (gap_log2.size() <= k) gap_log2.resize(k + 1);
    ++gap_log2[k];
  }
  min_cost = count ? std::min(min_cost, cost) : cost;
  max_cost = std::max(max_cost, cost);
  ++count;
  total_cost += cost;
  last_time = time;
}

namespace {
// A guest picks keys and RIPs: past kMaxKeys the rest share one row.
template <typename Key>
ExitFigures& row(std::map<Key, ExitFigures>& rows, Key key, Key other) {
  auto it = rows.find(key);
  if (it != rows.end()) return it->second;
  if (rows.size() < ExitLog::kMaxKeys) return rows[key];
  return rows[other];
}
}  // namespace

uint64_t ExitLog::record(ExitRecord r) {
  r.cost = costs_.cycles(r.reason) + (r.vmx_reason != ExitRecord::kNoVmxReason ? costs_.vm_round_trip() : 0);
  ReasonCount& c = counts_[static_cast<size_t>(r.reason)];
  ++c.count;
  c.cycles += r.cost;
  auto it = c.by_key.find(r.key);
  if (it != c.by_key.end()) ++it->second;
  else if (c.by_key.size() < kMaxKeys) c.by_key.emplace(r.key, 1);
  else ++c.by_key[kOtherKey];
  ++total_;
  total_cycles_ += r.cost;
  ReasonFigures& f = figures_[static_cast<size_t>(r.reason)];
  f.all.add(r.cost, r.time);
  row(f.by_key, r.key, kOtherKey).add(r.cost, r.time);
  row(f.by_rip, r.rip, kOtherRip).add(r.cost, r.time);
  all_.add(r.cost, r.time);
  if (sink_) sink_(r);
  const uint64_t cost = r.cost;
  recent_[recent_next_ % kRecent] = std::move(r);
  ++recent_next_;
  return cost;
}

std::vector<ExitRecord> ExitLog::recent(size_t n) const {
  n = std::min({n, kRecent, recent_next_});
  std::vector<ExitRecord> out;
  for (size_t i = recent_next_ - n; i < recent_next_; ++i) out.push_back(recent_[i % kRecent]);
  return out;
}

}  // namespace vtlab
