#include "privilege/shadow_mmu.h"

#include <algorithm>

#include "privilege/shadow_descriptors.h"

namespace vtlab {

Status ShadowMmu::translate(Cpu& cpu, uint64_t lin, Access access, bool user, bool system, uint64_t& phys) {
  lin &= 0xFFFFFFFF;
  const auto page = static_cast<uint32_t>(lin >> kPageShift);
  const bool in_window = window::contains(lin);
  if (in_window && !in_virtual_) {
    if (system && window::holds_table(lin)) {
      if (resync_ && take_descriptor_write()) resync_(cpu);
      phys = PhysicalMemory::kPrivateBase + (lin - window::kBase);
      return Status::Ok;
    }
    // The guest itself touches the monitor's linear window: the monitor
    // carries the access out on the guest's own mapping (VMware's
    // monitor did this after segment truncation faulted), every time.
    Translation t;
    TRY(guest_translate(cpu, lin, access, user, t));
    if (!dry_run_) exit_(cpu, ExitReason::HiddenPageFault, kWindow);
    phys = t.phys;
    return Status::Ok;
  }

  if (const auto it = entries_.find(page); it != entries_.end()) {
    const Entry& e = it->second;
    const Translation t{(e.phys_page << kPageShift) | (lin & kPageMask), kPageSize, e.user, e.writable, e.nx,
                        e.dirty, false};
    if (PageWalker::permits(t, access, user, cpu.s.cr0) && !(access == Access::Write && !e.dirty)) {
      cpu.tlb.insert(lin, t);
      phys = t.phys;
      return Status::Ok;
    }
  }

  // A hidden page fault: the shadow has no entry that allows this access.
  Translation t;
  TRY(guest_translate(cpu, lin, access, user, t));
  phys = t.phys;
  if (dry_run_) return Status::Ok;
  const uint64_t target = t.phys >> kPageShift;
  if (cpu.mem.kind(t.phys) == PhysicalMemory::Kind::Mmio) {
    // Device registers are never mapped through: each access exits and
    // the monitor performs it on the device model.
    exit_(cpu, ExitReason::Mmio, static_cast<uint32_t>(t.phys & ~kPageMask));
    return Status::Ok;
  }
  const bool descriptor_page = descriptor_pages_.count(target) != 0;
  const bool table_page = descriptor_page || built_from_.count(target) != 0;
  if (access == Access::Write && table_page) {
    exit_(cpu, ExitReason::PageTableWrite, descriptor_page ? kDescriptorTable : kPageTable);
    if (descriptor_page) descriptors_written_ = true;
    // The entries built from this table are stale once the write lands:
    // drop them now and rebuild them at their next use.
    if (auto node = built_from_.extract(target))
      for (uint32_t lp : node.mapped()) drop(cpu, lp);
    return Status::Ok;  // the write goes through, and is not cached
  }
  Entry e{target, t.user, t.writable && !table_page && (t.dirty || access == Access::Write), t.nx,
          t.dirty || access == Access::Write};
  const Translation shadow{t.phys, kPageSize, e.user, e.writable, e.nx, e.dirty, false};
  // With the guest's CR0.WP clear a supervisor write to a read-only page
  // succeeds, which a shadow entry under the real CR0.WP=1 cannot say:
  // the monitor completes such an access itself each time.
  const bool expressible = PageWalker::permits(shadow, access, user, cpu.s.cr0) &&
                           !(access == Access::Write && !e.dirty);
  exit_(cpu, ExitReason::HiddenPageFault, expressible ? kFill : kEmulated);
  if (in_window) return Status::Ok;
  uint64_t cr0_now, cr3_now, cr4_now;
  guest_paging(cpu, cr0_now, cr3_now, cr4_now);
  if (cr0_now & cr0::PG) {
    // Trace the guest's directory and table under this page.
    const uint64_t dir = cr3_now & ~kPageMask & 0xFFFFFFFF;
    trace(cpu, dir >> kPageShift, page);
    const uint64_t pde = cpu.mem.read(dir + (lin >> 22) * 4, 4);
    if (!((pde & 0x80) && (cr4_now & cr4::PSE))) trace(cpu, (pde & 0xFFFFF000) >> kPageShift, page);
    if (built_from_.count(target)) e.writable = false;  // it maps a table it was built from
  }
  if (const auto old = entries_.find(page); old != entries_.end()) mapped_at_[old->second.phys_page].erase(page);
  entries_[page] = e;
  mapped_at_[target].insert(page);
  if (expressible && (e.writable || access != Access::Write)) cpu.tlb.insert(lin, shadow);
  return Status::Ok;
}

Status ShadowMmu::guest_translate(Cpu& cpu, uint64_t lin, Access access, bool user, Translation& t) {
  uint64_t cr0_now, cr3_now, cr4_now;
  guest_paging(cpu, cr0_now, cr3_now, cr4_now);
  if (!(cr0_now & cr0::PG)) {
    t = Translation{lin & cpu.a20_mask, kPageSize, true, true, false, true, false};
    return Status::Ok;
  }
  const WalkRequest req{lin, access, user, cr0_now, cr3_now, cr4_now, cpu.s.efer, cpu.s.pdpte};
  bool ok;
  uint32_t error;
  if (dry_run_) {
    const WalkExplanation w = cpu.walker.explain(req);
    ok = w.ok, error = w.error_code, t = w.t;
  } else {
    const WalkResult w = cpu.walker.walk(req);
    ok = w.ok, error = w.error_code, t = w.t;
  }
  if (!ok) {
    cpu.tlb.flush_page(lin);
    // CR2 is the guest's: in the real CPU only while it holds the virtual state.
    if (in_virtual_) cpu.s.cr2 = lin;
    else v_.cr2 = lin;
    return cpu.raise(vec::PF, error);
  }
  t.phys &= cpu.a20_mask;
  return Status::Ok;
}

void ShadowMmu::trace(Cpu& cpu, uint64_t phys_page, uint32_t lin_page) {
  auto [it, fresh] = built_from_.try_emplace(phys_page);
  it->second.insert(lin_page);
  if (fresh) write_protect(cpu, phys_page);
}

void ShadowMmu::write_protect(Cpu& cpu, uint64_t phys_page) {
  const auto it = mapped_at_.find(phys_page);
  if (it == mapped_at_.end()) return;
  for (uint32_t lp : it->second) {
    if (auto e = entries_.find(lp); e != entries_.end()) e->second.writable = false;
    cpu.tlb.flush_page(uint64_t{lp} << kPageShift);
  }
}

void ShadowMmu::drop(Cpu& cpu, uint32_t lin_page) {
  const auto it = entries_.find(lin_page);
  if (it == entries_.end()) return;
  if (auto m = mapped_at_.find(it->second.phys_page); m != mapped_at_.end()) m->second.erase(lin_page);
  entries_.erase(it);
  cpu.tlb.flush_page(uint64_t{lin_page} << kPageShift);
}

void ShadowMmu::flush(Cpu& cpu) {
  entries_.clear();
  built_from_.clear();
  mapped_at_.clear();
  cpu.tlb.flush_all();
}

void ShadowMmu::invalidate(Cpu& cpu, uint64_t lin) { drop(cpu, static_cast<uint32_t>((lin & 0xFFFFFFFF) >> kPageShift)); }

void ShadowMmu::trace_descriptor_tables(Cpu& cpu) {
  descriptor_pages_.clear();
  auto add = [&](uint64_t base, uint32_t limit) {
    for (uint64_t lin = base & ~kPageMask; lin <= base + limit; lin += kPageSize) {
      uint64_t phys;
      if (!guest_phys(cpu, v_, lin, phys)) continue;
      descriptor_pages_.insert(phys >> kPageShift);
      write_protect(cpu, phys >> kPageShift);
    }
  };
  add(v_.gdtr.base, v_.gdtr.limit);
  if (v_.ldtr.present() && v_.ldtr.selector & ~3) add(v_.ldtr.base, v_.ldtr.limit);
}

std::vector<ShadowMmu::PageView> ShadowMmu::pages() const {
  std::vector<PageView> out;
  for (const auto& [page, e] : entries_)
    out.push_back(PageView{uint64_t{page} << kPageShift, e.phys_page << kPageShift, e.user, e.writable, e.nx, e.dirty});
  std::sort(out.begin(), out.end(), [](const PageView& a, const PageView& b) { return a.linear < b.linear; });
  return out;
}

}  // namespace vtlab
