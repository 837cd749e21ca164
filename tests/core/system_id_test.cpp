// System instructions that identify and time the CPU: CPUID, the TSC,
// MSRs, and x87 control (control-word masking cross-checked on the host).
#include "core/system_fixture.h"

namespace vtlab::test::system {
namespace {

// --- CPUID ------------------------------------------------------------------

std::array<uint32_t, 4> cpuid(uint32_t leaf, uint32_t subleaf = 0) {
  CpuHarness h;
  h.cpu.s.gpr[RAX] = leaf;
  h.cpu.s.gpr[RCX] = subleaf;
  EXPECT_EQ(step(h, "cpuid"), Status::Ok);
  return {h.reg32(RAX), h.reg32(RBX), h.reg32(RCX), h.reg32(RDX)};
}
using Regs = std::array<uint32_t, 4>;  // EAX EBX ECX EDX

TEST(SystemCpuid, VendorAndMaximumLeaves) {
  EXPECT_EQ(cpuid(0), (Regs{1, 0x756E6547, 0x6C65746E, 0x49656E69}));  // "Genu" "ntel" "ineI"
  EXPECT_EQ(cpuid(0, 7), cpuid(0));                                      // no sub-leaves
  EXPECT_EQ(cpuid(0x80000000), (Regs{0x80000008, 0, 0, 0}));
  // SYSCALL, NX, Page1GB, LM; LAHF/SAHF in 64-bit mode
  EXPECT_EQ(cpuid(0x80000001), (Regs{0, 0, 1, (1u << 11) | (1u << 20) | (1u << 26) | (1u << 29)}));
}

// 36 physical address bits (MAXPHYADDR, the PAE reserved bits), 48 linear;
// the cache and power leaves between are empty.
TEST(SystemCpuid, AddressSizesAndEmptyExtendedLeaves) {
  EXPECT_EQ(cpuid(0x80000008), (Regs{0x00003024, 0, 0, 0}));
  for (uint32_t leaf : {0x80000005u, 0x80000006u, 0x80000007u}) EXPECT_EQ(cpuid(leaf), (Regs{0, 0, 0, 0})) << leaf;
}

TEST(SystemCpuid, SignatureAndFeatures) {
  const Regs r = cpuid(1);
  EXPECT_EQ(r[0], 0x00000603u);  // family 6, model 0, stepping 3 (so SEP counts)
  EXPECT_EQ(r[1], 0x800u);     // CLFLUSH line: 8 x 8 bytes
  EXPECT_EQ(r[2], 1u << 13);  // CX16 only
  EXPECT_EQ(r[3], 0x0789FBFDu);
  const uint32_t edx = r[3];
  EXPECT_TRUE(edx & (1u << 0)) << "FPU";
  EXPECT_TRUE(edx & (1u << 2)) << "DE";
  EXPECT_TRUE(edx & (1u << 3)) << "PSE";
  EXPECT_TRUE(edx & (1u << 4)) << "TSC";
  EXPECT_TRUE(edx & (1u << 5)) << "MSR";
  EXPECT_TRUE(edx & (1u << 6)) << "PAE";
  EXPECT_TRUE(edx & (1u << 7)) << "MCE";
  EXPECT_TRUE(edx & (1u << 8)) << "CX8";
  EXPECT_TRUE(edx & (1u << 9)) << "APIC";
  EXPECT_TRUE(edx & (1u << 11)) << "SEP";
  EXPECT_TRUE(edx & (1u << 12)) << "MTRR";
  EXPECT_TRUE(edx & (1u << 13)) << "PGE";
  EXPECT_TRUE(edx & (1u << 14)) << "MCA";
  EXPECT_TRUE(edx & (1u << 15)) << "CMOV";
  EXPECT_TRUE(edx & (1u << 16)) << "PAT";
  EXPECT_FALSE(edx & (1u << 17)) << "PSE-36";
  EXPECT_TRUE(edx & (1u << 19)) << "CLFSH";
  EXPECT_TRUE(edx & (1u << 23)) << "MMX";
  EXPECT_TRUE(edx & (1u << 24)) << "FXSR";
  EXPECT_TRUE(edx & (1u << 25)) << "SSE";
  EXPECT_TRUE(edx & (1u << 26)) << "SSE2";
}

TEST(SystemCpuid, BrandString) {
  char brand[49] = {};
  for (uint32_t n = 0; n < 3; ++n) {
    const Regs r = cpuid(0x80000002 + n);
    std::memcpy(brand + 16 * n, r.data(), 16);
  }
  EXPECT_STREQ(brand, "vtlab virtual CPU");
  for (size_t n = std::strlen("vtlab virtual CPU"); n < 48; ++n) EXPECT_EQ(brand[n], 0) << n;
}

// A leaf above the highest basic or extended leaf returns the highest
// basic leaf's data (Intel's rule).
TEST(SystemCpuid, OutOfRangeLeavesReturnLeaf1) {
  for (uint32_t leaf : {2u, 0xDu, 0x40000000u, 0x7FFFFFFFu, 0x80000009u, 0xFFFFFFFFu})
    EXPECT_EQ(cpuid(leaf), cpuid(1)) << std::hex << leaf;
}

// --- time stamp counter and MSRs -------------------------------------------

// The TSC is the count of instructions retired before RDTSC.
TEST(SystemTsc, RdtscReadsInstructionsRetired) {
  CpuHarness h;
  h.load_asm("nop\nnop\nrdtsc");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RAX), 2u);
  EXPECT_EQ(h.reg32(RDX), 0u);
  CpuHarness big;
  big.cpu.icount = 0x123456789ull;
  big.load_asm("rdtsc");
  ASSERT_EQ(big.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(big.reg32(RAX), 0x23456789u);
  EXPECT_EQ(big.reg32(RDX), 1u);
}

// CR4.TSD restricts RDTSC to CPL 0.
TEST(SystemTsc, TimeStampDisable) {
  CpuHarness h;
  h.cpu.s.cr4 = cr4::TSD;
  EXPECT_EQ(step(h, "rdtsc"), Status::Ok);
  set_cpl(h, 3);
  h.cpu.s.gpr[RAX] = 0xAAAA;
  ASSERT_EQ(step(h, "rdtsc"), Status::Exception);
  expect_gp0(h);
  EXPECT_EQ(h.reg32(RAX), 0xAAAAu);
  CpuHarness real(16);
  real.cpu.s.cr4 = cr4::TSD;
  EXPECT_EQ(step(real, "rdtsc"), Status::Ok);
}

// RDMSR `index` at CPL 0: EDX:EAX, or nothing if it faulted.
std::optional<uint64_t> read_msr(CpuHarness& h, uint32_t index) {
  h.cpu.s.gpr[RCX] = index;
  if (step(h, "rdmsr") != Status::Ok) return std::nullopt;
  return (uint64_t{h.reg32(RDX)} << 32) | h.reg32(RAX);
}

Status write_msr(CpuHarness& h, uint32_t index, uint64_t v) {
  h.cpu.s.gpr[RCX] = index;
  h.cpu.s.gpr[RAX] = static_cast<uint32_t>(v);
  h.cpu.s.gpr[RDX] = static_cast<uint32_t>(v >> 32);
  return step(h, "wrmsr");
}

// IA32_TSC reads virtual time; a write sets it, and it counts on from there.
TEST(SystemMsr, TscFollowsWrites) {
  CpuHarness h;
  h.load_asm(R"(
    mov ecx, 0x10
    mov eax, 1000
    mov edx, 0
    wrmsr
    rdmsr
    mov ebx, eax
    rdtsc
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RBX), 1001u);  // WRMSR ran after 3 retired, RDMSR one later
  EXPECT_EQ(h.reg32(RAX), 1003u);
  EXPECT_EQ(h.reg32(RDX), 0u);
}

TEST(SystemMsr, ApicBaseIsTheBspsFixedValue) {
  CpuHarness h;
  EXPECT_EQ(read_msr(h, msr::kApicBase), 0xFEE00900u);
  EXPECT_EQ(write_msr(h, msr::kApicBase, 0xFEE00900), Status::Ok);
  EXPECT_EQ(write_msr(h, msr::kApicBase, 0xFEE00800), Status::Ok);  // the BSP flag is not the guest's
  EXPECT_EQ(write_msr(h, msr::kApicBase, 0xFEE00901), Status::Exception);
  expect_gp0(h);
  EXPECT_EQ(write_msr(h, msr::kApicBase, 0x10FEE00900), Status::Exception);  // bit 36: above MAXPHYADDR
  EXPECT_EQ(h.cpu.stop_requested(), StopReason::None);
  EXPECT_EQ(write_msr(h, msr::kApicBase, 0xFEE00100), Status::Stop);  // disabling it
  EXPECT_EQ(h.cpu.stop_requested(), StopReason::Unsupported);
  EXPECT_EQ(read_msr(h, msr::kApicBase), 0xFEE00900u);
}

TEST(SystemMsr, SysenterMsrsAreStored) {
  CpuHarness h;
  EXPECT_EQ(read_msr(h, msr::kSysenterCs), 0u);
  EXPECT_EQ(write_msr(h, msr::kSysenterCs, 0x10), Status::Ok);
  EXPECT_EQ(write_msr(h, msr::kSysenterEsp, 0x9FFF0), Status::Ok);
  EXPECT_EQ(write_msr(h, msr::kSysenterEip, 0xC0001000), Status::Ok);
  EXPECT_EQ(read_msr(h, msr::kSysenterCs), 0x10u);
  EXPECT_EQ(read_msr(h, msr::kSysenterEsp), 0x9FFF0u);
  EXPECT_EQ(read_msr(h, msr::kSysenterEip), 0xC0001000u);
}

// The microcode-revision handshake Linux's early_init_intel does: write 0,
// CPUID(1), read.  No update is loaded, so it reads 0.
TEST(SystemMsr, BiosSignIdReadsNoMicrocode) {
  CpuHarness h;
  EXPECT_EQ(write_msr(h, 0x8B, 0), Status::Ok);
  EXPECT_EQ(read_msr(h, 0x8B), 0u);
  EXPECT_EQ(write_msr(h, 0x8B, 0x1234'0000'0000), Status::Ok);
  EXPECT_EQ(read_msr(h, 0x8B), 0u);
  EXPECT_TRUE(h.cpu.s.msrs.empty());
}

// One machine-check bank that never logs anything: Linux's MCE setup
// writes MC0_CTL all ones and clears MC0_STATUS.
TEST(SystemMsr, OneQuietMachineCheckBank) {
  CpuHarness h;
  EXPECT_EQ(read_msr(h, 0x179), 1u);  // IA32_MCG_CAP: 1 bank, no MCG_CTL/CMCI/LMCE
  EXPECT_EQ(write_msr(h, 0x179, 1), Status::Exception);
  expect_gp0(h);
  EXPECT_EQ(write_msr(h, 0x400, ~uint64_t{0}), Status::Ok);
  EXPECT_EQ(read_msr(h, 0x400), ~uint64_t{0});
  for (uint32_t index : {0x17Au, 0x401u, 0x402u, 0x403u}) {
    SCOPED_TRACE(index);
    EXPECT_EQ(read_msr(h, index), 0u);
    EXPECT_EQ(write_msr(h, index, 0), Status::Ok);
    EXPECT_EQ(write_msr(h, index, 1), Status::Exception);
    expect_gp0(h);
  }
  EXPECT_EQ(read_msr(h, 0x404), std::nullopt);  // no bank 1
  expect_gp0(h);
}

// Read-only MTRRs: everything write-back, no ranges to program.
TEST(SystemMsr, MtrrsAreReadOnlyWriteBack) {
  CpuHarness h;
  EXPECT_EQ(read_msr(h, 0xFE), 0u);     // IA32_MTRRCAP: VCNT 0, no FIX, no WC
  EXPECT_EQ(read_msr(h, 0x2FF), 0x806u);  // IA32_MTRR_DEF_TYPE: enabled, WB
  EXPECT_EQ(write_msr(h, 0x2FF, 0), Status::Ok);
  EXPECT_EQ(read_msr(h, 0x2FF), 0x806u);
  EXPECT_EQ(write_msr(h, 0xFE, 0), Status::Exception);
  expect_gp0(h);
  EXPECT_EQ(read_msr(h, 0x200), std::nullopt);  // IA32_MTRR_PHYSBASE0: no variable ranges
  expect_gp0(h);
}

TEST(SystemMsr, MiscEnableKeepsItsReadOnlyBits) {
  CpuHarness h;
  EXPECT_EQ(read_msr(h, msr::kMiscEnable), 0x1801u);
  EXPECT_EQ(write_msr(h, msr::kMiscEnable, 0x1800), Status::Ok);
  EXPECT_EQ(read_msr(h, msr::kMiscEnable), 0x1800u);
  EXPECT_EQ(write_msr(h, msr::kMiscEnable, 0x1), Status::Ok);
  EXPECT_EQ(read_msr(h, msr::kMiscEnable), 0x1801u);
  EXPECT_EQ(write_msr(h, msr::kMiscEnable, 1u << 22), Status::Exception);
  expect_gp0(h);
}

TEST(SystemMsr, PatTakesOnlyValidMemoryTypes) {
  CpuHarness h;
  EXPECT_EQ(read_msr(h, msr::kPat), 0x0007040600070406u);
  EXPECT_EQ(write_msr(h, msr::kPat, 0x0700000100000006), Status::Ok);
  EXPECT_EQ(read_msr(h, msr::kPat), 0x0700000100000006u);
  for (uint64_t bad : {0x2ull, 0x3ull, 0x8ull, 0x0300000000000000ull, 0x0000000000000F00ull}) {
    EXPECT_EQ(write_msr(h, msr::kPat, bad), Status::Exception) << std::hex << bad;
    expect_gp0(h);
  }
  EXPECT_EQ(read_msr(h, msr::kPat), 0x0700000100000006u);
}

TEST(SystemMsr, EferWritableBits) {
  CpuHarness h;
  EXPECT_EQ(read_msr(h, msr::kEfer), 0u);
  EXPECT_EQ(write_msr(h, msr::kEfer, efer::SCE | efer::LME | efer::NXE), Status::Ok);
  EXPECT_EQ(read_msr(h, msr::kEfer), 0x901u);
  EXPECT_EQ(write_msr(h, msr::kEfer, efer::LMA), Status::Ok);  // LMA is read-only: ignored
  EXPECT_EQ(read_msr(h, msr::kEfer), 0u);
  EXPECT_EQ(write_msr(h, msr::kEfer, 0x2), Status::Exception);
  expect_gp0(h);
  EXPECT_EQ(write_msr(h, msr::kEfer, uint64_t{1} << 32), Status::Exception);
  EXPECT_EQ(h.cpu.s.efer, 0u);
}

// EFER.LME cannot change while paging is on.
TEST(SystemMsr, EferLmeIsFrozenWhilePaging) {
  CpuHarness h;
  h.cpu.s.cr0 |= cr0::PG;  // the handler runs alone: no tables needed
  EXPECT_EQ(write_msr(h, msr::kEfer, efer::LME), Status::Exception);
  expect_gp0(h);
  EXPECT_EQ(write_msr(h, msr::kEfer, efer::SCE), Status::Ok);
  EXPECT_EQ(h.cpu.s.efer, efer::SCE);
}

TEST(SystemMsr, UnknownMsrsFault) {
  for (uint32_t index : {0x8Cu, 0xC0000103u, 0xFFFFFFFFu}) {  // 0xC0000103: no RDTSCP
    SCOPED_TRACE(index);
    CpuHarness h;
    h.cpu.s.gpr[RAX] = 0x1111;
    h.cpu.s.gpr[RDX] = 0x2222;
    EXPECT_EQ(read_msr(h, index), std::nullopt);
    expect_gp0(h);
    EXPECT_EQ(h.reg32(RAX), 0x1111u);
    EXPECT_EQ(h.reg32(RDX), 0x2222u);
    EXPECT_EQ(write_msr(h, index, 0), Status::Exception);
    expect_gp0(h);
    EXPECT_TRUE(h.cpu.s.msrs.empty());
  }
}

// --- x87 control --------------------------------------------------------------

TEST(SystemX87, FninitThenFnstswReadsZero) {
  CpuHarness h;
  h.cpu.s.fpu.fcw = 0;
  h.cpu.s.fpu.fsw = 0x3800;
  h.cpu.s.fpu.ftw = 0;
  h.cpu.s.gpr[RAX] = 0xCAFEBABE;
  h.load_asm("fninit\nfnstsw ax\nfnstcw word ptr [0x20000]");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RAX), 0xCAFE0000u);
  EXPECT_EQ(h.mem.read(0x20000, 2), 0x037Fu);
  EXPECT_EQ(h.cpu.s.fpu.ftw, 0xFFFFu);
}

TEST(SystemX87, FnstswToMemory) {
  CpuHarness h;
  h.cpu.s.fpu.fsw = 0x4321;
  h.write32(0x20000, 0xCCCCCCCC);
  h.load_asm("fnstsw word ptr [0x20000]");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.read32(0x20000), 0xCCCC4321u);
}

// What FLDCW keeps of a control word, as FNSTCW reads it back.
uint16_t emulated_fldcw(uint16_t cw) {
  CpuHarness h;
  h.mem.write(0x20000, 2, cw);
  h.load_asm("fldcw word ptr [0x20000]\nfnstcw word ptr [0x20002]");
  EXPECT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  return static_cast<uint16_t>(h.mem.read(0x20002, 2));
}

// Values recorded on an Intel Xeon host, and checked again live below.
TEST(SystemX87, FldcwKeepsTheDefinedBits) {
  const std::pair<uint16_t, uint16_t> cases[] = {
      {0x0000, 0x0040}, {0xFFFF, 0x1F7F}, {0x037F, 0x037F}, {0x1040, 0x1040}, {0xE000, 0x0040}, {0x0C3F, 0x0C7F}};
  for (auto [in, out] : cases) EXPECT_EQ(emulated_fldcw(in), out) << std::hex << in;
}

#if defined(__x86_64__) || defined(__i386__)
TEST(SystemX87, FldcwMatchesTheHostCpu) {
  for (unsigned v = 0; v <= 0xFFFF; v += 0x0FC1) {
    const uint16_t in = static_cast<uint16_t>(v);
    uint16_t host;
    asm volatile("fninit\n\tfldcw %1\n\tfnstcw %0\n\tfninit" : "=m"(host) : "m"(in));
    EXPECT_EQ(emulated_fldcw(in), host) << std::hex << in;
  }
}
#endif

// #NM per SDM vol. 3, table 2-2: x87 instructions fault on EM or TS;
// WAIT/FWAIT ignores EM and faults only on TS together with MP.
TEST(SystemX87, DeviceNotAvailable) {
  struct Case {
    uint64_t cr0_bits;
    const char* source;
    bool faults;
  } cases[] = {{cr0::EM, "fninit", true},
               {cr0::TS, "fninit", true},
               {cr0::MP, "fninit", false},
               {cr0::EM, "fnstsw ax", true},
               {cr0::TS, "fnstcw word ptr [0x20000]", true},
               {cr0::TS, "fldcw word ptr [0x20000]", true},
               {cr0::TS, "fwait", false},
               {cr0::TS | cr0::MP, "fwait", true},
               {cr0::EM, "fwait", false},
               {cr0::EM | cr0::MP, "fwait", false}};
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.source) + " cr0 " + std::to_string(c.cr0_bits));
    CpuHarness h;
    h.cpu.s.cr0 |= c.cr0_bits;
    h.cpu.s.fpu.fsw = 0x1234;
    const Snapshot before = snapshot(h);
    const Status st = step(h, c.source);
    if (c.faults) {
      ASSERT_EQ(st, Status::Exception);
      expect_fault(h, vec::NM, std::nullopt);
      EXPECT_EQ(snapshot(h), before);
    } else {
      EXPECT_EQ(st, Status::Ok);
    }
  }
}

}  // namespace
}  // namespace vtlab::test::system
