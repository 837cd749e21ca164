// Nested paging as VT-x's EPT does it (Intel SDM vol. 3C, chapter 29
// "VMX Support for Address Translation"): the guest's own page tables map
// linear to guest-physical addresses, and second-level tables the monitor
// builds map guest-physical to host-physical.  A TLB miss walks both: each
// guest paging-structure entry sits at a guest-physical address that the
// EPT walk must translate first, so a 4-level guest walk over 4-level EPT
// reads up to 24 entries (5 EPT walks of 4, plus 4 guest entries).
//
// The second-level tables here are the identity for RAM (read, write,
// execute) and ROM (read, execute); device (MMIO) pages and holes are not
// mapped, so every access to them is an EPT violation the monitor handles
// (it carries out the access on the device model, and the page is never
// cached in the TLB).  The tables are a function of the memory map, not
// pages in memory: nothing the guest does can change them.  The walk is
// modelled with no paging-structure caches: every TLB miss pays it in full.
#pragma once

#include <cstdint>
#include <functional>

#include "core/cpu.h"

namespace vtlab {

class NestedPaging final : public TranslationHook {
 public:
  // An EPT violation: guest-physical address, guest linear address, exit qualification.
  using ViolationFn = std::function<void(Cpu&, uint64_t gpa, uint64_t lin, uint64_t qualification)>;
  explicit NestedPaging(ViolationFn violation) : violation_(std::move(violation)) {}

  Status translate(Cpu& cpu, uint64_t lin, Access access, bool user, bool system, uint64_t& phys) override;
  void guest_paging(const Cpu& cpu, uint64_t& cr0, uint64_t& cr3, uint64_t& cr4) const override {
    cr0 = cpu.s.cr0, cr3 = cpu.s.cr3, cr4 = cpu.s.cr4;  // the guest's own registers are the real ones
  }

  // EPT levels walked per guest-physical address (4 KiB EPT pages).
  static constexpr unsigned kEptLevels = 4;
  // Entries a 2-D walk reads when the guest walk reads `guest_levels`.
  static constexpr unsigned walk_references(unsigned guest_levels) {
    return guest_levels * (kEptLevels + 1) + kEptLevels;
  }

  uint64_t walks() const { return walks_; }
  uint64_t references() const { return references_; }
  uint64_t guest_references() const { return guest_refs_; }
  uint64_t max_references() const { return max_refs_; }
  uint64_t violations() const { return violations_; }

 private:
  ViolationFn violation_;
  uint64_t walks_ = 0, references_ = 0, guest_refs_ = 0, max_refs_ = 0, violations_ = 0;
};

}  // namespace vtlab
