// `trap`: classic trap-and-emulate (Popek & Goldberg) with ring
// compression (privilege/ring_one_monitor.h), and a virtualization-hole
// detector: the instructions sensitivity.h calls holes are marked at
// decode time; at ring 1 each is dry-run on the virtual state and then run
// for real, and a site whose result differs is reported once.  The guest
// keeps the real (wrong) result, as on real x86.  Watching costs no exits.
//
// With HolePolicy::Trap (--holes trap) the monitor answers "what would
// trap-and-emulate cost if x86 met Popek and Goldberg's condition": every
// hole the kernel runs at ring 1 traps as a privileged instruction would,
// and is emulated on the virtual CPU (privileged-insn, cause HoleTrapped).
// Nothing is watched then: no hole can be found.
#pragma once

#include <unordered_set>

#include "privilege/hole_detector.h"
#include "privilege/ring_one_monitor.h"

namespace vtlab {

class TrapAndEmulateMonitor final : public RingOneMonitor {
 public:
  // Real: the holes behave as on real x86 (the detector watches them);
  // Trap: they trap to the monitor, as on a classically virtualizable x86.
  enum class HolePolicy : uint8_t { Real, Trap };

  // With `strict_holes` the first hole found stops the machine.
  explicit TrapAndEmulateMonitor(bool strict_holes = false, HolePolicy policy = HolePolicy::Real)
      : strict_holes_(strict_holes), policy_(policy) {}

  std::string_view name() const override { return "trap"; }
  void on_block(Cpu& cpu, uint64_t lin, uint64_t phys, std::vector<DecodedInsn>& insns) override;
  const std::vector<Hole>& holes() const override { return holes_; }
  // A guest chooses its hole sites (it can write code anywhere): past this
  // many reports the detector stops watching new sites.
  static constexpr size_t kMaxHoles = 4096;

  HolePolicy hole_policy() const { return policy_; }
  // HolePolicy::Trap: the distinct guest sites (linear addresses) whose
  // hole trapped and was emulated, at most kMaxHoles of them, and how
  // many traps that was in all.
  size_t trapped_sites() const { return trapped_sites_.size(); }
  uint64_t trapped_holes() const { return trapped_holes_; }

 private:
  Action on_sensitive(Cpu& cpu, const DecodedInsn& insn) override;
  // HolePolicy::Trap: the hole trapped; emulate it on the virtual CPU.
  Action trap_hole(Cpu& cpu, const DecodedInsn& insn);
  // Every return to guest user code (IRET, far RET, SYSEXIT) traps when
  // the holes do, so the monitor knows the IF it leaves.
  bool sees_returns_to_user() const override { return policy_ == HolePolicy::Trap; }
  InsnOutcome dry_run(Cpu& cpu, const DecodedInsn& insn, uint64_t next_rip);

  bool strict_holes_;
  HolePolicy policy_;
  std::vector<Hole> holes_;
  std::unordered_set<uint64_t> hole_sites_;
  std::unordered_set<uint64_t> trapped_sites_;
  uint64_t trapped_holes_ = 0;
};

}  // namespace vtlab
