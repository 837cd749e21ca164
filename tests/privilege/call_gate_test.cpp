// Far CALL and JMP through call gates (SDM vol. 2 "CALL" and "JMP"; vol. 3,
// 5.8): the stack switch with parameter copy, 16- and 32-bit gates, RETF
// imm16 back to the outer level, and the error code of every gate check.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "priv_fixture.h"

namespace vtlab::test {

namespace {

constexpr uint32_t kTarget = 0x3000;
constexpr uint16_t kGate2Params = 0x38, kGate0Params = 0x40, kGate16 = 0x48, kGateDpl0 = 0x50,
                   kGateNotPresent = 0x58, kGateToData = 0x60, kGateToConforming = 0x68, kGateNullCode = 0x70,
                   kGateToCode3 = 0x78, kGateToNotPresent = 0x80, kNotPresentCode = 0x88;

uint64_t call_gate(uint16_t sel, uint32_t offset, uint8_t access, unsigned params) {
  return gate_descriptor(sel, offset, access) | (uint64_t{params} << 32);
}

class CallGate : public PrivTest {
 protected:
  CallGate() {
    set_gdt(7, call_gate(kCode0, kTarget, 0xEC, 2));              // 32-bit, DPL 3, 2 parameters
    set_gdt(8, call_gate(kCode0, kTarget, 0xEC, 0));              // 32-bit, DPL 3, none
    set_gdt(9, call_gate(kCode0, 0x0005'3000, 0xE4, 2));          // 16-bit, DPL 3, 2 parameters
    set_gdt(10, call_gate(kCode0, kTarget, acc::kCallGate32, 0)); // DPL 0
    set_gdt(11, call_gate(kCode0, kTarget, 0x6C, 0));             // not present
    set_gdt(12, call_gate(kData0, kTarget, 0xEC, 0));
    set_gdt(13, call_gate(kConf0, kTarget, 0xEC, 0));
    set_gdt(14, call_gate(0, kTarget, 0xEC, 0));
    set_gdt(15, call_gate(kCode3, kTarget, 0xEC, 0));
    set_gdt(16, call_gate(kNotPresentCode, kTarget, 0xEC, 0));
    set_gdt(17, segment_descriptor(0, 0xFFFFF, 0x1B));           // code DPL 0, not present
  }

  // The instruction at kCode faults with `vector`; the handler (ring 0)
  // finds `error` on top of its stack.
  void expect_gate_fault(const std::string& insn, uint8_t vector, uint32_t error) {
    SCOPED_TRACE(insn);
    h.load_asm(insn);
    expect_fault(vector);
    EXPECT_EQ(stack32(0), error);
    EXPECT_EQ(stack32(1), CpuHarness::kCode);
  }
};

}  // namespace

TEST_F(CallGate, CallToRing0CopiesTwoParametersAndRetfImmReleasesThem) {
  enter_ring3();
  CpuState& s = h.cpu.s;
  s.gpr[RSP] = kUserStack - 8;
  h.write32(kUserStack - 8, 0x1111'1111);  // the first parameter, on top
  h.write32(kUserStack - 4, 0x2222'2222);
  h.load({0xCA, 0x08, 0x00}, kTarget);  // retf 8
  h.load_asm("call 0x3b:0x12345678");   // the gate decides the offset
  h.run(1);
  EXPECT_EQ(s.cpl(), 0u);
  EXPECT_EQ(s.seg[CS].selector, kCode0);
  EXPECT_EQ(s.seg[SS].selector, kData0);
  EXPECT_EQ(s.rip, kTarget);
  ASSERT_EQ(esp(), kKernelStack - 24);
  EXPECT_EQ(stack32(0), CpuHarness::kCode + 7);
  EXPECT_EQ(stack32(1), kCode3);
  EXPECT_EQ(stack32(2), 0x1111'1111u);
  EXPECT_EQ(stack32(3), 0x2222'2222u);
  EXPECT_EQ(stack32(4), kUserStack - 8);
  EXPECT_EQ(stack32(5), kData3);

  h.run(1);  // retf 8: both stacks drop the 8 bytes of parameters
  EXPECT_EQ(s.cpl(), 3u);
  EXPECT_EQ(s.seg[CS].selector, kCode3);
  EXPECT_EQ(s.seg[SS].selector, kData3);
  EXPECT_EQ(esp(), kUserStack);
  EXPECT_EQ(s.rip, CpuHarness::kCode + 7);
  EXPECT_EQ(s.seg[DS].selector, kData3);  // usable at ring 3: kept
}

TEST_F(CallGate, CallToRing0WithoutParameters) {
  enter_ring3();
  h.load_asm("call 0x43:0");
  h.run(1);
  EXPECT_EQ(h.cpu.s.cpl(), 0u);
  ASSERT_EQ(esp(), kKernelStack - 16);
  EXPECT_EQ(stack32(0), CpuHarness::kCode + 7);
  EXPECT_EQ(stack32(1), kCode3);
  EXPECT_EQ(stack32(2), kUserStack);
  EXPECT_EQ(stack32(3), kData3);
}

TEST_F(CallGate, SixteenBitGatePushesWordsAndTruncatesItsOffset) {
  enter_ring3();
  CpuState& s = h.cpu.s;
  s.gpr[RSP] = 0xEFFC;
  h.mem.write(0xEFFC, 2, 0x1111);
  h.mem.write(0xEFFE, 2, 0x2222);
  h.load({0x66, 0xCA, 0x04, 0x00}, kTarget);  // retfw 4
  h.load_asm("call 0x4b:0");
  h.run(1);
  EXPECT_EQ(s.rip, kTarget);  // 0x00053000 & 0xFFFF
  EXPECT_EQ(s.cpl(), 0u);
  ASSERT_EQ(esp(), kKernelStack - 12);
  const uint16_t expected[] = {CpuHarness::kCode + 7, kCode3, 0x1111, 0x2222, 0xEFFC, kData3};
  for (unsigned i = 0; i < 6; ++i) EXPECT_EQ(h.mem.read(esp() + 2 * i, 2), expected[i]) << i;

  h.run(1);
  EXPECT_EQ(s.cpl(), 3u);
  EXPECT_EQ(s.rip, CpuHarness::kCode + 7);
  EXPECT_EQ(esp(), 0xF000u);
}

TEST_F(CallGate, GateInTheLdt) {
  constexpr uint64_t kLdt = 0x15000;
  set_gdt(19, segment_descriptor(kLdt, 0xF, 0x82, 0));           // 0x98: the LDT
  h.mem.write(kLdt + 8, 8, call_gate(kCode0, kTarget, 0xEC, 1));  // LDT entry 1: selector 0x0F with RPL 3
  h.cpu.s.ldtr = segment_cache(0x98, gdt(19));
  enter_ring3();
  h.cpu.s.gpr[RSP] = kUserStack - 4;
  h.write32(kUserStack - 4, 0xABCD'0123);
  h.load_asm("call 0x0f:0");
  h.run(1);
  EXPECT_EQ(h.cpu.s.cpl(), 0u);
  EXPECT_EQ(h.cpu.s.rip, kTarget);
  ASSERT_EQ(esp(), kKernelStack - 20);
  EXPECT_EQ(stack32(2), 0xABCD'0123u);
  EXPECT_EQ(stack32(3), kUserStack - 4);
}

TEST_F(CallGate, CallAtTheSameLevelStaysOnTheCurrentStack) {
  h.load_asm("call 0x40:0");
  h.run(1);
  EXPECT_EQ(h.cpu.s.rip, kTarget);
  EXPECT_EQ(h.cpu.s.seg[SS].selector, kData0);
  ASSERT_EQ(esp(), CpuHarness::kStack - 8);
  EXPECT_EQ(stack32(0), CpuHarness::kCode + 7);
  EXPECT_EQ(stack32(1), kCode0);
}

TEST_F(CallGate, CallToConformingCodeKeepsCplAndStack) {
  enter_ring3();
  h.load_asm("call 0x6b:0");
  h.run(1);
  EXPECT_EQ(h.cpu.s.seg[CS].selector, kConf0 | 3);
  EXPECT_EQ(h.cpu.s.cpl(), 3u);
  EXPECT_EQ(esp(), kUserStack - 8);
  EXPECT_EQ(stack32(1), kCode3);
}

TEST_F(CallGate, JmpThroughAGateNeverChangesCpl) {
  h.load_asm("jmp 0x40:0");
  h.run(1);
  EXPECT_EQ(h.cpu.s.rip, kTarget);
  EXPECT_EQ(h.cpu.s.seg[CS].selector, kCode0);
  EXPECT_EQ(esp(), CpuHarness::kStack);

  enter_ring3();
  h.load_asm("jmp 0x6b:0");  // to conforming code: allowed, at CPL 3
  h.run(1);
  EXPECT_EQ(h.cpu.s.seg[CS].selector, kConf0 | 3);
  EXPECT_EQ(h.cpu.s.cpl(), 3u);
  EXPECT_EQ(esp(), kUserStack);

  enter_ring3();  // to non-conforming ring-0 code: a JMP cannot go there
  expect_gate_fault("jmp 0x43:0", vec::GP, kCode0);
}

TEST_F(CallGate, GateChecksFromRing3) {
  enter_ring3();
  expect_gate_fault("call 0x53:0", vec::GP, kGateDpl0);  // gate DPL 0 < CPL 3
  enter_ring3();
  expect_gate_fault("call 0x5b:0", vec::NP, kGateNotPresent);
  enter_ring3();
  expect_gate_fault("call 0x63:0", vec::GP, kData0);  // target is data
  enter_ring3();
  expect_gate_fault("call 0x73:0", vec::GP, 0);  // null code selector
  enter_ring3();
  expect_gate_fault("call 0x83:0", vec::NP, kNotPresentCode);
}

TEST_F(CallGate, GateChecksFromRing0) {
  expect_gate_fault("call 0x53:0", vec::GP, kGateDpl0 | 0);  // RPL 3 > gate DPL 0 (selector 0x53)
  h.cpu.s.gpr[RSP] = CpuHarness::kStack;
  expect_gate_fault("call 0x78:0", vec::GP, kCode3 & ~3u);  // target DPL 3 > CPL 0
  h.cpu.s.gpr[RSP] = CpuHarness::kStack;
  expect_gate_fault("jmp 0x78:0", vec::GP, kCode3 & ~3u);
}

TEST_F(CallGate, BadInnerStackInTheTssIsTs) {
  // #TS runs at CPL 3 on the user stack (conforming handler): the ring-0
  // stack is the broken thing.
  set_idt(vec::TS, gate_descriptor(kConf0, handler(vec::TS), acc::kIntGate32));
  h.write32(kTss + 8, kData3);  // SS0 with RPL 3 and DPL 3
  enter_ring3();
  expect_gate_fault("call 0x43:0", vec::TS, kData3 & ~3u);
  EXPECT_EQ(esp(), kUserStack - 16);

  h.write32(kTss + 8, 0);  // null SS0
  enter_ring3();
  expect_gate_fault("call 0x43:0", vec::TS, 0);
}

TEST_F(CallGate, NoRoomOnTheInnerStackIsSsOfTheNewSs) {
  set_idt(vec::SS, gate_descriptor(kConf0, handler(vec::SS), acc::kIntGate32));
  set_gdt(18, segment_descriptor(0x7FF00, 0x13, acc::kData0, 0x4));  // 0x90: 20 bytes, byte-granular
  h.write32(kTss + 4, 0x14);
  h.write32(kTss + 8, 0x90);
  enter_ring3();
  expect_gate_fault("call 0x3b:0", vec::SS, 0x90);  // needs 24 bytes
  EXPECT_EQ(h.read32(0x7FF00), 0u);                  // nothing written
}

}  // namespace vtlab::test
