// The KVM engine: the guest runs on the host's /dev/kvm with the machine's
// own RAM mapping and devices (docs/KVM.md).  A run loop that is one switch
// over KVM's exit reasons (port I/O to the machine's IoBus, MMIO to
// PhysicalMemory's MMIO dispatch, HLT, shutdown, entry failures, internal
// errors, debug), interrupts from the machine's PIC/APIC injected with
// KVM_INTERRUPT when the guest can take them, device timers on host time.
// Each KVM exit is recorded in the machine's ExitLog under the shared
// taxonomy (docs/EXITS.md); the kernel's own counters come from
// KVM_GET_STATS_FD.
//
// Time is not deterministic here: virtual time advances by the host time
// spent inside KVM_RUN (credited to Cpu::idle, since KVM reports no
// retired instructions) and jumps over HLT to the next timer deadline.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/engine.h"
#include "core/exits.h"
#include "core/kvm/kvm_state.h"
#include "core/kvm/kvm_stats.h"
#include "core/kvm/kvm_timer.h"
#include "core/kvm/kvm_vm.h"
#include "privilege/monitor.h"

namespace vtlab {

class KvmEngine : public Engine {
 public:
  KvmEngine(Cpu& cpu, ExitLog& exits);
  ~KvmEngine() override;

  StopReason run(uint64_t budget) override;
  // One instruction through KVM_SET_GUEST_DEBUG single-stepping, where the
  // host offers it (docs/KVM.md lists this host's quirks).
  StopReason step() override;
  void flush() override {}
  std::string_view name() const override { return "kvm"; }

  // KVM's own exit reasons as counted here, then the kernel's vCPU and VM
  // statistics ("kvm.vcpu.exits", ...), for --stats.
  std::vector<std::pair<std::string, uint64_t>> counters() const;
  // Empty while the engine can run; else why it cannot.
  const std::string& unavailable() const { return unavailable_; }

 private:
  bool setup();
  bool push_state();
  bool pull_state();
  StopReason fail(StopReason r, std::string why);
  // One KVM_RUN with a host timer armed for `ns` nanoseconds; false only
  // when the ioctl failed for a reason other than the timer.
  bool enter(uint64_t ns);
  // Handles the exit KVM_RUN left in kvm_run; StopReason::None to go on.
  StopReason handle_exit();
  void io_exit();
  void mmio_exit();
  void inject_interrupt();
  StopReason halted(uint64_t end);
  void record(ExitReason reason, uint32_t key);
  std::string code_bytes_at_rip();

  Cpu& cpu_;
  ExitLog& exits_;
  KvmVm vm_;
  KvmStats vcpu_stats_, vm_stats_;
  bool tried_ = false;
  std::string unavailable_;
  bool sync_regs_ = false;
  bool halted_ = false;
  bool stepping_ = false;
  // What the vCPU held after the last pull, so a push writes only what
  // changed on vtlab's side (a debugger, a loader).
  kvm_regs regs_{};
  kvm_sregs sregs_{};
  KvmMsrs msrs_{};
  // The vCPU's XSAVE image (x87/SSE state, to_kvm_xsave), as last pulled
  // or pushed, and the ioctl that reads it (KVM_GET_XSAVE2 when the image
  // exceeds 4 KiB).
  std::vector<uint32_t> xsave_;
  unsigned long get_xsave_ = kKvmGetXsave;
  bool pushed_ = false;
  std::vector<uint64_t> kvm_exits_;  // per KVM_EXIT_* number
  std::unique_ptr<KvmRunTimer> timer_;
};

// The `hw` mode's monitor with the kvm backend: the hardware delivers
// every event; it carries the KVM counters into --stats.
class KvmMonitor final : public Monitor {
 public:
  std::string_view name() const override { return "hw-kvm"; }
  Action on_event(Cpu&, const PendingEvent&, uint64_t) override { return Action::Deliver; }
  std::vector<std::pair<std::string, uint64_t>> counters() const override {
    return engine_ ? engine_->counters() : std::vector<std::pair<std::string, uint64_t>>{};
  }
  void set_engine(const KvmEngine* e) { engine_ = e; }

 private:
  const KvmEngine* engine_ = nullptr;
};

}  // namespace vtlab
