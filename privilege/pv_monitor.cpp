#include "privilege/pv_monitor.h"

#include <fmt/format.h>

#include "privilege/descriptors.h"
#include "privilege/sensitivity.h"
#include "privilege/shadow_descriptors.h"
#include "privilege/virtual_cpu.h"

namespace vtlab {

namespace {
// The real CR0 while the guest runs: paging always on (PvPaging answers
// every TLB miss, identity until the guest installs a base pointer) and WP,
// so the ring-1 kernel cannot write through its read-only mappings of its
// own page tables.
constexpr uint64_t kRealCr0 = cr0::PE | cr0::ET | cr0::NE | cr0::WP | cr0::PG;
// Flat 4 GiB, 32-bit, accessed, DPL 1: execute/read code and read/write data.
constexpr uint32_t kFlatLo = 0x0000FFFF, kCodeHi = 0x00CFBB00, kDataHi = 0x00CFB300;

constexpr std::array<std::string_view, pv::kHypercalls> kNames = {
    "console-write", "set-trap-table", "mmu-update", "mmu-ext-op", "set-kernel-stack", "update-descriptor",
    "set-timer",     "block",          "yield",      "shutdown",   "multicall",        "set-shared-info",
};
}  // namespace

std::string_view PvMonitor::hypercall_name(uint32_t nr) { return nr < kNames.size() ? kNames[nr] : ""; }

Status PvPaging::translate(Cpu& cpu, uint64_t lin, Access access, bool user, bool system, uint64_t& phys) {
  lin &= 0xFFFFFFFF;
  if (window::contains(lin)) {
    if (system && window::holds_table(lin)) {
      phys = PhysicalMemory::kPrivateBase + (lin - window::kBase);
      return Status::Ok;
    }
    fault_lin = lin;  // the monitor's hole in the guest's address space
    return cpu.raise(vec::PF, (access == Access::Write ? 2u : 0u) | (user ? 4u : 0u));
  }
  Translation t;
  if (!paging) {
    t = Translation{lin, kPageSize, true, true, false, true, false};
    // Before its first base pointer the guest sees its RAM one to one (and
    // the virtio slots), but never the monitor's, and its pinned tables
    // read-only already.
    const uint64_t frame = lin & ~kPageMask;
    const bool table = pinned && pinned->count(frame);
    if ((frame + kPageSize > monitor_base && !pv_virtio_frame(frame)) || (access == Access::Write && table)) {
      fault_lin = lin;
      return cpu.raise(vec::PF, (table ? 1u : 0u) | (access == Access::Write ? 2u : 0u) | (user ? 4u : 0u));
    }
    t.writable = !table;
  } else {
    const WalkResult w = cpu.walker.walk(WalkRequest{lin, access, user, kRealCr0, cr3, 0, cpu.s.efer, cpu.s.pdpte});
    if (!w.ok) {
      cpu.tlb.flush_page(lin);
      fault_lin = lin;
      return cpu.raise(vec::PF, w.error_code);
    }
    t = w.t;
  }
  cpu.tlb.insert(lin, t);
  phys = t.phys;
  return Status::Ok;
}

void PvPaging::guest_paging(const Cpu&, uint64_t& cr0, uint64_t& cr3_out, uint64_t& cr4) const {
  cr0 = paging ? kRealCr0 : (kRealCr0 & ~cr0::PG);
  cr3_out = cr3;
  cr4 = 0;
}

void PvMonitor::begin(Cpu& cpu) {
  cpu_ = &cpu;
  CpuState& s = cpu.s;
  if (started_) return;
  if (!s.protected_mode() || s.v8086() || (s.cr0 & cr0::PG)) {
    cpu.unsupported("pv mode runs paravirtualized guests that start in 32-bit protected mode without paging "
                    "(multiboot)");
    return;
  }
  tables_ = cpu.mem.reserve_private(window::kPrivateBytes);
  const auto put = [&](unsigned index, uint32_t lo, uint32_t hi) {
    std::memcpy(tables_ + window::kGdt + index * 8, &lo, 4);
    std::memcpy(tables_ + window::kGdt + index * 8 + 4, &hi, 4);
  };
  put(pv::kKernelCs >> 3, kFlatLo, kCodeHi);
  put(pv::kKernelDs >> 3, kFlatLo, kDataHi);
  // The monitor's TSS (busy, DPL 0): only its ring-1 stack is used, by the
  // CPU's own delivery of the fast trap.
  const uint32_t tss = static_cast<uint32_t>(window::kBase + window::kTss);
  const uint32_t tss_lo = (tss << 16) | 0x67, tss_hi = (tss & 0xFF000000) | 0x8B00 | ((tss >> 16) & 0xFF);
  put(pv::kTssEntry, tss_lo, tss_hi);
  s.tr = segment_cache(pv::kTssEntry << 3, Descriptor{tss_lo, tss_hi, 0, 0});
  code_cache_ = segment_cache(pv::kKernelCs, Descriptor{kFlatLo, kCodeHi, 0, 0});
  data_cache_ = segment_cache(pv::kKernelDs, Descriptor{kFlatLo, kDataHi, 0, 0});
  // The loader's flat segments, now at ring 1 (they are reloaded from the
  // monitor's GDT the first time the guest loads a selector).
  compress_rings(s);
  s.gdtr = TableRegister{window::kBase + window::kGdt, pv::kGdtEntries * 8 - 1};
  // Empty but for the fast trap: every other event goes through the monitor.
  s.idtr = TableRegister{window::kBase + window::kIdt, pv::kFastTrapVector * 8u + 7};
  s.cr0 = kRealCr0;
  s.cr3 = 0;
  s.cr4 = 0;
  s.flags.set(flag::IF, true);
  s.flags.set(flag::IOPL, false);
  s.msrs[msr::kSysenterCs] = 0;
  paging_.monitor_base = cpu.mem.ram_size() > pv::kMonitorBytes ? cpu.mem.ram_size() - pv::kMonitorBytes : 0;
  paging_.pinned = &pinned_frames_;
  cpu.translation_hook = &paging_;
  cpu.tlb.flush_all();
  inner_ = cpu.intc;
  cpu.intc = this;
  timer_ = cpu.clock.add_timer("pv-timer", [this] {
    timer_pending_ = true;
    timer_next_ += timer_period_;
    cpu_->clock.arm(timer_, timer_next_);
    cpu_->intr_changed();
  });
  started_ = true;
}

bool PvMonitor::events_enabled(Cpu& cpu) const {
  if (cpu.s.cpl() == 3) return true;  // user code always runs with events on
  return paging_.shared_info && cpu.mem.read(paging_.shared_info + pv::shared::kEventsEnabled, 4) != 0;
}

void PvMonitor::set_shared(Cpu& cpu, uint32_t offset, uint32_t value) {
  if (paging_.shared_info) cpu.mem.write(paging_.shared_info + offset, 4, value);
}

bool PvMonitor::intr_pending() {
  if (!cpu_) return false;
  if (!timer_pending_ && !(inner_ && inner_->intr_pending())) return false;
  if (events_enabled(*cpu_)) return true;
  set_shared(*cpu_, pv::shared::kPending, 1);  // the guest asks with kYield once it enables events
  return false;
}

uint8_t PvMonitor::acknowledge() {
  set_shared(*cpu_, pv::shared::kPending, 0);
  if (timer_pending_) {
    timer_pending_ = false;
    return timer_vector_;
  }
  return inner_->acknowledge();
}

Monitor::Action PvMonitor::on_event(Cpu& cpu, const PendingEvent& ev, uint64_t return_rip) {
  if (!started_ || ev.kind == PendingEvent::Kind::Sensitive) return Action::Deliver;
  const unsigned cpl = cpu.s.cpl();
  const unsigned guest_cpl = cpl == 1 ? 0 : cpl;
  switch (ev.kind) {
    case PendingEvent::Kind::SoftwareInt: {
      if (ev.vector == pv::kHypercallVector && cpl == 1) return hypercall(cpu, return_rip);
      if (ev.vector == pv::kFastTrapVector && cpl == 3 && fast_trap_) {
        ++fast_traps_;
        return Action::Deliver;  // the CPU itself, through the real gate: no exit
      }
      const Trap& t = traps_[ev.vector];
      if (!t.present || (t.flags & pv::kTrapDplMask) < guest_cpl) {
        // As a gate of too high a DPL: #GP with the IDT-flavoured error code.
        exit(cpu, ExitReason::GuestException, vec::GP, guest_cpl);
        deliver(cpu, vec::GP, true, ev.vector * 8u + 2, cpu.s.rip);
        return Action::Handled;
      }
      exit(cpu, ExitReason::GuestException, ev.vector, guest_cpl);
      break;
    }
    case PendingEvent::Kind::External:
      exit(cpu, ExitReason::ExternalInterrupt, ev.vector, guest_cpl);
      break;
    default:
      if (cpl == 1 && ev.vector == vec::GP) {
        not_paravirtualized(cpu, ev);
        if (cpu.stop_requested() != StopReason::None) return Action::Handled;
      }
      exit(cpu, ExitReason::GuestException, ev.vector, guest_cpl);
      break;
  }
  deliver(cpu, ev.vector, ev.has_error, ev.error, return_rip);
  return Action::Handled;
}

// Only hypercalls may do what these do: a kernel that runs one was built
// for bare metal (or trap), and trap-and-emulate is another mode.
void PvMonitor::not_paravirtualized(Cpu& cpu, const PendingEvent&) {
  uint8_t bytes[15];
  const uint32_t lin = static_cast<uint32_t>(cpu.linear(CS, cpu.s.rip));
  size_t n = 0;
  while (n < sizeof bytes && read_guest(cpu, lin + static_cast<uint32_t>(n), bytes + n, 1)) ++n;
  DecodedInsn insn;
  if (n == 0 || decoder_.decode(bytes, n, cpu.s.code_size(), insn) != DecodeStatus::Ok) return;
  const Sensitivity kind = classify(insn).kind;
  if (kind != Sensitivity::Privileged && kind != Sensitivity::IoplSensitive) return;
  cpu.request_stop(StopReason::Unsupported,
                   fmt::format("this guest is not paravirtualized: {} at {:#010x} (run it with --mode trap or bt)",
                               Decoder::format(bytes, n, cpu.s.code_size(), cpu.s.rip), lin));
}

// As an interrupt or trap gate to ring 1 would (SDM vol. 3, 6.12.1), with
// the virtual IF in the pushed EFLAGS: from ring 3 onto the kernel stack
// the guest registered, else on the current one.
bool PvMonitor::deliver(Cpu& cpu, uint8_t vector, bool has_error, uint32_t error, uint64_t return_rip) {
  CpuState& s = cpu.s;
  const Trap& t = traps_[vector];
  if (!t.present) {
    cpu.request_stop(StopReason::Shutdown,
                     fmt::format("pv: vector {:#x} has no entry in the guest's trap table: the guest crashed", vector));
    return false;
  }
  const bool from_user = s.cpl() == 3;
  if (from_user && !kstack_set_) {
    cpu.request_stop(StopReason::Shutdown, "pv: an event from ring 3 before the guest set its kernel stack");
    return false;
  }
  uint32_t eflags = static_cast<uint32_t>(s.flags.bits());
  eflags = events_enabled(cpu) ? (eflags | flag::IF) : (eflags & ~flag::IF);
  uint32_t frame[6];
  unsigned n = 0;
  if (from_user) {
    frame[n++] = s.seg[SS].selector;
    frame[n++] = static_cast<uint32_t>(s.gpr[RSP]);
  }
  frame[n++] = eflags;
  frame[n++] = s.seg[CS].selector;
  frame[n++] = static_cast<uint32_t>(return_rip);
  if (has_error) frame[n++] = error;
  const SegmentCache ss = from_user ? data_cache_ : s.seg[SS];
  uint32_t esp = from_user ? kstack_esp_ : static_cast<uint32_t>(s.gpr[RSP]);
  // Every byte of the frame translated (as a ring-1 data write, never as
  // an implicit table access: the stack may not reach the monitor's
  // window) before the first is written.
  uint64_t phys[6][4];
  for (unsigned i = 0; i < n; ++i) {
    esp -= 4;
    for (unsigned b = 0; b < 4; ++b) {
      const uint64_t lin = (ss.base + esp + b) & 0xFFFFFFFF;
      if (cpu.translate(lin, Access::Write, false, phys[i][b]) != Status::Ok) {
        cpu.request_stop(StopReason::Shutdown,
                         fmt::format("pv: cannot deliver vector {:#x}: the guest's kernel stack at {:#010x} is not "
                                     "writable: the guest crashed",
                                     vector, lin));
        return false;
      }
    }
  }
  for (unsigned i = 0; i < n; ++i)
    for (unsigned b = 0; b < 4; ++b) cpu.mem.write(phys[i][b], 1, (frame[i] >> (8 * b)) & 0xFF);
  if (vector == vec::PF) set_shared(cpu, pv::shared::kCr2, static_cast<uint32_t>(paging_.fault_lin));
  if (t.flags & pv::kTrapClearsIf) set_shared(cpu, pv::shared::kEventsEnabled, 0);
  s.seg[SS] = ss;
  s.gpr[RSP] = esp;
  s.seg[CS] = code_cache_;
  s.rip = t.address;
  s.flags.set(flag::TF | flag::NT | flag::RF, false);
  ++cpu.events;
  ++events_delivered_;
  return true;
}

Monitor::Action PvMonitor::hypercall(Cpu& cpu, uint64_t return_rip) {
  CpuState& s = cpu.s;
  const auto nr = static_cast<uint32_t>(s.gpr[RAX]);
  exit(cpu, ExitReason::Hypercall, nr, 0);
  s.rip = return_rip;
  const uint32_t args[5] = {static_cast<uint32_t>(s.gpr[RBX]), static_cast<uint32_t>(s.gpr[RCX]),
                            static_cast<uint32_t>(s.gpr[RDX]), static_cast<uint32_t>(s.gpr[RSI]),
                            static_cast<uint32_t>(s.gpr[RDI])};
  Action action = Action::Handled;
  const int32_t r = call(cpu, nr, args, false, action);
  s.gpr[RAX] = static_cast<uint32_t>(r);
  if (events_enabled(cpu)) cpu.intr_changed();
  return action;
}

// Xen's fast system call: a DPL 3 trap gate straight to the guest's
// handler at ring 1, the stack from the TSS.  Only a handler that leaves
// events on can go this way, since the CPU cannot clear the virtual IF.
void PvMonitor::install_fast_trap() {
  const Trap& t = traps_[pv::kFastTrapVector];
  fast_trap_ = t.present && (t.flags & pv::kTrapDplMask) == 3 && !(t.flags & pv::kTrapClearsIf);
  const uint32_t lo = (uint32_t{pv::kKernelCs} << 16) | (t.address & 0xFFFF);
  const uint32_t hi = fast_trap_ ? (t.address & 0xFFFF0000) | 0xEF00 : 0;  // P, DPL 3, 32-bit trap gate
  std::memcpy(tables_ + window::kIdt + pv::kFastTrapVector * 8, &lo, 4);
  std::memcpy(tables_ + window::kIdt + pv::kFastTrapVector * 8 + 4, &hi, 4);
}

std::vector<std::pair<std::string, uint64_t>> PvMonitor::counters() const {
  return {{"events_delivered", events_delivered_},
          {"fast_system_calls", fast_traps_},
          {"mmu_entries_updated", mmu_entries_},
          {"multicall_entries", multicall_entries_},
          {"tables_pinned", pinned_.size()}};
}

// Guest linear memory as the guest's tables map it for a supervisor
// access, never the monitor's memory, never a pinned table for writing.
bool PvMonitor::read_guest(Cpu& cpu, uint32_t lin, void* out, uint32_t len) {
  auto* dst = static_cast<uint8_t*>(out);
  for (uint32_t i = 0; i < len; ++i) {
    const uint32_t at = lin + i;
    uint64_t phys = at;
    if (window::contains(at)) return false;
    if (paging_.paging) {
      const WalkExplanation w =
          cpu.walker.explain(WalkRequest{at, Access::Read, false, kRealCr0, paging_.cr3, 0, cpu.s.efer, cpu.s.pdpte});
      if (!w.ok) return false;
      phys = w.t.phys;
    }
    const uint8_t* p = cpu.mem.ram_ptr(phys, 1);
    if (!p || !guest_frame(phys & ~kPageMask)) return false;
    dst[i] = *p;
  }
  return true;
}

bool PvMonitor::write_guest(Cpu& cpu, uint32_t lin, const void* in, uint32_t len) {
  // All or nothing: every byte is checked before the first is written.
  std::vector<uint64_t> phys(len);
  for (uint32_t i = 0; i < len; ++i) {
    const uint32_t at = lin + i;
    uint64_t p = at;
    if (window::contains(at)) return false;
    if (paging_.paging) {
      const WalkExplanation w =
          cpu.walker.explain(WalkRequest{at, Access::Write, false, kRealCr0, paging_.cr3, 0, cpu.s.efer, cpu.s.pdpte});
      if (!w.ok) return false;
      p = w.t.phys;
    }
    if (!cpu.mem.ram_ptr(p, 1) || !guest_frame(p & ~kPageMask) || pinned_frames_.count(p & ~kPageMask)) return false;
    phys[i] = p;
  }
  const auto* src = static_cast<const uint8_t*>(in);
  for (uint32_t i = 0; i < len; ++i) cpu.mem.write(phys[i], 1, src[i]);
  return true;
}

}  // namespace vtlab
