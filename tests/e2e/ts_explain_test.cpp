// Invalid-TSS faults (#TS) explained: flat guests that switch tasks (SDM
// vol. 3, 7.3 and table 7-1; vol. 2's JMP/CALL/IRET task-switch
// pseudo-code) into TSSs that fail one check each, before the commit point
// (the TSS's limit) and after it (the new task's LDT selector and SS, which
// fault in the new task), and an IRET with NT = 1 whose previous-task link
// is null.  Each is caught by `vtlab debug` and explained by `why`: the
// selector and its descriptor decoded, the TSS it was read from, the check
// that failed; unhandled, `vtlab run` prints it as the first event of the
// triple fault, and gdb's `monitor why` prints the same chain.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <fstream>

#include "debugger/debugger_fixture.h"
#include "debugger/gdb_stub.h"
#include "support/assemble.h"
#include "support/boot.h"

namespace vtlab::test {
namespace {

const std::string kCli = VTLAB_CLI;

// The running task's TSS and three more, at fixed addresses so that their
// descriptors are constants; memory starts zeroed, so only the fields a
// switch loads that must not be 0 are written.
constexpr uint32_t kTss0 = 0x300000, kTssBadLdt = 0x300100, kTssSmall = 0x300200, kTssBadSs = 0x300300;

// Writes a 32-bit TSS image: EIP at `newtask`, EFLAGS 2, ESP 0x80000,
// CS 0x08, ES and DS 0x10, FS `fs` (GS null), SS `ss` and the LDT
// selector `ldt`.
std::string task_image(uint32_t at, unsigned ss, unsigned ldt, unsigned fs = 0) {
  return fmt::format(R"(
  mov dword ptr [{0:#x}], offset newtask
  mov dword ptr [{1:#x}], 2
  mov dword ptr [{2:#x}], 0x80000
  mov word ptr [{3:#x}], 0x10
  mov word ptr [{4:#x}], 0x08
  mov word ptr [{5:#x}], {8:#x}
  mov word ptr [{6:#x}], 0x10
  mov word ptr [{7:#x}], {9:#x}
)",
                     at + 0x20, at + 0x24, at + 0x38, at + 0x48, at + 0x4C, at + 0x50, at + 0x54, at + 0x60, ss, ldt) +
         (fs ? fmt::format("  mov word ptr [{:#x}], {:#x}\n", at + 0x58, fs) : "");
}

// kGatesToHandler's IDT (every exception to a HLT), TR loaded with the
// TSS at 0x18, then `body`.  `idt` is the IDTR the guest loads.
std::string guest(const std::string& body, const std::string& idt = ".word 0xff\n .long 0x200000") {
  return std::string(kGatesToHandler) + "  lidt [idt0]\n  mov esp, 0x90000\n" +
         task_image(kTssBadLdt, 0x10, 0x10, 0x80) + task_image(kTssSmall, 0x10, 0) + task_image(kTssBadSs, 0x13, 0) + R"(
  mov ax, 0x18
  ltr ax
  jmp body
handler: hlt
newtask: hlt
  .p2align 3
gdt:
  .quad 0
  .quad 0x00cf9a000000ffff  # 0x08 code, DPL 0
  .quad 0x00cf92000000ffff  # 0x10 data, DPL 0
  .quad 0x0000893000000067  # 0x18 32-bit TSS at 0x300000, the running task
  .quad 0x0000893001000067  # 0x20 32-bit TSS at 0x300100: its LDT selector is 0x10
  .quad 0x0000893002000040  # 0x28 32-bit TSS at 0x300200, limit 0x40
  .quad 0x0000893003000067  # 0x30 32-bit TSS at 0x300300: its SS is 0x13
  .quad 0x0000850000200000  # 0x38 task gate to TSS 0x20
gdt0: .word 0x3f
      .long gdt
idt0: )" + idt + "\nbody:\n" + body;
}

std::string guest_file(const std::string& name, const std::string& source) {
  const std::vector<uint8_t> code = assemble(source, 32, 0x100000);
  const std::string bin = ::testing::TempDir() + "/" + name + ".bin";
  std::ofstream(bin, std::ios::binary).write(reinterpret_cast<const char*>(code.data()), code.size());
  return bin;
}

// `vtlab debug` to the guest's first exception, then `why`: the transcript
// from the catch on.
std::string why(const std::string& name, const std::string& body) {
  return why_at_first_exception(name, guest_file(name, guest(body)));
}

// A far JMP through a task gate: the switch commits, then the new task's
// LDT selector names a data segment: #TS in the new task, at its EIP.
// (Its FS selector lies beyond the GDT: the registers the fault left
// unusable then load unchecked, and that failed load must not take the
// #TS's explanation.)
TEST(TaskSwitchExplained, LdtSelectorNamesADataSegment) {
  EXPECT_EQ(why("TsBadLdt", ".byte 0xea\n.long 0\n.word 0x38\n"),
            "(vtlab) c\n"
            "catch 1: #TS(0x0010) at 0008:00100132, delivered\n"
            "0008:00100131  hlt\n"
            "(vtlab) why\n"
            "#TS(0x0010) at 0008:00100132: selector 0x0010 (GDT entry 2, RPL 0) = 00cf92000000ffff: data, read/write, DPL 0, present, base 0x0, limit 0xffffffff\n"
            "read from TSS 0x0020 (GDT entry 4) = 00008b3001000067: 32-bit TSS (busy), DPL 0, present, base 0x300100, limit 0x67\n"
            "check failed at CPL 0: wrong type: a task's LDT selector names a present LDT descriptor in the GDT\n"
            "(vtlab) q\n");
}

// A far CALL to a TSS whose SS selector has RPL 3 for a task at CPL 0.
TEST(TaskSwitchExplained, StackSelectorRplNotTheNewCpl) {
  EXPECT_EQ(why("TsBadSs", ".byte 0x9a\n.long 0\n.word 0x30\n"),
            "(vtlab) c\n"
            "catch 1: #TS(0x0010) at 0008:00100132, delivered\n"
            "0008:00100131  hlt\n"
            "(vtlab) why\n"
            "#TS(0x0010) at 0008:00100132: selector 0x0013 (GDT entry 2, RPL 3) = 00cf92000000ffff: data, read/write, DPL 0, present, base 0x0, limit 0xffffffff\n"
            "read from TSS 0x0030 (GDT entry 6) = 00008b3003000067: 32-bit TSS (busy), DPL 0, present, base 0x300300, limit 0x67\n"
            "check failed at CPL 0: RPL 3 != CPL 0: SS's RPL and DPL must both equal the CPL\n"
            "(vtlab) q\n");
}

// A TSS too short for a 32-bit task: refused before the commit point, so
// the fault belongs to the old task, at the JMP.
TEST(TaskSwitchExplained, TssLimitBelow0x67) {
  EXPECT_EQ(why("TsSmall", ".byte 0xea\n.long 0\n.word 0x28\n"),
            "(vtlab) c\n"
            "catch 1: #TS(0x0028) at 0008:00100184, delivered\n"
            "0008:00100131  hlt\n"
            "(vtlab) why\n"
            "#TS(0x0028) at 0008:00100184: selector 0x0028 (GDT entry 5, RPL 0) = 0000893002000040: 32-bit TSS (available), DPL 0, present, base 0x300200, limit 0x40\n"
            "check failed at CPL 0: offset 0x67 > limit 0x40: a 32-bit TSS's limit must be at least 0x67\n"
            "(vtlab) q\n");
}

// TR reloaded with the short TSS: the switch has nowhere to save the old
// task; the descriptor shown is TR's, rebuilt from its cache.
TEST(TaskSwitchExplained, OldTssTooShortToSaveIn) {
  EXPECT_EQ(why("TsOldSmall", "mov ax, 0x28\nltr ax\n.byte 0xea\n.long 0\n.word 0x20\n"),
            "(vtlab) c\n"
            "catch 1: #TS(0x0028) at 0008:0010018b, delivered\n"
            "0008:00100131  hlt\n"
            "(vtlab) why\n"
            "#TS(0x0028) at 0008:0010018b: selector 0x0028 (GDT entry 5, RPL 0) = 00008b3002000040: 32-bit TSS (busy), DPL 0, present, base 0x300200, limit 0x40\n"
            "check failed at CPL 0: offset 0x5f > limit 0x40: the old task's TSS must hold the state a switch saves (to 0x5f)\n"
            "(vtlab) q\n");
}

// IRET with NT = 1 in a task nobody called: its previous-task link is 0.
TEST(TaskSwitchExplained, IretWithNtToANullBackLink) {
  EXPECT_EQ(why("TsNullLink", "pushfd\nor dword ptr [esp], 0x4000\npopfd\niretd\n"),
            "(vtlab) c\n"
            "catch 1: #TS(0x0000) at 0008:0010018d, delivered\n"
            "0008:00100131  hlt\n"
            "(vtlab) why\n"
            "#TS(0x0000) at 0008:0010018d: selector 0x0000 (null)\n"
            "read from TSS 0x0018 (GDT entry 3) = 00008b3000000067: 32-bit TSS (busy), DPL 0, present, base 0x300000, limit 0x67\n"
            "check failed at CPL 0: null selector: IRET with NT = 1 returns to the task the previous-task link names\n"
            "(vtlab) q\n");
}

// Unhandled (an IDT with no entries), the #TS is the first event of a
// triple fault; `vtlab run` prints its explanation in the chain, and gdb's
// `monitor why` prints the same chain.
const std::string kBadLdtChain =
    "triple fault, event by event (SDM vol. 3, 6.15 and table 6-5):\n"
    "  1. #TS(0x0010) at 0008:00100132  hlt\n"
    "     selector 0x0010 (GDT entry 2, RPL 0) = 00cf92000000ffff: data, read/write, DPL 0, present, base 0x0, limit 0xffffffff\n"
    "     read from TSS 0x0020 (GDT entry 4) = 00008b3001000067: 32-bit TSS (busy), DPL 0, present, base 0x300100, limit 0x67\n"
    "     check failed at CPL 0: wrong type: a task's LDT selector names a present LDT descriptor in the GDT\n"
    "  2. #GP(0x0053) while delivering #TS(0x0010): IDT entry 0x0a (bytes 0x50-0x57) lies beyond the IDT limit 0x0000\n"
    "     contributory then contributory: a double fault (#DF) is raised instead\n"
    "  3. #GP(0x0043) while delivering #DF(0x0000): IDT entry 0x08 (bytes 0x40-0x47) lies beyond the IDT limit 0x0000\n"
    "     a fault while delivering #DF: the processor shuts down (triple fault)\n"
    "  registers:\n"
    "    eax=00000000 ecx=00000000 edx=00000000 ebx=00000000\n"
    "    esp=00080000 ebp=00000000 esi=00000000 edi=00000000\n"
    "    eflags=00000002 cr0=00000019 cr2=0x0 cr3=0x0 idtr=0x0/0x0 cpl=0\n";
const std::string kJumpThroughTaskGate = ".byte 0xea\n.long 0\n.word 0x38\n";
const std::string kNoIdt = ".word 0\n .long 0";

TEST(TaskSwitchExplained, UnhandledItIsTheFirstEventOfTheTripleFault) {
  const CommandResult r = run_command(kCli + " run --serial none --flat 0x100000 " +
                                      guest_file("TsChain", guest(kJumpThroughTaskGate, kNoIdt)));
  EXPECT_EQ(r.status, 6);
  EXPECT_EQ(r.err,
            "vtlab: shutdown: triple fault: #GP(0x0043) while delivering #DF (the #DF came from #GP(0x0053) while "
            "delivering #TS(0x0010)) (after 289 instructions, at 0008:00100132)\n" +
                kBadLdtChain);
}

// No gdb on the line: the test hands the stub its packets.
struct NoPeer final : gdb::Transport {
  int read_byte(int) override { return kClosed; }
  bool write(std::string_view) override { return true; }
};

class TaskSwitchGdb : public DebuggerTest {
 protected:
  NoPeer peer;
  gdb::GdbStub stub{dbg, peer, [](const StopEvent&) { return 0; }};
};

TEST_F(TaskSwitchGdb, MonitorWhyPrintsTheChain) {
  load(guest(kJumpThroughTaskGate, kNoIdt), 0x100000);
  EXPECT_EQ(stub.handle("c"), "T0b");  // the shutdown, as SIGSEGV: the state stays to look at
  EXPECT_EQ(stub.handle("qRcmd," + gdb::to_hex(reinterpret_cast<const uint8_t*>("why"), 3)), "OK");
  EXPECT_EQ(stub.take_console(), kBadLdtChain);
}

}  // namespace
}  // namespace vtlab::test
