#include "privilege/hw_sim/hw_sim_monitor.h"

#include <memory>

#include <Zydis/Zydis.h>
#include <fmt/format.h>

#include <stdexcept>

#include "core/isa/operands.h"
#include "privilege/interrupts.h"
#include "privilege/hw_sim/vm_entry.h"
#include "privilege/sensitivity.h"

namespace vtlab {

namespace {
using vmx::ExitReason;
using Vmx = vmx::ExitReason;
using Taxon = vtlab::ExitReason;

constexpr uint64_t kCr4Vmxe = uint64_t{1} << 13;  // set in VMX operation; the read shadow hides it
constexpr uint64_t kCr0PagingBits = cr0::PE | cr0::PG | cr0::WP;
constexpr uint64_t kCr4PagingBits = cr4::PSE | cr4::PAE | cr4::PGE;

Status ask_monitor(Cpu& cpu, const DecodedInsn& insn) { return cpu.raise_sensitive(insn); }

bool is(const DecodedInsn& i, std::initializer_list<ZydisMnemonic> ms) {
  for (ZydisMnemonic m : ms)
    if (i.mnemonic == m) return true;
  return false;
}
bool writes_cr(const DecodedInsn& i) { return i.mnemonic == ZYDIS_MNEMONIC_MOV && i.op[0].kind == OpKind::Creg; }
bool reads_cr(const DecodedInsn& i) { return i.mnemonic == ZYDIS_MNEMONIC_MOV && i.op[1].kind == OpKind::Creg; }
bool moves_dr(const DecodedInsn& i) {
  return i.mnemonic == ZYDIS_MNEMONIC_MOV && (i.op[0].kind == OpKind::Dreg || i.op[1].kind == OpKind::Dreg);
}
bool opens_interrupts(const DecodedInsn& i) {
  return is(i, {ZYDIS_MNEMONIC_STI, ZYDIS_MNEMONIC_POPF, ZYDIS_MNEMONIC_POPFD, ZYDIS_MNEMONIC_POPFQ,
                ZYDIS_MNEMONIC_IRET, ZYDIS_MNEMONIC_IRETD, ZYDIS_MNEMONIC_IRETQ});
}
bool gdtr_idtr(const DecodedInsn& i) {
  return is(i, {ZYDIS_MNEMONIC_LGDT, ZYDIS_MNEMONIC_LIDT, ZYDIS_MNEMONIC_SGDT, ZYDIS_MNEMONIC_SIDT});
}
bool ldtr_tr(const DecodedInsn& i) {
  return is(i, {ZYDIS_MNEMONIC_LLDT, ZYDIS_MNEMONIC_LTR, ZYDIS_MNEMONIC_SLDT, ZYDIS_MNEMONIC_STR});
}
uint64_t shadowed(uint64_t real, uint64_t mask, uint64_t shadow) { return (real & ~mask) | (shadow & mask); }

ExitCause because(CauseKind kind, uint64_t arg = 0) {
  ExitCause c;
  c.kind = kind;
  c.arg = arg;
  return c;
}

// Which control makes an access to `port` exit (SDM vol. 3C, 26.1.3), if any.
ExitCause io_cause(const vmx::Controls& c, uint16_t port, unsigned size) {
  if (!c.use_io_bitmaps) return because(c.unconditional_io_exiting ? CauseKind::UnconditionalIo : CauseKind::None);
  if (uint32_t{port} + size > 0x10000) return because(CauseKind::IoWraps);
  for (unsigned i = 0; i < size; ++i)
    if (c.io_bitmap[port + i]) return because(CauseKind::IoBitmap, port + i);
  return {};
}

ExitCause msr_cause(const vmx::Controls& c, uint32_t msr, bool write) {
  if (!c.use_msr_bitmaps) return because(CauseKind::MsrBitmapsOff);
  if (msr >= 0x2000 && msr - 0xC0000000u >= 0x2000) return because(CauseKind::MsrOutsideBitmaps, msr);
  return because(write ? CauseKind::MsrWriteBitmap : CauseKind::MsrReadBitmap, msr);
}
}  // namespace

HwSimMonitor::HwSimMonitor(const vmx::Controls& controls)
    : c_(controls),
      shadow_(unused_virtual_, [this](Cpu& cpu, Taxon r, uint32_t key) { shadow_exit(cpu, r, key); }),
      shadow_hook_(shadow_),
      ept_([this](Cpu& cpu, uint64_t gpa, uint64_t, uint64_t q) {
        vm_exit(cpu, Taxon::Mmio, static_cast<uint32_t>(gpa & ~kPageMask), Vmx::EptViolation, q,
                because(CauseKind::EptViolation, gpa));
      }) {
  if (const std::string why = c_.validate(); !why.empty()) throw std::invalid_argument("--vmcs: " + why);
}

void HwSimMonitor::begin(Cpu& cpu) {
  cpu_ = &cpu;
  if (!started_) {
    // VMLAUNCH: the checks of SDM vol. 3C, chapter 27, then the guest state loaded.
    const vmx::GuestState guest = vmx::guest_state(cpu.s, c_);
    if (const auto failed = vmx::check_vm_entry(c_, vmx::entry_controls(cpu.s, c_), guest)) {
      const std::string text = failed->text();
      if (failed->kind == vmx::EntryFailure::Kind::GuestState) {
        ExitCause why = because(CauseKind::EntryFailure);
        why.detail = std::make_shared<const std::string>(text);
        vm_exit(cpu, Taxon::Shutdown, static_cast<uint32_t>(Vmx::EntryFailureGuestState), Vmx::EntryFailureGuestState,
                0, std::move(why));
      }
      cpu.unsupported("hw-sim: " + text);
      return;
    }
    vmx::load_given_guest_state(cpu.s, c_, guest);
    inner_ = cpu.intc;
    cpu.intc = this;
    if (c_.enable_ept) {
      cpu.translation_hook = &ept_;
    } else {
      shadow_.set_virtual(true);  // the guest's paging registers are the real ones
      cpu.translation_hook = &shadow_hook_;
      shadow_.flush(cpu);
    }
    if (!c_.cr0_read_shadow_set) c_.cr0_read_shadow = cpu.s.cr0;
    if (!c_.cr4_read_shadow_set) c_.cr4_read_shadow = cpu.s.cr4;
    started_ = true;
  }
  cpu.s.cr4 |= kCr4Vmxe;
  check_paging_mode(cpu);
}

void HwSimMonitor::check_paging_mode(Cpu& cpu) {
  const CpuState& s = cpu.s;
  if (!c_.unrestricted_guest && !s.protected_mode()) {
    cpu.unsupported("hw-sim: the guest is in real mode, which VMX non-root operation runs only with "
                    "unrestricted_guest (and so EPT: --hw-paging nested)");
  } else if (!c_.enable_ept && s.paging() && (s.long_mode_active() || (s.cr4 & cr4::PAE))) {
    cpu.unsupported("hw-sim: shadow paging models 32-bit paging only, and the guest turned on PAE or long-mode "
                    "paging (use --hw-paging nested)");
  }
}

void HwSimMonitor::on_block(Cpu&, uint64_t, uint64_t, std::vector<DecodedInsn>& insns) {
  const bool cr0_owned = c_.cr0_guest_host_mask != 0;
  for (DecodedInsn& i : insns) {
    bool mark = false;
    if (is_port_io(i)) {
      mark = c_.use_io_bitmaps || c_.unconditional_io_exiting;
    } else if (writes_cr(i) || reads_cr(i)) {
      const unsigned n = writes_cr(i) ? i.op[0].reg : i.op[1].reg;
      mark = n == 0 ? cr0_owned
             : n == 4 ? true  // CR4.VMXE is always the monitor's
             : n == 3 ? (writes_cr(i) ? c_.cr3_load_exiting || !c_.enable_ept : c_.cr3_store_exiting)
             : n == 8 ? (writes_cr(i) ? c_.cr8_load_exiting : c_.cr8_store_exiting)
                      : false;
    } else if (moves_dr(i)) {
      mark = c_.mov_dr_exiting;
    } else {
      switch (static_cast<ZydisMnemonic>(i.mnemonic)) {
        case ZYDIS_MNEMONIC_CPUID:
        case ZYDIS_MNEMONIC_RDMSR:
        case ZYDIS_MNEMONIC_WRMSR: mark = true; break;
        case ZYDIS_MNEMONIC_HLT: mark = c_.hlt_exiting; break;
        case ZYDIS_MNEMONIC_INVLPG: mark = c_.invlpg_exiting; break;
        case ZYDIS_MNEMONIC_RDTSC:
        case ZYDIS_MNEMONIC_RDTSCP: mark = c_.rdtsc_exiting; break;
        case ZYDIS_MNEMONIC_MWAIT: mark = c_.mwait_exiting; break;
        case ZYDIS_MNEMONIC_MONITOR: mark = c_.monitor_exiting; break;
        case ZYDIS_MNEMONIC_SMSW:
        case ZYDIS_MNEMONIC_LMSW:
        case ZYDIS_MNEMONIC_CLTS: mark = cr0_owned; break;
        default:
          mark = ((gdtr_idtr(i) || ldtr_tr(i)) && c_.descriptor_table_exiting) ||
                 (opens_interrupts(i) && c_.interrupt_window_exiting);
      }
    }
    if (!mark) continue;
    i.original = i.exec;
    i.exec = &ask_monitor;
  }
}

// Whether this execution exits, as SDM vol. 3C, 25.1 orders it: faults
// from privilege checks (CPL, IOPL, CR4.TSD) come first, then the exit.
HwSimMonitor::Decision HwSimMonitor::decide(Cpu& cpu, const DecodedInsn& i) {
  const CpuState& s = cpu.s;
  const bool cpl0 = s.cpl() == 0 && !s.v8086();
  const bool pm = s.protected_mode() && !s.v8086();
  Decision d;
  const auto exits = [&](bool yes, Taxon r, uint32_t key, Vmx v, uint64_t q, ExitCause why) {
    d = Decision{yes, r, key, v, q, false, std::move(why)};
  };
  if (is_port_io(i)) {
    const bool imm = i.op[0].kind == OpKind::Imm || i.op[1].kind == OpKind::Imm;
    const uint16_t port = imm ? static_cast<uint16_t>(i.imm & 0xFF) : static_cast<uint16_t>(s.gpr[RDX]);
    const unsigned size = std::min<unsigned>(i.opsize, 4);
    const bool in = is(i, {ZYDIS_MNEMONIC_IN, ZYDIS_MNEMONIC_INSB, ZYDIS_MNEMONIC_INSW, ZYDIS_MNEMONIC_INSD});
    const bool string = !is(i, {ZYDIS_MNEMONIC_IN, ZYDIS_MNEMONIC_OUT});
    exits(c_.io_exits(port, size), Taxon::Io, port, Vmx::IoInstruction,
          vmx::io_qualification(size, in, string, i.has_rep(), imm, port), io_cause(c_, port, size));
    const unsigned iopl = (s.flags.bits() & flag::IOPL) >> flag::kIoplShift;
    d.after = s.protected_mode() && (s.v8086() || s.cpl() > iopl);  // the TSS bitmap decides first
    return d;
  }
  if (writes_cr(i)) {
    const unsigned n = i.op[0].reg, gpr = i.op[1].reg;
    const uint64_t value = s.gpr[gpr] & all_ones(i.op[1].size);
    bool yes = false;
    ExitCause why;
    if (n == 0) {
      const uint64_t owned = (value ^ c_.cr0_read_shadow) & c_.cr0_guest_host_mask;
      yes = owned != 0;
      why = because(CauseKind::Cr0Owned, owned);
    } else if (n == 4) {
      const uint64_t owned = (value ^ c_.cr4_read_shadow) & c_.cr4_guest_host_mask;
      yes = owned != 0;
      why = because(CauseKind::Cr4Owned, owned);
    } else if (n == 3) {
      yes = c_.cr3_load_exiting;
      why = because(CauseKind::Cr3Load);
    } else if (n == 8) {
      yes = c_.cr8_load_exiting;
      why = because(CauseKind::Cr8Load);
    }
    exits(cpl0 && yes, Taxon::CrAccess, 16 + n, Vmx::CrAccess,
          vmx::cr_qualification(n, vmx::CrAccessType::MovToCr, gpr), std::move(why));
    return d;
  }
  if (reads_cr(i)) {
    const unsigned n = i.op[1].reg;
    const bool yes = (n == 3 && c_.cr3_store_exiting) || (n == 8 && c_.cr8_store_exiting);
    exits(cpl0 && yes, Taxon::CrAccess, n, Vmx::CrAccess,
          vmx::cr_qualification(n, vmx::CrAccessType::MovFromCr, i.op[0].reg),
          because(n == 3 ? CauseKind::Cr3Store : CauseKind::Cr8Store));
    return d;
  }
  if (moves_dr(i)) {
    const bool from = i.op[1].kind == OpKind::Dreg;
    exits(cpl0, Taxon::PrivilegedInsn, i.mnemonic, Vmx::MovDr,
          vmx::dr_qualification(from ? i.op[1].reg : i.op[0].reg, from, from ? i.op[0].reg : i.op[1].reg),
          because(CauseKind::MovDr));
    return d;
  }
  const uint64_t mask = c_.cr0_guest_host_mask, shadow = c_.cr0_read_shadow;
  switch (static_cast<ZydisMnemonic>(i.mnemonic)) {
    case ZYDIS_MNEMONIC_CPUID:
      exits(true, Taxon::Cpuid, static_cast<uint32_t>(s.gpr[RAX]), Vmx::Cpuid, 0, because(CauseKind::CpuidAlways));
      break;
    case ZYDIS_MNEMONIC_HLT: exits(cpl0, Taxon::Hlt, 0, Vmx::Hlt, 0, because(CauseKind::HltExiting)); break;
    case ZYDIS_MNEMONIC_INVLPG:
      exits(cpl0, Taxon::Invlpg, 0, Vmx::Invlpg, cpu.linear(i.mem.seg, isa::effective_address(cpu, i)),
            because(CauseKind::InvlpgExiting));
      break;
    case ZYDIS_MNEMONIC_RDTSC:
    case ZYDIS_MNEMONIC_RDTSCP:
      exits(cpl0 || !(s.cr4 & cr4::TSD), Taxon::PrivilegedInsn, i.mnemonic,
            i.mnemonic == ZYDIS_MNEMONIC_RDTSC ? Vmx::Rdtsc : Vmx::Rdtscp, 0, because(CauseKind::RdtscExiting));
      break;
    case ZYDIS_MNEMONIC_MWAIT:
      exits(cpl0, Taxon::PrivilegedInsn, i.mnemonic, Vmx::Mwait, 0, because(CauseKind::MwaitExiting));
      break;
    case ZYDIS_MNEMONIC_MONITOR:
      exits(cpl0, Taxon::PrivilegedInsn, i.mnemonic, Vmx::Monitor, 0, because(CauseKind::MonitorExiting));
      break;
    case ZYDIS_MNEMONIC_RDMSR:
    case ZYDIS_MNEMONIC_WRMSR: {
      const bool write = i.mnemonic == ZYDIS_MNEMONIC_WRMSR;
      const auto msr = static_cast<uint32_t>(s.gpr[RCX]);
      exits(cpl0 && c_.msr_exits(msr, write), write ? Taxon::MsrWrite : Taxon::MsrRead, msr,
            write ? Vmx::Wrmsr : Vmx::Rdmsr, 0, msr_cause(c_, msr, write));
      break;
    }
    case ZYDIS_MNEMONIC_CLTS:
      exits(cpl0 && (mask & shadow & cr0::TS), Taxon::CrAccess, 16, Vmx::CrAccess,
            vmx::cr_qualification(0, vmx::CrAccessType::Clts, 0), because(CauseKind::CltsOwned));
      break;
    case ZYDIS_MNEMONIC_LMSW: {
      // A register source is known here; a memory one is taken to change
      // what the monitor owns (it usually does: LMSW sets PE).
      const bool reg = i.op[0].kind == OpKind::Reg;
      const uint64_t src = reg ? s.gpr[i.op[0].reg] & 0xFFFF : 0;
      const uint64_t owned = ((src ^ shadow) & mask & 0xE) | (mask & ~shadow & src & cr0::PE);
      const bool yes = !reg || owned;
      exits(cpl0 && yes, Taxon::CrAccess, 16, Vmx::CrAccess,
            vmx::cr_qualification(0, vmx::CrAccessType::Lmsw, 0, static_cast<uint16_t>(src)),
            because(CauseKind::LmswOwned, reg ? owned : mask & 0xF));
      break;
    }
    default:
      if (c_.descriptor_table_exiting && gdtr_idtr(i)) {
        const bool load = is(i, {ZYDIS_MNEMONIC_LGDT, ZYDIS_MNEMONIC_LIDT});
        exits(load ? cpl0 : true, Taxon::PrivilegedInsn, i.mnemonic, Vmx::GdtrIdtrAccess, 0,
              because(CauseKind::DescriptorTableExiting));
      } else if (c_.descriptor_table_exiting && ldtr_tr(i)) {
        const bool load = is(i, {ZYDIS_MNEMONIC_LLDT, ZYDIS_MNEMONIC_LTR});
        exits(pm && (load ? cpl0 : true), Taxon::PrivilegedInsn, i.mnemonic, Vmx::LdtrTrAccess, 0,
              because(CauseKind::DescriptorTableExiting));
      }
  }
  return d;
}

Monitor::Action HwSimMonitor::on_sensitive(Cpu& cpu, const DecodedInsn& insn) {
  const Decision d = decide(cpu, insn);
  if (d.exits && !d.after) vm_exit(cpu, d.reason, d.key, d.vmx, d.qualification, d.cause);
  cpu.next_rip = (cpu.s.rip + insn.len) & all_ones(cpu.s.code_size());
  const uint64_t rip = cpu.s.rip;
  const Status st = run_guest_insn(cpu, insn, d);
  if (d.exits && d.after && st == Status::Ok) {
    const uint64_t next = cpu.s.rip;
    cpu.s.rip = rip;  // the exit names the instruction, not the one after it
    vm_exit(cpu, d.reason, d.key, d.vmx, d.qualification, d.cause);
    cpu.s.rip = next;
  }
  if (d.exits && d.vmx == Vmx::Hlt && st == Status::Halt) inject_on_entry_ = true;
  return finish(cpu, st);
}

// The instruction on the guest state, with what non-root operation adds:
// CR0/CR4 reads through the read shadows, writes keeping the bits the
// monitor owns, shadow-table upkeep, and the interrupt window.
Status HwSimMonitor::run_guest_insn(Cpu& cpu, const DecodedInsn& insn, const Decision& d) {
  CpuState& s = cpu.s;
  const Handler run = insn.original;
  const uint64_t old_cr0 = s.cr0, old_cr4 = s.cr4, old_cr3 = s.cr3;
  const bool cr0_read = (reads_cr(insn) && insn.op[1].reg == 0) || insn.mnemonic == ZYDIS_MNEMONIC_SMSW;
  const bool cr4_read = reads_cr(insn) && insn.op[1].reg == 4;
  if (cr0_read || cr4_read) {
    if (cr0_read) s.cr0 = shadowed(old_cr0, c_.cr0_guest_host_mask, c_.cr0_read_shadow);
    else s.cr4 = shadowed(old_cr4, c_.cr4_guest_host_mask, c_.cr4_read_shadow);
    const Status st = run(cpu, insn);
    s.cr0 = old_cr0;
    s.cr4 = old_cr4;
    return st;
  }
  uint64_t invlpg_at = 0;
  if (insn.mnemonic == ZYDIS_MNEMONIC_INVLPG) invlpg_at = cpu.linear(insn.mem.seg, isa::effective_address(cpu, insn));
  const bool if_before = s.flags.test(flag::IF);
  const Status st = run(cpu, insn);
  if (st != Status::Ok) return st;

  const bool cr0_write = (writes_cr(insn) && insn.op[0].reg == 0) ||
                         is(insn, {ZYDIS_MNEMONIC_LMSW, ZYDIS_MNEMONIC_CLTS});
  if (cr0_write) {
    // An exit hands the write to the monitor, which gives the guest what
    // it wrote and shows it in the shadow; otherwise only the bits the
    // guest owns change.
    if (d.exits) c_.cr0_read_shadow = shadowed(c_.cr0_read_shadow, c_.cr0_guest_host_mask, s.cr0);
    else s.cr0 = shadowed(s.cr0, c_.cr0_guest_host_mask, old_cr0);
  } else if (writes_cr(insn) && insn.op[0].reg == 4) {
    if (d.exits) c_.cr4_read_shadow = shadowed(c_.cr4_read_shadow, c_.cr4_guest_host_mask, s.cr4);
    else s.cr4 = shadowed(s.cr4, c_.cr4_guest_host_mask, old_cr4);
    s.cr4 |= kCr4Vmxe;
  }
  if (!c_.enable_ept) {
    if (s.cr3 != old_cr3 || ((s.cr0 ^ old_cr0) & kCr0PagingBits) || ((s.cr4 ^ old_cr4) & kCr4PagingBits))
      shadow_.flush(cpu);
    else if (insn.mnemonic == ZYDIS_MNEMONIC_INVLPG)
      shadow_.invalidate(cpu, invlpg_at);
  }
  if (s.cr0 != old_cr0 || s.cr4 != old_cr4) check_paging_mode(cpu);
  if (opens_interrupts(insn) && c_.interrupt_window_exiting && !if_before && s.flags.test(flag::IF) && inner_ &&
      inner_->intr_pending()) {
    window_armed_ = true;
    cpu.intr_changed();
  }
  return st;
}

Monitor::Action HwSimMonitor::finish(Cpu& cpu, Status st) {
  switch (st) {
    case Status::Ok:
      cpu.s.rip = cpu.next_rip;
      ++cpu.icount;
      return Action::Handled;
    case Status::Halt:
      cpu.s.rip = cpu.next_rip;
      ++cpu.icount;
      return Action::Halt;
    case Status::Exception: {
      const PendingEvent ev = cpu.pending();
      if (ev.kind == PendingEvent::Kind::Fault) return fault(cpu, ev, cpu.s.rip);
      // A trap the instruction completed with.
      ++cpu.icount;
      return fault(cpu, ev, cpu.next_rip);
    }
    case Status::Stop: break;
  }
  return Action::Handled;
}

Monitor::Action HwSimMonitor::fault(Cpu& cpu, const PendingEvent& ev, uint64_t return_rip) {
  if (exception_exits(ev))
    vm_exit(cpu, Taxon::GuestException, ev.vector, Vmx::ExceptionOrNmi, ev.vector == vec::PF ? cpu.s.cr2 : 0,
            because(CauseKind::ExceptionBitmap, ev.vector));
  deliver_event(cpu, ev, return_rip);
  ++cpu.events;
  // A triple fault in non-root operation always exits (SDM 25.2).
  if (cpu.stop_requested() == StopReason::Shutdown)
    vm_exit(cpu, Taxon::Shutdown, 0, Vmx::TripleFault, 0, because(CauseKind::TripleFaultAlways));
  return Action::Handled;
}

bool HwSimMonitor::exception_exits(const PendingEvent& ev) const {
  // INT n is no exception; INT3 and INTO raise #BP and #OF (SDM 25.2).
  if (ev.kind == PendingEvent::Kind::SoftwareInt && ev.vector != vec::BP && ev.vector != vec::OF) return false;
  return ev.vector < 32 && (c_.exception_bitmap >> ev.vector) & 1;
}

Monitor::Action HwSimMonitor::on_event(Cpu& cpu, const PendingEvent& ev, uint64_t return_rip) {
  if (!started_) return Action::Deliver;
  switch (ev.kind) {
    case PendingEvent::Kind::Sensitive:
      return on_sensitive(cpu, *ev.insn);
    case PendingEvent::Kind::External:
      // After a HLT or window exit the monitor injects the interrupt on
      // VM entry: the guest was not running when it came.
      if (inject_on_entry_) inject_on_entry_ = false;
      else if (c_.external_interrupt_exiting)
        vm_exit(cpu, Taxon::ExternalInterrupt, ev.vector, Vmx::ExternalInterrupt, 0,
                because(CauseKind::ExternalInterruptExiting, ev.vector));
      return Action::Deliver;
    case PendingEvent::Kind::Fault:
    case PendingEvent::Kind::Trap:
      // Delivered here, so that a delivery ending in a triple fault exits.
      return fault(cpu, ev, return_rip);
    case PendingEvent::Kind::SoftwareInt:
      // The engine delivers INT n itself: it retires only if delivered.
      if (exception_exits(ev))
        vm_exit(cpu, Taxon::GuestException, ev.vector, Vmx::ExceptionOrNmi, 0,
                because(CauseKind::ExceptionBitmap, ev.vector));
      return Action::Deliver;
  }
  return Action::Deliver;
}

bool HwSimMonitor::intr_pending() {
  if (!inner_) return false;
  const bool pending = inner_->intr_pending();
  if (window_armed_) {
    window_armed_ = false;
    if (pending && cpu_) {
      vm_exit(*cpu_, Taxon::InterruptWindow, 0, Vmx::InterruptWindow, 0, because(CauseKind::InterruptWindowExiting));
      inject_on_entry_ = true;
    }
  }
  return pending;
}

void HwSimMonitor::vm_exit(Cpu& cpu, Taxon reason, uint32_t key, Vmx vmx, uint64_t qualification, ExitCause cause) {
  exit(cpu, reason, key, static_cast<uint16_t>(vmx), qualification, std::move(cause));
  ++by_vmx_[static_cast<unsigned>(vmx)];
  last_ = LastExit{static_cast<uint16_t>(vmx), qualification};
  // Without VPID the guest's and the monitor's translations share one tag:
  // every VM exit (or the entry after it) flushes them (SDM 28.3.3.1).
  if (!c_.enable_vpid) {
    cpu.tlb.flush_all();
    ++tlb_flushes_;
  }
}

// Shadow paging's exits are #PF exits (the shadow tables are not present
// or write-protected there), qualified by the linear address.
void HwSimMonitor::shadow_exit(Cpu& cpu, Taxon reason, uint32_t key) {
  vm_exit(cpu, reason, key, Vmx::ExceptionOrNmi, shadow_hook_.lin_,
          because(CauseKind::ShadowPageFault, shadow_hook_.lin_));
}

std::vector<std::pair<std::string, uint64_t>> HwSimMonitor::counters() const {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (unsigned n = 0; n < by_vmx_.size(); ++n)
    if (by_vmx_[n]) out.emplace_back(fmt::format("vmx_exit_{}", n), by_vmx_[n]);
  out.emplace_back("tlb_flushes_on_exit", tlb_flushes_);
  if (c_.enable_ept) {
    out.emplace_back("ept_walks", ept_.walks());
    out.emplace_back("ept_2d_references", ept_.references());
    out.emplace_back("ept_guest_references", ept_.guest_references());
    out.emplace_back("ept_max_references_per_walk", ept_.max_references());
    out.emplace_back("ept_violations", ept_.violations());
  } else {
    out.emplace_back("shadow_entries", shadow_.entries());
  }
  return out;
}

nlohmann::json HwSimMonitor::stats_json() const {
  nlohmann::json j;
  j["backend"] = "sim";
  j["paging"] = c_.enable_ept ? "nested" : "shadow";
  j["vmcs"] = c_.to_json();
  nlohmann::json exits = nlohmann::json::object();
  for (unsigned n = 0; n < by_vmx_.size(); ++n)
    if (by_vmx_[n]) exits[std::to_string(n)] = {{"name", vmx::exit_reason_name(n)}, {"count", by_vmx_[n]}};
  j["vmx_exits"] = exits;
  j["tlb_flushes_on_exit"] = tlb_flushes_;
  if (c_.enable_ept)
    j["nested_paging"] = {{"walks", ept_.walks()},
                          {"references", ept_.references()},
                          {"guest_references", ept_.guest_references()},
                          {"ept_references", ept_.references() - ept_.guest_references()},
                          {"max_references_per_walk", ept_.max_references()},
                          {"violations", ept_.violations()}};
  return j;
}

}  // namespace vtlab
