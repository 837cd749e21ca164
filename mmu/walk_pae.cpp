// PAE paging (SDM vol. 3, 4.4): four PDPTE registers loaded with CR3, then
// a page directory and page table of 8-byte entries; 2 MiB pages by the PS
// bit of a PDE (CR4.PSE plays no part); execute-disable (bit 63) when
// EFER.NXE is set, a reserved bit when it is not.  MAXPHYADDR is 36, so
// bits 62:36 of every entry are reserved (SDM tables 4-8 to 4-11).  The
// page directory and page table walk is shared with 4-level paging
// (walk_directory), whose entries have the same layout below bit 52.
#include "core/cpu_state.h"
#include "mmu/walk_context.h"

namespace vtlab {

namespace {

constexpr uint64_t kAboveMaxPhys = ~((uint64_t{1} << kMaxPhysAddrBits) - 1) & ~pte::XD;  // bits 62:36
constexpr uint64_t k2MReserved = 0x1FE000;                                                 // bits 20:13 (12 is PAT)
constexpr uint64_t k2MAddress = kPaeAddressMask & ~uint64_t{0x1FFFFF};                     // bits 35:21

EntryBits decode_pdpte(uint64_t e) {
  EntryBits b;
  b.p = e & pte::P;
  b.pwt = e & pte::PWT;
  b.pcd = e & pte::PCD;
  b.address = e & kPaeAddressMask;
  return b;
}

EntryBits decode(uint64_t e, bool leaf, bool large, bool nxe) {
  return decode_entry(e, leaf, large, nxe, large ? k2MAddress : kPaeAddressMask);
}

}  // namespace

WalkResult walk_pae(WalkContext& c) {
  const WalkRequest& req = c.req();
  const uint32_t lin = static_cast<uint32_t>(req.linear);
  const bool nxe = req.efer & efer::NXE;

  // The PDPTE comes from its register.  MOV CR3/CR0/CR4 refuse to load a
  // present PDPTE with reserved bits (#GP), so the check below only fires
  // for state set from outside (a debugger, a snapshot); it faults as a
  // reserved bit at any other level would.
  const unsigned index = lin >> 30;
  const uint64_t pdpte = req.pdpte[index];
  if (c.explaining())
    c.record(WalkLevel::Pdpte, (req.cr3 & 0xFFFFFFE0) + 8 * index, pdpte, decode_pdpte(pdpte), true);
  if (!(pdpte & pte::P)) return c.not_present(WalkLevel::Pdpte);
  if (pdpte & kPdpteReserved) return c.reserved(WalkLevel::Pdpte, pdpte & kPdpteReserved);

  return walk_directory(c, pdpte & kPaeAddressMask, kAboveMaxPhys | (nxe ? 0 : pte::XD));
}

WalkResult walk_directory(WalkContext& c, uint64_t pd, uint64_t reserved) {
  const WalkRequest& req = c.req();
  const uint64_t lin = req.linear;
  const bool nxe = req.efer & efer::NXE;

  const uint64_t pde_addr = pd | ((lin >> 18) & 0xFF8);
  const uint64_t pde = c.read(pde_addr, 8);
  const bool large = pde & pte::PS;
  if (c.explaining()) c.record(WalkLevel::Pde, pde_addr, pde, decode(pde, large, large, nxe));
  if (!(pde & pte::P)) return c.not_present(WalkLevel::Pde);
  const uint64_t pde_reserved = reserved | (large ? k2MReserved : 0);
  if (pde & pde_reserved) return c.reserved(WalkLevel::Pde, pde & pde_reserved);
  c.restrict(WalkLevel::Pde, pde, nxe && (pde & pte::XD));
  if (large) return c.map_page(pde_addr, 8, pde, (pde & k2MAddress) | (lin & 0x1FFFFF), 2u << 20);
  c.set_bits(pde_addr, 8, pde, pde | pte::A);

  const uint64_t pte_addr = (pde & kPaeAddressMask) | ((lin >> 9) & 0xFF8);
  const uint64_t pt = c.read(pte_addr, 8);
  if (c.explaining()) c.record(WalkLevel::Pte, pte_addr, pt, decode(pt, true, false, nxe));
  if (!(pt & pte::P)) return c.not_present(WalkLevel::Pte);
  if (pt & reserved) return c.reserved(WalkLevel::Pte, pt & reserved);
  c.restrict(WalkLevel::Pte, pt, nxe && (pt & pte::XD));
  return c.map_page(pte_addr, 8, pt, (pt & kPaeAddressMask) | (lin & 0xFFF), 4096);
}

}  // namespace vtlab
