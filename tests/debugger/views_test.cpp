// Debugger views: registers and flags, segment caches, control registers
// with named bits, GDT/IDT/IVT entries, disassembly in both syntaxes, the
// page walk and the TLB, all with exact values.
#include "debugger/debugger_fixture.h"
#include "debugger/views.h"
#include "mmu/walk_explain.h"

namespace vtlab::test {

namespace {
std::string set_bits(const std::vector<NamedBit>& bits) {
  std::string s;
  for (const NamedBit& b : bits)
    if (b.set) s += std::string(s.empty() ? "" : " ") + b.name;
  return s;
}
}  // namespace

TEST_F(DebuggerTest, RegistersViewDecodesFlagsAndMode) {
  load("mov eax, 0x7fffffff\ninc eax\nstd\n");
  dbg.step();
  dbg.step();
  dbg.step();
  const RegistersView v = registers_view(m.cpu());
  EXPECT_EQ(v.gpr[RAX], 0x80000000u);
  EXPECT_EQ(v.gpr[RSP], kStack);
  EXPECT_EQ(v.rip, kCode + 7);
  EXPECT_EQ(v.rflags, 0xC96u);  // bit 1, PF AF SF DF OF
  EXPECT_EQ(set_bits(v.flags), "PF AF SF DF OF");
  EXPECT_EQ(v.flags.size(), 16u);
  EXPECT_EQ(v.mode, CpuMode::Protected);
  EXPECT_EQ(v.code_size, 4u);
  EXPECT_EQ(v.cpl, 0u);
  EXPECT_EQ(v.icount, 3u);
}

TEST_F(DebuggerTest, SegmentsViewShowsTheHiddenCaches) {
  const SegmentsView v = segments_view(m.cpu().s);
  ASSERT_EQ(v.segs.size(), 8u);
  const SegmentView& cs = v.segs[1];
  EXPECT_STREQ(cs.name, "CS");
  EXPECT_EQ(cs.selector, 0x08);
  EXPECT_EQ(cs.limit, 0xFFFFFFFFu);
  EXPECT_TRUE(cs.db && cs.g && cs.present);
  EXPECT_EQ(cs.type_text, "code, execute/read, accessed");
  EXPECT_EQ(v.segs[2].type_text, "data, read/write, accessed");
  EXPECT_STREQ(v.segs[7].name, "TR");
  EXPECT_EQ(v.segs[7].type_text, "32-bit TSS (busy)");
  EXPECT_EQ(v.segs[6].type_text, "LDT");
}

TEST_F(DebuggerTest, ControlViewNamesTheSetBits) {
  paging_with_alias(0x5000, 0x3000);
  m.cpu().s.cr4 = cr4::PSE | cr4::PGE;
  const ControlView v = control_view(m.cpu().s);
  ASSERT_EQ(v.regs.size(), 5u);
  EXPECT_STREQ(v.regs[0].name, "CR0");
  EXPECT_EQ(v.regs[0].value, 0x80000011u);
  EXPECT_EQ(set_bits(v.regs[0].bits), "PE ET PG");
  EXPECT_EQ(v.regs[2].value, kPageDir);
  EXPECT_EQ(set_bits(v.regs[3].bits), "PSE PGE");
  EXPECT_EQ(set_bits(v.regs[4].bits), "");
  EXPECT_EQ(v.paging, PagingMode::Bits32);
}

TEST_F(DebuggerTest, GdtViewDecodesSegmentsAndGates) {
  PhysicalMemory& mem = m.memory();
  mem.write(0x500 + 0x08, 8, 0x00CF9A000000FFFFull);  // flat code, DPL 0
  mem.write(0x500 + 0x10, 8, 0x0040F2345678FFFFull);  // data at 0x345678, DPL 3, byte granular
  mem.write(0x500 + 0x18, 8, 0x0010EC0000081234ull);  // 32-bit call gate to 0008:00101234, DPL 3
  m.cpu().s.gdtr = {0x500, 0x1F};
  const std::vector<DescriptorView> g = gdt_view(dbg, 0, 100);
  ASSERT_EQ(g.size(), 4u);  // clipped to the limit
  EXPECT_EQ(g[1].selector, 0x08);
  EXPECT_EQ(g[1].type_text, "code, execute/read");
  EXPECT_EQ(g[1].d.limit(), 0xFFFFFFFFu);
  EXPECT_EQ(g[2].d.base(), 0x345678u);
  EXPECT_EQ(g[2].d.limit(), 0xFFFFu);
  EXPECT_EQ(g[2].d.dpl(), 3u);
  EXPECT_EQ(g[2].type_text, "data, read/write");
  EXPECT_TRUE(g[3].gate);
  EXPECT_EQ(g[3].type_text, "32-bit call gate");
  EXPECT_EQ(g[3].target_selector, 0x08);
  EXPECT_EQ(g[3].target_offset, 0x101234u);
  EXPECT_EQ(gdt_view(dbg, 3, 1).size(), 1u);
}

TEST_F(DebuggerTest, IdtViewDecodesGatesAndTheRealModeIvt) {
  m.memory().write(0x700 + 8 * 14, 8, 0x00108E0000082000ull);  // #PF: 32-bit interrupt gate to 0008:00102000
  m.cpu().s.idtr = {0x700, 8 * 32 - 1};
  std::vector<DescriptorView> v = idt_view(dbg, 14, 2);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].selector, 14);
  EXPECT_EQ(v[0].type_text, "32-bit interrupt gate");
  EXPECT_EQ(v[0].target_offset, 0x102000u);
  EXPECT_FALSE(v[1].d.present());
  real_mode();
  m.memory().write(0x21 * 4, 4, 0xF000E987);
  v = idt_view(dbg, 0x21, 1);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].type_text, "IVT entry");
  EXPECT_EQ(v[0].target_selector, 0xF000);
  EXPECT_EQ(v[0].target_offset, 0xE987u);
}

TEST_F(DebuggerTest, DisassemblesInIntelAndAttSyntax) {
  load("mov eax, 1\npush dword ptr [ebx+4]\njmp 0x1000\n");
  std::vector<DisasmLine> intel = disassemble(dbg, rip(), 3, false);
  ASSERT_EQ(intel.size(), 3u);
  EXPECT_EQ(intel[0].text, "mov eax, 0x01");
  EXPECT_EQ(intel[0].bytes, (std::vector<uint8_t>{0xB8, 1, 0, 0, 0}));
  EXPECT_EQ(intel[1].text, "push [ebx+0x04]");
  EXPECT_EQ(intel[1].linear, kCode + 5);
  EXPECT_EQ(intel[2].text, "jmp 0x00001000");
  std::vector<DisasmLine> att = disassemble(dbg, rip(), 2, true);
  EXPECT_EQ(att[0].text, "mov $0x01, %eax");
  EXPECT_EQ(att[1].text, "push 0x04(%ebx)");
  // Unmapped code stops the listing.
  paging_with_alias(0x5000, 0x3000);
  std::vector<DisasmLine> none = disassemble(dbg, 0x400000, 3, false);
  ASSERT_EQ(none.size(), 1u);
  EXPECT_EQ(none[0].text, "(unmapped)");
}

TEST_F(DebuggerTest, WalkViewExplainsWithoutSideEffectsAndTlbViewListsEntries) {
  load("mov eax, [0x5000]\n");
  paging_with_alias(0x5000, 0x3000);
  const WalkExplanation w = explain_walk(dbg, 0x5004, Access::Write, false);
  ASSERT_TRUE(w.ok);
  EXPECT_EQ(w.t.phys, 0x3004u);
  ASSERT_EQ(w.steps.size(), 2u);
  EXPECT_EQ(w.steps[1].entry_addr, kPageDir + 0x1000 + 4 * 5);
  EXPECT_EQ(format_walk(w),
            "supervisor write linear 0x00005004 (32-bit paging):\n"
            "  PDE   at 0x80000: 0x0000000000081003 [P RW] -> table 0x81000\n"
            "  PTE   at 0x81014: 0x0000000000003003 [P RW] -> page 0x3000\n"
            "  => physical 0x3004 in a 4 KiB page: supervisor, writable, executable\n");
  EXPECT_TRUE(tlb_view(m.cpu()).empty());
  dbg.step();
  const std::vector<Tlb::Entry> t = tlb_view(m.cpu());
  ASSERT_EQ(t.size(), 2u);  // the code page and the data page
  EXPECT_EQ(t[0].vpn, 1u);
  EXPECT_EQ(t[1].vpn, 5u);
  EXPECT_EQ(t[1].ppn, 3u);
}

}  // namespace vtlab::test
