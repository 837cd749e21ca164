// The KVM run loop (kvm_engine.h).  The loop's shape follows the KVM API
// document (Documentation/virt/kvm/api.rst): KVM_RUN, then one switch over
// kvm_run::exit_reason; I/O and MMIO completed by the next KVM_RUN (with
// immediate_exit when vtlab stops in between); interrupts injected with
// KVM_INTERRUPT only when kvm_run says the guest is ready, otherwise an
// interrupt window requested.
#include "core/kvm/kvm_engine.h"

#include <fmt/format.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/interpreter.h"
#include "core/kvm/kvm_explain.h"
#include "core/kvm/kvm_timer.h"

namespace vtlab {

namespace {
// The longest one KVM_RUN may last before vtlab looks again: the watchdog
// for a guest that spins without exiting (in emulated CPL0 code, too).
constexpr uint64_t kMaxSliceNs = 20'000'000;
}  // namespace

KvmEngine::KvmEngine(Cpu& cpu, ExitLog& exits) : cpu_(cpu), exits_(exits), kvm_exits_(64, 0) {}

KvmEngine::~KvmEngine() = default;

StopReason KvmEngine::fail(StopReason r, std::string why) {
  cpu_.request_stop(r, std::move(why));
  return r;
}

// Opens the VM on first use, so a machine can be built (and its options
// checked) on a host without KVM; run() then explains.
bool KvmEngine::setup() {
  if (tried_) return unavailable_.empty();
  tried_ = true;
  if (!vm_.open()) {
    unavailable_ = "hw-kvm: " + vm_.why();
    return false;
  }
  if (!vm_.check(KVM_CAP_IMMEDIATE_EXIT)) {
    unavailable_ = "hw-kvm: this host's KVM lacks KVM_CAP_IMMEDIATE_EXIT, which bounds each KVM_RUN";
    return false;
  }
  // RAM slots: every run of plain RAM pages.  ROM and MMIO pages stay out,
  // so accesses to them exit as MMIO and reach PhysicalMemory.
  PhysicalMemory& mem = cpu_.mem;
  uint32_t slot = 0;
  for (uint64_t p = 0; p < mem.ram_size();) {
    if (mem.kind(p) != PhysicalMemory::Kind::Ram) {
      p += kPageSize;
      continue;
    }
    uint64_t end = p;
    while (end < mem.ram_size() && mem.kind(end) == PhysicalMemory::Kind::Ram) end += kPageSize;
    if (!vm_.map(slot++, p, mem.ram() + p, end - p)) {
      unavailable_ = "hw-kvm: " + vm_.why();
      return false;
    }
    p = end;
  }
  const int sync = vm_.check(KVM_CAP_SYNC_REGS);
  if ((sync & (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)) == (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)) {
    vm_.run()->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
    sync_regs_ = true;
  }
  vcpu_stats_.open(vm_.vcpu_fd());
  vm_stats_.open(vm_.vm_fd());
  timer_ = std::make_unique<KvmRunTimer>();
  if (!timer_->ok()) {
    unavailable_ = "hw-kvm: cannot create the host timer that bounds each KVM_RUN";
    return false;
  }
  // What the vCPU holds now fills the fields vtlab does not model.
  if (!vm_.vcpu_ioctl(KVM_GET_SREGS, &sregs_, "KVM_GET_SREGS")) {
    unavailable_ = "hw-kvm: " + vm_.why();
    return false;
  }
  if (!vm_.check(KVM_CAP_XSAVE)) {
    unavailable_ = "hw-kvm: KVM has no KVM_CAP_XSAVE, so the x87/SSE state cannot be carried";
    return false;
  }
  const int xsave_size = vm_.check(KVM_CAP_XSAVE2);
  if (xsave_size > static_cast<int>(sizeof(KvmXsaveRegion))) get_xsave_ = kKvmGetXsave2;
  xsave_.assign(std::max<size_t>(sizeof(KvmXsaveRegion), xsave_size > 0 ? size_t(xsave_size) : 0) / 4, 0);
  if (!vm_.vcpu_ioctl(get_xsave_, xsave_.data(), "KVM_GET_XSAVE")) {
    unavailable_ = "hw-kvm: " + vm_.why();
    return false;
  }
  return true;
}

bool KvmEngine::push_state() {
  kvm_regs r{};
  to_kvm(cpu_.s, r);
  if (!pushed_ || std::memcmp(&r, &regs_, sizeof r) != 0) {
    if (!vm_.vcpu_ioctl(KVM_SET_REGS, &r, "KVM_SET_REGS")) return false;
    regs_ = r;
  }
  kvm_sregs sr = sregs_;
  to_kvm(cpu_.s, sr);
  if (!pushed_ || std::memcmp(&sr, &sregs_, sizeof sr) != 0) {
    if (!vm_.vcpu_ioctl(KVM_SET_SREGS, &sr, "KVM_SET_SREGS")) return false;
    if (!vm_.vcpu_ioctl(KVM_GET_SREGS, &sregs_, "KVM_GET_SREGS")) return false;
    // kvm_pvm accepts CR0.PG outside long mode but drops it (docs/KVM.md).
    if ((sr.cr0 & cr0::PG) && !(sregs_.cr0 & cr0::PG))
      return vm_.fail(paging_refused_reason());
  }
  KvmMsrs m{};
  to_kvm(cpu_.s, m);
  if (!pushed_ || std::memcmp(&m, &msrs_, sizeof m) != 0) {
    const int n = ioctl(vm_.vcpu_fd(), kKvmSetMsrs, &m);
    if (n != static_cast<int>(kKvmMsrs.size()))
      return vm_.fail(fmt::format("KVM_SET_MSRS refused MSR {:#x}", kKvmMsrs[n < 0 ? 0 : size_t(n)]));
    msrs_ = m;
  }
  std::vector<uint32_t> image = xsave_;
  to_kvm_xsave(cpu_.s, reinterpret_cast<uint8_t*>(image.data()));
  if (!pushed_ || image != xsave_) {
    if (!vm_.vcpu_ioctl(kKvmSetXsave, image.data(), "KVM_SET_XSAVE")) return false;
    xsave_ = std::move(image);
  }
  pushed_ = true;
  return true;
}

bool KvmEngine::pull_state() {
  kvm_run* run = vm_.run();
  // An I/O or MMIO exit is complete (RIP past the instruction, IN's data in
  // RAX) only after the next KVM_RUN: enter once with immediate_exit.
  if (run->exit_reason == KVM_EXIT_IO || run->exit_reason == KVM_EXIT_MMIO) {
    run->immediate_exit = 1;
    ioctl(vm_.vcpu_fd(), KVM_RUN, 0);
    run->immediate_exit = 0;
    run->exit_reason = KVM_EXIT_INTR;
  }
  if (!vm_.vcpu_ioctl(KVM_GET_REGS, &regs_, "KVM_GET_REGS") ||
      !vm_.vcpu_ioctl(KVM_GET_SREGS, &sregs_, "KVM_GET_SREGS"))
    return false;
  to_kvm(cpu_.s, msrs_);
  if (ioctl(vm_.vcpu_fd(), kKvmGetMsrs, &msrs_) != static_cast<int>(kKvmMsrs.size()))
    return vm_.fail("KVM_GET_MSRS failed");
  from_kvm(regs_, cpu_.s);
  from_kvm(sregs_, cpu_.s);
  from_kvm(msrs_, cpu_.s);
  if (!vm_.vcpu_ioctl(get_xsave_, xsave_.data(), "KVM_GET_XSAVE")) return false;
  from_kvm_xsave(reinterpret_cast<const uint8_t*>(xsave_.data()), cpu_.s);
  to_kvm_xsave(cpu_.s, reinterpret_cast<uint8_t*>(xsave_.data()));  // like with like on the next push
  KvmMsrs again{};
  to_kvm(cpu_.s, again);
  msrs_ = again;  // compare like with like on the next push
  cpu_.tlb.flush_all();  // the guest changed its tables behind vtlab's TLB
  return true;
}

StopReason KvmEngine::run(uint64_t budget) {
  if (!setup()) return fail(StopReason::Unsupported, unavailable_);
  if (!push_state()) return fail(StopReason::Unsupported, "hw-kvm: " + vm_.why());
  const uint64_t start = cpu_.virtual_time();
  const uint64_t end = budget > Interpreter::kVirtualTimeLimit - start ? Interpreter::kVirtualTimeLimit : start + budget;
  StopReason stop = StopReason::None;
  while (stop == StopReason::None) {
    if (cpu_.stop_requested() != StopReason::None) {
      stop = cpu_.stop_requested();
      break;
    }
    cpu_.clock.run_due();
    if (cpu_.stop_requested() != StopReason::None) continue;
    const uint64_t now = cpu_.virtual_time();
    if (now >= end) {
      stop = StopReason::BudgetExhausted;
      break;
    }
    if (halted_) {
      stop = halted(end);
      continue;
    }
    inject_interrupt();
    const uint64_t until = std::min(cpu_.clock.next_deadline(), end);
    if (!enter(std::min(until - now, kMaxSliceNs))) {
      stop = fail(StopReason::Unsupported, "hw-kvm: " + vm_.why());
      break;
    }
    // A KVM_RUN overruns its timer by the signal's latency (milliseconds
    // while KVM emulates); the budget is honoured as the interpreter does.
    if (cpu_.virtual_time() > end) cpu_.idle -= cpu_.virtual_time() - end;
    stop = handle_exit();
  }
  if (!pull_state() && stop == StopReason::None) stop = fail(StopReason::Unsupported, "hw-kvm: " + vm_.why());
  return stop;
}

bool KvmEngine::enter(uint64_t ns) {
  kvm_run* run = vm_.run();
  const uint64_t t0 = host_ns();
  const int r = timer_->run(vm_.vcpu_fd(), run, ns);
  const int err = errno;
  cpu_.idle += host_ns() - t0;
  if (r < 0 && (err == EINTR || err == EAGAIN)) {
    run->exit_reason = KVM_EXIT_INTR;
    return true;
  }
  if (r < 0) return vm_.fail(std::string("KVM_RUN: ") + std::strerror(err));
  return true;
}

void KvmEngine::record(ExitReason reason, uint32_t key) {
  const kvm_run* run = vm_.run();
  const uint64_t rip = sync_regs_ ? run->s.regs.regs.rip : 0;
  const uint8_t cpl = sync_regs_ ? run->s.regs.sregs.ss.dpl : 0;
  // The modelled cost is counted, not added to virtual time: under KVM
  // virtual time is host time, which already holds the real cost.
  exits_.record(ExitRecord{reason, key, rip, cpl, cpu_.virtual_time(), 0});
}

StopReason KvmEngine::handle_exit() {
  kvm_run* run = vm_.run();
  ++kvm_exits_[std::min<size_t>(run->exit_reason, kvm_exits_.size() - 1)];
  switch (run->exit_reason) {
    case KVM_EXIT_IO: io_exit(); return StopReason::None;
    case KVM_EXIT_MMIO: mmio_exit(); return StopReason::None;
    case KVM_EXIT_HLT:
      record(ExitReason::Hlt, 0);
      halted_ = true;
      return StopReason::None;
    case KVM_EXIT_IRQ_WINDOW_OPEN:
      record(ExitReason::InterruptWindow, 0);
      run->request_interrupt_window = 0;
      return StopReason::None;
    case KVM_EXIT_INTR:  // the host timer: a deadline, the budget or the watchdog
      return StopReason::None;
    case KVM_EXIT_DEBUG: return StopReason::None;  // single-step done (step())
    case KVM_EXIT_SHUTDOWN:
      record(ExitReason::Shutdown, 0);
      if (!pull_state()) return fail(StopReason::Shutdown, "hw-kvm: the guest shut down (triple fault)");
      return fail(StopReason::Shutdown, explain_shutdown(cpu_, code_bytes_at_rip()));
    case KVM_EXIT_SYSTEM_EVENT:
      record(ExitReason::Shutdown, 0);
      return fail(StopReason::Shutdown,
                  fmt::format("hw-kvm: KVM reported system event {} (shutdown or reset)", run->system_event.type));
    case KVM_EXIT_FAIL_ENTRY:
      pull_state();
      return fail(StopReason::Unsupported,
                  fmt::format("hw-kvm: KVM could not enter the guest (hardware entry failure reason {:#x}); {}",
                              run->fail_entry.hardware_entry_failure_reason, describe_mode(cpu_.s)));
    case KVM_EXIT_INTERNAL_ERROR: {
      const uint32_t sub = run->internal.suberror;
      pull_state();
      if (sub == KVM_INTERNAL_ERROR_EMULATION)
        return fail(StopReason::Unsupported, explain_emulation_failure(cpu_, code_bytes_at_rip()));
      return fail(StopReason::Unsupported,
                  fmt::format("hw-kvm: KVM internal error (suberror {}) at RIP {:#x}; {}", sub, cpu_.s.rip,
                              describe_mode(cpu_.s)));
    }
    default:
      return fail(StopReason::Unsupported,
                  fmt::format("hw-kvm: unexpected KVM exit reason {} ({})", run->exit_reason,
                              kvm_exit_name(run->exit_reason)));
  }
}

void KvmEngine::io_exit() {
  kvm_run* run = vm_.run();
  const auto& io = run->io;
  const uint64_t bytes = uint64_t{io.size} * io.count;
  if ((io.size != 1 && io.size != 2 && io.size != 4) || io.data_offset > vm_.run_size() ||
      bytes > vm_.run_size() - io.data_offset)
    return;  // KVM never sends these; nothing to service
  uint8_t* data = reinterpret_cast<uint8_t*>(run) + io.data_offset;
  for (uint32_t i = 0; i < io.count; ++i) {
    uint64_t v = 0;
    if (io.direction == KVM_EXIT_IO_OUT) {
      std::memcpy(&v, data + i * io.size, io.size);
      cpu_.port_out(io.port, io.size, v);
    } else {
      v = cpu_.port_in(io.port, io.size);
      std::memcpy(data + i * io.size, &v, io.size);
    }
  }
  record(ExitReason::Io, io.port);
}

void KvmEngine::mmio_exit() {
  kvm_run* run = vm_.run();
  auto& m = run->mmio;
  const unsigned len = std::min<unsigned>(m.len, sizeof m.data);
  PhysicalMemory& mem = cpu_.mem;
  const bool whole = len == 1 || len == 2 || len == 4 || len == 8;
  if (m.is_write) {
    uint64_t v = 0;
    std::memcpy(&v, m.data, len);
    if (whole) mem.write(m.phys_addr, len, v);
    else
      for (unsigned i = 0; i < len; ++i) mem.write(m.phys_addr + i, 1, (v >> (8 * i)) & 0xFF);
  } else {
    uint64_t v = 0;
    if (whole) v = mem.read(m.phys_addr, len);
    else
      for (unsigned i = 0; i < len; ++i) v |= mem.read(m.phys_addr + i, 1) << (8 * i);
    std::memcpy(m.data, &v, len);
  }
  record(ExitReason::Mmio, static_cast<uint32_t>(m.phys_addr & ~kPageMask));
}

// The machine's own interrupt controller (APIC, 8259A behind it) decides
// what is pending; KVM only carries the vector in.
void KvmEngine::inject_interrupt() {
  kvm_run* run = vm_.run();
  InterruptController* ic = cpu_.intc;
  if (!ic || !ic->intr_pending()) {
    run->request_interrupt_window = 0;
    return;
  }
  if (!run->ready_for_interrupt_injection || !run->if_flag) {
    run->request_interrupt_window = 1;
    return;
  }
  kvm_interrupt irq{ic->acknowledge()};
  if (vm_.vcpu_ioctl(KVM_INTERRUPT, &irq, "KVM_INTERRUPT")) record(ExitReason::ExternalInterrupt, irq.irq);
  run->request_interrupt_window = 0;
}

// After a HLT exit: wake on an interrupt the guest can take, else sleep
// to the next timer deadline in one jump (no host time passes), else stop.
StopReason KvmEngine::halted(uint64_t end) {
  const kvm_run* run = vm_.run();
  if (!run->if_flag) return fail(StopReason::Halted, "HLT with interrupts disabled");
  if (cpu_.intc && cpu_.intc->intr_pending()) {
    halted_ = false;
    return StopReason::None;
  }
  const uint64_t next = cpu_.clock.next_deadline();
  if (next == VirtualClock::kNever)
    return fail(StopReason::Halted, "HLT with interrupts enabled, but no timer is armed to wake it");
  const uint64_t now = cpu_.virtual_time(), target = std::min(next, end);
  if (target > now) cpu_.idle += target - now;
  return StopReason::None;
}

StopReason KvmEngine::step() {
  if (!setup()) return fail(StopReason::Unsupported, unavailable_);
  if (!push_state()) return fail(StopReason::Unsupported, "hw-kvm: " + vm_.why());
  StopReason stop = StopReason::None;
  cpu_.clock.run_due();
  if (halted_) {
    stop = halted(Interpreter::kVirtualTimeLimit);
    cpu_.clock.run_due();
  } else {
    kvm_guest_debug dbg{};
    dbg.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
    if (!vm_.vcpu_ioctl(KVM_SET_GUEST_DEBUG, &dbg, "KVM_SET_GUEST_DEBUG"))
      return fail(StopReason::Unsupported, "hw-kvm: single-stepping: " + vm_.why());
    inject_interrupt();
    stop = enter(kMaxSliceNs) ? handle_exit() : fail(StopReason::Unsupported, "hw-kvm: " + vm_.why());
    dbg.control = 0;
    vm_.vcpu_ioctl(KVM_SET_GUEST_DEBUG, &dbg, "KVM_SET_GUEST_DEBUG");
  }
  if (!pull_state() && stop == StopReason::None) stop = fail(StopReason::Unsupported, "hw-kvm: " + vm_.why());
  if (stop == StopReason::None && cpu_.stop_requested() != StopReason::None) stop = cpu_.stop_requested();
  return stop;
}

// Up to 15 bytes at CS:RIP through the guest's own paging, for messages.
std::string KvmEngine::code_bytes_at_rip() {
  const CpuState& s = cpu_.s;
  const uint64_t lin = s.code_size() == 8 ? s.rip : (s.seg[CS].base + s.rip) & 0xFFFFFFFF;
  std::string bytes;
  for (unsigned i = 0; i < 15; ++i) {
    uint64_t phys = lin + i;
    if (s.paging() && cpu_.translate(lin + i, Access::Execute, false, phys, true) != Status::Ok) break;
    uint8_t b;
    if (!cpu_.mem.read_bytes(phys, &b, 1)) break;
    bytes.push_back(static_cast<char>(b));
  }
  return bytes;
}

std::vector<std::pair<std::string, uint64_t>> KvmEngine::counters() const {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (size_t i = 0; i < kvm_exits_.size(); ++i)
    if (kvm_exits_[i]) out.emplace_back(fmt::format("kvm.exit.{}", kvm_exit_name(static_cast<uint32_t>(i))), kvm_exits_[i]);
  if (vcpu_stats_.ready())
    for (const auto& [name, v] : vcpu_stats_.read()) out.emplace_back("kvm.vcpu." + name, v);
  if (vm_stats_.ready())
    for (const auto& [name, v] : vm_stats_.read()) out.emplace_back("kvm.vm." + name, v);
  return out;
}

}  // namespace vtlab
