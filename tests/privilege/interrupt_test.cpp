// Event delivery: real-mode IVT, protected-mode interrupt and trap gates,
// stack switches from the TSS, the error codes of every gate check, and
// the double- and triple-fault rules of SDM vol. 3, table 6-5.
#include <gtest/gtest.h>

#include "priv_fixture.h"
#include "privilege/interrupts.h"

namespace vtlab::test {

// --- real mode ---------------------------------------------------------------

TEST(RealModeInterrupt, IntIretRoundTripWithExactStackImage) {
  CpuHarness h(16);
  CpuState& s = h.cpu.s;
  h.mem.write(0x21 * 4, 4, 0x0200'0010);  // IVT[0x21] = 0200:0010
  h.mem.write(0x2010, 1, 0xCF);           // the handler: IRET
  s.seg[SS].selector = 0x3000;
  s.seg[SS].base = 0x30000;
  s.gpr[RSP] = 0x0100;
  const uint32_t before = flag::kReserved1 | flag::CF | flag::ZF | flag::TF | flag::IF | flag::AC;
  s.flags.set_bits(before);
  h.load_asm("int 0x21\nnop");

  h.run(1);
  EXPECT_EQ(s.seg[CS].selector, 0x0200);
  EXPECT_EQ(s.seg[CS].base, 0x2000u);
  EXPECT_EQ(s.rip, 0x10u);
  EXPECT_EQ(h.reg32(RSP), 0x00FAu);
  EXPECT_EQ(h.mem.read(0x300FA, 2), 0x1002u);                // IP after INT
  EXPECT_EQ(h.mem.read(0x300FC, 2), 0x0000u);                // CS
  EXPECT_EQ(h.mem.read(0x300FE, 2), before & 0xFFFF);        // FLAGS
  EXPECT_EQ(h.flags(), before & ~(flag::IF | flag::TF | flag::AC));

  h.run(1);  // IRET
  EXPECT_EQ(s.seg[CS].selector, 0x0000);
  EXPECT_EQ(s.seg[CS].base, 0u);
  EXPECT_EQ(s.rip, 0x1002u);
  EXPECT_EQ(h.reg32(RSP), 0x0100u);
  // A 16-bit IRET restores FLAGS[15:0]; AC (bit 18) stays as delivery left it.
  EXPECT_EQ(h.flags(), before & ~flag::AC);
}

TEST(RealModeInterrupt, PushesWrapAt64KWithinSs) {
  CpuHarness h(16);
  CpuState& s = h.cpu.s;
  h.mem.write(0x08 * 4, 4, 0x0000'2000);
  s.gpr[RSP] = 0x1234'0002;  // only SP counts, the upper half is kept
  h.load_asm("int 0x08");
  h.run(1);
  EXPECT_EQ(h.reg32(RSP), 0x1234'FFFCu);
  EXPECT_EQ(h.mem.read(0x0000, 2), flag::kReserved1);  // FLAGS at SP-2 = 0000
  EXPECT_EQ(h.mem.read(0xFFFE, 2), 0x0000u);           // CS
  EXPECT_EQ(h.mem.read(0xFFFC, 2), 0x1002u);           // IP
  EXPECT_EQ(s.rip, 0x2000u);
}

TEST(RealModeInterrupt, VectorBeyondIvtLimitIsGpDeliveredWithoutErrorCode) {
  CpuHarness h(16);
  CpuState& s = h.cpu.s;
  s.idtr.limit = 0x83;                    // vectors 0..0x20
  h.mem.write(13 * 4, 4, 0x0000'3000);    // #GP handler
  s.gpr[RSP] = 0x8000;
  s.rip = 0x1000;
  h.cpu.raise_software_int(0x21);
  deliver_event(h.cpu, h.cpu.pending(), 0x1002);
  EXPECT_EQ(s.rip, 0x3000u);
  EXPECT_EQ(h.reg32(RSP), 0x7FFAu);  // FLAGS, CS, IP: no error code in real mode
  EXPECT_EQ(h.mem.read(0x7FFA, 2), 0x1000u);  // the INT itself faulted
}

TEST(RealModeInterrupt, NoUsableIvtIsATripleFault) {
  CpuHarness h(16);
  h.cpu.s.idtr.limit = 0;
  h.load_asm("int 0x21");
  EXPECT_EQ(h.run(1), StopReason::Shutdown);
  EXPECT_EQ(h.cpu.stop_detail(),
            "triple fault: #GP(0x0000) while delivering #DF (the #DF came from #GP(0x0000) while delivering "
            "#GP(0x0000))");
  EXPECT_EQ(h.cpu.s.rip, 0x1000u);
}

// --- protected mode: gates ----------------------------------------------------

class ProtectedInterrupt : public PrivTest {};

TEST_F(ProtectedInterrupt, DivideErrorThroughInterruptGate) {
  CpuState& s = h.cpu.s;
  const uint32_t before = flag::kReserved1 | flag::IF | flag::TF | flag::NT | flag::CF | flag::SF;
  s.flags.set_bits(before);
  h.cpu.raise(vec::DE);
  deliver_event(h.cpu, h.cpu.pending(), 0x1234);
  EXPECT_EQ(h.cpu.stop_requested(), StopReason::None);
  EXPECT_EQ(s.rip, handler(vec::DE));
  EXPECT_EQ(s.seg[CS].selector, kCode0);
  EXPECT_EQ(esp(), CpuHarness::kStack - 12);
  EXPECT_EQ(stack32(0), 0x1234u);
  EXPECT_EQ(stack32(1), kCode0);
  EXPECT_EQ(stack32(2), before | flag::RF);  // a fault's frame holds RF = 1 (SDM vol. 3, 17.3.1.1)
  // An interrupt gate clears IF; every gate clears TF and NT.
  EXPECT_EQ(h.flags(), flag::kReserved1 | flag::CF | flag::SF);
}

TEST_F(ProtectedInterrupt, TrapGateKeepsIf) {
  set_idt(vec::DE, gate_descriptor(kCode0, handler(vec::DE), acc::kTrapGate32));
  CpuState& s = h.cpu.s;
  s.flags.set_bits(flag::kReserved1 | flag::IF | flag::TF);
  h.cpu.raise(vec::DE);
  deliver_event(h.cpu, h.cpu.pending(), 0x1234);
  EXPECT_EQ(s.rip, handler(vec::DE));
  EXPECT_EQ(stack32(2), flag::kReserved1 | flag::IF | flag::TF | flag::RF);  // #DE is a fault
  EXPECT_EQ(h.flags(), flag::kReserved1 | flag::IF);
}

TEST_F(ProtectedInterrupt, SixteenBitGatePushesWordsAndTruncatesTheOffset) {
  set_idt(vec::GP, gate_descriptor(kCode0, 0x0005'1230, acc::kIntGate16));
  h.cpu.s.flags.set_bits(flag::kReserved1 | flag::IF);
  h.cpu.raise(vec::GP, 0x0018);
  deliver_event(h.cpu, h.cpu.pending(), 0x0009'8765);
  EXPECT_EQ(h.cpu.s.rip, 0x1230u);
  EXPECT_EQ(esp(), CpuHarness::kStack - 8);
  EXPECT_EQ(h.mem.read(esp() + 0, 2), 0x0018u);  // error code
  EXPECT_EQ(h.mem.read(esp() + 2, 2), 0x8765u);  // IP
  EXPECT_EQ(h.mem.read(esp() + 4, 2), kCode0);
  EXPECT_EQ(h.mem.read(esp() + 6, 2), flag::kReserved1 | flag::IF);
}

TEST_F(ProtectedInterrupt, FaultInAnInstructionPushesItsAddressAndErrorCode) {
  // mov ds, ax with an index beyond the GDT: #GP(selector) from the engine.
  h.cpu.s.gpr[RAX] = 0x0103;
  h.load_asm("mov ds, ax");
  expect_fault(vec::GP);
  EXPECT_EQ(esp(), CpuHarness::kStack - 16);
  EXPECT_EQ(stack32(0), 0x0100u);  // RPL is not part of the error code
  EXPECT_EQ(stack32(1), CpuHarness::kCode);
  EXPECT_EQ(stack32(2), kCode0);
}

TEST_F(ProtectedInterrupt, RingThreeToRingZeroSwitchesToTheTssStack) {
  enter_ring3();
  CpuState& s = h.cpu.s;
  s.flags.set_bits(flag::kReserved1 | flag::IF | (3u << flag::kIoplShift));
  h.cpu.raise(vec::GP, 0x0020);
  deliver_event(h.cpu, h.cpu.pending(), 0x0000'1000);
  EXPECT_EQ(s.cpl(), 0u);
  EXPECT_EQ(s.seg[CS].selector, kCode0);
  EXPECT_EQ(s.seg[SS].selector, kData0);
  EXPECT_EQ(esp(), kKernelStack - 24);
  EXPECT_EQ(stack32(0), 0x0020u);  // error code
  EXPECT_EQ(stack32(1), 0x1000u);  // EIP
  EXPECT_EQ(stack32(2), kCode3);   // CS
  EXPECT_EQ(stack32(3), flag::kReserved1 | flag::IF | (3u << flag::kIoplShift) | flag::RF);  // a fault
  EXPECT_EQ(stack32(4), kUserStack);  // ESP
  EXPECT_EQ(stack32(5), kData3);      // SS
  EXPECT_EQ(s.seg[DS].selector, kData3);  // data segments are the handler's business
  EXPECT_EQ(h.flags(), flag::kReserved1 | (3u << flag::kIoplShift));
}

TEST_F(ProtectedInterrupt, StackSwitchSetsTheAccessedBitsOfTheNewCsAndSs) {
  set_gdt(7, segment_descriptor(0, 0xFFFFF, 0x9A));  // 0x38: code DPL 0, not accessed
  set_gdt(8, segment_descriptor(0, 0xFFFFF, 0x92));  // 0x40: data DPL 0, not accessed
  set_idt(vec::UD, gate_descriptor(0x38, handler(vec::UD), acc::kIntGate32));
  h.write32(kTss + 8, 0x40);
  enter_ring3();
  h.cpu.raise(vec::UD);
  deliver_event(h.cpu, h.cpu.pending(), 0x1000);
  EXPECT_EQ(h.cpu.s.rip, handler(vec::UD));
  EXPECT_EQ(h.mem.read(kGdt + 0x38 + 5, 1), 0x9Bu);
  EXPECT_EQ(h.mem.read(kGdt + 0x40 + 5, 1), 0x93u);
  EXPECT_EQ(h.cpu.s.seg[CS].attrs & ar::kAccessed, ar::kAccessed);
  EXPECT_EQ(h.cpu.s.seg[SS].attrs & ar::kAccessed, ar::kAccessed);
  EXPECT_EQ(h.cpu.s.seg[SS].selector, 0x40);
}

TEST_F(ProtectedInterrupt, IntNFromRingThreeThroughDpl3GateAndIretBack) {
  set_idt(0x30, gate_descriptor(kCode0, handler(0x30), acc::kIntGate32 | 0x60));
  h.mem.write(handler(0x30), 1, 0xCF);  // IRETD
  enter_ring3();
  h.cpu.s.flags.set_bits(flag::kReserved1 | flag::IF);
  h.load_asm("int 0x30\nnop");
  h.run(1);
  EXPECT_EQ(h.cpu.s.rip, handler(0x30));
  EXPECT_EQ(h.cpu.s.cpl(), 0u);
  EXPECT_EQ(esp(), kKernelStack - 20);
  EXPECT_EQ(stack32(0), CpuHarness::kCode + 2);  // INT n returns after itself
  h.run(1);                                       // IRETD to ring 3
  EXPECT_EQ(h.cpu.s.cpl(), 3u);
  EXPECT_EQ(h.cpu.s.seg[CS].selector, kCode3);
  EXPECT_EQ(h.cpu.s.seg[SS].selector, kData3);
  EXPECT_EQ(esp(), kUserStack);
  EXPECT_EQ(h.cpu.s.rip, CpuHarness::kCode + 2);
  EXPECT_EQ(h.flags(), flag::kReserved1 | flag::IF);
}

TEST_F(ProtectedInterrupt, IntNThroughAGateBelowCplIsGpWithoutExt) {
  enter_ring3();
  set_idt(13, gate_descriptor(kConf0, handler(13), acc::kIntGate32));  // #GP stays at ring 3
  software_int(0x30);
  expect_delivered(vec::GP);
  EXPECT_EQ(stack32(0), 0x30u * 8 + 2);  // IDT bit set, EXT clear
  EXPECT_EQ(stack32(1), CpuHarness::kCode);  // the INT faulted: it did not complete
  EXPECT_EQ(stack32(2), kCode3);
  EXPECT_EQ(h.cpu.s.seg[CS].selector, (kConf0 & ~3) | 3);  // conforming: runs at CPL 3
}

TEST_F(ProtectedInterrupt, ExceptionsIgnoreTheGateDpl) {
  enter_ring3();
  h.cpu.raise(vec::UD);
  deliver_event(h.cpu, h.cpu.pending(), 0x1000);  // gate DPL 0 < CPL 3: fine
  EXPECT_EQ(h.cpu.s.rip, handler(vec::UD));
  EXPECT_EQ(h.cpu.s.cpl(), 0u);
}

TEST_F(ProtectedInterrupt, Int1IsNotHeldToTheGateDpl) {
  enter_ring3();
  h.load_asm("int1");
  h.run(1);
  EXPECT_EQ(h.cpu.s.rip, handler(vec::DB));
  EXPECT_EQ(stack32(0), CpuHarness::kCode + 1);  // a trap: returns after ICEBP
}

TEST_F(ProtectedInterrupt, Int3ReturnsAfterItself) {
  set_idt(vec::BP, gate_descriptor(kCode0, handler(vec::BP), acc::kTrapGate32));
  h.load_asm("int3");
  h.run(1);
  EXPECT_EQ(h.cpu.s.rip, handler(vec::BP));
  EXPECT_EQ(stack32(0), CpuHarness::kCode + 1);
}

TEST_F(ProtectedInterrupt, IntoWithOverflowSetReturnsAfterItself) {
  h.cpu.s.flags.set(flag::OF, true);
  h.load_asm("into");
  h.run(1);
  EXPECT_EQ(h.cpu.s.rip, handler(vec::OF));
  EXPECT_EQ(stack32(0), CpuHarness::kCode + 1);
}

TEST_F(ProtectedInterrupt, IntoWithOverflowClearDoesNothing) {
  h.load_asm("into\nnop");
  h.run(1);
  EXPECT_EQ(h.cpu.s.rip, CpuHarness::kCode + 1);
  EXPECT_EQ(esp(), CpuHarness::kStack);
}

// --- protected mode: the error code of each gate check ------------------------

TEST_F(ProtectedInterrupt, VectorBeyondIdtLimitIsGpWithIdtAndExtBits) {
  h.cpu.s.idtr.limit = 0x30 * 8 - 1;  // vectors 0..0x2F
  h.cpu.raise_trap(0x30);             // not a software interrupt: EXT = 1
  deliver_event(h.cpu, h.cpu.pending(), 0x1000);
  EXPECT_EQ(h.cpu.s.rip, handler(vec::GP));
  EXPECT_EQ(stack32(0), 0x30u * 8 + 2 + 1);
}

TEST_F(ProtectedInterrupt, NotAGateIsGp) {
  set_idt(0x31, segment_descriptor(0, 0xFFFFF, acc::kData0));
  software_int(0x31);
  expect_delivered(vec::GP);
  EXPECT_EQ(stack32(0), 0x31u * 8 + 2);
}

TEST_F(ProtectedInterrupt, GateNotPresentIsNp) {
  set_idt(0x32, gate_descriptor(kCode0, handler(0x32), acc::kIntGate32 & 0x7F));
  software_int(0x32);
  expect_delivered(vec::NP);
  EXPECT_EQ(stack32(0), 0x32u * 8 + 2);
}

TEST_F(ProtectedInterrupt, BenignExceptionThenGateNotPresentIsNpWithExt) {
  set_idt(vec::UD, gate_descriptor(kCode0, handler(vec::UD), acc::kIntGate32 & 0x7F));
  h.load_asm("ud2");
  expect_fault(vec::NP);  // benign then contributory: handled serially
  EXPECT_EQ(stack32(0), vec::UD * 8u + 2 + 1);
  EXPECT_EQ(stack32(1), CpuHarness::kCode);
}

TEST_F(ProtectedInterrupt, GateCodeSelectorChecks) {
  struct Case {
    uint16_t sel;
    uint8_t vector;
    uint32_t error;
  };
  set_gdt(7, segment_descriptor(0, 0xFFFFF, acc::kCode0 & 0x7F));  // 0x38: not present
  const Case cases[] = {
      {0x0000, vec::GP, 0x0},     // null: #GP(EXT)
      {0x0003, vec::GP, 0x0},     // null with an RPL
      {0x0400, vec::GP, 0x400},   // beyond the GDT
      {kData0, vec::GP, kData0},  // not code
      {kTssSel, vec::GP, kTssSel},
      {0x0038, vec::NP, 0x38},    // not present
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.sel);
    h.cpu.s.gpr[RSP] = kKernelStack;
    h.cpu.s.seg[CS] = segment_cache(kCode0, gdt(1));
    set_idt(0x33, gate_descriptor(c.sel, handler(0x33), acc::kIntGate32));
    software_int(0x33);
    expect_delivered(c.vector);
    EXPECT_EQ(stack32(0), c.error);  // INT n: EXT clear
  }
}

TEST_F(ProtectedInterrupt, HandlerLessPrivilegedThanCplIsGp) {
  set_idt(0x34, gate_descriptor(kCode3, handler(0x34), acc::kIntGate32));
  software_int(0x34);
  expect_delivered(vec::GP);
  EXPECT_EQ(stack32(0), kCode3 & ~3u);
}

TEST_F(ProtectedInterrupt, HandlerOffsetBeyondCsLimitIsGpExt) {
  set_gdt(7, segment_descriptor(0, 0x3FFFF, acc::kCode0, 0x4));  // 0x38: byte-granular, limit 256 KiB - 1
  set_idt(vec::UD, gate_descriptor(0x38, 0x40000, acc::kIntGate32));
  h.cpu.raise(vec::UD);
  deliver_event(h.cpu, h.cpu.pending(), 0x1000);
  EXPECT_EQ(h.cpu.s.rip, handler(vec::GP));
  EXPECT_EQ(stack32(0), 1u);  // #GP(EXT): null selector, EXT set
  EXPECT_EQ(stack32(1), 0x1000u);
}

TEST_F(ProtectedInterrupt, Virtual8086ModeStopsAsUnsupported) {
  h.cpu.s.flags.set(flag::VM, true);
  h.cpu.raise(vec::GP, 0);
  deliver_event(h.cpu, h.cpu.pending(), 0x1000);
  EXPECT_EQ(h.cpu.stop_requested(), StopReason::Unsupported);
  EXPECT_EQ(h.cpu.stop_detail(),
            "cannot deliver #GP(0x0000) from virtual-8086 mode yet (it comes with the next issue)");
}

// --- stack switch failures: #TS and #SS ---------------------------------------
// The #TS, #SS and #PF handlers are conforming here, so they run at CPL 3 on
// the user stack and the error code can be read there.

class StackSwitch : public PrivTest {
 protected:
  StackSwitch() {
    for (uint8_t v : {vec::TS, vec::SS, vec::PF}) set_idt(v, gate_descriptor(kConf0, handler(v), acc::kIntGate32));
    set_idt(0x40, gate_descriptor(kCode0, handler(0x40), acc::kIntGate32 | 0x60));
    enter_ring3();
  }
  void expect_int40_fault(uint8_t vector, uint32_t error) {
    software_int(0x40);
    expect_delivered(vector);
    EXPECT_EQ(h.cpu.s.cpl(), 3u);
    EXPECT_EQ(esp(), kUserStack - 16);
    EXPECT_EQ(stack32(0), error);
    EXPECT_EQ(stack32(1), CpuHarness::kCode);
  }
};

TEST_F(StackSwitch, TssTooShortIsTs) {
  h.cpu.s.tr.limit = 0x08;  // ESP0 (bytes 4..7) fits, SS0 (bytes 8..9) does not
  expect_int40_fault(vec::TS, kTssSel);
}

TEST_F(StackSwitch, TssJustLongEnoughWorks) {
  h.cpu.s.tr.limit = 0x09;
  h.load_asm("int 0x40");
  h.run(1);
  EXPECT_EQ(h.cpu.s.rip, handler(0x40));
  EXPECT_EQ(h.cpu.s.cpl(), 0u);
}

TEST_F(StackSwitch, NullSs0IsTsZero) {
  h.write32(kTss + 8, 0);
  expect_int40_fault(vec::TS, 0);
}

TEST_F(StackSwitch, Ss0ChecksAreTsWithTheSelector) {
  set_gdt(8, segment_descriptor(0, 0xFFFFF, 0x91));  // 0x40: read-only data, DPL 0
  const uint16_t bad[] = {0x0403, kData3, 0x0011 /* RPL 1 */, kCode0, 0x40};
  for (uint16_t sel : bad) {
    SCOPED_TRACE(sel);
    h.cpu.s.gpr[RSP] = kUserStack;
    h.write32(kTss + 8, sel);
    expect_int40_fault(vec::TS, sel & ~3u);
  }
}

TEST_F(StackSwitch, Ss0NotPresentIsSs) {
  set_gdt(8, segment_descriptor(0, 0xFFFFF, acc::kData0 & 0x7F));
  h.write32(kTss + 8, 0x40);
  expect_int40_fault(vec::SS, 0x40);
}

TEST_F(StackSwitch, NoRoomOnTheNewStackIsSsWithTheSelector) {
  set_gdt(8, segment_descriptor(0, 0x00FFF, acc::kData0, 0x4));  // 0x40: 4 KiB, byte-granular
  h.write32(kTss + 8, 0x40);
  h.write32(kTss + 4, 0x1010);  // 20 bytes would go to 0x0FFC..0x100F: beyond 0xFFF
  expect_int40_fault(vec::SS, 0x40);
}

TEST_F(StackSwitch, ExceptionFaultsCarryExt) {
  h.write32(kTss + 8, kData3);
  h.cpu.raise(vec::UD);  // benign: the #TS is delivered serially
  deliver_event(h.cpu, h.cpu.pending(), 0x2000);
  EXPECT_EQ(h.cpu.s.rip, handler(vec::TS));
  EXPECT_EQ(stack32(0), (kData3 & ~3u) | 1u);
  EXPECT_EQ(stack32(1), 0x2000u);
}

TEST_F(StackSwitch, PageFaultOnTheNewStackIsDeliveredSerially) {
  // Identity-map the first 4 MiB except the kernel stack's page.
  CpuState& s = h.cpu.s;
  const uint64_t pd = 0x100000, pt = 0x101000;
  h.write32(pd, pt | 0x7);
  for (uint32_t i = 0; i < 1024; ++i) h.write32(pt + 4 * i, (i << 12) | 0x7);
  h.write32(pt + 4 * ((kKernelStack - 4) >> 12), 0);
  s.cr3 = pd;
  s.cr0 |= cr0::PG;
  h.cpu.raise(vec::GP, 0);  // contributory then #PF: serial, not #DF
  deliver_event(h.cpu, h.cpu.pending(), 0x2000);
  EXPECT_EQ(h.cpu.stop_requested(), StopReason::None);
  EXPECT_EQ(s.rip, handler(vec::PF));
  EXPECT_EQ(s.cr2, kKernelStack - 4u);
  EXPECT_EQ(stack32(0), 0x2u);  // supervisor write to a not-present page
  EXPECT_EQ(stack32(1), 0x2000u);
  EXPECT_EQ(h.read32(kKernelStack - 4), 0u);  // nothing written before the fault
}

// --- double and triple faults --------------------------------------------------

TEST_F(ProtectedInterrupt, GpWhileDeliveringGpIsDoubleFault) {
  set_idt(vec::GP, gate_descriptor(kCode0, handler(vec::GP), acc::kIntGate32 & 0x7F));
  h.cpu.s.gpr[RAX] = 0x0103;
  h.load_asm("mov ds, ax");
  expect_fault(vec::DF);  // #GP, then #NP delivering it: contributory twice
  EXPECT_EQ(esp(), CpuHarness::kStack - 16);
  EXPECT_EQ(stack32(0), 0u);  // #DF's error code is always 0
  EXPECT_EQ(stack32(1), CpuHarness::kCode);
  EXPECT_EQ(stack32(2), kCode0);
}

TEST_F(ProtectedInterrupt, FaultDeliveringDoubleFaultIsTripleFault) {
  set_idt(vec::GP, gate_descriptor(kCode0, handler(vec::GP), acc::kIntGate32 & 0x7F));
  set_idt(vec::DF, gate_descriptor(kCode0, handler(vec::DF), acc::kIntGate32 & 0x7F));
  h.cpu.s.gpr[RAX] = 0x0103;
  h.load_asm("mov ds, ax");
  EXPECT_EQ(h.run(1), StopReason::Shutdown);
  EXPECT_EQ(h.cpu.stop_detail(),
            "triple fault: #NP(0x0043) while delivering #DF (the #DF came from #NP(0x006b) while delivering "
            "#GP(0x0100))");
  EXPECT_EQ(h.cpu.s.rip, CpuHarness::kCode);
  EXPECT_EQ(esp(), CpuHarness::kStack);
}

TEST_F(ProtectedInterrupt, PageFaultWhileDeliveringPageFaultIsDoubleFault) {
  CpuState& s = h.cpu.s;
  const uint64_t pd = 0x100000, pt = 0x101000;
  h.write32(pd, pt | 0x7);
  for (uint32_t i = 0; i < 1024; ++i) h.write32(pt + 4 * i, (i << 12) | 0x7);
  h.write32(pt + 4 * (kIdt >> 12), 0);  // the IDT's page is not present
  s.cr3 = pd;
  s.cr0 |= cr0::PG;
  s.cr2 = 0x1234;
  h.cpu.raise(vec::PF, 0x4);
  deliver_event(h.cpu, h.cpu.pending(), 0x2000);
  // The #DF's own IDT read faults as well: shutdown.
  EXPECT_EQ(h.cpu.stop_requested(), StopReason::Shutdown);
  EXPECT_EQ(h.cpu.stop_detail(),
            "triple fault: #PF(0x0000) while delivering #DF (the #DF came from #PF(0x0000) while delivering "
            "#PF(0x0004))");
  EXPECT_EQ(s.cr2, kIdt + 8u * vec::DF);
}

TEST_F(ProtectedInterrupt, PushesAreAllOrNothingAcrossAPageBoundary) {
  CpuState& s = h.cpu.s;
  const uint64_t pd = 0x100000, pt = 0x101000;
  h.write32(pd, pt | 0x7);
  for (uint32_t i = 0; i < 1024; ++i) h.write32(pt + 4 * i, (i << 12) | 0x7);
  h.write32(pt + 4 * 0x90, 0);  // page 0x90000 not present, 0x91000 present
  s.cr3 = pd;
  s.cr0 |= cr0::PG;
  s.gpr[RSP] = 0x91008;  // EFLAGS and CS would fit, EIP goes to 0x90FFC
  h.write32(0x91000, 0xAAAA'AAAA);
  h.write32(0x91004, 0xBBBB'BBBB);
  h.cpu.raise(vec::UD);
  deliver_event(h.cpu, h.cpu.pending(), 0x2000);
  // #UD is benign: its #PF is delivered serially, on the same stack, and
  // faults again: #PF then #PF is a #DF, which cannot be pushed either.
  EXPECT_EQ(h.cpu.stop_requested(), StopReason::Shutdown);
  EXPECT_EQ(h.cpu.stop_detail(),
            "triple fault: #PF(0x0002) while delivering #DF (the #DF came from #PF(0x0002) while delivering "
            "#PF(0x0002))");
  EXPECT_EQ(h.read32(0x91000), 0xAAAA'AAAAu);
  EXPECT_EQ(h.read32(0x91004), 0xBBBB'BBBBu);
  EXPECT_EQ(s.gpr[RSP], 0x91008u);
  EXPECT_EQ(s.cr2, 0x90FFCu);
}

TEST_F(ProtectedInterrupt, PageFaultThenContributoryIsDoubleFault) {
  set_idt(vec::PF, gate_descriptor(kCode0, handler(vec::PF), acc::kIntGate32 & 0x7F));
  h.cpu.raise(vec::PF, 0x2);
  deliver_event(h.cpu, h.cpu.pending(), 0x2000);
  EXPECT_EQ(h.cpu.s.rip, handler(vec::DF));
  EXPECT_EQ(stack32(0), 0u);
  EXPECT_EQ(stack32(1), 0x2000u);
}

TEST_F(ProtectedInterrupt, FaultWhileDeliveringIntNIsDeliveredSerially) {
  // INT n is benign: a #NP while delivering it is delivered on its own.
  set_idt(0x36, gate_descriptor(kCode0, handler(0x36), acc::kIntGate32 & 0x7F));
  set_idt(vec::NP, gate_descriptor(kCode0, handler(vec::NP), acc::kIntGate32));
  software_int(0x36);
  expect_delivered(vec::NP);
  EXPECT_EQ(stack32(0), 0x36u * 8 + 2);
}

TEST(VectorName, NamesExceptionsAndVectors) {
  EXPECT_STREQ(vector_name(0), "#DE");
  EXPECT_STREQ(vector_name(13), "#GP");
  EXPECT_STREQ(vector_name(21), "#CP");
  EXPECT_STREQ(vector_name(22), "#22");
  EXPECT_STREQ(vector_name(0x80), "INT 0x80");
}

}  // namespace vtlab::test
