// Which memory fault an instruction raises when several apply, at CPL 3 in
// 64-bit mode with CR0.AM and EFLAGS.AC: the order measured on the silicon
// by tests/fuzz/kvm_priority64.cpp (docs/FUZZING.md, "Exception priority
// among memory faults"), one test per row of that table, each case the
// same bytes, registers and page layout as the measured one.  The SDM
// (vol. 3, 6.9, table 6-2) ranks exception classes, not the faults of one
// memory access against each other.
#include "core/system_fixture.h"

namespace vtlab::test::system {
namespace {

constexpr uint64_t kNonCanonical = 0x0000800000000000ull;
constexpr uint64_t kBelowHole = kNonCanonical - 4;
// The regions of kvm_priority64's guest, over the harness's 2 MiB pages:
// 0-2 MiB user, 2-4 MiB user read-only, 4-6 MiB supervisor, 6-8 MiB not
// present, 8-10 MiB user, nothing from 10 MiB on.
constexpr uint64_t kReadOnly = 2 << 20, kSupervisor = 4 << 20, kUnmapped = 6 << 20, kUser = 8 << 20,
                   kPastUser = 10 << 20;
constexpr uint64_t kStack = CpuHarness::kStack, kData = CpuHarness::kData;
// Tables for the 2 MiB on either side of the hole (a PDPT, then a PD).
constexpr uint64_t kTopTables = 0xA0000;

// What lies around the canonical hole: kNone, the last 2 MiB below it
// (kBelow), or that and PML4 entry 256, which the part of an access beyond
// the hole walks through (kBoth).
enum class Top { kNone, kBelow, kBoth };

struct Expect {
  uint8_t vector;  // 0xFF: no fault
  uint32_t error = 0;
  uint64_t cr2 = 0;
};
constexpr Expect kNoFault{0xFF};
constexpr Expect kAc{vec::AC}, kGp{vec::GP}, kSs{vec::SS};
constexpr Expect pf(uint32_t error, uint64_t cr2) { return {vec::PF, error, cr2}; }

struct Case {
  const char* name;
  std::vector<uint8_t> code;
  std::vector<std::pair<Gpr, uint64_t>> regs;
  Expect expect;
  bool ac = true;
  Top top = Top::kNone;
};

// The instructions, as kvm_priority64 encodes them.
const std::vector<uint8_t> kLoad{0x49, 0x8B, 0x03}, kStore{0x49, 0x89, 0x03}, kRmw{0x49, 0x01, 0x03},
    kLoadSs{0x48, 0x8B, 0x45, 0x00}, kStoreSs{0x48, 0x89, 0x45, 0x00}, kLoadRsp{0x48, 0x8B, 0x04, 0x24},
    kLoadFsRbp{0x64, 0x48, 0x8B, 0x45, 0x00}, kPush{0x50}, kPop{0x58}, kPush16{0x66, 0x50}, kPop16{0x66, 0x58},
    kCall{0xE8, 0, 0, 0, 0}, kPushM{0x41, 0xFF, 0x33}, kPopM{0x41, 0x8F, 0x03}, kMovs{0x48, 0xA5},
    kCmps{0x48, 0xA7}, kStos{0x48, 0xAB}, kLods{0x48, 0xAD};

void run(const Case& c) {
  SCOPED_TRACE(c.name);
  CpuHarness h(64);
  const uint64_t pml4 = CpuHarness::kPageTables, pd = pml4 + 0x2000;
  h.mem.write(pd + 8, 8, kReadOnly | 0x85);     // present, user, read-only
  h.mem.write(pd + 16, 8, kSupervisor | 0x83);  // present, writable, supervisor
  h.mem.write(pd + 24, 8, 0);
  h.mem.write(pd + 32, 8, 0x87);  // user, an alias of physical 0-2 MiB
  for (uint64_t i = 5; i < 8; ++i) h.mem.write(pd + 8 * i, 8, 0);
  const uint64_t top_pdpt = kTopTables, top_pd = kTopTables + 0x1000;
  if (c.top != Top::kNone) {
    h.mem.write(pml4 + 8 * 255, 8, top_pdpt | 7);
    h.mem.write(top_pdpt + 8 * 511, 8, top_pd | 7);
    h.mem.write(top_pd + 8 * 511, 8, 0x87);
  }
  if (c.top == Top::kBoth) {
    h.mem.write(pml4 + 8 * 256, 8, top_pdpt | 7);
    h.mem.write(top_pdpt, 8, top_pd | 7);
    h.mem.write(top_pd, 8, 0x87);
  }
  h.cpu.paging_changed(false);
  set_cpl(h, 3);
  h.cpu.s.cr0 |= cr0::AM;
  h.cpu.s.flags.set(flag::AC, c.ac);
  h.cpu.s.gpr[RSP] = kStack;
  h.cpu.s.gpr[RBX] = kData;
  for (const auto& [reg, v] : c.regs) h.cpu.s.gpr[reg] = v;
  h.load(c.code);
  const uint64_t cr2_before = h.cpu.s.cr2;
  const Status status = h.execute_one();
  if (c.expect.vector == kNoFault.vector) {
    EXPECT_EQ(status, Status::Ok);
    return;
  }
  ASSERT_EQ(status, Status::Exception);
  expect_fault(h, c.expect.vector, c.expect.error);
  EXPECT_EQ(h.cpu.s.cr2, c.expect.vector == vec::PF ? c.expect.cr2 : cr2_before);
}

void run_all(const std::vector<Case>& cases) {
  for (const Case& c : cases) run(c);
}

TEST(FaultPriority, AlignmentBeforePagingOnOnePage) {
  run_all({{"load, not present", kLoad, {{R11, kUnmapped + 0x101}}, kAc},
           {"load, supervisor", kLoad, {{R11, kSupervisor + 0x101}}, kAc},
           {"store, read-only", kStore, {{R11, kReadOnly + 0x101}}, kAc},
           {"rmw, read-only", kRmw, {{R11, kReadOnly + 0x101}}, kAc},
           {"rmw, not present", kRmw, {{R11, kUnmapped + 0x101}}, kAc},
           {"push, not present", kPush, {{RSP, kUnmapped + 0x109}}, kAc},
           {"pop, supervisor", kPop, {{RSP, kSupervisor + 0x101}}, kAc},
           {"rep stos, not present", {0xF3, 0x48, 0xAB}, {{RDI, kUnmapped + 1}, {RCX, 2}}, kAc},
           {"load aligned, not present", kLoad, {{R11, kUnmapped + 0x100}}, pf(4, kUnmapped + 0x100)}});
}

TEST(FaultPriority, AlignmentBeforePagingOnEitherPageOfTwo) {
  run_all({{"load, not present | user", kLoad, {{R11, kUser - 4}}, kAc},
           {"store, supervisor | not present", kStore, {{R11, kUnmapped - 4}}, kAc},
           {"load, user | not present", kLoad, {{R11, kPastUser - 4}}, kAc},
           {"rmw, user | read-only", kRmw, {{R11, kReadOnly - 4}}, kAc},
           {"load, read-only | supervisor", kLoad, {{R11, kSupervisor - 4}}, kAc},
           {"push, user | not present", kPush, {{RSP, kPastUser + 4}}, kAc},
           {"lods, user | not present", kLods, {{RSI, kPastUser - 4}}, kAc},
           {"AC=0: load, user | not present", kLoad, {{R11, kPastUser - 4}}, pf(4, kPastUser), false},
           {"AC=0: store, user | read-only", kStore, {{R11, kReadOnly - 4}}, pf(7, kReadOnly), false},
           {"AC=0: rmw, user | not present", kRmw, {{R11, kPastUser - 4}}, pf(6, kPastUser), false}});
}

// The first byte in the hole: #GP(0), or #SS(0) for SS, before #AC.
TEST(FaultPriority, NonCanonicalFirstByteBeforeAlignment) {
  run_all({{"load", kLoad, {{R11, kNonCanonical + 1}}, kGp},
           {"rmw", kRmw, {{R11, kNonCanonical + 1}}, kGp},
           {"stos", kStos, {{RDI, kNonCanonical + 1}}, kGp},
           {"load ending in the upper half", kLoad, {{R11, 0xFFFF7FFFFFFFFFFCull}}, kGp, true, Top::kBoth},
           {"push", kPush, {{RSP, kNonCanonical + 9}}, kSs},
           {"pop", kPop, {{RSP, kNonCanonical + 1}}, kSs},
           {"mov rax, [rbp]", kLoadSs, {{RBP, kNonCanonical + 1}}, kSs}});
}

// From canonical space into the hole: #AC first, then #GP(0), or #SS(0)
// through SS, before any page fault.  (With AC = 0 the CPU's #GP makes this
// host's KVM run the instruction through its emulator, whose answer
// differs: kvm_priority64 marks those cases.)
TEST(FaultPriority, AccessRunningIntoTheHoleFaultsAfterAlignment) {
  run_all({{"load misaligned, both present", kLoad, {{R11, kBelowHole}}, kAc, true, Top::kBoth},
           {"store misaligned, first page not present", kStore, {{R11, kBelowHole}}, kAc},
           {"rmw misaligned, first page present", kRmw, {{R11, kBelowHole}}, kAc, true, Top::kBoth},
           {"pop misaligned", kPop, {{RSP, kBelowHole}}, kAc, true, Top::kBoth},
           {"pop16 misaligned", kPop16, {{RSP, kNonCanonical - 1}}, kAc, true, Top::kBoth},
           {"mov rax, [rbp] misaligned, not present", kLoadSs, {{RBP, kBelowHole}}, kAc},
           {"mov [rbp], rax misaligned", kStoreSs, {{RBP, kBelowHole}}, kAc, true, Top::kBoth},
           {"push misaligned", kPush, {{RSP, kNonCanonical + 4}}, kAc, true, Top::kBoth},
           {"push16 misaligned", kPush16, {{RSP, kNonCanonical + 1}}, kAc, true, Top::kBoth},
           {"load, first page not present", kLoad, {{R11, kBelowHole}}, kGp, false},
           {"store, beyond not present", kStore, {{R11, kBelowHole}}, kGp, false, Top::kBelow},
           {"load, both present", kLoad, {{R11, kBelowHole}}, kGp, false, Top::kBoth},
           {"mov rax, fs:[rbp]", kLoadFsRbp, {{RBP, kBelowHole}}, kGp, false, Top::kBoth},
           {"pop, not present", kPop, {{RSP, kBelowHole}}, kSs, false},
           {"pop, both present", kPop, {{RSP, kBelowHole}}, kSs, false, Top::kBoth},
           {"mov rax, [rbp], not present", kLoadSs, {{RBP, kBelowHole}}, kSs, false},
           {"mov rax, [rsp], both present", kLoadRsp, {{RSP, kBelowHole}}, kSs, false, Top::kBoth},
           {"mov [rbp], rax, beyond not present", kStoreSs, {{RBP, kBelowHole}}, kSs, false, Top::kBelow},
           {"push, first page not present", kPush, {{RSP, kNonCanonical + 4}}, kSs, false},
           {"call, both present", kCall, {{RSP, kNonCanonical + 4}}, kSs, false, Top::kBoth}});
}

// An instruction with two memory accesses: MOVS, PUSH m and POP m fault in
// program order; CMPS reads ES:[RDI] first.
TEST(FaultPriority, TwoAccessesOfOneInstruction) {
  run_all({{"push [m]: m not present, RSP misaligned", kPushM, {{R11, kUnmapped}, {RSP, kStack - 3}},
            pf(4, kUnmapped)},
           {"push [m]: m non-canonical, RSP misaligned", kPushM, {{R11, kNonCanonical}, {RSP, kStack - 3}}, kGp},
           {"pop [m]: RSP misaligned, m not present", kPopM, {{R11, kUnmapped}, {RSP, kStack - 3}}, kAc},
           {"movs: RSI not present, RDI misaligned", kMovs, {{RSI, kUnmapped}, {RDI, kData + 1}}, pf(4, kUnmapped)},
           {"movs: RSI non-canonical, RDI not present", kMovs, {{RSI, kNonCanonical}, {RDI, kUnmapped}}, kGp},
           {"movs: RSI misaligned, RDI non-canonical", kMovs, {{RSI, kData + 1}, {RDI, kNonCanonical}}, kAc},
           {"cmps: RSI misaligned, RDI not present", kCmps, {{RSI, kData + 1}, {RDI, kUnmapped}}, pf(4, kUnmapped)},
           {"cmps: RSI not present, RDI misaligned", kCmps, {{RSI, kUnmapped}, {RDI, kData + 1}}, kAc},
           {"cmps: both not present", kCmps, {{RSI, kUnmapped}, {RDI, kUnmapped + 0x1000}},
            pf(4, kUnmapped + 0x1000)},
           {"cmps: RSI non-canonical, RDI not present", kCmps, {{RSI, kNonCanonical}, {RDI, kUnmapped}},
            pf(4, kUnmapped)},
           {"cmps: RSI not present, RDI non-canonical", kCmps, {{RSI, kUnmapped}, {RDI, kNonCanonical}}, kGp}});
}

// ENTER, after its pushes and frame-pointer reads, probes an operand-size
// write at the new RSP: #AC if misaligned, #PF with W = 1 at the new RSP.
TEST(FaultPriority, EnterProbesTheNewStackPointer) {
  run_all({{"enter 4, 0", {0xC8, 4, 0, 0}, {}, kAc},
           {"enter 1, 0", {0xC8, 1, 0, 0}, {}, kAc},
           {"enter16 1, 0", {0x66, 0xC8, 1, 0, 0}, {}, kAc},
           {"enter16 0, 0 (2-byte aligned)", {0x66, 0xC8, 0, 0, 0}, {}, kNoFault},
           {"enter 3, 0 with AC=0", {0xC8, 3, 0, 0}, {}, kNoFault, false},
           {"enter 0x100, 0 into a page not present", {0xC8, 0, 1, 0}, {{RSP, kUser + 0x10}},
            pf(6, kUser + 0x10 - 8 - 0x100)},
           {"enter 0x101, 0: misaligned and not present", {0xC8, 1, 1, 0}, {{RSP, kUser + 0x10}}, kAc},
           {"enter 0x100, 2: [RBP-8] not present first", {0xC8, 0, 1, 2},
            {{RSP, kUser + 0x10}, {RBP, kUnmapped + 0x100}}, pf(4, kUnmapped + 0xF8)}});
}

}  // namespace
}  // namespace vtlab::test::system
