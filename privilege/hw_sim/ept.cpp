#include "privilege/hw_sim/ept.h"

#include <algorithm>

#include "privilege/hw_sim/exit_reasons.h"

namespace vtlab {

namespace {
// Guest paging-structure entries read from memory for a translation of
// this size: 4-level paging reads PML4E, PDPTE, PDE, PTE (a large page
// stops early); PAE reads PDE and PTE (its PDPTEs are registers); 32-bit
// paging reads PDE and PTE (a 4 MiB page only the PDE).
unsigned guest_levels(const Cpu& cpu, uint64_t page_size) {
  const unsigned large = page_size >= (uint64_t{1} << 30) ? 2 : page_size > kPageSize ? 1 : 0;
  return (cpu.s.long_mode_active() ? 4u : 2u) - large;
}

constexpr unsigned kRead = 1, kWrite = 2, kExecute = 4;
}  // namespace

Status NestedPaging::translate(Cpu& cpu, uint64_t lin, Access access, bool user, bool, uint64_t& phys) {
  const WalkResult w = cpu.walker.walk(cpu.walk_request(lin, access, user));
  if (!w.ok) {
    cpu.tlb.flush_page(lin);
    cpu.s.cr2 = lin;
    return cpu.raise(vec::PF, w.error_code);
  }
  const unsigned levels = guest_levels(cpu, w.t.page_size);
  const uint64_t refs = walk_references(levels);
  ++walks_;
  references_ += refs;
  guest_refs_ += levels;
  max_refs_ = std::max(max_refs_, refs);

  const uint64_t gpa = w.t.phys & cpu.a20_mask;
  phys = gpa;
  const PhysicalMemory::Kind kind = cpu.mem.kind(gpa);
  const unsigned allowed = kind == PhysicalMemory::Kind::Ram   ? kRead | kWrite | kExecute
                           : kind == PhysicalMemory::Kind::Rom ? kRead | kExecute
                                                               : 0;
  const unsigned wanted = access == Access::Write ? kWrite : access == Access::Execute ? kExecute : kRead;
  if (!(allowed & wanted)) {
    ++violations_;
    violation_(cpu, gpa, lin,
               vmx::ept_violation_qualification(wanted == kRead, wanted == kWrite, wanted == kExecute, allowed,
                                                /*linear_valid=*/true, /*final_translation=*/true));
    return Status::Ok;  // the monitor carries the access out; never cached
  }
  // The TLB caches the combined rights of both levels (SDM 29.4.2).
  Translation t = w.t;
  if (!(allowed & kWrite)) t.writable = false;
  cpu.tlb.insert(lin, t);
  return Status::Ok;
}

}  // namespace vtlab
