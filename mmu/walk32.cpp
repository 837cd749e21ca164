// 32-bit paging (SDM vol. 3, 4.3): a page directory at CR3[31:12], 4 KiB
// pages through a page table, and 4 MiB pages when CR4.PSE is set.  No XD
// bit exists here, and the #PF error code never has I/D (no SMEP, no PAE).
#include "core/cpu_state.h"
#include "mmu/walk_context.h"

namespace vtlab {

namespace {

// Bits 21:13 of a 4 MiB PDE.  With PSE-36 they would carry physical address
// bits 39:32; the modelled CPU does not advertise PSE-36, so 4 MiB pages
// stay below 4 GiB and these bits are reserved (SDM table 4-4).  Bit 12 is
// PAT, which an interpreter ignores.
constexpr uint32_t kPse4MReserved = 0x003FE000;

EntryBits decode(uint32_t e, bool leaf, bool large) {
  return decode_entry(e, leaf, large, /*nxe=*/false, large ? 0xFFC00000u : 0xFFFFF000u);
}

}  // namespace

WalkResult walk32(WalkContext& c) {
  const WalkRequest& req = c.req();
  const uint32_t lin = static_cast<uint32_t>(req.linear);

  const uint64_t pde_addr = (req.cr3 & 0xFFFFF000u) | ((lin >> 20) & 0xFFC);
  const uint32_t pde = static_cast<uint32_t>(c.read(pde_addr, 4));
  const bool large = (pde & pte::PS) && (req.cr4 & cr4::PSE);
  if (c.explaining()) c.record(WalkLevel::Pde, pde_addr, pde, decode(pde, large, large));
  if (!(pde & pte::P)) return c.not_present(WalkLevel::Pde);
  c.restrict(WalkLevel::Pde, pde, false);

  if (large) {
    if (pde & kPse4MReserved) return c.reserved(WalkLevel::Pde, pde & kPse4MReserved);
    return c.map_page(pde_addr, 4, pde, (pde & 0xFFC00000u) | (lin & 0x3FFFFF), 4u << 20);
  }
  c.set_bits(pde_addr, 4, pde, pde | pte::A);

  const uint64_t pte_addr = (pde & 0xFFFFF000u) | ((lin >> 10) & 0xFFC);
  const uint32_t pt = static_cast<uint32_t>(c.read(pte_addr, 4));
  if (c.explaining()) c.record(WalkLevel::Pte, pte_addr, pt, decode(pt, true, false));
  if (!(pt & pte::P)) return c.not_present(WalkLevel::Pte);
  c.restrict(WalkLevel::Pte, pt, false);
  return c.map_page(pte_addr, 4, pt, (pt & 0xFFFFF000u) | (lin & 0xFFF), 4096);
}

}  // namespace vtlab
