#include "core/cpu.h"

#include "privilege/segment_refusal.h"

#include <bit>

namespace vtlab {

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::None: return "none";
    case StopReason::BudgetExhausted: return "max-insns";
    case StopReason::Halted: return "halted";
    case StopReason::GuestExit: return "guest-exit";
    case StopReason::Shutdown: return "shutdown";
    case StopReason::Unsupported: return "unsupported";
    case StopReason::Interrupted: return "interrupted";
  }
  return "?";
}

namespace {
// Vectors that push an error code when raised as exceptions (SDM table 6-1).
bool pushes_error_code(uint8_t v) {
  return v == vec::DF || v == vec::TS || v == vec::NP || v == vec::SS || v == vec::GP || v == vec::PF ||
         v == vec::AC;
}

// Alignment checking (SDM vol. 3, 6.15 "#AC"): with CR0.AM and EFLAGS.AC,
// a misaligned data access at CPL 3 faults with #AC(0); the CPU's own
// table and stack accesses (`supervisor`) are exempt.  Sizes that are not
// a power of two (far pointers, 10-byte reals) align to the largest one below.
bool misaligned_user_access(const CpuState& s, uint64_t lin, unsigned size, bool supervisor) {
  return (lin & (std::bit_floor(size) - 1)) && !supervisor && (s.cr0 & cr0::AM) && s.flags.test(flag::AC) &&
         s.cpl() == 3;
}
}  // namespace

Status Cpu::raise(uint8_t vector, uint32_t error) {
  pending_ = PendingEvent{PendingEvent::Kind::Fault, vector, pushes_error_code(vector), error};
  return Status::Exception;
}

Status Cpu::raise_trap(uint8_t vector) {
  pending_ = PendingEvent{PendingEvent::Kind::Trap, vector, false, 0};
  return Status::Exception;
}

Status Cpu::raise_software_int(uint8_t vector) {
  pending_ = PendingEvent{PendingEvent::Kind::SoftwareInt, vector, false, 0};
  return Status::Exception;
}

Status Cpu::raise_sensitive(const DecodedInsn& insn) {
  pending_ = PendingEvent{PendingEvent::Kind::Sensitive, 0, false, 0, &insn};
  return Status::Exception;
}

// Each refusal records why (core/segment_fault.h) for the debugger's
// explanations; the accesses that pass do not pay for it.
Status Cpu::check_segment(unsigned seg, uint64_t offset, unsigned size, Access access) {
  const SegmentCache& sc = s.seg[seg];
  const uint8_t vector = seg == SS ? vec::SS : vec::GP;
  const uint64_t last = offset + size - 1;
  if (s.real_mode() || s.v8086()) {
    // Real mode still checks the (hidden) limit: a word at FFFF faults.
    if (last <= sc.limit) return Status::Ok;
    return refuse_offset(*this, vector, 0, sc.selector, nullptr, last, sc.limit,
                         "real and virtual-8086 mode still check the segment's hidden limit");
  }
  if (s.code_size() == 8) {
    // 64-bit mode has no limits and no type checks, only the canonical
    // rule, for the first and the last byte (SDM vol. 3, 5.3.1).  The
    // silicon checks the first byte before #AC and the last one after it
    // (measured: docs/FUZZING.md, kvm_priority64).
    const uint64_t lin = linear(seg, offset);
    if (is_canonical(lin) && is_canonical(lin + size - 1)) return Status::Ok;
    if (is_canonical(lin) && misaligned_user_access(s, lin, size, false)) return raise(vec::AC, 0);
    return refuse_offset(*this, vector, 0, sc.selector, nullptr, is_canonical(lin) ? lin + size - 1 : lin,
                         ~uint64_t{0}, "a 64-bit-mode access must be canonical in its first and last byte");
  }
  if (!sc.present()) {
    if ((sc.selector & 0xFFFC) == 0)
      return refuse(*this, vector, 0, SegmentCheck::NullSelector, sc.selector, nullptr,
                    "a segment register holding a null selector cannot be used for an access");
    return refuse(*this, vector, 0, SegmentCheck::NotPresent, sc.selector, nullptr,
                  "the segment register's cache is not present");
  }
  const uint32_t a = sc.attrs;
  if (a & ar::kCode) {
    if (access == Access::Write)
      return refuse(*this, vector, 0, SegmentCheck::WrongType, sc.selector, nullptr,
                    "a code segment cannot be written");
    if (!(a & ar::kReadable))
      return refuse(*this, vector, 0, SegmentCheck::WrongType, sc.selector, nullptr,
                    "an execute-only code segment cannot be read");
  } else if (access == Access::Write && !(a & ar::kWritable)) {
    return refuse(*this, vector, 0, SegmentCheck::WrongType, sc.selector, nullptr,
                  "a read-only data segment cannot be written");
  }
  if (!(a & ar::kCode) && (a & ar::kExpandDown)) {
    const uint64_t upper = (a & ar::kDb) ? 0xFFFFFFFF : 0xFFFF;
    if (offset <= sc.limit)
      return refuse_offset(*this, vector, 0, sc.selector, nullptr, offset, sc.limit,
                           "an expand-down segment's offsets lie ABOVE its limit");
    if (last > upper)
      return refuse_offset(*this, vector, 0, sc.selector, nullptr, last, upper,
                           "an expand-down segment ends at 0xffff, or 0xffffffff with B = 1");
  } else if (last > sc.limit) {
    return refuse_offset(*this, vector, 0, sc.selector, nullptr, last, sc.limit,
                         "every byte of the access must lie within the segment limit");
  }
  return Status::Ok;
}

Status Cpu::read_mem_slow(unsigned seg, uint64_t offset, unsigned size, uint64_t& out, Access access) {
  TRY(check_segment(seg, offset, size, access));
  return read_linear(linear(seg, offset), size, out, false, access);
}

Status Cpu::write_mem_slow(unsigned seg, uint64_t offset, unsigned size, uint64_t value) {
  TRY(check_segment(seg, offset, size, Access::Write));
  return write_linear(linear(seg, offset), size, value);
}

// The TLB entry that just translated `lin` to `phys` gets the host address
// of its page when that is RAM: reads may then skip translate() while the
// entry lives; writes only once the page is writable and dirty (a clean
// page's first write must set D) and holds no decoded code.
void Cpu::attach_host(uint64_t lin, uint64_t phys) {
  if (!s.paging()) return;
  if (!s.long_mode_active()) lin &= 0xFFFFFFFF;
  Tlb::Entry* e = tlb.find(lin);
  if (!e || (e->host_write && e->host_read)) return;  // armed already (system accesses come back often)
  const uint64_t page = phys & ~kPageMask;
  if (((e->ppn << kPageShift) & a20_mask) != page) return;
  uint8_t* host = mem.ram_ptr(page, kPageSize);
  if (!host) return;
  e->host_read = host;
  if (e->writable && e->dirty && mem.ram_ptr_for_write(page, kPageSize)) e->host_write = host;
}

Status Cpu::translate(uint64_t lin, Access access, bool user, uint64_t& phys, bool system) {
  if (!s.paging()) {
    phys = lin & 0xFFFFFFFF & a20_mask;
    return Status::Ok;
  }
  if (!s.long_mode_active()) lin &= 0xFFFFFFFF;
  if (const Tlb::Entry* e = tlb.lookup(lin)) {
    Translation t;
    t.user = e->user;
    t.writable = e->writable;
    t.nx = e->nx;
    if (PageWalker::permits(t, access, user, s.cr0) && !(access == Access::Write && !e->dirty)) {
      phys = ((e->ppn << kPageShift) | (lin & kPageMask)) & a20_mask;
      return Status::Ok;
    }
    // A refused or clean-page write re-walks: the guest may have granted
    // rights since, and a write must set D in memory.
  }
  if (translation_hook) return translation_hook->translate(*this, lin, access, user, system, phys);
  WalkResult w = walker.walk(walk_request(lin, access, user));
  if (!w.ok) {
    // A page fault drops what the TLB holds for that address (SDM vol. 3,
    // 4.10.4.1): a stale entry that refused this access is gone too.
    tlb.flush_page(lin);
    s.cr2 = lin;
    return raise(vec::PF, w.error_code);
  }
  tlb.insert(lin, w.t);
  phys = w.t.phys & a20_mask;
  return Status::Ok;
}

uint8_t Cpu::match_breakpoints(uint64_t lin, unsigned size, bool write, bool execute) const {
  static constexpr uint64_t kLength[4] = {1, 2, 8, 4};  // DR7.LENn encodings
  const uint64_t dr7 = s.dr[7];
  uint8_t hits = 0;
  for (unsigned n = 0; n < 4; ++n) {
    if (!((dr7 >> (2 * n)) & 3)) continue;
    const unsigned rw = (dr7 >> (16 + 4 * n)) & 3;
    // RW=2 (I/O) needs CR4.DE, which this CPU does not implement.
    if (execute ? rw != 0 : (rw == 0 || rw == 2 || (rw == 1 && !write))) continue;
    const uint64_t len = execute ? 1 : kLength[(dr7 >> (18 + 4 * n)) & 3];
    const uint64_t base = s.dr[n] & ~(len - 1);  // the range is aligned to its length
    if (lin < base + len && base < lin + size) hits |= 1u << n;
  }
  return hits;
}

Status Cpu::read_linear(uint64_t lin, unsigned size, uint64_t& out, bool supervisor, Access access) {
  if (access != Access::Execute && !memory_checks_armed()) {
    if (const uint8_t* p = host_linear(lin, size, access == Access::Write, !supervisor && s.cpl() == 3)) {
      out = load_host(p, size);
      return Status::Ok;
    }
  }
  if (breakpoints_enabled()) [[unlikely]]
    data_breakpoint_hits |= match_breakpoints(lin, size, false, false);
  if (misaligned_user_access(s, lin, size, supervisor)) [[unlikely]]
    return raise(vec::AC, 0);
  const bool user = !supervisor && s.cpl() == 3;
  const unsigned first = static_cast<unsigned>(std::min<uint64_t>(size, kPageSize - (lin & kPageMask)));
  uint64_t p0;
  TRY(translate(lin, access, user, p0, supervisor));
  if (first == size) {
    if (observer) [[unlikely]] observer->on_memory(p0, size, false);
    out = mem.read(p0, size);
    attach_host(lin, p0);
    return Status::Ok;
  }
  uint64_t p1;
  TRY(translate(lin + first, access, user, p1, supervisor));
  if (observer) [[unlikely]] {
    observer->on_memory(p0, first, false);
    observer->on_memory(p1, size - first, false);
  }
  uint64_t v = 0;
  for (unsigned i = 0; i < size; ++i) {
    uint64_t p = i < first ? p0 + i : p1 + (i - first);
    v |= mem.read(p, 1) << (8 * i);
  }
  out = v;
  return Status::Ok;
}

Status Cpu::write_linear(uint64_t lin, unsigned size, uint64_t value, bool supervisor) {
  if (!memory_checks_armed()) {
    if (uint8_t* p = host_linear(lin, size, true, !supervisor && s.cpl() == 3)) {
      store_host(p, size, value);
      return Status::Ok;
    }
  }
  if (breakpoints_enabled()) [[unlikely]]
    data_breakpoint_hits |= match_breakpoints(lin, size, true, false);
  if (misaligned_user_access(s, lin, size, supervisor)) [[unlikely]]
    return raise(vec::AC, 0);
  const bool user = !supervisor && s.cpl() == 3;
  const unsigned first = static_cast<unsigned>(std::min<uint64_t>(size, kPageSize - (lin & kPageMask)));
  uint64_t p0;
  TRY(translate(lin, Access::Write, user, p0, supervisor));
  if (write_capture) [[unlikely]] {
    uint64_t p1;
    if (first != size) TRY(translate(lin + first, Access::Write, user, p1, supervisor));
    write_capture->push_back(CapturedWrite{lin, static_cast<uint8_t>(size), value});
    if (discard_writes) return Status::Ok;
  }
  if (first == size) {
    if (observer) [[unlikely]] observer->on_memory(p0, size, true);
    mem.write(p0, size, value);
    attach_host(lin, p0);
    return Status::Ok;
  }
  // Both pages must be writable before either is written.
  uint64_t p1;
  TRY(translate(lin + first, Access::Write, user, p1, supervisor));
  if (observer) [[unlikely]] {
    observer->on_memory(p0, first, true);
    observer->on_memory(p1, size - first, true);
  }
  for (unsigned i = 0; i < size; ++i) {
    uint64_t p = i < first ? p0 + i : p1 + (i - first);
    mem.write(p, 1, (value >> (8 * i)) & 0xFF);
  }
  return Status::Ok;
}

void Cpu::paging_changed(bool keep_global) {
  if (keep_global) tlb.flush_non_global();
  else tlb.flush_all();
}

}  // namespace vtlab
