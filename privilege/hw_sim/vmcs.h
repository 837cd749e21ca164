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

#include <bitset>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace vtlab::vmx {

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
