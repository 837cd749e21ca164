// samples/holes booted on the real machine (vtlab's `native`): the kernel
// runs each of Robin & Irvine's sensitive-but-unprivileged instructions at
// CPL 0, so every line must say what bare metal says.  The transcript was
// recorded from qemu-system-i386.  The site offsets the guest prints are
// checked against its ELF symbols, because a monitor's hole report (a
// guest EIP) is matched to the guest's lines through them.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <sstream>

#include "support/boot.h"
#include "support/elf_symbols.h"

namespace vtlab::test {

namespace {
const std::string kHoles = std::string(VTLAB_SAMPLES_DIR) + "/holes.elf";
const std::string kExpected = std::string(VTLAB_GUESTS_SRC_DIR) + "/../../samples/holes/expected.txt";
constexpr uint32_t kImageBase = 0x100000;  // samples/common/link.ld
constexpr uint32_t kExitStatus = (0x17 << 1) | 1;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// The offset a line prints after `marker` ("image+0x1234" -> 0x1234).
uint32_t offset_after(const std::string& line, const std::string& marker) {
  const size_t at = line.find(marker);
  return at == std::string::npos ? ~0u : uint32_t(std::stoul(line.substr(at + marker.size()), nullptr, 16));
}
}  // namespace

TEST(Holes, NativeMatchesQemuTranscriptAndStatus) {
  BootOutcome o = boot_kernel(kHoles);
  EXPECT_EQ(o.serial, read_text_file(kExpected));
  ASSERT_EQ(o.result.reason, StopReason::GuestExit) << o.result.detail;
  EXPECT_EQ(o.result.guest_status, kExitStatus);
  EXPECT_EQ(o.instructions, 68'194u);  // exact: a change here is a change in behaviour
}

// Every site is checked, and at CPL 0 every check gives bare metal's answer.
TEST(Holes, NativeEveryLineOk) {
  BootOutcome o = boot_kernel(kHoles);
  unsigned holes = 0;
  for (const std::string& l : lines_of(o.serial)) {
    if (l.rfind("hole ", 0) != 0) continue;
    holes++;
    EXPECT_TRUE(l.size() > 3 && l.compare(l.size() - 3, 3, " ok") == 0) << l;
  }
  EXPECT_EQ(holes, 25u);
  EXPECT_NE(o.serial.find("holes: 25 checks, 25 ok, 0 wrong\n"), std::string::npos) << o.serial;
}

// The offsets printed are those of the labelled instructions, so a hole
// report's EIP names exactly one line.
TEST(Holes, PrintedSitesAreTheLabelledInstructions) {
  const std::map<std::string, uint32_t> syms = elf32_symbols(kHoles);
  ASSERT_FALSE(syms.empty());
  const std::map<std::string, std::string> site_of = {
      {"far JMP", "hole_far_jmp_site"},
      {"MOV r/m16,Sreg", "hole_mov_sreg_site"},
      {"PUSH SS", "hole_push_ss_site"},
      {"SGDT", "hole_sgdt_site"},
      {"SIDT", "hole_sidt_site"},
      {"SLDT", "hole_sldt_site"},
      {"STR", "hole_str_site"},
      {"SMSW", "hole_smsw_site"},
      {"PUSHF", "hole_pushf_site"},
      {"POPF (IF)", "hole_popf_if_site"},
      {"POPF (IOPL)", "hole_popf_iopl_site"},
      {"PUSH CS", "hole_push_cs_site"},
      {"IRET (flags)", "hole_iret_flags_site"},
      {"IRET (to RPL 0)", "hole_iret_rpl0_site"},
      {"far CALL", "hole_far_call_site"},
      {"far RET", "hole_far_ret_site"},
      {"INT n (DPL-0 gate)", "hole_int_dpl0_site"},
      {"INT n (DPL-3 gate)", "hole_int_dpl3_site"},
      {"LAR", "hole_lar_kcode_site"},
      {"LSL", "hole_lsl_kdata_site"},
      {"LSL (RPL 1)", "hole_lsl_kdata_rpl1_site"},
      {"VERR", "hole_verr_kcode_site"},
      {"VERR (RPL 1)", "hole_verr_kcode_rpl1_site"},
      {"VERW", "hole_verw_kdata_site"},
      {"VERW (RPL 1)", "hole_verw_kdata_rpl1_site"},
  };
  BootOutcome o = boot_kernel(kHoles);
  std::map<std::string, int> seen;
  for (const std::string& l : lines_of(o.serial)) {
    if (l.rfind("hole ", 0) == 0) {
      const std::string name = l.substr(5, l.find(" at image+") - 5);
      auto it = site_of.find(name);
      ASSERT_NE(it, site_of.end()) << l;
      ASSERT_EQ(syms.count(it->second), 1u) << it->second;
      EXPECT_EQ(offset_after(l, "at image+0x"), syms.at(it->second) - kImageBase) << l;
      seen[name]++;
    } else if (l.rfind("helper sites", 0) == 0) {
      EXPECT_EQ(offset_after(l, "#GP IRET image+0x"), syms.at("helper_exc_iret_site") - kImageBase);
      EXPECT_EQ(offset_after(l, "INT IRET image+0x"), syms.at("helper_int_iret_site") - kImageBase);
      EXPECT_EQ(offset_after(l, "call-gate LRET image+0x"), syms.at("helper_gate_lret_site") - kImageBase);
      seen["helper"]++;
    }
  }
  EXPECT_EQ(seen.size(), site_of.size() + 1);
  for (const auto& [name, n] : seen) EXPECT_EQ(n, 1) << name;
}

}  // namespace vtlab::test
