// `vtlab debug` as a user drives it: a scripted session through minios's
// boot (a breakpoint just after the multiboot entry, stepping, the CR0
// write that turns paging on, a page walk, the first entry to ring 3, the
// first demand-paging fault and the walk that explains it), asserting the
// exact transcript.  Virtual time makes every stop land on the same
// instruction on every run.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>

#include "support/boot.h"
#include "support/elf_symbols.h"

namespace vtlab::test {

namespace {
const std::string kCli = VTLAB_CLI;
const std::string kMiniOs = std::string(VTLAB_SAMPLES_DIR) + "/minios.elf";
const std::string kMiniOs64 = std::string(VTLAB_SAMPLES_DIR) + "/minios64.elf";

std::string script(const std::string& name, const std::string& commands) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << commands;
  return path;
}
}  // namespace

TEST(DebugCli, MiniOsBootSessionTranscript) {
  const std::string commands =
      "b 0x100010\n"
      "c\n"
      "s 2\n"
      "catch cr 0\n"
      "c\n"
      "d 2\n"
      "cregs\n"
      "walk 0x100000\n"
      "catch cpl 3\n"
      "c\n"
      "sregs\n"
      "d 3\n"
      "catch exception 14\n"
      "c\n"
      "cregs\n"
      "walk 0x805000 w user\n"
      "n\n"
      "info\n"
      "q\n";
  const CommandResult r =
      run_command(kCli + " debug --serial none --commands " + script("minios-boot.cmd", commands) + " " + kMiniOs);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out,
      "vtlab debug: type help for the commands\n"
      "0008:0010000c  cli\n"
      "(vtlab) b 0x100010\n"
      "breakpoint 1 at linear 0x00100010\n"
      "(vtlab) c\n"
      "breakpoint 1\n"
      "0008:00100010  mov edx, ebx\n"
      "(vtlab) s 2\n"
      "0008:00100017  mov ecx, 0x116140\n"
      "(vtlab) catch cr 0\n"
      "catch 2: cr0\n"
      "(vtlab) c\n"
      "catch 2: CR0 0x00000011 -> 0x80010011\n"
      "0008:00101195  mov ebx, [esp+0x18]\n"
      "(vtlab) d 2\n"
      "deleted 2\n"
      "(vtlab) cregs\n"
      "CR0  0x80010011 [PE ET WP PG]\n"
      "CR2  0x00000000\n"
      "CR3  0x0010a000 []\n"
      "CR4  0x00000080 [PGE]\n"
      "EFER 0x00000000 []\n"
      "paging: 32-bit paging\n"
      "(vtlab) walk 0x100000\n"
      "supervisor read linear 0x00100000 (32-bit paging):\n"
      "  PDE   at 0x10a000: 0x000000000010c003 [P RW] -> table 0x10c000\n"
      "  PTE   at 0x10c400: 0x0000000000100103 [P RW G] -> page 0x100000\n"
      "  => physical 0x100000 in a 4 KiB page: supervisor, writable, executable, global\n"
      "(vtlab) catch cpl 3\n"
      "catch 3: cpl to 3\n"
      "(vtlab) c\n"
      "catch 3: CPL 0 -> 3\n"
      "001b:00400210  push ebp\n"
      "(vtlab) sregs\n"
      "ES   0x0023 base 0x00000000 limit 0xffffffff dpl 3 P D/B G data, read/write, accessed\n"
      "CS   0x001b base 0x00000000 limit 0xffffffff dpl 3 P D/B G code, execute/read, accessed\n"
      "SS   0x0023 base 0x00000000 limit 0xffffffff dpl 3 P D/B G data, read/write, accessed\n"
      "DS   0x0023 base 0x00000000 limit 0xffffffff dpl 3 P D/B G data, read/write, accessed\n"
      "FS   0x0023 base 0x00000000 limit 0xffffffff dpl 3 P D/B G data, read/write, accessed\n"
      "GS   0x0023 base 0x00000000 limit 0xffffffff dpl 3 P D/B G data, read/write, accessed\n"
      "LDTR 0x0000 base 0x00000000 limit 0x0000ffff dpl 0 P LDT\n"
      "TR   0x0028 base 0x00109880 limit 0x00000067 dpl 0 P 32-bit TSS (busy)\n"
      "gdtr base 0x001098e8 limit 0x002f\n"
      "idtr base 0x00109008 limit 0x07ff\n"
      "(vtlab) d 3\n"
      "deleted 3\n"
      "(vtlab) catch exception 14\n"
      "catch 4: exception vector 0x0e\n"
      "(vtlab) c\n"
      "catch 4: #PF(0x0006) at 001b:004004be, delivered\n"
      "0008:00100990  push 0x0E\n"
      "(vtlab) cregs\n"
      "CR0  0x80010011 [PE ET WP PG]\n"
      "CR2  0x00805000\n"
      "CR3  0x0020c000 []\n"
      "CR4  0x00000080 [PGE]\n"
      "EFER 0x00000000 []\n"
      "paging: 32-bit paging\n"
      "(vtlab) walk 0x805000 w user\n"
      "user write linear 0x00805000 (32-bit paging):\n"
      "  PDE   at 0x20c008: 0x000000000020e007 [P RW US] -> table 0x20e000\n"
      "  PTE   at 0x20e014: 0x0000000000000000 [-] -> fault\n"
      "  => #PF(0x6) [W U]: PTE not present\n"
      "(vtlab) n\n"
      "0008:00100992  jmp 0x00100BB0\n"
      "(vtlab) info\n"
      "1 breakpoint linear 0x00100010, 1 hits\n"
      "4 catch exception 0x0e, 1 hits\n"
      "(vtlab) q\n");
}

TEST(DebugCli, RunsToTheGuestExitAndReportsItsStatus) {
  const CommandResult r =
      run_command(kCli + " debug --serial none --commands " + script("minios-exit.cmd", "c\nc\nregs\n") + " " + kMiniOs);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "vtlab debug: type help for the commands\n"
            "0008:0010000c  cli\n"
            "(vtlab) c\n"
            "machine stopped: guest-exit, status 67\n"
            "(vtlab) c\n"
            "machine stopped: guest-exit, status 67\n"
            "(vtlab) regs\n"
            "eax 0x00000021  ecx 0x00000000  edx 0x000003f8  ebx 0x00009500\n"
            "esp 0x00108ff8  ebp 0x00000000  esi 0x2badb002  edi 0x00116140\n"
            "eip 0x001002c6  eflags 0x00000006 [PF] iopl 0\n"
            // The same run as MiniOs.MatchesQemuTranscriptAndStatus, to the instruction.
            "mode paging, cpl 0, 32-bit code; 8091955 instructions, virtual time 8416647\n");
}

TEST(DebugCli, ABadCommandIsOneErrorLineAndTheScriptGoesOn) {
  const CommandResult r = run_command(kCli + " debug --serial none --commands " +
                                      script("bad.cmd", "frobnicate\nb 0xZZ\ncatch cpl 4\nx/2 0x0\nd 7\nr\n") + " " +
                                      kMiniOs);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out,
            "vtlab debug: type help for the commands\n"
            "0008:0010000c  cli\n"
            "(vtlab) frobnicate\n"
            "error: unknown command \"frobnicate\" (try help)\n"
            "(vtlab) b 0xZZ\n"
            "error: bad number: 0xZZ\n"
            "(vtlab) catch cpl 4\n"
            "error: a CPL is 0 to 3\n"
            "(vtlab) x/2 0x0\n"
            "0x00000000: 0x00000000 0x00000000\n"
            "(vtlab) d 7\n"
            "error: no breakpoint 7\n"
            "(vtlab) r\n"
            "eax 0x2badb002  ecx 0x00000000  edx 0x00000603  ebx 0x00009500\n"
            "esp 0x00000000  ebp 0x00000000  esi 0x00000000  edi 0x00000000\n"
            "eip 0x0010000c  eflags 0x00000002 [] iopl 0\n"
            "mode protected, cpl 0, 32-bit code; 0 instructions, virtual time 0\n");
}

TEST(DebugCli, ReadsStdinAndRejectsABadKernel) {
  const CommandResult r = run_command("printf 'disas att 2\\nq\\nregs\\n' | " + kCli + " debug --serial none " + kMiniOs);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out,
            "vtlab debug: type help for the commands\n"
            "0008:0010000c  cli\n"
            "(vtlab) disas att 2\n"
            "=> 0008:0010000c  fa                      cli\n"
            "   0008:0010000d  fc                      cld\n"
            "(vtlab) q\n");
  EXPECT_EQ(run_command(kCli + " debug /no/such/kernel.elf < /dev/null").status, 2);
  EXPECT_EQ(run_command(kCli + " debug --commands /no/such/file " + kMiniOs).status, 2);
}

TEST(DebugCli, HelpNamesEveryCommand) {
  const CommandResult r = run_command("echo help | " + kCli + " debug --serial none " + kMiniOs);
  for (const char* c : {"continue", "step", "next", "until", "b ADDR", "pb ADDR", "watch", "rwatch", "awatch",
                        "catch exception", "catch io", "catch cpl", "catch mode", "catch cr", "delete", "info", "regs",
                        "sregs", "cregs", "gdt", "idt", "x/N", "xp/N", "disas", "walk", "tlb", "quit"})
    EXPECT_NE(r.out.find(c), std::string::npos) << c;
}

}  // namespace vtlab::test

namespace vtlab::test {

// Reverse execution through minios's boot: back over instructions, back
// from the page-fault handler to the faulting user instruction (before the
// #PF was delivered), and reverse-continue to the last breakpoint and then
// to the start, with hit counts as the forward run left them.
TEST(DebugCli, ReverseStepOverAPageFaultAndReverseContinue) {
  const std::string commands =
      "rs\n"
      "b 0x100010\n"
      "c\n"
      "s 3\n"
      "rs\n"
      "rs 2\n"
      "catch exception 14\n"
      "c\n"
      "rs\n"
      "regs\n"
      "rc\n"
      "info\n"
      "rc\n"
      "q\n";
  const CommandResult r =
      run_command(kCli + " debug --serial none --commands " + script("minios-reverse.cmd", commands) + " " + kMiniOs);
  EXPECT_EQ(r.status, 1) << r.err;  // the first rs has nowhere to go
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out,
      "vtlab debug: type help for the commands\n"
      "0008:0010000c  cli\n"
      "(vtlab) rs\n"
      "error: at the start of the run\n"
      "(vtlab) b 0x100010\n"
      "breakpoint 1 at linear 0x00100010\n"
      "(vtlab) c\n"
      "breakpoint 1\n"
      "0008:00100010  mov edx, ebx\n"
      "(vtlab) s 3\n"
      "0008:0010001c  sub ecx, edi\n"
      "(vtlab) rs\n"
      "0008:00100017  mov ecx, 0x116140\n"
      "(vtlab) rs 2\n"
      "0008:00100010  mov edx, ebx\n"
      "(vtlab) catch exception 14\n"
      "catch 2: exception vector 0x0e\n"
      "(vtlab) c\n"
      "catch 2: #PF(0x0006) at 001b:004004be, delivered\n"
      "0008:00100990  push 0x0E\n"
      "(vtlab) rs\n"
      "001b:004004be  mov [0x00805000], esi\n"
      "(vtlab) regs\n"
      "eax 0x00000047  ecx 0x00805000  edx 0x004005e0  ebx 0x00000001\n"
      "esp 0x00ffffdc  ebp 0x00000000  esi 0x00000003  edi 0x00000000\n"
      "eip 0x004004be  eflags 0x00000212 [AF IF] iopl 0\n"
      "mode paging, cpl 3, 32-bit code; 560938 instructions, virtual time 684071\n"
      "(vtlab) rc\n"
      "breakpoint 1\n"
      "0008:00100010  mov edx, ebx\n"
      "(vtlab) info\n"
      "1 breakpoint linear 0x00100010, 1 hits\n"
      "2 catch exception 0x0e, 1 hits\n"
      "(vtlab) rc\n"
      "back at the start of the run\n"
      "0008:0010000c  cli\n"
      "(vtlab) q\n");
}

}  // namespace vtlab::test

namespace vtlab::test {

// Under trap the debugger stops on the monitor's exits: the first port
// write the kernel makes traps and is emulated (COM1's interrupt-enable
// register), and the next exit of any kind is the next port write.
TEST(DebugCli, CatchExitStopsAfterTheMonitorsExit) {
  const std::string commands = "catch exit io\nc\ncatch exit\nd 1\nc\ncatch exit warp\nq\n";
  CommandResult r = run_command(kCli + " debug --mode trap --serial none --commands " +
                                script("catch-exit.cmd", commands) + " " + kMiniOs);
  EXPECT_EQ(r.status, 1);  // the bad reason is one failed command
  EXPECT_EQ(r.out,
            "vtlab debug: type help for the commands\n"
            "0008:0010000c  cli\n"
            "(vtlab) catch exit io\n"
            "catch 1: exit io\n"
            "(vtlab) c\n"
            "catch 1: exit io (count 0 -> 1)\n"
            "  cause: OUT at CPL 1 faults: IOPL 0 < CPL and the TSS I/O bitmap refuses port 0x3f9\n"
            "0009:00100216  mov ebx, 0x3FB\n"
            "(vtlab) catch exit\n"
            "catch 2: exit\n"
            "(vtlab) d 1\n"
            "deleted 1\n"
            "(vtlab) c\n"
            "catch 2: exit io (count 1 -> 2)\n"
            "  cause: OUT at CPL 1 faults: IOPL 0 < CPL and the TSS I/O bitmap refuses port 0x3fb\n"
            "0009:00100220  mov al, 0x01\n"
            "(vtlab) catch exit warp\n"
            "error: no exit reason \"warp\" (docs/EXITS.md lists them)\n"
            "(vtlab) q\n");
}

}  // namespace vtlab::test

namespace vtlab::test {

// Under trap the debugger shows the guest's code through the guest's own
// page tables, and `vcpu` the CPU as the guest believes it is, beside the
// real one the monitor runs it on.
TEST(DebugCli, VcpuShowsTheGuestsViewUnderTrap) {
  const std::string commands = "vcpu\ncatch cpl 3\nc\nvcpu\nq\n";
  CommandResult r = run_command(kCli + " debug --mode trap --serial none --commands " + script("vcpu.cmd", commands) +
                                " " + kMiniOs);
  EXPECT_EQ(r.status, 1);  // vcpu before the first run is an error line
  EXPECT_EQ(r.out,
            "vtlab debug: type help for the commands\n"
            "0008:0010000c  cli\n"
            "(vtlab) vcpu\n"
            "error: the monitor takes over when the guest first runs: step or continue first\n"
            "(vtlab) catch cpl 3\n"
            "catch 1: cpl to 3\n"
            "(vtlab) c\n"
            "catch 1: CPL 1 -> 3\n"
            "001b:00400210  push ebp\n"
            "(vtlab) vcpu\n"
            "guest CPL 3 (the real CPU runs it at ring 3)\n"
            "CR0  0x80010011 [PE ET WP PG]\n"
            "CR2  0x00000000\n"
            "CR3  0x00200000 []\n"
            "CR4  0x00000080 [PGE]\n"
            "GDTR base 0x001098e8 limit 0x002f  (real: base 0xffc00000 limit 0x002f)\n"
            "IDTR base 0x00109008 limit 0x07ff  (real: base 0xffc10000 limit 0x07ff)\n"
            "LDTR 0x0000  TR 0x0028  (real: LDTR 0x0000  TR 0xfff0)\n"
            "IF 0  IOPL 0  (real: IF 1  IOPL 0)\n"
            "(vtlab) q\n");
}

}  // namespace vtlab::test

namespace vtlab::test {

// Under bt the debugger shows the kernel block at CS:EIP beside its
// translation: the port writes are callouts, the rest runs as written.
TEST(DebugCli, TranslationShowsTheKernelBlockUnderBt) {
  const std::string commands = "catch exit bt-callout\nc\ntranslation\nq\n";
  CommandResult r = run_command(kCli + " debug --mode bt --serial none --commands " +
                                script("translation.cmd", commands) + " " + kMiniOs);
  EXPECT_EQ(r.status, 0);
  const std::string expected_head =
      "(vtlab) translation\n"
      "0x00100216  mov ebx, 0x3FB                   ident    runs as written\n"
      "0x0010021b  mov al, 0x80                     ident    runs as written\n"
      "0x0010021d  mov edx, ebx                     ident    runs as written\n"
      "0x0010021f  out dx, al                       callout  the monitor emulates it (io in trap)\n";
  EXPECT_NE(r.out.find(expected_head), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0x0010024e  ret                              ident    runs as written\n(vtlab) q\n"),
            std::string::npos)
      << r.out;
}

// In IA-32e mode the views are the 64-bit ones: sixteen 64-bit registers,
// CS.L, the 64-bit TSS type, 16-byte IDT gates.  The stop is minios64's
// first system call, at the kernel's SYSCALL entry.
TEST(DebugCli, LongModeViewsAtMinios64sSyscallEntry) {
  const uint32_t entry = elf32_symbols(kMiniOs64).at("syscall_entry");
  const std::string commands = fmt::format("b {:#x}\nc\nregs\nsregs\nidt 14 1\nq\n", entry);
  const CommandResult r = run_command(kCli + " debug --serial none --commands " + script("minios64.cmd", commands) +
                                      " " + kMiniOs64);
  EXPECT_EQ(r.status, 0) << r.err;
  // The instruction count depends on the kernel's path (minios64 parses its
  // command line, which starts with the path): left out.
  std::string out = r.out.substr(r.out.find("(vtlab) regs"));
  const size_t count = out.find("; ");
  const size_t vt = out.find(" instructions, virtual time ");
  ASSERT_NE(count, std::string::npos);
  ASSERT_NE(vt, std::string::npos);
  ASSERT_LT(count, vt);
  out = out.substr(0, count + 2) + "N" + out.substr(vt);
  EXPECT_EQ(out,
            "(vtlab) regs\n"
            "rax 0x0000000000000001  rcx 0x000000800000017b  rdx 0x000000807fffff8f  rbx 0x0000008000000bb5\n"
            "rsp 0x000000807fffff48  rbp 0x000000807fffff64  rsi 0x0000000000000000  rdi 0x0000000000000000\n"
            "r8  0x0000000000000000  r9  0x0000000000000000  r10 0x0000000000000000  r11 0x0000000000000246\n"
            "r12 0x0000000000000000  r13 0x0000000000000000  r14 0x0000000000000000  r15 0x0000000000000000\n" +
                fmt::format("rip {:#018x}  rflags 0x00000046 [PF ZF] iopl 0\n", entry) +
                "mode long, cpl 0, 64-bit code; N instructions, virtual time 548014\n"
                "(vtlab) sregs\n"
                "ES   0x0000 base 0x00000000 limit 0xffffffff dpl 0 - D/B G data, read/write, accessed\n"
                "CS   0x0008 base 0x00000000 limit 0xffffffff dpl 0 P L G code, execute/read, accessed\n"
                "SS   0x0010 base 0x00000000 limit 0xffffffff dpl 0 P D/B G data, read/write, accessed\n"
                "DS   0x0000 base 0x00000000 limit 0xffffffff dpl 0 - D/B G data, read/write, accessed\n"
                "FS   0x0000 base 0x00000000 limit 0xffffffff dpl 0 - D/B G data, read/write, accessed\n"
                "GS   0x0000 base 0x00000000 limit 0xffffffff dpl 0 - D/B G data, read/write, accessed\n"
                "LDTR 0x0000 base 0x00000000 limit 0x0000ffff dpl 0 P LDT\n"
                "TR   0x0030 base 0x0010e010 limit 0x00000067 dpl 0 P 64-bit TSS (busy)\n"
                "gdtr base 0x0010f080 limit 0x003f\n"
                "idtr base 0x0010e080 limit 0x0fff\n"
                "(vtlab) idt 14 1\n"
                "0x0e 00108e0000080230 64-bit interrupt gate -> 0008:00100230 dpl 0 P\n"
                "(vtlab) q\n");
}

}  // namespace vtlab::test
