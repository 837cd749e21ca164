// Register semantics follow the Intel SDM vol. 3, chapter "Advanced
// Programmable Interrupt Controller (APIC)": the register address map, the
// LVT and ICR layouts, "Interrupt, Task, and Processor Priority", "Error
// Handling", "APIC Timer" and "Local APIC State After It Has Been Software
// Disabled".  The choices where QEMU or the SDM decided are in the header.
#include "devices/local_apic.h"

#include "core/snapshot.h"

#include <utility>

namespace vtlab {

namespace {

// Bits a write may change; the rest of each register is reserved (reads 0)
// or read-only.
constexpr uint32_t kIdWritable = 0xFF000000, kLdrWritable = 0xFF000000;
constexpr uint32_t kDfrModel = 0xF0000000, kDfrReservedOnes = 0x0FFFFFFF;
// Vector, software enable, focus processor checking (QEMU keeps bit 9 too;
// EOI-broadcast suppression, bit 12, is not offered: version bit 24 = 0).
// Vector bits 3:0 are writable as on the Pentium 4 and later (P6 parts
// hardwire them to 1); QEMU's xAPIC does the same.
constexpr uint32_t kSvrWritable = 0x1FF;
// Vector, delivery mode, destination mode, level, trigger, shorthand; the
// delivery status (bit 12) reads 0 because delivery is instant.
constexpr uint32_t kIcrLowWritable = 0x000CCFFF, kIcrHighWritable = 0xFF000000;
constexpr uint32_t kDivideWritable = 0x0B;

// Per LVT entry: vector, delivery mode where the entry has one, pin
// polarity and trigger mode on LINT0/1, mask, and the timer mode bit 17
// (bit 18, TSC-deadline, is reserved without the CPUID feature).
constexpr uint32_t kLvtWritable[LocalApic::kLvtCount] = {
    0x000300FF,  // timer
    0x000107FF,  // thermal
    0x000107FF,  // performance counters
    0x0001A7FF,  // LINT0
    0x0001A7FF,  // LINT1
    0x000100FF,  // error
};

constexpr uint32_t kModeFixed = 0, kModeExtInt = 7;
constexpr uint32_t kLint0VirtualWire = kModeExtInt << 8;  // 0x700: see the header

uint32_t delivery_mode(uint32_t lvt_or_icr) { return (lvt_or_icr >> 8) & 7; }

void set_bit(std::array<uint32_t, 8>& regs, unsigned v) { regs[v / 32] |= 1u << (v % 32); }
void clear_bit(std::array<uint32_t, 8>& regs, unsigned v) { regs[v / 32] &= ~(1u << (v % 32)); }

// The highest set vector, -1 when none is.
int highest_vector(const std::array<uint32_t, 8>& regs) {
  for (int i = 7; i >= 0; --i)
    if (regs[i]) return i * 32 + (31 - __builtin_clz(regs[i]));
  return -1;
}

}  // namespace

LocalApic::LocalApic(VirtualClock& clock, IntrChanged changed)
    : clock_(clock),
      timer_id_(clock.add_timer("local-apic timer", [this] { timer_fired(); })),
      changed_(std::move(changed)),
      s_(power_up_state()) {}

// SDM 10.4.7.1, except LINT0 (see the header).
LocalApic::State LocalApic::power_up_state() {
  State s;
  s.lvt.fill(kLvtMasked);
  s.lvt[kLint0] = kLint0VirtualWire;
  return s;
}

void LocalApic::reset() {
  s_ = power_up_state();
  clock_.disarm(timer_id_);
  if (changed_) changed_();
}

// SDM 10.4.1: registers are 128-bit aligned and must be accessed with
// aligned 32-bit loads and stores; other accesses are undefined there and
// ignored here.
uint64_t LocalApic::read(uint64_t offset, unsigned size) {
  if (size != 4 || offset % 16 || offset >= kSize) {
    ++misaligned_;
    return 0;
  }
  return read_reg(static_cast<uint32_t>(offset));
}

void LocalApic::write(uint64_t offset, unsigned size, uint64_t value) {
  if (size != 4 || offset % 16 || offset >= kSize) {
    ++misaligned_;
    return;
  }
  write_reg(static_cast<uint32_t>(offset), static_cast<uint32_t>(value));
}

uint32_t LocalApic::read_reg(uint32_t offset) {
  if (offset >= ISR0 && offset < ISR0 + 0x80) return s_.isr[(offset - ISR0) / 16];
  if (offset >= TMR0 && offset < TMR0 + 0x80) return s_.tmr[(offset - TMR0) / 16];
  if (offset >= IRR0 && offset < IRR0 + 0x80) return s_.irr[(offset - IRR0) / 16];
  if (offset >= LVT_TIMER && offset <= LVT_ERROR) return s_.lvt[(offset - LVT_TIMER) / 16];
  switch (offset) {
    case ID: return s_.id;
    case VERSION: return kVersion;
    case TPR: return s_.tpr;
    case APR: return 0;
    case PPR: return ppr();
    case EOI: return 0;  // write-only
    case LDR: return s_.ldr;
    case DFR: return s_.dfr;
    case SVR: return s_.svr;
    case ESR: return s_.esr;
    case ICR_LOW: return s_.icr_low;
    case ICR_HIGH: return s_.icr_high;
    case TIMER_INITIAL: return s_.timer_initial;
    case TIMER_CURRENT: return timer_current();
    case TIMER_DIVIDE: return s_.timer_divide;
    default: signal_error(kEsrIllegalRegister); return 0;
  }
}

void LocalApic::write_reg(uint32_t offset, uint32_t v) {
  // ISR, TMR, IRR are read-only: writes are dropped without an error.
  if (offset >= ISR0 && offset < IRR0 + 0x80) return;
  if (offset >= LVT_TIMER && offset <= LVT_ERROR) {
    write_lvt(static_cast<Lvt>((offset - LVT_TIMER) / 16), v);
    return;
  }
  switch (offset) {
    case ID: s_.id = v & kIdWritable; break;
    case TPR:
      s_.tpr = v & 0xFF;
      if (changed_) changed_();
      break;
    case EOI: eoi(); break;
    case LDR: s_.ldr = v & kLdrWritable; break;
    case DFR: s_.dfr = (v & kDfrModel) | kDfrReservedOnes; break;
    case SVR: write_svr(v); break;
    case ESR:
      // SDM 10.5.3: a write latches the errors seen since the last write
      // into the readable register and starts collecting afresh.
      s_.esr = s_.esr_pending;
      s_.esr_pending = 0;
      break;
    case ICR_HIGH: s_.icr_high = v & kIcrHighWritable; break;
    case ICR_LOW: write_icr(v & kIcrLowWritable); break;
    case TIMER_INITIAL:
      s_.timer_initial = v;
      s_.timer_anchor_time = clock_.now();
      s_.timer_anchor_counts = 0;
      s_.timer_running = v != 0;  // SDM 10.5.4: writing 0 stops the timer
      timer_arm();
      break;
    case TIMER_DIVIDE: write_divide(v & kDivideWritable); break;
    case VERSION:
    case APR:
    case PPR:
    case TIMER_CURRENT:
      break;  // read-only
    default: signal_error(kEsrIllegalRegister); break;
  }
}

void LocalApic::write_svr(uint32_t v) {
  const bool was_enabled = software_enabled();
  s_.svr = v & kSvrWritable;
  if (was_enabled && !software_enabled())
    for (uint32_t& lvt : s_.lvt) lvt |= kLvtMasked;
  if (changed_) changed_();
}

void LocalApic::write_lvt(Lvt which, uint32_t v) {
  v &= kLvtWritable[which];
  if (!software_enabled()) v |= kLvtMasked;
  const uint32_t old = s_.lvt[which];
  if (which == kTimer && s_.timer_running && ((old ^ v) & kTimerPeriodic)) {
    // The count carries on across a mode change; leaving periodic mode
    // keeps only the position within the current period.
    timer_rebase(clock_.now());
    if (old & kTimerPeriodic) s_.timer_anchor_counts %= s_.timer_initial;
  }
  s_.lvt[which] = v;
  if (which == kTimer) timer_arm();
  // LINT0 decides whether the PIC's INTR reaches the CPU.
  if (which == kLint0 && changed_) changed_();
}

// Only this CPU exists, so an IPI either reaches it or nobody.
void LocalApic::write_icr(uint32_t low) {
  s_.icr_low = low;
  const uint8_t vector = low & 0xFF;
  const uint32_t mode = delivery_mode(low);
  const uint32_t shorthand = (low >> 18) & 3;
  const bool logical = low & (1u << 11);
  bool to_self = false;
  switch (shorthand) {
    case 0:
      to_self = is_destination(static_cast<uint8_t>(s_.icr_high >> 24), logical);
      break;
    case 1: to_self = true; break;   // self
    case 2: to_self = true; break;   // all including self
    case 3: to_self = false; break;  // all excluding self: no other CPU
  }
  if (mode != kModeFixed) {
    ++ignored_ipis_;
    return;
  }
  if (vector < 16) {
    signal_error(kEsrSendIllegalVector);
    return;
  }
  if (!to_self) {
    ++ignored_ipis_;
    return;
  }
  accept_fixed(vector);
}

bool LocalApic::is_destination(uint8_t dest, bool logical) const {
  if (!logical) return dest == (s_.id >> 24) || dest == 0xFF;
  // Logical destination: flat model matches any common bit of the 8-bit
  // logical ID; cluster model matches the cluster (high nibble) and any
  // common bit of the low nibble (SDM 10.6.2.2).
  const uint8_t ldr = s_.ldr >> 24;
  if (s_.dfr >> 28 == 0xF) return (dest & ldr) != 0;
  return dest == 0xFF || ((dest >> 4) == (ldr >> 4) && (dest & ldr & 0x0F));
}

bool LocalApic::receive(const ApicMessage& m) {
  constexpr uint8_t kLowestPriority = 1;
  if (!is_destination(m.destination, m.logical)) return false;
  if (m.delivery_mode != kModeFixed && m.delivery_mode != kLowestPriority) {
    ++ignored_messages_;
    return false;
  }
  if (m.vector < 16) {
    signal_error(kEsrReceiveIllegalVector);
    return false;
  }
  accept_fixed(m.vector, m.level);
  return true;
}

void LocalApic::write_divide(uint32_t v) {
  if (s_.timer_running) {
    // The count so far stays; the new divider starts a fresh period now.
    timer_rebase(clock_.now());
    s_.timer_anchor_time = clock_.now();
  }
  s_.timer_divide = v;
  timer_arm();
}

// SDM 10.8.5: EOI retires the highest-priority interrupt in service; a
// level-triggered one (TMR set) is broadcast to the I/O APIC as well.
void LocalApic::eoi() {
  const int v = highest_isr();
  if (v >= 0) {
    const auto vector = static_cast<unsigned>(v);
    clear_bit(s_.isr, vector);
    if ((s_.tmr[vector / 32] >> (vector % 32) & 1) && eoi_broadcast_) eoi_broadcast_(static_cast<uint8_t>(vector));
  }
  if (changed_) changed_();
}

void LocalApic::accept_fixed(uint8_t vector, bool level) {
  set_bit(s_.irr, vector);
  if (level)
    set_bit(s_.tmr, vector);
  else
    clear_bit(s_.tmr, vector);
  if (changed_) changed_();
}

// A local interrupt source fires through its LVT entry (SDM 10.5.1).
void LocalApic::deliver_lvt(Lvt which) {
  const uint32_t lvt = s_.lvt[which];
  if (lvt & kLvtMasked) return;
  // The timer and error entries have no delivery-mode field: always fixed.
  const bool fixed = which == kTimer || which == kError || delivery_mode(lvt) == kModeFixed;
  if (!fixed || which == kLint0 || which == kLint1) {
    ++ignored_lvt_;
    return;
  }
  const uint8_t vector = lvt & 0xFF;
  if (vector < 16) {
    // The error entry itself carrying an illegal vector records the error
    // without raising another error interrupt, which would never end.
    if (which == kError)
      s_.esr_pending |= kEsrReceiveIllegalVector;
    else
      signal_error(kEsrReceiveIllegalVector);
    return;
  }
  accept_fixed(vector);
}

void LocalApic::signal_error(uint32_t esr_bit) {
  s_.esr_pending |= esr_bit;
  deliver_lvt(kError);
}

int LocalApic::highest_irr() const { return highest_vector(s_.irr); }
int LocalApic::highest_isr() const { return highest_vector(s_.isr); }

// SDM 10.8.3.1: PPR is TPR when TPR's class is at least the class of the
// highest interrupt in service, else that class with sub-class 0.
uint32_t LocalApic::ppr() const {
  const int isrv = highest_isr();
  const uint32_t isr_class = isrv < 0 ? 0 : static_cast<uint32_t>(isrv) >> 4;
  return (s_.tpr >> 4) >= isr_class ? s_.tpr : isr_class << 4;
}

// An IRR interrupt is dispatched only when its class is above PPR's
// (SDM 10.8.3.1), and only while the APIC is software-enabled.
bool LocalApic::apic_interrupt_deliverable() const {
  const int irrv = highest_irr();
  return software_enabled() && irrv >= 0 && (static_cast<uint32_t>(irrv) >> 4) > (ppr() >> 4);
}

// See the header for why SVR plays no part here.
bool LocalApic::extint_enabled() const {
  const uint32_t lint0 = s_.lvt[kLint0];
  return pic_ && !(lint0 & kLvtMasked) && delivery_mode(lint0) == kModeExtInt;
}

bool LocalApic::intr_pending() {
  return apic_interrupt_deliverable() || (extint_enabled() && pic_->intr_pending());
}

uint8_t LocalApic::acknowledge() {
  if (apic_interrupt_deliverable()) {
    const unsigned v = static_cast<unsigned>(highest_irr());
    clear_bit(s_.irr, v);
    set_bit(s_.isr, v);
    return static_cast<uint8_t>(v);
  }
  // ExtINT: the 8259A supplies the vector in its own INTA cycle and the
  // APIC's IRR/ISR are not involved.
  if (extint_enabled() && pic_->intr_pending()) return pic_->acknowledge();
  // SDM 10.9: the interrupt that raised INTR is now masked (a TPR raise
  // between INTR and INTA): the spurious vector, with nothing set in ISR.
  return static_cast<uint8_t>(s_.svr & 0xFF);
}

// Divide configuration bits 3,1,0 (SDM figure "Divide Configuration
// Register"): 000 = 2, 001 = 4, ... 110 = 128, 111 = 1.
unsigned LocalApic::timer_divisor() const {
  const uint32_t code = (s_.timer_divide & 3) | ((s_.timer_divide >> 1) & 4);
  return code == 7 ? 1 : 2u << code;
}

uint64_t LocalApic::timer_counts_elapsed(uint64_t now) const {
  return s_.timer_anchor_counts + (now - s_.timer_anchor_time) / timer_divisor();
}

// Moves the anchor to the last whole count at or before `now`, so the
// partial count in progress is kept.
void LocalApic::timer_rebase(uint64_t now) {
  const uint64_t whole = (now - s_.timer_anchor_time) / timer_divisor();
  s_.timer_anchor_counts += whole;
  s_.timer_anchor_time += whole * timer_divisor();
}

uint32_t LocalApic::timer_current() const {
  if (!s_.timer_running) return 0;
  const uint64_t elapsed = timer_counts_elapsed(clock_.now());
  const uint64_t initial = s_.timer_initial;
  if (timer_periodic()) return static_cast<uint32_t>(initial - elapsed % initial);
  return elapsed >= initial ? 0 : static_cast<uint32_t>(initial - elapsed);
}

uint64_t LocalApic::timer_deadline() const {
  if (!s_.timer_running) return VirtualClock::kNever;
  const uint64_t initial = s_.timer_initial;
  uint64_t target = initial;  // one-shot: the count reaching 0
  if (timer_periodic()) target = (timer_counts_elapsed(clock_.now()) / initial + 1) * initial;
  if (target <= s_.timer_anchor_counts) return s_.timer_anchor_time;  // overdue: fire now
  // Saturate rather than wrap: a deadline past the end of time is never.
  const unsigned __int128 deadline = static_cast<unsigned __int128>(target - s_.timer_anchor_counts) * timer_divisor() +
                                     s_.timer_anchor_time;
  return deadline >= VirtualClock::kNever ? VirtualClock::kNever : static_cast<uint64_t>(deadline);
}

void LocalApic::timer_arm() {
  if (s_.timer_running)
    clock_.arm(timer_id_, timer_deadline());
  else
    clock_.disarm(timer_id_);
}

// The count reached 0: interrupt unless masked (a masked timer keeps
// counting, SDM 10.5.4), then reload in periodic mode or stop in one-shot.
void LocalApic::timer_fired() {
  if (timer_periodic()) {
    timer_rebase(clock_.now());
    s_.timer_anchor_counts %= s_.timer_initial;
  } else {
    s_.timer_running = false;
  }
  deliver_lvt(kTimer);
  timer_arm();
}

void LocalApic::save(SnapshotWriter& w) const {
  w.put(s_);
  w.put(misaligned_);
  w.put(ignored_ipis_);
  w.put(ignored_lvt_);
  w.put(ignored_messages_);
}

bool LocalApic::load(SnapshotReader& r) {
  State s;
  uint64_t counts[4] = {};
  r.get(s);
  r.get(counts);
  if (!r.ok()) return false;
  s_ = s;
  misaligned_ = counts[0];
  ignored_ipis_ = counts[1];
  ignored_lvt_ = counts[2];
  ignored_messages_ = counts[3];
  return true;
}

}  // namespace vtlab
