#include "gui/state_dump.h"

#include <fmt/format.h>

#include "mmu/walk_explain.h"

namespace vtlab::gui {

namespace {

std::string set_bits(const std::vector<NamedBit>& bits) {
  std::string s;
  for (const NamedBit& b : bits)
    if (b.set) s += std::string(s.empty() ? "" : " ") + b.name;
  return s;
}

}  // namespace

std::string dump_state(GuiState& st) {
  static const char* const kNames[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                         "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
  std::string out;
  const auto line = [&out](const std::string& s) { out += s + "\n"; };
  const RegistersView v = registers_view(st.machine().cpu());
  const CpuState& s = st.machine().cpu().s;
  line(fmt::format("vm-mode {}", st.mode));
  line(fmt::format("status {}", st.status));
  line(fmt::format("cpu {} cpl {} code {}-bit", cpu_mode_name(v.mode), v.cpl, v.code_size * 8));
  line(fmt::format("at {:04x}:{:x}", s.seg[CS].selector, v.rip));
  const unsigned n = v.wide ? 16 : 8;
  for (unsigned i = 0; i < n; ++i) {
    const std::string name = v.wide ? kNames[i] : std::string("e") + (kNames[i] + 1);
    line(fmt::format("{} {:x}{}", name, v.gpr[i], v.gpr[i] != st.before.gpr[i] ? " *" : ""));
  }
  line(fmt::format("{} {:x}{}", v.wide ? "rip" : "eip", v.rip, v.rip != st.before.rip ? " *" : ""));
  line(fmt::format("{} {:x} [{}]", v.wide ? "rflags" : "eflags", v.rflags, set_bits(v.flags)));
  const ControlView cv = control_view(s);
  for (size_t i = 0; i < cv.regs.size(); ++i) {
    const ControlRegView& r = cv.regs[i];
    const bool changed = i < st.before_cr.regs.size() && st.before_cr.regs[i].value != r.value;
    line(fmt::format("{} {:x} [{}]{}", r.name, r.value, set_bits(r.bits), changed ? " *" : ""));
  }
  line(fmt::format("paging {}", paging_mode_name(cv.paging)));
  for (const SegmentView& g : segments_view(s).segs)
    line(fmt::format("{} {:04x} base {:x} limit {:x} dpl {} {}", g.name, g.selector, g.base, g.limit, g.dpl,
                     g.type_text));
  if (const std::optional<uint64_t> lin = parse_hex(st.walk_addr)) {
    const Access a = st.walk_access == 1 ? Access::Write : st.walk_access == 2 ? Access::Execute : Access::Read;
    const WalkExplanation w = explain_walk(st.dbg(), *lin, a, st.walk_user);
    line(w.ok ? fmt::format("walk {:x} -> {:x}", *lin, w.t.phys)
              : fmt::format("walk {:x} -> #PF({:#x})", *lin, w.error_code));
  }
  unsigned gdt = 0;
  for (const DescriptorView& e : gdt_view(st.dbg(), 0, 8192)) gdt += e.readable && e.d.present();
  line(fmt::format("gdt {} present", gdt));
  line(fmt::format("tlb {} valid", tlb_view(st.machine().cpu()).size()));
  line(fmt::format("exits {}", st.machine().exits().total()));
  for (const Breakpoint& b : st.dbg().breakpoints())
    line(fmt::format("breakpoint {} {:x} hits {}", b.id, b.address, b.hits));
  line(fmt::format("serial {} bytes", st.machine().serial_transcript().size()));
  // The Compare window, once a comparison has run: each mode's figures,
  // then its exits per reason (the ones that occurred).
  if (!st.compare->running())
    for (const CompareRow& r : st.compare->rows()) {
      const ModeFigures& f = r.figures;
      if (!r.error.empty()) {
        line(fmt::format("compare {} not run: {}", r.mode, r.error));
        continue;
      }
      line(fmt::format("compare {} stop {} instructions {} virtual-time {} exits {} cycles {} holes {} serial {}",
                       r.mode, stop_reason_name(r.result.reason), f.instructions, f.virtual_time, f.exits,
                       f.exit_cycles, f.holes_found, r.same_serial ? "same" : "differs"));
      for (size_t i = 0; i < kExitReasons; ++i)
        if (f.by_reason[i])
          line(fmt::format("compare {} exit {} {}", r.mode, exit_reason_name(static_cast<ExitReason>(i)),
                           f.by_reason[i]));
    }
  return out;
}

}  // namespace vtlab::gui
