// The hypercalls of `pv` (docs/HYPERCALLS.md): each validates every
// guest-controlled pointer, length, index and page-table entry before it
// changes anything, and answers a negative errno-style code otherwise.
#include <cstring>

#include "privilege/descriptors.h"
#include "privilege/pv_monitor.h"
#include "privilege/shadow_descriptors.h"

namespace vtlab {

namespace {
constexpr uint32_t kPresent = 0x1, kWritable = 0x2, kLargePage = 0x80;
constexpr uint16_t kDebugExitPort = 0xF4;
}  // namespace

int32_t PvMonitor::call(Cpu& cpu, uint32_t nr, const uint32_t a[5], bool nested, Action& action) {
  switch (nr) {
    case pv::kConsoleWrite: return console_write(cpu, a[0], a[1]);
    case pv::kSetTrapTable: return set_trap_table(cpu, a[0], a[1]);
    case pv::kMmuUpdate: return mmu_update(cpu, a[0], a[1]);
    case pv::kMmuExtOp: return mmu_ext_op(cpu, a[0], a[1]);
    case pv::kSetKernelStack: return set_kernel_stack(a[0], a[1]);
    case pv::kUpdateDescriptor: return update_descriptor(cpu, a[0], a[1], a[2]);
    case pv::kSetTimer: return set_timer(cpu, a[0], a[1]);
    case pv::kBlock:
      // Sleeping halfway through a batch would run the rest late; without
      // a shared-info page no event could ever be let in to wake it.
      if (nested || !paging_.shared_info) return pv::kEINVAL;
      set_shared(cpu, pv::shared::kEventsEnabled, 1);
      if (!timer_pending_ && !(inner_ && inner_->intr_pending())) action = Action::Halt;
      return 0;
    case pv::kYield: return 0;  // the caller looks for events once the call returns
    case pv::kShutdown:
      // Ends the run the way isa-debug-exit does, with the same status.
      cpu.port_out(kDebugExitPort, 4, a[0]);
      return 0;
    case pv::kMulticall:
      if (nested) return pv::kEINVAL;
      return multicall(cpu, a[0], a[1], action);
    case pv::kSetSharedInfo: return set_shared_info(cpu, a[0]);
    default: return pv::kENOSYS;
  }
}

int32_t PvMonitor::console_write(Cpu& cpu, uint32_t ptr, uint32_t len) {
  if (len > pv::kMaxConsoleWrite) return pv::kE2BIG;
  char buf[pv::kMaxConsoleWrite];
  if (!read_guest(cpu, ptr, buf, len)) return pv::kEFAULT;
  for (uint32_t i = 0; i < len; ++i)
    if (console_) console_(static_cast<uint8_t>(buf[i]));
  return static_cast<int32_t>(len);
}

int32_t PvMonitor::set_trap_table(Cpu& cpu, uint32_t ptr, uint32_t count) {
  if (count > 256) return pv::kE2BIG;
  std::vector<pv::TrapInfo> table(count);
  if (!read_guest(cpu, ptr, table.data(), count * sizeof(pv::TrapInfo))) return pv::kEFAULT;
  for (const pv::TrapInfo& t : table)
    if (t.cs != pv::kKernelCs || (t.flags & ~(pv::kTrapDplMask | pv::kTrapClearsIf))) return pv::kEINVAL;
  for (const pv::TrapInfo& t : table) traps_[t.vector] = Trap{t.address != 0, t.flags, t.address};
  install_fast_trap();
  return 0;
}

int32_t PvMonitor::mmu_update(Cpu& cpu, uint32_t ptr, uint32_t count) {
  if (count > pv::kMaxBatch) return pv::kE2BIG;
  for (uint32_t i = 0; i < count; ++i) {
    pv::MmuUpdate u;
    if (!read_guest(cpu, ptr + i * sizeof u, &u, sizeof u)) return pv::kEFAULT;
    if (const int32_t r = update_one(cpu, u.ptr, u.val); r < 0) return r;  // the entries before it stay
  }
  return static_cast<int32_t>(count);
}

int32_t PvMonitor::update_one(Cpu& cpu, uint32_t entry_addr, uint32_t val) {
  if (entry_addr & 3) return pv::kEINVAL;
  const uint64_t table = entry_addr & ~kPageMask;
  const auto it = pinned_.find(table);
  if (it == pinned_.end()) return pv::kEINVAL;  // not a page table: the guest writes its own memory itself
  if (const int32_t r = check_entry(cpu, val, it->second, table); r < 0) return r;
  count_entry(static_cast<uint32_t>(cpu.mem.read(entry_addr, 4)), it->second, -1);
  count_entry(val, it->second, +1);
  cpu.mem.write(entry_addr, 4, val);
  ++mmu_entries_;
  cpu.tlb.flush_all();  // the entry may be cached under any linear address that reaches it
  return 0;
}

int32_t PvMonitor::check_entry(Cpu&, uint32_t val, Level level, uint64_t table_frame) const {
  if (!(val & kPresent)) return 0;
  const uint64_t frame = val & ~kPageMask;
  if (level == Level::L2) {
    if (val & kLargePage) return pv::kEINVAL;  // 4 MiB pages would map tables and monitor memory wholesale
    const auto it = pinned_.find(frame);
    return it != pinned_.end() && it->second == Level::L1 ? 0 : pv::kEINVAL;
  }
  if (!guest_frame(frame) && !pv_virtio_frame(frame)) return pv::kEPERM;  // the monitor's memory, or no RAM
  if ((val & kWritable) && (frame == table_frame || pinned_frames_.count(frame))) return pv::kEPERM;
  return 0;
}

bool PvMonitor::mapped_writable(uint64_t frame) const { return writable_refs_.count(frame) != 0; }

void PvMonitor::count_entry(uint32_t e, Level level, int delta) {
  if (!(e & kPresent) || (level == Level::L1 && !(e & kWritable))) return;
  auto& refs = level == Level::L1 ? writable_refs_ : directory_refs_;
  const uint64_t frame = e & ~kPageMask;
  if ((refs[frame] += delta) == 0) refs.erase(frame);
}

void PvMonitor::count_entries(Cpu& cpu, uint64_t table, Level level, int delta) {
  for (unsigned i = 0; i < 1024; ++i) count_entry(static_cast<uint32_t>(cpu.mem.read(table + i * 4, 4)), level, delta);
}

int32_t PvMonitor::mmu_ext_op(Cpu& cpu, uint32_t ptr, uint32_t count) {
  if (count > pv::kMaxBatch) return pv::kE2BIG;
  for (uint32_t i = 0; i < count; ++i) {
    pv::MmuExtOp op;
    if (!read_guest(cpu, ptr + i * sizeof op, &op, sizeof op)) return pv::kEFAULT;
    int32_t r;
    switch (op.cmd) {
      case pv::kPinL1: r = pin(cpu, op.arg, Level::L1); break;
      case pv::kPinL2: r = pin(cpu, op.arg, Level::L2); break;
      case pv::kUnpin: r = unpin(cpu, op.arg); break;
      case pv::kNewBaseptr: r = new_baseptr(cpu, op.arg); break;
      case pv::kInvlpg: cpu.tlb.flush_page(op.arg); r = 0; break;
      case pv::kTlbFlush: cpu.tlb.flush_all(); r = 0; break;
      default: r = pv::kEINVAL; break;
    }
    if (r < 0) return r;
  }
  return static_cast<int32_t>(count);
}

// A page becomes a table once every entry in it passes check_entry and no
// pinned table maps it writable; from then on only update_one changes it.
int32_t PvMonitor::pin(Cpu& cpu, uint64_t frame, Level level) {
  if (frame & kPageMask) return pv::kEINVAL;
  if (!guest_frame(frame)) return pv::kEPERM;
  if (pinned_.count(frame)) return pv::kEINVAL;
  for (unsigned i = 0; i < 1024; ++i)
    if (const int32_t r = check_entry(cpu, static_cast<uint32_t>(cpu.mem.read(frame + i * 4, 4)), level, frame);
        r < 0)
      return r;
  if (mapped_writable(frame)) return pv::kEPERM;
  count_entries(cpu, frame, level, +1);
  pinned_.emplace(frame, level);
  pinned_frames_.insert(frame);
  cpu.tlb.flush_all();  // before its first base pointer the guest saw the page writable
  return 0;
}

int32_t PvMonitor::unpin(Cpu& cpu, uint64_t frame) {
  const auto it = pinned_.find(frame);
  if (it == pinned_.end()) return pv::kEINVAL;
  if (it->second == Level::L2 && paging_.paging && paging_.cr3 == frame) return pv::kEBUSY;
  if (it->second == Level::L1 && directory_refs_.count(frame)) return pv::kEBUSY;
  count_entries(cpu, frame, it->second, -1);
  pinned_.erase(it);
  pinned_frames_.erase(frame);
  return 0;
}

int32_t PvMonitor::new_baseptr(Cpu& cpu, uint64_t frame) {
  const auto it = pinned_.find(frame);
  if (it == pinned_.end() || it->second != Level::L2) return pv::kEINVAL;
  paging_.cr3 = frame;
  paging_.paging = true;
  cpu.tlb.flush_all();
  return 0;
}

int32_t PvMonitor::set_kernel_stack(uint32_t ss, uint32_t esp) {
  if (!tables_) return pv::kEINVAL;
  if (ss != pv::kKernelDs) return pv::kEINVAL;
  kstack_ss_ = static_cast<uint16_t>(ss);
  kstack_esp_ = esp;
  kstack_set_ = true;
  // The real TSS's ring-1 stack: where the CPU itself switches for the fast trap.
  std::memcpy(tables_ + window::kTss + 4 + 8, &esp, 4);
  std::memcpy(tables_ + window::kTss + 8 + 8, &ss, 4);
  return 0;
}

// Code and data segments of DPL 1 to 3 only: a DPL 0 segment, a TSS, an
// LDT or a gate would let the guest past ring 1.
int32_t PvMonitor::update_descriptor(Cpu&, uint32_t index, uint32_t lo, uint32_t hi) {
  if (index == pv::kKernelCs >> 3 || index == pv::kKernelDs >> 3 || index == pv::kTssEntry) return pv::kEPERM;
  if (index < pv::kFirstGuestEntry || index > pv::kLastGuestEntry) return pv::kEINVAL;
  const Descriptor d{lo, hi, 0, 0};
  if (d.present() && (!d.s() || d.dpl() == 0)) return pv::kEPERM;
  std::memcpy(tables_ + window::kGdt + index * 8, &lo, 4);
  std::memcpy(tables_ + window::kGdt + index * 8 + 4, &hi, 4);
  return 0;
}

int32_t PvMonitor::set_timer(Cpu& cpu, uint32_t period_ns, uint32_t vector) {
  if (period_ns == 0) {
    timer_period_ = 0;
    timer_pending_ = false;
    cpu.clock.disarm(timer_);
    return 0;
  }
  if (vector < 32 || vector > 255 || period_ns < kMinTimerPeriod) return pv::kEINVAL;
  timer_period_ = period_ns;
  timer_vector_ = static_cast<uint8_t>(vector);
  timer_next_ = cpu.virtual_time() + period_ns;
  cpu.clock.arm(timer_, timer_next_);
  return 0;
}

int32_t PvMonitor::multicall(Cpu& cpu, uint32_t ptr, uint32_t count, Action& action) {
  if (count > pv::kMaxMulticall) return pv::kE2BIG;
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t at = ptr + i * sizeof(pv::MulticallEntry);
    pv::MulticallEntry e;
    if (!read_guest(cpu, at, &e, sizeof e)) return pv::kEFAULT;
    e.result = call(cpu, e.op, e.args, true, action);
    ++multicall_entries_;
    if (!write_guest(cpu, at + offsetof(pv::MulticallEntry, result), &e.result, sizeof e.result)) return pv::kEFAULT;
  }
  return 0;
}

int32_t PvMonitor::set_shared_info(Cpu&, uint32_t addr) {
  if (addr == 0 || (addr & kPageMask)) return pv::kEINVAL;
  if (!guest_frame(addr) || pinned_frames_.count(addr)) return pv::kEPERM;
  paging_.shared_info = addr;
  return 0;
}

}  // namespace vtlab
