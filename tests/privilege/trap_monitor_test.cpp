// The trap monitor on hand-made code: what a guest gets when it goes
// looking for the monitor's memory, and the pieces (ring compression of
// descriptors) the whole-guest tests in tests/e2e/trap_test.cpp rest on.
#include <gtest/gtest.h>

#include <Zydis/Zydis.h>

#include <vector>

#include "core/machine.h"
#include "privilege/shadow_descriptors.h"
#include "privilege/trap_monitor.h"

namespace vtlab::test {

namespace {
constexpr uint64_t kCode = 0x1000, kDir = 0x10000, kTable0 = 0x11000, kTableTop = 0x12000, kPage = 0x20000;

struct TrapMachine {
  static MachineConfig cfg(const char* mode, bool trap_holes) {
    MachineConfig c;
    c.ram_bytes = 4ull << 20;
    c.mode = mode;
    c.trap_holes = trap_holes;
    return c;
  }
  explicit TrapMachine(const char* mode = "trap", bool trap_holes = false) : m(cfg(mode, trap_holes)) {
    set_flat_protected_mode(m.cpu().s);
    m.cpu().s.rip = kCode;
  }
  void code(const std::vector<uint8_t>& bytes) { ASSERT_TRUE(m.memory().write_bytes(kCode, bytes.data(), bytes.size())); }
  uint32_t word(uint64_t phys) { return static_cast<uint32_t>(m.memory().read(phys, 4)); }
  uint64_t count(ExitReason r, uint32_t key) {
    const auto& by_key = m.exits().count(r).by_key;
    const auto it = by_key.find(key);
    return it == by_key.end() ? 0 : it->second;
  }
  Machine m;
};
}  // namespace

TEST(CompressDescriptor, RingZeroBecomesRingOneAndTasksDisappear) {
  const uint64_t code0 = 0x00CF9B000000FFFF, data3 = 0x00CFF3000000FFFF;
  EXPECT_EQ(compress_descriptor(code0), 0x00CFBB000000FFFFu);  // DPL 0 -> 1
  EXPECT_EQ(compress_descriptor(data3), data3);                // user segments stay
  EXPECT_EQ(compress_descriptor(0x00008C0800000000), 0x0000AC0800000000u);  // call gate DPL 0 -> 1
  EXPECT_EQ(compress_descriptor(0x00008B0000000067), 0x00000B0000000067u);  // busy TSS: not present
  EXPECT_EQ(compress_descriptor(0x0000820000000FFF), 0x0000020000000FFFu);  // LDT: not present
  EXPECT_EQ(compress_descriptor(0x0000850000280000), 0x0000050000280000u);  // task gate: not present
}

// With paging off, the monitor's window is just physical addresses at the
// top of 4 GiB, which hold nothing: the guest reads all ones there and its
// writes vanish, as on bare metal, and the monitor's tables are untouched.
TEST(TrapMonitorMemory, PagingOffGuestReachesOnlyEmptyPhysicalAddresses) {
  TrapMachine t;
  t.code({
      0xB8, 0x10, 0x00, 0xC0, 0xFF,              // mov eax, 0xffc00010 (the shadow GDT's linear address)
      0x8B, 0x18,                                // mov ebx, [eax]
      0xC7, 0x00, 0x0D, 0xF0, 0xFE, 0xCA,        // mov dword [eax], 0xcafef00d
      0x8B, 0x08,                                // mov ecx, [eax]
      0xF4,                                      // hlt (IF = 0: the machine halts)
  });
  t.m.run(0);  // the monitor takes over the CPU
  const uint64_t gdt_word = t.m.memory().read(PhysicalMemory::kPrivateBase + window::kGdt + 0x10, 4);
  const RunResult r = t.m.run(1000000);
  EXPECT_EQ(r.reason, StopReason::Halted) << r.detail;
  const CpuState& s = t.m.cpu().s;
  EXPECT_EQ(s.gpr[RBX], 0xFFFFFFFFu);
  EXPECT_EQ(s.gpr[RCX], 0xFFFFFFFFu);
  EXPECT_EQ(t.m.memory().read(PhysicalMemory::kPrivateBase + window::kGdt + 0x10, 4), gdt_word);
  EXPECT_EQ(t.count(ExitReason::HiddenPageFault, ShadowMmu::kWindow), 3u);  // each access emulated
  EXPECT_EQ(t.count(ExitReason::Hlt, 0), 1u);
}

// With paging on, the guest maps its own page where the monitor's window
// is; it reads back what it wrote there, and SGDT still shows the window.
TEST(TrapMonitorMemory, PagingOnGuestGetsItsOwnPageAtTheMonitorsAddress) {
  TrapMachine t;
  PhysicalMemory& mem = t.m.memory();
  mem.write(kDir, 4, kTable0 | 3);                // PDE 0: identity table
  mem.write(kDir + 1023 * 4, 4, kTableTop | 3);   // PDE 1023: the top 4 MiB
  for (uint32_t i = 0; i < 1024; ++i) mem.write(kTable0 + i * 4, 4, (i << 12) | 3);
  mem.write(kTableTop, 4, kPage | 3);             // 0xffc00000 -> 0x20000
  CpuState& s = t.m.cpu().s;
  s.cr3 = kDir;
  s.cr0 |= cr0::PG;
  t.code({
      0xB8, 0x10, 0x00, 0xC0, 0xFF,              // mov eax, 0xffc00010
      0xC7, 0x00, 0x0D, 0xF0, 0xFE, 0xCA,        // mov dword [eax], 0xcafef00d
      0x8B, 0x18,                                // mov ebx, [eax]
      0x0F, 0x01, 0x05, 0x00, 0x80, 0x00, 0x00,  // sgdt [0x8000]
      0xF4,                                      // hlt
  });
  const RunResult r = t.m.run(1000000);
  EXPECT_EQ(r.reason, StopReason::Halted) << r.detail;
  EXPECT_EQ(s.gpr[RBX], 0xCAFEF00Du);
  EXPECT_EQ(t.word(kPage + 0x10), 0xCAFEF00Du);
  EXPECT_EQ(t.word(0x8002), window::kBase);  // the SGDT hole: the monitor's GDT
  EXPECT_EQ(t.count(ExitReason::HiddenPageFault, ShadowMmu::kWindow), 2u);
  ASSERT_EQ(t.m.monitor().holes().size(), 1u);
  EXPECT_EQ(t.m.monitor().holes()[0].rip, kCode + 13);
}

// The local APIC's page is never mapped through the shadow: each access to
// it is an MMIO exit keyed by the page, and the guest reads the device.
TEST(TrapMonitor, DeviceRegistersExitAsMmio) {
  TrapMachine t;
  t.code({
      0xA1, 0x30, 0x00, 0xE0, 0xFE,  // mov eax, [0xfee00030] (APIC version)
      0xA1, 0x30, 0x00, 0xE0, 0xFE,  // again
      0xF4,
  });
  const RunResult r = t.m.run(1000000);
  EXPECT_EQ(r.reason, StopReason::Halted) << r.detail;
  EXPECT_EQ(t.m.cpu().s.gpr[RAX] & 0xFF, 0x14u);  // version 0x14, as the native APIC reads
  EXPECT_EQ(t.count(ExitReason::Mmio, 0xFEE00000), 2u);
}

// A triple fault under trap is the guest's, delivered on its own (empty)
// IDT: the machine shuts down and the monitor counts it.
TEST(TrapMonitor, TripleFaultShutsDownAndIsCounted) {
  TrapMachine t;
  t.m.cpu().s.idtr = TableRegister{0, 0};  // no gates at all
  t.code({0x0F, 0x0B});                    // ud2
  const RunResult r = t.m.run(1000000);
  EXPECT_EQ(r.reason, StopReason::Shutdown) << r.detail;
  EXPECT_EQ(t.count(ExitReason::Shutdown, 0), 1u);
  EXPECT_EQ(t.count(ExitReason::GuestException, vec::UD), 1u);
}

// The guest rewrites a descriptor it already used and reloads it with no
// exit in between: the write to its traced GDT page exits, and the shadow
// GDT is rebuilt before the CPU reads the descriptor again.
class TrapVsNative : public ::testing::TestWithParam<const char*> {};

TEST_P(TrapVsNative, AGdtEditIsSeenByTheNextSegmentLoad) {
  TrapMachine t(GetParam());
  constexpr uint64_t kGdt = 0x3000;
  PhysicalMemory& mem = t.m.memory();
  mem.write(kGdt + 0x08, 8, 0x00CF9B000000FFFF);  // flat code
  mem.write(kGdt + 0x10, 8, 0x00CF93000000FFFF);  // flat data
  mem.write(kGdt + 0x18, 8, 0x00CF93000000FFFF);  // data, base 0 (rewritten below)
  mem.write(0x5000, 4, 0x5A5A5A5A);
  t.m.cpu().s.gdtr = TableRegister{kGdt, 0x1F};
  t.code({
      0xB8, 0x18, 0x00, 0x00, 0x00,                    // mov eax, 0x18
      0x8E, 0xC0,                                      // mov es, ax   (base 0)
      0x66, 0xC7, 0x05, 0x1A, 0x30, 0x00, 0x00,        // mov word [0x301a], 0x5000: base 15:0
      0x00, 0x50,
      0x8E, 0xC0,                                      // mov es, ax   (base 0x5000 now)
      0x26, 0x8B, 0x1D, 0x00, 0x00, 0x00, 0x00,        // mov ebx, es:[0]
      0xF4,
  });
  const RunResult r = t.m.run(1000000);
  EXPECT_EQ(r.reason, StopReason::Halted) << r.detail;
  EXPECT_EQ(t.m.cpu().s.seg[ES].base, 0x5000u);
  EXPECT_EQ(t.m.cpu().s.gpr[RBX], 0x5A5A5A5Au);
  EXPECT_EQ(t.count(ExitReason::PageTableWrite, ShadowMmu::kDescriptorTable), GetParam() == std::string("trap") ? 1u : 0u);
}

INSTANTIATE_TEST_SUITE_P(Modes, TrapVsNative, ::testing::Values("native", "trap"));

// Three holes after CLI: real x86 gives the ring-1 answers and the detector
// names each site; with --holes trap each traps, is emulated on the virtual
// CPU and is counted as privileged-insn, and the guest gets bare metal's.
class TrapHolePolicy : public ::testing::TestWithParam<bool> {};

TEST_P(TrapHolePolicy, PushfSgdtAndMovFromCs) {
  const bool trapped = GetParam();
  TrapMachine t("trap", trapped);
  constexpr uint64_t kGdt = 0x3000;
  t.m.memory().write(kGdt + 0x08, 8, 0x00CF9B000000FFFF);  // flat code
  t.m.memory().write(kGdt + 0x10, 8, 0x00CF93000000FFFF);  // flat data
  t.m.cpu().s.gdtr = TableRegister{kGdt, 0x17};
  t.m.cpu().s.gpr[RSP] = 0x7000;
  t.code({
      0xFA,                                      // cli
      0x9C,                                      // pushfd
      0x58,                                      // pop eax
      0x0F, 0x01, 0x05, 0x00, 0x80, 0x00, 0x00,  // sgdt [0x8000]
      0x8C, 0xC9,                                // mov cx, cs
      0xF4,                                      // hlt (IF 0: the machine halts)
  });
  const RunResult r = t.m.run(1000000);
  EXPECT_EQ(r.reason, StopReason::Halted) << r.detail;
  const CpuState& s = t.m.cpu().s;
  EXPECT_EQ(s.gpr[RAX], trapped ? 0x00000002u : 0x00000202u);  // IF as the guest set it, or the real 1
  EXPECT_EQ(t.word(0x8002), trapped ? kGdt : window::kBase);
  EXPECT_EQ(s.gpr[RCX] & 0xFFFF, trapped ? 0x0008u : 0x0009u);
  EXPECT_EQ(t.m.monitor().holes().size(), trapped ? 0u : 3u);
  EXPECT_EQ(t.count(ExitReason::PrivilegedInsn, ZYDIS_MNEMONIC_CLI), 1u);
  EXPECT_EQ(t.count(ExitReason::PrivilegedInsn, ZYDIS_MNEMONIC_PUSHFD), trapped ? 1u : 0u);
  EXPECT_EQ(t.count(ExitReason::PrivilegedInsn, ZYDIS_MNEMONIC_SGDT), trapped ? 1u : 0u);
  EXPECT_EQ(t.count(ExitReason::PrivilegedInsn, ZYDIS_MNEMONIC_MOV), trapped ? 1u : 0u);
  EXPECT_EQ(t.m.exits().count(ExitReason::PrivilegedInsn).count, trapped ? 4u : 1u);
  const auto* monitor = dynamic_cast<const TrapAndEmulateMonitor*>(&t.m.monitor());
  ASSERT_NE(monitor, nullptr);
  EXPECT_EQ(monitor->trapped_sites(), trapped ? 3u : 0u);
  EXPECT_EQ(monitor->trapped_holes(), trapped ? 3u : 0u);
}

INSTANTIATE_TEST_SUITE_P(RealAndTrapped, TrapHolePolicy, ::testing::Bool());

// A guest that starts in real mode is refused with a reason, not run wrongly.
TEST(TrapMonitor, RealModeGuestStopsAsUnsupported) {
  MachineConfig c;
  c.ram_bytes = 4ull << 20;
  c.mode = "trap";
  Machine m(c);
  const RunResult r = m.run(100);
  EXPECT_EQ(r.reason, StopReason::Unsupported);
  EXPECT_NE(r.detail.find("real mode"), std::string::npos) << r.detail;
}

}  // namespace vtlab::test
