// Exits: the one record every mode keeps of the times the guest stopped
// running and the monitor acted (docs/EXITS.md has the taxonomy and where
// the default costs come from).
//
// A monitor records an exit with ExitLog::record; the log counts it per
// reason and per sub-key (vector, port, MSR, CR, instruction...), charges
// its modelled cost to virtual time, and hands it to an optional trace
// sink.  Nothing here depends on how the guest runs, so an interpreter
// monitor and the KVM backend fill in the same table.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vtlab {

enum class ExitReason : uint8_t {
  PrivilegedInsn,     // a privileged instruction trapped and was emulated; key: instruction
  SensitiveInsn,      // a sensitive instruction the monitor had to see; key: instruction
  GuestException,     // an exception reflected into the guest; key: vector
  Io,                 // port I/O emulated; key: port
  Mmio,               // MMIO emulated; key: physical page
  Hlt,                // HLT: the virtual CPU sleeps
  Cpuid,              // key: leaf
  MsrRead,            // key: MSR
  MsrWrite,           // key: MSR
  CrAccess,           // key: CR number, +16 for a write
  Invlpg,
  PageTableWrite,     // a write to a traced guest page-table page
  HiddenPageFault,    // a #PF the guest never sees (shadow page table fill)
  ExternalInterrupt,  // key: vector
  InterruptWindow,    // the guest opened interrupts with one pending
  Hypercall,          // key: hypercall number
  BtTranslate,        // binary translation of a block
  BtCallout,          // translated code called into the monitor; key: callout kind
  TcFlush,            // the translation cache was flushed
  Shutdown,           // triple fault or reset
  kCount
};
inline constexpr size_t kExitReasons = static_cast<size_t>(ExitReason::kCount);

// "privileged-insn", "io", ...: the names stats, traces and docs use.
std::string_view exit_reason_name(ExitReason r);
std::optional<ExitReason> exit_reason_from_name(std::string_view name);

// What made an exit happen, kept as data and put in words on demand by
// exit_cause_text(), so recording an exit builds no string.  Under `hw`
// it is the VMCS control that selected the exit; under `trap` and `bt`
// the sensitivity rule (privilege/sensitivity.h) that made the
// instruction fault at its deprivileged ring or be translated.
enum class CauseKind : uint8_t {
  None,
  // --- hw: the VMCS control (SDM vol. 3C, 26.1-26.2); arg as noted
  IoBitmap,           // arg: the first port of the access whose bit is set
  IoWraps,            // an access past port 0xFFFF always exits
  UnconditionalIo,    // I/O bitmaps off, unconditional I/O exiting on
  MsrReadBitmap,      // arg: MSR
  MsrWriteBitmap,     // arg: MSR
  MsrOutsideBitmaps,  // arg: MSR (neither 0-0x1FFF nor 0xC0000000-0xC0001FFF)
  MsrBitmapsOff,      // use MSR bitmaps off: every RDMSR/WRMSR exits
  Cr0Owned,           // arg: the CR0 bits the write changes against the read shadow, which the mask owns
  Cr4Owned,           // arg: the same for CR4
  CltsOwned,          // CLTS with CR0.TS owned and set in the read shadow
  LmswOwned,          // arg: the CR0 bits LMSW changes that the mask owns
  Cr3Load, Cr3Store, Cr8Load, Cr8Store, MovDr,
  CpuidAlways,        // CPUID exits unconditionally in non-root operation
  HltExiting, InvlpgExiting, RdtscExiting, MwaitExiting, MonitorExiting,
  DescriptorTableExiting,
  ExceptionBitmap,    // arg: vector
  ExternalInterruptExiting,  // arg: vector
  InterruptWindowExiting,
  EptViolation,       // arg: guest-physical address
  TripleFaultAlways,  // a triple fault always exits
  ShadowPageFault,    // exception bitmap bit 14 under shadow paging; arg: linear address
  EntryFailure,       // a failed VM entry: `detail` names the check
  // --- trap/bt: the rule from the sensitivity table
  Privileged,         // insn: its form; #GP at the real CPL
  IoplSensitive,      // insn; CPL > IOPL
  PortIo,             // insn; arg: port; CPL > IOPL and the TSS I/O bitmap refuses the port
  RingCompression,    // insn; rule: what the hole does; faulted only because the kernel runs at ring 1
  TranslatedCallout,  // insn; arg: its Sensitivity (2 IOPL-sensitive, 3 hole, with rule); bt calls the monitor
  TranslateBlock,     // bt: kernel code runs only translated
  TcFull,             // bt: the translation cache reached --bt-tc-blocks
  Reflected,          // arg: vector; every event enters the monitor, which reflects it through the guest's IDT
  DeviceInterrupt,    // arg: vector
  VirtualIfOpened,    // the guest's virtual IF went to 1 with an interrupt pending
  ShadowFill,         // the shadow page table had no entry
  TracedWrite,        // a write to a write-protected guest page-table or descriptor-table page
  HoleTrapped,        // insn; rule: what the hole does; trap --holes trap: a hole traps as if privileged
};

struct ExitCause {
  CauseKind kind = CauseKind::None;
  uint8_t cpl = 0, iopl = 0;  // the real CPL and IOPL the instruction ran at (trap, bt)
  uint64_t arg = 0;
  std::string_view insn;  // the instruction's form ("MOV to CR3", "CLI"); static storage
  std::string_view rule;  // a hole's effect ("silently drops IF"); static storage
  std::shared_ptr<const std::string> detail;  // rare causes that need words of their own
};

struct ExitRecord {
  ExitReason reason;
  uint32_t key = 0;       // the sub-key, meaning per reason (see above)
  uint64_t rip = 0;       // guest RIP of the instruction or event
  uint8_t cpl = 0;        // the guest's (virtual) CPL
  uint64_t time = 0;      // virtual time when it happened
  uint64_t cost = 0;      // modelled cycles, from the cost model
  // Hardware-assisted modes: the VMX basic exit reason (Intel SDM vol. 3C,
  // appendix C) and exit qualification; kNoVmxReason for the other modes.
  static constexpr uint16_t kNoVmxReason = 0xFFFF;
  uint16_t vmx_reason = kNoVmxReason;
  uint64_t qualification = 0;
  ExitCause cause = {};
};

// The cause in words: "I/O bitmap A bit for port 0x3f8 set", "CLI at CPL 1
// faults: IOPL 0 < CPL"; "" when the record has none (KVM, pv).
std::string exit_cause_text(const ExitRecord& r);
// One line for an exit log: time, reason, key, RIP, CPL, cost, then the cause.
std::string exit_line(const ExitRecord& r);

// Cycles charged per exit, per reason.  Data, not code: defaults with
// their sources in docs/EXITS.md, overridable from a JSON object
// {"io": 1200, ...} (--cost-model FILE).  One modelled cycle is one unit
// of virtual time.
class CostModel {
 public:
  CostModel();  // the documented defaults
  uint64_t cycles(ExitReason r) const { return cycles_[static_cast<size_t>(r)]; }
  void set(ExitReason r, uint64_t cycles) { cycles_[static_cast<size_t>(r)] = cycles; }
  // A VM exit and VM entry round trip, charged on top of the reason's
  // cycles for every exit that carries a VMX exit reason ("vm-round-trip").
  uint64_t vm_round_trip() const { return vm_round_trip_; }
  void set_vm_round_trip(uint64_t cycles) { vm_round_trip_ = cycles; }
  // Overrides from a JSON object; throws std::runtime_error with a one-line
  // message on malformed JSON, an unknown reason or a value that is not a
  // non-negative integer.
  void load_json(const std::string& text);

 private:
  std::array<uint64_t, kExitReasons> cycles_{};
  uint64_t vm_round_trip_ = 1300;
};

// The statistics of one group of exits (a reason, one of its sub-keys, or
// one guest RIP under a reason): how many, their modelled cost, and a log2
// histogram of the virtual time between consecutive exits of the group.
struct ExitFigures {
  uint64_t count = 0, total_cost = 0, min_cost = 0, max_cost = 0;
  uint64_t last_time = 0;
  // gap_log2[k]: gaps in [2^k, 2^(k+1)) units of virtual time; [0] also
  // counts gaps of 0.  count - 1 gaps in all.
  std::vector<uint64_t> gap_log2;
  void add(uint64_t cost, uint64_t time);
  double mean_cost() const { return count ? static_cast<double>(total_cost) / static_cast<double>(count) : 0.0; }
};

class ExitLog {
 public:
  struct ReasonCount {
    uint64_t count = 0;
    uint64_t cycles = 0;
    std::map<uint32_t, uint64_t> by_key;
  };
  struct ReasonFigures {
    ExitFigures all;
    std::map<uint32_t, ExitFigures> by_key;  // bounded like ReasonCount::by_key
    std::map<uint64_t, ExitFigures> by_rip;  // at most kMaxKeys RIPs; the rest under kOtherRip
  };
  static constexpr uint64_t kOtherRip = ~uint64_t{0};
  // A guest chooses its sub-keys (ports, MSR numbers): past this many
  // distinct keys per reason the rest are counted under kOtherKey, so no
  // guest can grow host memory without bound.
  static constexpr size_t kMaxKeys = 4096;
  static constexpr uint32_t kOtherKey = 0xFFFFFFFF;
  using Sink = std::function<void(const ExitRecord&)>;

  explicit ExitLog(CostModel costs = CostModel()) : costs_(std::move(costs)) {}

  // Fills in the cost, counts the record and passes it to the sink.
  // Returns the cost, which the caller adds to virtual time.
  uint64_t record(ExitRecord r);

  void set_sink(Sink sink) { sink_ = std::move(sink); }
  const CostModel& costs() const { return costs_; }
  const ReasonCount& count(ExitReason r) const { return counts_[static_cast<size_t>(r)]; }
  const ReasonFigures& figures(ExitReason r) const { return figures_[static_cast<size_t>(r)]; }
  const ExitFigures& all_figures() const { return all_; }
  // The most recent exits, oldest first, at most kRecent (debuggers show
  // them with their causes).
  static constexpr size_t kRecent = 64;
  std::vector<ExitRecord> recent(size_t n = kRecent) const;
  uint64_t total() const { return total_; }
  uint64_t total_cycles() const { return total_cycles_; }

 private:
  CostModel costs_;
  std::array<ReasonCount, kExitReasons> counts_{};
  std::array<ReasonFigures, kExitReasons> figures_{};
  ExitFigures all_;
  std::array<ExitRecord, kRecent> recent_{};
  size_t recent_next_ = 0;
  uint64_t total_ = 0, total_cycles_ = 0;
  Sink sink_;
};

}  // namespace vtlab
