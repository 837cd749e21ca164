// The binary translator on hand-made kernel code: what each instruction
// becomes, and self-modifying code (a translation of bytes the kernel then
// rewrites is dropped and made again).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <sstream>
#include <vector>

#include "core/decoder.h"
#include "core/machine.h"
#include "privilege/bt_monitor.h"

namespace vtlab::test {

namespace {
using T = BinaryTranslationMonitor::Translation;

T translation_of(std::vector<uint8_t> bytes) {
  Decoder d;
  DecodedInsn insn;
  EXPECT_EQ(d.decode(bytes.data(), bytes.size(), 4, insn), DecodeStatus::Ok);
  return BinaryTranslationMonitor::translation_of(insn);
}

uint64_t count(const Machine& m, ExitReason r) { return m.exits().count(r).count; }
}  // namespace

TEST(BtTranslation, EachInstructionIsIdentInlineOrCallout) {
  EXPECT_EQ(translation_of({0x01, 0xD8}), T::Ident);        // add eax, ebx
  EXPECT_EQ(translation_of({0xCD, 0x80}), T::Ident);        // int 0x80: an event, delivered by the monitor
  EXPECT_EQ(translation_of({0xFA}), T::Inline);             // cli
  EXPECT_EQ(translation_of({0x9C}), T::Inline);             // pushfd
  EXPECT_EQ(translation_of({0x0F, 0x01, 0x00}), T::Inline); // sgdt [eax]
  EXPECT_EQ(translation_of({0x8C, 0xC8}), T::Inline);       // mov eax, cs
  EXPECT_EQ(translation_of({0x0F, 0x22, 0xD8}), T::Callout);// mov cr3, eax
  EXPECT_EQ(translation_of({0xE6, 0x80}), T::Callout);      // out 0x80, al
  EXPECT_EQ(translation_of({0xF4}), T::Callout);            // hlt
  EXPECT_EQ(translation_of({0xCF}), T::Callout);            // iretd
}

// The kernel runs a block, rewrites an immediate in it and runs it again:
// the second pass must see the new bytes under bt as natively.
class BtSelfModifying : public ::testing::TestWithParam<const char*> {};

TEST_P(BtSelfModifying, RewrittenCodeIsRetranslated) {
  MachineConfig c;
  c.ram_bytes = 4ull << 20;
  c.mode = GetParam();
  std::ostringstream log;
  c.bt_log = c.mode == "bt" ? &log : nullptr;
  Machine m(c);
  set_flat_protected_mode(m.cpu().s);
  m.cpu().s.rip = 0x1000;
  const std::vector<uint8_t> code = {
      0xB9, 0x02, 0x00, 0x00, 0x00,                                // 1000 mov ecx, 2
      0xB8, 0x11, 0x11, 0x11, 0x11,                                // 1005 mov eax, 0x11111111
      0xC7, 0x05, 0x06, 0x10, 0x00, 0x00, 0x22, 0x22, 0x22, 0x22,  // 100a mov dword [0x1006], 0x22222222
      0x49,                                                        // 1014 dec ecx
      0x75, 0xEE,                                                  // 1015 jnz 0x1005
      0xF4,                                                        // 1017 hlt
  };
  ASSERT_TRUE(m.memory().write_bytes(0x1000, code.data(), code.size()));
  const RunResult r = m.run(10'000'000);
  EXPECT_EQ(r.reason, StopReason::Halted) << r.detail;
  EXPECT_EQ(m.cpu().s.gpr[RAX], 0x22222222u);
  EXPECT_EQ(m.cpu().icount, 10u);
  if (c.mode == "bt") {
    // 1000 (to the store, which drops it), 1014, 1005 rewritten, 1014 again
    // (dropped with its page's chunk), and the HLT.
    EXPECT_EQ(count(m, ExitReason::BtTranslate), 5u) << log.str();
    const auto line = [](const char* insn, const char* how) { return fmt::format("  {:<32} {}\n", insn, how); };
    EXPECT_NE(log.str().find("0x00001005" + line("mov eax, 0x22222222", "ident    runs as written")),
              std::string::npos)
        << log.str();
    EXPECT_NE(log.str().find("0x00001017" + line("hlt", "callout  the monitor emulates it (hlt in trap)")),
              std::string::npos)
        << log.str();
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, BtSelfModifying, ::testing::Values("native", "bt"));

}  // namespace vtlab::test
