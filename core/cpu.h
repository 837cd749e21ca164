// The execution context instruction handlers run against: architectural
// state plus the paths every instruction shares (register access,
// segmented and paged memory access, port I/O, raising exceptions).
//
// Faults never unwind: an access that faults records the exception with
// raise() and returns Status::Exception; the handler returns that status at
// once, before committing anything (see TRY below).
#pragma once

#include <cstdint>
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/cpu_state.h"
#include "core/decoded_insn.h"
#include "core/interrupt_controller.h"
#include "core/segment_fault.h"
#include "devices/bus.h"
#include "mmu/page_walker.h"
#include "mmu/phys_memory.h"
#include "mmu/tlb.h"

// Propagates a non-Ok Status out of the calling handler.
#define TRY(expr)                                                  \
  do {                                                             \
    if (::vtlab::Status st_ = (expr); st_ != ::vtlab::Status::Ok) \
      return st_;                                                  \
  } while (0)

namespace vtlab {

// Exception vectors (SDM vol. 3, table 6-1).
namespace vec {
inline constexpr uint8_t DE = 0, DB = 1, NMI = 2, BP = 3, OF = 4, BR = 5, UD = 6, NM = 7, DF = 8,
                         TS = 10, NP = 11, SS = 12, GP = 13, PF = 14, MF = 16, AC = 17, MC = 18,
                         XM = 19;
}

// Why the machine stops running (not why one instruction stopped).
enum class StopReason : uint8_t {
  None,
  BudgetExhausted,  // --max-insns reached
  Halted,           // HLT with interrupts off and nothing that could wake it
  GuestExit,        // isa-debug-exit written
  Shutdown,         // triple fault (or an explicit shutdown request)
  Unsupported,      // an instruction or feature vtlab does not model yet
  Interrupted,      // the host asked vtlab to stop (SIGINT/SIGTERM)
};
const char* stop_reason_name(StopReason r);

// What a debugger sees of the accesses the CPU makes (debugger/): every
// data access through read_linear/write_linear, with the physical range it
// reached, and every port access.  Set only while a watchpoint or an I/O
// catch is armed; unset, each access pays one predictable branch.
class AccessObserver {
 public:
  virtual ~AccessObserver() = default;
  virtual void on_memory(uint64_t phys, unsigned size, bool write) = 0;
  virtual void on_port(uint16_t port, unsigned size, bool write) = 0;
};

struct PendingEvent {
  // Sensitive: not an exception at all but the engine asking the monitor
  // to run the instruction at CS:RIP itself (one it marked at decode time,
  // Monitor::on_block); it returns to the instruction, like a fault.
  enum class Kind : uint8_t { Fault, Trap, SoftwareInt, External, Sensitive };
  Kind kind = Kind::Fault;
  uint8_t vector = 0;
  bool has_error = false;
  uint32_t error = 0;
  const DecodedInsn* insn = nullptr;  // Sensitive: the instruction (its block outlives the event)
};

// One link of a fault chain: an event, with CR2 as it stood once the event
// was raised (a #PF sets it).
struct ChainedEvent {
  PendingEvent event;
  uint64_t cr2 = 0;
  // The first link: where the event was raised, and the segment check
  // that raised it (check None if none did).
  uint16_t cs = 0;
  uint64_t rip = 0;
  SegmentFaultWhy why;
};

class Cpu;

// A monitor that keeps its own (shadow) page tables answers the TLB misses
// instead of the walker (privilege/shadow_mmu.h).  `system` marks the
// implicit accesses the CPU makes to its own tables (GDT, LDT, IDT, TSS).
class TranslationHook {
 public:
  virtual ~TranslationHook() = default;
  virtual Status translate(Cpu& cpu, uint64_t lin, Access access, bool user, bool system, uint64_t& phys) = 0;
  // The paging registers of the guest's own tables (the real CPU's point
  // at the shadow), for walks a debugger explains.
  virtual void guest_paging(const Cpu& cpu, uint64_t& cr0, uint64_t& cr3, uint64_t& cr4) const = 0;
};

// One store an instruction made, as the hole detector records it.
struct CapturedWrite {
  uint64_t lin;
  uint8_t size;
  uint64_t value;
};

class Cpu {
 public:
  Cpu(PhysicalMemory& mem, IoBus& io) : mem(mem), io(io), walker(mem) {}

  CpuState s;
  PhysicalMemory& mem;
  IoBus& io;
  PageWalker walker;
  Tlb tlb;

  // RIP of the instruction after the one executing; branches overwrite it.
  uint64_t next_rip = 0;
  uint64_t icount = 0;  // instructions retired
  uint64_t events = 0;  // exceptions and interrupts delivered
  uint64_t idle = 0;    // ticks skipped while halted, waiting for a timer
  uint64_t exit_cycles = 0;  // modelled cost of the monitor's exits (core/exits.h)
  // Virtual time: instructions retired plus one unit per delivered event
  // plus time slept in HLT plus the modelled cost of exits.  It always
  // moves forward, even when every instruction faults, so budgets and
  // RDTSC cannot stall.
  uint64_t virtual_time() const { return icount + events + idle + exit_cycles; }
  // Device timers run on virtual time (see core/clock.h).
  VirtualClock clock{[this] { return virtual_time(); }};
  // The INTR pin: the machine plugs its interrupt controller in here, and
  // wires the controller's IntrChanged to intr_changed().  The engine asks
  // the controller only after such a change (or after taking an
  // interrupt), never on every boundary.
  InterruptController* intc = nullptr;
  void intr_changed() {
    intr_maybe_pending = true;
    check_at = 0;
  }
  bool intr_maybe_pending = true;
  // Physical-address mask of the A20 gate (port 0x92, i8042 output port):
  // with the gate closed, bit 20 of every address the CPU emits is 0.
  uint64_t a20_mask = ~uint64_t{0};
  void set_a20(bool enabled) {
    const uint64_t m = enabled ? ~uint64_t{0} : ~(uint64_t{1} << 20);
    if (m != a20_mask) {
      a20_mask = m;
      tlb.flush_all();  // cached translations carry the old bit 20
    }
  }
  // The engine leaves its inner loop when icount reaches this; anything
  // that needs the engine's attention (a stop request, a code write, an
  // interrupt) sets it to 0.
  uint64_t check_at = 0;

  // --- registers -----------------------------------------------------
  template <typename T> T reg(uint8_t idx) const {
    if constexpr (sizeof(T) == 1) {
      if (idx >= kRegAH) return static_cast<T>(s.gpr[idx - kRegAH] >> 8);
    }
    return static_cast<T>(s.gpr[idx]);
  }
  template <typename T> void set_reg(uint8_t idx, T v) {
    if constexpr (sizeof(T) == 1) {
      if (idx >= kRegAH) {
        uint64_t& r = s.gpr[idx - kRegAH];
        r = (r & ~uint64_t{0xFF00}) | (uint64_t{v} << 8);
      } else {
        s.gpr[idx] = (s.gpr[idx] & ~uint64_t{0xFF}) | v;
      }
    } else if constexpr (sizeof(T) == 2) {
      s.gpr[idx] = (s.gpr[idx] & ~uint64_t{0xFFFF}) | v;
    } else {
      s.gpr[idx] = static_cast<uint64_t>(v);  // 32-bit writes zero-extend
    }
  }
  // Register of a width known only at run time (address-size counters).
  uint64_t reg_sized(uint8_t idx, unsigned size) const { return s.gpr[idx] & all_ones(size); }
  void set_reg_sized(uint8_t idx, unsigned size, uint64_t v) {
    if (size == 2) set_reg<uint16_t>(idx, static_cast<uint16_t>(v));
    else if (size == 4) set_reg<uint32_t>(idx, static_cast<uint32_t>(v));
    else s.gpr[idx] = v;
  }

  // --- exceptions ----------------------------------------------------
  // Records a fault; returns Status::Exception for the handler to return.
  Status raise(uint8_t vector, uint32_t error = 0);
  Status raise_trap(uint8_t vector);
  Status raise_software_int(uint8_t vector);
  Status raise_sensitive(const DecodedInsn& insn);
  const PendingEvent& pending() const { return pending_; }

  // --- memory --------------------------------------------------------
  // Segmented access: protection and limit checks (#GP / #SS), then paging.
  // Each first tries fast_data(); what it cannot vouch for takes the full
  // path (the *_slow functions), which also arms the fast path for next time.
  Status read_mem(unsigned seg, uint64_t offset, unsigned size, uint64_t& out) {
    if (const uint8_t* p = fast_data(seg, offset, size, false)) [[likely]] {
      out = load_host(p, size);
      return Status::Ok;
    }
    return read_mem_slow(seg, offset, size, out, Access::Read);
  }
  // The read half of a read-modify-write: checked and translated as a
  // write, so a fault reports W=1 as hardware does (and the write that
  // follows can no longer fault on protection).
  Status read_mem_for_write(unsigned seg, uint64_t offset, unsigned size, uint64_t& out) {
    if (const uint8_t* p = fast_data(seg, offset, size, true)) [[likely]] {
      out = load_host(p, size);
      return Status::Ok;
    }
    return read_mem_slow(seg, offset, size, out, Access::Write);
  }
  Status write_mem(unsigned seg, uint64_t offset, unsigned size, uint64_t value) {
    if (uint8_t* p = fast_data(seg, offset, size, true)) [[likely]] {
      store_host(p, size, value);
      return Status::Ok;
    }
    return write_mem_slow(seg, offset, size, value);
  }
  template <typename T> Status read(unsigned seg, uint64_t offset, T& out) {
    if (const uint8_t* p = fast_data(seg, offset, sizeof(T), false)) [[likely]] {
      std::memcpy(&out, p, sizeof(T));
      return Status::Ok;
    }
    uint64_t v;
    TRY(read_mem_slow(seg, offset, sizeof(T), v, Access::Read));
    out = static_cast<T>(v);
    return Status::Ok;
  }
  template <typename T> Status write(unsigned seg, uint64_t offset, T value) {
    if (uint8_t* p = fast_data(seg, offset, sizeof(T), true)) [[likely]] {
      std::memcpy(p, &value, sizeof(T));
      return Status::Ok;
    }
    return write_mem_slow(seg, offset, sizeof(T), static_cast<uint64_t>(value));
  }
  // Host memory behind seg:[offset, offset+len) when the fast path can
  // vouch for all of it (see fast_data; one page, no watchers), else
  // nullptr.  For REP string instructions, which move whole runs at once.
  uint8_t* host_span(unsigned seg, uint64_t offset, unsigned len, bool write) {
    return fast_data(seg, offset, len, write);
  }
  // Checks a segmented access without performing it (for read-modify-write
  // and multi-part stores that must fault before anything is written).
  Status check_segment(unsigned seg, uint64_t offset, unsigned size, Access access);
  // In 64-bit mode only FS and GS have a base (SDM vol. 1, 3.4.2.1): CS,
  // DS, ES and SS count as 0 whatever their caches hold.
  uint64_t linear(unsigned seg, uint64_t offset) const {
    if (s.code_size() == 8) return (seg >= FS ? s.seg[seg].base : 0) + offset;
    return (s.seg[seg].base + offset) & 0xFFFFFFFF;
  }

  // Linear access.  `supervisor` marks implicit system accesses (descriptor
  // tables, TSS, IDT) that are checked as CPL 0 whatever the CPL.
  Status read_linear(uint64_t lin, unsigned size, uint64_t& out, bool supervisor = false,
                     Access access = Access::Read);
  Status write_linear(uint64_t lin, unsigned size, uint64_t value, bool supervisor = false);
  Status translate(uint64_t lin, Access access, bool user, uint64_t& phys, bool system = false);
  // Set by a shadow-paging monitor: TLB misses go to it, not to the walker.
  TranslationHook* translation_hook = nullptr;
  // Set while the hole detector watches one instruction: every linear
  // store is recorded here, and with `discard_writes` not performed (a
  // dry run of the instruction).
  std::vector<CapturedWrite>* write_capture = nullptr;
  bool discard_writes = false;
  // The walk translate() would make for this access, from the current
  // CR0/CR3/CR4/EFER and PDPTE registers: a debugger passes it to
  // walker.explain() to see the walk step by step.
  // Under a shadow-paging monitor: the walk through the guest's own tables.
  WalkRequest walk_request(uint64_t lin, Access access, bool user) const {
    uint64_t cr0 = s.cr0, cr3 = s.cr3, cr4 = s.cr4;
    if (translation_hook) translation_hook->guest_paging(*this, cr0, cr3, cr4);
    return WalkRequest{s.long_mode_active() ? lin : (lin & 0xFFFFFFFF), access, user, cr0, cr3, cr4, s.efer, s.pdpte};
  }

  // --- port I/O (privilege checks are the caller's) ------------------
  uint64_t port_in(uint16_t port, unsigned size) {
    if (observer) [[unlikely]] observer->on_port(port, size, false);
    return io.read(port, size);
  }
  void port_out(uint16_t port, unsigned size, uint64_t v) {
    if (observer) [[unlikely]] observer->on_port(port, size, true);
    io.write(port, size, v);
  }
  AccessObserver* observer = nullptr;

  // --- machine control -----------------------------------------------
  void request_stop(StopReason r, std::string detail = {}) {
    if (stop_ == StopReason::None) {
      stop_ = r;
      stop_detail_ = std::move(detail);
    }
    check_at = 0;
  }
  // The one way a handler gives up on something vtlab does not model: the
  // machine stops with a one-line reason, never a crash.
  Status unsupported(std::string what) {
    request_stop(StopReason::Unsupported, std::move(what));
    return Status::Stop;
  }
  StopReason stop_requested() const { return stop_; }
  const std::string& stop_detail() const { return stop_detail_; }
  void clear_stop() { stop_ = StopReason::None; stop_detail_.clear(); }

  // --- interrupt shadows (SDM vol. 3, 6.8.3) ----------------------------
  // STI (with IF=0), MOV SS and POP SS hold off maskable interrupts until
  // the instruction after them has run; MOV SS / POP SS hold off debug
  // traps too.  The shadow covers exactly one instruction boundary: the one
  // after the instruction that set it (an event delivered in between ends
  // it, since events move `events`).
  void set_interrupt_shadow(bool blocks_debug) {
    shadow_icount_ = icount + 1;
    shadow_events_ = events;
    shadow_blocks_debug_ = blocks_debug;
    check_at = 0;  // let the engine see the shadow at the next boundary
  }
  bool interrupt_shadow() const { return icount == shadow_icount_ && events == shadow_events_; }
  bool debug_shadow() const { return interrupt_shadow() && shadow_blocks_debug_; }
  // Machine snapshots (core/snapshot.h) save the shadow and put it back.
  void shadow_state(uint64_t& at_icount, uint64_t& at_events, bool& blocks_debug) const {
    at_icount = shadow_icount_;
    at_events = shadow_events_;
    blocks_debug = shadow_blocks_debug_;
  }
  void set_shadow_state(uint64_t at_icount, uint64_t at_events, bool blocks_debug) {
    shadow_icount_ = at_icount;
    shadow_events_ = at_events;
    shadow_blocks_debug_ = blocks_debug;
  }

  // --- debug-register breakpoints (SDM vol. 3, 17.2-17.3) ---------------
  // DR7 enables any of DR0-DR3: the engine then checks instruction
  // breakpoints before each instruction and data accesses record hits here
  // (DR6.B0-B3 bits), which become a #DB trap once the instruction retires.
  bool breakpoints_enabled() const { return s.dr[7] & 0xFF; }
  uint8_t data_breakpoint_hits = 0;
  // DR6.Bn bits of the enabled breakpoints of `kind` (DR7.RWn: 0 execute,
  // 1 write, 3 read/write) that [lin, lin + size) touches.
  uint8_t match_breakpoints(uint64_t lin, unsigned size, bool write, bool execute) const;

  // The events of the last triple fault, oldest first: the event that could
  // not be delivered, then each fault raised while delivering the one
  // before it (the #DF between them is implied by table 6-5); and the two
  // events behind the last #DF that was delivered.  Nothing a fault raised
  // during delivery was committed, so the registers are still those of the
  // first event.  debugger/fault_explain.h puts them in words.
  std::vector<ChainedEvent> shutdown_chain, last_double_fault;
  // The last segment or gate check that refused (privilege/segment_refusal.h).
  SegmentFaultWhy segment_refusal;

  // Called after CR0/CR3/CR4/EFER change: drops what the TLB may not keep.
  void paging_changed(bool keep_global);

 private:
  // The host address of a data access that needs none of the slow path's
  // work, or nullptr.  It vouches only for the common case: a present
  // expand-up data segment (writable for a write) with the access inside
  // its limit (or 64-bit mode, canonical), within one page, with nothing
  // watching accesses, and either paging off with plain RAM behind it or a
  // TLB entry that maps RAM and grants the access outright (host_read /
  // host_write, attached by the slow path).  Anything else returns nullptr
  // and the slow path decides, so the fast path never changes a result.
  // Always inlined: out of line (GCC's choice in some handlers) it cost a
  // call and the run-time `write` and `size` on every access.
  [[gnu::always_inline]] uint8_t* fast_data(unsigned seg, uint64_t offset, unsigned size, bool write) {
    if (memory_checks_armed()) [[unlikely]]
      return nullptr;
    const SegmentCache& sc = s.seg[seg];
    uint64_t lin;
    if ((s.efer & efer::LMA) && (s.seg[CS].attrs & ar::kLong)) {
      lin = (seg >= FS ? sc.base : 0) + offset;
      if (!is_canonical(lin)) return nullptr;  // the page holds the last byte too (checked below)
    } else {
      const uint32_t need = ar::kPresent | (write ? ar::kWritable : 0);
      const uint32_t mask = ar::kPresent | ar::kCode | ar::kExpandDown | (write ? ar::kWritable : 0);
      if ((sc.attrs & mask) != need || offset + size - 1 > sc.limit) return nullptr;
      lin = (sc.base + offset) & 0xFFFFFFFF;
    }
    // Both paths left `lin` at its width (32 bits outside 64-bit mode).
    return host_page(lin, size, write, s.cpl() == 3);
  }
  // The linear half of fast_data, also taken by read_linear/write_linear
  // (the CPU's own table and stack accesses during event delivery): the
  // host address when paging is off and the page is RAM, or when the TLB
  // entry carries one that grants the access; else nullptr.  Mirrors what
  // translate() would do on a hit, so it changes no result.
  [[gnu::always_inline]] uint8_t* host_linear(uint64_t lin, unsigned size, bool write, bool user) {
    if (!(s.efer & efer::LMA)) lin &= 0xFFFFFFFF;
    return host_page(lin, size, write, user);
  }
  // host_linear for a linear address already cut to the width the mode
  // gives it, as fast_data's is.
  [[gnu::always_inline]] uint8_t* host_page(uint64_t lin, unsigned size, bool write, bool user) {
    if ((lin & kPageMask) + size > kPageSize) return nullptr;
    if (!(s.cr0 & cr0::PG)) {
      const uint64_t phys = lin & 0xFFFFFFFF & a20_mask;
      return write ? mem.ram_ptr_for_write(phys, size) : mem.ram_ptr(phys, size);
    }
    const Tlb::Entry* e = tlb.lookup(lin);
    if (!e) return nullptr;
    uint8_t* host = write ? e->host_write : e->host_read;
    if (!host || (!e->user && user)) return nullptr;
    return host + (lin & kPageMask);
  }
  // Something beyond segment and page rights applies to every access, so
  // the fast paths step aside: a watcher, the hole detector's capture, a
  // DR7 breakpoint, or alignment checking (CR0.AM with EFLAGS.AC).
  bool memory_checks_armed() const {
    // One test for the two pointers: this runs on every memory access.
    return (reinterpret_cast<uintptr_t>(observer) | reinterpret_cast<uintptr_t>(write_capture)) ||
           (s.dr[7] & 0xFF) || ((s.cr0 & cr0::AM) && s.flags.test(flag::AC));
  }
  // Arms the TLB entry behind a slow access that succeeded at `phys`.
  void attach_host(uint64_t lin, uint64_t phys);
  static uint64_t load_host(const uint8_t* p, unsigned size) {
    switch (size) {
      case 1: return *p;
      case 2: { uint16_t v; std::memcpy(&v, p, 2); return v; }
      case 4: { uint32_t v; std::memcpy(&v, p, 4); return v; }
      default: { uint64_t v; std::memcpy(&v, p, 8); return v; }
    }
  }
  static void store_host(uint8_t* p, unsigned size, uint64_t v) {
    switch (size) {
      case 1: *p = static_cast<uint8_t>(v); break;
      case 2: { const uint16_t x = static_cast<uint16_t>(v); std::memcpy(p, &x, 2); break; }
      case 4: { const uint32_t x = static_cast<uint32_t>(v); std::memcpy(p, &x, 4); break; }
      default: std::memcpy(p, &v, 8); break;
    }
  }
  Status read_mem_slow(unsigned seg, uint64_t offset, unsigned size, uint64_t& out, Access access);
  Status write_mem_slow(unsigned seg, uint64_t offset, unsigned size, uint64_t value);

  PendingEvent pending_;
  uint64_t shadow_icount_ = ~uint64_t{0}, shadow_events_ = 0;
  bool shadow_blocks_debug_ = false;
  StopReason stop_ = StopReason::None;
  std::string stop_detail_;
};

}  // namespace vtlab
