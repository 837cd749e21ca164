// What `trap` and `bt` share: a monitor that runs the guest kernel
// deprivileged at ring 1 (ring compression), guest user code at ring 3,
// on the monitor's own tables (privilege/shadow_descriptors.h) and shadow
// page tables (privilege/shadow_mmu.h), with the real IF always 1 and
// IOPL 0.  docs/TRAP_AND_EMULATE.md explains it for students.
//
// Every event comes here first (the real IDT would enter the monitor):
//   - #GP, #NP, #SS and #TS: the instruction is run again on the virtual
//     state at the guest's own privilege level.  If it completes, it only
//     faulted because the guest is deprivileged (a privileged or
//     IOPL-sensitive instruction, or a selector of RPL 0 at ring 1): it is
//     emulated and counted (privileged-insn, io, cr-access, msr-*, hlt,
//     invlpg).  If it faults there too, that fault goes to the guest.
//   - other exceptions, INT n and device interrupts are delivered through
//     the guest's own IDT, exactly as bare metal would (guest-exception,
//     external-interrupt).  A device interrupt waits while the guest's
//     virtual IF is 0 (the interrupt controller is asked through the
//     monitor, which says "nothing pending" then).
//   - an instruction the method marked at decode time (on_block) arrives
//     as a Sensitive event: on_sensitive() decides (trap: watch it for a
//     hole; bt: run its translation).
#pragma once

#include <string>

#include "core/decoder.h"
#include "core/interrupt_controller.h"
#include "privilege/monitor.h"
#include "privilege/shadow_descriptors.h"
#include "privilege/shadow_mmu.h"
#include "privilege/virtual_cpu.h"

namespace vtlab {

class RingOneMonitor : public Monitor, public InterruptController {
 public:
  Action on_event(Cpu& cpu, const PendingEvent& ev, uint64_t return_rip) override;
  void begin(Cpu& cpu) override;

  // The INTR line as the guest sees it: nothing while its IF is 0.
  bool intr_pending() override;
  uint8_t acknowledge() override { return inner_->acknowledge(); }

  const VirtualCpu& virtual_cpu() const { return v_; }
  bool started() const { return started_; }
  const ShadowMmu& shadow() const { return shadow_; }

 protected:
  RingOneMonitor();

  // An instruction the method marked at decode time (insn.original is its
  // own handler), at CS:RIP.
  virtual Action on_sensitive(Cpu& cpu, const DecodedInsn& insn) = 0;

  // An exit the shadow page tables take (hidden page fault, trace fault).
  virtual void on_shadow_exit(Cpu& cpu, ExitReason reason, uint32_t key) {
    note(cpu, reason, key, shadow_cause(reason));
  }
  // Why the shadow page tables exited: a missing entry or a traced write.
  static ExitCause shadow_cause(ExitReason reason) {
    ExitCause c;
    c.kind = reason == ExitReason::PageTableWrite ? CauseKind::TracedWrite : CauseKind::ShadowFill;
    return c;
  }

  // Runs `insn` (with its own handler) on the virtual state at the
  // guest's privilege level, as bare metal would; the result stays.  The
  // exit for it, if any, is the caller's to record.
  Status run_virtual(Cpu& cpu, const DecodedInsn& insn, uint64_t next_rip);
  // Retires an instruction run_virtual ran: the engine's follow-up for
  // each status (HLT sleeps, a fault goes to the guest).
  Action finish(Cpu& cpu, Status st, const PendingEvent& raised);
  // Which exit emulating `insn` is, and its key (docs/EXITS.md).
  static std::pair<ExitReason, uint32_t> exit_for(const Cpu& cpu, const DecodedInsn& insn);
  // An event an instruction the monitor ran raised: as the engine would.
  Action raised(Cpu& cpu, const PendingEvent& ev);
  // The instruction at CS:`ip` as the guest's tables map it, and its text.
  bool decode_at(Cpu& cpu, uint64_t ip, DecodedInsn& insn, std::string* text = nullptr);
  unsigned guest_cpl(const Cpu& cpu) const;
  void note(Cpu& cpu, ExitReason reason, uint32_t key, ExitCause cause = {}) {
    exit(cpu, reason, key, guest_cpl(cpu), std::move(cause));
  }
  // Whether every way into guest user code passes through the monitor, so
  // it knows the IF the guest gave its user code.  Under trap it does not:
  // the kernel's IRET to ring 3 runs at ring 1 without trapping and leaves
  // the real IF, so guest user code is taken to run with interrupts on.
  virtual bool sees_returns_to_user() const { return false; }
  bool virtual_interrupts(const Cpu& cpu) const {
    return v_.interrupts || (cpu.s.cpl() == 3 && !sees_returns_to_user());
  }

  VirtualCpu v_;
  ShadowMmu shadow_;
  bool in_virtual_ = false;

 private:
  Action emulate(Cpu& cpu, const PendingEvent& ev);
  void reflect(Cpu& cpu, const PendingEvent& ev, uint64_t return_rip);
  // Puts the real state back after the virtual state was in the CPU.
  void install_real(Cpu& cpu, const VirtualCpu& before);

  ShadowDescriptors tables_;
  Decoder decoder_;
  InterruptController* inner_ = nullptr;
  Cpu* cpu_ = nullptr;
  bool started_ = false;
};

}  // namespace vtlab
