// The simulated VT-x monitor (privilege/hw_sim/) control by control, on
// hand-made code: each control turned on or off changes exactly the exits
// the SDM vol. 3C, chapter 25 says it does, with the exit reason numbers
// and qualifications of its section 28.2.1.  Whole guests under the same
// monitor: tests/e2e/hw_sim_test.cpp.
#include <gtest/gtest.h>

#include <stdexcept>

#include "core/machine.h"
#include "privilege/hw_sim/exit_reasons.h"
#include "privilege/hw_sim/hw_sim_monitor.h"
#include "privilege/hw_sim/vmcs.h"
#include "support/assemble.h"

namespace vtlab::test {

namespace {
constexpr uint64_t kCode = 0x1000, kDir = 0x10000;
using Vmx = vmx::ExitReason;

struct HwMachine {
  static MachineConfig cfg(const std::vector<std::string>& settings, const char* paging) {
    MachineConfig c;
    c.ram_bytes = 4ull << 20;
    c.mode = "hw";
    c.hw_paging = paging;
    c.vmcs_set = settings;
    return c;
  }
  explicit HwMachine(const std::vector<std::string>& settings = {}, const char* paging = "nested")
      : m(cfg(settings, paging)) {
    set_flat_protected_mode(m.cpu().s);
    m.cpu().s.rip = kCode;
  }
  void code(const std::string& source) {
    const std::vector<uint8_t> bytes = assemble(source, 32, kCode);
    ASSERT_TRUE(m.memory().write_bytes(kCode, bytes.data(), bytes.size()));
  }
  // 32-bit paging with 4 MiB pages: the first 4 MiB identity-mapped, and
  // the 4 MiB holding the local APIC's registers.
  void paging_on() {
    m.memory().write(kDir, 4, 0x83);
    m.memory().write(kDir + (0xFEC00000 >> 22) * 4, 4, 0xFEC00083);
    CpuState& s = m.cpu().s;
    s.cr3 = kDir;
    s.cr4 |= cr4::PSE;
    s.cr0 |= cr0::PG;
  }
  RunResult run() { return m.run(100000); }
  uint64_t count(ExitReason r, uint32_t key) const {
    const auto& by_key = m.exits().count(r).by_key;
    const auto it = by_key.find(key);
    return it == by_key.end() ? 0 : it->second;
  }
  const HwSimMonitor& hw() const { return dynamic_cast<const HwSimMonitor&>(m.monitor()); }
  Machine m;
};
}  // namespace

TEST(HwSimControls, DefaultsAreKvmLike) {
  const vmx::Controls ept = vmx::Controls::defaults(true), shadow = vmx::Controls::defaults(false);
  EXPECT_TRUE(ept.hlt_exiting && ept.external_interrupt_exiting && ept.use_io_bitmaps && ept.enable_vpid);
  EXPECT_FALSE(ept.cr3_load_exiting || ept.invlpg_exiting || ept.rdtsc_exiting || ept.descriptor_table_exiting);
  EXPECT_EQ(ept.exception_bitmap, 0u);
  EXPECT_TRUE(shadow.cr3_load_exiting && shadow.cr3_store_exiting && shadow.invlpg_exiting);
  EXPECT_EQ(shadow.exception_bitmap, 1u << 14);
  EXPECT_FALSE(shadow.unrestricted_guest);
  EXPECT_EQ(ept.cr0_guest_host_mask, ~uint64_t{cr0::TS | cr0::WP});
  EXPECT_EQ(shadow.cr0_guest_host_mask, ~uint64_t{cr0::TS});
  EXPECT_TRUE(ept.io_exits(0x3F8, 1));
  EXPECT_TRUE(ept.io_exits(0xFFFF, 2));  // wraps: always exits
  EXPECT_FALSE(ept.msr_exits(0x175, true));        // SYSENTER_ESP: passed through
  EXPECT_FALSE(ept.msr_exits(0xC0000100, false));  // FS_BASE
  EXPECT_FALSE(ept.msr_exits(0x10, false));        // TSC reads
  EXPECT_TRUE(ept.msr_exits(0x10, true));
  EXPECT_TRUE(ept.msr_exits(0xC0000080, false));   // EFER
  EXPECT_TRUE(ept.msr_exits(0x40000000, false));   // outside both bitmaps
  EXPECT_EQ(ept.validate(), "");
  EXPECT_EQ(shadow.validate(), "");
}

TEST(HwSimControls, FileAndSettingsAreParsedOrRefusedInOneLine) {
  vmx::Controls c = vmx::make_controls("nested",
                                       "# a comment\n hlt_exiting = off\nio_bitmap.0x3f8-0x3ff = 0  # COM1\n"
                                       "exception_bitmap = 0x4040\n",
                                       {"msr_bitmap.write.0x175=1", "rdtsc_exiting=1"});
  EXPECT_FALSE(c.hlt_exiting);
  EXPECT_TRUE(c.rdtsc_exiting);
  EXPECT_EQ(c.exception_bitmap, 0x4040u);
  EXPECT_FALSE(c.io_exits(0x3F8, 1));
  EXPECT_FALSE(c.io_exits(0x3FC, 4));  // 0x3FC-0x3FF
  EXPECT_TRUE(c.io_exits(0x3FE, 4));   // reaches 0x400
  EXPECT_TRUE(c.msr_exits(0x175, true));
  EXPECT_FALSE(c.msr_exits(0x175, false));
  const vmx::Controls j = vmx::make_controls("nested", R"({"hlt_exiting": false, "cr0_read_shadow": "0x11"})", {});
  EXPECT_FALSE(j.hlt_exiting);
  EXPECT_TRUE(j.cr0_read_shadow_set);
  EXPECT_EQ(j.cr0_read_shadow, 0x11u);
  const auto refused = [](const char* paging, const char* text, std::vector<std::string> sets) -> std::string {
    try {
      vmx::make_controls(paging, text, sets);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "accepted";
  };
  EXPECT_EQ(refused("nested", "warp_exiting = 1", {}),
            "--vmcs: line 1: unknown VMCS control \"warp_exiting\" (see docs/HARDWARE_ASSISTED.md)");
  EXPECT_EQ(refused("nested", "\nhlt_exiting = maybe", {}), "--vmcs: line 2: hlt_exiting: \"maybe\" is not 0/1/on/off");
  EXPECT_EQ(refused("nested", "", {"hlt_exiting"}), "--vmcs-set: \"hlt_exiting\" is not name=value");
  EXPECT_EQ(refused("nested", "", {"enable_ept=0"}), "--vmcs: enable_ept = 0 contradicts --hw-paging nested");
  EXPECT_EQ(refused("shadow", "", {"exception_bitmap=0"}),
            "--vmcs: shadow paging (enable_ept = 0) needs exception_bitmap bit 14 (#PF)");
  EXPECT_EQ(refused("shadow", "", {"unrestricted_guest=1"}), "--vmcs: unrestricted_guest needs enable_ept (SDM 26.2.1.1)");
  EXPECT_EQ(refused("nested", "", {"io_bitmap.0x10000=0"}),
            "--vmcs-set: io_bitmap.0x10000: range 0x10000 is out of order or beyond 0xffff");
  EXPECT_EQ(refused("flat", "", {}), "--hw-paging: \"flat\" is not shadow or nested");
}

TEST(HwSimControls, AnUnknownBackendIsRefused) {
  MachineConfig c;
  c.mode = "hw";
  c.hw_backend = "vmware";
  EXPECT_THROW(Machine m(c), std::invalid_argument);
}

TEST(HwSimExits, HltExitsOnlyWithHltExiting) {
  for (const bool on : {true, false}) {
    HwMachine t({on ? "hlt_exiting=1" : "hlt_exiting=0"});
    t.code("cpuid\nhlt\n");
    EXPECT_EQ(t.run().reason, StopReason::Halted);
    EXPECT_EQ(t.count(ExitReason::Hlt, 0), on ? 1u : 0u);
    EXPECT_EQ(t.hw().vmx_exits(Vmx::Hlt), on ? 1u : 0u);
    EXPECT_EQ(t.count(ExitReason::Cpuid, 0), 1u);  // CPUID always exits
    EXPECT_EQ(t.m.cpu().icount, 2u);
  }
}

TEST(HwSimExits, IoBitmapDecidesPerPortWithTheSdmQualification) {
  HwMachine t({"io_bitmap.0x3f8-0x3ff=0", "hlt_exiting=0"});
  t.code("mov dx, 0x3f8\nmov al, 0x41\nout dx, al\nin al, dx\nout 0x80, al\nhlt\n");
  EXPECT_EQ(t.run().reason, StopReason::Halted);
  EXPECT_EQ(t.m.serial_transcript(), "A");
  EXPECT_EQ(t.count(ExitReason::Io, 0x3F8), 0u);
  EXPECT_EQ(t.count(ExitReason::Io, 0x80), 1u);
  // OUT imm8, AL: size 1 (0), OUT (bit 3 clear), immediate (bit 6), port 0x80 in bits 31:16.
  EXPECT_EQ(t.hw().last_exit().reason, 30u);
  EXPECT_EQ(t.hw().last_exit().qualification, 0x00800040u);

  HwMachine all({"hlt_exiting=0"});
  all.code("mov dx, 0x3f8\nmov al, 0x41\nout dx, al\nin al, dx\nhlt\n");
  all.run();
  EXPECT_EQ(all.count(ExitReason::Io, 0x3F8), 2u);
  // IN AL, DX: size 1, IN (bit 3), DX operand, port 0x3F8.
  EXPECT_EQ(all.hw().last_exit().qualification, 0x03F80008u);

  HwMachine none({"use_io_bitmaps=0", "hlt_exiting=0"});
  none.code("mov dx, 0x3f8\nmov al, 0x41\nout dx, al\nhlt\n");
  none.run();
  EXPECT_EQ(none.m.exits().count(ExitReason::Io).count, 0u);
  EXPECT_EQ(none.m.serial_transcript(), "A");
}

TEST(HwSimExits, ExceptionBitmapBit14MakesPageFaultsExit) {
  for (const bool on : {true, false}) {
    HwMachine t({on ? "exception_bitmap=0x4000" : "exception_bitmap=0"});
    t.paging_on();
    t.code("mov eax, [0x800000]\n");
    std::vector<ExitRecord> records;
    t.m.exits().set_sink([&](const ExitRecord& r) { records.push_back(r); });
    // No IDT: the #PF cannot be delivered, and the machine shuts down.
    EXPECT_EQ(t.run().reason, StopReason::Shutdown);
    EXPECT_EQ(t.count(ExitReason::GuestException, vec::PF), on ? 1u : 0u);
    EXPECT_EQ(t.hw().vmx_exits(Vmx::TripleFault), 1u);  // whatever the bitmap says
    EXPECT_EQ(t.count(ExitReason::Shutdown, 0), 1u);
    ASSERT_EQ(records.size(), on ? 2u : 1u);
    if (on) {
      EXPECT_EQ(records[0].vmx_reason, 0u);
      EXPECT_EQ(records[0].qualification, 0x800000u);  // the faulting linear address
      EXPECT_EQ(records[0].rip, kCode);
    }
    EXPECT_EQ(records.back().vmx_reason, 2u);
  }
}

TEST(HwSimExits, Cr0AndCr4ReadsSeeTheShadowsAndGuestOwnedWritesStayInside) {
  HwMachine t({"cr0_read_shadow=0x80000011", "hlt_exiting=0"});
  t.code("mov eax, cr0\nsmsw ebx\nmov ecx, cr4\nor eax, 8\nmov cr0, eax\nhlt\n");
  const uint64_t real_cr0 = t.m.cpu().s.cr0;
  ASSERT_EQ(real_cr0 & cr0::PG, 0u);
  EXPECT_EQ(t.run().reason, StopReason::Halted);
  const CpuState& s = t.m.cpu().s;
  EXPECT_EQ(s.gpr[RAX], 0x80000019u);              // PG from the shadow, TS set by the guest
  EXPECT_EQ(s.gpr[RBX] & 0xFFFF, 0x0011u);         // SMSW: the shadow's low word
  EXPECT_EQ(s.gpr[RCX] & (1u << 13), 0u);          // CR4.VMXE is hidden...
  EXPECT_NE(s.cr4 & (1u << 13), 0u);               // ...but set
  EXPECT_EQ(s.cr0, real_cr0 | cr0::TS);            // only the guest-owned TS changed; no paging
  EXPECT_EQ(t.m.exits().count(ExitReason::CrAccess).count, 0u);  // matched the shadow: no exit

  HwMachine w({"hlt_exiting=0"});
  w.code("mov eax, cr0\nor eax, 0x40000000\nmov cr0, eax\nhlt\n");  // CD: the monitor's bit
  w.run();
  EXPECT_EQ(w.count(ExitReason::CrAccess, 16), 1u);
  EXPECT_EQ(w.hw().last_exit().qualification, 0u);  // CR0, MOV to CR, from EAX
  EXPECT_NE(w.m.cpu().s.cr0 & cr0::CD, 0u);
  EXPECT_EQ(w.hw().controls().cr0_read_shadow & cr0::CD, cr0::CD);
}

TEST(HwSimExits, MsrBitmapPassesSysenterThroughAndStopsEfer) {
  for (const bool trap_sysenter : {false, true}) {
    HwMachine t({trap_sysenter ? "msr_bitmap.write.0x175=1" : "hlt_exiting=1", "hlt_exiting=0"});
    t.code("mov ecx, 0x175\nmov eax, 0x9000\nxor edx, edx\nwrmsr\nmov ecx, 0xc0000080\nrdmsr\nhlt\n");
    EXPECT_EQ(t.run().reason, StopReason::Halted);
    EXPECT_EQ(t.count(ExitReason::MsrWrite, 0x175), trap_sysenter ? 1u : 0u);
    EXPECT_EQ(t.count(ExitReason::MsrRead, 0xC0000080), 1u);
    EXPECT_EQ(t.m.cpu().s.msrs.at(0x175), 0x9000u);
  }
}

TEST(HwSimExits, RdtscAndDescriptorTableExitingAreOptIn) {
  HwMachine off({"hlt_exiting=0"});
  off.code("rdtsc\nsgdt [0x20000]\nsidt [0x20010]\nstr ax\nhlt\n");
  off.run();
  EXPECT_EQ(off.m.exits().total(), 0u);
  HwMachine on({"hlt_exiting=0", "rdtsc_exiting=1", "descriptor_table_exiting=1"});
  on.code("rdtsc\nsgdt [0x20000]\nsidt [0x20010]\nstr ax\nhlt\n");
  on.run();
  EXPECT_EQ(on.hw().vmx_exits(Vmx::Rdtsc), 1u);
  EXPECT_EQ(on.hw().vmx_exits(Vmx::GdtrIdtrAccess), 2u);
  EXPECT_EQ(on.hw().vmx_exits(Vmx::LdtrTrAccess), 1u);
  EXPECT_EQ(on.m.exits().total(), 4u);
  // The round trip is charged on top of each reason's cycles.
  const CostModel costs;
  EXPECT_EQ(on.m.exits().total_cycles(), 4 * costs.vm_round_trip() + 4 * costs.cycles(ExitReason::PrivilegedInsn));
}

TEST(HwSimNested, MmioIsAnEptViolationEveryTimeAndWalksAreCounted) {
  HwMachine t({"hlt_exiting=0"});
  t.paging_on();
  t.code("mov eax, [0xfee00030]\nmov ebx, [0xfee00030]\nhlt\n");
  EXPECT_EQ(t.run().reason, StopReason::Halted);
  EXPECT_EQ(t.count(ExitReason::Mmio, 0xFEE00000), 2u);  // never cached
  EXPECT_EQ(t.hw().vmx_exits(Vmx::EptViolation), 2u);
  // A read (bit 0), nothing allowed (bits 5:3), guest linear address valid (7) for the final translation (8).
  EXPECT_EQ(t.hw().last_exit().qualification, 0x181u);
  EXPECT_EQ(t.m.cpu().s.gpr[RAX], t.m.cpu().s.gpr[RBX]);  // the APIC version register, both times
  const NestedPaging& n = *t.hw().nested();
  // One 4 MiB guest page = one guest level: 1 * (4 + 1) + 4 = 9 references
  // per walk; the code page once, the APIC page on both reads.
  EXPECT_EQ(NestedPaging::walk_references(4), 24u);
  EXPECT_EQ(NestedPaging::walk_references(2), 14u);
  EXPECT_EQ(n.walks(), 3u);
  EXPECT_EQ(n.references(), 27u);
  EXPECT_EQ(n.max_references(), 9u);
}

TEST(HwSimNested, WithoutVpidEveryExitFlushesTheTlb) {
  for (const bool vpid : {true, false}) {
    HwMachine t({vpid ? "enable_vpid=1" : "enable_vpid=0", "hlt_exiting=0"});
    t.paging_on();
    t.code("cpuid\nmov eax, [0x2000]\ncpuid\nmov eax, [0x2000]\nhlt\n");
    t.run();
    const auto counters = t.hw().counters();
    EXPECT_EQ(counters[0].first, "vmx_exit_10");
    EXPECT_EQ(counters[0].second, 2u);
    EXPECT_EQ(counters[1].first, "tlb_flushes_on_exit");
    EXPECT_EQ(counters[1].second, vpid ? 0u : 2u);
    // With VPID: the code page and the data page once each.  Without:
    // each CPUID exit flushed the data page's entry, so both loads walk
    // (the code page was walked once, when its block was decoded).
    EXPECT_EQ(t.hw().nested()->walks(), vpid ? 2u : 3u);
  }
}

TEST(HwSimShadow, HiddenPageFaultsAreSharpExitsWithTheLinearAddress) {
  HwMachine t({"hlt_exiting=0"}, "shadow");
  t.paging_on();
  t.code("mov eax, [0x2000]\nmov cr3, ebx\nhlt\n");
  t.m.cpu().s.gpr[RBX] = kDir;
  EXPECT_EQ(t.run().reason, StopReason::Halted);
  // The code page and the data page fill the shadow (two #PF exits); the
  // CR3 load exits and empties it.
  EXPECT_EQ(t.count(ExitReason::HiddenPageFault, ShadowMmu::kFill), 2u);
  EXPECT_EQ(t.count(ExitReason::CrAccess, 16 + 3), 1u);
  EXPECT_EQ(t.hw().vmx_exits(Vmx::ExceptionOrNmi), 2u);
  EXPECT_EQ(t.hw().last_exit().reason, 28u);
  EXPECT_EQ(t.hw().last_exit().qualification, 0x303u);  // CR3, MOV to CR, from EBX (3)
}

}  // namespace vtlab::test
