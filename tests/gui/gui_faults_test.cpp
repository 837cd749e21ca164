// The GUI's Faults panel (gui/panel_faults.cpp) through --dump-state: a
// guest whose MOV DS is refused (RPL above DPL) and whose #GP gate is not
// present, so the #GP becomes a #DF its handler survives; the panel shows
// the double fault's chain and the segment check, in the words of
// debugger/fault_explain.h.
#include "gui/gui_headless.h"
#include "support/assemble.h"

namespace vtlab::test::gui {

namespace {

std::string double_fault_guest() {
  const std::vector<uint8_t> code = assemble(std::string(kGatesToHandler) + R"(
  and byte ptr [0x20006d], 0x7f   # #GP's gate: not present
  lidt [idt0]
  mov esp, 0x90000
  mov ax, 0x13
  mov ds, ax
handler:
  hlt
  .p2align 3
gdt: .quad 0
  .quad 0x00cf9a000000ffff
  .quad 0x00cf92000000ffff
gdt0: .word 0x17
      .long gdt
idt0: .word 0xff
      .long 0x200000
)", 32, 0x100000);
  const std::string path = ::testing::TempDir() + "/gui-faults.bin";
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(code.data()), code.size());
  return path;
}

}  // namespace

TEST(GuiFaults, PanelExplainsTheDoubleFaultAndTheRefusedSegmentLoad) {
  if (const std::string why = gui_missing(); !why.empty()) GTEST_SKIP() << why;
  const std::string guest = double_fault_guest();
  const GuiRun before = run_script("gui-faults-none", "", "--flat 0x100000 " + guest);
  ASSERT_EQ(before.r.status, 0) << before.r.err;
  EXPECT_EQ(before.state.find("\nfault "), std::string::npos) << before.state;

  const std::string png = ::testing::TempDir() + "/gui-faults.png";
  const GuiRun g = run_script("gui-faults", "c\n", "--flat 0x100000 " + guest, png);
  ASSERT_EQ(g.r.status, 0) << g.r.err;
  const size_t at = g.state.find("\nfault ");
  ASSERT_NE(at, std::string::npos) << g.state;
  const size_t end = g.state.find("\n", g.state.rfind("\nfault ") + 1);
  EXPECT_EQ(g.state.substr(at + 1, end - at),
            "fault the last double fault the guest survived:\n"
            "fault double fault, event by event (SDM vol. 3, 6.15 and table 6-5):\n"
            "fault   1. #GP(0x0010) at 0008:00100049  mov ds, ax\n"
            "fault      selector 0x0013 (GDT entry 2, RPL 3) = 00cf92000000ffff: data, read/write, DPL 0, present, base 0x0, "
            "limit 0xffffffff\n"
            "fault      check failed at CPL 0: RPL 3 > DPL 0: a data or non-conforming code segment is loaded only when "
            "max(CPL, RPL) <= DPL\n"
            "fault   2. #NP(0x006b) while delivering #GP(0x0010): IDT entry 0x0d = 00100e000008004b: 32-bit interrupt gate, "
            "DPL 0, not present: the gate is not present\n"
            "fault      contributory then contributory: a double fault (#DF) is raised instead\n"
            "fault   the #DF handler was entered\n"
            "fault the last segment or gate check that refused: #GP(0x0010) at instruction 263\n"
            "fault   selector 0x0013 (GDT entry 2, RPL 3) = 00cf92000000ffff: data, read/write, DPL 0, present, base 0x0, "
            "limit 0xffffffff\n"
            "fault   check failed at CPL 0: RPL 3 > DPL 0: a data or non-conforming code segment is loaded only when "
            "max(CPL, RPL) <= DPL\n");
  const PngStats p = png_stats(png);
  EXPECT_GE(p.drawn_percent, 5u);
}

}  // namespace vtlab::test::gui
