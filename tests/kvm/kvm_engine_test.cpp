// The KVM engine (core/kvm/kvm_engine.h) running guests with the machine's
// own devices: transcripts must equal native's, and the exit table must
// hold exact counts wherever the guest fixes them (port writes for fixed
// output, HLTs the code executes once).  Interrupt, interrupt-window and
// the kernel's own counts follow host time and vary from run to run
// (docs/KVM.md), so only which keys appear is asserted for them.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>

#include "core/loader/file.h"
#include "core/loader/flat.h"
#include "core/loader/multiboot.h"
#include "kvm/kvm_fixture.h"
#include "support/boot.h"
#include "support/elf_symbols.h"

namespace vtlab::test {

namespace {

const std::string kMiniOs64 = sample_binary("minios64.elf");

void boot(Machine& m, const std::string& path, const std::string& cmdline = "") {
  load_multiboot(read_file(path), path.substr(path.rfind('/') + 1), cmdline, m.memory(), m.cpu().s);
}

void boot_flat(Machine& m, const std::vector<uint8_t>& code) { load_flat(code, 0x100000, m.memory(), m.cpu().s, "test"); }

}  // namespace

TEST(KvmEngine, Minios64WithUd2SystemCallsPrintsTheNativeTranscript) {
  SKIP_WITHOUT_KVM();
  MachineConfig cfg = kvm_config();
  std::string debugcon;
  cfg.debugcon_out = [&debugcon](uint8_t b) { debugcon.push_back(static_cast<char>(b)); };
  Machine m(cfg);
  boot(m, kMiniOs64, "syscall=ud2");
  const RunResult r = m.run(20'000'000'000);  // 20 s of host time at most
  const std::string expected = read_text_file(sample_source("minios64/expected.txt"));
  EXPECT_EQ(m.serial_transcript(), expected);
  ASSERT_EQ(r.reason, StopReason::GuestExit) << r.detail;
  EXPECT_EQ(r.guest_status, 67u);
  EXPECT_EQ(m.engine().name(), "kvm");
  EXPECT_EQ(m.monitor().name(), "hw-kvm");
  // Deterministic: one OUT per serial byte plus the divisor latch, one LSR
  // poll per byte, the debug-console note, one isa-debug-exit, one HLT.
  EXPECT_EQ(exit_key_count(m, ExitReason::Io, 0x3F8), expected.size() + 1);
  EXPECT_EQ(exit_key_count(m, ExitReason::Io, 0x3FD), expected.size());
  EXPECT_EQ(exit_key_count(m, ExitReason::Io, 0xE9), debugcon.size());
  EXPECT_EQ(exit_key_count(m, ExitReason::Io, 0xF4), 1u);
  EXPECT_EQ(m.exits().count(ExitReason::Hlt).count, 1u);
  // Host-timed: the timer preempted pid 1 (the transcript says so), so
  // IRQ 0 was injected; no other vector ever is.
  const auto& irqs = m.exits().count(ExitReason::ExternalInterrupt).by_key;
  ASSERT_EQ(irqs.size(), 1u);
  EXPECT_EQ(irqs.begin()->first, 0x20u);
  const std::set<ExitReason> allowed = {ExitReason::Io, ExitReason::Hlt, ExitReason::ExternalInterrupt,
                                        ExitReason::InterruptWindow};
  for (size_t i = 0; i < kExitReasons; ++i) {
    if (m.exits().count(static_cast<ExitReason>(i)).count) {
      EXPECT_TRUE(allowed.count(static_cast<ExitReason>(i))) << exit_reason_name(static_cast<ExitReason>(i));
    }
  }
  // KVM's exits as vtlab counted them agree with the taxonomy one for one.
  EXPECT_EQ(counter(m, "kvm.exit.io"), m.exits().count(ExitReason::Io).count);
  EXPECT_EQ(counter(m, "kvm.exit.hlt"), 1u);
  EXPECT_EQ(counter(m, "kvm.exit.irq_window_open"), m.exits().count(ExitReason::InterruptWindow).count);
  if (host_kvm().binary_stats_fd) {
    EXPECT_EQ(counter(m, "kvm.vcpu.halt_exits"), 1u);
  }
}

// What this host does with a ring-3 SYSCALL, seen by the unmodified guest:
// on kvm_pvm it reaches LSTAR still at CPL 3, so fetching the supervisor
// page of syscall_entry faults (#PF 0x5, CR2 = syscall_entry).
TEST(KvmEngine, Minios64SyscallOnThisHost) {
  SKIP_WITHOUT_KVM();
  if (host_kvm().syscall_from_cpl3.ran) GTEST_SKIP() << "SYSCALL from CPL 3 works on this host";
  if (host_kvm().syscall_from_cpl3.note != "SYSCALL: reached LSTAR (seen at CPL 3)")
    GTEST_SKIP() << "this host's SYSCALL: " << host_kvm().syscall_from_cpl3.note;
  Machine m(kvm_config());
  boot(m, kMiniOs64);
  const RunResult r = m.run(20'000'000'000);
  ASSERT_EQ(r.reason, StopReason::GuestExit) << r.detail;
  EXPECT_EQ(r.guest_status, 95u);  // a check failed
  const uint32_t entry = elf32_symbols(kMiniOs64).at("syscall_entry");
  const std::string killed = fmt::format(
      "pid 1 \"sieve\": killed by vector 14, error code 0x5 (protection, read, user mode), CR2 0x{:016x}", entry);
  EXPECT_NE(m.serial_transcript().find(killed), std::string::npos) << m.serial_transcript();
}

TEST(KvmEngine, HelloPrintsItsTranscriptThroughPortExits) {
  SKIP_WITHOUT_KVM();
  Machine m(kvm_config());
  boot(m, sample_binary("hello.elf"));
  const RunResult r = m.run(10'000'000'000);
  const std::string expected = read_text_file(sample_source("hello/expected.txt"));
  EXPECT_EQ(m.serial_transcript(), expected);
  EXPECT_EQ(r.reason, StopReason::GuestExit) << r.detail;
  EXPECT_EQ(exit_key_count(m, ExitReason::Io, 0xF4), 1u);
}

// `jmp $` at CPL 0 runs in KVM's emulator on kvm_pvm and never exits by
// itself: the host timer must end the run exactly at the budget.
TEST(KvmEngine, SpinningKernelStopsAtTheBudget) {
  SKIP_WITHOUT_KVM();
  Machine m(kvm_config());
  boot_flat(m, {0xEB, 0xFE});
  const RunResult r = m.run(30'000'000);
  EXPECT_EQ(r.reason, StopReason::BudgetExhausted) << r.detail;
  EXPECT_EQ(r.virtual_time, 30'000'000u);
  EXPECT_EQ(m.cpu().s.rip, 0x100000u);
  EXPECT_EQ(m.exits().total(), 0u);
}

TEST(KvmEngine, ThirtyTwoBitPagingShutdownIsExplained) {
  SKIP_WITHOUT_KVM();
  if (host_kvm().paging_32.ran) GTEST_SKIP() << "this host's KVM runs 32-bit paging";
  Machine m(kvm_config());
  // CR4.PSE; CR3 = 0x200000; CR0.PG (no IDT: the refusal ends in a triple fault)
  boot_flat(m, {0x0F, 0x20, 0xE0, 0x83, 0xC8, 0x10, 0x0F, 0x22, 0xE0, 0xB8, 0x00, 0x00, 0x20, 0x00, 0x0F, 0x22,
                0xD8, 0x0F, 0x20, 0xC0, 0x0D, 0x00, 0x00, 0x00, 0x80, 0x0F, 0x22, 0xC0, 0xF4});
  const RunResult r = m.run(1'000'000'000);
  ASSERT_EQ(r.reason, StopReason::Shutdown) << r.detail;
  EXPECT_NE(r.detail.find("turned on 32-bit paging (MOV CR0 with PG=1 and EFER.LME=0)"), std::string::npos)
      << r.detail;
  EXPECT_EQ(m.cpu().s.rip, 0x100019u);  // at the MOV CR0
  EXPECT_EQ(m.exits().count(ExitReason::Shutdown).count, 1u);
}

// MMIO reaches the machine's own local APIC: the same values as under the
// interpreter, one mmio exit per access, keyed by the APIC's page.
TEST(KvmEngine, LocalApicMmioGoesToTheMachinesDevice) {
  SKIP_WITHOUT_KVM();
  const std::vector<uint8_t> code = {
      0xA1, 0x30, 0x00, 0xE0, 0xFE,                                // mov eax, [0xFEE00030] (version)
      0xC7, 0x05, 0x80, 0x00, 0xE0, 0xFE, 0x20, 0x00, 0x00, 0x00,  // mov dword [0xFEE00080], 0x20 (TPR)
      0x8B, 0x1D, 0x80, 0x00, 0xE0, 0xFE,                          // mov ebx, [0xFEE00080]
      0xF4};                                                       // hlt (IF=0)
  const MachineConfig native;
  Machine reference(native);
  boot_flat(reference, code);
  ASSERT_EQ(reference.run(1'000'000).reason, StopReason::Halted);
  Machine m(kvm_config());
  boot_flat(m, code);
  const RunResult r = m.run(1'000'000'000);
  EXPECT_EQ(r.reason, StopReason::Halted) << r.detail;
  EXPECT_EQ(r.detail, "HLT with interrupts disabled");
  EXPECT_EQ(m.cpu().s.gpr[RAX], reference.cpu().s.gpr[RAX]);
  EXPECT_EQ(m.cpu().s.gpr[RBX], 0x20u);
  EXPECT_EQ(exit_key_count(m, ExitReason::Mmio, 0xFEE00000), 3u);
  EXPECT_EQ(m.exits().count(ExitReason::Hlt).count, 1u);
  EXPECT_EQ(m.cpu().s.rip, 0x100016u);  // past the HLT
}

// One step from the multiboot entry retires the same instruction the
// interpreter does.
TEST(KvmEngine, StepRunsOneInstruction) {
  SKIP_WITHOUT_KVM();
  if (!host_kvm().single_step.ran) GTEST_SKIP() << "single-stepping: " << host_kvm().single_step.note;
  MachineConfig native;
  Machine reference(native);
  boot(reference, sample_binary("hello.elf"));
  ASSERT_EQ(reference.engine().step(), StopReason::None);
  Machine m(kvm_config());
  boot(m, sample_binary("hello.elf"));
  ASSERT_EQ(m.engine().step(), StopReason::None) << m.cpu().stop_detail();
  EXPECT_EQ(m.cpu().s.rip, reference.cpu().s.rip);
  EXPECT_EQ(m.cpu().s.gpr[RSP], reference.cpu().s.gpr[RSP]);
}

}  // namespace vtlab::test
