// VMX basic exit reasons and exit qualifications, numbered and named as the
// Intel SDM vol. 3C, appendix C ("VMX Basic Exit Reasons") and section
// 28.2.1 ("Basic VM-Exit Information", the exit-qualification tables) give
// them.  The simulated VT-x monitor (hw_sim_monitor.h) records each exit
// with one of these beside the shared taxonomy reason (core/exits.h).
#pragma once

#include <cstdint>
#include <string_view>

namespace vtlab::vmx {

enum class ExitReason : uint16_t {
  ExceptionOrNmi = 0,
  ExternalInterrupt = 1,
  TripleFault = 2,
  InitSignal = 3,
  StartupIpi = 4,
  IoSmi = 5,
  OtherSmi = 6,
  InterruptWindow = 7,
  NmiWindow = 8,
  TaskSwitch = 9,
  Cpuid = 10,
  Getsec = 11,
  Hlt = 12,
  Invd = 13,
  Invlpg = 14,
  Rdpmc = 15,
  Rdtsc = 16,
  Rsm = 17,
  Vmcall = 18,
  CrAccess = 28,
  MovDr = 29,
  IoInstruction = 30,
  Rdmsr = 31,
  Wrmsr = 32,
  EntryFailureGuestState = 33,  // with bit 31 of the exit reason set
  Mwait = 36,
  MonitorTrapFlag = 37,
  Monitor = 39,
  Pause = 40,
  GdtrIdtrAccess = 46,
  LdtrTrAccess = 47,
  EptViolation = 48,
  EptMisconfiguration = 49,
  Rdtscp = 51,
  PreemptionTimer = 52,
  Wbinvd = 54,
  Xsetbv = 55,
};

// Highest basic exit reason the name table knows.
inline constexpr unsigned kMaxExitReason = 69;

// The SDM's name for basic exit reason `n` ("I/O instruction"); "" for a
// number the SDM does not assign.
std::string_view exit_reason_name(unsigned n);
inline std::string_view exit_reason_name(ExitReason r) { return exit_reason_name(static_cast<unsigned>(r)); }

// Exit qualifications (SDM vol. 3C, 28.2.1).
// Control-register accesses (table 28-3): CR number, access type, GPR, LMSW source.
enum class CrAccessType : uint8_t { MovToCr = 0, MovFromCr = 1, Clts = 2, Lmsw = 3 };
uint64_t cr_qualification(unsigned cr, CrAccessType type, unsigned gpr, uint16_t lmsw_source = 0);
// MOV DR (table 28-4): DR number, direction (true: MOV from DR), GPR.
uint64_t dr_qualification(unsigned dr, bool from_dr, unsigned gpr);
// I/O instructions (table 28-5): access size in bytes, IN or OUT, string,
// REP, immediate operand, port.
uint64_t io_qualification(unsigned size, bool in, bool string, bool rep, bool immediate, uint16_t port);
// EPT violations (table 28-7): the access (read, write, fetch), what the
// EPT entries allowed (bits 5:3), whether a guest linear address was
// involved and whether the access was to the final translation (bit 8) or
// to a guest paging structure.
uint64_t ept_violation_qualification(bool read, bool write, bool fetch, unsigned allowed_rwx,
                                     bool linear_valid, bool final_translation);

}  // namespace vtlab::vmx
