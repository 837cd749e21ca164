// Debugger core: stepping, step-over, run-to, breakpoints on linear and
// physical addresses, watchpoints on physical ranges, budgets, and what a
// stopped machine reports.
#include "debugger/debugger_fixture.h"

namespace vtlab::test {

using Kind = StopEvent::Kind;

TEST_F(DebuggerTest, StepRetiresExactlyOneInstruction) {
  load("mov eax, 1\nmov ebx, 2\nhlt\n");
  StopEvent e = dbg.step();
  EXPECT_EQ(e.kind, Kind::Step);
  EXPECT_EQ(reg(RAX), 1u);
  EXPECT_EQ(reg(RBX), 0u);
  EXPECT_EQ(rip(), kCode + 5);
  EXPECT_EQ(m.cpu().icount, 1u);
}

TEST_F(DebuggerTest, LinearBreakpointStopsBeforeItsInstructionAndIsSteppedOff) {
  load("mov eax, 1\nmov ebx, 2\nmov ecx, 3\njmp 0x1000\n");
  const unsigned id = dbg.add_breakpoint(kCode + 10, false);  // mov ecx, 3
  StopEvent e = dbg.cont();
  EXPECT_EQ(e.kind, Kind::Breakpoint);
  EXPECT_EQ(e.id, id);
  EXPECT_EQ(rip(), kCode + 10);
  EXPECT_EQ(reg(RBX), 2u);
  EXPECT_EQ(reg(RCX), 0u);
  EXPECT_EQ(m.cpu().icount, 2u);
  // Continuing runs the breakpoint's instruction and comes round again.
  e = dbg.cont();
  EXPECT_EQ(e.kind, Kind::Breakpoint);
  EXPECT_EQ(m.cpu().icount, 6u);
  EXPECT_EQ(reg(RCX), 3u);
  EXPECT_EQ(dbg.breakpoints()[0].hits, 2u);
}

TEST_F(DebuggerTest, PhysicalBreakpointMatchesThroughAPagingAlias) {
  // Linear 0x5000 maps to physical 0x3000, where the code lives.
  place("inc eax\nhlt\n", 0x3000);
  load("jmp 0x5000\n");
  paging_with_alias(0x5000, 0x3000);
  dbg.add_breakpoint(0x3000, false);  // linear 0x3000 is never fetched
  const unsigned id = dbg.add_breakpoint(0x3000, true);
  StopEvent e = dbg.cont();
  EXPECT_EQ(e.kind, Kind::Breakpoint);
  EXPECT_EQ(e.id, id);
  EXPECT_EQ(rip(), 0x5000u);
  EXPECT_EQ(dbg.to_physical(0x5000), std::optional<uint64_t>(0x3000));
}

TEST_F(DebuggerTest, WriteWatchpointStopsAfterTheStoreWithItsAccess) {
  load("mov dword ptr [0x20000], 5\nmov ecx, [0x20000]\nmov dword ptr [0x20002], 7\nhlt\n");
  const unsigned id = dbg.add_watchpoint(0x20002, 2, false, true);
  EXPECT_NE(m.cpu().observer, nullptr);
  StopEvent e = dbg.cont();
  ASSERT_EQ(e.kind, Kind::Watchpoint);
  EXPECT_EQ(e.id, id);
  EXPECT_EQ(e.phys, 0x20000u);  // the 4-byte store overlaps bytes 2..3
  EXPECT_EQ(e.size, 4u);
  EXPECT_TRUE(e.write);
  EXPECT_EQ(rip(), kCode + 10);  // after the store
  // The read does not match a write watchpoint; the next store does.
  e = dbg.cont();
  ASSERT_EQ(e.kind, Kind::Watchpoint);
  EXPECT_EQ(e.phys, 0x20002u);
  EXPECT_EQ(reg(RCX), 5u);
  EXPECT_TRUE(dbg.remove(id));
  EXPECT_EQ(m.cpu().observer, nullptr);  // nothing watched: no observer on the access path
}

TEST_F(DebuggerTest, ReadWatchpointSeesLoadsNotStores) {
  load("mov dword ptr [0x20000], 5\nmov ecx, [0x1fffe]\nhlt\n");
  dbg.add_watchpoint(0x20000, 1, true, false);
  StopEvent e = dbg.cont();
  ASSERT_EQ(e.kind, Kind::Watchpoint);
  // The load straddles a page boundary: the CPU reads it in two pieces,
  // and the piece in the second page is the one that touches 0x20000.
  EXPECT_EQ(e.phys, 0x20000u);
  EXPECT_EQ(e.size, 2u);
  EXPECT_FALSE(e.write);
  EXPECT_EQ(reg(RCX), 0x50000u);
}

TEST_F(DebuggerTest, StepOverRunsACallToTheNextInstruction) {
  load("call f\nmov ebx, 2\nhlt\nf: mov eax, 1\nret\n");
  StopEvent e = dbg.step_over();
  EXPECT_EQ(e.kind, Kind::Step);
  EXPECT_EQ(rip(), kCode + 5);
  EXPECT_EQ(reg(RAX), 1u);
  EXPECT_EQ(m.cpu().icount, 3u);  // call, mov, ret
  e = dbg.step_over();  // not a call: one instruction
  EXPECT_EQ(rip(), kCode + 10);
  EXPECT_EQ(m.cpu().icount, 4u);
}

TEST_F(DebuggerTest, StepOverStopsAtABreakpointInsideTheCall) {
  load("call f\nhlt\nf: mov eax, 1\nret\n");
  const unsigned id = dbg.add_breakpoint(kCode + 11, false);  // ret
  StopEvent e = dbg.step_over();
  EXPECT_EQ(e.kind, Kind::Breakpoint);
  EXPECT_EQ(e.id, id);
  EXPECT_EQ(rip(), kCode + 11);
}

TEST_F(DebuggerTest, StepOverRunsAWholeRepString) {
  load("mov ecx, 10\nmov edi, 0x20000\ncld\nrep stosb\nhlt\n");
  for (int i = 0; i < 3; ++i) dbg.step();
  const uint64_t at = rip();
  StopEvent e = dbg.step_over();
  EXPECT_EQ(e.kind, Kind::Step);
  EXPECT_EQ(rip(), at + 2);
  EXPECT_EQ(reg(RCX), 0u);
  EXPECT_EQ(reg(RDI), 0x2000Au);
}

TEST_F(DebuggerTest, RunToStopsAtTheAddress) {
  load("mov eax, 1\nmov ebx, 2\nmov ecx, 3\nhlt\n");
  StopEvent e = dbg.run_to(kCode + 10);
  EXPECT_EQ(e.kind, Kind::RunTo);
  EXPECT_EQ(rip(), kCode + 10);
  EXPECT_EQ(m.cpu().icount, 2u);
}

TEST_F(DebuggerTest, BudgetStopsARunThatNeverBreaks) {
  load("l: inc eax\njmp l\n");
  StopEvent e = dbg.cont(1000);
  EXPECT_EQ(e.kind, Kind::Budget);
  EXPECT_EQ(m.cpu().icount, 1000u);
  EXPECT_EQ(reg(RAX), 500u);
  dbg.add_breakpoint(0x9999, false);  // armed: the same budget, stepped
  e = dbg.cont(10);
  EXPECT_EQ(e.kind, Kind::Budget);
  EXPECT_EQ(m.cpu().icount, 1010u);
}

TEST_F(DebuggerTest, MachineStopIsReportedWithItsReasonAndAgainOnTheNextCommand) {
  load("mov eax, 1\nhlt\n");
  dbg.add_breakpoint(0x9999, false);
  StopEvent e = dbg.cont();
  EXPECT_EQ(e.kind, Kind::MachineStop);
  EXPECT_EQ(e.reason, StopReason::Halted);
  EXPECT_EQ(e.detail, "HLT with interrupts disabled");
  e = dbg.step();
  EXPECT_EQ(e.kind, Kind::MachineStop);
  EXPECT_EQ(e.reason, StopReason::Halted);
  EXPECT_EQ(m.cpu().icount, 2u);
}

TEST_F(DebuggerTest, GuestExitCarriesTheStatus) {
  load("mov al, 0x21\nout 0xf4, al\nhlt\n");
  StopEvent e = dbg.cont();
  EXPECT_EQ(e.kind, Kind::MachineStop);
  EXPECT_EQ(e.reason, StopReason::GuestExit);
  EXPECT_EQ(e.guest_status, 0x43u);
}

TEST_F(DebuggerTest, RemoveKnowsEveryKindAndNothingElse) {
  const unsigned b = dbg.add_breakpoint(0x1000, false);
  const unsigned w = dbg.add_watchpoint(0x2000, 4, true, true);
  const unsigned c = dbg.add_catch(CatchKind::Mode);
  EXPECT_EQ(b, 1u);
  EXPECT_EQ(w, 2u);
  EXPECT_EQ(c, 3u);
  EXPECT_TRUE(dbg.remove(w));
  EXPECT_FALSE(dbg.remove(w));
  EXPECT_FALSE(dbg.remove(99));
  EXPECT_TRUE(dbg.remove(b));
  EXPECT_TRUE(dbg.remove(c));
  EXPECT_TRUE(dbg.breakpoints().empty() && dbg.watchpoints().empty() && dbg.catches().empty());
}

TEST_F(DebuggerTest, ReadsMemoryWithoutSideEffects) {
  place("nop\n", kCode);
  paging_with_alias(0x5000, 0x3000);
  m.memory().write(0x3000, 4, 0xdeadbeef);
  uint8_t buf[4] = {};
  EXPECT_EQ(dbg.read_linear(0x5000, buf, 4), 4u);
  EXPECT_EQ(buf[0], 0xef);
  EXPECT_EQ(buf[3], 0xde);
  // Reading does not set the accessed bit of the PTE it walked.
  EXPECT_EQ(m.memory().read(kPageDir + 0x1000 + 4 * 5, 4), 0x3003u);
  // Past the end of RAM: nothing readable.
  EXPECT_EQ(dbg.read_physical((16 << 20) - 2, buf, 4), 2u);
  // Linear 4 MiB is not mapped.
  EXPECT_EQ(dbg.read_linear(0x3ffffe, buf, 4), 2u);
  EXPECT_EQ(dbg.to_physical(0x400000), std::nullopt);
}

}  // namespace vtlab::test
