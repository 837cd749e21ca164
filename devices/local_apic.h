// The xAPIC local APIC of one CPU, memory-mapped at 0xFEE00000 (4 KiB;
// offsets here are from that base), following the Intel SDM vol. 3,
// chapter "Advanced Programmable Interrupt Controller (APIC)".  Where the
// SDM leaves a choice, the model does what QEMU's xAPIC shows guests
// (version 0x14, six LVT entries, bus clock 1 GHz), so kernels written for
// `qemu-system-i386 -kernel` behave the same here.
//
// What is modelled: ID, version, TPR/PPR, EOI, LDR/DFR, SVR with software
// disable, ISR/TMR/IRR, ESR, the six LVT entries, ICR (self-IPIs only: this
// is a one-CPU machine) and the timer in one-shot and periodic mode on
// virtual time.  The 8259A reaches the CPU through LINT0 in ExtINT mode.
//
// Choices (each one is exercised by a test in tests/devices/):
//
// * LINT0 resets to 0x700 (ExtINT, unmasked), not to the SDM's masked
//   0x10000.  QEMU and KVM reset the BSP's LINT0 this way, standing in for
//   a BIOS that puts the board in "virtual wire" mode, so PIC interrupts
//   reach a CPU whose guest never touches the APIC.  Guests booted with
//   QEMU's -kernel (no BIOS APIC setup visible to them) rely on it.
//
// * Software disable (SVR bit 8 = 0).  SDM 10.4.7.2: the LVT mask bits are
//   set and attempts to clear them are ignored; IRR/ISR contents are held.
//   Here: clearing SVR bit 8 sets every mask bit, and an LVT write while
//   disabled keeps its mask bit set (also right after reset, as KVM does);
//   fixed interrupts still enter IRR but are not dispatched until the APIC
//   is enabled again (QEMU and KVM alike).
//
// * ExtINT while software-disabled.  QEMU passes the PIC through whenever
//   LINT0's mask bit is clear, whatever SVR says, and never forces mask
//   bits; the SDM's forced masks would block ExtINT once the APIC has been
//   disabled.  Here ExtINT depends on LINT0 alone (unmasked, delivery mode
//   ExtINT), not on SVR bit 8, and the SDM's masks apply: so the reset
//   state passes PIC interrupts through (as on QEMU), and a guest that
//   explicitly disables the APIC loses them (as on hardware; QEMU would
//   keep delivering them).  KVM behaves exactly like this model.
//
// * Timer: one count per bus clock / divisor, the bus clock being the
//   1 GHz tick of VirtualClock.  The count reaches 0 (and interrupts)
//   `initial * divisor` ticks after the initial-count write, as the SDM
//   describes; QEMU's period is one count longer (initial + 1), which only
//   a guest timing its own timer with another clock could notice.  The
//   divider's phase starts at the initial-count write; a divide-configuration
//   write while counting keeps the count and restarts the phase.
//   TSC-deadline mode is not advertised (CPUID.1:ECX[24] = 0), so LVT timer
//   bit 18 is reserved: it reads 0, and mode 2 written counts one-shot.
//
// * Illegal vectors (0-15): an ICR send sets ESR "send illegal vector"; an
//   LVT entry firing with one sets "receive illegal vector"; neither is
//   delivered.  A reserved register offset sets "illegal register address"
//   (bit 7), reads 0 and ignores writes.  New ESR errors raise the LVT
//   error interrupt; ESR itself shows them only after a write to ESR
//   (SDM 10.5.3).
//
// * Not modelled (recorded in counters, never fatal): IPIs to any
//   destination other than this CPU, delivery modes other than fixed
//   (NMI, SMI, INIT, SIPI, lowest priority in the ICR; NMI/SMI/INIT in an
//   LVT entry), LINT0/LINT1 in fixed mode (no pin levels are wired to
//   them), the thermal and performance-counter sources (they never fire),
//   messages from the I/O APIC in modes other than fixed and lowest
//   priority (ExtINT, NMI, SMI, INIT).  APR reads 0, as on QEMU;
//   delivery-status bits read 0 since delivery is instant.
//
// * I/O APIC messages (devices/ioapic.h) are accepted into IRR when their
//   destination names this APIC (physical: its ID or 0xFF; logical: LDR
//   under DFR's model, as for IPIs), with TMR set for level-triggered
//   ones; lowest priority among one CPU is this CPU.  EOI of a vector
//   whose TMR bit is set broadcasts the vector to the I/O APIC, which
//   clears the remote IRR of the entries using it (SDM 10.8.5).
//
// Accesses must be 32-bit and 16-byte aligned (SDM 10.4.1); anything else
// is ignored (reads 0) and counted.
#pragma once

#include <array>
#include <cstdint>
#include <functional>

#include "core/clock.h"
#include "core/interrupt_controller.h"
#include "devices/bus.h"

namespace vtlab {

class SnapshotReader;
class SnapshotWriter;

// An interrupt message on the APIC bus (the I/O APIC's redirection entry
// as it leaves the chip): SDM 10.6's fields less the ICR's shorthand.
struct ApicMessage {
  uint8_t vector = 0;
  uint8_t delivery_mode = 0;  // 0 fixed, 1 lowest priority, 2 SMI, 4 NMI, 5 INIT, 7 ExtINT
  bool logical = false;       // destination mode
  uint8_t destination = 0;
  bool level = false;         // trigger mode
};

class LocalApic : public BusDevice, public InterruptController {
 public:
  static constexpr uint64_t kBase = 0xFEE00000, kSize = 0x1000;
  // Register offsets (SDM table "Local APIC Register Address Map").
  enum Reg : uint32_t {
    ID = 0x020, VERSION = 0x030, TPR = 0x080, APR = 0x090, PPR = 0x0A0, EOI = 0x0B0,
    LDR = 0x0D0, DFR = 0x0E0, SVR = 0x0F0, ISR0 = 0x100, TMR0 = 0x180, IRR0 = 0x200,
    ESR = 0x280, ICR_LOW = 0x300, ICR_HIGH = 0x310, LVT_TIMER = 0x320,
    LVT_THERMAL = 0x330, LVT_PERF = 0x340, LVT_LINT0 = 0x350, LVT_LINT1 = 0x360,
    LVT_ERROR = 0x370, TIMER_INITIAL = 0x380, TIMER_CURRENT = 0x390, TIMER_DIVIDE = 0x3E0
  };
  enum Lvt : unsigned { kTimer, kThermal, kPerf, kLint0, kLint1, kError, kLvtCount };
  // Version 0x14 with max LVT entry 5 (six entries), as QEMU reports.
  static constexpr uint32_t kVersion = 0x00050014;
  // ESR bits (SDM figure "Error Status Register").
  static constexpr uint32_t kEsrSendIllegalVector = 1u << 5, kEsrReceiveIllegalVector = 1u << 6,
                            kEsrIllegalRegister = 1u << 7;
  static constexpr uint32_t kLvtMasked = 1u << 16;

  LocalApic(VirtualClock& clock, IntrChanged changed);
  LocalApic(const LocalApic&) = delete;
  LocalApic& operator=(const LocalApic&) = delete;

  uint64_t read(uint64_t offset, unsigned size) override;
  void write(uint64_t offset, unsigned size, uint64_t value) override;
  std::string_view name() const override { return "local-apic"; }

  bool intr_pending() override;
  uint8_t acknowledge() override;

  // The interrupt controller behind LINT0 (the 8259A pair); may be null.
  void set_extint_source(InterruptController* pic) { pic_ = pic; }

  // A message from the I/O APIC: true when this APIC accepted it into IRR
  // (the sender sets remote IRR for a level-triggered one only then).
  bool receive(const ApicMessage& m);
  // Where EOI of a level-triggered vector is broadcast (the I/O APIC).
  void set_eoi_broadcast(std::function<void(uint8_t vector)> f) { eoi_broadcast_ = std::move(f); }
  // Whether a message to `destination` in this mode names this APIC.
  bool is_destination(uint8_t destination, bool logical) const;

  // Back to the power-up state (with LINT0 in virtual-wire mode, above).
  void reset();

  // Read-only views for a debugger and tests: no side effects.
  struct State {
    uint32_t id = 0, tpr = 0, ldr = 0, dfr = 0xFFFFFFFF, svr = 0xFF;
    std::array<uint32_t, 8> isr{}, tmr{}, irr{};
    uint32_t esr = 0;          // what a read of ESR returns
    uint32_t esr_pending = 0;  // errors since the last ESR write
    uint32_t icr_low = 0, icr_high = 0;
    std::array<uint32_t, kLvtCount> lvt{};
    uint32_t timer_initial = 0, timer_divide = 0;
    // Timer progress: counts elapsed = anchor_counts + (now - anchor_time) / divisor.
    bool timer_running = false;
    uint64_t timer_anchor_time = 0, timer_anchor_counts = 0;
  };
  const State& state() const { return s_; }
  bool software_enabled() const { return s_.svr & kSvrEnable; }
  uint32_t ppr() const;
  uint32_t timer_current() const;
  unsigned timer_divisor() const;
  bool timer_periodic() const { return s_.lvt[kTimer] & kTimerPeriodic; }
  // The virtual time of the next timer expiry, VirtualClock::kNever if stopped.
  uint64_t timer_deadline() const;

  // Accesses that were not 32-bit at a 16-byte-aligned offset.
  uint64_t misaligned_accesses() const { return misaligned_; }
  // IPIs and LVT deliveries the model records but does not carry out.
  uint64_t ignored_ipis() const { return ignored_ipis_; }
  uint64_t ignored_lvt_deliveries() const { return ignored_lvt_; }
  // I/O APIC messages in a delivery mode the model does not carry out.
  uint64_t ignored_messages() const { return ignored_messages_; }

  // Checkpoints (core/snapshot.h): the registers and internal state, not
  // the wiring.  load() is false for a snapshot this device did not write.
  void save(SnapshotWriter& w) const;
  bool load(SnapshotReader& r);

 private:
  static constexpr uint32_t kSvrEnable = 1u << 8, kTimerPeriodic = 1u << 17;

  static State power_up_state();

  uint32_t read_reg(uint32_t offset);
  void write_reg(uint32_t offset, uint32_t v);
  void write_svr(uint32_t v);
  void write_lvt(Lvt which, uint32_t v);
  void write_icr(uint32_t low);
  void write_divide(uint32_t v);
  void eoi();

  // Fixed delivery: into IRR, TMR saying how it was triggered (local
  // sources and self-IPIs are edge-triggered).
  void accept_fixed(uint8_t vector, bool level = false);
  void deliver_lvt(Lvt which);
  void signal_error(uint32_t esr_bit);

  int highest_irr() const;
  int highest_isr() const;
  bool apic_interrupt_deliverable() const;
  bool extint_enabled() const;

  uint64_t timer_counts_elapsed(uint64_t now) const;
  void timer_rebase(uint64_t now);
  void timer_arm();
  void timer_fired();

  VirtualClock& clock_;
  VirtualClock::TimerId timer_id_;
  IntrChanged changed_;
  InterruptController* pic_ = nullptr;
  std::function<void(uint8_t)> eoi_broadcast_;
  State s_;
  uint64_t misaligned_ = 0, ignored_ipis_ = 0, ignored_lvt_ = 0, ignored_messages_ = 0;
};

}  // namespace vtlab
