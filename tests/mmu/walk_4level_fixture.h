// Hand-built 4-level paging tables for the walker tests: one table per
// level (PML4 -> PDPT -> PD -> PT, each a 4 KiB page of 8-byte entries) and
// the request a long-mode CPU would make, so a test states only the flags
// of each entry on the way to a page.
#pragma once

#include <gtest/gtest.h>

#include <array>

#include "core/cpu_state.h"
#include "mmu/page_walker.h"
#include "mmu/phys_memory.h"

namespace vtlab::test {

class FourLevelTables : public testing::Test {
 protected:
  static constexpr uint64_t kPml4 = 0x10000, kPdpt = 0x11000, kPd = 0x12000, kPt = 0x13000;
  // PML4E 0xFF, PDPTE 0x102, PDE 3, PTE 4, offset 0xABC: a different
  // index at every level, high in the lower half.
  static constexpr uint64_t kLin = 0x00007FC080604ABC;

  // The entry the walk reads at each level (`shift` = 39, 30, 21, 12).
  static uint64_t slot(uint64_t table, uint64_t lin, unsigned shift) { return table + 8 * ((lin >> shift) & 0x1FF); }
  static uint64_t pml4e_addr(uint64_t lin) { return slot(kPml4, lin, 39); }
  static uint64_t pdpte_addr(uint64_t lin) { return slot(kPdpt, lin, 30); }
  static uint64_t pde_addr(uint64_t lin) { return slot(kPd, lin, 21); }
  static uint64_t pte_addr(uint64_t lin) { return slot(kPt, lin, 12); }
  uint64_t entry(uint64_t addr) { return mem.read(addr, 8); }

  // `flags` per level, PML4E first; each entry points at the next table
  // (or, the last, at the page).
  void map_4k(uint64_t lin, uint64_t page, const std::array<uint64_t, 4>& flags) {
    mem.write(pml4e_addr(lin), 8, kPdpt | flags[0]);
    mem.write(pdpte_addr(lin), 8, kPd | flags[1]);
    mem.write(pde_addr(lin), 8, kPt | flags[2]);
    mem.write(pte_addr(lin), 8, page | flags[3]);
  }
  void map_2m(uint64_t lin, uint64_t page, const std::array<uint64_t, 3>& flags) {
    mem.write(pml4e_addr(lin), 8, kPdpt | flags[0]);
    mem.write(pdpte_addr(lin), 8, kPd | flags[1]);
    mem.write(pde_addr(lin), 8, page | (1u << 7) | flags[2]);
  }
  void map_1g(uint64_t lin, uint64_t page, const std::array<uint64_t, 2>& flags) {
    mem.write(pml4e_addr(lin), 8, kPdpt | flags[0]);
    mem.write(pdpte_addr(lin), 8, page | (1u << 7) | flags[1]);
  }

  WalkRequest request(uint64_t lin, Access access, bool user) const {
    return WalkRequest{lin, access, user, cr0, cr3, cr4, efer, {}};
  }
  WalkResult walk(uint64_t lin, Access access, bool user) { return walker.walk(request(lin, access, user)); }
  WalkExplanation explain(uint64_t lin, Access access, bool user) { return walker.explain(request(lin, access, user)); }
  void expect_fault(uint64_t lin, Access access, bool user, uint32_t error) {
    const WalkResult r = walk(lin, access, user);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error_code, error);
  }

  PhysicalMemory mem{16ull << 20};
  PageWalker walker{mem};
  uint64_t cr0 = cr0::PE | cr0::PG | cr0::ET;
  uint64_t cr3 = kPml4;
  uint64_t cr4 = cr4::PAE;
  uint64_t efer = efer::LME | efer::LMA;
};

}  // namespace vtlab::test
