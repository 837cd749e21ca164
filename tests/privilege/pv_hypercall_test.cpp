// Hostile hypercalls (docs/HYPERCALLS.md): a guest kernel under `pv` that
// names bad numbers, pointers into the monitor's memory, page tables that
// would map monitor memory or a page table writable, DPL 0 descriptors,
// oversized or nested batches.  Each gets its documented error code, the
// monitor's state stays as it was, and the run goes on.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <random>
#include <string>
#include <vector>

#include "core/machine.h"
#include "privilege/monitor.h"
#include "privilege/pv_abi.h"
#include "support/assemble.h"

namespace vtlab::test {

namespace {
constexpr uint32_t kCode = 0x1000, kResults = 0x8000, kArgs = 0x9000, kDir = 0x10000, kTable = 0x11000,
                   kSpare = 0x12000;
constexpr uint64_t kRam = 4ull << 20;
constexpr uint32_t kMonitor = kRam - pv::kMonitorBytes;  // the first page the guest may not name

struct Call {
  uint32_t nr, ebx = 0, ecx = 0, edx = 0;
};

struct PvMachine {
  static MachineConfig cfg() {
    MachineConfig c;
    c.ram_bytes = kRam;
    c.mode = "pv";
    return c;
  }
  PvMachine() : m(cfg()) {
    set_flat_protected_mode(m.cpu().s);
    m.cpu().s.rip = kCode;
  }
  void put(uint32_t addr, const std::vector<uint32_t>& words) {
    for (size_t i = 0; i < words.size(); ++i) m.memory().write(addr + i * 4, 4, words[i]);
  }
  uint32_t word(uint32_t addr) { return static_cast<uint32_t>(m.memory().read(addr, 4)); }
  // Makes each call in turn, stores EAX at kResults + 4 * i, then shuts down.
  std::vector<int32_t> run(const std::vector<Call>& calls) {
    std::string src;
    for (size_t i = 0; i < calls.size(); ++i)
      src += fmt::format("mov eax, {}\nmov ebx, {}\nmov ecx, {}\nmov edx, {}\nint 0x82\nmov [{}], eax\n", calls[i].nr,
                         calls[i].ebx, calls[i].ecx, calls[i].edx, kResults + 4 * i);
    src += fmt::format("mov eax, {}\nmov ebx, 0x21\nint 0x82\n", static_cast<uint32_t>(pv::kShutdown));
    const std::vector<uint8_t> code = assemble(src, 32, kCode);
    EXPECT_TRUE(m.memory().write_bytes(kCode, code.data(), code.size()));
    result = m.run(10'000'000);
    std::vector<int32_t> out;
    for (size_t i = 0; i < calls.size(); ++i) out.push_back(static_cast<int32_t>(word(kResults + 4 * i)));
    return out;
  }
  // An identity table for the first 1 MiB (pages 1..255), everything else absent.
  void identity_table(uint32_t at) {
    for (uint32_t i = 0; i < 1024; ++i) m.memory().write(at + i * 4, 4, i && i < 256 ? (i << 12) | 3 : 0);
  }
  // kTable as that identity table, mapping itself and kDir read-only, and
  // kDir a directory whose first entry names it: a pair ready to pin.
  void table_and_directory() {
    identity_table(kTable);
    put(kTable + (kTable >> 12) * 4, {kTable | 1});
    put(kTable + (kDir >> 12) * 4, {kDir | 1});
    put(kDir, {kTable | 3});
  }
  Machine m;
  RunResult result;
};

const uint32_t kExt = pv::kMmuExtOp, kUpd = pv::kMmuUpdate;
}  // namespace

TEST(PvHypercall, UnknownNumbersAreEnosysAndTheGuestRunsOn) {
  PvMachine t;
  const auto r = t.run({{pv::kHypercalls}, {0xFFFFFFFF}, {0x80000000}});
  EXPECT_EQ(r, (std::vector<int32_t>{pv::kENOSYS, pv::kENOSYS, pv::kENOSYS}));
  EXPECT_EQ(t.result.reason, StopReason::GuestExit) << t.result.detail;
  EXPECT_EQ(t.result.guest_status, 0x43u);
}

TEST(PvHypercall, ConsoleWriteChecksLengthAndPointer) {
  PvMachine t;
  t.put(kArgs, {0x0A6B6F});  // "ok\n"
  const auto r = t.run({{pv::kConsoleWrite, kArgs, 3},
                        {pv::kConsoleWrite, kArgs, pv::kMaxConsoleWrite + 1},
                        {pv::kConsoleWrite, kMonitor, 4},          // the monitor's memory
                        {pv::kConsoleWrite, kMonitor - 2, 4},      // straddles into it
                        {pv::kConsoleWrite, 0xFFC00000, 4},        // the monitor's linear window
                        {pv::kConsoleWrite, 0xFFFFFFFE, 4}});      // wraps
  EXPECT_EQ(r, (std::vector<int32_t>{3, pv::kE2BIG, pv::kEFAULT, pv::kEFAULT, pv::kEFAULT, pv::kEFAULT}));
  EXPECT_EQ(t.m.serial_transcript(), "ok\n");
}

TEST(PvHypercall, PinRefusesTablesThatMapMonitorMemoryOrThemselvesWritable) {
  PvMachine t;
  t.identity_table(kTable);
  t.put(kTable + (kTable >> 12) * 4, {kTable | 1});  // the table itself read-only
  t.put(kTable + 255 * 4, {kMonitor | 1});          // ... and one entry into the monitor's memory
  t.identity_table(kSpare);                         // maps itself writable
  t.put(kArgs, {pv::kPinL1, kTable, pv::kPinL1, kSpare, pv::kPinL1, kTable + 4, pv::kPinL1, kMonitor});
  const auto r = t.run({{kExt, kArgs, 1}, {kExt, kArgs + 8, 1}, {kExt, kArgs + 16, 1}, {kExt, kArgs + 24, 1}});
  EXPECT_EQ(r, (std::vector<int32_t>{pv::kEPERM, pv::kEPERM, pv::kEINVAL, pv::kEPERM}));
  EXPECT_EQ(t.m.monitor().counters().back(), (std::pair<std::string, uint64_t>{"tables_pinned", 0}));
}

TEST(PvHypercall, MmuUpdateKeepsTablesReadOnlyAndMonitorMemoryUnmapped) {
  PvMachine t;
  t.table_and_directory();
  const uint32_t pte_spare = kTable + (kSpare >> 12) * 4;
  t.put(kArgs, {pv::kPinL1, kTable, pv::kPinL2, kDir, pv::kNewBaseptr, kDir});
  t.put(kArgs + 0x100, {pte_spare, kTable | 3});    // the table, writable
  t.put(kArgs + 0x108, {pte_spare, kDir | 3});      // the directory, writable
  t.put(kArgs + 0x110, {pte_spare, kMonitor | 1});  // monitor memory, even read-only
  t.put(kArgs + 0x118, {pte_spare + 1, kSpare | 3});  // misaligned
  t.put(kArgs + 0x120, {kSpare, kSpare | 3});       // not a pinned table
  t.put(kArgs + 0x128, {kDir + 4, kSpare | 3});     // a PDE naming an unpinned table
  t.put(kArgs + 0x130, {kDir + 4, kTable | 0x83});  // a 4 MiB page
  t.put(kArgs + 0x138, {pte_spare, kSpare | 3});    // fine
  const auto r = t.run({{kExt, kArgs, 3},
                        {kUpd, kArgs + 0x100, 1}, {kUpd, kArgs + 0x108, 1}, {kUpd, kArgs + 0x110, 1},
                        {kUpd, kArgs + 0x118, 1}, {kUpd, kArgs + 0x120, 1}, {kUpd, kArgs + 0x128, 1},
                        {kUpd, kArgs + 0x130, 1}, {kUpd, kArgs + 0x138, 1},
                        {kUpd, kArgs + 0x138, pv::kMaxBatch + 1},
                        {kUpd, kMonitor, 1}});
  EXPECT_EQ(r, (std::vector<int32_t>{3, pv::kEPERM, pv::kEPERM, pv::kEPERM, pv::kEINVAL, pv::kEINVAL, pv::kEINVAL,
                                     pv::kEINVAL, 1, pv::kE2BIG, pv::kEFAULT}));
  EXPECT_EQ(t.word(pte_spare), kSpare | 3);  // only the valid update landed
  EXPECT_EQ(t.word(kDir + 4), 0u);
  EXPECT_EQ(t.result.reason, StopReason::GuestExit) << t.result.detail;
}

// What a pin or unpin checks against other tables (a writable mapping of
// the page, a directory naming the table) follows every mmu_update and
// unpin: the monitor counts references instead of scanning every pinned
// table (fuzz_pv's finding: PvFuzzFindings.PinningManyTablesStaysLinear).
TEST(PvHypercall, PinChecksFollowUpdatesAndUnpins) {
  PvMachine t;
  t.table_and_directory();
  const uint32_t pte_spare = kTable + (kSpare >> 12) * 4;
  t.put(kArgs, {pv::kPinL1, kTable, pv::kPinL1, kSpare, pte_spare, kSpare | 1, pv::kUnpin, kSpare, pv::kPinL2, kDir,
                pv::kUnpin, kTable, kDir, 0, pte_spare, kSpare | 3});
  const uint32_t pin_table = kArgs, pin_spare = kArgs + 8, read_only = kArgs + 16, unpin_spare = kArgs + 24,
                 pin_dir = kArgs + 32, unpin_table = kArgs + 40, clear_pde = kArgs + 48, writable = kArgs + 56;
  const auto r = t.run({{kExt, pin_table, 1}, {kExt, pin_spare, 1}, {kUpd, read_only, 1}, {kExt, pin_spare, 1},
                        {kExt, unpin_spare, 1}, {kUpd, writable, 1}, {kExt, pin_spare, 1}, {kExt, pin_dir, 1},
                        {kExt, unpin_table, 1}, {kUpd, clear_pde, 1}, {kExt, unpin_table, 1}, {kExt, pin_spare, 1}});
  EXPECT_EQ(r, (std::vector<int32_t>{1, pv::kEPERM, 1, 1, 1, 1, pv::kEPERM, 1, pv::kEBUSY, 1, 1, 1}));
  EXPECT_EQ(t.result.reason, StopReason::GuestExit) << t.result.detail;
}

TEST(PvHypercall, DirectWritesToAPinnedTableFault) {
  PvMachine t;
  t.table_and_directory();
  t.put(kArgs, {pv::kPinL1, kTable, pv::kPinL2, kDir, pv::kNewBaseptr, kDir, pv::kUnpin, kTable, pv::kUnpin, kDir});
  std::string src = fmt::format(
      "mov eax, {}\nmov ebx, {}\nmov ecx, 5\nint 0x82\nmov [{}], eax\nmov dword ptr [{}], 0x1234\n", kExt, kArgs,
      kResults, kTable + 4);
  const std::vector<uint8_t> code = assemble(src, 32, kCode);
  ASSERT_TRUE(t.m.memory().write_bytes(kCode, code.data(), code.size()));
  const RunResult r = t.m.run(1'000'000);
  // Unpinning the table a pinned directory uses is refused (after the three that worked).
  EXPECT_EQ(static_cast<int32_t>(t.word(kResults)), pv::kEBUSY);
  // The write faults with nowhere to go: no trap table, so the guest crashed.
  EXPECT_EQ(r.reason, StopReason::Shutdown);
  EXPECT_EQ(r.detail, "pv: vector 0xe has no entry in the guest's trap table: the guest crashed");
  EXPECT_EQ(t.word(kTable + 4), (1u << 12) | 0x23);  // untouched but for the accessed bit of the code page
}

TEST(PvHypercall, DescriptorsOfDplZeroAndSystemDescriptorsAreRefused) {
  PvMachine t;
  const auto r = t.run({{pv::kUpdateDescriptor, 3, 0x0000FFFF, 0x00CF9A00},   // code, DPL 0
                        {pv::kUpdateDescriptor, 3, 0x00000067, 0x00008900},   // a TSS
                        {pv::kUpdateDescriptor, 3, 0x00080000, 0x0000EC00},   // a call gate
                        {pv::kUpdateDescriptor, 1, 0x0000FFFF, 0x00CFFA00},   // the monitor's own entry
                        {pv::kUpdateDescriptor, pv::kTssEntry, 0x0000FFFF, 0x00CFFA00},  // the monitor's TSS slot
                        {pv::kUpdateDescriptor, pv::kGdtEntries, 0, 0},
                        {pv::kUpdateDescriptor, 0xFFFFFFFF, 0, 0},
                        {pv::kUpdateDescriptor, 3, 0x0000FFFF, 0x00CFFA00},   // user code, DPL 3
                        {pv::kSetKernelStack, 0x10, 0x9000},                  // a DPL 0 stack selector
                        {pv::kSetKernelStack, pv::kKernelDs, 0x9000}});
  EXPECT_EQ(r, (std::vector<int32_t>{pv::kEPERM, pv::kEPERM, pv::kEPERM, pv::kEPERM, pv::kEPERM, pv::kEINVAL,
                                     pv::kEINVAL, 0, pv::kEINVAL, 0}));
  const uint64_t gdt = PhysicalMemory::kPrivateBase;
  EXPECT_EQ(t.m.memory().read(gdt + 3 * 8 + 4, 4), 0x00CFFA00u);
  EXPECT_EQ(t.m.memory().read(gdt + 1 * 8 + 4, 4), 0x00CFBB00u);  // still the monitor's ring-1 code
}

TEST(PvHypercall, MulticallRefusesNestingAndOversizedBatches) {
  PvMachine t;
  // Three entries: a nested multicall, a console write, an unknown number.
  t.put(kArgs, {pv::kMulticall, kArgs, 1, 0, 0, 0, 0x5555,
                pv::kConsoleWrite, kArgs + 0x100, 2, 0, 0, 0, 0x5555,
                77, 0, 0, 0, 0, 0, 0x5555});
  t.put(kArgs + 0x100, {0x0A21});  // "!\n"
  const auto r = t.run({{pv::kMulticall, kArgs, 3},
                        {pv::kMulticall, kArgs, pv::kMaxMulticall + 1},
                        {pv::kMulticall, kMonitor - 8, 1},
                        {pv::kSetTrapTable, kArgs, 257},
                        {pv::kSetTimer, 10, 0x20},      // too fast
                        {pv::kSetTimer, 100000, 5},     // an exception vector
                        {pv::kSetSharedInfo, 0x1234},   // not page-aligned
                        {pv::kSetSharedInfo, kMonitor}});
  EXPECT_EQ(r, (std::vector<int32_t>{0, pv::kE2BIG, pv::kEFAULT, pv::kE2BIG, pv::kEINVAL, pv::kEINVAL, pv::kEINVAL,
                                     pv::kEPERM}));
  EXPECT_EQ(static_cast<int32_t>(t.word(kArgs + 24)), pv::kEINVAL);  // nested
  EXPECT_EQ(static_cast<int32_t>(t.word(kArgs + 52)), 2);            // the write went through
  EXPECT_EQ(static_cast<int32_t>(t.word(kArgs + 80)), pv::kENOSYS);
  EXPECT_EQ(t.m.serial_transcript(), "!\n");
}

TEST(PvHypercall, TrapTableRefusesOtherCodeSelectors) {
  PvMachine t;
  t.put(kArgs, {0x0408 | (0x20 << 0), 0x2000});  // vector 0x20, flags 4, cs 0x0000: wrong selector
  t.put(kArgs + 8, {0x00080020, 0x2000});        // cs 0x0008: ring 0
  t.put(kArgs + 16, {0x00090820, 0x2000});       // flags 8: reserved bit
  t.put(kArgs + 24, {0x00090420, 0x2000});       // fine
  const auto r = t.run({{pv::kSetTrapTable, kArgs, 1},
                        {pv::kSetTrapTable, kArgs + 8, 1},
                        {pv::kSetTrapTable, kArgs + 16, 1},
                        {pv::kSetTrapTable, kArgs + 24, 1}});
  EXPECT_EQ(r, (std::vector<int32_t>{pv::kEINVAL, pv::kEINVAL, pv::kEINVAL, 0}));
}

}  // namespace vtlab::test

namespace vtlab::test {

// A kernel stack inside the monitor's linear window: event delivery
// writes the frame as a ring-1 data access, which the window refuses, so
// the monitor's GDT there is untouched and the guest is declared crashed.
TEST(PvHypercall, EventFramesNeverReachTheMonitorsWindow) {
  PvMachine t;
  t.put(kArgs, {0x00090003, 0x2000});  // vector 3, flags 0, cs 0x09, handler 0x2000
  const uint64_t gdt = PhysicalMemory::kPrivateBase;
  const std::string src = fmt::format("mov eax, {}\nmov ebx, {}\nmov ecx, 1\nint 0x82\nmov esp, 0xffc00020\nint3\n",
                                      static_cast<uint32_t>(pv::kSetTrapTable), kArgs);
  const std::vector<uint8_t> code = assemble(src, 32, kCode);
  ASSERT_TRUE(t.m.memory().write_bytes(kCode, code.data(), code.size()));
  t.m.run(0);  // the monitor takes over the CPU
  const uint64_t code_hi = t.m.memory().read(gdt + 8 + 4, 4), data_hi = t.m.memory().read(gdt + 16 + 4, 4);
  const RunResult r = t.m.run(1'000'000);
  EXPECT_EQ(r.reason, StopReason::Shutdown);
  EXPECT_EQ(r.detail,
            "pv: cannot deliver vector 0x3: the guest's kernel stack at 0xffc0001c is not writable: the guest crashed");
  EXPECT_EQ(t.m.memory().read(gdt + 8 + 4, 4), code_hi);
  EXPECT_EQ(t.m.memory().read(gdt + 16 + 4, 4), data_hi);
  EXPECT_EQ(t.m.memory().read(gdt + 24, 4), 0u);
}

}  // namespace vtlab::test

namespace vtlab::test {

// INT 0x80 from ring 3 to a handler that leaves events on goes through the
// real trap gate with no exit; INT 0x81, whose entry masks events, must
// enter the monitor (the CPU cannot clear the virtual IF).
TEST(PvEvents, OnlyTheUnmaskedInt80IsAFastTrap) {
  PvMachine t;
  t.put(kArgs, {0x00090380, 0x2000, 0x00090781, 0x2100});  // 0x80: DPL 3; 0x81: DPL 3, masks events
  const std::string kernel = fmt::format(
      "mov esp, 0x5000\nmov eax, {set_trap}\nmov ebx, {args}\nmov ecx, 2\nint 0x82\n"
      "mov eax, {desc}\nmov ebx, 3\nmov ecx, 0xffff\nmov edx, 0xcffa00\nint 0x82\n"
      "mov eax, {desc}\nmov ebx, 4\nmov ecx, 0xffff\nmov edx, 0xcff200\nint 0x82\n"
      "mov eax, {stack}\nmov ebx, 0x11\nmov ecx, 0x6000\nint 0x82\n"
      "push 0x23\npush 0x7000\npush 0x202\npush 0x1b\npush 0x3000\niretd\n",
      fmt::arg("set_trap", static_cast<uint32_t>(pv::kSetTrapTable)), fmt::arg("args", kArgs),
      fmt::arg("desc", static_cast<uint32_t>(pv::kUpdateDescriptor)),
      fmt::arg("stack", static_cast<uint32_t>(pv::kSetKernelStack)));
  const std::string int80 = "inc dword ptr [0x8000]\niretd\n";
  const std::string int81 = fmt::format("mov eax, {}\nmov ebx, 0x21\nint 0x82\n", static_cast<uint32_t>(pv::kShutdown));
  const std::string user = "mov ax, 0x23\nmov ds, ax\nint 0x80\nint 0x80\nint 0x81\n";  // IRET nulled DS
  for (const auto& [at, src] : std::vector<std::pair<uint32_t, std::string>>{
           {kCode, kernel}, {0x2000, int80}, {0x2100, int81}, {0x3000, user}}) {
    const std::vector<uint8_t> code = assemble(src, 32, at);
    ASSERT_TRUE(t.m.memory().write_bytes(at, code.data(), code.size()));
  }
  const RunResult r = t.m.run(1'000'000);
  EXPECT_EQ(r.reason, StopReason::GuestExit) << r.detail;
  EXPECT_EQ(t.word(kResults), 2u);  // both INT 0x80s reached the handler
  const auto& by_key = t.m.exits().count(ExitReason::GuestException).by_key;
  EXPECT_EQ(by_key, (std::map<uint32_t, uint64_t>{{0x81, 1}}));
  EXPECT_EQ(t.m.monitor().counters()[1], (std::pair<std::string, uint64_t>{"fast_system_calls", 2}));
}

}  // namespace vtlab::test

namespace vtlab::test {

// Random hypercalls with random arguments, aimed at the interesting places
// (a page of random words, the monitor's memory, the window, anywhere):
// every run ends for a stated reason, and twice the same way.
TEST(PvHypercall, RandomCallsNeverBreakTheMonitorAndAreDeterministic) {
  for (unsigned seed = 1; seed <= 8; ++seed) {
    SCOPED_TRACE(seed);
    std::string src;
    std::mt19937 rng(seed);
    const uint32_t places[] = {kArgs, kMonitor - 8, 0xFFC00000, kTable, 0};
    for (int i = 0; i < 200; ++i) {
      uint32_t a[4];
      for (uint32_t& v : a) v = rng() % 3 ? places[rng() % 5] + (rng() % 64) * 4 : static_cast<uint32_t>(rng());
      uint32_t nr = rng() % 13;
      if (nr == pv::kShutdown) nr = pv::kHypercalls;  // the run should go on
      src += fmt::format("mov eax, {}\nmov ebx, {}\nmov ecx, {}\nmov edx, {}\nint 0x82\n", nr,
                         a[0], rng() % 2 ? a[1] % 40 : a[1], a[2]);
    }
    const std::vector<uint8_t> code = assemble(src, 32, kCode);
    std::array<uint64_t, 3> outcome[2];
    for (int run = 0; run < 2; ++run) {
      PvMachine t;
      std::mt19937 fill(seed);
      for (uint32_t at = kArgs; at < kArgs + 0x1000; at += 4) t.m.memory().write(at, 4, fill());
      ASSERT_TRUE(t.m.memory().write_bytes(kCode, code.data(), code.size()));
      const RunResult r = t.m.run(1'000'000);
      EXPECT_NE(r.reason, StopReason::None);
      outcome[run] = {static_cast<uint64_t>(r.reason), t.m.cpu().icount, t.m.exits().total()};
    }
    EXPECT_EQ(outcome[0], outcome[1]);
  }
}

}  // namespace vtlab::test
