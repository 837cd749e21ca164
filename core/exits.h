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
#include <optional>
#include <string>
#include <string_view>

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
};

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

class ExitLog {
 public:
  struct ReasonCount {
    uint64_t count = 0;
    uint64_t cycles = 0;
    std::map<uint32_t, uint64_t> by_key;
  };
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
  uint64_t total() const { return total_; }
  uint64_t total_cycles() const { return total_cycles_; }

 private:
  CostModel costs_;
  std::array<ReasonCount, kExitReasons> counts_{};
  uint64_t total_ = 0, total_cycles_ = 0;
  Sink sink_;
};

}  // namespace vtlab
