// Every exit names what caused it (core/exits.h, exit_cause_text): under
// hw the VMCS control that selected it, under trap and bt the sensitivity
// rule that made the instruction fault at ring 1 or call the monitor.
// samples/exitdemo and minios run with one control changed at a time, and
// --trace's "cause" of each exit is compared with the exact text.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <set>

#include "support/boot.h"

namespace vtlab::test {

namespace {
const std::string kCli = VTLAB_CLI;

// The distinct (reason, cause) pairs of a run's --trace, in order of first appearance.
std::vector<std::pair<std::string, std::string>> causes(const std::string& args, const std::string& guest) {
  // ctest runs tests in parallel processes: one file per test.
  const std::string trace =
      testing::TempDir() + "exit_causes_" + testing::UnitTest::GetInstance()->current_test_info()->name() + ".trace";
  const CommandResult r = run_command(kCli + " run --serial none --trace " + trace + " " + args + " " +
                                      sample_binary(guest));
  EXPECT_NE(r.status, 2) << r.err;
  std::vector<std::pair<std::string, std::string>> out;
  std::set<std::pair<std::string, std::string>> seen;
  std::ifstream in(trace);
  for (std::string line; std::getline(in, line);) {
    const nlohmann::json j = nlohmann::json::parse(line);
    if (!j.contains("reason")) continue;
    std::pair<std::string, std::string> p{j["reason"], j.value("cause", "")};
    if (seen.insert(p).second) out.push_back(p);
  }
  std::remove(trace.c_str());
  return out;
}

bool has(const std::vector<std::pair<std::string, std::string>>& all, const std::string& reason,
         const std::string& cause) {
  for (const auto& p : all)
    if (p.first == reason && p.second == cause) return true;
  return false;
}
using Causes = std::vector<std::pair<std::string, std::string>>;
}  // namespace

// With KVM's defaults exitdemo exits for CPUID, RDMSR EFER, MOV from DR7
// and its port writes; the closing line's UART ports each name their bit.
TEST(ExitCauses, ExitDemoDefaultControlsNameEachCause) {
  const Causes expected = {
      {"cpuid", "CPUID always exits in VMX non-root operation"},
      {"msr-read", "MSR read bitmap bit for 0xc0000080 set"},
      {"io", "I/O bitmap A bit for port 0x80 set"},
      {"privileged-insn", "MOV-DR exiting on"},
      {"io", "I/O bitmap A bit for port 0x3f9 set"},
      {"io", "I/O bitmap A bit for port 0x3fb set"},
      {"io", "I/O bitmap A bit for port 0x3f8 set"},
      {"io", "I/O bitmap A bit for port 0x3fa set"},
      {"io", "I/O bitmap A bit for port 0x3fc set"},
      {"io", "I/O bitmap A bit for port 0x3fd set"},
      {"io", "I/O bitmap A bit for port 0xf4 set"},
  };
  EXPECT_EQ(causes("--mode hw", "exitdemo.elf"), expected);
}

// Each control that exitdemo can make exit, with the text of its cause.
TEST(ExitCauses, EachHwControlNamesItself) {
  struct Row {
    std::string settings, reason, cause;
  };
  const std::vector<Row> rows = {
      {"rdtsc_exiting=1", "privileged-insn", "RDTSC exiting"},
      {"descriptor_table_exiting=1", "privileged-insn", "descriptor-table exiting"},
      {"msr_bitmap.write.0x175=1", "msr-write", "MSR write bitmap bit for 0x175 set"},
      {"use_msr_bitmaps=0", "msr-write", "MSR bitmaps off: every RDMSR and WRMSR exits"},
      {"cr3_load_exiting=1", "cr-access", "CR3-load exiting on"},
      {"cr3_store_exiting=1", "cr-access", "CR3-store exiting on"},
      {"invlpg_exiting=1", "invlpg", "INVLPG exiting"},
      {"use_io_bitmaps=0 --vmcs-set unconditional_io_exiting=1", "io", "unconditional I/O exiting (I/O bitmaps off)"},
  };
  for (const Row& r : rows) {
    const Causes all = causes("--mode hw --vmcs-set " + r.settings, "exitdemo.elf");
    EXPECT_TRUE(has(all, r.reason, r.cause)) << r.settings;
  }
  // Shadow paging: the CR3 loads and INVLPGs it needs, and MOV from CR3.
  const Causes shadow = causes("--mode hw --hw-paging shadow", "exitdemo.elf");
  EXPECT_TRUE(has(shadow, "cr-access", "CR3-load exiting on"));
  EXPECT_TRUE(has(shadow, "cr-access", "CR3-store exiting on"));
  EXPECT_TRUE(has(shadow, "invlpg", "INVLPG exiting"));
}

// minios adds the interrupt controls, HLT, the CR0 mask (its PG write) and,
// with bit 14 set, the exception bitmap; under shadow paging the #PF exits
// name their linear address.
TEST(ExitCauses, MiniOsHwInterruptsHltCr0AndExceptions) {
  const Causes nested = causes("--mode hw --vmcs-set exception_bitmap=0x4000", "minios.elf");
  EXPECT_TRUE(has(nested, "cr-access", "CR0 guest/host mask owns PG, written unlike the read shadow"));
  EXPECT_TRUE(has(nested, "hlt", "HLT exiting"));
  EXPECT_TRUE(has(nested, "external-interrupt", "external-interrupt exiting (vector 0x20)"));
  EXPECT_TRUE(has(nested, "interrupt-window", "interrupt-window exiting"));
  EXPECT_TRUE(has(nested, "guest-exception", "exception bitmap bit 14 (#PF)"));
  const Causes shadow = causes("--mode hw --hw-paging shadow", "minios.elf");
  EXPECT_TRUE(has(shadow, "hidden-page-fault",
                  "exception bitmap bit 14 (#PF): no shadow page-table entry for linear 0x101195"));
  EXPECT_TRUE(has(shadow, "page-table-write",
                  "exception bitmap bit 14 (#PF): a write to the traced guest page table at linear 0x202004"));
}

// trap: the rule that made each emulated instruction fault at ring 1.
TEST(ExitCauses, TrapNamesTheSensitivityRule) {
  const Causes all = causes("--mode trap", "minios.elf");
  EXPECT_TRUE(has(all, "privileged-insn", "CLI at CPL 1 faults: IOPL 0 < CPL"));
  EXPECT_TRUE(has(all, "privileged-insn", "STI at CPL 1 faults: IOPL 0 < CPL"));
  EXPECT_TRUE(has(all, "cr-access", "MOV to CR3 is privileged: #GP at CPL 1"));
  EXPECT_TRUE(has(all, "cr-access", "MOV from CR2 is privileged: #GP at CPL 1"));
  EXPECT_TRUE(has(all, "io", "OUT at CPL 1 faults: IOPL 0 < CPL and the TSS I/O bitmap refuses port 0x3f8"));
  EXPECT_TRUE(has(all, "privileged-insn",
                  "MOV to SS at CPL 1 faults: a ring-0 selector fails the check against the real CPL (ring compression)"));
  EXPECT_TRUE(has(all, "privileged-insn",
                  "IRETD at CPL 1 faults: the return to RPL-0 code is below the real CPL (ring compression)"));
  EXPECT_TRUE(has(all, "guest-exception", "vector 14 (#PF) at CPL 3: the monitor reflects it through the guest's IDT"));
  EXPECT_TRUE(has(all, "external-interrupt",
                  "device interrupt (vector 0x20): delivered by the monitor through the guest's IDT"));
  EXPECT_TRUE(has(all, "hidden-page-fault", "the shadow page table had no entry: filled from the guest's walk"));
}

// bt: why each callout calls the monitor.
TEST(ExitCauses, BtNamesWhyATranslationCallsTheMonitor) {
  const Causes all = causes("--mode bt", "minios.elf");
  EXPECT_TRUE(has(all, "bt-translate", "guest kernel code (CPL 1) runs only translated"));
  EXPECT_TRUE(has(all, "bt-callout", "MOV to CR3 is privileged: translated into a monitor call"));
  EXPECT_TRUE(has(all, "bt-callout",
                  "OUT at CPL 1 is IOPL-sensitive (IOPL 0 < CPL): translated into a monitor call"));
  EXPECT_TRUE(has(all, "bt-callout",
                  "IRETD at CPL 1 silently keeps IF and IOPL: a virtualization hole, translated into a monitor call"));
}

// The debugger's exit log: the last exits with their causes.
TEST(ExitCauses, DebuggerExitsCommandListsTheLastExitsWithCauses) {
  const std::string cmds = testing::TempDir() + "exit_causes.cmd";
  std::ofstream(cmds) << "catch exit cpuid\nc\nexits 2\nq\n";
  const CommandResult r = run_command(kCli + " debug --mode hw --serial none --commands " + cmds + " " +
                                      sample_binary("exitdemo.elf"));
  std::remove(cmds.c_str());
  EXPECT_NE(r.out.find("  cause: CPUID always exits in VMX non-root operation\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cpuid              key 0x0000  rip 00100"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2300 cycles  <- CPUID always exits in VMX non-root operation\n"), std::string::npos) << r.out;
}

}  // namespace vtlab::test
