// The VM-execution controls of a simulated VMCS: which guest events and
// instructions cause VM exits (Intel SDM vol. 3C, chapter 25 "VMX
// Non-Root Operation" and section 25.6 "VM-Execution Control Fields").
// Only the controls that decide exits are kept, with the SDM's names in
// snake case; defaults follow what KVM programs (docs/HARDWARE_ASSISTED.md).
//
// Settings come from `--vmcs FILE` (lines `name = value`, `#` comments, or
// a JSON object of the same names) and `--vmcs-set name=value`; bitmaps
// take a port or MSR range in the name: `io_bitmap.0x3f8-0x3ff = 0`,
// `msr_bitmap.write.0x174 = 0`.
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace vtlab::vmx {

// The modelled processor's VMX capability MSRs (IA32_VMX_TRUE_*_CTLS; SDM
// vol. 3D, appendix A.3-A.5): the control bits it requires to be 1 (its
// "default1" bits, less those the TRUE MSRs let software clear) and the
// bits it lets be 1 (the controls the model carries out, and the exit and
// entry controls KVM sets).  Any other bit is reserved: it must be 0.
namespace caps {
inline constexpr uint32_t kPinMust1 = (1u << 1) | (1u << 2) | (1u << 4);
inline constexpr uint32_t kPrimaryMust1 = (1u << 1) | (7u << 4) | (1u << 8) | (3u << 13) | (1u << 26);
inline constexpr uint32_t kActivateSecondary = 1u << 31;
inline constexpr uint32_t kExitMust1 = (0x1FFu & ~(1u << 2)) | (1u << 10) | (1u << 11) | (1u << 13) | (1u << 14) |
                                       (1u << 16) | (1u << 17);
inline constexpr uint32_t kExitHostAddressSpaceSize = 1u << 9;
inline constexpr uint32_t kExitMay1 = kExitMust1 | (1u << 2) | kExitHostAddressSpaceSize | (1u << 15) | (0xFu << 18);
inline constexpr uint32_t kEntryMust1 = (0x1FFu & ~(1u << 2)) | (1u << 12);
inline constexpr uint32_t kEntryIa32eModeGuest = 1u << 9, kEntryToSmm = 1u << 10, kEntryDeactivateDualMonitor = 1u << 11,
                          kEntryLoadEfer = 1u << 15;
inline constexpr uint32_t kEntryMay1 = kEntryMust1 | (1u << 2) | kEntryIa32eModeGuest | kEntryToSmm |
                                       kEntryDeactivateDualMonitor | (1u << 14) | kEntryLoadEfer;
inline constexpr uint32_t kPinMay1 = kPinMust1 | (1u << 0) | (1u << 3);
inline constexpr uint32_t kPrimaryMay1 = kPrimaryMust1 | kActivateSecondary | (1u << 2) | (1u << 7) | (3u << 9) |
                                         (1u << 12) | (3u << 15) | (3u << 19) | (7u << 23) | (3u << 28);
inline constexpr uint32_t kSecondaryMay1 = (1u << 1) | (1u << 2) | (1u << 5) | (1u << 7);
inline constexpr unsigned kMaxPhysAddr = 36;  // CPUID 0x80000008 (core/isa/model_specific.cpp)
}  // namespace caps

struct Controls {
  // Pin-based VM-execution controls (SDM 25.6.1).
  bool external_interrupt_exiting = true;
  bool nmi_exiting = true;
  // Primary processor-based controls (SDM 25.6.2).
  bool interrupt_window_exiting = true;
  bool hlt_exiting = true;
  bool invlpg_exiting = false;
  bool mwait_exiting = true;
  bool monitor_exiting = true;
  bool rdtsc_exiting = false;
  bool cr3_load_exiting = false;
  bool cr3_store_exiting = false;
  bool cr8_load_exiting = true;
  bool cr8_store_exiting = true;
  bool mov_dr_exiting = true;
  bool unconditional_io_exiting = false;
  bool use_io_bitmaps = true;
  bool use_msr_bitmaps = true;
  // Secondary processor-based controls.
  bool descriptor_table_exiting = false;
  bool unrestricted_guest = true;
  bool enable_ept = true;
  bool enable_vpid = true;
  // Exception bitmap (SDM 25.6.3): bit n set, vector n exits.
  uint32_t exception_bitmap = 0;
  // Guest/host masks and read shadows for CR0 and CR4 (SDM 25.6.6): a
  // bit set in the mask is owned by the monitor; the guest reads the
  // shadow's bit there, and a write that differs from the shadow exits.
  uint64_t cr0_guest_host_mask = 0, cr0_read_shadow = 0;
  uint64_t cr4_guest_host_mask = 0, cr4_read_shadow = 0;
  // Whether a read shadow was given; otherwise it starts as the guest's
  // own register when the guest starts, as KVM writes it.
  bool cr0_read_shadow_set = false, cr4_read_shadow_set = false;
  // I/O bitmaps A (ports 0-0x7FFF) and B (0x8000-0xFFFF) as one, and the
  // four MSR bitmaps: MSRs 0-0x1FFF ("low") and 0xC0000000-0xC0001FFF
  // ("high"); any other MSR always exits (SDM 25.6.9).
  std::bitset<0x10000> io_bitmap;
  std::bitset<0x2000> msr_read_low, msr_read_high, msr_write_low, msr_write_high;

  // What only VM entry reads (SDM vol. 3C, 27.2-27.3; vm_entry.h checks
  // them), settable to see which check a bad value fails.  The control
  // words' bits that no named control above carries: by default the bits
  // the processor requires set (its "default1" bits) and, in the primary
  // word, "activate secondary controls".
  uint32_t pin_other = 0, primary_other = 0, secondary_other = 0;
  uint32_t exit_controls = 0;
  std::optional<uint32_t> entry_controls;  // else as KVM writes it for the guest at entry
  uint32_t entry_msr_load_count = 0;  // the VM-entry MSR-load area (SDM 25.8.2)
  uint64_t entry_msr_load_address = 0;
  uint32_t cr3_target_count = 0;
  uint16_t vpid = 1;
  std::optional<uint64_t> ept_pointer;  // else the model's own (write-back, 4-level)
  // The host-state area: control registers and ES, CS, SS, DS, FS, GS, TR
  // selectors, as a 64-bit host (KVM's) leaves them.
  uint64_t host_cr0 = 0, host_cr3 = 0, host_cr4 = 0;
  std::array<uint16_t, 7> host_selectors{};
  // Guest-state fields given ("guest_cr0", "guest_cs_access_rights"...);
  // VM entry takes the others from the CPU.
  std::map<std::string, uint64_t, std::less<>> guest;

  // The control words as VM entry sees them: named controls and the rest.
  uint32_t pin_word() const;
  uint32_t primary_word() const;
  uint32_t secondary_word() const;

  // What KVM programs: nested = EPT on (--hw-paging nested), else shadow paging.
  static Controls defaults(bool nested);

  // One setting; throws std::runtime_error naming what is wrong.
  void set(std::string_view name, std::string_view value);
  // A whole file: `name = value` lines, or a JSON object.
  void load(std::string_view text);
  // "" when the controls can run a guest, else why not (one line).
  std::string validate() const;

  bool io_exits(uint16_t port, unsigned size) const;
  bool msr_exits(uint32_t msr, bool write) const;

  nlohmann::json to_json() const;
};

// The controls a run uses: the defaults for `paging` ("nested" or
// "shadow"), then a --vmcs file's text, then each --vmcs-set "name=value".
// Throws std::invalid_argument with a one-line message.
Controls make_controls(std::string_view paging, std::string_view file_text, const std::vector<std::string>& settings);

}  // namespace vtlab::vmx
