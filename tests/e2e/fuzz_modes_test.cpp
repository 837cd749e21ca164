// The fuzz targets for the monitor modes fuzz_cpu leaves out: `pv`
// (tests/support/fuzz_pv.h) and `hw --hw-backend kvm` (run_kvm_input in
// tests/support/fuzz_inputs.h).  Each pv start state is the kernel it
// names, the script's records build the code they describe, the seeds in
// tests/fuzz/corpus/pv and corpus/cpu_kvm replay with the results they were
// written for, and regression tests replay the targets' findings.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "kvm/kvm_fixture.h"
#include "privilege/pv_abi.h"
#include "support/fuzz_inputs.h"
#include "support/fuzz_pv.h"

namespace vtlab::test::fuzz {
namespace {

const std::filesystem::path kCorpus = std::filesystem::path(VTLAB_GUESTS_SRC_DIR) / ".." / "fuzz" / "corpus";


std::vector<uint8_t> seed(const char* target, const char* name) {
  std::vector<uint8_t> f = read_seed(kCorpus / target / name);
  EXPECT_FALSE(f.empty()) << name;
  return f;
}

uint64_t pv_counter(const Machine& m, const std::string& name) {
  for (const auto& [n, v] : m.monitor().counters())
    if (n == name) return v;
  return ~uint64_t{0};
}

// MOV EAX, 9; MOV EBX, code; INT 0x82: the shutdown hypercall.
std::vector<uint8_t> shutdown_code(uint32_t code) {
  std::vector<uint8_t> c = {0xB8, 0x09, 0, 0, 0, 0xBB};
  for (unsigned i = 0; i < 4; ++i) c.push_back(static_cast<uint8_t>(code >> (8 * i)));
  c.insert(c.end(), {0xCD, 0x82});
  return c;
}

// INT 0x80, then the handler every trap-table entry names: shutdown(0x42).
// From ring 3 the trap table's DPL-3 entry for 0x80 is the fast trap (a
// real gate, no exit); from the kernel it is delivered by the monitor;
// at boot there is no trap table, so the guest crashes.
class PvFuzzStart : public ::testing::TestWithParam<PvStart> {};

TEST_P(PvFuzzStart, Int80ReachesTheTrapTableHandler) {
  const PvStart start = GetParam();
  PvProgram p;
  p.code = {0xCD, 0x80};
  const std::vector<uint8_t> handler = shutdown_code(0x42);
  p.code.insert(p.code.end(), handler.begin(), handler.end());
  Machine m(pv_machine_config());
  prepare_pv(m, start, 0, 2, p);
  const RunResult r = m.run(kPvBudget);
  if (start == PvStart::Boot) {
    EXPECT_EQ(r.reason, StopReason::Shutdown);
    EXPECT_EQ(r.detail, "pv: vector 0xd has no entry in the guest's trap table: the guest crashed");
    EXPECT_EQ(r.instructions, 1u);  // the INT 0x80, which the monitor handled (as a crash)
    return;
  }
  ASSERT_EQ(r.reason, StopReason::GuestExit) << r.detail;
  EXPECT_EQ(r.guest_status, 0x85u);
  EXPECT_EQ(m.cpu().s.cpl(), 1u);
  EXPECT_EQ(m.cpu().s.rip, kCode + 2 + handler.size());
  const bool paged = start != PvStart::Kernel;
  EXPECT_EQ(pv_counter(m, "tables_pinned"), paged ? 6u : 0u);  // 4 for RAM, 1 for the virtio page, the directory
  EXPECT_EQ(pv_counter(m, "fast_system_calls"), start == PvStart::User ? 1u : 0u);
  EXPECT_EQ(pv_counter(m, "events_delivered"), start == PvStart::User ? 0u : 1u);
  // Set-up: shared info, trap table, kernel stack, two descriptors, (the
  // MMU batch), and the shutdown.
  EXPECT_EQ(m.exits().count(ExitReason::Hypercall).count, paged ? 7u : 6u);
  PhysicalMemory& mem = m.memory();
  if (start == PvStart::User) {  // the CPU's frame on the kernel stack: SS, ESP, EFLAGS, CS, EIP
    EXPECT_EQ(mem.read(kKernelStack - 4, 4), kPvUserDs);
    EXPECT_EQ(mem.read(kKernelStack - 8, 4), kUserStack);
    EXPECT_EQ(mem.read(kKernelStack - 16, 4), kPvUserCs);
    EXPECT_EQ(mem.read(kKernelStack - 20, 4), kCode + 2);
  } else {  // the monitor's, on the current stack: EFLAGS, CS, EIP
    EXPECT_EQ(mem.read(kKernelStack - 8, 4), pv::kKernelCs);
    EXPECT_EQ(mem.read(kKernelStack - 12, 4), kCode + 2);
  }
}

INSTANTIATE_TEST_SUITE_P(EveryStart, PvFuzzStart,
                         ::testing::Values(PvStart::Boot, PvStart::Kernel, PvStart::Paged, PvStart::User),
                         [](const auto& info) { return as_test_name(pv_start_name(info.param)); });

// Under the Paged start a page table is read-only to the kernel: a direct
// write faults into the handler, which exits with the shared page's CR2.
TEST(PvFuzzStartPaging, PageTablesAreReadOnly) {
  PvProgram p;
  p.code = {0xC7, 0x05, 0x00, 0x10, 0x02, 0x00, 0x07, 0x50, 0x34, 0x12};  // MOV dword [kPvPageDir + 0x1000], 0x12345007
  const std::vector<uint8_t> handler = {0x8B, 0x1D, 0x08, 0x60, 0x02, 0x00, 0xB8, 0x09, 0, 0, 0, 0xCD, 0x82};
  p.code.insert(p.code.end(), handler.begin(), handler.end());  // MOV EBX, [kPvShared + 8]; shutdown
  Machine m(pv_machine_config());
  prepare_pv(m, PvStart::Paged, 0, 10, p);
  const RunResult r = m.run(kPvBudget);
  ASSERT_EQ(r.reason, StopReason::GuestExit) << r.detail;
  EXPECT_EQ(r.guest_status, ((kPvPageDir + 0x1000) << 1) | 1);
  EXPECT_EQ(m.memory().read(kPvPageDir + 0x1000, 4), 7u);  // frame 0 as built: present, writable, user
}

// The timer extra: with events off the tick waits (pending = 1) until the
// kernel turns events on and yields.
TEST(PvFuzzStartTimer, TimerWaitsForEventsThenYield) {
  const std::vector<uint8_t> f = seed("pv", "kernel_timer_pending_yield");
  uint64_t hypercalls = 0;
  const RunResult r = run_pv_input(f.data(), f.size(), kPvBudget, &hypercalls);
  ASSERT_EQ(r.reason, StopReason::GuestExit) << r.detail;
  EXPECT_EQ(r.guest_status, (0x20u << 1) | 1);
  EXPECT_EQ(hypercalls, 6u + 1 + 1);  // set-up with the timer, yield, shutdown
}

// The records: data, a hypercall with a pointer into the data area, a
// virtio register store read back by raw code, a hypercall taking the
// registers the code left.
TEST(PvFuzzScript, RecordsBuildTheCodeTheyDescribe) {
  const uint8_t script[] = {
      0xC0, 0x02, 'h', 'i', '\n',                                // data: "hi\n"
      0xA0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0,                  // console-write(kPvData, 3)
      0xE1, 0x70, 0x00, 0x03, 0x00, 0x00, 0x00,                  // virtio-console status = 3
      0x05, 0x8B, 0x1D, 0x70, 0x02, 0xB0, 0xFE,                  // MOV EBX, [slot 1 + 0x70]
      0x99};                                                      // shutdown(EBX)
  const PvProgram p = build_pv_program(script, sizeof script);
  EXPECT_EQ(p.data, (std::vector<uint8_t>{'h', 'i', '\n'}));
  EXPECT_EQ(p.code.size(), 22u + 10u + 6u + 7u);
  std::vector<uint8_t> input = {0, 0, 0};
  input.insert(input.end(), script, script + sizeof script);
  Machine m(pv_machine_config());
  prepare_pv(m, PvStart::Boot, 0, 0, p);
  const RunResult r = m.run(kPvBudget);
  ASSERT_EQ(r.reason, StopReason::GuestExit) << r.detail;
  EXPECT_EQ(r.guest_status, (3u << 1) | 1);
  EXPECT_EQ(m.serial_transcript(), "hi\n");
  EXPECT_EQ(run_pv_input(input.data(), input.size()).guest_status, (3u << 1) | 1);
}

TEST(PvFuzzSeeds, SeedsRunAsWritten) {
  const auto run = [](const char* name, uint64_t* hypercalls = nullptr) {
    const std::vector<uint8_t> f = seed("pv", name);
    return run_pv_input(f.data(), f.size(), kPvBudget, hypercalls);
  };
  RunResult r = run("boot_console");
  EXPECT_EQ(r.reason, StopReason::GuestExit);
  EXPECT_EQ(r.guest_status, 1u);
  r = run("boot_not_paravirtualized");
  EXPECT_EQ(r.reason, StopReason::Unsupported);
  EXPECT_NE(r.detail.find("not paravirtualized"), std::string::npos) << r.detail;
  r = run("paged_mmu_update");
  EXPECT_EQ(r.reason, StopReason::GuestExit) << r.detail;
  EXPECT_EQ(r.guest_status, ((kPvPageDir + 0x1000) << 1) | 1);  // the #PF's CR2 from the shared page
  r = run("paged_virtio_blk_read");
  EXPECT_EQ(r.reason, StopReason::GuestExit) << r.detail;
  EXPECT_EQ(r.guest_status, 1u);  // the request's status byte: VIRTIO_BLK_S_OK
  r = run("kernel_virtio_console");
  EXPECT_EQ(r.reason, StopReason::GuestExit) << r.detail;
  EXPECT_EQ(r.guest_status, 3u);
  unsigned seeds = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kCorpus / "pv")) {
    const std::vector<uint8_t> f = read_seed(entry.path());
    uint64_t hypercalls = 0;
    r = run_pv_input(f.data(), f.size(), kPvBudget, &hypercalls);
    EXPECT_NE(r.reason, StopReason::None) << entry.path();
    EXPECT_FALSE(r.detail.empty()) << entry.path();
    EXPECT_LE(r.virtual_time, kPvBudget + kPvHypercallCost) << entry.path();  // a last call overruns by its cost
    if (entry.path().filename() != "boot_not_paravirtualized") {
      EXPECT_GE(hypercalls, 1u) << entry.path();
    }
    ++seeds;
  }
  EXPECT_GE(seeds, 10u);
}

// fuzz_pv finding (a 2.9 KB input, a timeout of over 10 s): pin 240 zeroed
// pages as page tables in one batch, then loop on a batch of 60 pin/unpin
// pairs.  Each pin scanned every pinned table for a writable mapping of
// the page (and each unpin every directory), so the host's work per
// hypercall grew with the tables pinned.  The monitor now keeps reference
// counts (privilege/pv_hypercalls.cpp): the run reaches its budget with
// the 240 tables pinned and every loop's batch done.
TEST(PvFuzzFindings, PinningManyTablesStaysLinear) {
  std::vector<uint8_t> script;
  const auto data = [&](const std::vector<uint32_t>& words) {
    for (size_t at = 0; at < words.size(); at += 64) {
      const size_t n = std::min<size_t>(64, words.size() - at);
      script.push_back(0xC0);
      script.push_back(static_cast<uint8_t>(4 * n - 1));
      for (size_t i = at; i < at + n; ++i)
        for (unsigned b = 0; b < 4; ++b) script.push_back(static_cast<uint8_t>(words[i] >> (8 * b)));
    }
  };
  std::vector<uint32_t> pins, pairs;
  for (uint32_t i = 0; i < 240; ++i) pins.insert(pins.end(), {pv::kPinL1, 0x100000 + i * 0x1000});
  for (unsigned i = 0; i < 60; ++i) pairs.insert(pairs.end(), {pv::kPinL1, 0x200000, pv::kUnpin, 0x200000});
  data(pins);
  data(pairs);
  const auto ext_op = [&](uint32_t offset, uint32_t count) {  // mmu_ext_op(kPvData + offset, count)
    script.push_back(0x80 | 0x20 | pv::kMmuExtOp);
    for (const uint32_t w : {offset, count, 0u})
      for (unsigned b = 0; b < 4; ++b) script.push_back(static_cast<uint8_t>(w >> (8 * b)));
  };
  ext_op(0, 240);
  ext_op(240 * 8, 120);
  script.insert(script.end(), {0x01, 0xEB, 0xE8});  // JMP back to the second call
  const PvProgram p = build_pv_program(script.data(), script.size());
  ASSERT_EQ(p.code.size(), 22u + 22u + 2u);
  Machine m(pv_machine_config());
  prepare_pv(m, PvStart::Kernel, 0, 0, p);
  const RunResult r = m.run(kPvBudget);
  EXPECT_EQ(r.reason, StopReason::BudgetExhausted) << r.detail;
  EXPECT_EQ(pv_counter(m, "tables_pinned"), 240u);
  // 5 set-up calls, the 240 pins, then one call per loop of 6 instructions
  // (4 MOVs, INT 0x82, JMP) and kPvHypercallCost.
  const uint64_t loops = m.exits().count(ExitReason::Hypercall).count - 6;
  EXPECT_GE(loops * (6 + kPvHypercallCost), kPvBudget - 6 * kPvHypercallCost - 100);
  EXPECT_EQ(m.cpu().s.gpr[RAX], 120u);  // the last batch done in full
}

// --- hw --hw-backend kvm ------------------------------------------------------

std::vector<uint8_t> kvm_input(CpuStart start, std::vector<uint8_t> code, uint16_t handler = 0) {
  const unsigned index = static_cast<unsigned>(start);
  const uint16_t word = static_cast<uint16_t>(handler | (index >> 3) << 13);
  code.insert(code.begin(), {static_cast<uint8_t>(index & 7), static_cast<uint8_t>(word), static_cast<uint8_t>(word >> 8)});
  return code;
}

TEST(KvmFuzz, LongModeUserLoopRunsToTheBudget) {
  SKIP_WITHOUT_KVM();
  const std::vector<uint8_t> in = kvm_input(CpuStart::Long3, {0xEB, 0xFE});  // JMP $
  ASSERT_EQ(cpu_input_start(in.data(), in.size()), CpuStart::Long3);
  const RunResult r = run_kvm_input(in.data(), in.size());
  EXPECT_EQ(r.reason, StopReason::BudgetExhausted) << r.detail;
  EXPECT_EQ(r.virtual_time, kKvmBudgetNs);
}

TEST(KvmFuzz, PagedStartsKvmCannotRunAreRefusedWithAReason) {
  SKIP_WITHOUT_KVM();
  if (host_kvm().paging_32.ran) GTEST_SKIP() << "this host's KVM runs 32-bit paging";
  for (const CpuStart start : {CpuStart::Paged0, CpuStart::Paged3, CpuStart::Pae3}) {
    SCOPED_TRACE(cpu_start_name(start));
    const std::vector<uint8_t> in = kvm_input(start, {0xF4});
    const RunResult r = run_kvm_input(in.data(), in.size());
    EXPECT_EQ(r.reason, StopReason::Unsupported);
    EXPECT_NE(r.detail.find("paging"), std::string::npos) << r.detail;
  }
}

// LIDT of a zero limit, then UD2: #UD, #GP, #DF, a triple fault: KVM's
// shutdown exit, stated as a shutdown with its explanation.  (kvm_pvm's
// emulator cannot run INT3 at CPL 0: that stops as unsupported, with
// the reason, which the second input checks.)
TEST(KvmFuzz, TripleFaultIsAShutdownWithAReason) {
  SKIP_WITHOUT_KVM();
  const std::vector<uint8_t> lidt = {0x0F, 0x01, 0x1C, 0x25, 0x00, 0x30, 0x00, 0x00};  // LIDT [0x3000]
  std::vector<uint8_t> code = lidt;
  code.insert(code.end(), {0x0F, 0x0B, 0xF4});  // UD2; HLT
  std::vector<uint8_t> in = kvm_input(CpuStart::Long0, code);
  RunResult r = run_kvm_input(in.data(), in.size());
  EXPECT_EQ(r.reason, StopReason::Shutdown) << r.detail;
  in = kvm_input(CpuStart::Flat0, {0x0F, 0x01, 0x1D, 0x00, 0x30, 0x00, 0x00, 0xCC, 0xF4});  // LIDT [0x3000]; INT3
  r = run_kvm_input(in.data(), in.size());
  if (r.reason == StopReason::Unsupported) {
    EXPECT_NE(r.detail.find("instruction emulator could not run the instruction"), std::string::npos) << r.detail;
  } else {
    EXPECT_EQ(r.reason, StopReason::Shutdown) << r.detail;
  }
}

TEST(KvmFuzz, SeedsStopForAStatedReason) {
  SKIP_WITHOUT_KVM();
  unsigned seeds = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kCorpus / "cpu_kvm")) {
    const std::vector<uint8_t> f = read_seed(entry.path());
    const RunResult r = run_kvm_input(f.data(), f.size());
    EXPECT_NE(r.reason, StopReason::None) << entry.path();
    EXPECT_FALSE(r.detail.empty()) << entry.path();
    ++seeds;
  }
  EXPECT_GE(seeds, 4u);
}

}  // namespace
}  // namespace vtlab::test::fuzz
