#include "core/interpreter.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "core/isa/fusion.h"
#include "core/isa/registry.h"
#include "privilege/interrupts.h"

namespace vtlab {

namespace {
// The record after a block's last instruction (Block::insns): reaching it
// ends run_block's loop without a bounds test per instruction.
Status end_of_block(Cpu&, const DecodedInsn&) { return Status::Stop; }
// Whether an instruction with these InsnInfo flags, having run, leaves the
// code context (CS, CPL, mode) as it was: it ends no block, or is a near
// branch.
bool keeps_context(uint8_t info) { return !(info & isa::info::kEndsBlock) || (info & isa::info::kNearBranch); }
}  // namespace

Interpreter::Interpreter(Cpu& cpu) : cpu_(cpu) {
  cpu_.mem.set_code_write_hook([this](uint64_t paddr, uint64_t len) {
    const uint64_t before = cache_.invalidations();
    const bool still_code = cache_.invalidate_range(paddr, len);
    if (cache_.invalidations() != before) cpu_.check_at = 0;  // the running block may be gone
    return still_code;
  });
}

// Everything that happens between instructions rather than in them:
// freeing dropped blocks, stop requests, the budget, device timers, and
// taking a maskable interrupt (SDM vol. 3, 6.8.1: only with IF=1 and no
// STI / MOV SS shadow).  A halted CPU sleeps here until one arrives.
StopReason Interpreter::pre_check(uint64_t end) {
  for (;;) {
    cache_.collect();
    if (cpu_.stop_requested() != StopReason::None) return cpu_.stop_requested();
    if (cpu_.virtual_time() >= end) return StopReason::BudgetExhausted;
    if (cpu_.clock.next_deadline() <= cpu_.virtual_time()) cpu_.clock.run_due();
    // Delivery moves virtual time: look again.
    if (cpu_.intr_maybe_pending && cpu_.s.flags.test(flag::IF) && take_interrupt()) continue;
    if (!halted_) return StopReason::None;
    if (StopReason r = idle(end); r != StopReason::None) return r;
  }
}

// Called with EFLAGS.IF=1 after a device reported a change.
bool Interpreter::take_interrupt() {
  CpuState& s = cpu_.s;
  if (!cpu_.intc || cpu_.interrupt_shadow()) return false;
  if (!cpu_.intc->intr_pending()) {
    cpu_.intr_maybe_pending = false;  // until a device says otherwise
    return false;
  }
  // intr_maybe_pending stays set: another interrupt may wait behind this one.
  const PendingEvent ev{PendingEvent::Kind::External, cpu_.intc->acknowledge(), false, 0};
  halted_ = false;  // HLT has retired: the handler returns after it
  deliver(ev, s.rip);
  return true;
}

// HLT: sleep until the next timer deadline, skipping the virtual time in
// between (no busy loop on the host).  With interrupts disabled, or with no
// timer armed, nothing can ever wake the CPU: say so and stop.
StopReason Interpreter::idle(uint64_t end) {
  if (!cpu_.s.flags.test(flag::IF)) {
    cpu_.request_stop(StopReason::Halted, "HLT with interrupts disabled");
    return StopReason::Halted;
  }
  const uint64_t wake = cpu_.clock.next_deadline();
  if (wake == VirtualClock::kNever) {
    cpu_.request_stop(StopReason::Halted, "HLT with interrupts enabled, but no timer is armed to wake it");
    return StopReason::Halted;
  }
  cpu_.idle += std::min(wake, end) - cpu_.virtual_time();
  return StopReason::None;
}

// The budget is virtual time: instructions retired plus events delivered
// plus time slept, so a guest that faults on every instruction still runs
// out of it.  Each pass runs at most up to the budget or the next timer
// deadline, whichever comes first.  With EFLAGS.TF set, DR7 enabling a
// breakpoint, or EFLAGS.RF set, a pass runs one instruction between the
// debug checks of SDM vol. 3, 17.3.
StopReason Interpreter::run(uint64_t max_insns) {
  const uint64_t now = cpu_.virtual_time();
  uint64_t end = max_insns > ~uint64_t{0} - now ? ~uint64_t{0} : now + max_insns;
  // Device timers compute deadlines as virtual time plus a period; keeping
  // time far below 2^64 keeps that arithmetic exact (a guest that sleeps in
  // HLT on a long timer could otherwise push time to the wrap).
  const bool at_limit = end > kVirtualTimeLimit;
  if (at_limit) end = kVirtualTimeLimit;
  CpuState& s = cpu_.s;
  stopped_at_point_ = false;
  run_start_icount_ = cpu_.icount;
  run_start_time_ = now;
  for (;;) {
    if (stopped_at_point_) return StopReason::BudgetExhausted;
    if (StopReason r = pre_check(end); r != StopReason::None) {
      if (r == StopReason::BudgetExhausted && at_limit) {
        cpu_.request_stop(StopReason::Unsupported,
                          "virtual time reached 2^62 ns (146 years of guest time), where vtlab stops");
        return StopReason::Unsupported;
      }
      return r;
    }
    const uint64_t vt = cpu_.virtual_time();
    const uint64_t until = std::min(end, cpu_.clock.next_deadline());
    cpu_.check_at = cpu_.icount + (until - vt);
    // Single-step, debug breakpoints and RF act per instruction: run one.
    const bool single_step = s.flags.test(flag::TF);
    const bool debugging = single_step || cpu_.breakpoints_enabled() || s.flags.test(flag::RF);
    if (debugging || cpu_.interrupt_shadow()) cpu_.check_at = cpu_.icount + 1;
    if (!debugging) {
      run_blocks();
      continue;
    }
    if (instruction_breakpoint()) continue;
    const bool resume = s.flags.test(flag::RF);
    const uint64_t icount = cpu_.icount, events = cpu_.events;
    cpu_.data_breakpoint_hits = 0;
    if (const Block* b = fetch_block()) {
      if (stops_before(*b)) {
        stopped_at_point_ = true;
        continue;
      }
      run_block(*b);
    }
    // Traps follow an instruction that completed without an event of its
    // own (a fault, or INT n, which clears TF on the way in).
    if (cpu_.icount != icount + 1 || cpu_.events != events || cpu_.stop_requested() != StopReason::None) continue;
    // RF lasts one instruction (an IRET that loads it is not that one).
    if (resume) s.flags.set(flag::RF, false);
    // MOV SS / POP SS hold their debug traps until the next instruction
    // has run (SDM 6.8.3): its data-breakpoint hits wait, its single step
    // is simply the next instruction's.
    if (cpu_.debug_shadow()) {
      held_data_hits_ |= cpu_.data_breakpoint_hits;
      continue;
    }
    const uint64_t hits = cpu_.data_breakpoint_hits | held_data_hits_;
    held_data_hits_ = 0;
    if (single_step || hits) debug_trap((single_step ? kDr6SingleStep : 0) | hits);
  }
}

// An enabled execute breakpoint at CS:EIP is a fault before the
// instruction runs, unless EFLAGS.RF says the handler already saw it.
bool Interpreter::instruction_breakpoint() {
  CpuState& s = cpu_.s;
  if (s.flags.test(flag::RF)) return false;
  const uint8_t hits = cpu_.match_breakpoints(cpu_.linear(CS, s.rip), 1, false, true);
  if (!hits) return false;
  s.dr[6] = (s.dr[6] & ~uint64_t{0xF}) | hits;
  halted_ = false;
  deliver(PendingEvent{PendingEvent::Kind::Fault, vec::DB, false, 0}, s.rip);
  return true;
}

// Single-step (DR6.BS) and data breakpoints (DR6.Bn) after the same
// instruction arrive as one #DB trap.
void Interpreter::debug_trap(uint64_t dr6_bits) {
  uint64_t& dr6 = cpu_.s.dr[6];
  if (dr6_bits & 0xF) dr6 &= ~uint64_t{0xF};
  dr6 |= dr6_bits;
  halted_ = false;
  deliver(PendingEvent{PendingEvent::Kind::Trap, vec::DB, false, 0}, cpu_.s.rip);
}

// Between two blocks nothing needs pre_check while virtual time is short
// of check_at (stop requests, code writes, new timer deadlines and
// interrupt requests all reset it), no event was delivered and nothing but
// instructions moved virtual time (an exit's modelled cost, charged even
// without an event, moves it past what check_at assumed), the CPU is not
// halted, no flag asks for per-instruction checks, and no interrupt is
// waiting for IF.
void Interpreter::run_blocks() {
  const CpuState& s = cpu_.s;
  const uint64_t deliveries = deliveries_, other_time = cpu_.virtual_time() - cpu_.icount;
  context_ = code_context();  // the debugger or an event may have changed it
  for (;;) {
    const Block* b = chained_block();
    if (!b) {
      b = fetch_block();
      if (!b) {
        previous_ = nullptr;
        return;
      }
      link_from_previous(b);
    }
    if (stops_before(*b)) [[unlikely]] {
      stopped_at_point_ = true;
      return;
    }
    // The epoch from before the block ran: if running it drops any block
    // (itself included, by writing its own code), it is no link.
    const uint64_t epoch = cache_.epoch();
    const bool same_context = run_block(*b);
    previous_ = b == uncached_.get() ? nullptr : b;
    previous_epoch_ = epoch;
    if (cpu_.icount >= cpu_.check_at || deliveries_ != deliveries || halted_ ||
        cpu_.virtual_time() - cpu_.icount != other_time ||
        s.flags.test(flag::TF | flag::RF) || cpu_.breakpoints_enabled() ||
        (cpu_.intr_maybe_pending && s.flags.test(flag::IF)))
      return;
    if (!same_context) context_ = code_context();
  }
}

CodeContext Interpreter::code_context() const {
  const CpuState& s = cpu_.s;
  return CodeContext{s.seg[CS].base, uint64_t{s.seg[CS].limit} | uint64_t{s.code_size()} << 32 |
                                         uint64_t{s.cpl()} << 40};
}

// The block that followed the previous one last time from this RIP, if
// nothing it depended on can have changed: no block dropped since (the
// pointers are alive and the bytes unchanged), no TLB entry flushed (the
// linear-to-physical mapping holds), and the same code context.
const Block* Interpreter::chained_block() const {
  if (!previous_ || cache_.epoch() != previous_epoch_) return nullptr;
  const uint64_t rip = cpu_.s.rip, generation = cpu_.tlb.generation();
  for (const Block::Link& l : previous_->next) {
    if (l.block && l.rip == rip && l.epoch == previous_epoch_ && l.tlb_generation == generation &&
        l.context == context_) {
      ++chained_;
      return l.block;
    }
  }
  return nullptr;
}

void Interpreter::link_from_previous(const Block* b) {
  if (!previous_ || cache_.epoch() != previous_epoch_ || b == uncached_.get()) return;
  Block::Link& l = previous_->next[previous_->next_victim];
  previous_->next_victim ^= 1;
  l = Block::Link{b, cpu_.s.rip, cache_.epoch(), cpu_.tlb.generation(), context_};
}

void Interpreter::set_stop_points(std::unordered_set<uint64_t> linear, std::unordered_set<uint64_t> physical) {
  if (linear == stop_linear_ && physical == stop_physical_) return;
  stop_linear_ = std::move(linear);
  stop_physical_ = std::move(physical);
  cache_.flush();
  previous_ = nullptr;
}

StopReason Interpreter::step() {
  StopReason r = run(1);
  return r == StopReason::BudgetExhausted ? StopReason::None : r;
}

bool Interpreter::run_block(const Block& b) {
  return cpu_.s.rip + b.bytes <= all_ones(b.mode) ? run_block_as<false>(b) : run_block_as<true>(b);
}

template <bool kWraps> bool Interpreter::run_block_as(const Block& b) {
  Cpu& cpu = cpu_;  // a local: the handlers' calls need not reload it
  CpuState& s = cpu.s;
  const uint64_t ip_mask = all_ones(b.mode);
  const uint64_t start = s.rip, generation = cpu.tlb.generation(), deliveries = deliveries_;
  const uint64_t other_time = cpu.virtual_time() - cpu.icount;
  const DecodedInsn* const first = b.insns.data();
  const DecodedInsn* const sentinel = first + b.insns.size() - 1;  // end_of_block
  // Whether the block may go round again as a loop (below), as far as the
  // block and the engine's set-up decide.
  const bool loopable = b.phys != ~uint64_t{0} && !cpu.translation_hook && !b.stop_point;
  // Where the instruction at p ends: RIP lives in a register between
  // handlers and, on the straight path, is never reloaded from memory.
  const DecodedInsn* p = first;
  uint64_t straight = start + p->len;
  for (;;) {
    cpu.next_rip = kWraps ? straight & ip_mask : straight;
    const Status st = p->exec(cpu, *p);
    if (st == Status::Ok) [[likely]] {
      const uint64_t next = cpu.next_rip;
      s.rip = next;
      // A fused pair (core/isa/fusion.h) counts its first instruction itself.
      const uint64_t retired = ++cpu.icount;
      // A taken branch, a restarted REP, or IP wrapping at the top of a
      // 16-bit segment leaves the straight line of bytes the block holds.
      // One branch for both tests (`&`): two (`&&`) made bench int 7 %
      // slower though they save two host instructions.
      if ((next == straight) & (retired < cpu.check_at)) [[likely]] {
        straight += (++p)->len;
        continue;
      }
      const uint8_t info = p->info;
      const bool same_context = keeps_context(info);
      // A loop that is this one block goes round again without leaving,
      // under the conditions run_blocks checks between blocks, plus an
      // unchanged mapping (the chain's TLB condition).  Not under a monitor
      // that answers TLB misses (shadow or nested paging): there the
      // modelled unified TLB's code-entry evictions are charged per block
      // entry, and those counts must not depend on how fast vtlab is.
      if (next == start && (info & isa::info::kNearBranch) && loopable && retired < cpu.check_at &&
          deliveries_ == deliveries && cpu.virtual_time() - retired == other_time &&
          cpu.tlb.generation() == generation && !s.flags.test(flag::TF | flag::RF) && !cpu.breakpoints_enabled() &&
          !(cpu.intr_maybe_pending && s.flags.test(flag::IF))) {
        ++chained_;
        p = first;
        straight = start + p->len;
        continue;
      }
      return same_context;
    }
    if (p == sentinel) return keeps_context(p[-1].info);
    switch (st) {
      case Status::Exception:
        if (cpu.pending().kind == PendingEvent::Kind::Sensitive) {
          // The monitor ran a marked instruction in place (Monitor::on_block):
          // if it went straight on, so does the block.
          deliver_pending();
          if (s.rip == straight && !halted_ && cpu.icount < cpu.check_at) {
            straight += (++p)->len;
            continue;
          }
          return false;
        }
        deliver_pending();
        break;
      case Status::Halt:
        s.rip = cpu.next_rip;
        ++cpu.icount;
        halted_ = true;
        break;
      default:  // Stop: the handler already said why
        break;
    }
    return false;
  }
}

bool Interpreter::deliver(const PendingEvent& ev, uint64_t return_rip) {
  ++deliveries_;
  if (monitor_) {
    const uint64_t before = cpu_.virtual_time();
    const Monitor::Action action = monitor_->on_event(cpu_, ev, return_rip);
    if (action != Monitor::Action::Deliver) {
      if (action == Monitor::Action::Halt) halted_ = true;
      // A handled event that cost no virtual time (a zero-cost exit that
      // retired nothing) still takes one unit: no monitor can stall time.
      if (cpu_.virtual_time() == before) ++cpu_.events;
      return true;
    }
  }
  const bool delivered = deliver_event(cpu_, ev, return_rip);
  ++cpu_.events;
  return delivered;
}

void Interpreter::deliver_pending() {
  const PendingEvent ev = cpu_.pending();  // a copy: delivery may raise anew
  const bool at_insn = ev.kind == PendingEvent::Kind::Fault || ev.kind == PendingEvent::Kind::Sensitive;
  const uint64_t ret = at_insn ? cpu_.s.rip : cpu_.next_rip;
  const bool delivered = deliver(ev, ret);
  // A trap follows an instruction that completed; INT n completes only if
  // its own delivery succeeds (a fault while delivering it returns to it).
  if (ev.kind == PendingEvent::Kind::Trap || (ev.kind == PendingEvent::Kind::SoftwareInt && delivered))
    ++cpu_.icount;
}

const Block* Interpreter::fetch_block() {
  CpuState& s = cpu_.s;
  const unsigned mode = s.code_size();
  Status st = Status::Ok;
  // Fetching beyond the CS limit, or in 64-bit mode from a non-canonical
  // RIP (sequential execution can walk off the lower half), is #GP(0).
  if (mode == 8 ? !is_canonical(s.rip) : s.rip > s.seg[CS].limit) {
    st = cpu_.raise(vec::GP, 0);
  }
  uint64_t phys = 0;
  const uint64_t lin = cpu_.linear(CS, s.rip);
  if (st == Status::Ok) st = cpu_.translate(lin, Access::Execute, s.cpl() == 3, phys);
  if (st == Status::Ok) {
    // A cached block was decoded under some CS; under a smaller limit its
    // tail may lie beyond this one's: decode afresh, stopping at the limit.
    const unsigned flavor = (translated_rings_ >> s.cpl()) & 1;
    const Block* hit = cache_.find(phys, mode, flavor);
    const bool within_limit = mode == 8 || (hit && s.rip + hit->bytes - 1 <= s.seg[CS].limit);
    if (hit && within_limit) return hit;
    if (!hit) cache_.count_miss();
    std::unique_ptr<Block> b = build_block(lin, phys, mode, flavor, st);
    if (b) {
      b->flavor = flavor;
      if (monitor_) monitor_->on_block(cpu_, lin, b->phys, b->insns);
      isa::fuse_pairs(b->insns, s.rip, all_ones(mode));
      DecodedInsn end;
      end.exec = &end_of_block;
      b->insns.push_back(end);
    }
    if (b) {
      const bool cacheable = !hit && b->phys != ~uint64_t{0} &&
                             (cpu_.mem.kind(phys) == PhysicalMemory::Kind::Ram ||
                              cpu_.mem.kind(phys) == PhysicalMemory::Kind::Rom);
      if (cacheable) {
        if (!cpu_.mem.is_code_page(phys)) {
          cpu_.mem.mark_code_page(phys);
          cpu_.tlb.revoke_host_writes(phys & ~kPageMask);
        }
        return cache_.insert(std::move(b));
      }
      uncached_ = std::move(b);
      return uncached_.get();
    }
  }
  if (st == Status::Exception) deliver_pending();
  return nullptr;
}

std::unique_ptr<Block> Interpreter::build_block(uint64_t lin, uint64_t phys, unsigned mode, unsigned flavor,
                                                Status& st) {
  CpuState& s = cpu_.s;
  auto b = std::make_unique<Block>();
  b->phys = phys;
  b->mode = mode;

  // This page's bytes from `phys` on, plus room for an instruction that
  // straddles into the next page.
  uint8_t buf[kPageSize + 16];
  size_t in_page = kPageSize - (phys & kPageMask);
  if (const uint8_t* p = cpu_.mem.ram_ptr(phys, in_page)) {
    std::memcpy(buf, p, in_page);
  } else if (cpu_.mem.kind(phys) == PhysicalMemory::Kind::Rom) {
    cpu_.mem.read_bytes(phys, buf, in_page);
  } else {
    // Code in MMIO or a hole: fetch one instruction's worth (device reads
    // may have side effects) into a block that is never cached.
    in_page = std::min<size_t>(in_page, 15);
    for (size_t i = 0; i < in_page; ++i) buf[i] = static_cast<uint8_t>(cpu_.mem.read(phys + i, 1));
    b->phys = ~uint64_t{0};
  }

  const uint64_t ip_mask = all_ones(mode);
  size_t off = 0;
  while (b->insns.size() < BlockCache::kMaxInsns && off < in_page) {
    DecodedInsn d;
    size_t avail = in_page - off;
    DecodeStatus ds = decoder_.decode(buf + off, avail, mode, d);
    if (ds == DecodeStatus::NeedMore) {
      if (!b->insns.empty()) break;
      // The instruction runs into the next page: fetch that too (it may
      // fault), and do not cache a block that depends on two pages.
      uint64_t phys2;
      st = cpu_.translate(lin + avail, Access::Execute, s.cpl() == 3, phys2);
      if (st != Status::Ok) return nullptr;
      for (size_t i = 0; i < 15; ++i) buf[in_page + i] = static_cast<uint8_t>(cpu_.mem.read(phys2 + i, 1));
      avail += 15;
      ds = decoder_.decode(buf + off, avail, mode, d);
      b->phys = ~uint64_t{0};
    }
    if (ds != DecodeStatus::Ok) {
      if (!b->insns.empty()) break;
      if (ds == DecodeStatus::Unsupported) {
        cpu_.request_stop(StopReason::Unsupported,
                          fmt::format("unsupported instruction at {:04x}:{:08x}: {}", s.seg[CS].selector, s.rip,
                                      Decoder::format(buf + off, avail, mode, s.rip)));
        st = Status::Stop;
      } else {
        st = cpu_.raise(vec::UD);
      }
      return nullptr;
    }
    const uint64_t ip = (s.rip + off) & ip_mask;
    if (mode != 8 && ip + d.len - 1 > s.seg[CS].limit) {
      if (!b->insns.empty()) break;
      st = cpu_.raise(vec::GP, 0);
      return nullptr;
    }
    if (!stop_linear_.empty() || !stop_physical_.empty()) [[unlikely]] {
      if (is_stop_point(cpu_.linear(CS, ip), phys + off)) {
        if (!b->insns.empty()) break;  // the point starts a block of its own
        b->stop_point = true;
      }
    }
    b->insns.push_back(d);
    off += d.len;
    b->bytes = static_cast<unsigned>(off);
    // IP wraps at the top of a 16-bit segment: the next instruction is
    // not the next byte.
    // A Jcc ends the block only when taken (run_block leaves at a branch),
    // so decoding goes on along its not-taken path.  Not under a monitor:
    // a binary translator counts (and charges) a translation per block, and
    // shadow or nested paging charge TLB misses at block entries, counts
    // that must not depend on how fast vtlab is.
    const bool superblock = flavor == 0 && !cpu_.translation_hook && !monitor_;
    const bool ends = (d.info & isa::info::kEndsBlock) && !(superblock && (d.info & isa::info::kConditional));
    if (ends || b->phys == ~uint64_t{0} || ip + d.len > ip_mask) break;
  }
  return b;
}

}  // namespace vtlab
