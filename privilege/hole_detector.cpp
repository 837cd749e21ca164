#include "privilege/hole_detector.h"

#include <fmt/format.h>

namespace vtlab {

InsnOutcome observe(const CpuState& s, Status st, const PendingEvent& pending, uint64_t next_rip, bool virtual_if,
                    unsigned virtual_iopl) {
  InsnOutcome o;
  o.faulted = st == Status::Exception;
  if (o.faulted) {
    o.vector = pending.vector;
    o.error = pending.error;
  }
  for (unsigned i = 0; i < o.gpr.size(); ++i) o.gpr[i] = s.gpr[i] & 0xFFFFFFFF;
  o.rip = st == Status::Ok ? next_rip : s.rip;
  o.flags = static_cast<uint32_t>(s.flags.bits()) & ~(flag::IF | flag::IOPL | flag::RF);
  o.interrupts = virtual_if;
  o.iopl = virtual_iopl;
  for (unsigned i = 0; i < kNumSegRegs; ++i) o.selectors[i] = s.seg[i].selector;
  return o;
}

namespace {
constexpr const char* kGprNames[] = {"EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI"};
constexpr const char* kSegNames[] = {"ES", "CS", "SS", "DS", "FS", "GS"};
struct FlagName {
  uint32_t bit;
  const char* name;
};
constexpr FlagName kFlagNames[] = {{flag::CF, "CF"}, {flag::PF, "PF"}, {flag::AF, "AF"}, {flag::ZF, "ZF"},
                                   {flag::SF, "SF"}, {flag::TF, "TF"}, {flag::DF, "DF"}, {flag::OF, "OF"},
                                   {flag::NT, "NT"}, {flag::AC, "AC"}};

std::string event_text(const InsnOutcome& o) {
  return o.faulted ? fmt::format("#{}({:#06x})", o.vector == vec::GP ? "GP" : fmt::format("{}", o.vector), o.error)
                   : "no fault";
}

void add(std::string& out, const std::string& item) {
  if (!out.empty()) out += ", ";
  out += item;
}
}  // namespace

bool describe_difference(const InsnOutcome& real, const InsnOutcome& bare, std::string& observed,
                         std::string& bare_metal) {
  observed.clear();
  bare_metal.clear();
  auto differ = [&](const std::string& r, const std::string& b) {
    add(observed, r);
    add(bare_metal, b);
  };
  if (real.faulted != bare.faulted || (real.faulted && (real.vector != bare.vector || real.error != bare.error))) {
    differ(event_text(real), event_text(bare));
    return true;  // the rest of the state is not comparable
  }
  for (unsigned i = 0; i < real.gpr.size(); ++i)
    if (real.gpr[i] != bare.gpr[i])
      differ(fmt::format("{} {:#010x}", kGprNames[i], real.gpr[i]), fmt::format("{} {:#010x}", kGprNames[i], bare.gpr[i]));
  for (const FlagName& f : kFlagNames)
    if ((real.flags ^ bare.flags) & f.bit)
      differ(fmt::format("{} {}", f.name, (real.flags & f.bit) ? 1 : 0),
             fmt::format("{} {}", f.name, (bare.flags & f.bit) ? 1 : 0));
  if (real.interrupts != bare.interrupts)
    differ(fmt::format("IF {}", real.interrupts ? 1 : 0), fmt::format("IF {}", bare.interrupts ? 1 : 0));
  if (real.iopl != bare.iopl) differ(fmt::format("IOPL {}", real.iopl), fmt::format("IOPL {}", bare.iopl));
  for (unsigned i = 0; i < kNumSegRegs; ++i)
    if (real.selectors[i] != bare.selectors[i])
      differ(fmt::format("{} {:#06x}", kSegNames[i], real.selectors[i]),
             fmt::format("{} {:#06x}", kSegNames[i], bare.selectors[i]));
  if (real.rip != bare.rip) differ(fmt::format("EIP {:#010x}", real.rip), fmt::format("EIP {:#010x}", bare.rip));
  const size_t n = std::max(real.writes.size(), bare.writes.size());
  for (size_t i = 0; i < n; ++i) {
    auto text = [](const std::vector<CapturedWrite>& w, size_t k) {
      if (k >= w.size()) return std::string("nothing stored");
      return fmt::format("stored {:#0{}x} at {:#010x}", w[k].value, 2 + 2 * w[k].size, w[k].lin);
    };
    const bool same = i < real.writes.size() && i < bare.writes.size() && real.writes[i].lin == bare.writes[i].lin &&
                      real.writes[i].size == bare.writes[i].size && real.writes[i].value == bare.writes[i].value;
    if (!same) differ(text(real.writes, i), text(bare.writes, i));
  }
  return !observed.empty();
}

}  // namespace vtlab
