#include "privilege/trap_monitor.h"

#include <Zydis/Zydis.h>
#include <fmt/format.h>

#include "privilege/sensitivity.h"

namespace vtlab {

namespace {
Status ask_monitor(Cpu& cpu, const DecodedInsn& insn) { return cpu.raise_sensitive(insn); }

bool software_interrupt(uint16_t m) {
  return m == ZYDIS_MNEMONIC_INT || m == ZYDIS_MNEMONIC_INT3 || m == ZYDIS_MNEMONIC_INTO ||
         m == ZYDIS_MNEMONIC_INT1;
}
}  // namespace

// INT n is a hole too, but it always enters the monitor (an event), which
// delivers it as bare metal would: nothing to watch.
void TrapAndEmulateMonitor::on_block(Cpu&, uint64_t, uint64_t, std::vector<DecodedInsn>& insns) {
  for (DecodedInsn& insn : insns) {
    if (classify(insn).kind != Sensitivity::Hole || software_interrupt(insn.mnemonic)) continue;
    insn.original = insn.exec;
    insn.exec = &ask_monitor;
  }
}

InsnOutcome TrapAndEmulateMonitor::dry_run(Cpu& cpu, const DecodedInsn& insn, uint64_t next_rip) {
  // The dry run leaves no trace: registers, virtual state, memory (its
  // stores are discarded), breakpoint hits, and any stop it asked for.
  const CpuState saved = cpu.s;
  const VirtualCpu saved_v = v_;
  const uint8_t saved_hits = cpu.data_breakpoint_hits;
  const bool was_stopping = cpu.stop_requested() != StopReason::None;
  std::vector<CapturedWrite> writes;
  cpu.write_capture = &writes;
  cpu.discard_writes = true;
  shadow_.set_dry_run(true);
  InsnOutcome bare;
  {
    in_virtual_ = true;
    shadow_.set_virtual(true);
    VirtualContext guest(cpu, v_);
    cpu.next_rip = next_rip;
    const Status st = insn.original(cpu, insn);
    bare = observe(cpu.s, st, cpu.pending(), cpu.next_rip, cpu.s.flags.test(flag::IF),
                   (cpu.s.flags.bits() & flag::IOPL) >> 12);
  }
  shadow_.set_virtual(false);
  in_virtual_ = false;
  shadow_.set_dry_run(false);
  cpu.write_capture = nullptr;
  cpu.discard_writes = false;
  cpu.s = saved;
  v_ = saved_v;
  cpu.data_breakpoint_hits = saved_hits;
  if (!was_stopping) cpu.clear_stop();
  bare.writes = std::move(writes);
  return bare;
}

Monitor::Action TrapAndEmulateMonitor::trap_hole(Cpu& cpu, const DecodedInsn& insn) {
  CpuState& s = cpu.s;
  ExitCause why;
  why.kind = CauseKind::HoleTrapped;
  why.cpl = static_cast<uint8_t>(s.cpl());
  why.iopl = static_cast<uint8_t>((s.flags.bits() & flag::IOPL) >> flag::kIoplShift);
  why.insn = insn_form(insn);
  why.rule = hole_effect(insn);
  const uint64_t site = cpu.linear(CS, s.rip);
  const Status st = run_virtual(cpu, insn, (s.rip + insn.len) & all_ones(s.code_size()));
  // Counted like emulate()'s traps: when the guest's own fault follows,
  // that reflection is the one exit.
  if (st == Status::Ok || st == Status::Halt) {
    exit(cpu, ExitReason::PrivilegedInsn, insn.mnemonic, 0, std::move(why));
    ++trapped_holes_;
    if (trapped_sites_.size() < kMaxHoles) trapped_sites_.insert(site);
  }
  return finish(cpu, st, cpu.pending());
}

Monitor::Action TrapAndEmulateMonitor::on_sensitive(Cpu& cpu, const DecodedInsn& insn) {
  CpuState& s = cpu.s;
  if (policy_ == HolePolicy::Trap && s.cpl() == 1) return trap_hole(cpu, insn);
  const uint64_t site = cpu.linear(CS, s.rip);
  const uint64_t next_rip = (s.rip + insn.len) & all_ones(s.code_size());
  const bool watch = s.cpl() == 1 && holes_.size() < kMaxHoles && !hole_sites_.count(site);
  InsnOutcome bare;
  if (watch) bare = dry_run(cpu, insn, next_rip);
  std::vector<CapturedWrite> writes;
  if (watch) cpu.write_capture = &writes;
  cpu.next_rip = next_rip;
  const Status st = insn.original(cpu, insn);
  cpu.write_capture = nullptr;
  if (st == Status::Exception) {
    // It trapped after all: the monitor sees it, so it is no hole here.
    const PendingEvent ev = cpu.pending();
    if (ev.kind == PendingEvent::Kind::Fault) return on_event(cpu, ev, s.rip);
    return raised(cpu, ev);
  }
  if (st != Status::Ok) return Action::Handled;
  s.rip = cpu.next_rip;
  ++cpu.icount;
  if (!watch) return Action::Handled;
  InsnOutcome real = observe(s, st, cpu.pending(), s.rip, virtual_interrupts(cpu), v_.iopl);
  if (s.cpl() == 1) {
    real.selectors[CS] &= ~3;
    real.selectors[SS] &= ~3;
  }
  real.writes = std::move(writes);
  // Accessed bits the CPU sets in descriptors land in the shadow tables
  // on one side and the guest's on the other: not the instruction's result.
  std::erase_if(real.writes, [](const CapturedWrite& w) { return window::holds_table(w.lin); });
  std::erase_if(bare.writes, [this](const CapturedWrite& w) {
    const auto in = [&](uint64_t base, uint32_t limit) { return w.lin - base <= limit; };
    return in(v_.gdtr.base, v_.gdtr.limit) || (v_.ldtr.present() && in(v_.ldtr.base, v_.ldtr.limit));
  });
  Hole h{site, {}, {}, {}};
  if (!describe_difference(real, bare, h.observed, h.bare_metal)) return Action::Handled;
  // The text comes from the guest's bytes at the site, now behind us.
  DecodedInsn again;
  decode_at(cpu, (site - s.seg[CS].base) & 0xFFFFFFFF, again, &h.insn);
  hole_sites_.insert(site);
  holes_.push_back(std::move(h));
  if (strict_holes_) {
    const Hole& first = holes_.back();
    cpu.request_stop(StopReason::Unsupported,
                     fmt::format("virtualization hole at {:#010x} ({}): got {}; bare metal: {} (--strict-holes)",
                                 first.rip, first.insn, first.observed, first.bare_metal));
  }
  return Action::Handled;
}

}  // namespace vtlab
