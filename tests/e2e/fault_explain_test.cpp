// Triple faults explained: three guests that shut down three different
// ways, and the exact chain vtlab prints for each (debugger/fault_explain.h):
// every event with its error code, why delivering it faulted (from the
// IDT, the GDT or the page walk as they stand), and why the chain
// escalated (SDM vol. 3, table 6-5).
#include <gtest/gtest.h>

#include <fstream>

#include "support/assemble.h"
#include "support/boot.h"

namespace vtlab::test {
namespace {

const std::string kCli = VTLAB_CLI;

// Assembles a flat 32-bit guest for 1 MiB into a file: its path.
std::string flat_guest(const std::string& name, const std::string& source) {
  const std::vector<uint8_t> code = assemble(source, 32, 0x100000);
  const std::string path = ::testing::TempDir() + "/" + name + ".bin";
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(code.data()), code.size());
  return path;
}

// Runs a flat guest: vtlab's exit status and stderr.
CommandResult run_flat(const std::string& name, const std::string& source) {
  return run_command(kCli + " run --serial none --flat 0x100000 " + flat_guest(name, source));
}

// An IDT of eight entries, all zero: #UD finds no gate (serially a #GP),
// #GP's own entry lies beyond the limit (contributory twice: #DF), and so
// does #DF's.
TEST(TripleFaultExplained, IdtLimitTooSmall) {
  const CommandResult r = run_flat("IdtLimitTooSmall", R"(
  lidt [idt0]
  mov eax, 0x11111111
  ud2
idt0: .word 0x3f
      .long 0x200000
)");
  EXPECT_EQ(r.status, 6);
  EXPECT_EQ(r.err,
      "vtlab: shutdown: triple fault: #GP(0x0043) while delivering #DF (the #DF came from #GP(0x006b) while delivering #GP(0x0033)) (after 2 instructions, at 0008:0010000c)\n"
      "triple fault, event by event (SDM vol. 3, 6.15 and table 6-5):\n"
      "  1. #UD at 0008:0010000c  ud2\n"
      "  2. #GP(0x0033) while delivering #UD: IDT entry 0x06 = 0000000000000000: reserved, DPL 0, not present: not an interrupt, trap or task gate\n"
      "     benign then contributory: handled serially, #UD is lost\n"
      "  3. #GP(0x006b) while delivering #GP(0x0033): IDT entry 0x0d (bytes 0x68-0x6f) lies beyond the IDT limit 0x003f\n"
      "     contributory then contributory: a double fault (#DF) is raised instead\n"
      "  4. #GP(0x0043) while delivering #DF(0x0000): IDT entry 0x08 (bytes 0x40-0x47) lies beyond the IDT limit 0x003f\n"
      "     a fault while delivering #DF: the processor shuts down (triple fault)\n"
      "  registers:\n"
      "    eax=11111111 ecx=00000000 edx=00000603 ebx=00000000\n"
      "    esp=00000000 ebp=00000000 esi=00000000 edi=00000000\n"
      "    eflags=00000002 cr0=00000011 cr2=0x0 cr3=0x0 idtr=0x200000/0x3f cpl=0\n");
}

// Paging on, a write to an unmapped page: #PF, whose gate is not present
// (#NP: page fault then contributory makes #DF), and #DF's gate is not
// present either.  The page walk shows the level that refused.
TEST(TripleFaultExplained, PageFaultThroughNotPresentGates) {
  const CommandResult r = run_flat("PageFaultThroughNotPresentGates", R"(
  # IDT at 0x200000: 64 32-bit interrupt gates, none present (P=0)
  mov edi, 0x200000
  mov ecx, 64
1: mov dword ptr [edi], 0x00100000
  mov dword ptr [edi+4], 0x00000E00   # 32-bit interrupt gate, DPL 0, P=0
  add edi, 8
  loop 1b
  lidt [idt0]
  # page directory at 0x300000: identity-map the first 4 MiB with a 4 MiB page, nothing else
  mov dword ptr [0x300000], 0x83
  mov eax, 0x300000
  mov cr3, eax
  mov eax, cr4
  or eax, 0x10
  mov cr4, eax
  mov eax, cr0
  or eax, 0x80000000
  mov cr0, eax
  mov dword ptr [0x00805000], 1
idt0: .word 0x1ff
      .long 0x200000
)");
  EXPECT_EQ(r.status, 6);
  EXPECT_EQ(r.err,
      "vtlab: shutdown: triple fault: #NP(0x0043) while delivering #DF (the #DF came from #NP(0x0073) while delivering #PF(0x0002)) (after 268 instructions, at 0008:00100049)\n"
      "triple fault, event by event (SDM vol. 3, 6.15 and table 6-5):\n"
      "  1. #PF(0x0002) at 0008:00100049  mov dword ptr [0x00805000], 0x01\n"
      "     supervisor write linear 0x00805000 (32-bit paging):\n"
      "       PDE   at 0x300008: 0x0000000000000000 [-] -> fault\n"
      "       => #PF(0x2) [W]: PDE not present\n"
      "  2. #NP(0x0073) while delivering #PF(0x0002): IDT entry 0x0e = 00000e0000100000: 32-bit interrupt gate, DPL 0, not present: the gate is not present\n"
      "     page fault then contributory: a double fault (#DF) is raised instead\n"
      "  3. #NP(0x0043) while delivering #DF(0x0000): IDT entry 0x08 = 00000e0000100000: 32-bit interrupt gate, DPL 0, not present: the gate is not present\n"
      "     a fault while delivering #DF: the processor shuts down (triple fault)\n"
      "  registers:\n"
      "    eax=80000011 ecx=00000000 edx=00000603 ebx=00000000\n"
      "    esp=00000000 ebp=00000000 esi=00000000 edi=00200200\n"
      "    eflags=00000086 cr0=80000011 cr2=0x805000 cr3=0x300000 idtr=0x200000/0x1ff cpl=0\n");
}

// Every gate present, but their code selector 0x08 lies beyond the GDT
// (the flat loader leaves GDTR.limit 0): INT3 -> #GP(8) serially ->
// #GP(9) with EXT -> #DF -> #GP(9) -> shutdown.
TEST(TripleFaultExplained, GateSelectorBeyondTheGdt) {
  const CommandResult r = run_flat("GateSelectorBeyondTheGdt", R"(
  # every gate present, to a HLT at handler; but the stack is in an unmapped page
  mov edi, 0x200000
  mov ecx, 64
  mov eax, offset handler
1: mov word ptr [edi], ax
  mov word ptr [edi+2], 0x08
  mov dword ptr [edi+4], 0x00008E00
  shr eax, 16
  mov word ptr [edi+6], ax
  mov eax, offset handler
  add edi, 8
  loop 1b
  lidt [idt0]
  mov dword ptr [0x300000], 0x83
  mov eax, 0x300000
  mov cr3, eax
  mov eax, cr4
  or eax, 0x10
  mov cr4, eax
  mov eax, cr0
  or eax, 0x80000000
  mov cr0, eax
  mov esp, 0x00900000
  int3
handler: hlt
idt0: .word 0x1ff
      .long 0x200000
)");
  EXPECT_EQ(r.status, 6);
  EXPECT_EQ(r.err,
      "vtlab: shutdown: triple fault: #GP(0x0009) while delivering #DF (the #DF came from #GP(0x0009) while delivering #GP(0x0008)) (after 526 instructions, at 0008:00100062)\n"
      "triple fault, event by event (SDM vol. 3, 6.15 and table 6-5):\n"
      "  1. INT 0x03 at 0008:00100062  int3\n"
      "  2. #GP(0x0008) while delivering INT 0x03: selector 0x0008 (GDT entry 1) lies beyond the GDT limit 0x0000\n"
      "     benign then contributory: handled serially, INT 0x03 is lost\n"
      "  3. #GP(0x0009) while delivering #GP(0x0008): selector 0x0008 (GDT entry 1) lies beyond the GDT limit 0x0000\n"
      "     contributory then contributory: a double fault (#DF) is raised instead\n"
      "  4. #GP(0x0009) while delivering #DF(0x0000): selector 0x0008 (GDT entry 1) lies beyond the GDT limit 0x0000\n"
      "     a fault while delivering #DF: the processor shuts down (triple fault)\n"
      "  registers:\n"
      "    eax=80000011 ecx=00000000 edx=00000603 ebx=00000000\n"
      "    esp=00900000 ebp=00000000 esi=00000000 edi=00200200\n"
      "    eflags=00000086 cr0=80000011 cr2=0x0 cr3=0x300000 idtr=0x200000/0x1ff cpl=0\n");
}

// `why` in the debugger: after a catch, the fault just delivered (here
// minios's first demand-paging fault, from ring 3: the PTE is not present);
// after a shutdown, the same chain `vtlab run` prints.
TEST(TripleFaultExplained, DebuggerWhyExplainsTheCaughtFaultAndTheShutdown) {
  const std::string cmds = ::testing::TempDir() + "/why.cmd";
  std::ofstream(cmds) << "why\ncatch exception 14\nc\nwhy\nq\n";
  const CommandResult r = run_command(kCli + " debug --serial none --commands " + cmds + " " +
                                      std::string(VTLAB_SAMPLES_DIR) + "/minios.elf");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("(vtlab) why\nnothing to explain: no shutdown, no fault caught at this stop, no double "
                       "fault so far\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("(vtlab) why\n"
                       "#PF(0x0006) at 001b:004004be: the access at CR2 = 0x805000 was refused:\n"
                       "user write linear 0x00805000 (32-bit paging):\n"
                       "  PDE   at 0x20c008: 0x000000000020e007 [P RW US] -> table 0x20e000\n"
                       "  PTE   at 0x20e014: 0x0000000000000000 [-] -> fault\n"
                       "  => #PF(0x6) [W U]: PTE not present\n"
                       "(vtlab) q\n"),
            std::string::npos)
      << r.out;

  // A guest whose every exception reaches an empty IDT, stepped into its
  // shutdown under the debugger.
  std::ofstream(cmds) << "c\nwhy\nq\n";
  const std::string guest = flat_guest("why-shutdown", "lidt [idt0]\nud2\nidt0: .word 0\n .long 0\n");
  const CommandResult d =
      run_command(kCli + " debug --serial none --flat 0x100000 --commands " + cmds + " " + guest);
  EXPECT_NE(d.out.find("(vtlab) why\n"
                       "triple fault, event by event (SDM vol. 3, 6.15 and table 6-5):\n"
                       "  1. #UD at 0008:00100007  ud2\n"
                       "  2. #GP(0x0033) while delivering #UD: IDT entry 0x06 (bytes 0x30-0x37) lies beyond the "
                       "IDT limit 0x0000\n"),
            std::string::npos)
      << d.out;
}

// A double fault the guest survives: MOV DS raises #GP, whose gate is not
// present (#NP: contributory twice, so #DF), and the #DF handler runs and
// exits.  `vtlab run` explains it once the run is over: the first fault
// with the segment check that raised it, the second with the gate that
// refused, the class pair of table 6-5.
TEST(DoubleFaultExplained, SurvivedDoubleFaultIsExplainedAtTheEnd) {
  const CommandResult r = run_flat("SurvivedDoubleFault", std::string(kGatesToHandler) + R"(
  and byte ptr [0x20006d], 0x7f   # #GP's gate: not present
  lidt [idt0]
  mov esp, 0x90000
  mov ax, 0x13
  mov ds, ax
handler:
  mov al, 0x10
  out 0xf4, al
  .p2align 3
gdt: .quad 0
  .quad 0x00cf9a000000ffff
  .quad 0x00cf92000000ffff
gdt0: .word 0x17
      .long gdt
idt0: .word 0xff
      .long 0x200000
)");
  EXPECT_EQ(r.status, 0x21);
  EXPECT_EQ(r.err,
      "vtlab: the guest took a double fault and its #DF handler ran; the last one:\n"
      "double fault, event by event (SDM vol. 3, 6.15 and table 6-5):\n"
      "  1. #GP(0x0010) at 0008:00100049  mov ds, ax\n"
      "     selector 0x0013 (GDT entry 2, RPL 3) = 00cf92000000ffff: data, read/write, DPL 0, present, base 0x0, limit 0xffffffff\n"
      "     check failed at CPL 0: RPL 3 > DPL 0: a data or non-conforming code segment is loaded only when max(CPL, RPL) <= DPL\n"
      "  2. #NP(0x006b) while delivering #GP(0x0010): IDT entry 0x0d = 00100e000008004b: 32-bit interrupt gate, DPL 0, not present: the gate is not present\n"
      "     contributory then contributory: a double fault (#DF) is raised instead\n"
      "  the #DF handler was entered\n");
}

// --on-triple-fault: bad values and combinations are one line and status 2.
TEST(OnTripleFault, BadValuesAreOneLineErrors) {
  const std::string guest = flat_guest("OnTripleFaultBad", "ud2\n");
  CommandResult r = run_command(kCli + " run --serial none --on-triple-fault explode --flat 0x100000 " + guest);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "vtlab: --on-triple-fault: explode not in {stop,reset,debug} (see vtlab --help)\n");
  r = run_command(kCli + " run --serial none --on-triple-fault reset --flat 0x100000 " + guest);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "vtlab: --on-triple-fault: restarting needs firmware at the reset vector: use it with --bios\n");
  r = run_command(kCli + " run --serial none --reboot --on-triple-fault debug --flat 0x100000 " + guest);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err,
            "vtlab: --reboot: the same as --on-triple-fault reset: it cannot be combined with --on-triple-fault "
            "debug\n");
}

// --on-triple-fault debug: the chain is printed, then the debugger opens
// on a replay stopped at the chain's first event (the UD2); stepping runs
// into the shutdown, and reverse-step goes back past it.
TEST(OnTripleFault, DebugStopsAtTheFirstFaultWithReverseStep) {
  const std::string guest = flat_guest("OnTripleFaultDebug", "lidt [idt0]\nmov eax, 0x11111111\nud2\nidt0: .word 0\n .long 0\n");
  const std::string cmds = ::testing::TempDir() + "/on-triple-fault.cmd";
  std::ofstream(cmds) << "s\nwhy\nrs\nrs\nr\nq\n";
  const CommandResult r = run_command(kCli + " run --serial none --on-triple-fault debug --flat 0x100000 " + guest +
                                      " < " + cmds);
  EXPECT_EQ(r.status, 0) << r.err;
  // stderr: the stop line and the chain, as with stop.
  EXPECT_EQ(r.err.rfind("vtlab: shutdown: triple fault: #GP(0x0043) while delivering #DF", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("  1. #UD at 0008:0010000c  ud2\n"), std::string::npos) << r.err;
  EXPECT_EQ(r.out,
            "vtlab debug: type help for the commands\n"
            "stopped before the first event of the triple fault (why: its chain; s: run into it; rs: back)\n"
            "0008:0010000c  ud2\n"
            "(vtlab) s\n"
            "machine stopped: shutdown (triple fault: #GP(0x0043) while delivering #DF (the #DF came from "
            "#GP(0x006b) while delivering #GP(0x0033)))\n"
            "(vtlab) why\n"
            "triple fault, event by event (SDM vol. 3, 6.15 and table 6-5):\n"
            "  1. #UD at 0008:0010000c  ud2\n"
            "  2. #GP(0x0033) while delivering #UD: IDT entry 0x06 (bytes 0x30-0x37) lies beyond the IDT limit "
            "0x0000\n"
            "     benign then contributory: handled serially, #UD is lost\n"
            "  3. #GP(0x006b) while delivering #GP(0x0033): IDT entry 0x0d (bytes 0x68-0x6f) lies beyond the IDT "
            "limit 0x0000\n"
            "     contributory then contributory: a double fault (#DF) is raised instead\n"
            "  4. #GP(0x0043) while delivering #DF(0x0000): IDT entry 0x08 (bytes 0x40-0x47) lies beyond the IDT "
            "limit 0x0000\n"
            "     a fault while delivering #DF: the processor shuts down (triple fault)\n"
            "  registers:\n"
            "    eax=11111111 ecx=00000000 edx=00000603 ebx=00000000\n"
            "    esp=00000000 ebp=00000000 esi=00000000 edi=00000000\n"
            "    eflags=00000002 cr0=00000011 cr2=0x0 cr3=0x0 idtr=0x0/0x0 cpl=0\n"
            "(vtlab) rs\n"
            "0008:0010000c  ud2\n"
            "(vtlab) rs\n"
            "0008:00100007  mov eax, 0x11111111\n"
            "(vtlab) r\n"
            "eax 0x00000000  ecx 0x00000000  edx 0x00000603  ebx 0x00000000\n"
            "esp 0x00000000  ebp 0x00000000  esi 0x00000000  edi 0x00000000\n"
            "eip 0x00100007  eflags 0x00000002 [] iopl 0\n"
            "mode protected, cpl 0, 32-bit code; 1 instructions, virtual time 1\n"
            "(vtlab) q\n");
}

}  // namespace
}  // namespace vtlab::test
