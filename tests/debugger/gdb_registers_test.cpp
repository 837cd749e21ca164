// gdb's two x86 register files: order, widths, the target description
// generated from the same table, and what writes accept.
#include "debugger/gdb_registers.h"

#include <gtest/gtest.h>

#include "debugger/gdb_packet.h"

namespace vtlab::gdb {
namespace {

std::vector<uint8_t> le(uint64_t v, unsigned bytes) {
  std::vector<uint8_t> out;
  for (unsigned i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
  return out;
}

TEST(GdbRegisters, I386LayoutIsGdbsI386Core) {
  const RegisterFile f(Arch::I386);
  EXPECT_EQ(f.count(), 32u);
  EXPECT_EQ(f.total_bytes(), 16u * 4 + 8 * 10 + 8 * 4);
  CpuState s;
  s.gpr[RCX] = 0xAAAABBBB11112222ull;
  EXPECT_EQ(f.read(s, 1), "22221111");  // ecx: the low half, little-endian
  ASSERT_TRUE(f.write(s, 1, le(0x33334444, 4)));
  EXPECT_EQ(s.gpr[RCX], 0xAAAABBBB33334444ull);  // the high half is kept
  EXPECT_NE(f.target_xml().find("<architecture>i386</architecture>"), std::string::npos);
  EXPECT_EQ(f.target_xml().find("fs_base"), std::string::npos);
}

TEST(GdbRegisters, X86_64LayoutFollowsGdbsAmd64Order) {
  const RegisterFile f(Arch::X86_64);
  EXPECT_EQ(f.count(), 16u + 1 + 1 + 6 + 8 + 8 + 2);
  EXPECT_EQ(f.total_bytes(), 17u * 8 + 7 * 4 + 8 * 10 + 8 * 4 + 2 * 8);
  CpuState s;
  for (unsigned g = 0; g < 16; ++g) s.gpr[g] = 0x1000 + g;
  s.cr0 |= cr0::PE | cr0::PG;  // 64-bit code, where the pc is RIP itself
  s.efer |= efer::LME | efer::LMA;
  s.seg[CS].attrs |= ar::kLong;
  s.rip = 0xFFFF800000001234ull;
  s.seg[GS].base = 0xFFFF800000005000ull;
  // rax rbx rcx rdx rsi rdi rbp rsp r8..r15
  const Gpr order[] = {RAX, RBX, RCX, RDX, RSI, RDI, RBP, RSP, R8, R9, R10, R11, R12, R13, R14, R15};
  for (unsigned n = 0; n < 16; ++n) EXPECT_EQ(f.read(s, n), to_hex_le(0x1000 + order[n], 8)) << n;
  EXPECT_EQ(f.read(s, 16), "341200000080ffff");  // rip
  EXPECT_EQ(f.width(17), 4u);  // eflags
  EXPECT_EQ(f.read(s, f.count() - 1), to_hex_le(0xFFFF800000005000ull, 8));  // gs_base
  const std::string& xml = f.target_xml();
  EXPECT_NE(xml.find("<architecture>i386:x86-64</architecture>"), std::string::npos);
  EXPECT_NE(xml.find("<reg name=\"rip\" bitsize=\"64\" type=\"code_ptr\"/>"), std::string::npos);
  EXPECT_NE(xml.find("</feature>\n<feature name=\"org.gnu.gdb.i386.segments\">\n<reg name=\"fs_base\" bitsize=\"64\""),
            std::string::npos);
}

TEST(GdbRegisters, WritesThatWouldNeedTheCpusOwnTransitionsAreRefused) {
  const RegisterFile f(Arch::X86_64);
  CpuState s;
  s.seg[CS].selector = 0x08;
  const unsigned cs = 18, fs_base = f.count() - 2, eflags = 17;
  EXPECT_TRUE(f.write(s, cs, le(0x08, 4)));   // the same selector: accepted (G writes everything back)
  EXPECT_FALSE(f.write(s, cs, le(0x10, 4)));  // another: it would need a descriptor load
  EXPECT_FALSE(f.write(s, eflags, le(s.flags.bits() | flag::VM, 4)));
  EXPECT_FALSE(f.write(s, fs_base, le(0x0000800000000000ull, 8)));  // not canonical
  EXPECT_TRUE(f.write(s, fs_base, le(0xFFFF800000000000ull, 8)));
  EXPECT_EQ(s.seg[FS].base, 0xFFFF800000000000ull);
  EXPECT_FALSE(f.write(s, 0, le(1, 4)));  // rax wants 8 bytes
  EXPECT_EQ(parse_arch("x86-64"), ArchPolicy::X86_64);
  EXPECT_EQ(parse_arch("auto"), ArchPolicy::Auto);
  EXPECT_EQ(parse_arch("amd64"), std::nullopt);
}

// Real mode: the i386 layout under gdb's i8086 architecture, and a pc that
// is the linear CS.base + IP (F000:FFF0 with base FFFF0000 after reset).
TEST(GdbRegisters, RealModePcIsLinearCsBasePlusIp) {
  const RegisterFile f(Arch::I8086);
  EXPECT_EQ(f.count(), RegisterFile(Arch::I386).count());
  EXPECT_EQ(f.total_bytes(), RegisterFile(Arch::I386).total_bytes());
  const std::string& xml = f.target_xml();
  EXPECT_NE(xml.find("<architecture>i8086</architecture>\n<osabi>none</osabi>\n"), std::string::npos);
  CpuState s;
  reset_cpu_state(s);
  const unsigned eip = 8;
  EXPECT_EQ(f.read(s, eip), to_hex_le(0xFFFFFFF0, 4));
  EXPECT_EQ(pc(s), 0xFFFFFFF0u);
  // A real-mode far jump to 0000:7C00.
  s.seg[CS].selector = 0;
  s.seg[CS].base = 0;
  s.rip = 0x7C00;
  EXPECT_EQ(f.read(s, eip), "007c0000");
  s.seg[CS].selector = 0x07C0;
  s.seg[CS].base = 0x7C00;
  s.rip = 0x0010;
  EXPECT_EQ(f.read(s, eip), "107c0000");  // 07C0:0010 is linear 0x7C10
  ASSERT_TRUE(f.write(s, eip, le(0x7C20, 4)));
  EXPECT_EQ(s.rip, 0x20u);                           // IP, inside CS
  EXPECT_FALSE(f.write(s, eip, le(0x7BFF, 4)));      // below CS.base
  EXPECT_FALSE(f.write(s, eip, le(0x17C00, 4)));     // past CS.limit (0xFFFF)
  EXPECT_EQ(s.rip, 0x20u);
  // The same rule after CR0.PE is set, before the far jump reloads CS...
  s.cr0 |= cr0::PE;
  EXPECT_EQ(f.read(s, eip), "207c0000");
  // ... and in flat 32-bit code, where the pc is EIP itself.
  s.seg[CS].base = 0;
  s.seg[CS].limit = 0xFFFFFFFF;
  EXPECT_EQ(f.read(s, eip), "20000000");
}

TEST(GdbRegisters, ThePolicyPicksTheDescriptionOfTheCpusMode) {
  CpuState s;
  reset_cpu_state(s);
  EXPECT_EQ(arch_for(s, ArchPolicy::Auto), Arch::I8086);
  EXPECT_EQ(arch_for(s, ArchPolicy::I386), Arch::I8086);
  EXPECT_EQ(arch_for(s, ArchPolicy::X86_64), Arch::X86_64);
  s.cr0 |= cr0::PE;  // still 16-bit code until a far jump loads a 32-bit CS
  EXPECT_EQ(arch_for(s, ArchPolicy::Auto), Arch::I8086);
  s.seg[CS].attrs |= ar::kDb;
  EXPECT_EQ(arch_for(s, ArchPolicy::Auto), Arch::I386);
  EXPECT_EQ(arch_for(s, ArchPolicy::I386), Arch::I386);
  s.efer |= efer::LME | efer::LMA;
  s.cr0 |= cr0::PG;
  EXPECT_EQ(arch_for(s, ArchPolicy::Auto), Arch::X86_64);
  EXPECT_EQ(arch_for(s, ArchPolicy::I386), Arch::I386);
  EXPECT_STREQ(arch_name(Arch::I8086), "i8086");
}

}  // namespace
}  // namespace vtlab::gdb
