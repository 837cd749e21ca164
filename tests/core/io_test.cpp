// Port I/O: IN/OUT at every width, INS/OUTS alone and repeated, and who may
// touch a port (IOPL, the TSS I/O permission bit map, virtual-8086 mode).
#include <gtest/gtest.h>

#include <vector>

#include "core/decoder.h"
#include "support/cpu_harness.h"

namespace vtlab::test {
namespace {

// Ports 0x60..0x7F.  Reads answer 0x11223344556677A0, then ...A1, ...: the
// bus keeps the low `size` bytes.  Every access is logged.
class FakePorts : public BusDevice {
 public:
  static constexpr uint16_t kBase = 0x60, kLength = 0x20;
  struct Access {
    bool write;
    uint64_t offset;
    unsigned size;
    uint64_t value;
    bool operator==(const Access&) const = default;
  };
  uint64_t read(uint64_t offset, unsigned size) override {
    log.push_back({false, offset, size, 0});
    return next_read++;
  }
  void write(uint64_t offset, unsigned size, uint64_t value) override { log.push_back({true, offset, size, value}); }
  std::string_view name() const override { return "fake-ports"; }

  uint64_t next_read = 0x11223344556677A0ull;
  std::vector<Access> log;
};

void expect_gp0(const CpuHarness& h) {
  EXPECT_EQ(h.cpu.pending().kind, PendingEvent::Kind::Fault);
  EXPECT_EQ(h.cpu.pending().vector, vec::GP);
  EXPECT_TRUE(h.cpu.pending().has_error);
  EXPECT_EQ(h.cpu.pending().error, 0u);
}

// Every segment cache (and so CS and SS: the CPL) at privilege `cpl`.
void set_cpl(CpuHarness& h, unsigned cpl) {
  for (SegmentCache& sc : h.cpu.s.seg) {
    sc.attrs = (sc.attrs & ~ar::kDplMask) | (cpl << ar::kDplShift);
    sc.selector = static_cast<uint16_t>((sc.selector & ~3u) | cpl);
  }
}

void set_iopl(CpuHarness& h, unsigned iopl) {
  const uint64_t f = h.cpu.s.flags.bits() & ~uint64_t{flag::IOPL};
  h.cpu.s.flags.set_bits(f | (uint64_t{iopl} << flag::kIoplShift));
}

// A 32-bit TSS at kTss whose I/O map (at offset 0x68) covers ports
// 0..0x7F in 16 bytes, followed by the 0xFF byte the SDM asks for.  Every
// port starts denied.
constexpr uint64_t kTss = 0x30000;
constexpr uint32_t kMapOffset = 0x68;
constexpr uint32_t kTssLimit = kMapOffset + 16;  // the terminator is the last byte

void install_tss(CpuHarness& h, uint32_t limit = kTssLimit, uint32_t type = 0xB) {
  h.mem.write(kTss + 0x66, 2, kMapOffset);
  for (uint32_t n = 0; n <= 16; ++n) h.mem.write(kTss + kMapOffset + n, 1, 0xFF);
  h.cpu.s.tr = SegmentCache{0x28, kTss, limit, ar::kPresent | type};
}

void allow_port(CpuHarness& h, uint16_t port, bool allowed = true) {
  const uint64_t at = kTss + kMapOffset + port / 8;
  const uint64_t byte = h.mem.read(at, 1);
  const uint64_t bit = uint64_t{1} << (port % 8);
  h.mem.write(at, 1, allowed ? (byte & ~bit) : (byte | bit));
}

class IoTest : public testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(h.io.insert(FakePorts::kBase, FakePorts::kLength, &ports)); }
  CpuHarness h;
  FakePorts ports;
};

using Access = FakePorts::Access;

TEST_F(IoTest, InReadsEveryWidthFromImm8AndDx) {
  h.load_asm(R"(
    mov eax, 0xCAFEBABE
    in al, 0x60
    mov ebx, eax
    mov dx, 0x62
    in ax, dx
    mov ecx, eax
    in eax, 0x64
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RBX), 0xCAFEBAA0u);
  EXPECT_EQ(h.reg32(RCX), 0xCAFE77A1u);
  EXPECT_EQ(h.reg32(RAX), 0x556677A2u);
  EXPECT_EQ(ports.log, (std::vector<Access>{{false, 0, 1, 0}, {false, 2, 2, 0}, {false, 4, 4, 0}}));
}

TEST_F(IoTest, OutWritesEveryWidthToImm8AndDx) {
  h.load_asm(R"(
    mov eax, 0x12345678
    out 0x61, al
    mov dx, 0x64
    out dx, ax
    out dx, eax
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(ports.log,
            (std::vector<Access>{{true, 1, 1, 0x78}, {true, 4, 2, 0x5678}, {true, 4, 4, 0x12345678}}));
}

// The imm8 form reaches ports 0x80..0xFF too: the immediate is unsigned.
TEST_F(IoTest, Imm8PortIsZeroExtended) {
  FakePorts high;
  ASSERT_TRUE(h.io.insert(0xF0, 0x10, &high));
  h.load_asm("mov al, 0x5A\nout 0xF4, al");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(high.log, (std::vector<Access>{{true, 4, 1, 0x5A}}));
}

TEST_F(IoTest, UnclaimedPortReadsAllOnes) {
  h.load_asm("mov dx, 0x1234\nin eax, dx");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RAX), 0xFFFFFFFFu);
  EXPECT_EQ(h.io.unclaimed_total(), 1u);
}

TEST(IoRealMode, NoPermissionCheckInRealMode) {
  CpuHarness h(16);
  FakePorts ports;
  ASSERT_TRUE(h.io.insert(FakePorts::kBase, FakePorts::kLength, &ports));
  h.cpu.s.tr.attrs = 0;  // no usable TSS: a bitmap check would fault
  h.load_asm("in al, 0x60\nout 0x61, al");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(ports.log, (std::vector<Access>{{false, 0, 1, 0}, {true, 1, 1, 0xA0}}));
}

TEST_F(IoTest, InsbStoresAtEsDiAndAdvances) {
  h.write32(0x20000, 0xCCCCCCCC);
  h.load_asm("mov edi, 0x20000\nmov dx, 0x60\ninsb");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.read32(0x20000), 0xCCCCCCA0u);
  EXPECT_EQ(h.reg32(RDI), 0x20001u);
}

TEST_F(IoTest, InswWithDfSetWalksDown) {
  h.cpu.s.flags.set(flag::DF, true);
  h.load_asm("mov edi, 0x20010\nmov dx, 0x60\ninsw");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.mem.read(0x20010, 2), 0x77A0u);
  EXPECT_EQ(h.reg32(RDI), 0x2000Eu);
}

TEST_F(IoTest, RepInsdStoresCountElements) {
  h.write32(0x2000C, 0xCCCCCCCC);
  h.load_asm("mov edi, 0x20000\nmov ecx, 3\nmov dx, 0x64\nrep insd");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.read32(0x20000), 0x556677A0u);
  EXPECT_EQ(h.read32(0x20004), 0x556677A1u);
  EXPECT_EQ(h.read32(0x20008), 0x556677A2u);
  EXPECT_EQ(h.read32(0x2000C), 0xCCCCCCCCu);
  EXPECT_EQ(h.reg32(RDI), 0x2000Cu);
  EXPECT_EQ(h.reg32(RCX), 0u);
  EXPECT_EQ(ports.log, (std::vector<Access>(3, {false, 4, 4, 0})));
}

TEST_F(IoTest, RepWithZeroCountDoesNothing) {
  h.load_asm("mov edi, 0x20000\nmov esi, 0x20000\nmov ecx, 0\nmov dx, 0x60\nrep insb\nrep outsb");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_TRUE(ports.log.empty());
  EXPECT_EQ(h.reg32(RDI), 0x20000u);
  EXPECT_EQ(h.reg32(RSI), 0x20000u);
}

// 16-bit address size: DI and CX only, DI wrapping at 64 KiB, the upper
// halves of EDI and ECX untouched.
TEST(IoRealMode, RepInsUsesDiAndCxAt16BitAddressSize) {
  CpuHarness h(16);
  FakePorts ports;
  ASSERT_TRUE(h.io.insert(FakePorts::kBase, FakePorts::kLength, &ports));
  h.load_asm(R"(
    mov edi, 0x1234FFFE
    mov ecx, 0xABCD0003
    mov dx, 0x60
    rep insb
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.mem.read(0xFFFE, 1), 0xA0u);
  EXPECT_EQ(h.mem.read(0xFFFF, 1), 0xA1u);
  EXPECT_EQ(h.mem.read(0x0000, 1), 0xA2u);
  EXPECT_EQ(h.mem.read(0x10000, 1), 0u);
  EXPECT_EQ(h.reg32(RDI), 0x12340001u);
  EXPECT_EQ(h.reg32(RCX), 0xABCD0000u);
}

// A long REP runs in chunks of 4096 elements: the first handler call
// leaves RIP on the instruction with the rest of the count in ECX.
TEST_F(IoTest, LongRepRunsInChunks) {
  h.load_asm("rep insb");
  h.cpu.s.gpr[RCX] = 4096 + 3;
  h.cpu.s.gpr[RDI] = 0x20000;
  h.cpu.s.gpr[RDX] = 0x60;
  ASSERT_EQ(h.run(1), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.s.rip, CpuHarness::kCode);
  EXPECT_EQ(h.reg32(RCX), 3u);
  EXPECT_EQ(h.reg32(RDI), 0x21000u);
  EXPECT_EQ(ports.log.size(), 4096u);
  ASSERT_EQ(h.run(1), StopReason::BudgetExhausted);
  EXPECT_EQ(h.cpu.s.rip, CpuHarness::kCode + 2);
  EXPECT_EQ(h.reg32(RCX), 0u);
  EXPECT_EQ(h.reg32(RDI), 0x21003u);
  EXPECT_EQ(ports.log.size(), 4099u);
  EXPECT_EQ(h.mem.read(0x21002, 1), static_cast<uint8_t>(0xA0 + 4098));
}

// The destination is checked before the port is read: reading a port can
// have side effects (a UART's receive FIFO), so a faulting INS must not.
TEST_F(IoTest, InsChecksTheDestinationBeforeReadingThePort) {
  h.cpu.s.seg[ES].attrs &= ~ar::kWritable;
  h.load_asm("insb");
  h.cpu.s.gpr[RDI] = 0x20000;
  h.cpu.s.gpr[RDX] = 0x60;
  ASSERT_EQ(h.execute_one(), Status::Exception);
  expect_gp0(h);
  EXPECT_TRUE(ports.log.empty());
  EXPECT_EQ(h.reg32(RDI), 0x20000u);
  EXPECT_EQ(h.cpu.s.rip, CpuHarness::kCode);
}

// A fault in the middle of a REP keeps the completed elements' progress
// in EDI/ECX, so the instruction resumes where it stopped.
TEST_F(IoTest, RepInsFaultMidwayKeepsProgress) {
  h.cpu.s.seg[ES].limit = 0x20001;
  h.load_asm("rep insb");
  h.cpu.s.gpr[RDI] = 0x20000;
  h.cpu.s.gpr[RCX] = 3;
  h.cpu.s.gpr[RDX] = 0x60;
  ASSERT_EQ(h.execute_one(), Status::Exception);
  expect_gp0(h);
  EXPECT_EQ(h.reg32(RCX), 1u);
  EXPECT_EQ(h.reg32(RDI), 0x20002u);
  EXPECT_EQ(h.mem.read(0x20000, 2), 0xA1A0u);
  EXPECT_EQ(ports.log.size(), 2u);
  EXPECT_EQ(h.cpu.s.rip, CpuHarness::kCode);
}

// OUTS reads DS:ESI, or the segment an override names.
TEST_F(IoTest, OutsReadsDsOrTheOverrideSegment) {
  h.cpu.s.seg[ES].base = 0x1000;
  h.cpu.s.seg[FS].base = 0x2000;
  h.mem.write(0x20000, 1, 0x11);
  h.mem.write(0x21001, 1, 0x22);
  h.mem.write(0x22002, 1, 0x33);
  h.load_asm(R"(
    mov esi, 0x20000
    mov dx, 0x63
    outsb
    outs dx, byte ptr es:[esi]
    outs dx, byte ptr fs:[esi]
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(ports.log, (std::vector<Access>{{true, 3, 1, 0x11}, {true, 3, 1, 0x22}, {true, 3, 1, 0x33}}));
  EXPECT_EQ(h.reg32(RSI), 0x20003u);
}

TEST_F(IoTest, RepOutswWithDfSetWalksDown) {
  h.cpu.s.flags.set(flag::DF, true);
  h.mem.write(0x20000, 2, 0xCCCC);
  h.mem.write(0x20002, 2, 0xBBBB);
  h.mem.write(0x20004, 2, 0xAAAA);
  h.load_asm("mov esi, 0x20004\nmov ecx, 3\nmov dx, 0x60\nrep outsw");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(ports.log,
            (std::vector<Access>{{true, 0, 2, 0xAAAA}, {true, 0, 2, 0xBBBB}, {true, 0, 2, 0xCCCC}}));
  EXPECT_EQ(h.reg32(RSI), 0x1FFFEu);
  EXPECT_EQ(h.reg32(RCX), 0u);
}

// --- who may touch a port --------------------------------------------------

class IoPermissionTest : public IoTest {
 protected:
  void SetUp() override {
    IoTest::SetUp();
    install_tss(h);
    set_cpl(h, 3);
    set_iopl(h, 0);
  }
  // Runs one instruction at CPL 3 through its handler.
  Status run(const std::string& source) {
    h.load_asm(source);
    return h.execute_one();
  }
};

TEST_F(IoPermissionTest, BitmapAllowsAndDenies) {
  allow_port(h, 0x60);
  h.cpu.s.gpr[RAX] = 0xCAFEBABE;
  ASSERT_EQ(run("in al, 0x60"), Status::Ok);
  EXPECT_EQ(h.reg32(RAX), 0xCAFEBAA0u);
  ASSERT_EQ(run("in al, 0x61"), Status::Exception);
  expect_gp0(h);
  EXPECT_EQ(h.reg32(RAX), 0xCAFEBAA0u);
  EXPECT_EQ(ports.log.size(), 1u);  // the denied port was not read
  ASSERT_EQ(run("out 0x61, al"), Status::Exception);
  expect_gp0(h);
  EXPECT_EQ(ports.log.size(), 1u);
}

// A word or dword access needs the bit of every port it touches.
TEST_F(IoPermissionTest, WiderAccessNeedsEveryBit) {
  allow_port(h, 0x60);
  ASSERT_EQ(run("in ax, 0x60"), Status::Exception);
  expect_gp0(h);
  allow_port(h, 0x61);
  EXPECT_EQ(run("in ax, 0x60"), Status::Ok);
  ASSERT_EQ(run("in eax, 0x60"), Status::Exception);
  allow_port(h, 0x62);
  allow_port(h, 0x63);
  EXPECT_EQ(run("in eax, 0x60"), Status::Ok);
  EXPECT_EQ(ports.log, (std::vector<Access>{{false, 0, 2, 0}, {false, 0, 4, 0}}));
}

// Port 0x67 as a word takes bit 7 of one map byte and bit 0 of the next.
TEST_F(IoPermissionTest, AccessSpanningTwoMapBytes) {
  allow_port(h, 0x67);
  allow_port(h, 0x68);
  h.cpu.s.gpr[RDX] = 0x67;
  EXPECT_EQ(run("in ax, dx"), Status::Ok);
  allow_port(h, 0x68, false);
  ASSERT_EQ(run("in ax, dx"), Status::Exception);
  expect_gp0(h);
}

// Both bytes the check reads must be inside the TSS limit.
TEST_F(IoPermissionTest, MapBytesBeyondTheTssLimitDeny) {
  // Port 0x80's byte is the terminator (offset 0x78 = the limit): the
  // second byte read would be at 0x79, past the limit.
  h.mem.write(kTss + kTssLimit, 1, 0xFE);
  ASSERT_EQ(run("in al, 0x80"), Status::Exception);
  expect_gp0(h);
  h.cpu.s.tr.limit = kTssLimit + 1;
  h.mem.write(kTss + kTssLimit + 1, 1, 0xFF);
  EXPECT_EQ(run("in al, 0x80"), Status::Ok);
}

// The 0xFF byte after the map denies accesses that run off its end.
TEST_F(IoPermissionTest, TerminatorByteDeniesAccessesRunningOffTheMap) {
  allow_port(h, 0x78);
  allow_port(h, 0x7E);
  allow_port(h, 0x7F);
  EXPECT_EQ(run("in al, 0x78"), Status::Ok);
  ASSERT_EQ(run("in eax, 0x7E"), Status::Exception);
  expect_gp0(h);
}

TEST_F(IoPermissionTest, TrMustHoldA32BitTss) {
  allow_port(h, 0x60);
  for (uint32_t type : {0x1u, 0x3u}) {  // 16-bit TSS, available and busy
    h.cpu.s.tr.attrs = ar::kPresent | type;
    ASSERT_EQ(run("in al, 0x60"), Status::Exception) << type;
    expect_gp0(h);
  }
  h.cpu.s.tr.attrs = 0x9;  // not present
  ASSERT_EQ(run("in al, 0x60"), Status::Exception);
  h.cpu.s.tr.attrs = ar::kPresent | 0x9;  // available 32-bit TSS
  EXPECT_EQ(run("in al, 0x60"), Status::Ok);
}

// A TSS limit below 103 fails the check even when the map would allow.
TEST_F(IoPermissionTest, TssLimitMustBeAtLeast103) {
  h.mem.write(kTss + 0x66, 2, 0x10);  // a map at 0x10, inside the TSS header
  for (unsigned n = 0; n < 0x10; ++n) h.mem.write(kTss + 0x10 + n, 1, 0);
  h.cpu.s.tr.limit = 102;
  ASSERT_EQ(run("in al, 0x60"), Status::Exception);
  expect_gp0(h);
  h.cpu.s.tr.limit = 103;
  EXPECT_EQ(run("in al, 0x60"), Status::Ok);
}

// CPL <= IOPL: the map is not consulted (TR holds nothing usable here).
TEST_F(IoPermissionTest, CplAtOrBelowIoplSkipsTheMap) {
  h.cpu.s.tr.attrs = 0;
  struct Case {
    unsigned cpl, iopl;
    bool allowed;
  } cases[] = {{3, 3, true}, {0, 0, true}, {1, 2, true}, {2, 1, false}, {3, 2, false}};
  for (const Case& c : cases) {
    set_cpl(h, c.cpl);
    set_iopl(h, c.iopl);
    EXPECT_EQ(run("in al, 0x60"), c.allowed ? Status::Ok : Status::Exception) << c.cpl << " " << c.iopl;
  }
}

// In virtual-8086 mode IN/OUT always consult the map, even at IOPL 3.
TEST_F(IoPermissionTest, Virtual8086ModeAlwaysConsultsTheMap) {
  h.cpu.s.flags.set(flag::VM, true);
  set_iopl(h, 3);
  for (SegmentCache& sc : h.cpu.s.seg) sc.limit = 0xFFFF;
  allow_port(h, 0x60);
  EXPECT_EQ(run("in al, 0x60"), Status::Ok);
  ASSERT_EQ(run("in al, 0x61"), Status::Exception);
  expect_gp0(h);
}

// String I/O checks the port once, before the first element.
TEST_F(IoPermissionTest, StringIoIsCheckedBeforeAnyElement) {
  h.cpu.s.gpr[RCX] = 2;
  h.cpu.s.gpr[RDI] = 0x20000;
  h.cpu.s.gpr[RSI] = 0x20000;
  h.cpu.s.gpr[RDX] = 0x60;
  ASSERT_EQ(run("rep insb"), Status::Exception);
  expect_gp0(h);
  ASSERT_EQ(run("rep outsb"), Status::Exception);
  expect_gp0(h);
  EXPECT_EQ(h.reg32(RCX), 2u);
  EXPECT_EQ(h.reg32(RDI), 0x20000u);
  EXPECT_EQ(h.reg32(RSI), 0x20000u);
  EXPECT_TRUE(ports.log.empty());
  allow_port(h, 0x60);
  EXPECT_EQ(run("rep insb"), Status::Ok);
  EXPECT_EQ(h.reg32(RCX), 0u);
  EXPECT_EQ(ports.log.size(), 2u);
}

// The TSS is a system structure: CPL 3 code consults it through a
// supervisor-only page without a page fault.
TEST_F(IoPermissionTest, TssIsReadAsSupervisorUnderPaging) {
  constexpr uint64_t kPd = 0x100000, kPt = 0x101000;
  for (uint32_t n = 0; n < 1024; ++n) h.write32(kPt + 4 * n, (n << 12) | 0x7);  // P RW US
  h.write32(kPt + 4 * (kTss >> 12), static_cast<uint32_t>(kTss) | 0x3);       // P RW, supervisor
  h.write32(kPd, static_cast<uint32_t>(kPt) | 0x7);
  h.cpu.s.cr3 = kPd;
  h.cpu.s.cr0 |= cr0::PG;
  allow_port(h, 0x60);
  EXPECT_EQ(run("in al, 0x60"), Status::Ok);
  ASSERT_EQ(run("in al, 0x61"), Status::Exception);
  expect_gp0(h);
}

}  // namespace
}  // namespace vtlab::test
