// The fuzz targets' input layouts (tests/support/fuzz_inputs.h): each CPU
// start state is the mode, ring and paging it names, and the hand-made
// seed corpora in tests/fuzz/corpus/ replay here, in the normal and the
// ASan+UBSan builds, with the results the seeds were written for.
// Regression tests for fuzz findings replay their reproducers the same way.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "support/fuzz_inputs.h"

namespace vtlab::test::fuzz {
namespace {

const std::filesystem::path kCorpus = std::filesystem::path(VTLAB_GUESTS_SRC_DIR) / ".." / "fuzz" / "corpus";


// INT3, then HLT as the handler of every vector: the breakpoint is
// delivered through the IVT or IDT, and the handler halts with interrupts
// off, leaving the delivery's stack frame to check.
class FuzzStart : public ::testing::TestWithParam<CpuStart> {};

TEST_P(FuzzStart, BreakpointReachesTheHandlerAtCpl0) {
  const CpuStart start = GetParam();
  MachineConfig cfg;
  cfg.ram_bytes = kRam;
  Machine m(cfg);
  const uint8_t code[] = {0xCC, 0xF4};
  prepare_cpu(m, start, 1, code, sizeof code);
  const CpuState& s = m.cpu().s;
  const unsigned ring = cpu_start_ring(start);
  const bool outer = ring != 0;  // the gate switches to the TSS's ring-0 stack
  const bool long_mode = start == CpuStart::Long0 || start == CpuStart::Long3;
  EXPECT_EQ(s.real_mode(), start == CpuStart::Real);
  EXPECT_EQ(s.cpl(), ring);
  EXPECT_EQ((s.cr0 & cr0::PG) != 0, start == CpuStart::Paged0 || start == CpuStart::Paged1 ||
                                        start == CpuStart::Paged2 || start == CpuStart::Paged3 ||
                                        start == CpuStart::Pae3 || long_mode);
  EXPECT_EQ((s.cr4 & cr4::PAE) != 0, start == CpuStart::Pae3 || long_mode);
  EXPECT_EQ(s.code_size(), long_mode ? 8u : start == CpuStart::Real ? 2u : 4u);

  const RunResult r = m.run(kCpuBudget);
  EXPECT_EQ(r.reason, StopReason::Halted) << r.detail;
  EXPECT_EQ(r.instructions, 2u);
  EXPECT_EQ(s.rip, kCode + 2);
  EXPECT_EQ(s.cpl(), 0u);
  PhysicalMemory& mem = m.memory();
  if (long_mode) {
    // Always the 8-byte SS:RSP, RFLAGS, CS:RIP frame, on RSP0 from ring 3
    // with a null SS (RPL 0), on the current stack, aligned to 16, at CPL 0.
    const uint64_t top = outer ? kKernelStack : kKernelStack & ~uint64_t{15};
    EXPECT_EQ(s.gpr[RSP], top - 40);
    EXPECT_EQ(mem.read(top - 40, 8), kCode + 1);
    EXPECT_EQ(mem.read(top - 32, 8), outer ? kCode64User : kCode64);
    EXPECT_EQ(mem.read(top - 16, 8), outer ? kUserStack : kKernelStack);
    EXPECT_EQ(mem.read(top - 8, 8), outer ? kData3 : kData0);
    EXPECT_EQ(s.seg[SS].selector, outer ? 0u : kData0);
  } else if (start == CpuStart::Real) {
    EXPECT_EQ(s.gpr[RSP], 0xFFF0u - 6);
    EXPECT_EQ(mem.read(0xFFF0 - 6, 2), kCode + 1);  // IP after INT3
    EXPECT_EQ(mem.read(0xFFF0 - 4, 2), 0u);         // CS
  } else if (outer) {
    static constexpr uint16_t kCodeSel[] = {0, kCode1, kCode2, kCode3}, kDataSel[] = {0, kData1, kData2, kData3};
    EXPECT_EQ(s.seg[SS].selector, kData0);
    EXPECT_EQ(s.gpr[RSP], kKernelStack - 20);
    EXPECT_EQ(mem.read(kKernelStack - 20, 4), kCode + 1);
    EXPECT_EQ(mem.read(kKernelStack - 16, 4), kCodeSel[ring]);
    EXPECT_EQ(mem.read(kKernelStack - 8, 4), kUserStack);
    EXPECT_EQ(mem.read(kKernelStack - 4, 4), kDataSel[ring]);
  } else {
    EXPECT_EQ(s.gpr[RSP], kKernelStack - 12);
    EXPECT_EQ(mem.read(kKernelStack - 12, 4), kCode + 1);
    EXPECT_EQ(mem.read(kKernelStack - 8, 4), kCode0);
  }
}

INSTANTIATE_TEST_SUITE_P(EveryStart, FuzzStart,
                         ::testing::Values(CpuStart::Real, CpuStart::Flat0, CpuStart::Flat3, CpuStart::Paged0,
                                           CpuStart::Paged3, CpuStart::Pae3, CpuStart::Long0, CpuStart::Long3,
                                           CpuStart::Flat1, CpuStart::Flat2, CpuStart::Paged1, CpuStart::Paged2),
                         [](const auto& info) { return as_test_name(cpu_start_name(info.param)); });

// CLI at CPL 3 faults (#GP(0)) unless the IOPL extra lifts IOPL to 3;
// every handler is the HLT at offset 2.
TEST(FuzzStartExtras, Iopl3LetsCpl3ClearIf) {
  const uint8_t code[] = {0xFA, 0xCC, 0xF4};  // CLI; INT3; HLT
  for (const uint8_t extras : {uint8_t{0}, extra::kIopl3}) {
    SCOPED_TRACE(testing::Message() << "extras=" << int(extras));
    MachineConfig cfg;
    cfg.ram_bytes = kRam;
    Machine m(cfg);
    prepare_cpu(m, CpuStart::Flat3, 2, code, sizeof code, extras);
    const RunResult r = m.run(kCpuBudget);
    EXPECT_EQ(r.reason, StopReason::Halted) << r.detail;
    if (extras) {
      EXPECT_EQ(r.instructions, 3u);
      EXPECT_EQ(m.memory().read(kKernelStack - 20, 4), kCode + 2);  // INT3's return address
    } else {
      EXPECT_EQ(r.instructions, 1u);
      EXPECT_EQ(m.memory().read(kKernelStack - 24, 4), 0u);    // #GP error code
      EXPECT_EQ(m.memory().read(kKernelStack - 20, 4), kCode);  // the CLI
    }
  }
}

// The ring-1 and ring-2 starts are not ring 0 to the privilege checks:
// MOV from CR0 faults (#GP(0): CPL > 0) into the ring-0 handler, the HLT.
TEST(FuzzStartRings, PrivilegeChecksAtRingsOneAndTwo) {
  for (const CpuStart start : {CpuStart::Flat1, CpuStart::Flat2, CpuStart::Paged1, CpuStart::Paged2}) {
    SCOPED_TRACE(cpu_start_name(start));
    const uint8_t code[] = {0x0F, 0x20, 0xC0, 0xF4};  // MOV EAX, CR0; HLT
    MachineConfig cfg;
    cfg.ram_bytes = kRam;
    Machine m(cfg);
    prepare_cpu(m, start, 3, code, sizeof code);
    const RunResult r = m.run(kCpuBudget);
    EXPECT_EQ(r.reason, StopReason::Halted) << r.detail;
    EXPECT_EQ(r.instructions, 1u);
    EXPECT_EQ(m.cpu().s.cpl(), 0u);
    EXPECT_EQ(m.memory().read(kKernelStack - 24, 4), 0u);    // #GP error code
    EXPECT_EQ(m.memory().read(kKernelStack - 20, 4), kCode);  // the MOV
  }
}

// A fault's frame holds RF = 1 (SDM vol. 3, 17.3.1.1), as the silicon's
// does (tests/fuzz/kvm_diff64.cpp): the UD2's #UD, in 32-bit and 64-bit
// mode; INT3 (a software interrupt) pushes RF as it is, 0.
TEST(FuzzStartFrames, FaultFramesHoldResumeFlag) {
  for (const CpuStart start : {CpuStart::Flat3, CpuStart::Long3}) {
    SCOPED_TRACE(cpu_start_name(start));
    for (const bool fault : {true, false}) {
      const uint8_t ud2[] = {0x0F, 0x0B, 0xF4}, int3[] = {0xCC, 0xF4, 0xF4};
      MachineConfig cfg;
      cfg.ram_bytes = kRam;
      Machine m(cfg);
      prepare_cpu(m, start, 2, fault ? ud2 : int3, 3);
      const RunResult r = m.run(kCpuBudget);
      EXPECT_EQ(r.reason, StopReason::Halted) << r.detail;
      const uint64_t pushed = start == CpuStart::Long3 ? m.memory().read(kKernelStack - 24, 8)
                                                       : m.memory().read(kKernelStack - 12, 4);
      EXPECT_EQ((pushed & flag::RF) != 0, fault);
    }
  }
}

// fuzz_cpu findings (timeouts of 11 s under the sanitizers with a budget
// of 1000 units): REP MOVSB with a huge ECX, at CPL 3 with paging under
// bt (the first) and trap (the second), the #GP handler re-running it.
// The budget bounds the host work: it runs out, at kCpuBudget units.
TEST(FuzzFindings, RepMovsWithAHugeCountStopsAtTheBudget) {
  const std::vector<std::vector<uint8_t>> reproducers = {
      {0x04, 0x0a, 0x80, 0xa1, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0xf3, 0xa4, 0x0f, 0xa2,
       0x0f, 0x31, 0xcf},
      {0x04, 0x23, 0x00, 0xa1, 0x00, 0x00, 0x00, 0x02, 0xfa, 0xf4, 0xbe, 0x00, 0x10, 0x00, 0x40, 0x00,
       0x00, 0xb0, 0x78, 0xee, 0xec, 0x01, 0x0f, 0x00, 0x66, 0xba, 0xcc, 0xf8, 0x01, 0x00, 0x60, 0x40,
       0x00, 0xf3, 0xa4, 0x0f, 0xa2, 0x0f, 0x31, 0xcf, 0xf3, 0xa4, 0x0f, 0xa2, 0x0f, 0x31, 0xcf}};
  for (const std::vector<uint8_t>& input : reproducers) {
    const RunResult r = run_cpu_input(input.data(), input.size());
    EXPECT_EQ(r.reason, StopReason::BudgetExhausted) << r.detail;
    EXPECT_EQ(r.virtual_time, kCpuBudget);
  }
}

// Which of the four loads (multiboot, flat at 1 MiB, flat at the address
// in bytes 0-3, 64 KiB ROM) accept each loader seed.
TEST(FuzzSeeds, LoaderSeedsLoadAsWritten) {
  const auto loads = [](const char* name) {
    const std::vector<uint8_t> f = read_seed(kCorpus / "loader" / name);
    EXPECT_FALSE(f.empty()) << name;
    return run_loader_input(f.data(), f.size());
  };
  EXPECT_EQ(loads("aout_kludge"), 3u);  // bytes 0-3 = 0x1BADB002 lie beyond RAM
  EXPECT_EQ(loads("elf_minimal"), 3u);  // bytes 0-3 = 0x464C457F likewise
  EXPECT_EQ(loads("flat_code"), 2u);    // no multiboot header
}

TEST(FuzzSeeds, CpuSeedsStopForAStatedReason) {
  unsigned seeds = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kCorpus / "cpu")) {
    const std::vector<uint8_t> f = read_seed(entry.path());
    const RunResult r = run_cpu_input(f.data(), f.size());
    EXPECT_NE(r.reason, StopReason::None) << entry.path();
    EXPECT_LE(r.virtual_time, kCpuBudget + 1) << entry.path();
    ++seeds;
  }
  EXPECT_GE(seeds, 6u);
}

TEST(FuzzSeeds, DeviceSeedsRunEveryOperation) {
  unsigned seeds = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kCorpus / "devices")) {
    const std::vector<uint8_t> f = read_seed(entry.path());
    EXPECT_EQ(run_device_input(f.data(), f.size()), f.size() / 8) << entry.path();
    ++seeds;
  }
  EXPECT_GE(seeds, 5u);
}

}  // namespace
}  // namespace vtlab::test::fuzz
