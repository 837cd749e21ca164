#include "mmu/page_walker.h"

#include "core/cpu_state.h"
#include "mmu/phys_memory.h"

namespace vtlab {

namespace {
namespace pte {
constexpr uint32_t P = 1u << 0, RW = 1u << 1, US = 1u << 2, A = 1u << 5, D = 1u << 6, PS = 1u << 7,
                   G = 1u << 8;
}
constexpr uint32_t kPse4MReserved = 0x003FE000;  // bits 21:13 of a 4 MiB PDE
}  // namespace

uint32_t PageWalker::protection_error(Access access, bool user) {
  return pfec::P | (access == Access::Write ? pfec::W : 0) | (user ? pfec::U : 0);
}

bool PageWalker::permits(const Translation& t, Access access, bool user, uint64_t cr0) {
  if (user && !t.user) return false;
  if (access == Access::Write && !t.writable && (user || (cr0 & cr0::WP))) return false;
  return true;
}

WalkResult PageWalker::walk(const WalkRequest& req) { return walk32(req); }

WalkResult PageWalker::walk32(const WalkRequest& req) {
  WalkResult r;
  const uint32_t lin = static_cast<uint32_t>(req.linear);
  const uint32_t not_present = (req.access == Access::Write ? pfec::W : 0) | (req.user ? pfec::U : 0);

  const uint64_t pde_addr = (req.cr3 & 0xFFFFF000u) | ((lin >> 20) & 0xFFC);
  const uint32_t pde = static_cast<uint32_t>(mem_.read(pde_addr, 4));
  if (!(pde & pte::P)) {
    r.error_code = not_present;
    return r;
  }

  if ((pde & pte::PS) && (req.cr4 & cr4::PSE)) {
    // 4 MiB page.  Bits 21:13 are reserved: with MAXPHYADDR = 32 (the
    // modelled CPU has neither PSE-36 nor PAE, see core/isa/system.cpp)
    // there are no physical address bits above 31 for them to carry
    // (SDM vol. 3, table 4-4).  Bit 12 is PAT, which we ignore.
    if (pde & kPse4MReserved) {
      r.error_code = pfec::P | pfec::RSVD | not_present;
      return r;
    }
    r.t.user = pde & pte::US;
    r.t.writable = pde & pte::RW;
    r.t.global = (pde & pte::G) && (req.cr4 & cr4::PGE);
    r.t.page_size = 4u << 20;
    if (!permits(r.t, req.access, req.user, req.cr0)) {
      r.error_code = protection_error(req.access, req.user);
      return r;
    }
    uint32_t new_pde = pde | pte::A | (req.access == Access::Write ? pte::D : 0);
    if (new_pde != pde) mem_.write(pde_addr, 4, new_pde);
    r.t.dirty = new_pde & pte::D;
    r.t.phys = (pde & 0xFFC00000u) | (lin & 0x3FFFFF);
    r.ok = true;
    return r;
  }

  const uint64_t pte_addr = (pde & 0xFFFFF000u) | ((lin >> 10) & 0xFFC);
  const uint32_t pt = static_cast<uint32_t>(mem_.read(pte_addr, 4));
  if (!(pt & pte::P)) {
    r.error_code = not_present;
    return r;
  }
  r.t.user = (pde & pte::US) && (pt & pte::US);
  r.t.writable = (pde & pte::RW) && (pt & pte::RW);
  r.t.global = (pt & pte::G) && (req.cr4 & cr4::PGE);
  r.t.page_size = 4096;
  if (!permits(r.t, req.access, req.user, req.cr0)) {
    r.error_code = protection_error(req.access, req.user);
    return r;
  }
  if (!(pde & pte::A)) mem_.write(pde_addr, 4, pde | pte::A);
  uint32_t new_pte = pt | pte::A | (req.access == Access::Write ? pte::D : 0);
  if (new_pte != pt) mem_.write(pte_addr, 4, new_pte);
  r.t.dirty = new_pte & pte::D;
  r.t.phys = (pt & 0xFFFFF000u) | (lin & 0xFFF);
  r.ok = true;
  return r;
}

}  // namespace vtlab
