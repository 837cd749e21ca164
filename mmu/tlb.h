// A modelled TLB: it caches translations exactly the way the architecture
// lets hardware cache them, so a guest that edits a page table and forgets
// INVLPG sees the stale mapping, as it would on a real CPU.  Direct-mapped
// by linear page number, tagged with the whole of it (52 bits of a
// long-mode address, so an upper-half page never hits a lower-half entry);
// large pages are cached per 4 KiB piece and flushed as a whole.  Each entry holds what a debugger needs to show it: linear
// and physical page, the size of the page the walk found, the combined
// rights (U/S, R/W, XD), G and D.
//
// What drops entries (SDM vol. 3, 4.10.4.1), called from core/isa/system.cpp
// and Cpu::set_a20: MOV CR3 everything but global entries; CR0.PG, CR4.PGE,
// CR4.PSE, CR4.PAE and EFER.NXE changes everything; INVLPG the page, global
// or not.
#pragma once

#include <array>
#include <cstdint>

#include "mmu/page_walker.h"

namespace vtlab {

class Tlb {
 public:
  static constexpr unsigned kEntries = 256;

  struct Entry {
    uint64_t vpn = ~uint64_t{0};  // linear >> 12; ~0 = invalid
    uint64_t ppn = 0;             // physical >> 12 of this 4 KiB piece
    uint64_t page_size = 4096;    // size of the page the walk found: 4 KiB, 2 MiB, 4 MiB or 1 GiB
    bool user = false, writable = false, nx = false, dirty = false, global = false;
    // The interpreter's fast path (Cpu::fast_data): host addresses of this
    // 4 KiB piece when it is plain RAM, for reads, and for writes once the
    // page is writable, dirty and holds no decoded code.  They live and die
    // with the entry, so the fast path never outlives the modelled TLB.
    uint8_t* host_read = nullptr;
    uint8_t* host_write = nullptr;
    bool valid() const { return vpn != ~uint64_t{0}; }
  };

  const Entry* lookup(uint64_t linear) const {
    const Entry& e = entries_[index(linear)];
    return e.vpn == (linear >> 12) ? &e : nullptr;
  }
  Entry* find(uint64_t linear) {
    Entry& e = entries_[index(linear)];
    return e.vpn == (linear >> 12) ? &e : nullptr;
  }
  void insert(uint64_t linear, const Translation& t) {
    Entry& e = entries_[index(linear)];
    e.host_read = e.host_write = nullptr;
    e.vpn = linear >> 12;
    e.ppn = t.phys >> 12;
    e.page_size = t.page_size;
    e.user = t.user;
    e.writable = t.writable;
    e.nx = t.nx;
    e.dirty = t.dirty;
    e.global = t.global;
  }
  // MOV CR3 (and task switches): everything but global entries.
  void flush_non_global() {
    for (Entry& e : entries_)
      if (!e.global) e.vpn = ~uint64_t{0};
    ++flushes_;
    ++generation_;
  }
  // CR0.PG, CR4.PGE/PSE/PAE, EFER.NXE changes: everything.
  void flush_all() {
    for (Entry& e : entries_) e.vpn = ~uint64_t{0};
    ++flushes_;
    ++generation_;
  }
  // INVLPG: the page containing `linear`, whatever its size.
  void flush_page(uint64_t linear) {
    ++generation_;
    for (Entry& e : entries_) {
      if (e.vpn == ~uint64_t{0}) continue;
      uint64_t base = (e.vpn << 12) & ~(e.page_size - 1);
      if (linear - base < e.page_size) e.vpn = ~uint64_t{0};
    }
  }
  // A page that now holds decoded code: writes to it must go the slow way
  // (they invalidate blocks).
  void revoke_host_writes(uint64_t phys_page) {
    for (Entry& e : entries_)
      if (e.ppn == (phys_page >> 12)) e.host_write = nullptr;
  }
  const std::array<Entry, kEntries>& entries() const { return entries_; }
  uint64_t flushes() const { return flushes_; }
  // Moves on every flush of any kind: what was translated before may not be now.
  uint64_t generation() const { return generation_; }

 private:
  static unsigned index(uint64_t linear) { return (linear >> 12) % kEntries; }
  std::array<Entry, kEntries> entries_{};
  uint64_t flushes_ = 0, generation_ = 0;
};

}  // namespace vtlab
