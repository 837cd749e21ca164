// The walk's shared rules (WalkContext) and the entry points: walk,
// explain, the PDPTE load.  The formats are in walk32.cpp, walk_pae.cpp and
// walk_4level.cpp.
#include "mmu/page_walker.h"

#include <fmt/format.h>

#include <bit>

#include "core/cpu_state.h"
#include "mmu/phys_memory.h"
#include "mmu/walk_context.h"

namespace vtlab {

namespace {
constexpr uint8_t kPageFaultVector = 14;
}  // namespace

PagingMode paging_mode(uint64_t cr0_value, uint64_t cr4_value, uint64_t efer_value) {
  if (!(cr0_value & cr0::PG)) return PagingMode::None;
  if (efer_value & efer::LMA) return PagingMode::FourLevel;
  return (cr4_value & cr4::PAE) ? PagingMode::Pae : PagingMode::Bits32;
}

const char* walk_level_name(WalkLevel l) {
  switch (l) {
    case WalkLevel::Pml4e: return "PML4E";
    case WalkLevel::Pdpte: return "PDPTE";
    case WalkLevel::Pde: return "PDE";
    case WalkLevel::Pte: return "PTE";
  }
  return "?";
}

WalkResult PageWalker::walk(const WalkRequest& req) { return run(req, nullptr); }

WalkExplanation PageWalker::explain(const WalkRequest& req) {
  WalkExplanation e;
  e.mode = paging_mode(req.cr0, req.cr4, req.efer);
  e.linear = req.linear;
  e.access = req.access;
  e.user = req.user;
  run(req, &e);
  return e;
}

WalkResult PageWalker::run(const WalkRequest& req, WalkExplanation* sink) {
  WalkContext c(mem_, req, sink);
  switch (paging_mode(req.cr0, req.cr4, req.efer)) {
    case PagingMode::Bits32: return walk32(c);
    case PagingMode::Pae: return walk_pae(c);
    case PagingMode::FourLevel: return walk_4level(c);
    case PagingMode::None: break;
  }
  // Paging off: linear is physical, and nothing is refused.
  WalkResult r;
  r.ok = true;
  r.t.phys = req.linear & 0xFFFFFFFF;
  r.t.user = r.t.writable = true;
  if (sink) {
    sink->ok = true;
    sink->t = r.t;
  }
  return r;
}

bool PageWalker::load_pdptes(uint64_t cr3_value, std::array<uint64_t, 4>& out) {
  std::array<uint64_t, 4> e;
  const uint64_t table = cr3_value & 0xFFFFFFE0;  // CR3[31:5]: 32-byte aligned
  for (unsigned i = 0; i < 4; ++i) {
    e[i] = mem_.read(table + 8 * i, 8);
    if ((e[i] & pte::P) && (e[i] & kPdpteReserved)) return false;
  }
  out = e;
  return true;
}

// --- WalkContext -------------------------------------------------------------

uint64_t WalkContext::read(uint64_t addr, unsigned size) {
  if (!sink_) return mem_.read(addr, size);
  uint64_t v = 0;
  if (mem_.read_bytes(addr, &v, size)) return v;
  return size == 8 ? ~uint64_t{0} : 0xFFFFFFFF;
}

void WalkContext::record(WalkLevel level, uint64_t addr, uint64_t raw, const EntryBits& bits, bool from_register) {
  if (!sink_) return;
  WalkStep s;
  s.level = level;
  s.entry_addr = addr;
  s.from_register = from_register;
  s.in_mmio = !from_register && mem_.kind(addr) == PhysicalMemory::Kind::Mmio;
  s.raw = raw;
  s.bits = bits;
  sink_->steps.push_back(s);
}

void WalkContext::set_last_verdict(WalkStep::Verdict v) {
  if (sink_ && !sink_->steps.empty()) sink_->steps.back().verdict = v;
}

uint32_t WalkContext::access_bits() const {
  uint32_t e = 0;
  if (req_.access == Access::Write) e |= pfec::W;
  if (req_.user) e |= pfec::U;
  if (req_.access == Access::Execute && (req_.cr4 & cr4::PAE) && (req_.efer & efer::NXE)) e |= pfec::I;
  return e;
}

WalkResult WalkContext::fault(uint32_t error, WalkLevel level, const char* what) {
  WalkResult r;
  r.error_code = error;
  if (sink_) {
    set_last_verdict(WalkStep::Verdict::Fault);
    sink_->ok = false;
    sink_->vector = kPageFaultVector;
    sink_->error_code = error;
    sink_->reason = fmt::format(fmt::runtime(what), walk_level_name(level));
  }
  return r;
}

WalkResult WalkContext::not_present(WalkLevel level) { return fault(access_bits(), level, "{} not present"); }

WalkResult WalkContext::reserved(WalkLevel level, uint64_t reserved_set) {
  WalkResult r = fault(pfec::P | pfec::RSVD | access_bits(), level, "");
  if (sink_) sink_->reason = fmt::format("reserved bit {} set in {}", std::countr_zero(reserved_set), walk_level_name(level));
  return r;
}


void WalkContext::restrict(WalkLevel level, uint64_t entry, bool xd) {
  if (user_ok_ && !(entry & pte::US)) {
    user_ok_ = false;
    no_user_at_ = level;
  }
  if (writable_ && !(entry & pte::RW)) {
    writable_ = false;
    read_only_at_ = level;
  }
  if (!nx_ && xd) {
    nx_ = true;
    xd_at_ = level;
  }
}

void WalkContext::set_bits(uint64_t addr, unsigned size, uint64_t old_value, uint64_t new_value) {
  if (new_value != old_value && nwrites_ < writes_.size()) writes_[nwrites_++] = PendingWrite{addr, new_value, size};
}

WalkResult WalkContext::map_page(uint64_t addr, unsigned size, uint64_t entry, uint64_t phys, uint64_t page_size) {
  const uint64_t new_entry = entry | pte::A | (write() ? pte::D : 0);
  set_bits(addr, size, entry, new_entry);
  return finish(phys, page_size, (req_.cr4 & cr4::PGE) && (entry & pte::G), new_entry & pte::D);
}

WalkResult WalkContext::finish(uint64_t phys, uint64_t page_size, bool global, bool dirty) {
  WalkResult r;
  r.t = Translation{phys, page_size, user_ok_, writable_, nx_, dirty, global};
  if (!PageWalker::permits(r.t, req_.access, req_.user, req_.cr0)) {
    const uint32_t error = pfec::P | access_bits();
    if (req_.user && !user_ok_)
      return fault(error, no_user_at_, "user-mode access to a supervisor page (U/S=0 in {})");
    if (req_.access == Access::Execute && nx_)
      return fault(error, xd_at_, "instruction fetch from an XD page (XD=1 in {})");
    return fault(error, read_only_at_,
                 req_.user ? "user-mode write to a read-only page (R/W=0 in {})"
                           : "write to read-only page with CR0.WP=1 (R/W=0 in {})");
  }
  r.ok = true;
  if (sink_) {
    set_last_verdict(WalkStep::Verdict::Page);
    sink_->ok = true;
    sink_->t = r.t;
    return r;
  }
  for (unsigned i = 0; i < nwrites_; ++i) mem_.write(writes_[i].addr, writes_[i].size, writes_[i].value);
  return r;
}

}  // namespace vtlab
