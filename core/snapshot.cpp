#include "core/snapshot.h"

#include <fmt/format.h>
#include <sys/mman.h>

#include <algorithm>

#include "core/interpreter.h"
#include "core/machine.h"
#include "devices/acpi_pm.h"
#include "devices/cmos_rtc.h"
#include "devices/fw_cfg.h"
#include "devices/i8042.h"
#include "devices/ioapic.h"
#include "devices/local_apic.h"
#include "devices/pic8259.h"
#include "devices/pit8254.h"
#include "devices/port61.h"
#include "devices/port92.h"
#include "devices/post_port.h"
#include "devices/pci_host.h"
#include "devices/reset_control.h"
#include "devices/uart16550.h"
#include "mmu/phys_memory.h"

namespace vtlab {

namespace {

// Which pages of guest RAM the host has backed: the others were never
// touched and read as zero.  All of them when the host cannot say.
std::vector<unsigned char> resident_pages(PhysicalMemory& mem) {
  const uint64_t n = mem.ram_size() / kPageSize;
  std::vector<unsigned char> resident(n, 1);
  if (mincore(mem.ram(), mem.ram_size(), resident.data()) != 0) std::fill(resident.begin(), resident.end(), 1);
  return resident;
}

bool all_zero(const uint8_t* p) {
  return p[0] == 0 && std::memcmp(p, p + 1, kPageSize - 1) == 0;
}

}  // namespace

RamSnapshot RamSnapshot::capture(PhysicalMemory& mem, const RamSnapshot* previous) {
  RamSnapshot snap;
  snap.ram_size_ = mem.ram_size();
  if (previous && previous->ram_size_ != snap.ram_size_) previous = nullptr;
  const std::vector<unsigned char> resident = resident_pages(mem);
  size_t before = 0;  // walks previous->pages_ alongside
  for (uint32_t i = 0; i < resident.size(); ++i) {
    if (!(resident[i] & 1)) continue;
    const uint8_t* bytes = mem.ram() + uint64_t{i} * kPageSize;
    if (all_zero(bytes)) continue;
    if (previous) {
      while (before < previous->pages_.size() && previous->pages_[before].index < i) ++before;
      if (before < previous->pages_.size() && previous->pages_[before].index == i &&
          std::memcmp(previous->pages_[before].bytes->data(), bytes, kPageSize) == 0) {
        snap.pages_.push_back(previous->pages_[before]);
        continue;
      }
    }
    auto copy = std::make_shared<Page>();
    std::memcpy(copy->data(), bytes, kPageSize);
    snap.pages_.push_back(Kept{i, std::move(copy)});
    ++snap.own_pages_;
  }
  return snap;
}

bool RamSnapshot::restore(PhysicalMemory& mem) const {
  if (mem.ram_size() != ram_size_) return false;
  const std::vector<unsigned char> resident = resident_pages(mem);
  size_t kept = 0;
  for (uint32_t i = 0; i < resident.size(); ++i) {
    uint8_t* bytes = mem.ram() + uint64_t{i} * kPageSize;
    if (kept < pages_.size() && pages_[kept].index == i) {
      // Unchanged pages are left alone: writing them would make every
      // page the run ever touched dirty again.
      if (std::memcmp(bytes, pages_[kept].bytes->data(), kPageSize) != 0)
        std::memcpy(bytes, pages_[kept].bytes->data(), kPageSize);
      ++kept;
    } else if ((resident[i] & 1) && !all_zero(bytes)) {
      std::memset(bytes, 0, kPageSize);
    }
  }
  return true;
}

uint64_t RamSnapshot::own_bytes() const { return own_pages_ * kPageSize + pages_.size() * sizeof(Kept); }

uint64_t MachineSnapshot::own_bytes() const {
  return sizeof(MachineSnapshot) + ram.own_bytes() + devices.size() + timer_deadlines.size() * sizeof(uint64_t) +
         (shutdown_chain.size() + last_double_fault.size()) * sizeof(ChainedEvent) +
         cpu.msrs.size() * (sizeof(uint32_t) + sizeof(uint64_t) + 32);  // map nodes, roughly
}

// --- Machine ------------------------------------------------------------------
// Machine's checkpoint entry points live here, beside the format they write.

std::string Machine::snapshot_unsupported() const {
  if (kvm_) return "hw on KVM: the guest's state is in the kernel";
  if (monitor_->name() != "native")
    return fmt::format("{}: the monitor's state (its virtual CPU, shadow tables, translations) has no snapshot",
                       monitor_->name());
  if (virtio_->blk() || virtio_->console()) return "virtio devices (their queues and the disk image) have no snapshot";
  return "";
}

MachineSnapshot Machine::save(const MachineSnapshot* previous) {
  MachineSnapshot s;
  s.cpu = cpu_.s;
  s.icount = cpu_.icount;
  s.events = cpu_.events;
  s.idle = cpu_.idle;
  s.exit_cycles = cpu_.exit_cycles;
  s.next_rip = cpu_.next_rip;
  s.a20_mask = cpu_.a20_mask;
  cpu_.shadow_state(s.shadow_icount, s.shadow_events, s.shadow_blocks_debug);
  s.data_breakpoint_hits = cpu_.data_breakpoint_hits;
  s.halted = interp_->halted();
  s.held_data_hits = interp_->held_data_hits();
  s.tlb = cpu_.tlb.entries();
  s.shutdown_chain = cpu_.shutdown_chain;
  s.last_double_fault = cpu_.last_double_fault;
  for (VirtualClock::TimerId t = 0; t < cpu_.clock.timer_count(); ++t) s.timer_deadlines.push_back(cpu_.clock.deadline(t));

  SnapshotWriter w;
  com1_->save(w);
  pic_->save(w);
  pit_->save(w);
  port61_->save(w);
  apic_->save(w);
  rtc_->save(w);
  kbc_->save(w);
  port92_->save(w);
  fw_cfg_->save(w);
  reset_control_->save(w);
  pci_->save(w);
  post80_->save(w);
  post190_->save(w);
  ioapic_->save(w);
  acpi_pm_->save(w);
  w.put_string(serial_log_);
  w.put(serial_bytes_);
  w.put(static_cast<uint64_t>(debugcon_lines_.size()));
  for (const ConsoleLine& l : debugcon_lines_) {
    w.put(l.time);
    w.put_string(l.text);
  }
  w.put(debugcon_line_open_);
  w.put(guest_status_);
  w.put(resets_);
  s.devices = w.take();

  s.ram = RamSnapshot::capture(mem_, previous ? &previous->ram : nullptr);
  return s;
}

bool Machine::restore(const MachineSnapshot& s) {
  if (!snapshot_unsupported().empty() || s.timer_deadlines.size() != cpu_.clock.timer_count() ||
      s.ram.ram_size() != mem_.ram_size())
    return false;
  SnapshotReader r(s.devices);
  bool ok = com1_->load(r) && pic_->load(r) && pit_->load(r) && port61_->load(r) && apic_->load(r) &&
            rtc_->load(r) && kbc_->load(r) && port92_->load(r) && fw_cfg_->load(r) && reset_control_->load(r) && pci_->load(r) &&
            post80_->load(r) && post190_->load(r) && ioapic_->load(r) &&
            acpi_pm_->load(r);
  std::string serial;
  uint64_t lines = 0;
  ok = ok && r.get_string(serial, kSerialLogLimit) && r.get(serial_bytes_) && r.get(lines) && lines <= kConsoleLines;
  if (!ok) return false;
  serial_log_ = std::move(serial);
  debugcon_lines_.clear();
  for (uint64_t i = 0; i < lines; ++i) {
    ConsoleLine l;
    if (!r.get(l.time) || !r.get_string(l.text, kConsoleLineLength)) return false;
    debugcon_lines_.push_back(std::move(l));
  }
  r.get(debugcon_line_open_);
  r.get(guest_status_);
  r.get(resets_);
  if (!r.at_end() || !s.ram.restore(mem_)) return false;

  cpu_.s = s.cpu;
  cpu_.icount = s.icount;
  cpu_.events = s.events;
  cpu_.idle = s.idle;
  cpu_.exit_cycles = s.exit_cycles;
  cpu_.next_rip = s.next_rip;
  cpu_.a20_mask = s.a20_mask;
  cpu_.set_shadow_state(s.shadow_icount, s.shadow_events, s.shadow_blocks_debug);
  cpu_.data_breakpoint_hits = s.data_breakpoint_hits;
  cpu_.shutdown_chain = s.shutdown_chain;
  cpu_.last_double_fault = s.last_double_fault;
  // The modelled TLB may hold entries the page tables no longer give (a
  // guest that has not flushed yet): put them back as they were.
  cpu_.tlb.flush_all();
  for (const Tlb::Entry& e : s.tlb)
    if (e.valid())
      cpu_.tlb.insert(e.vpn << kPageShift,
                      Translation{e.ppn << kPageShift, e.page_size, e.user, e.writable, e.nx, e.dirty, e.global});
  cpu_.clear_stop();
  cpu_.intr_maybe_pending = true;
  cpu_.check_at = 0;
  for (VirtualClock::TimerId t = 0; t < s.timer_deadlines.size(); ++t) {
    if (s.timer_deadlines[t] == VirtualClock::kNever) cpu_.clock.disarm(t);
    else cpu_.clock.arm(t, s.timer_deadlines[t]);
  }
  // Decoded blocks may describe code the restored RAM no longer holds.
  interp_->flush();
  interp_->restore_run_state(s.halted, s.held_data_hits);
  return true;
}

}  // namespace vtlab
