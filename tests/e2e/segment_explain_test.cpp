// Segment and gate faults explained: one flat guest per check of SDM vol. 3,
// chapter 5 (and vol. 2's MOV Sreg / far CALL / far JMP pseudo-code), each
// caught by `vtlab debug`'s `catch exception` and explained by `why`: the
// selector, its table and index, the descriptor decoded, and the check
// that failed, as privilege/ recorded it when it raised the fault
// (core/segment_fault.h, debugger/fault_explain.h).
#include <gtest/gtest.h>

#include <fstream>

#include "support/assemble.h"
#include "support/boot.h"

namespace vtlab::test {
namespace {

const std::string kCli = VTLAB_CLI;

// A GDT of one segment of each kind the checks refuse, an IDT whose every
// gate leads to a HLT, then `body`.
std::string guest(const std::string& body) {
  return std::string(kGatesToHandler) + R"(
  lidt [idt0]
  mov esp, 0x90000
  jmp body
handler: hlt
  .p2align 3
gdt:
  .quad 0
  .quad 0x00cf9a000000ffff  # 0x08 code, DPL 0
  .quad 0x00cf92000000ffff  # 0x10 data, DPL 0
  .quad 0x00cf12000000ffff  # 0x18 data, DPL 0, not present
  .quad 0x00cf98000000ffff  # 0x20 execute-only code, DPL 0
  .quad 0x00cff2000000ffff  # 0x28 data, DPL 3
  .quad 0x00cf90000000ffff  # 0x30 read-only data, DPL 0
  .quad 0x00108c0000080000  # 0x38 32-bit call gate, DPL 0, to 0008:00100000
  .quad 0x00009a000000ffff  # 0x40 code, DPL 0, limit 0xffff
gdt0: .word 0x47
      .long gdt
idt0: .word 0xff
      .long 0x200000
body:
)" + body;
}

// Runs the guest under `vtlab debug` to its first exception and asks why:
// the debugger's transcript from the catch on.
std::string why(const std::string& name, const std::string& body) {
  const std::vector<uint8_t> code = assemble(guest(body), 32, 0x100000);
  const std::string bin = ::testing::TempDir() + "/" + name + ".bin";
  std::ofstream(bin, std::ios::binary).write(reinterpret_cast<const char*>(code.data()), code.size());
  return why_at_first_exception(name, bin);
}

TEST(SegmentFaultExplained, RplAboveDpl) {
  EXPECT_EQ(why("RplAboveDpl", "mov ax, 0x13\nmov ds, ax\n"),
            "(vtlab) c\n"
            "catch 1: #GP(0x0010) at 0008:001000a0, delivered\n"
            "0008:00100040  hlt\n"
            "(vtlab) why\n"
            "#GP(0x0010) at 0008:001000a0: selector 0x0013 (GDT entry 2, RPL 3) = 00cf92000000ffff: data, read/write, DPL 0, present, base 0x0, limit 0xffffffff\n"
            "check failed at CPL 0: RPL 3 > DPL 0: a data or non-conforming code segment is loaded only when max(CPL, RPL) <= DPL\n"
            "(vtlab) q\n");
}

TEST(SegmentFaultExplained, WrongType) {
  EXPECT_EQ(why("WrongType", "mov ax, 0x20\nmov ds, ax\n"),
            "(vtlab) c\n"
            "catch 1: #GP(0x0020) at 0008:001000a0, delivered\n"
            "0008:00100040  hlt\n"
            "(vtlab) why\n"
            "#GP(0x0020) at 0008:001000a0: selector 0x0020 (GDT entry 4, RPL 0) = 00cf98000000ffff: code, execute-only, DPL 0, present, base 0x0, limit 0xffffffff\n"
            "check failed at CPL 0: wrong type: DS, ES, FS and GS take a data or readable code segment\n"
            "(vtlab) q\n");
}

TEST(SegmentFaultExplained, NotPresent) {
  EXPECT_EQ(why("NotPresent", "mov ax, 0x18\nmov ds, ax\n"),
            "(vtlab) c\n"
            "catch 1: #NP(0x0018) at 0008:001000a0, delivered\n"
            "0008:00100040  hlt\n"
            "(vtlab) why\n"
            "#NP(0x0018) at 0008:001000a0: selector 0x0018 (GDT entry 3, RPL 0) = 00cf12000000ffff: data, read/write, DPL 0, not present, base 0x0, limit 0xffffffff\n"
            "check failed at CPL 0: not present (P = 0): the segment must be present\n"
            "(vtlab) q\n");
}

TEST(SegmentFaultExplained, StackNotPresent) {
  EXPECT_EQ(why("StackNotPresent", "mov ax, 0x18\nmov ss, ax\n"),
            "(vtlab) c\n"
            "catch 1: #SS(0x0018) at 0008:001000a0, delivered\n"
            "0008:00100040  hlt\n"
            "(vtlab) why\n"
            "#SS(0x0018) at 0008:001000a0: selector 0x0018 (GDT entry 3, RPL 0) = 00cf12000000ffff: data, read/write, DPL 0, not present, base 0x0, limit 0xffffffff\n"
            "check failed at CPL 0: not present (P = 0): the stack segment must be present\n"
            "(vtlab) q\n");
}

TEST(SegmentFaultExplained, StackDplNotCpl) {
  EXPECT_EQ(why("StackDplNotCpl", "mov ax, 0x28\nmov ss, ax\n"),
            "(vtlab) c\n"
            "catch 1: #GP(0x0028) at 0008:001000a0, delivered\n"
            "0008:00100040  hlt\n"
            "(vtlab) why\n"
            "#GP(0x0028) at 0008:001000a0: selector 0x0028 (GDT entry 5, RPL 0) = 00cff2000000ffff: data, read/write, DPL 3, present, base 0x0, limit 0xffffffff\n"
            "check failed at CPL 0: DPL 3 != CPL 0: SS's RPL and DPL must both equal the CPL\n"
            "(vtlab) q\n");
}

TEST(SegmentFaultExplained, StackRplNotCpl) {
  EXPECT_EQ(why("StackRplNotCpl", "mov ax, 0x12\nmov ss, ax\n"),
            "(vtlab) c\n"
            "catch 1: #GP(0x0010) at 0008:001000a0, delivered\n"
            "0008:00100040  hlt\n"
            "(vtlab) why\n"
            "#GP(0x0010) at 0008:001000a0: selector 0x0012 (GDT entry 2, RPL 2) = 00cf92000000ffff: data, read/write, DPL 0, present, base 0x0, limit 0xffffffff\n"
            "check failed at CPL 0: RPL 2 != CPL 0: SS's RPL and DPL must both equal the CPL\n"
            "(vtlab) q\n");
}

TEST(SegmentFaultExplained, StackNotWritable) {
  EXPECT_EQ(why("StackNotWritable", "mov ax, 0x30\nmov ss, ax\n"),
            "(vtlab) c\n"
            "catch 1: #GP(0x0030) at 0008:001000a0, delivered\n"
            "0008:00100040  hlt\n"
            "(vtlab) why\n"
            "#GP(0x0030) at 0008:001000a0: selector 0x0030 (GDT entry 6, RPL 0) = 00cf90000000ffff: data, read-only, DPL 0, present, base 0x0, limit 0xffffffff\n"
            "check failed at CPL 0: wrong type: SS takes a writable data segment\n"
            "(vtlab) q\n");
}

TEST(SegmentFaultExplained, NullStack) {
  EXPECT_EQ(why("NullStack", "xor eax, eax\nmov ss, ax\n"),
            "(vtlab) c\n"
            "catch 1: #GP(0x0000) at 0008:0010009e, delivered\n"
            "0008:00100040  hlt\n"
            "(vtlab) why\n"
            "#GP(0x0000) at 0008:0010009e: selector 0x0000 (null)\n"
            "check failed at CPL 0: null selector: SS cannot be null (except in 64-bit mode below CPL 3)\n"
            "(vtlab) q\n");
}

TEST(SegmentFaultExplained, BeyondTable) {
  EXPECT_EQ(why("BeyondTable", "mov ax, 0x80\nmov ds, ax\n"),
            "(vtlab) c\n"
            "catch 1: #GP(0x0080) at 0008:001000a0, delivered\n"
            "0008:00100040  hlt\n"
            "(vtlab) why\n"
            "#GP(0x0080) at 0008:001000a0: selector 0x0080 (GDT entry 16, RPL 0)\n"
            "check failed at CPL 0: bytes 0x80-0x87 lie beyond the GDT limit 0x0047: a selector's descriptor must lie inside its table\n"
            "(vtlab) q\n");
}

TEST(SegmentFaultExplained, CallGateDpl) {
  EXPECT_EQ(why("CallGateDpl", ".byte 0x9a\n.long 0\n.word 0x3b\n"),
            "(vtlab) c\n"
            "catch 1: #GP(0x0038) at 0008:0010009c, delivered\n"
            "0008:00100040  hlt\n"
            "(vtlab) why\n"
            "#GP(0x0038) at 0008:0010009c: selector 0x003b (GDT entry 7, RPL 3) = 00108c0000080000: 32-bit call gate, DPL 0, present, to 0008:00100000\n"
            "check failed at CPL 0: DPL 0 < max(CPL 0, RPL 3): a call gate is used only when max(CPL, RPL) <= its DPL\n"
            "(vtlab) q\n");
}

TEST(SegmentFaultExplained, FarJumpBeyondLimit) {
  EXPECT_EQ(why("FarJumpBeyondLimit", ".byte 0xea\n.long 0x200000\n.word 0x40\n"),
            "(vtlab) c\n"
            "catch 1: #GP(0x0000) at 0008:0010009c, delivered\n"
            "0008:00100040  hlt\n"
            "(vtlab) why\n"
            "#GP(0x0000) at 0008:0010009c: code segment 00009a000000ffff: code, execute/read, DPL 0, present, base 0x0, limit 0xffff\n"
            "check failed at CPL 0: offset 0x200000 > limit 0xffff: the target offset must lie within the code segment's limit\n"
            "(vtlab) q\n");
}

}  // namespace
// Ordinary data accesses name their check too (Cpu::check_segment).
TEST(SegmentFaultExplained, DataWriteToAReadOnlySegment) {
  EXPECT_EQ(why("ReadOnlyWrite", "mov ax, 0x30\nmov ds, ax\nmov dword ptr [0x1000], 1\n"),
            "(vtlab) c\n"
            "catch 1: #GP(0x0000) at 0008:001000a2, delivered\n"
            "0008:00100040  hlt\n"
            "(vtlab) why\n"
            "#GP(0x0000) at 0008:001000a2: selector 0x0030 (GDT entry 6, RPL 0)\n"
            "check failed at CPL 0: wrong type: a read-only data segment cannot be written\n"
            "(vtlab) q\n");
}

TEST(SegmentFaultExplained, DataReadBeyondTheLimit) {
  EXPECT_EQ(why("ReadBeyondLimit", "mov ax, 0x40\nmov ds, ax\nmov eax, [0x1fffe]\n"),
            "(vtlab) c\n"
            "catch 1: #GP(0x0000) at 0008:001000a2, delivered\n"
            "0008:00100040  hlt\n"
            "(vtlab) why\n"
            "#GP(0x0000) at 0008:001000a2: selector 0x0040 (GDT entry 8, RPL 0)\n"
            "check failed at CPL 0: offset 0x20001 > limit 0xffff: every byte of the access must lie within the "
            "segment limit\n"
            "(vtlab) q\n");
}

}  // namespace vtlab::test
