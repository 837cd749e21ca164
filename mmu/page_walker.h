// Linear-to-physical translation as the paging structures say (Intel SDM
// vol. 3, chapter 4): 32-bit paging with 4 KiB and 4 MiB (CR4.PSE) pages
// (mmu/walk32.cpp), PAE paging with 4 KiB and 2 MiB pages, the PDPTE
// registers and execute-disable (mmu/walk_pae.cpp), and 4-level paging
// (long mode, EFER.LMA) with 4 KiB, 2 MiB and 1 GiB pages
// (mmu/walk_4level.cpp).  The walker sets accessed and dirty bits like
// hardware does and builds the #PF error code in one place
// (mmu/walk_context.h).
//
// The same walk explains itself: explain() runs it with a sink that records
// every entry read and the verdict, and with A/D writes switched off, so a
// debugger sees exactly the rules the CPU runs by.
//
// The modelled CPU has MAXPHYADDR = 36 (CPUID 0x80000008, core/isa/model_specific.cpp);
// physical addresses from 4 GiB up are holes in PhysicalMemory.  In long
// mode the caller passes the canonical 64-bit linear address (the
// canonical check is the CPU's) and the walk uses bits 47:0; outside long
// mode it passes bits 31:0.  PCIDs are not modelled: CR3 bits 11:0 are PWT,
// PCD and ignored bits, none of which changes a translation.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/cpu_state.h"

namespace vtlab {

class PhysicalMemory;

enum class Access : uint8_t { Read, Write, Execute };

// #PF error code bits (SDM 4.7).
namespace pfec {
inline constexpr uint32_t P = 1u << 0, W = 1u << 1, U = 1u << 2, RSVD = 1u << 3, I = 1u << 4;
}

// Which paging mode CR0.PG, CR4.PAE and EFER.LMA select (SDM 4.1.1).
enum class PagingMode : uint8_t { None, Bits32, Pae, FourLevel };
PagingMode paging_mode(uint64_t cr0, uint64_t cr4, uint64_t efer);

// MAXPHYADDR of the modelled CPU and the physical-address field of an
// entry in PAE and 4-level paging (bits 35:12).
inline constexpr unsigned kMaxPhysAddrBits = 36;
inline constexpr uint64_t kPaeAddressMask = ((uint64_t{1} << kMaxPhysAddrBits) - 1) & ~uint64_t{0xFFF};
// PAE PDPTE: bits 2:1, 8:5 and 63:MAXPHYADDR are reserved (SDM table 4-8).
inline constexpr uint64_t kPdpteReserved = ~((uint64_t{1} << kMaxPhysAddrBits) - 1) | 0x1E6;

// What the walk found: the physical address and the rights the whole chain
// grants.  Rights combine over every level (R/W and U/S must be 1 at each,
// XD at any one level forbids fetches) as SDM 4.6 says.
struct Translation {
  uint64_t phys = 0;
  uint64_t page_size = 4096;
  bool user = false;      // U/S=1 at every level
  bool writable = false;  // R/W=1 at every level
  bool nx = false;        // EFER.NXE=1 and XD=1 at some level: no instruction fetch
  bool dirty = false;     // D set in the final entry (a write needs no walk)
  bool global = false;    // G in the final entry, with CR4.PGE
};

struct WalkRequest {
  uint64_t linear;
  Access access;
  bool user;  // CPL 3 access (not an implicit supervisor access)
  uint64_t cr0, cr3, cr4, efer;
  // The PDPTE registers (PAE paging reads these, never memory, for its
  // first level: they were loaded when CR3 was; see load_pdptes).
  std::array<uint64_t, 4> pdpte{};
};

struct WalkResult {
  bool ok = false;
  Translation t;
  uint32_t error_code = 0;  // for #PF when !ok
};

// --- explanations ----------------------------------------------------------

enum class WalkLevel : uint8_t { Pml4e, Pdpte, Pde, Pte };
const char* walk_level_name(WalkLevel l);  // "PML4E", "PDPTE", "PDE", "PTE"

// An entry's bits as the processor reads them at that level.  A bit the
// format lacks or ignores there decodes as false (D and G of a PDE that
// points to a page table, PS of a 32-bit PDE without CR4.PSE or of a PML4E,
// XD outside PAE or with EFER.NXE=0): `raw` keeps what memory holds.
struct EntryBits {
  bool p = false, rw = false, us = false, pwt = false, pcd = false, a = false, d = false, ps = false,
       g = false, xd = false;
  uint64_t address = 0;  // the next table, or the page frame of a final entry
};

struct WalkStep {
  enum class Verdict : uint8_t { NextTable, Page, Fault };
  WalkLevel level;
  uint64_t entry_addr = 0;     // where the entry lives in physical memory
  bool from_register = false;  // a PDPTE register (loaded with CR3), not a memory read
  bool in_mmio = false;        // an MMIO address: explain does not read devices (raw = all ones)
  uint64_t raw = 0;
  EntryBits bits;
  Verdict verdict = Verdict::NextTable;
};

struct WalkExplanation {
  PagingMode mode = PagingMode::None;
  uint64_t linear = 0;  // the request, for display
  Access access = Access::Read;
  bool user = false;
  std::vector<WalkStep> steps;
  bool ok = false;
  Translation t;           // when ok: the page, its size and the effective rights
  uint8_t vector = 0;      // 14 (#PF) when !ok
  uint32_t error_code = 0;
  std::string reason;      // one sentence: why the access faults
};

class PageWalker {
 public:
  explicit PageWalker(PhysicalMemory& mem) : mem_(mem) {}
  // Walks the tables, checks the access, and on success sets A (and D on a
  // write) in the entries.  On failure nothing is written.
  WalkResult walk(const WalkRequest& req);
  // The same walk, step by step, writing nothing (no A/D bits; there is no
  // TLB here to touch) and reading no device.
  WalkExplanation explain(const WalkRequest& req);
  // Reads the four PDPTEs of the PAE table at CR3[31:5].  False, with `out`
  // untouched, when a present entry has a reserved bit set: the MOV that
  // loads them is #GP(0) (SDM 4.4.1).
  bool load_pdptes(uint64_t cr3, std::array<uint64_t, 4>& out);
  // Whether a cached translation allows this access (no walk needed).
  // Inline: the TLB-hit path of every memory access asks it.
  static bool permits(const Translation& t, Access access, bool user, uint64_t cr0_value) {
    if (user && !t.user) return false;
    if (access == Access::Execute && t.nx) return false;
    if (access == Access::Write && !t.writable && (user || (cr0_value & cr0::WP))) return false;
    return true;
  }

 private:
  WalkResult run(const WalkRequest& req, WalkExplanation* sink);
  PhysicalMemory& mem_;
};

}  // namespace vtlab
