#include "gui/state_dump.h"

#include <fmt/format.h>

#include <algorithm>

#include "debugger/fault_explain.h"
#include "debugger/system_views.h"
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
  // The tables as the Descriptor tables panel shows them (the guest's own
  // or, toggled, the real CPU's) and the page tree's root.
  const bool real = st.show_real_tables && shadow_descriptor_tables(st.machine());
  const SystemTables t = system_tables(st.dbg(), real ? TablesSide::Real : TablesSide::Guest);
  line(fmt::format("tables {}: {}", t.side == TablesSide::Real ? "real" : "guest", t.whose));
  const auto present = [](const std::vector<DescriptorView>& v) {
    return std::count_if(v.begin(), v.end(), [](const DescriptorView& e) { return e.readable && e.d.present(); });
  };
  line(fmt::format("gdtr base {:x} limit {:x}", t.gdtr.base, t.gdtr.limit));
  line(fmt::format("gdt {} present", present(descriptor_table_view(t.gdtr, false, t.ia32e, 0, 8192, t.read))));
  line(fmt::format("idtr base {:x} limit {:x}", t.idtr.base, t.idtr.limit));
  line(fmt::format("idt {} present", present(interrupt_table_view(t.idtr, t.real_mode, t.ia32e, 0, 256, t.read))));
  line(fmt::format("ldtr {:04x} base {:x} limit {:x}", t.ldtr.selector, t.ldtr.base, t.ldtr.limit));
  for (const DescriptorView& e : ldt_view(t))
    if (e.readable && (e.d.lo || e.d.hi))
      line(fmt::format("ldt {:04x} base {:x} limit {:x} dpl {} {}{}", e.selector, e.d.base(), e.d.limit(), e.d.dpl(),
                       e.type_text, e.d.present() ? "" : " (not present)"));
  const TssView tss = tss_view(t);
  line(fmt::format("tr {:04x} base {:x} limit {:x} tss {}", t.tr.selector, t.tr.base, t.tr.limit,
                   tss.format ? fmt::format("{}-bit", tss.format) : std::string("none")));
  for (const TssField& f : tss.fields) line(fmt::format("tss {} {:x}", f.name, f.value));
  const PagingRegisters g = guest_paging(st.machine().cpu());
  line(fmt::format("page-tree cr3 {:x} {}", g.cr3, paging_mode_name(paging_mode(g.cr0, g.cr4, s.efer))));
  if (const ShadowMmu* shadow = shadow_page_tables(st.machine()))
    line(fmt::format("shadow-pages {}", shadow->pages().size()));
  line(fmt::format("tlb {} valid", tlb_view(st.machine().cpu()).size()));
  line(fmt::format("exits {}", st.machine().exits().total()));
  for (const Breakpoint& b : st.dbg().breakpoints())
    line(fmt::format("breakpoint {} {:x} hits {}", b.id, b.address, b.hits));
  line(fmt::format("serial {} bytes", st.machine().serial_transcript().size()));
  // The Faults panel's text, line by line.
  const std::string faults = explain_machine_faults(st.machine());
  for (size_t at = 0; at < faults.size();) {
    const size_t nl = faults.find('\n', at);
    line("fault " + faults.substr(at, nl - at));
    at = nl == std::string::npos ? faults.size() : nl + 1;
  }
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
