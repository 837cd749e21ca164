#include "privilege/trap_monitor.h"

#include <Zydis/Zydis.h>
#include <fmt/format.h>

#include "core/isa/operands.h"
#include "privilege/interrupts.h"
#include "privilege/sensitivity.h"

namespace vtlab {

namespace {
// The real CR0 while the guest runs: protected mode, paging (on the shadow
// tables), WP (so ring 1 cannot write through read-only shadow entries),
// NE; MP, EM, TS and AM are the guest's, since they change what its own
// instructions do.
constexpr uint64_t kRealCr0 = cr0::PE | cr0::ET | cr0::NE | cr0::WP | cr0::PG;
constexpr uint64_t kGuestCr0Bits = cr0::MP | cr0::EM | cr0::TS | cr0::AM;

Status ask_monitor(Cpu& cpu, const DecodedInsn&) { return cpu.raise_sensitive(); }

bool software_interrupt(uint16_t m) {
  return m == ZYDIS_MNEMONIC_INT || m == ZYDIS_MNEMONIC_INT3 || m == ZYDIS_MNEMONIC_INTO ||
         m == ZYDIS_MNEMONIC_INT1;
}

// Which exit an emulated instruction is, and its key (docs/EXITS.md).
std::pair<ExitReason, uint32_t> exit_for(const Cpu& cpu, const DecodedInsn& i) {
  switch (static_cast<ZydisMnemonic>(i.mnemonic)) {
    case ZYDIS_MNEMONIC_IN:
    case ZYDIS_MNEMONIC_OUT:
    case ZYDIS_MNEMONIC_INSB:
    case ZYDIS_MNEMONIC_INSW:
    case ZYDIS_MNEMONIC_INSD:
    case ZYDIS_MNEMONIC_OUTSB:
    case ZYDIS_MNEMONIC_OUTSW:
    case ZYDIS_MNEMONIC_OUTSD: {
      for (const Operand& op : i.op)
        if (op.kind == OpKind::Imm) return {ExitReason::Io, static_cast<uint32_t>(i.imm & 0xFF)};
      return {ExitReason::Io, static_cast<uint32_t>(cpu.s.gpr[RDX] & 0xFFFF)};
    }
    case ZYDIS_MNEMONIC_HLT: return {ExitReason::Hlt, 0};
    case ZYDIS_MNEMONIC_INVLPG: return {ExitReason::Invlpg, 0};
    case ZYDIS_MNEMONIC_RDMSR: return {ExitReason::MsrRead, static_cast<uint32_t>(cpu.s.gpr[RCX])};
    case ZYDIS_MNEMONIC_WRMSR: return {ExitReason::MsrWrite, static_cast<uint32_t>(cpu.s.gpr[RCX])};
    case ZYDIS_MNEMONIC_CLTS:
    case ZYDIS_MNEMONIC_LMSW: return {ExitReason::CrAccess, 16};
    case ZYDIS_MNEMONIC_MOV:
      if (i.op[0].kind == OpKind::Creg) return {ExitReason::CrAccess, 16u + i.op[0].reg};
      if (i.op[1].kind == OpKind::Creg) return {ExitReason::CrAccess, i.op[1].reg};
      break;
    default: break;
  }
  return {ExitReason::PrivilegedInsn, i.mnemonic};
}

bool privilege_fault(const PendingEvent& ev) {
  return ev.kind == PendingEvent::Kind::Fault &&
         (ev.vector == vec::GP || ev.vector == vec::NP || ev.vector == vec::SS || ev.vector == vec::TS);
}
}  // namespace

TrapAndEmulateMonitor::TrapAndEmulateMonitor(bool strict_holes)
    : shadow_(v_, [this](Cpu& cpu, ExitReason r, uint32_t key) { note(cpu, r, key); }),
      strict_holes_(strict_holes) {
  shadow_.set_resync([this](Cpu& cpu) {
    tables_.rebuild(cpu, v_);
    shadow_.trace_descriptor_tables(cpu);
  });
}

unsigned TrapAndEmulateMonitor::guest_cpl(const Cpu& cpu) const {
  const unsigned cpl = cpu.s.cpl();
  return !in_virtual_ && cpl == 1 ? 0 : cpl;
}

void TrapAndEmulateMonitor::begin(Cpu& cpu) {
  cpu_ = &cpu;
  CpuState& s = cpu.s;
  if (!s.protected_mode() || s.v8086()) {
    cpu.unsupported("trap mode runs guests that start in 32-bit protected mode (multiboot or --flat); this one is "
                    "in real mode");
    return;
  }
  if (started_) return;
  v_.capture(s);
  if ((v_.cr0 & cr0::PG) && (v_.cr4 & cr4::PAE)) {
    cpu.unsupported("trap mode: the guest uses PAE paging, which the shadow page tables do not model yet");
    return;
  }
  tables_.attach(cpu);
  cpu.translation_hook = &shadow_;
  inner_ = cpu.intc;
  cpu.intc = this;
  started_ = true;
  shadow_.flush(cpu);
  tables_.rebuild(cpu, v_);
  shadow_.trace_descriptor_tables(cpu);
  compress_rings(s);
  install_real(cpu, v_);
}

bool TrapAndEmulateMonitor::intr_pending() {
  if (!inner_) return false;
  if (!v_.interrupts && !(cpu_ && cpu_->s.cpl() == 3)) return false;
  return inner_->intr_pending();
}

void TrapAndEmulateMonitor::on_decode(DecodedInsn& insn) {
  if (classify(insn).kind == Sensitivity::Hole && !software_interrupt(insn.mnemonic)) insn.exec = &ask_monitor;
}

Monitor::Action TrapAndEmulateMonitor::on_event(Cpu& cpu, const PendingEvent& ev, uint64_t return_rip) {
  if (!started_) return Action::Deliver;
  // Guest user code runs with interrupts on: the kernel's IRET to ring 3
  // cannot tell the monitor otherwise (at ring 1 it leaves the real IF).
  if (cpu.s.cpl() == 3) v_.interrupts = true;
  switch (ev.kind) {
    case PendingEvent::Kind::Sensitive:
      return watch_hole(cpu);
    case PendingEvent::Kind::External:
      note(cpu, ExitReason::ExternalInterrupt, ev.vector);
      break;
    case PendingEvent::Kind::Fault:
    case PendingEvent::Kind::Trap:
    case PendingEvent::Kind::SoftwareInt:
      if (privilege_fault(ev)) return emulate(cpu, ev);
      note(cpu, ExitReason::GuestException, ev.vector);
      break;
  }
  reflect(cpu, ev, return_rip);
  return Action::Handled;
}

void TrapAndEmulateMonitor::reflect(Cpu& cpu, const PendingEvent& ev, uint64_t return_rip) {
  const VirtualCpu before = v_;
  {
    in_virtual_ = true;
    shadow_.set_virtual(true);
    VirtualContext guest(cpu, v_);
    deliver_event(cpu, ev, return_rip);
  }
  shadow_.set_virtual(false);
  in_virtual_ = false;
  ++cpu.events;
  if (cpu.stop_requested() == StopReason::Shutdown) note(cpu, ExitReason::Shutdown, 0);
  install_real(cpu, before);
}

Monitor::Action TrapAndEmulateMonitor::emulate(Cpu& cpu, const PendingEvent& ev) {
  DecodedInsn insn;
  if (!decode_at_rip(cpu, insn)) {
    note(cpu, ExitReason::GuestException, ev.vector);
    reflect(cpu, ev, cpu.s.rip);
    return Action::Handled;
  }
  CpuState& s = cpu.s;
  const auto [reason, key] = exit_for(cpu, insn);
  const uint64_t next_rip = (s.rip + insn.len) & all_ones(s.code_size());
  uint64_t invlpg_at = 0;
  if (reason == ExitReason::Invlpg) invlpg_at = cpu.linear(insn.mem.seg, isa::effective_address(cpu, insn));
  const VirtualCpu before = v_;
  Status st;
  {
    in_virtual_ = true;
    shadow_.set_virtual(true);
    VirtualContext guest(cpu, v_);
    cpu.next_rip = next_rip;
    st = insn.exec(cpu, insn);
  }
  shadow_.set_virtual(false);
  in_virtual_ = false;
  const PendingEvent raised_ev = cpu.pending();
  switch (st) {
    case Status::Ok:
    case Status::Halt:
      note(cpu, reason, key);
      s.rip = cpu.next_rip;
      ++cpu.icount;
      if (reason == ExitReason::Invlpg) shadow_.invalidate(cpu, invlpg_at);
      break;
    case Status::Exception:
      // Bare metal faults too: the guest gets that fault.
      install_real(cpu, before);
      return raised(cpu, raised_ev);
    case Status::Stop:
      break;
  }
  install_real(cpu, before);
  if (st != Status::Halt) return Action::Handled;
  if (!v_.interrupts) cpu.request_stop(StopReason::Halted, "HLT with interrupts disabled");
  return Action::Halt;
}

Monitor::Action TrapAndEmulateMonitor::raised(Cpu& cpu, const PendingEvent& ev) {
  if (ev.kind == PendingEvent::Kind::Fault) {
    note(cpu, ExitReason::GuestException, ev.vector);
    reflect(cpu, ev, cpu.s.rip);
    return Action::Handled;
  }
  // A trap or INT n that the instruction completed with.
  const Action a = on_event(cpu, ev, cpu.next_rip);
  ++cpu.icount;
  return a;
}

void TrapAndEmulateMonitor::install_real(Cpu& cpu, const VirtualCpu& before) {
  CpuState& s = cpu.s;
  if (!(v_.cr0 & cr0::PE)) {
    cpu.unsupported("trap mode: the guest left protected mode, which the trap monitor does not virtualize");
  } else if ((v_.cr0 & cr0::PG) && (v_.cr4 & cr4::PAE)) {
    cpu.unsupported("trap mode: the guest turned on PAE paging, which the shadow page tables do not model yet");
  }
  const bool paging_changed = v_.cr3 != before.cr3 || ((v_.cr0 ^ before.cr0) & (cr0::PG | cr0::WP)) ||
                              ((v_.cr4 ^ before.cr4) & (cr4::PSE | cr4::PAE | cr4::PGE));
  if (paging_changed) shadow_.flush(cpu);
  const bool tables_changed = paging_changed || v_.gdtr.base != before.gdtr.base ||
                              v_.gdtr.limit != before.gdtr.limit || v_.ldtr.selector != before.ldtr.selector ||
                              v_.ldtr.base != before.ldtr.base || v_.ldtr.limit != before.ldtr.limit;
  if (tables_changed || shadow_.take_descriptor_write()) {
    tables_.rebuild(cpu, v_);
    shadow_.trace_descriptor_tables(cpu);
  }
  s.cr0 = kRealCr0 | (v_.cr0 & kGuestCr0Bits);
  s.cr2 = v_.cr2;
  s.cr3 = PhysicalMemory::kPrivateBase;  // the shadow's root: ShadowMmu answers every TLB miss
  s.cr4 = v_.cr4;
  s.flags.set(flag::IF, true);
  s.flags.set(flag::IOPL, false);
  s.msrs[msr::kSysenterCs] = 0;  // SYSENTER faults, and the monitor redoes it
  tables_.install(s, v_);
  if (v_.interrupts && !before.interrupts && inner_ && inner_->intr_pending())
    note(cpu, ExitReason::InterruptWindow, 0);
  if (v_.interrupts || s.cpl() == 3) cpu.intr_changed();
}

bool TrapAndEmulateMonitor::decode_at_rip(Cpu& cpu, DecodedInsn& insn, std::string* text) {
  uint8_t bytes[16];
  size_t n = 0;
  const uint64_t lin = cpu.linear(CS, cpu.s.rip);
  for (; n < 15; ++n) {
    uint64_t b;
    if (!peek_guest(cpu, v_, lin + n, 1, b)) break;
    bytes[n] = static_cast<uint8_t>(b);
  }
  if (n == 0 || decoder_.decode(bytes, n, cpu.s.code_size(), insn) != DecodeStatus::Ok) return false;
  if (text) *text = Decoder::format(bytes, n, cpu.s.code_size(), cpu.s.rip);
  return true;
}

InsnOutcome TrapAndEmulateMonitor::dry_run(Cpu& cpu, const DecodedInsn& insn, uint64_t next_rip) {
  const CpuState saved = cpu.s;
  const VirtualCpu saved_v = v_;
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
    const Status st = insn.exec(cpu, insn);
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
  bare.writes = std::move(writes);
  return bare;
}

Monitor::Action TrapAndEmulateMonitor::watch_hole(Cpu& cpu) {
  DecodedInsn insn;
  std::string text;
  if (!decode_at_rip(cpu, insn, &text)) {
    cpu.unsupported("trap mode: the instruction at CS:EIP changed under the hole detector");
    return Action::Handled;
  }
  CpuState& s = cpu.s;
  const uint64_t site = cpu.linear(CS, s.rip);
  const uint64_t next_rip = (s.rip + insn.len) & all_ones(s.code_size());
  const bool watch = s.cpl() == 1 && !hole_sites_.count(site);
  InsnOutcome bare;
  if (watch) bare = dry_run(cpu, insn, next_rip);
  std::vector<CapturedWrite> writes;
  if (watch) cpu.write_capture = &writes;
  cpu.next_rip = next_rip;
  const Status st = insn.exec(cpu, insn);
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
  // Guest user code counts as running with interrupts on (see on_event).
  InsnOutcome real = observe(s, st, cpu.pending(), s.rip, v_.interrupts || s.cpl() == 3, v_.iopl);
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
  Hole h{site, text, {}, {}};
  if (!describe_difference(real, bare, h.observed, h.bare_metal)) return Action::Handled;
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
