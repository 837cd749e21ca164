// One walk in progress, shared by the format walkers (walk32.cpp,
// walk_pae.cpp, walk_4level.cpp).  The rules every format shares live here once: how an
// entry is read, the #PF error code (SDM 4.7), how rights combine over the
// levels and are checked at the end (SDM 4.6), and when A/D bits are
// written (SDM 4.8: only once the access is known to succeed).  With a sink
// the same walk records each entry and a one-sentence reason, and writes
// nothing: that is PageWalker::explain.
#pragma once

#include <array>
#include <cstdint>

#include "mmu/page_walker.h"

namespace vtlab {

// Paging-structure entry bits shared by every format.
namespace pte {
inline constexpr uint64_t P = 1u << 0, RW = 1u << 1, US = 1u << 2, PWT = 1u << 3, PCD = 1u << 4, A = 1u << 5,
                          D = 1u << 6, PS = 1u << 7, G = 1u << 8, XD = uint64_t{1} << 63;
}

// An entry's bits as an explanation shows them.  D and G mean something
// only in an entry that maps a page (`leaf`); XD only with EFER.NXE.
inline EntryBits decode_entry(uint64_t e, bool leaf, bool large, bool nxe, uint64_t address_mask) {
  EntryBits b;
  b.p = e & pte::P;
  b.rw = e & pte::RW;
  b.us = e & pte::US;
  b.pwt = e & pte::PWT;
  b.pcd = e & pte::PCD;
  b.a = e & pte::A;
  b.d = leaf && (e & pte::D);
  b.ps = large;
  b.g = leaf && (e & pte::G);
  b.xd = nxe && (e & pte::XD);
  b.address = e & address_mask;
  return b;
}

class WalkContext {
 public:
  WalkContext(PhysicalMemory& mem, const WalkRequest& req, WalkExplanation* sink)
      : mem_(mem), req_(req), sink_(sink) {}

  const WalkRequest& req() const { return req_; }
  bool explaining() const { return sink_ != nullptr; }
  bool write() const { return req_.access == Access::Write; }

  // A paging-structure entry of 4 or 8 bytes at `addr`.  Explaining reads
  // without side effects: RAM and ROM as they are, holes and MMIO as all
  // ones (a device is never read on a debugger's behalf).
  uint64_t read(uint64_t addr, unsigned size);
  // Records an entry for the explanation (a no-op when walking).
  void record(WalkLevel level, uint64_t addr, uint64_t raw, const EntryBits& bits, bool from_register = false);

  // Faults.  `reserved` is the entry's reserved bits that are set.
  WalkResult not_present(WalkLevel level);
  WalkResult reserved(WalkLevel level, uint64_t reserved);

  // Rights of one more level: R/W and U/S must be 1 at every level; XD at
  // any level (only passed when EFER.NXE=1) forbids fetches.
  void restrict(WalkLevel level, uint64_t entry, bool xd);
  // An A/D update to make once the access is known to succeed.
  void set_bits(uint64_t addr, unsigned size, uint64_t old_value, uint64_t new_value);
  // The `size`-byte entry at `addr` maps the page of `page_size` bytes that
  // holds `phys`: A (and D on a write) go into that entry, the only one SDM
  // 4.8 gives a dirty flag; G counts with CR4.PGE; then finish().
  WalkResult map_page(uint64_t addr, unsigned size, uint64_t entry, uint64_t phys, uint64_t page_size);

 private:
  // The last level: checks the combined rights against the access, then
  // writes the queued A/D updates (not when explaining).
  WalkResult finish(uint64_t phys, uint64_t page_size, bool global, bool dirty);
  // W, U and I for this access (SDM 4.7: I only with PAE and EFER.NXE,
  // since there is no SMEP).
  uint32_t access_bits() const;
  WalkResult fault(uint32_t error, WalkLevel level, const char* what);
  void set_last_verdict(WalkStep::Verdict v);

  struct PendingWrite {
    uint64_t addr, value;
    unsigned size;
  };

  PhysicalMemory& mem_;
  const WalkRequest& req_;
  WalkExplanation* sink_;
  bool user_ok_ = true, writable_ = true, nx_ = false;
  WalkLevel no_user_at_ = WalkLevel::Pde, read_only_at_ = WalkLevel::Pde, xd_at_ = WalkLevel::Pde;
  std::array<PendingWrite, 4> writes_{};  // one per level of the deepest format
  unsigned nwrites_ = 0;
};

// The format walkers.
WalkResult walk32(WalkContext& c);
WalkResult walk_pae(WalkContext& c);
WalkResult walk_4level(WalkContext& c);
// The page directory at `pd` and its page tables, which PAE and 4-level
// paging share (SDM tables 4-9 to 4-11 and 4-17 to 4-20); the formats differ
// only in which high bits of an entry are `reserved`.
WalkResult walk_directory(WalkContext& c, uint64_t pd, uint64_t reserved);

}  // namespace vtlab
