// `hw --hw-backend sim`: hardware-assisted virtualization as VT-x does it,
// modelled on the interpreter (docs/HARDWARE_ASSISTED.md).  The guest runs
// at its own privilege levels in a simulated VMX non-root mode: its ring 0
// is ring 0, its IDT, GDT and CR3 are the real ones.  Which events and
// instructions leave non-root mode (a VM exit) is decided by the controls
// of a simulated VMCS (vmcs.h) as the SDM vol. 3C, chapter 25 decides it:
//   - instructions that may exit are marked at decode time (on_block) and
//     come back as Sensitive events: the controls in effect and the
//     operands (port, MSR, value written to CR0) decide whether this
//     execution exits.  An exit is recorded with its VMX exit reason and
//     qualification; then the monitor emulates the instruction by running
//     the interpreter's own handler on the guest state (the guest is at
//     its real CPL, so that gives the architectural result) and resumes.
//     What does not exit runs as it would in non-root mode: a read of a
//     CR0/CR4 bit the monitor owns returns the read shadow, a write of a
//     guest-owned bit lands in the real register.
//   - exceptions exit per the exception bitmap, device interrupts with
//     external-interrupt exiting, and interrupt-window exiting opens a
//     window exit when the guest sets IF with an interrupt pending; the
//     monitor then injects the event (the hardware course).
//   - memory: shadow paging (privilege/shadow_mmu.h, CR3 and #PF exits;
//     32-bit paging only) or nested paging (ept.h: the 2-D walk counted,
//     MMIO as EPT violations).  Without VPID every VM exit flushes the TLB.
#pragma once

#include <array>
#include <memory>

#include "core/interrupt_controller.h"
#include "privilege/hw_sim/ept.h"
#include "privilege/hw_sim/exit_reasons.h"
#include "privilege/hw_sim/vmcs.h"
#include "privilege/monitor.h"
#include "privilege/shadow_mmu.h"
#include "privilege/virtual_cpu.h"

namespace vtlab {

class HwSimMonitor final : public Monitor, public InterruptController {
 public:
  // Throws std::invalid_argument when the controls cannot run a guest
  // (Controls::validate).
  explicit HwSimMonitor(const vmx::Controls& controls);

  std::string_view name() const override { return "hw-sim"; }
  Action on_event(Cpu& cpu, const PendingEvent& ev, uint64_t return_rip) override;
  void begin(Cpu& cpu) override;
  void on_block(Cpu& cpu, uint64_t lin, uint64_t phys, std::vector<DecodedInsn>& insns) override;
  std::vector<std::pair<std::string, uint64_t>> counters() const override;

  // The INTR line the engine sees: the device's, with the window exit
  // taken when the guest opens interrupts on a pending one.
  bool intr_pending() override;
  uint8_t acknowledge() override { return inner_->acknowledge(); }

  const vmx::Controls& controls() const { return c_; }
  // The shadow page tables the real CPU runs on, without EPT; else null.
  const ShadowMmu* shadow_paging() const { return c_.enable_ept ? nullptr : &shadow_; }
  // VM exits per basic exit reason.
  uint64_t vmx_exits(vmx::ExitReason r) const { return by_vmx_[static_cast<unsigned>(r)]; }
  struct LastExit {
    uint16_t reason = ExitRecord::kNoVmxReason;
    uint64_t qualification = 0;
  };
  const LastExit& last_exit() const { return last_; }
  const NestedPaging* nested() const { return c_.enable_ept ? &ept_ : nullptr; }
  // The controls, exits per VMX reason and the paging figures, for --stats.
  nlohmann::json stats_json() const;

 private:
  // How one instruction execution exits, if it does.
  struct Decision {
    bool exits = false;
    ExitReason reason = ExitReason::SensitiveInsn;
    uint32_t key = 0;
    vmx::ExitReason vmx = vmx::ExitReason::Cpuid;
    uint64_t qualification = 0;
    bool after = false;  // exits only once the instruction's own checks passed (I/O under the TSS bitmap)
    ExitCause cause;     // the control that selected the exit
  };
  Decision decide(Cpu& cpu, const DecodedInsn& insn);
  Action on_sensitive(Cpu& cpu, const DecodedInsn& insn);
  Status run_guest_insn(Cpu& cpu, const DecodedInsn& insn, const Decision& d);
  Action finish(Cpu& cpu, Status st);
  Action fault(Cpu& cpu, const PendingEvent& ev, uint64_t return_rip);
  void vm_exit(Cpu& cpu, ExitReason reason, uint32_t key, vmx::ExitReason vmx, uint64_t qualification,
               ExitCause cause);
  void shadow_exit(Cpu& cpu, ExitReason reason, uint32_t key);
  bool exception_exits(const PendingEvent& ev) const;
  void check_paging_mode(Cpu& cpu);

  // The shadow page tables answer TLB misses through this, which keeps
  // the linear address for the exit qualification of the #PF exits.
  class ShadowHook final : public TranslationHook {
   public:
    explicit ShadowHook(ShadowMmu& mmu) : mmu_(mmu) {}
    Status translate(Cpu& cpu, uint64_t lin, Access access, bool user, bool system, uint64_t& phys) override {
      lin_ = lin;
      return mmu_.translate(cpu, lin, access, user, system, phys);
    }
    void guest_paging(const Cpu& cpu, uint64_t& cr0, uint64_t& cr3, uint64_t& cr4) const override {
      mmu_.guest_paging(cpu, cr0, cr3, cr4);
    }
    uint64_t lin_ = 0;

   private:
    ShadowMmu& mmu_;
  };

  vmx::Controls c_;
  VirtualCpu unused_virtual_;  // ShadowMmu's view of a deprivileged guest: hw has none
  ShadowMmu shadow_;
  ShadowHook shadow_hook_;
  NestedPaging ept_;
  InterruptController* inner_ = nullptr;
  Cpu* cpu_ = nullptr;
  bool started_ = false;
  bool window_armed_ = false;   // the guest set IF with an interrupt pending
  bool inject_on_entry_ = false;  // the next interrupt is injected at VM entry, no exit of its own
  std::array<uint64_t, vmx::kMaxExitReason + 1> by_vmx_{};
  LastExit last_;
  uint64_t tlb_flushes_ = 0;
};

}  // namespace vtlab
