// `trap`: classic trap-and-emulate (Popek & Goldberg) with ring
// compression (privilege/ring_one_monitor.h), and a virtualization-hole
// detector: the instructions sensitivity.h calls holes are marked at
// decode time; at ring 1 each is dry-run on the virtual state and then run
// for real, and a site whose result differs is reported once.  The guest
// keeps the real (wrong) result, as on real x86.  Watching costs no exits.
#pragma once

#include <unordered_set>

#include "privilege/hole_detector.h"
#include "privilege/ring_one_monitor.h"

namespace vtlab {

class TrapAndEmulateMonitor final : public RingOneMonitor {
 public:
  // With `strict_holes` the first hole found stops the machine.
  explicit TrapAndEmulateMonitor(bool strict_holes = false) : strict_holes_(strict_holes) {}

  std::string_view name() const override { return "trap"; }
  void on_block(Cpu& cpu, uint64_t lin, uint64_t phys, std::vector<DecodedInsn>& insns) override;
  const std::vector<Hole>& holes() const override { return holes_; }
  // A guest chooses its hole sites (it can write code anywhere): past this
  // many reports the detector stops watching new sites.
  static constexpr size_t kMaxHoles = 4096;

 private:
  Action on_sensitive(Cpu& cpu, const DecodedInsn& insn) override;
  InsnOutcome dry_run(Cpu& cpu, const DecodedInsn& insn, uint64_t next_rip);

  bool strict_holes_;
  std::vector<Hole> holes_;
  std::unordered_set<uint64_t> hole_sites_;
};

}  // namespace vtlab
