#include "core/exits.h"

#include <nlohmann/json.hpp>

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
  if (sink_) sink_(r);
  return r.cost;
}

}  // namespace vtlab
