// 4-level paging (SDM vol. 3, 4.5; "IA-32e paging" in older editions),
// selected by EFER.LMA: a PML4 table at CR3[35:12], then a page-directory-
// pointer table, a page directory and a page table of 8-byte entries,
// indexed by linear-address bits 47:39, 38:30, 29:21 and 20:12.  A PDPTE
// with PS=1 maps a 1 GiB page, a PDE with PS=1 a 2 MiB page (the PDE and
// PTE levels are PAE's: walk_directory).  Reserved bits (SDM 4.5.4 and
// tables 4-15 to 4-20), with MAXPHYADDR = 36: bits 51:36 of every present
// entry, bit 63 (XD) unless EFER.NXE, PS of a PML4E, bits 29:13 of a 1 GiB
// PDPTE and bits 20:13 of a 2 MiB PDE.  Bits 62:52 are ignored (62:59 are
// protection keys only with CR4.PKE, which is not modelled).  The PAT bit
// (12 in a large-page entry, 7 in a PTE) only selects a memory type.
#include "core/cpu_state.h"
#include "mmu/walk_context.h"

namespace vtlab {

namespace {

constexpr uint64_t kAboveMaxPhys =
    ((uint64_t{1} << 52) - 1) & ~((uint64_t{1} << kMaxPhysAddrBits) - 1);  // bits 51:36
constexpr uint64_t k1GReserved = 0x3FFFE000;                                 // bits 29:13 (12 is PAT)
constexpr uint64_t k1GAddress = kPaeAddressMask & ~uint64_t{0x3FFFFFFF};    // bits 35:30

}  // namespace

WalkResult walk_4level(WalkContext& c) {
  const WalkRequest& req = c.req();
  const uint64_t lin = req.linear;
  const bool nxe = req.efer & efer::NXE;
  const uint64_t reserved = kAboveMaxPhys | (nxe ? 0 : pte::XD);

  // CR3 bits 11:0 (PWT, PCD, ignored bits; no PCIDs) play no part here.
  const uint64_t pml4e_addr = (req.cr3 & kPaeAddressMask) | ((lin >> 36) & 0xFF8);
  const uint64_t pml4e = c.read(pml4e_addr, 8);
  if (c.explaining())
    c.record(WalkLevel::Pml4e, pml4e_addr, pml4e, decode_entry(pml4e, false, false, nxe, kPaeAddressMask));
  if (!(pml4e & pte::P)) return c.not_present(WalkLevel::Pml4e);
  const uint64_t pml4e_reserved = reserved | pte::PS;
  if (pml4e & pml4e_reserved) return c.reserved(WalkLevel::Pml4e, pml4e & pml4e_reserved);
  c.restrict(WalkLevel::Pml4e, pml4e, nxe && (pml4e & pte::XD));
  c.set_bits(pml4e_addr, 8, pml4e, pml4e | pte::A);

  const uint64_t pdpte_addr = (pml4e & kPaeAddressMask) | ((lin >> 27) & 0xFF8);
  const uint64_t pdpte = c.read(pdpte_addr, 8);
  const bool huge = pdpte & pte::PS;
  if (c.explaining())
    c.record(WalkLevel::Pdpte, pdpte_addr, pdpte,
             decode_entry(pdpte, huge, huge, nxe, huge ? k1GAddress : kPaeAddressMask));
  if (!(pdpte & pte::P)) return c.not_present(WalkLevel::Pdpte);
  const uint64_t pdpte_reserved = reserved | (huge ? k1GReserved : 0);
  if (pdpte & pdpte_reserved) return c.reserved(WalkLevel::Pdpte, pdpte & pdpte_reserved);
  c.restrict(WalkLevel::Pdpte, pdpte, nxe && (pdpte & pte::XD));
  if (huge) return c.map_page(pdpte_addr, 8, pdpte, (pdpte & k1GAddress) | (lin & 0x3FFFFFFF), 1u << 30);
  c.set_bits(pdpte_addr, 8, pdpte, pdpte | pte::A);

  return walk_directory(c, pdpte & kPaeAddressMask, reserved);
}

}  // namespace vtlab
