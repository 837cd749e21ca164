// Debugger core: semantic breakpoints (exception vectors, I/O ports, CR
// writes, mode and CPL changes), each stopping after what triggered it.
#include "debugger/debugger_fixture.h"

namespace vtlab::test {

using Kind = StopEvent::Kind;

// Real mode with IVT entries 6 and 0x21 pointing at 0000:1800 (a HLT).
class CatchRealModeTest : public DebuggerTest {
 protected:
  CatchRealModeTest() {
    real_mode();
    m.memory().write(6 * 4, 4, 0x1800);
    m.memory().write(0x21 * 4, 4, 0x1800);
    place("hlt\n", 0x1800);
  }
};

TEST_F(CatchRealModeTest, ExceptionCatchStopsInTheHandlerWithTheFault) {
  load("mov ax, 1\nud2\n");
  const unsigned id = dbg.add_catch(CatchKind::Exception, 6);
  StopEvent e = dbg.cont();
  ASSERT_EQ(e.kind, Kind::Catch);
  EXPECT_EQ(e.id, id);
  EXPECT_EQ(e.catch_kind, CatchKind::Exception);
  EXPECT_EQ(e.event.ev.vector, 6);
  EXPECT_EQ(e.event.ev.kind, PendingEvent::Kind::Fault);
  EXPECT_EQ(e.event.return_rip, kCode + 3);  // the UD2 itself
  EXPECT_EQ(rip(), 0x1800u);
  EXPECT_EQ(m.memory().read(0x8000 - 6, 2), kCode + 3);  // IP pushed
}

TEST_F(CatchRealModeTest, AnyExceptionIgnoresIntNButItsVectorCatchesIt) {
  load("int 0x21\nud2\n");
  dbg.add_catch(CatchKind::Exception);
  StopEvent e = dbg.step();  // INT 0x21 is delivered: no exception
  EXPECT_EQ(e.kind, Kind::Step);
  EXPECT_EQ(rip(), 0x1800u);
  load("int 0x21\n");
  const unsigned id = dbg.add_catch(CatchKind::Exception, 0x21);
  e = dbg.step();
  ASSERT_EQ(e.kind, Kind::Catch);
  EXPECT_EQ(e.id, id);
  EXPECT_EQ(e.event.ev.kind, PendingEvent::Kind::SoftwareInt);
  EXPECT_EQ(e.event.return_rip, kCode + 2);
}

TEST_F(CatchRealModeTest, IoCatchMatchesItsPortRangeOnly) {
  load("mov al, 0x55\nout 0x80, al\nmov dx, 0x3f9\nin al, dx\nhlt\n");
  const unsigned id = dbg.add_catch(CatchKind::Io, 0x3f8, 0x3ff);
  StopEvent e = dbg.cont();
  ASSERT_EQ(e.kind, Kind::Catch);
  EXPECT_EQ(e.id, id);
  EXPECT_EQ(e.catch_kind, CatchKind::Io);
  EXPECT_EQ(e.port, 0x3f9);
  EXPECT_EQ(e.size, 1u);
  EXPECT_FALSE(e.write);
  EXPECT_EQ(rip(), kCode + 8);  // after the IN
  EXPECT_EQ(dbg.catches()[0].hits, 1u);
}

TEST_F(CatchRealModeTest, CrCatchAndModeCatchSeeTheSwitchToProtectedMode) {
  load("mov eax, cr0\nor al, 1\nmov cr0, eax\nhlt\n");
  const unsigned cr = dbg.add_catch(CatchKind::CrWrite, 0);
  const unsigned mode = dbg.add_catch(CatchKind::Mode);
  StopEvent e = dbg.cont();
  ASSERT_EQ(e.kind, Kind::Catch);
  EXPECT_EQ(e.id, cr);  // catches are asked in the order they were set
  EXPECT_EQ(e.cr, 0u);
  EXPECT_EQ(e.before, 0x60000010u);
  EXPECT_EQ(e.after, 0x60000011u);
  EXPECT_EQ(rip(), kCode + 8);
  dbg.remove(cr);
  load("mov eax, cr0\nand al, 0xfe\nmov cr0, eax\nhlt\n");
  e = dbg.cont();
  ASSERT_EQ(e.kind, Kind::Catch);
  EXPECT_EQ(e.id, mode);
  EXPECT_EQ(e.before, static_cast<uint64_t>(CpuMode::Protected));
  EXPECT_EQ(e.after, static_cast<uint64_t>(CpuMode::Real));
}

TEST_F(DebuggerTest, CrCatchSeesAWriteOfTheSameValue) {
  load("mov eax, cr3\nmov cr3, eax\nmov cr0, eax\n");
  dbg.add_catch(CatchKind::CrWrite, 3);
  StopEvent e = dbg.cont();
  ASSERT_EQ(e.kind, Kind::Catch);
  EXPECT_EQ(e.cr, 3u);
  EXPECT_EQ(e.before, 0u);
  EXPECT_EQ(e.after, 0u);
  EXPECT_EQ(rip(), kCode + 6);
}

TEST_F(DebuggerTest, ModeCatchSeesPagingTurnOn) {
  load("mov eax, cr0\nor eax, 0x80000000\nmov cr0, eax\nhlt\n");
  place("nop\n", 0x2000);
  paging_with_alias(0x5000, 0x3000);
  m.cpu().s.cr0 &= ~cr0::PG;
  dbg.add_catch(CatchKind::Mode);
  StopEvent e = dbg.cont();
  ASSERT_EQ(e.kind, Kind::Catch);
  EXPECT_EQ(e.before, static_cast<uint64_t>(CpuMode::Protected));
  EXPECT_EQ(e.after, static_cast<uint64_t>(CpuMode::Paging));
  EXPECT_STREQ(cpu_mode_name(static_cast<CpuMode>(e.after)), "paging");
  EXPECT_EQ(rip(), kCode + 11);
}

// A GDT with ring-0 and ring-3 flat segments; IRET to ring 3.
TEST_F(DebuggerTest, CplCatchStopsOnTheFirstInstructionAtRing3) {
  PhysicalMemory& mem = m.memory();
  const uint64_t gdt = 0x500;
  mem.write(gdt + 0x08, 8, 0x00CF9A000000FFFFull);  // code, DPL 0
  mem.write(gdt + 0x10, 8, 0x00CF92000000FFFFull);  // data, DPL 0
  mem.write(gdt + 0x18, 8, 0x00CFFA000000FFFFull);  // code, DPL 3
  mem.write(gdt + 0x20, 8, 0x00CFF2000000FFFFull);  // data, DPL 3
  m.cpu().s.gdtr = {gdt, 0x27};
  load("push 0x23\npush 0x8000\npushfd\npush 0x1b\npush offset user\niretd\nuser: inc eax\nhlt\n");
  dbg.add_catch(CatchKind::Cpl, 0);  // never: CPL only goes up here
  const unsigned id = dbg.add_catch(CatchKind::Cpl, 3);
  StopEvent e = dbg.cont();
  ASSERT_EQ(e.kind, Kind::Catch);
  EXPECT_EQ(e.id, id);
  EXPECT_EQ(e.before, 0u);
  EXPECT_EQ(e.after, 3u);
  EXPECT_EQ(m.cpu().s.seg[CS].selector, 0x1b);
  EXPECT_EQ(reg(RSP), 0x8000u);
  EXPECT_EQ(reg(RAX), 0u);  // stopped before the first ring-3 instruction
  EXPECT_EQ(m.cpu().icount, 6u);
}

}  // namespace vtlab::test
