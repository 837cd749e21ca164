// `trap`: classic trap-and-emulate (Popek & Goldberg), with ring
// compression and a virtualization-hole detector.  docs/TRAP_AND_EMULATE.md
// explains the method; this is the monitor.
//
// The guest kernel (virtual CPL 0) runs at ring 1, guest user code at
// ring 3, on the monitor's tables (privilege/shadow_descriptors.h) and
// shadow page tables (privilege/shadow_mmu.h), with the real IF always 1
// and IOPL 0.  Every event comes here first (the real IDT would enter the
// monitor):
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
//   - the instructions sensitivity.h calls holes are marked at decode time;
//     at ring 1 each is dry-run on the virtual state and then run for real,
//     and a site whose result differs is reported once.  The guest keeps
//     the real (wrong) result, as on real x86.  Watching costs no exits.
#pragma once

#include <unordered_set>

#include "core/decoder.h"
#include "core/interrupt_controller.h"
#include "privilege/hole_detector.h"
#include "privilege/monitor.h"
#include "privilege/shadow_descriptors.h"
#include "privilege/shadow_mmu.h"
#include "privilege/virtual_cpu.h"

namespace vtlab {

class TrapAndEmulateMonitor final : public Monitor, public InterruptController {
 public:
  // With `strict_holes` the first hole found stops the machine.
  explicit TrapAndEmulateMonitor(bool strict_holes = false);

  std::string_view name() const override { return "trap"; }
  Action on_event(Cpu& cpu, const PendingEvent& ev, uint64_t return_rip) override;
  void begin(Cpu& cpu) override;
  void on_decode(DecodedInsn& insn) override;
  const std::vector<Hole>& holes() const override { return holes_; }

  // The INTR line as the guest sees it: nothing while its IF is 0.
  bool intr_pending() override;
  uint8_t acknowledge() override { return inner_->acknowledge(); }

  const VirtualCpu& virtual_cpu() const { return v_; }
  const ShadowMmu& shadow() const { return shadow_; }

 private:
  Action emulate(Cpu& cpu, const PendingEvent& ev);
  Action watch_hole(Cpu& cpu);
  // Delivers an event through the guest's IDT on the virtual state.
  void reflect(Cpu& cpu, const PendingEvent& ev, uint64_t return_rip);
  // An event an instruction the monitor ran raised: as the engine would.
  Action raised(Cpu& cpu, const PendingEvent& ev);
  // Puts the real state back after the virtual state was in the CPU.
  void install_real(Cpu& cpu, const VirtualCpu& before);
  bool decode_at_rip(Cpu& cpu, DecodedInsn& insn, std::string* text = nullptr);
  InsnOutcome dry_run(Cpu& cpu, const DecodedInsn& insn, uint64_t next_rip);
  unsigned guest_cpl(const Cpu& cpu) const;
  void note(Cpu& cpu, ExitReason reason, uint32_t key) { exit(cpu, reason, key, guest_cpl(cpu)); }

  VirtualCpu v_;
  ShadowDescriptors tables_;
  ShadowMmu shadow_;
  Decoder decoder_;
  InterruptController* inner_ = nullptr;
  Cpu* cpu_ = nullptr;
  bool started_ = false, in_virtual_ = false, strict_holes_;
  std::vector<Hole> holes_;
  std::unordered_set<uint64_t> hole_sites_;
};

}  // namespace vtlab
