// `pv`: paravirtualization.  The guest kernel knows it runs at ring 1 under
// a monitor and calls it (hypercalls, privilege/pv_abi.h,
// docs/HYPERCALLS.md) instead of executing privileged instructions:
//
//   - paging is direct: the real CPU walks the guest's own page tables
//     (PvPaging), which the guest changes only through validated MMU
//     updates, so there is no shadow and no hidden page fault;
//   - the monitor owns the real GDT (two ring-1 segments of its own, the
//     rest validated guest descriptors), kept with its other tables in
//     monitor-private memory behind the linear window of
//     privilege/shadow_descriptors.h;
//   - events (exceptions, INT n, the virtual timer) go through the guest's
//     trap table, delivered by the monitor as an interrupt gate would;
//     the virtual IF is a word in the shared-info page, so CLI and STI are
//     plain memory writes;
//   - a privileged instruction in the guest kernel stops the run: this is
//     not trap-and-emulate.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>
#include <string>

#include "core/decoder.h"
#include "core/interrupt_controller.h"
#include "devices/virtio_slots.h"
#include "privilege/monitor.h"
#include "privilege/pv_abi.h"

namespace vtlab {

// The page holding the virtio-mmio slots (docs/VIRTIO.md): the one page
// outside guest RAM a PV guest may map, so that its own drivers reach the
// devices (docs/HYPERCALLS.md, "The page-table rules").
inline bool pv_virtio_frame(uint64_t frame) { return frame == (VirtioDevices::kBase & ~kPageMask); }

// Direct paging: TLB misses walk the guest's tables (pv::PvMonitor keeps
// them safe), and the window at the top of the linear space serves the
// monitor's tables to the CPU's implicit accesses only.
class PvPaging final : public TranslationHook {
 public:
  Status translate(Cpu& cpu, uint64_t lin, Access access, bool user, bool system, uint64_t& phys) override;
  void guest_paging(const Cpu& cpu, uint64_t& cr0, uint64_t& cr3, uint64_t& cr4) const override;

  bool paging = false;        // the guest installed a base pointer
  uint64_t cr3 = 0;           // its page directory (guest-physical)
  uint64_t monitor_base = 0;  // guest-physical memory from here up is not the guest's
  uint64_t shared_info = 0;   // 0: none yet
  const std::set<uint64_t>* pinned = nullptr;  // page frames pinned as tables: never writable before paging
  uint64_t fault_lin = 0;     // the address of the last page fault raised here
};

class PvMonitor final : public Monitor, public InterruptController {
 public:
  // `console`: where kConsoleWrite's bytes go (the machine's serial transcript).
  explicit PvMonitor(std::function<void(uint8_t)> console) : console_(std::move(console)) {}
  // A guest must not flood the machine with timer events.
  static constexpr uint32_t kMinTimerPeriod = 1000;

  std::string_view name() const override { return "pv"; }
  void begin(Cpu& cpu) override;
  Action on_event(Cpu& cpu, const PendingEvent& ev, uint64_t return_rip) override;
  std::vector<std::pair<std::string, uint64_t>> counters() const override;

  bool intr_pending() override;
  uint8_t acknowledge() override;

  // Hypercall names for --stats keys ("console-write", ...), "" if none.
  static std::string_view hypercall_name(uint32_t nr);

 private:
  struct Trap {
    bool present = false;
    uint8_t flags = 0;
    uint32_t address = 0;
  };
  enum class Level : uint8_t { L1, L2 };

  // pv_monitor.cpp: events.
  Action hypercall(Cpu& cpu, uint64_t return_rip);
  bool deliver(Cpu& cpu, uint8_t vector, bool has_error, uint32_t error, uint64_t return_rip);
  void not_paravirtualized(Cpu& cpu, const PendingEvent& ev);
  bool events_enabled(Cpu& cpu) const;
  // The real IDT gate for pv::kFastTrapVector, after the trap table changed.
  void install_fast_trap();
  void set_shared(Cpu& cpu, uint32_t offset, uint32_t value);

  // pv_hypercalls.cpp: one hypercall, and the checks they share.
  int32_t call(Cpu& cpu, uint32_t nr, const uint32_t a[5], bool nested, Action& action);
  int32_t console_write(Cpu& cpu, uint32_t ptr, uint32_t len);
  int32_t set_trap_table(Cpu& cpu, uint32_t ptr, uint32_t count);
  int32_t mmu_update(Cpu& cpu, uint32_t ptr, uint32_t count);
  int32_t mmu_ext_op(Cpu& cpu, uint32_t ptr, uint32_t count);
  int32_t update_one(Cpu& cpu, uint32_t entry_addr, uint32_t val);
  int32_t pin(Cpu& cpu, uint64_t frame, Level level);
  int32_t unpin(Cpu& cpu, uint64_t frame);
  int32_t new_baseptr(Cpu& cpu, uint64_t frame);
  int32_t set_kernel_stack(uint32_t ss, uint32_t esp);
  int32_t update_descriptor(Cpu& cpu, uint32_t index, uint32_t lo, uint32_t hi);
  int32_t set_timer(Cpu& cpu, uint32_t period_ns, uint32_t vector);
  int32_t multicall(Cpu& cpu, uint32_t ptr, uint32_t count, Action& action);
  int32_t set_shared_info(Cpu& cpu, uint32_t addr);
  // An entry a page table may hold: `level`'s rules (docs/HYPERCALLS.md).
  int32_t check_entry(Cpu& cpu, uint32_t val, Level level, uint64_t table_frame) const;
  bool guest_frame(uint64_t frame) const { return frame + kPageSize <= paging_.monitor_base; }
  bool mapped_writable(uint64_t frame) const;
  // Adds `delta` to the reference counts below for one entry of a pinned
  // table of `level`, or for all of them.
  void count_entry(uint32_t entry, Level level, int delta);
  void count_entries(Cpu& cpu, uint64_t table, Level level, int delta);
  bool read_guest(Cpu& cpu, uint32_t lin, void* out, uint32_t len);
  bool write_guest(Cpu& cpu, uint32_t lin, const void* in, uint32_t len);

  PvPaging paging_;
  std::array<Trap, 256> traps_{};
  std::map<uint64_t, Level> pinned_;  // page frame -> table level
  std::set<uint64_t> pinned_frames_;
  // Kept as entries change, so that a pin or unpin costs one table's 1024
  // entries, not a scan of every pinned table (a guest with thousands of
  // them made one hypercall run for seconds): frame -> present writable
  // entries of pinned L1 tables mapping it, and L1 frame -> present
  // entries of pinned L2 tables naming it.
  std::unordered_map<uint64_t, uint32_t> writable_refs_, directory_refs_;
  uint8_t* tables_ = nullptr;  // the monitor's GDT, in private memory
  SegmentCache code_cache_, data_cache_;  // kKernelCs and kKernelDs loaded
  uint64_t timer_next_ = 0;
  uint16_t kstack_ss_ = 0;
  uint32_t kstack_esp_ = 0;
  bool kstack_set_ = false;
  bool fast_trap_ = false;
  uint32_t timer_period_ = 0;
  uint8_t timer_vector_ = 0;
  bool timer_pending_ = false;
  VirtualClock::TimerId timer_ = 0;
  bool timer_added_ = false;
  InterruptController* inner_ = nullptr;
  Cpu* cpu_ = nullptr;
  bool started_ = false;
  Decoder decoder_;
  std::function<void(uint8_t)> console_;
  uint64_t events_delivered_ = 0, fast_traps_ = 0, mmu_entries_ = 0, multicall_entries_ = 0;
};

}  // namespace vtlab
