// What this host's /dev/kvm can run, found out rather than assumed: the API
// version and the capabilities the engine uses (KVM_CHECK_EXTENSION), then
// small probe guests that show what the CPU side does: whether CPL 0 code
// is run by KVM's instruction emulator (the vCPU's insn_emulation
// statistic counts it), whether 32-bit paging works, whether long-mode
// CPL 3 code runs natively, what INT n and SYSCALL from ring 3 turn into,
// single-stepping, and the cost of one port-I/O exit round trip.
// `vtlab info` prints it; tests skip with its reasons.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vtlab {

struct KvmCaps {
  bool usable = false;     // a VM with a vCPU can be created and run
  std::string why_not;     // when not usable
  std::string module;      // kvm_intel, kvm_amd, kvm_pvm or unknown
  int api_version = 0;
  // KVM_CHECK_EXTENSION values (0: absent).
  int user_memory = 0, irqchip = 0, set_guest_debug = 0, guest_debug_hw_bps = 0, binary_stats_fd = 0,
      immediate_exit = 0, sync_regs = 0, nr_memslots = 0;

  // Probe results; each with a one-line note saying what was seen.
  struct Probe {
    bool ran = false;  // the probe guest reached its end
    std::string note;
  };
  Probe cpl0_32;        // flat 32-bit protected mode, CPL 0, paging off
  Probe paging_32;      // 32-bit paging (CR0.PG with PSE, EFER.LME=0)
  Probe long_cpl0;      // 64-bit, CPL 0
  Probe long_cpl3;      // 64-bit, CPL 3
  Probe int_from_cpl3;  // INT 0x80 from CPL 3 through a DPL 3 gate
  Probe syscall_from_cpl3;
  Probe single_step;    // KVM_SET_GUEST_DEBUG single-step over one instruction
  bool cpl0_emulated = false;   // insn_emulation rose by about one per CPL 0 instruction
  bool cpl3_native = false;     // it did not for CPL 3 code
  double io_exit_round_trip_ns = 0;  // one OUT from CPL 3 to vtlab and back
  double io_exit_round_trip_cpl0_ns = 0;  // the same loop at CPL 0
  uint64_t io_exit_samples = 0;
  uint64_t io_exit_emulated = 0;  // insn_emulation during the CPL 3 loop
  double cpl3_loop_insns_per_s = 0, cpl0_loop_insns_per_s = 0;
};

// Runs the checks and probes (about 0.1 s; `io_samples` OUTs for the
// round-trip figure).
KvmCaps probe_kvm(uint64_t io_samples = 20000);
// The text `vtlab info` prints.
std::string format_kvm_caps(const KvmCaps& caps);

}  // namespace vtlab
