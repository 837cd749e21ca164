#include "privilege/ring_one_monitor.h"

#include <Zydis/Zydis.h>

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

ExitCause because(CauseKind kind, uint64_t arg = 0, unsigned cpl = 0) {
  ExitCause c;
  c.kind = kind;
  c.arg = arg;
  c.cpl = static_cast<uint8_t>(cpl);
  return c;
}

bool privilege_fault(const PendingEvent& ev) {
  return ev.kind == PendingEvent::Kind::Fault &&
         (ev.vector == vec::GP || ev.vector == vec::NP || ev.vector == vec::SS || ev.vector == vec::TS);
}
}  // namespace

RingOneMonitor::RingOneMonitor()
    : shadow_(v_, [this](Cpu& cpu, ExitReason r, uint32_t key) { on_shadow_exit(cpu, r, key); }) {
  shadow_.set_resync([this](Cpu& cpu) {
    tables_.rebuild(cpu, v_);
    shadow_.trace_descriptor_tables(cpu);
  });
}

std::pair<ExitReason, uint32_t> RingOneMonitor::exit_for(const Cpu& cpu, const DecodedInsn& i) {
  if (is_port_io(i)) {
    for (const Operand& op : i.op)
      if (op.kind == OpKind::Imm) return {ExitReason::Io, static_cast<uint32_t>(i.imm & 0xFF)};
    return {ExitReason::Io, static_cast<uint32_t>(cpu.s.gpr[RDX] & 0xFFFF)};
  }
  switch (static_cast<ZydisMnemonic>(i.mnemonic)) {
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

unsigned RingOneMonitor::guest_cpl(const Cpu& cpu) const {
  const unsigned cpl = cpu.s.cpl();
  return !in_virtual_ && cpl == 1 ? 0 : cpl;
}

void RingOneMonitor::begin(Cpu& cpu) {
  cpu_ = &cpu;
  CpuState& s = cpu.s;
  if (!s.protected_mode() || s.v8086()) {
    cpu.unsupported(std::string(name()) +
                    " mode runs guests that start in 32-bit protected mode (multiboot or --flat); this one is in "
                    "real mode");
    return;
  }
  if (started_) return;
  v_.capture(s);
  if ((v_.cr0 & cr0::PG) && (v_.cr4 & cr4::PAE)) {
    cpu.unsupported(std::string(name()) +
                    " mode: the guest uses PAE paging, which the shadow page tables do not model yet");
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

bool RingOneMonitor::intr_pending() {
  if (!inner_ || !cpu_ || !virtual_interrupts(*cpu_)) return false;
  return inner_->intr_pending();
}

Monitor::Action RingOneMonitor::on_event(Cpu& cpu, const PendingEvent& ev, uint64_t return_rip) {
  if (!started_) return Action::Deliver;
  if (cpu.s.cpl() == 3 && !sees_returns_to_user()) v_.interrupts = true;  // see virtual_interrupts()
  switch (ev.kind) {
    case PendingEvent::Kind::Sensitive:
      return on_sensitive(cpu, *ev.insn);
    case PendingEvent::Kind::External:
      note(cpu, ExitReason::ExternalInterrupt, ev.vector, because(CauseKind::DeviceInterrupt, ev.vector));
      break;
    case PendingEvent::Kind::Fault:
    case PendingEvent::Kind::Trap:
    case PendingEvent::Kind::SoftwareInt:
      if (privilege_fault(ev)) return emulate(cpu, ev);
      note(cpu, ExitReason::GuestException, ev.vector, because(CauseKind::Reflected, ev.vector, cpu.s.cpl()));
      break;
  }
  reflect(cpu, ev, return_rip);
  return Action::Handled;
}

void RingOneMonitor::reflect(Cpu& cpu, const PendingEvent& ev, uint64_t return_rip) {
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
  if (cpu.stop_requested() == StopReason::Shutdown)
    note(cpu, ExitReason::Shutdown, 0, because(CauseKind::TripleFaultAlways));
  install_real(cpu, before);
}

Status RingOneMonitor::run_virtual(Cpu& cpu, const DecodedInsn& insn, uint64_t next_rip) {
  uint64_t invlpg_at = 0;
  const bool invlpg = insn.mnemonic == ZYDIS_MNEMONIC_INVLPG;
  if (invlpg) invlpg_at = cpu.linear(insn.mem.seg, isa::effective_address(cpu, insn));
  const VirtualCpu before = v_;
  Status st;
  {
    in_virtual_ = true;
    shadow_.set_virtual(true);
    VirtualContext guest(cpu, v_);
    cpu.next_rip = next_rip;
    st = (insn.original ? insn.original : insn.exec)(cpu, insn);
  }
  shadow_.set_virtual(false);
  in_virtual_ = false;
  if (invlpg && st == Status::Ok) shadow_.invalidate(cpu, invlpg_at);
  install_real(cpu, before);
  return st;
}

Monitor::Action RingOneMonitor::finish(Cpu& cpu, Status st, const PendingEvent& raised_ev) {
  switch (st) {
    case Status::Ok:
      cpu.s.rip = cpu.next_rip;
      ++cpu.icount;
      return Action::Handled;
    case Status::Halt:
      cpu.s.rip = cpu.next_rip;
      ++cpu.icount;
      if (!v_.interrupts) cpu.request_stop(StopReason::Halted, "HLT with interrupts disabled");
      return Action::Halt;
    case Status::Exception:
      return raised(cpu, raised_ev);  // bare metal faults too: the guest gets that
    case Status::Stop:
      break;
  }
  return Action::Handled;
}

Monitor::Action RingOneMonitor::emulate(Cpu& cpu, const PendingEvent& ev) {
  DecodedInsn insn;
  if (!decode_at(cpu, cpu.s.rip, insn)) {
    note(cpu, ExitReason::GuestException, ev.vector, because(CauseKind::Reflected, ev.vector, cpu.s.cpl()));
    reflect(cpu, ev, cpu.s.rip);
    return Action::Handled;
  }
  const auto [reason, key] = exit_for(cpu, insn);
  ExitCause why = deprivileged_cause(insn, cpu.s.cpl(), (cpu.s.flags.bits() & flag::IOPL) >> flag::kIoplShift,
                                     static_cast<uint16_t>(key));
  const Status st = run_virtual(cpu, insn, (cpu.s.rip + insn.len) & all_ones(cpu.s.code_size()));
  if (st == Status::Ok || st == Status::Halt) note(cpu, reason, key, std::move(why));
  return finish(cpu, st, cpu.pending());
}

Monitor::Action RingOneMonitor::raised(Cpu& cpu, const PendingEvent& ev) {
  if (ev.kind == PendingEvent::Kind::Fault) {
    note(cpu, ExitReason::GuestException, ev.vector, because(CauseKind::Reflected, ev.vector, cpu.s.cpl()));
    reflect(cpu, ev, cpu.s.rip);
    return Action::Handled;
  }
  // A trap or INT n that the instruction completed with.
  const Action a = on_event(cpu, ev, cpu.next_rip);
  ++cpu.icount;
  return a;
}

void RingOneMonitor::install_real(Cpu& cpu, const VirtualCpu& before) {
  CpuState& s = cpu.s;
  if (!(v_.cr0 & cr0::PE)) {
    cpu.unsupported(std::string(name()) + " mode: the guest left protected mode, which the monitor does not virtualize");
  } else if ((v_.cr0 & cr0::PG) && (v_.cr4 & cr4::PAE)) {
    cpu.unsupported(std::string(name()) +
                    " mode: the guest turned on PAE paging, which the shadow page tables do not model yet");
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
    note(cpu, ExitReason::InterruptWindow, 0, because(CauseKind::VirtualIfOpened));
  if (virtual_interrupts(cpu)) cpu.intr_changed();
}

bool RingOneMonitor::decode_at(Cpu& cpu, uint64_t ip, DecodedInsn& insn, std::string* text) {
  uint8_t bytes[16];
  size_t n = 0;
  const uint64_t lin = cpu.linear(CS, ip);
  for (; n < 15; ++n) {
    uint64_t b;
    if (!peek_guest(cpu, v_, lin + n, 1, b)) break;
    bytes[n] = static_cast<uint8_t>(b);
  }
  if (n == 0 || decoder_.decode(bytes, n, cpu.s.code_size(), insn) != DecodeStatus::Ok) return false;
  if (text) *text = Decoder::format(bytes, n, cpu.s.code_size(), ip);
  return true;
}

}  // namespace vtlab
