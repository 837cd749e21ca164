// The probe guests are a few hand-encoded instructions in 2 MiB of RAM:
// page tables (one 2 MiB user page, identity), a GDT with kernel and user
// segments and a 64-bit TSS, an IDT whose handlers each write one port,
// and the code below.  Each probe ends with an OUT, so vtlab sees where
// the guest went (handler ports say which exception was delivered).
#include "core/kvm/kvm_caps.h"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <initializer_list>

#include "core/kvm/kvm_explain.h"
#include "core/kvm/kvm_stats.h"
#include "core/kvm/kvm_timer.h"
#include "core/kvm/kvm_vm.h"

namespace vtlab {

namespace {

constexpr uint64_t kRam = 2 << 20;
constexpr uint64_t kPml4 = 0x1000, kPdpt = 0x2000, kPd = 0x3000, kGdt = 0x4000, kIdt = 0x5000, kTss = 0x6000,
                   kCode = 0x7000, kHandlers = 0x8000, kKernelStack = 0x9000, kUserStack = 0xA000, kPd32 = 0xB000;
// Code entry points (offsets from kCode).
constexpr uint64_t kLoop = 0, kIoLoop = 0x100, kIntN = 0x200, kSyscall = 0x300, kPaging32 = 0x400;
// The port each IDT handler writes, and the one the probes end on.
constexpr uint16_t kDone = 0x80, kIoPort = 0x81, kIntPort = 0x82, kSyscallPort = 0x83, kUdPort = 0x86,
                   kDfPort = 0x88, kGpPort = 0x8D, kPfPort = 0x8E;

class ProbeGuest {
 public:
  ~ProbeGuest() {
    if (ram_) munmap(ram_, kRam);
  }
  bool open(std::string& why) {
    if (!vm.open()) return (why = vm.why(), false);
    void* p = mmap(nullptr, kRam, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return (why = "cannot map probe RAM", false);
    ram_ = static_cast<uint8_t*>(p);
    if (!vm.map(0, 0, ram_, kRam)) return (why = vm.why(), false);
    stats.open(vm.vcpu_fd());
    build_tables();
    return true;
  }
  void put(uint64_t at, std::initializer_list<uint8_t> bytes) { std::memcpy(ram_ + at, bytes.begin(), bytes.size()); }
  void put32(uint64_t at, uint32_t v) { std::memcpy(ram_ + at, &v, 4); }
  void put64(uint64_t at, uint64_t v) { std::memcpy(ram_ + at, &v, 8); }

  // Flat 32-bit protected mode at CPL 0 (paging off), or 64-bit long mode
  // at `cpl` with IOPL 3, entering at kCode + entry.
  bool enter_flat32(uint64_t entry) {
    kvm_sregs s;
    if (!vm.vcpu_ioctl(KVM_GET_SREGS, &s, "KVM_GET_SREGS")) return false;
    s.cs = segment(0x08, 11, 0, false);
    s.ds = s.es = s.fs = s.gs = s.ss = segment(0x10, 3, 0, false);
    s.tr = tss();
    s.cr0 = (s.cr0 | 1) & ~(uint64_t{1} << 31);
    s.gdt = {kGdt, 0x37, {}};
    if (!vm.vcpu_ioctl(KVM_SET_SREGS, &s, "KVM_SET_SREGS")) return false;
    return set_regs(entry, 0x2, kKernelStack);
  }
  bool enter_long(uint64_t entry, unsigned cpl) {
    kvm_sregs s;
    if (!vm.vcpu_ioctl(KVM_GET_SREGS, &s, "KVM_GET_SREGS")) return false;
    s.cs = cpl ? segment(0x23, 11, 3, true) : segment(0x08, 11, 0, true);
    s.ds = s.es = s.fs = s.gs = s.ss = cpl ? segment(0x1B, 3, 3, false) : segment(0x10, 3, 0, false);
    s.tr = tss();
    s.gdt = {kGdt, 0x37, {}};
    s.idt = {kIdt, 0xFFF, {}};
    s.cr0 = 0x80000033;  // PG, NE, ET, MP, PE
    s.cr3 = kPml4;
    s.cr4 = 0x20;      // PAE
    s.efer = 0x501;    // LMA, LME, SCE
    if (!vm.vcpu_ioctl(KVM_SET_SREGS, &s, "KVM_SET_SREGS")) return false;
    kvm_msrs_list lstar;
    if (ioctl(vm.vcpu_fd(), kKvmSetMsrs, &lstar) != 2) return vm.fail("KVM_SET_MSRS (STAR, LSTAR) failed");
    return set_regs(entry, 0x3002, cpl ? kUserStack : kKernelStack);  // IOPL 3
  }

  struct Exit {
    uint32_t reason = 0;
    uint16_t port = 0;
    unsigned cpl = 0;
  };
  // Runs until an exit other than OUT to kIoPort (counted in io_exits).
  Exit run(uint64_t limit_ns = 2'000'000'000) {
    Exit e;
    for (;;) {
      const int r = timer.run(vm.vcpu_fd(), vm.run(), limit_ns);
      if (r < 0) return Exit{KVM_EXIT_INTR, 0, 0};
      e.reason = vm.run()->exit_reason;
      if (e.reason == KVM_EXIT_IO && vm.run()->io.port == kIoPort) {
        ++io_exits;
        continue;
      }
      if (e.reason == KVM_EXIT_IO) e.port = vm.run()->io.port;
      kvm_sregs s;
      if (vm.vcpu_ioctl(KVM_GET_SREGS, &s, "KVM_GET_SREGS")) e.cpl = s.cs.dpl;
      return e;
    }
  }
  uint64_t emulated() const { return stats.value("insn_emulation"); }

  KvmVm vm;
  KvmStats stats;
  KvmRunTimer timer;
  uint64_t io_exits = 0;

 private:
  struct kvm_msrs_list {
    uint32_t n = 2, pad = 0;
    kvm_msr_entry e[2] = {{0xC0000081, 0, uint64_t{0x08} << 32}, {0xC0000082, 0, kCode + 0x380}};
  };
  static kvm_segment segment(uint16_t sel, uint8_t type, uint8_t dpl, bool code64) {
    kvm_segment s{};
    s.selector = sel;
    s.limit = 0xFFFFFFFF;
    s.type = type;
    s.present = 1;
    s.s = 1;
    s.dpl = dpl;
    s.g = 1;
    s.l = code64 ? 1 : 0;
    s.db = code64 ? 0 : 1;
    return s;
  }
  static kvm_segment tss() {
    kvm_segment t{};
    t.selector = 0x28;
    t.base = kTss;
    t.limit = 0x67;
    t.type = 11;  // busy TSS
    t.present = 1;
    return t;
  }
  bool set_regs(uint64_t entry, uint64_t flags, uint64_t rsp) {
    kvm_regs r{};
    r.rip = kCode + entry;
    r.rflags = flags;
    r.rsp = rsp;
    return vm.vcpu_ioctl(KVM_SET_REGS, &r, "KVM_SET_REGS");
  }
  void gate(unsigned vector, uint16_t port, unsigned dpl) {
    const uint64_t handler = kHandlers + vector * 4;
    put(handler, {0xE6, static_cast<uint8_t>(port), 0xF4});  // out port, al; hlt
    put64(kIdt + vector * 16, (handler & 0xFFFF) | uint64_t{0x08} << 16 | uint64_t(0x8E | dpl << 5) << 40 |
                                  ((handler >> 16) & 0xFFFF) << 48);
  }
  void build_tables() {
    put64(kPml4, kPdpt | 7);
    put64(kPdpt, kPd | 7);
    put64(kPd, 0x87);        // 2 MiB, user, writable
    put32(kPd32, 0x83);      // 32-bit paging: 4 MiB page, supervisor, writable
    put64(kGdt + 0x08, 0x00AF9A000000FFFF);  // kernel code, L
    put64(kGdt + 0x10, 0x00CF92000000FFFF);  // kernel data
    put64(kGdt + 0x18, 0x00CFF2000000FFFF);  // user data
    put64(kGdt + 0x20, 0x00AFFA000000FFFF);  // user code, L
    put64(kGdt + 0x28, 0x67 | (kTss & 0xFFFFFF) << 16 | uint64_t{0x8B} << 40);
    put64(kTss + 4, kKernelStack);  // RSP0
    gate(6, kUdPort, 0);
    gate(8, kDfPort, 0);
    gate(13, kGpPort, 0);
    gate(14, kPfPort, 0);
    gate(0x80, kIntPort, 3);
    put(kCode + 0x380, {0xE6, kSyscallPort, 0xF4});  // the SYSCALL target (LSTAR)
    // mov ecx, imm32; L: dec ecx; jnz L; out kDone, al
    put(kCode + kLoop, {0xB9, 0, 0, 0, 0, 0xFF, 0xC9, 0x75, 0xFC, 0xE6, kDone});
    // mov ecx, imm32; L: out kIoPort, al; dec ecx; jnz L; out kDone, al
    put(kCode + kIoLoop, {0xB9, 0, 0, 0, 0, 0xE6, kIoPort, 0xFF, 0xC9, 0x75, 0xFA, 0xE6, kDone});
    put(kCode + kIntN, {0xCD, 0x80, 0xE6, kDone});
    put(kCode + kSyscall, {0x0F, 0x05, 0xE6, kDone});
    // CR4.PSE, CR3 = kPd32, CR0.PG: 32-bit paging, then out kDone
    put(kCode + kPaging32, {0x0F, 0x20, 0xE0, 0x83, 0xC8, 0x10, 0x0F, 0x22, 0xE0, 0xB8, 0x00, 0xB0, 0x00, 0x00,
                            0x0F, 0x22, 0xD8, 0x0F, 0x20, 0xC0, 0x0D, 0x00, 0x00, 0x00, 0x80, 0x0F, 0x22, 0xC0,
                            0xE6, kDone});
  }

  uint8_t* ram_ = nullptr;
};

std::string port_meaning(uint16_t port) {
  switch (port) {
    case kDone: return "ran to its end";
    case kIntPort: return "reached its DPL 3 gate (vector 0x80)";
    case kSyscallPort: return "reached LSTAR";
    case kUdPort: return "raised #UD";
    case kDfPort: return "raised #DF";
    case kGpPort: return "raised #GP";
    case kPfPort: return "raised #PF";
    default: return fmt::format("wrote port {:#x}", port);
  }
}

std::string describe(const ProbeGuest::Exit& e) {
  if (e.reason == KVM_EXIT_IO) return fmt::format("{} (seen at CPL {})", port_meaning(e.port), e.cpl);
  if (e.reason == KVM_EXIT_INTR) return "did not finish in time";
  return "stopped with KVM exit " + kvm_exit_name(e.reason);
}

// A fresh VM per probe: a probe that breaks its vCPU breaks nothing else.
template <typename F> void with_guest(KvmCaps::Probe& p, F&& f) {
  ProbeGuest g;
  std::string why;
  if (!g.open(why)) {
    p.note = "could not start: " + why;
    return;
  }
  f(g);
}

}  // namespace

KvmCaps probe_kvm(uint64_t io_samples) {
  KvmCaps c;
  c.module = kvm_host_module();
  {
    KvmVm vm;
    if (!vm.open()) {
      c.why_not = vm.why();
      return c;
    }
    c.api_version = vm.api_version();
    c.user_memory = vm.check(KVM_CAP_USER_MEMORY);
    c.irqchip = vm.check(KVM_CAP_IRQCHIP);
    c.set_guest_debug = vm.check(KVM_CAP_SET_GUEST_DEBUG);
    c.guest_debug_hw_bps = vm.check(KVM_CAP_GUEST_DEBUG_HW_BPS);
    c.binary_stats_fd = vm.check(KVM_CAP_BINARY_STATS_FD);
    c.immediate_exit = vm.check(KVM_CAP_IMMEDIATE_EXIT);
    c.sync_regs = vm.check(KVM_CAP_SYNC_REGS);
    c.nr_memslots = vm.check(KVM_CAP_NR_MEMSLOTS);
  }
  if (!c.user_memory) {
    c.why_not = "KVM_CAP_USER_MEMORY is absent: guest RAM cannot be shared";
    return c;
  }
  constexpr uint32_t kCpl0Iterations = 1000, kCpl3Iterations = 20'000'000;
  with_guest(c.cpl0_32, [&](ProbeGuest& g) {
    g.put32(kCode + kLoop + 1, kCpl0Iterations);
    if (!g.enter_flat32(kLoop)) return void(c.cpl0_32.note = g.vm.why());
    const uint64_t e0 = g.emulated(), t0 = host_ns();
    const auto e = g.run();
    const uint64_t ns = host_ns() - t0, emulated = g.emulated() - e0;
    c.cpl0_32.ran = e.reason == KVM_EXIT_IO && e.port == kDone;
    c.cpl0_emulated = emulated >= 2 * kCpl0Iterations;
    c.cpl0_loop_insns_per_s = ns ? 2.0 * kCpl0Iterations * 1e9 / double(ns) : 0;
    c.cpl0_32.note = fmt::format("{}; {} instructions, insn_emulation +{}, {:.2f} M instructions/s", describe(e),
                                 2 * kCpl0Iterations + 1, emulated, c.cpl0_loop_insns_per_s / 1e6);
  });
  with_guest(c.paging_32, [&](ProbeGuest& g) {
    if (!g.enter_flat32(kPaging32)) return void(c.paging_32.note = g.vm.why());
    const auto e = g.run();
    kvm_sregs s{};
    g.vm.vcpu_ioctl(KVM_GET_SREGS, &s, "KVM_GET_SREGS");
    c.paging_32.ran = e.reason == KVM_EXIT_IO && e.port == kDone && (s.cr0 >> 31);
    c.paging_32.note = "MOV CR0 with PG=1, EFER.LME=0: " + describe(e);
  });
  with_guest(c.long_cpl0, [&](ProbeGuest& g) {
    g.put32(kCode + kLoop + 1, kCpl0Iterations);
    if (!g.enter_long(kLoop, 0)) return void(c.long_cpl0.note = g.vm.why());
    const uint64_t e0 = g.emulated();
    const auto e = g.run();
    c.long_cpl0.ran = e.reason == KVM_EXIT_IO && e.port == kDone;
    c.long_cpl0.note = fmt::format("{}; insn_emulation +{} for {} instructions", describe(e), g.emulated() - e0,
                                   2 * kCpl0Iterations + 1);
  });
  with_guest(c.long_cpl3, [&](ProbeGuest& g) {
    g.put32(kCode + kLoop + 1, kCpl3Iterations);
    if (!g.enter_long(kLoop, 3)) return void(c.long_cpl3.note = g.vm.why());
    const uint64_t e0 = g.emulated(), t0 = host_ns();
    const auto e = g.run();
    const uint64_t ns = host_ns() - t0, emulated = g.emulated() - e0;
    c.long_cpl3.ran = e.reason == KVM_EXIT_IO && e.port == kDone;
    c.cpl3_native = c.long_cpl3.ran && emulated < 100;
    c.cpl3_loop_insns_per_s = ns ? 2.0 * kCpl3Iterations * 1e9 / double(ns) : 0;
    c.long_cpl3.note = fmt::format("{}; {} instructions, insn_emulation +{}, {:.0f} M instructions/s", describe(e),
                                   2ull * kCpl3Iterations + 1, emulated, c.cpl3_loop_insns_per_s / 1e6);
  });
  with_guest(c.int_from_cpl3, [&](ProbeGuest& g) {
    if (!g.enter_long(kIntN, 3)) return void(c.int_from_cpl3.note = g.vm.why());
    const auto e = g.run();
    c.int_from_cpl3.ran = e.reason == KVM_EXIT_IO && e.port == kIntPort && e.cpl == 0;
    c.int_from_cpl3.note = "INT 0x80: " + describe(e);
  });
  with_guest(c.syscall_from_cpl3, [&](ProbeGuest& g) {
    if (!g.enter_long(kSyscall, 3)) return void(c.syscall_from_cpl3.note = g.vm.why());
    const auto e = g.run();
    c.syscall_from_cpl3.ran = e.reason == KVM_EXIT_IO && e.port == kSyscallPort && e.cpl == 0;
    c.syscall_from_cpl3.note = "SYSCALL: " + describe(e);
  });
  with_guest(c.single_step, [&](ProbeGuest& g) {
    g.put32(kCode + kLoop + 1, kCpl0Iterations);
    if (!g.enter_flat32(kLoop)) return void(c.single_step.note = g.vm.why());
    kvm_guest_debug dbg{};
    dbg.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
    if (!g.vm.vcpu_ioctl(KVM_SET_GUEST_DEBUG, &dbg, "KVM_SET_GUEST_DEBUG")) return void(c.single_step.note = g.vm.why());
    const auto e = g.run();
    kvm_regs r{};
    g.vm.vcpu_ioctl(KVM_GET_REGS, &r, "KVM_GET_REGS");
    c.single_step.ran = e.reason == KVM_EXIT_DEBUG && r.rip == kCode + kLoop + 5;
    c.single_step.note = fmt::format("one step from MOV ECX: KVM exit {}, RIP advanced by {} (expected 5)",
                                     kvm_exit_name(e.reason), r.rip - (kCode + kLoop));
  });
  for (unsigned cpl : {3u, 0u}) {
    KvmCaps::Probe io;
    with_guest(io, [&](ProbeGuest& g) {
      g.put32(kCode + kIoLoop + 1, static_cast<uint32_t>(io_samples));
      if (!g.enter_long(kIoLoop, cpl)) return;
      const uint64_t e0 = g.emulated(), t0 = host_ns();
      const auto e = g.run();
      const uint64_t ns = host_ns() - t0;
      if (e.reason != KVM_EXIT_IO || e.port != kDone || g.io_exits != io_samples) return;
      (cpl ? c.io_exit_round_trip_ns : c.io_exit_round_trip_cpl0_ns) = double(ns) / double(g.io_exits);
      if (cpl) {
        c.io_exit_samples = g.io_exits;
        c.io_exit_emulated = g.emulated() - e0;
      }
    });
  }
  c.usable = c.cpl0_32.ran || c.long_cpl0.ran;
  if (!c.usable) c.why_not = "no probe guest ran: " + c.cpl0_32.note;
  return c;
}

std::string format_kvm_caps(const KvmCaps& c) {
  const auto yes = [](bool b) { return b ? "yes" : "no"; };
  std::string out = fmt::format("/dev/kvm: {}\n", c.usable ? "usable" : "not usable: " + c.why_not);
  if (c.api_version == 0) return out;
  out += fmt::format("module: {}{}\n", c.module,
                     c.module == "kvm_pvm" ? " (software KVM on page tables: the CPU has no VT-x/AMD-V)" : "");
  out += fmt::format("api: version {}; user memory {}, memory slots {}, in-kernel irqchip {}, immediate exit {}, "
                     "sync regs {:#x}, binary stats fd {}, guest debug {} (hardware breakpoints {})\n",
                     c.api_version, yes(c.user_memory), c.nr_memslots, yes(c.irqchip), yes(c.immediate_exit),
                     c.sync_regs, yes(c.binary_stats_fd), yes(c.set_guest_debug), c.guest_debug_hw_bps);
  const auto probe = [&](const char* what, const KvmCaps::Probe& p) {
    out += fmt::format("  {:<34} {:<4} {}\n", what, yes(p.ran), p.note);
  };
  out += "probes (what a guest can do here):\n";
  probe("32-bit protected mode, CPL 0", c.cpl0_32);
  probe("32-bit paging", c.paging_32);
  probe("64-bit long mode, CPL 0", c.long_cpl0);
  probe("64-bit long mode, CPL 3", c.long_cpl3);
  probe("INT n from CPL 3 (DPL 3 gate)", c.int_from_cpl3);
  probe("SYSCALL from CPL 3", c.syscall_from_cpl3);
  probe("single-step (SET_GUEST_DEBUG)", c.single_step);
  out += fmt::format("CPL 0 code: {}; CPL 3 code: {}\n",
                     c.cpl0_emulated ? "run by KVM's instruction emulator" : "native",
                     c.cpl3_native ? "native" : "emulated or not run");
  if (c.io_exit_samples)
    out += fmt::format("port I/O exit round trip (OUT to vtlab and back, {} samples): {:.2f} us from CPL 3 "
                       "(insn_emulation +{}), {:.2f} us from CPL 0\n",
                       c.io_exit_samples, c.io_exit_round_trip_ns / 1000, c.io_exit_emulated,
                       c.io_exit_round_trip_cpl0_ns / 1000);
  out += "vtlab under --mode hw --hw-backend kvm: ";
  if (!c.usable) return out + "cannot run guests here\n";
  out += c.paging_32.ran ? "any guest vtlab runs" : "guests without paging, or 64-bit guests (paging only in long mode)";
  if (!c.syscall_from_cpl3.ran || !c.int_from_cpl3.ran)
    out += "; ring-3 code must enter its kernel through an exception (samples/minios64: --append syscall=ud2)";
  return out + "\n";
}

}  // namespace vtlab
