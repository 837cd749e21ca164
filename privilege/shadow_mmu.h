// Shadow paging for the trap monitor: the page tables the real CPU walks
// while the guest runs, built lazily from the guest's own.
//
// The shadow is kept as a table of entries per linear page, in the
// monitor (not as x86-format pages in guest-visible memory): a TLB miss
// consults it the way the hardware walker would walk a real shadow table.
// A miss in the shadow is a *hidden page fault*: the monitor walks the
// guest's tables (setting the guest's A and D bits as hardware would),
// and either fills the shadow entry or, if the guest's tables refuse the
// access, raises the #PF the guest would have seen.  Every guest page
// that serves as a page table or descriptor table is *traced*: shadow
// entries map it read-only, so a guest write to it exits (page-table
// write), and the shadow entries built from it are dropped.  A clean page
// is mapped read-only until its first write, so the guest's D bit is set
// exactly when hardware would set it.  Device (MMIO) pages are never
// entered: every access to one exits (mmio).
//
// Guest-physical memory is host-physical memory (identity); the monitor's
// own tables live in private memory above 4 GiB that no shadow entry
// names, and reach the real CPU only through its implicit table accesses
// to the window (privilege/shadow_descriptors.h).
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>
#include <unordered_set>

#include "core/cpu.h"
#include "core/exits.h"
#include "privilege/virtual_cpu.h"

namespace vtlab {

class ShadowMmu final : public TranslationHook {
 public:
  // Page-table-write keys and hidden-page-fault keys (docs/EXITS.md).
  enum TraceKind : uint32_t { kPageTable = 0, kDescriptorTable = 1 };
  enum FaultKey : uint32_t { kFill = 0, kEmulated = 1, kWindow = 2 };
  using ExitFn = std::function<void(Cpu&, ExitReason, uint32_t)>;

  ShadowMmu(VirtualCpu& v, ExitFn exit) : v_(v), exit_(std::move(exit)) {}

  Status translate(Cpu& cpu, uint64_t lin, Access access, bool user, bool system, uint64_t& phys) override;
  void guest_paging(const Cpu& cpu, uint64_t& cr0, uint64_t& cr3, uint64_t& cr4) const override {
    const bool live = in_virtual_;  // the guest's registers are in the real CPU right now
    cr0 = live ? cpu.s.cr0 : v_.cr0;
    cr3 = live ? cpu.s.cr3 : v_.cr3;
    cr4 = live ? cpu.s.cr4 : v_.cr4;
  }

  // While the monitor runs a handler on the virtual state (the guest's CR0
  // and CR3 are in the real CPU then) or dry-runs one for the hole
  // detector (then nothing is filled, counted or written to the guest).
  void set_virtual(bool on) { in_virtual_ = on; }
  void set_dry_run(bool on) { dry_run_ = on; }

  // The guest switched address spaces or paging modes: every shadow entry
  // goes, with the real TLB.
  void flush(Cpu& cpu);
  // INVLPG: the entry for one page.
  void invalidate(Cpu& cpu, uint64_t lin);
  // The guest's descriptor tables moved: trace the pages under them.
  void trace_descriptor_tables(Cpu& cpu);
  // After a guest write to a traced descriptor-table page the shadow
  // tables are rebuilt before the CPU next reads them (`resync`), or at
  // the monitor's next exit, whichever comes first.
  void set_resync(std::function<void(Cpu&)> resync) { resync_ = std::move(resync); }
  bool take_descriptor_write() {
    const bool w = descriptors_written_;
    descriptors_written_ = false;
    return w;
  }
  size_t entries() const { return entries_.size(); }
  // The shadow entries as a debugger shows them, in linear order.
  struct PageView {
    uint64_t linear, phys;
    bool user, writable, nx, dirty;
  };
  std::vector<PageView> pages() const;

 private:
  struct Entry {
    uint64_t phys_page;
    bool user, writable, nx, dirty;
  };
  Status guest_translate(Cpu& cpu, uint64_t lin, Access access, bool user, Translation& t);
  void trace(Cpu& cpu, uint64_t phys_page, uint32_t lin_page);
  void drop(Cpu& cpu, uint32_t lin_page);
  void write_protect(Cpu& cpu, uint64_t phys_page);

  VirtualCpu& v_;
  ExitFn exit_;
  std::function<void(Cpu&)> resync_;
  bool in_virtual_ = false, dry_run_ = false, descriptors_written_ = false;
  std::unordered_map<uint32_t, Entry> entries_;  // linear page -> shadow entry
  // Traced guest pages -> the linear pages whose shadow entries were built
  // from them (page tables), and guest pages -> linear pages mapping them.
  std::unordered_map<uint64_t, std::unordered_set<uint32_t>> built_from_;
  std::unordered_map<uint64_t, std::unordered_set<uint32_t>> mapped_at_;
  std::unordered_set<uint64_t> descriptor_pages_;
};

}  // namespace vtlab
