// The gdb stub's packets against a whole machine: queries and the target
// description, registers, memory, breakpoints and watchpoints, resumes and
// their stop replies, the guest's exit, Ctrl-C, and malformed packets
// (answered with E or an empty reply, never a crash), reverse step and
// continue (bs, bc) over checkpoints.  serve() is driven
// by a scripted transport to check acks, resends and framing.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <deque>
#include <random>

#include "debugger/debugger_fixture.h"
#include "debugger/gdb_stub.h"
#include "debugger/reverse.h"

namespace vtlab::test {
namespace {

// Bytes from a script; everything written is kept.
class ScriptTransport final : public gdb::Transport {
 public:
  explicit ScriptTransport(std::string in = "") : in_(in.begin(), in.end()) {}
  int read_byte(int) override {
    if (in_.empty()) return kClosed;
    const int b = static_cast<uint8_t>(in_.front());
    in_.pop_front();
    return b;
  }
  bool write(std::string_view bytes) override {
    out += bytes;
    return true;
  }
  std::string out;

 private:
  std::deque<char> in_;
};

class GdbStubTest : public DebuggerTest {
 protected:
  GdbStubTest() : stub(dbg, io, [](const StopEvent& e) { return static_cast<int>(e.guest_status & 0xFF); }) {}
  std::string h(std::string_view p) { return stub.handle(p); }
  ScriptTransport io;
  gdb::GdbStub stub;
};

TEST_F(GdbStubTest, QueriesAnswerAsAOneThreadI386Target) {
  EXPECT_EQ(h("qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386"),
            "PacketSize=4000;qXfer:features:read+;swbreak+;hwbreak+");
  EXPECT_EQ(h("qAttached"), "1");
  EXPECT_EQ(h("qC"), "QC1");
  EXPECT_EQ(h("?"), "T05");
  EXPECT_EQ(h("vCont?"), "vCont;c;C;s;S");
  EXPECT_EQ(h("Hg0"), "OK");
  EXPECT_EQ(h("vMustReplyEmpty"), "");
  EXPECT_EQ(h("qTStatus"), "");
}

TEST_F(GdbStubTest, TargetXmlReadsBackWholeInChunks) {
  std::string xml;
  for (uint64_t off = 0;;) {
    const std::string r = h(fmt::format("qXfer:features:read:target.xml:{:x},100", off));
    ASSERT_FALSE(r.empty());
    ASSERT_TRUE(r[0] == 'm' || r[0] == 'l') << r;
    const std::optional<std::string> data = gdb::unescape_binary(std::string_view(r).substr(1));
    ASSERT_TRUE(data);
    xml += *data;
    off += data->size();
    if (r[0] == 'l') break;
  }
  EXPECT_EQ(xml, stub.target_xml());
  EXPECT_NE(xml.find("<architecture>i386</architecture>"), std::string::npos);
  EXPECT_NE(xml.find("<reg name=\"eip\" bitsize=\"32\" type=\"code_ptr\"/>"), std::string::npos);
  EXPECT_NE(xml.find("<reg name=\"gs\" bitsize=\"32\" type=\"int32\"/>\n<reg name=\"st0\""), std::string::npos);
  EXPECT_EQ(h("qXfer:features:read:target.xml:ffff,10"), "l");
  EXPECT_EQ(h("qXfer:features:read:other.xml:0,10"), "E00");
  EXPECT_EQ(h("qXfer:features:read:target.xml:zz,10"), "E01");
}

TEST_F(GdbStubTest, RegistersReadAndWriteInGdbsI386Order) {
  CpuState& s = m.cpu().s;
  s.gpr[RAX] = 0x11223344;
  s.gpr[RDI] = 0xCAFEBABE;
  s.rip = 0x1000;
  const std::string g = h("g");
  ASSERT_EQ(g.size(), 2u * (16 * 4 + 8 * 10 + 8 * 4));
  EXPECT_EQ(g.substr(0, 8), "44332211");        // eax
  EXPECT_EQ(g.substr(7 * 8, 8), "bebafeca");    // edi
  EXPECT_EQ(g.substr(8 * 8, 8), "00100000");    // eip
  EXPECT_EQ(g.substr(9 * 8, 8), "02000000");    // eflags: bit 1 only
  EXPECT_EQ(g.substr(10 * 8, 8), "08000000");   // cs (flat protected mode)
  EXPECT_EQ(g.substr(11 * 8, 8), "10000000");   // ss
  EXPECT_EQ(g.substr(2 * (16 * 4 + 80), 8), "7f030000");  // fctrl after FNINIT
  EXPECT_EQ(h("p8"), "00100000");
  EXPECT_EQ(h("P1=78563412"), "OK");
  EXPECT_EQ(s.gpr[RCX], 0x12345678u);
  EXPECT_EQ(h("P8=04100000"), "OK");
  EXPECT_EQ(s.rip, 0x1004u);
  EXPECT_EQ(h("P9=c3080000"), "OK");  // CF ZF SF OF
  EXPECT_EQ(s.flags.bits(), 0x8c3u);
  EXPECT_EQ(h("Pa=08000000"), "OK");   // the same selector is accepted
  EXPECT_EQ(h("Pa=10000000"), "E01");  // another would need a descriptor load
  EXPECT_EQ(h("P9=02000200"), "E01");  // VM
  // G writes back what g read, and refuses a changed selector as a whole.
  const std::string all = h("g");
  EXPECT_EQ(h("G" + all), "OK");
  std::string bad = all;
  bad.replace(11 * 8, 8, "2b000000");
  bad.replace(0, 8, "00000000");
  EXPECT_EQ(h("G" + bad), "E01");
  EXPECT_EQ(s.gpr[RAX], 0x11223344u);  // nothing applied
}

TEST_F(GdbStubTest, MemoryReadsAndWritesAreLinear) {
  load("nop\nhlt\n");
  EXPECT_EQ(h("m1000,2"), "90f4");
  EXPECT_EQ(h("M2000,3:aabbcc"), "OK");
  EXPECT_EQ(h("m2000,3"), "aabbcc");
  EXPECT_EQ(h("X2001,2:}\x03" "}]"), "OK");  // '#' and '}' escaped
  EXPECT_EQ(h("m2000,3"), "aa237d");
  EXPECT_EQ(h("X2000,0:"), "OK");  // gdb's probe for X
  // Past the end of RAM (16 MiB): a short read, then an error.
  EXPECT_EQ(h("mfffffe,4"), "0000");
  EXPECT_EQ(h("m1000000,4"), "E14");
  EXPECT_EQ(h("M1000000,1:00"), "E14");
  // Writing code the engine has decoded takes effect.
  EXPECT_EQ(h("M1000,1:40"), "OK");  // inc eax
  EXPECT_EQ(h("s"), "T05");
  EXPECT_EQ(reg(RAX), 1u);
}

TEST_F(GdbStubTest, BreakpointsWatchpointsAndStepsReportStops) {
  load("mov eax, 1\nmov [0x3000], eax\nmov ebx, [0x3000]\nnop\nmov ecx, 3\nhlt\n");
  EXPECT_EQ(h("s"), "T05");
  EXPECT_EQ(rip(), kCode + 5);
  EXPECT_EQ(h("Z2,3000,4"), "OK");
  EXPECT_EQ(h("Z3,3002,2"), "OK");
  EXPECT_EQ(h("Z0,1011,1"), "OK");  // mov ecx, 3
  EXPECT_EQ(h("c"), "T05watch:3000;");
  EXPECT_EQ(rip(), kCode + 10);
  EXPECT_EQ(h("vCont;c:-1"), "T05rwatch:3002;");
  EXPECT_EQ(h("c"), "T05swbreak:;");
  EXPECT_EQ(rip(), kCode + 17);
  EXPECT_EQ(h("z0,1011,1"), "OK");
  EXPECT_EQ(h("z0,1011,1"), "E01");  // already gone
  EXPECT_EQ(h("vCont;s:1"), "T05");
  EXPECT_EQ(reg(RCX), 3u);
  EXPECT_EQ(dbg.breakpoints().size(), 0u);
  EXPECT_EQ(dbg.watchpoints().size(), 2u);
}

TEST_F(GdbStubTest, GuestExitIsAWReplyWithItsStatus) {
  load("mov al, 3\nout 0xf4, al\nhlt\n");
  EXPECT_EQ(h("c"), "W07");
  EXPECT_EQ(stub.ended(), gdb::SessionEnd::Exited);
  EXPECT_EQ(stub.exit_status(), 7);
}

TEST_F(GdbStubTest, ContinueResumesAtAGivenAddress) {
  load("mov eax, 1\nmov al, 5\nout 0xf4, al\n");
  EXPECT_EQ(h("c1005"), "W0b");
  EXPECT_EQ(reg(RAX), 5u);
}

TEST_F(GdbStubTest, CtrlCStopsARunningGuestWithSigint) {
  load("jmp 0x1000\n");
  ScriptTransport ctrl_c("\x03");
  gdb::GdbStub s(dbg, ctrl_c, [](const StopEvent&) { return 0; });
  EXPECT_EQ(s.handle("c"), "T02");
  EXPECT_EQ(m.cpu().virtual_time(), uint64_t{1} << 20);  // one slice ran, exactly
  EXPECT_EQ(rip(), kCode);
}

TEST_F(GdbStubTest, ReverseStepAndContinueGoBackToStopsAndTheStart) {
  load("mov eax, 1\ninc eax\ninc eax\nhlt\n");  // inc at 0x1005 and 0x1006
  ReverseExecution rev(dbg, std::shared_ptr<Machine>(std::shared_ptr<Machine>(), &m),
                       [] { return std::shared_ptr<Machine>(); });
  EXPECT_EQ(h("bs"), "");  // not offered yet
  stub.set_reverse(&rev);
  EXPECT_EQ(h("qSupported:multiprocess+"),
            "PacketSize=4000;qXfer:features:read+;swbreak+;hwbreak+;ReverseStep+;ReverseContinue+");
  EXPECT_EQ(h("bs"), "T05replaylog:begin;");
  EXPECT_EQ(h("Z0,1005,1"), "OK");
  EXPECT_EQ(h("c"), "T05swbreak:;");
  EXPECT_EQ(h("s"), "T05");
  EXPECT_EQ(h("s"), "T05");
  EXPECT_EQ(rip(), 0x1007u);
  EXPECT_EQ(reg(RAX), 3u);
  EXPECT_EQ(h("bs"), "T05");
  EXPECT_EQ(rip(), 0x1006u);
  EXPECT_EQ(reg(RAX), 2u);
  EXPECT_EQ(h("bc"), "T05swbreak:;");
  EXPECT_EQ(rip(), 0x1005u);
  EXPECT_EQ(reg(RAX), 1u);
  EXPECT_EQ(h("bc"), "T05replaylog:begin;");
  EXPECT_EQ(rip(), 0x1000u);
  EXPECT_EQ(m.cpu().icount, 0u);
  EXPECT_EQ(h("?"), "T05replaylog:begin;");
  EXPECT_EQ(h("bx"), "");
}

TEST_F(GdbStubTest, MalformedPacketsGetAnErrorOrAnEmptyReply) {
  for (const char* p : {"m", "m1000", "mzz,1", "m1000,", "M1000,2:aa", "M1000,1:zz", "M1000,1", "X1000,1:}",
                        "p", "p20", "pzz", "P", "P0", "P0=11", "P0=zzzzzzzz", "G", "G00", "Z0", "Z0,1000",
                        "Z2,1000,0", "Z2,1000,2000", "cxyz", "vCont;", "vCont;x"})
    EXPECT_EQ(h(p).substr(0, 1), "E") << p;
  for (const char* p : {"", "Z9,1000,1", "z", "y", "vFoo", "qFoo", "Q", "!"}) EXPECT_EQ(h(p), "") << p;
  EXPECT_EQ(stub.ended(), std::nullopt);
}

// Packets of every kind with random fields, separators and bytes (fixed
// seed): the stub never crashes (ASan runs this too), and no reply could
// break the framing with a bare $ or #.
TEST_F(GdbStubTest, RandomPacketsNeverBreakTheStubOrTheFraming) {
  load("jmp 0x1000\n");
  std::mt19937 rng(12345);
  const std::string kinds[] = {"?", "g", "G", "p", "P", "m", "M", "X", "Z", "z", "c", "s", "C", "S",
                               "vCont;", "vCont?", "qXfer:features:read:target.xml:", "qSupported", "H", "q"};
  const std::string alphabet = "0123456789abcdefABCDEF,:;=-}$#*xyz \x03\xff";
  ScriptTransport closed;  // a resume looks for Ctrl-C once: the closed transport stops it
  gdb::GdbStub s(dbg, closed, [](const StopEvent&) { return 0; });
  for (int i = 0; i < 3000; ++i) {
    std::string p = kinds[rng() % std::size(kinds)];
    const unsigned n = rng() % 24;
    for (unsigned j = 0; j < n; ++j) p += alphabet[rng() % alphabet.size()];
    const std::string reply = s.handle(p);
    const bool binary = reply.starts_with("m") || reply.starts_with("l");  // qXfer data is escaped
    if (!binary) {
      EXPECT_EQ(reply.find_first_of("$#"), std::string::npos) << p << " -> " << reply;
    }
  }
}

TEST_F(GdbStubTest, ServeAcksResendsOnNackAndRejectsBadChecksums) {
  load("mov eax, 1\nhlt\n");
  ScriptTransport t("+$?#3f-$qC#b4$qC#00" "\x03" "$k#6b");
  gdb::GdbStub s(dbg, t, [](const StopEvent&) { return 0; });
  EXPECT_EQ(s.serve(), gdb::SessionEnd::Killed);
  EXPECT_EQ(t.out, "+$T05#b9$T05#b9+$QC1#c5-+");
}

TEST_F(GdbStubTest, ServeEndsWhenTheConnectionCloses) {
  ScriptTransport t("$?#3f");
  gdb::GdbStub s(dbg, t, [](const StopEvent&) { return 0; });
  EXPECT_EQ(s.serve(), gdb::SessionEnd::Disconnected);
  ScriptTransport d("$D#44");
  gdb::GdbStub s2(dbg, d, [](const StopEvent&) { return 0; });
  EXPECT_EQ(s2.serve(), gdb::SessionEnd::Detached);
  EXPECT_EQ(d.out, "+$OK#9a");
}

std::string hex_of(std::string_view text) {
  return gdb::to_hex(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

// A monitor command as gdb sends it.
std::string rcmd(std::string_view command) {
  std::string p = "qRcmd,";
  p += hex_of(command);
  return p;
}

// --gdb-arch auto from real mode: gdb gets i8086 and a linear pc; once the
// CPU runs 32-bit code the stop says so on gdb's console, g keeps the
// layout gdb has, and gdb's next read of target.xml gets i386.
TEST_F(GdbStubTest, TheDescriptionFollowsTheCodeSizeWhenGdbReadsIt) {
  real_mode();
  CpuState& s = m.cpu().s;
  s.seg[CS].selector = 0x0100;
  s.seg[CS].base = 0x1000;
  load("nop\nnop\n", 0x1010);
  gdb::GdbStub st(dbg, io, [](const StopEvent&) { return 0; }, gdb::ArchPolicy::Auto);
  EXPECT_EQ(st.described_arch(), gdb::Arch::I8086);
  EXPECT_NE(st.handle("qXfer:features:read:target.xml:0,1000").find("<architecture>i8086</architecture>"),
            std::string::npos);
  EXPECT_EQ(st.handle("p8"), "10100000");  // 0100:0010 is linear 0x1010
  EXPECT_EQ(st.handle("Z0,1011,1"), "OK");  // gdb's breakpoints are linear too
  EXPECT_EQ(st.handle("c"), "T05swbreak:;");
  EXPECT_EQ(s.rip, 0x11u);
  EXPECT_EQ(st.take_console(), "");
  EXPECT_EQ(st.handle("c10"), "E01");  // linear 0x10 lies below CS
  // As if a far jump had loaded a flat 32-bit CS.
  set_flat_protected_mode(s);
  s.rip = 0x1011;
  EXPECT_EQ(st.handle("s"), "T05");
  EXPECT_EQ(st.take_console(),
            "vtlab: the CPU now runs 32-bit code: its target description is i386, gdb has i8086 "
            "(`unset tdesc filename` makes gdb read it)\n");
  EXPECT_EQ(st.described_arch(), gdb::Arch::I8086);
  EXPECT_EQ(st.handle("p8"), "12100000");
  EXPECT_NE(st.handle("qXfer:features:read:target.xml:0,1000").find("<architecture>i386</architecture>"),
            std::string::npos);
  EXPECT_EQ(st.described_arch(), gdb::Arch::I386);
  EXPECT_EQ(st.handle(rcmd("mode")), "OK");
  EXPECT_EQ(st.take_console(),
            "protected mode, 32-bit code: CS:EIP 0008:00001012, CS.base 0x0: gdb's pc is the linear CS.base + EIP "
            "= 0x00001012\ntarget description: gdb has i386, this code's is i386\n");
}

TEST_F(GdbStubTest, MonitorCommandsAnswerOnTheConsole) {
  ASSERT_TRUE(m.memory().write_bytes(0x2000, std::vector<uint8_t>{0xAA, 0xBB}.data(), 2));
  EXPECT_EQ(h(rcmd("xp 0x2000 2")), "OK");
  EXPECT_EQ(stub.take_console(), "0x00002000: 0xaa 0xbb\n");
  EXPECT_EQ(h(rcmd("setp 0x2001 cc")), "OK");
  EXPECT_EQ(h(rcmd("xp 0x2000 2")), "OK");
  EXPECT_EQ(stub.take_console(), "wrote 1 bytes at physical 0x00002001\n0x00002000: 0xaa 0xcc\n");
  EXPECT_EQ(h(rcmd("xp 0x2000 0")), "OK");
  EXPECT_EQ(h(rcmd("setp 0x2000 abc")), "OK");
  EXPECT_EQ(h(rcmd("translate")), "OK");
  EXPECT_EQ(stub.take_console(),
            "error: length must be 1 to 4096\n"
            "error: setp ADDR HEXBYTES... (hex digit pairs, up to 4096 bytes)\n"
            "error: missing linear address\n");
  EXPECT_EQ(h("qRcmd,zz"), "E01");
  EXPECT_EQ(h(rcmd("help")), "OK");
  EXPECT_TRUE(stub.take_console().starts_with("vtlab monitor commands"));
}

// `monitor tss` decodes the TSS that TR names, as `vtlab debug`'s tss does.
TEST_F(GdbStubTest, MonitorTssDecodesTheTaskStateSegment) {
  CpuState& s = m.cpu().s;
  s.tr.selector = 0x28;
  s.tr.base = 0x3000;
  s.tr.limit = 0x67;
  s.tr.attrs = ar::kPresent | 11;  // 32-bit TSS, busy
  m.memory().write(0x3004, 4, 0x8000);  // ESP0
  m.memory().write(0x3008, 2, 0x10);    // SS0
  m.memory().write(0x3066, 2, 0x68);    // the I/O map base, just past the limit
  EXPECT_EQ(h(rcmd("tss")), "OK");
  const std::string text = stub.take_console();
  EXPECT_TRUE(text.starts_with("TR 0028 base 0x00003000 limit 0x0067: 32-bit TSS\n"
                               "  +0x00 link           0x0000\n"
                               "  +0x04 ESP0           0x00008000\n"
                               "  +0x08 SS0            0x0010\n"))
      << text;
  EXPECT_TRUE(text.ends_with("  +0x66 I/O map base   0x0068 (beyond the limit: no bitmap, I/O above IOPL faults)\n"))
      << text;
  s.tr.attrs = 0;
  EXPECT_EQ(h(rcmd("tss")), "OK");
  EXPECT_EQ(stub.take_console(), "TR 0028 base 0x00003000 limit 0x0067: no TSS (LTR loads one)\n");
}

// serve() sends the console output as O packets before the reply.
TEST_F(GdbStubTest, ServeSendsMonitorOutputAsOPackets) {
  const std::string cmd = rcmd("exits");
  ScriptTransport t(gdb::frame(cmd));
  gdb::GdbStub s(dbg, t, [](const StopEvent&) { return 0; });
  EXPECT_EQ(s.serve(), gdb::SessionEnd::Disconnected);
  std::string console(1, 'O');
  console += hex_of("0 exits, 0 modelled cycles\n");
  std::string want = "+";
  want += gdb::frame(console);
  want += "$OK#9a";
  EXPECT_EQ(t.out, want);
}

}  // namespace
}  // namespace vtlab::test
