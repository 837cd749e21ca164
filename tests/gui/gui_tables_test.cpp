// The GUI's Descriptor tables panel (GDT, IDT, LDT, TSS; gui/panel_tables.cpp)
// and page tree, through --dump-state: natively the CPU's tables, which
// are the guest's; under trap and bt the guest's own as it loaded them
// (the monitor's VirtualCpu and the CR3 it loaded), and after `gui tables
// real` the monitor's shadow tables the real CPU runs on: compressed to
// ring 1, TSS and LDT descriptors not present, in the window at 0xffc00000.
#include "gui/gui_headless.h"

namespace vtlab::test::gui {

namespace {

const std::string kMiniOs = sample_binary("minios.elf");
const std::string kMiniOs64 = sample_binary("minios64.elf");
const std::string kHoles = sample_binary("holes.elf");

void expect_lines(const std::string& state, std::initializer_list<const char*> lines) {
  for (const char* l : lines) EXPECT_NE(state.find(std::string(l) + "\n"), std::string::npos) << l << "\n" << state;
}

}  // namespace

TEST(GuiTables, MiniOsTssNative) {
  if (const std::string why = gui_missing(); !why.empty()) GTEST_SKIP() << why;
  // The kernel's first instruction with paging on: its GDT, IDT (32
  // exceptions, 16 IRQs and INT 0x80) and the TSS with the ring-0 stack.
  const GuiRun g = run_script("gui-tss", "catch cr 0\nc\ngui tabs TSS\n", kMiniOs);
  ASSERT_EQ(g.r.status, 0) << g.r.err;
  expect_lines(g.state, {"tables guest: the CPU's, which are the guest's own (no shadow tables in this mode)",
                         "gdtr base 1098e8 limit 2f", "gdt 5 present", "idtr base 109008 limit 7ff",
                         "idt 49 present", "ldtr 0000 base 0 limit ffff", "tr 0028 base 109880 limit 67 tss 32-bit",
                         "tss ESP0 109000", "tss SS0 10", "tss ESP1 0", "tss CR3 0", "tss T 0",
                         "tss I/O map base 68", "page-tree cr3 10a000 32-bit paging"});
  EXPECT_EQ(g.state.find("shadow-pages"), std::string::npos) << g.state;
  EXPECT_EQ(g.state.find("\nldt "), std::string::npos) << g.state;
}

TEST(GuiTables, MiniOs64TssHasRspAndIst) {
  if (const std::string why = gui_missing(); !why.empty()) GTEST_SKIP() << why;
  // In long mode the TSS holds only stacks: RSP0 for entries from ring 3,
  // IST1 for #DF (its stack ends where the TSS begins).
  const std::string png = ::testing::TempDir() + "/gui-tss64.png";
  const GuiRun g = run_script("gui-tss64", "catch cpl 3\nc\ngui tabs TSS\n", kMiniOs64, png);
  ASSERT_EQ(g.r.status, 0) << g.r.err;
  expect_lines(g.state, {"cpu long cpl 3 code 64-bit", "gdtr base 10f080 limit 3f", "idtr base 10e080 limit fff",
                         "idt 48 present", "tr 0030 base 10e010 limit 67 tss 64-bit", "tss RSP0 111870",
                         "tss RSP1 0", "tss RSP2 0", "tss IST1 10e010", "tss IST2 0", "tss IST7 0",
                         "tss I/O map base 68", "page-tree cr3 200000 4-level paging"});
  EXPECT_EQ(g.state.find("tss ESP0"), std::string::npos) << g.state;
  const PngStats p = png_stats(png);
  EXPECT_EQ(p.width, 1600u);
  EXPECT_GE(p.colours, 20u);
  EXPECT_GE(p.drawn_percent, 5u);
}

TEST(GuiTables, TrapShowsTheGuestsTablesThenTheShadowOnes) {
  if (const std::string why = gui_missing(); !why.empty()) GTEST_SKIP() << why;
  // minios's first instruction at ring 3 under trap-and-emulate: the real
  // CPU runs on the monitor's tables and shadow page tables; the panels
  // show what the guest loaded.
  const GuiRun guest = run_script("gui-trap-guest", "catch cpl 3\nc\n", "--mode trap " + kMiniOs);
  ASSERT_EQ(guest.r.status, 0) << guest.r.err;
  expect_lines(guest.state,
               {"status 001b:00400210  push ebp",
                "tables guest: the guest's own, as it loaded them (the monitor keeps them in its virtual CPU)",
                "gdtr base 1098e8 limit 2f", "gdt 5 present", "idtr base 109008 limit 7ff", "idt 49 present",
                "tr 0028 base 109880 limit 67 tss 32-bit", "tss ESP0 110130", "tss SS0 10",
                "page-tree cr3 200000 32-bit paging", "shadow-pages 7",
                // The real CPU's registers, which the Segments panel shows.
                "TR fff0 base ffc10800 limit 67 dpl 0 32-bit TSS (busy)", "CR3 100000000 [] *"});

  const GuiRun real = run_script("gui-trap-real", "catch cpl 3\nc\ngui tables real\n", "--mode trap " + kMiniOs);
  ASSERT_EQ(real.r.status, 0) << real.r.err;
  expect_lines(real.state,
               {"tables real: the real CPU's: the monitor's shadow tables, in private memory behind its window at "
                "0xffc00000",
                // The guest's GDT less its TSS descriptor (not present in the shadow: the
                // real CPU never switches tasks on guest tables).
                "gdtr base ffc00000 limit 2f", "gdt 4 present",
                // Every event enters the monitor first: no gate is present.
                "idtr base ffc10000 limit 7ff", "idt 0 present",
                // The monitor's TSS: no ring stacks, the I/O map beyond the limit.
                "tr fff0 base ffc10800 limit 67 tss 32-bit", "tss ESP0 0", "tss SS0 0", "tss I/O map base 68",
                "shadow-pages 7"});
}

TEST(GuiTables, HolesLdtGuestsAndCompressedShadow) {
  if (const std::string why = gui_missing(); !why.empty()) GTEST_SKIP() << why;
  // samples/holes loads an LDT with one flat data descriptor.  Run to its
  // end under trap: the guest's LDT says DPL 0; the shadow LDT the real
  // CPU uses says DPL 1 (ring compression) and sits in the window.
  const GuiRun guest = run_script("gui-ldt-guest", "c\ngui tabs LDT\n", "--mode trap " + kHoles);
  ASSERT_EQ(guest.r.status, 0) << guest.r.err;
  expect_lines(guest.state, {"gdtr base 107310 limit 3f", "gdt 7 present", "ldtr 0030 base 1070f8 limit 7",
                             "ldt 0004 base 0 limit ffffffff dpl 0 data, read/write, accessed",
                             "tr 0028 base 107090 limit 67 tss 32-bit", "tss ESP0 107000"});

  const std::string png = ::testing::TempDir() + "/gui-ldt-real.png";
  const GuiRun real = run_script("gui-ldt-real", "c\ngui tables real\ngui tabs LDT\n", "--mode trap " + kHoles, png);
  ASSERT_EQ(real.r.status, 0) << real.r.err;
  expect_lines(real.state, {"gdtr base ffc00000 limit 3f", "gdt 5 present", "ldtr fff8 base ffc20000 limit 7",
                            "ldt 0004 base 0 limit ffffffff dpl 1 data, read/write, accessed"});
  const PngStats p = png_stats(png);
  EXPECT_GE(p.colours, 20u);
  EXPECT_GE(p.drawn_percent, 5u);
}

TEST(GuiTables, BtShowsTheGuestsTablesToo) {
  if (const std::string why = gui_missing(); !why.empty()) GTEST_SKIP() << why;
  // bt deprivileges the kernel the way trap does (the same monitor base).
  const GuiRun g = run_script("gui-bt-guest", "catch cpl 3\nc\n", "--mode bt " + kMiniOs);
  ASSERT_EQ(g.r.status, 0) << g.r.err;
  expect_lines(g.state, {"vm-mode bt", "tables guest: the guest's own, as it loaded them (the monitor keeps them in "
                                       "its virtual CPU)",
                         "gdtr base 1098e8 limit 2f", "gdt 5 present", "tr 0028 base 109880 limit 67 tss 32-bit",
                         "tss ESP0 110130", "page-tree cr3 200000 32-bit paging"});
}

TEST(GuiTables, HwShadowPagingListsTheShadowEntries) {
  if (const std::string why = gui_missing(); !why.empty()) GTEST_SKIP() << why;
  // hw without EPT: the descriptor tables and CR3 are the guest's (there is
  // no toggle for them), the real page tables are the monitor's shadow.
  const GuiRun g = run_script("gui-hw-shadow", "catch cpl 3\nc\ngui tables real\n",
                              "--mode hw --hw-paging shadow " + kMiniOs);
  ASSERT_EQ(g.r.status, 0) << g.r.err;
  expect_lines(g.state, {"tables guest: the CPU's, which are the guest's own (no shadow tables in this mode)",
                         "gdtr base 1098e8 limit 2f", "CR3 200000 [] *", "page-tree cr3 200000 32-bit paging",
                         "shadow-pages 7"});
}

TEST(GuiTables, PvRunsOnTheMonitorsTables) {
  if (const std::string why = gui_missing(); !why.empty()) GTEST_SKIP() << why;
  // A pv kernel loads no GDT or IDT: it registers its descriptors, trap
  // table and ring-1 stack by hypercall, and the real CPU runs on the
  // monitor's tables in the window.  The TSS's ring-1 stack is the kernel
  // stack the guest registered; the one IDT gate is INT 0x80's fast trap.
  const GuiRun g = run_script("gui-pv-tables", "catch cpl 3\nc\n", "--mode pv " + sample_binary("minios-pv.elf"));
  ASSERT_EQ(g.r.status, 0) << g.r.err;
  expect_lines(g.state, {"status 001b:00400210  push ebp",
                         "tables real: the monitor's, behind its window at 0xffc00000: a pv guest loads no tables "
                         "of its own (it registers a trap table and descriptors by hypercall)",
                         "gdtr base ffc00000 limit 7f", "gdt 5 present", "idtr base ffc10000 limit 407",
                         "idt 1 present", "tr 0078 base ffc10800 limit 67 tss 32-bit", "tss ESP0 0",
                         "tss ESP1 110130", "tss SS1 11", "page-tree cr3 200000 32-bit paging"});
}

TEST(GuiTables, BadTablesLineFails) {
  if (const std::string why = gui_missing(); !why.empty()) GTEST_SKIP() << why;
  const GuiRun g = run_script("gui-tables-bad", "gui tables shadowy\n", kMiniOs);
  EXPECT_EQ(g.r.status, 1);
  EXPECT_NE(g.r.err.find("cannot do \"gui tables shadowy\""), std::string::npos) << g.r.err;
}

}  // namespace vtlab::test::gui
