// `trap` on whole guests: minios must print what it prints on bare metal,
// with exactly the exits trap-and-emulate costs it; samples/holes must see
// the wrong answers ring 1 gives, and the hole detector must name exactly
// those sites.  Every number is exact: virtual time makes runs repeatable,
// so a change here is a change in what the monitor does.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "support/boot.h"
#include "support/elf_symbols.h"

namespace vtlab::test {

namespace {
constexpr uint64_t kBudget = 100'000'000;
}  // namespace

TEST(TrapMode, MiniOsPrintsTheNativeTranscriptWithExactExits) {
  BootOutcome o = boot_kernel(sample_binary("minios.elf"), "", kBudget, 128ull << 20, "trap");
  EXPECT_EQ(o.serial, read_text_file(sample_source("minios/expected.txt")));
  ASSERT_EQ(o.result.reason, StopReason::GuestExit) << o.result.detail;
  EXPECT_EQ(o.result.guest_status, 67u);
  EXPECT_EQ(o.instructions, 8'092'115u);
  EXPECT_EQ(o.result.virtual_time, 31'700'373u);
  EXPECT_EQ(o.exit_count(ExitReason::PrivilegedInsn), 235u);  // CLI/STI, LGDT, SYSEXIT, ...
  EXPECT_EQ(o.exit_count(ExitReason::Io), 7'713u);            // mostly the UART, polled
  EXPECT_EQ(o.exit_count(ExitReason::CrAccess), 106u);
  EXPECT_EQ(o.exit_count(ExitReason::MsrWrite), 68u);          // SYSENTER_ESP per switch
  EXPECT_EQ(o.exit_count(ExitReason::Invlpg), 36u);
  EXPECT_EQ(o.exit_count(ExitReason::Hlt), 3u);
  EXPECT_EQ(o.exit_count(ExitReason::GuestException), 42u);   // #PF, #GP, INT 0x80
  EXPECT_EQ(o.exit_count(ExitReason::ExternalInterrupt), 66u);
  EXPECT_EQ(o.exit_count(ExitReason::InterruptWindow), 4u);
  EXPECT_EQ(o.exit_count(ExitReason::HiddenPageFault), 1'213u);
  EXPECT_EQ(o.exit_count(ExitReason::PageTableWrite), 2'390u);
  EXPECT_EQ(o.exit_total, 11'876u);
  EXPECT_EQ(o.exit_cycles, 23'502'000u);
}

// The same kernel twice: the same counts, the same holes.
TEST(TrapMode, RunsAreRepeatable) {
  BootOutcome a = boot_kernel(sample_binary("minios.elf"), "", kBudget, 128ull << 20, "trap");
  BootOutcome b = boot_kernel(sample_binary("minios.elf"), "", kBudget, 128ull << 20, "trap");
  EXPECT_EQ(a.instructions, b.instructions);
  EXPECT_EQ(a.exits, b.exits);
  ASSERT_EQ(a.holes.size(), b.holes.size());
  for (size_t i = 0; i < a.holes.size(); ++i) EXPECT_EQ(a.holes[i].rip, b.holes[i].rip);
}

// Under trap the guest sees ring 1's answers (its own transcript says
// WRONG), and the detector names each site where the guest got one.
TEST(TrapMode, HolesGuestSeesRingOneAndTheDetectorNamesEachSite) {
  const std::string elf = sample_binary("holes.elf");
  BootOutcome o = boot_kernel(elf, "", kBudget, 128ull << 20, "trap");
  EXPECT_EQ(o.serial, read_text_file(sample_source("holes/expected-trap.txt")));
  ASSERT_EQ(o.result.reason, StopReason::GuestExit) << o.result.detail;
  EXPECT_EQ(o.instructions, 69'183u);

  const std::map<std::string, uint32_t> syms = elf32_symbols(elf);
  std::map<uint32_t, std::string> name_at;
  for (const auto& [name, addr] : syms)  // a site label wins over a function at the same address
    if (!name_at.count(addr) || name.ends_with("_site")) name_at[addr] = name;
  std::vector<std::string> sites;
  for (const Monitor::Hole& h : o.holes)
    sites.push_back(name_at.count(static_cast<uint32_t>(h.rip)) ? name_at[static_cast<uint32_t>(h.rip)]
                                                                 : fmt::format("{:#x}", h.rip));
  // In the order the kernel runs them.  IRET to RPL 0, far RET and both
  // INT n are missing because at ring 1 they trap, so the monitor emulates
  // them and the guest gets bare metal's answer; far JMP's wrong CS shows
  // at the MOV that reads it; LSL, VERR and VERW with RPL 0 agree at both
  // levels.  The call gate's LRET returns through the RPL-1 CS the far
  // CALL pushed: at ring 0 that would be a return to ring 1.
  const std::vector<std::string> expected = {
      "hole_mov_sreg_site",   "hole_push_ss_site",   "hole_sgdt_site",
      "hole_sidt_site",       "hole_sldt_site",      "hole_str_site",
      "hole_smsw_site",       "hole_pushf_site",     "hole_popf_if_site",
      "hole_popf_iopl_site",  "hole_push_cs_site",   "hole_iret_flags_site",
      "hole_far_call_site",   "helper_gate_lret_site", "hole_lar_kcode_site",
      "hole_lsl_kdata_rpl1_site", "hole_verr_kcode_rpl1_site", "hole_verw_kdata_rpl1_site",
  };
  EXPECT_EQ(sites, expected);
  ASSERT_EQ(o.holes.size(), expected.size());
  EXPECT_EQ(o.holes[2].insn, "sgdt [eax]");
  EXPECT_EQ(o.holes[2].observed, "stored 0xffc00000 at 0x00106fd6");
  EXPECT_EQ(o.holes[2].bare_metal, "stored 0x00107310 at 0x00106fd6");
  EXPECT_EQ(o.holes[9].observed, "IF 1, IOPL 0");
  EXPECT_EQ(o.holes[9].bare_metal, "IF 0, IOPL 3");
  EXPECT_EQ(o.holes[14].observed, "EDX 0x00c0bb00");  // LAR shows the compressed DPL 1
  EXPECT_EQ(o.holes[14].bare_metal, "EDX 0x00c09b00");
}

TEST(TrapMode, NativeFindsNoHoles) {
  BootOutcome o = boot_kernel(sample_binary("holes.elf"), "", kBudget);
  EXPECT_TRUE(o.holes.empty());
  EXPECT_EQ(o.exit_total, 0u);
}

}  // namespace vtlab::test
