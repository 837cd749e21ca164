// Event delivery in IA-32e mode (SDM vol. 3, 6.14; vol. 2, INT n): 16-byte
// IDT entries, 64-bit gates only, 64-bit handler code segments, RSP0 and
// IST stacks with a null SS, 16-byte alignment, the fixed 8-byte frame and
// the error codes of each check.
#include <gtest/gtest.h>

#include "long_mode_fixture.h"

namespace vtlab::test {

class LongModeInterrupt : public LongModeTest {};

TEST_F(LongModeInterrupt, SameLevelInterruptAlignsRspAndPushesTheFullFrame) {
  CpuState& s = h.cpu.s;
  const uint64_t before = flag::kReserved1 | flag::IF | flag::TF | flag::CF;
  s.flags.set_bits(before);
  s.gpr[RSP] = 0x50008;
  software_int(0x21, 0xFFFF'8000'0000'1002);
  EXPECT_EQ(h.cpu.stop_requested(), StopReason::None) << h.cpu.stop_detail();
  EXPECT_EQ(s.rip, handler(0x21));
  EXPECT_EQ(rsp(), 0x50000u - 40);  // aligned down to 0x50000 first
  EXPECT_EQ(stack64(0), 0xFFFF'8000'0000'1002u);
  EXPECT_EQ(stack64(1), kCode64);
  EXPECT_EQ(stack64(2), before);
  EXPECT_EQ(stack64(3), 0x50008u);  // RSP as it was, before the alignment
  EXPECT_EQ(stack64(4), kData0);
  EXPECT_EQ(s.seg[SS].selector, kData0);  // no privilege change, no IST: SS stays
  EXPECT_EQ(h.flags(), flag::kReserved1 | flag::CF);
}

TEST_F(LongModeInterrupt, RingThreeToRingZeroLoadsRsp0AndANullSs) {
  enter_ring3();
  CpuState& s = h.cpu.s;
  set_idt(0x80, gate64(kCode64, handler(0x80), 0xEF));  // trap gate, DPL 3
  s.flags.set_bits(flag::kReserved1 | flag::IF);
  s.gpr[RSP] = 0x7'0123;
  software_int(0x80, 0x40'1000);
  EXPECT_EQ(s.cpl(), 0u);
  EXPECT_EQ(s.seg[CS].selector, kCode64);
  EXPECT_TRUE(s.seg[CS].attrs & ar::kLong);
  EXPECT_EQ(s.seg[SS].selector, 0u);  // null, RPL = new CPL 0
  EXPECT_FALSE(s.seg[SS].present());
  EXPECT_EQ(rsp(), kKernelStack - 40);
  EXPECT_EQ(stack64(0), 0x40'1000u);
  EXPECT_EQ(stack64(1), kCode64User);
  EXPECT_EQ(stack64(2), flag::kReserved1 | flag::IF);
  EXPECT_EQ(stack64(3), 0x7'0123u);
  EXPECT_EQ(stack64(4), kData3);
  EXPECT_EQ(h.flags(), flag::kReserved1 | flag::IF);  // a trap gate keeps IF
}

TEST_F(LongModeInterrupt, ErrorCodeIsAQuadwordAndRingOneGetsRsp1) {
  enter_ring3();
  CpuState& s = h.cpu.s;
  set_idt(vec::GP, gate64(kCode64Ring1, handler(vec::GP), acc::kIntGate32));
  fault(vec::GP, 0x0038, 0x40'2000);
  EXPECT_EQ(s.cpl(), 1u);
  EXPECT_EQ(s.seg[SS].selector, 1u);  // null with RPL 1
  EXPECT_EQ(s.seg[CS].selector, kCode64Ring1);
  EXPECT_EQ(rsp(), kRsp1 - 48);
  EXPECT_EQ(stack64(0), 0x0038u);
  EXPECT_EQ(stack64(1), 0x40'2000u);
  EXPECT_EQ(stack64(4), kUserStack);
}

TEST_F(LongModeInterrupt, IstSwitchesStacksEvenWithoutAPrivilegeChange) {
  CpuState& s = h.cpu.s;
  set_idt(vec::DF, gate64(kCode64, handler(vec::DF), acc::kIntGate32, 1));
  s.gpr[RSP] = 0x50000;
  fault(vec::DF, 0, 0x1000);
  EXPECT_EQ(s.rip, handler(vec::DF));
  EXPECT_EQ(s.cpl(), 0u);
  EXPECT_EQ(rsp(), (kIst1 & ~0xFull) - 48);  // IST1 aligned down to 16 bytes
  EXPECT_EQ(stack64(0), 0u);                   // #DF's error code
  EXPECT_EQ(stack64(4), 0x50000u);
  EXPECT_EQ(stack64(5), kData0);
  // SDM vol. 3, 6.14.5: with the IST the new SS is forced to null.
  EXPECT_EQ(s.seg[SS].selector, 0u);
}

TEST_F(LongModeInterrupt, FromCompatibilityModeTheHandlerRunsIn64BitMode) {
  enter_ring3(/*compat=*/true);
  CpuState& s = h.cpu.s;
  EXPECT_EQ(s.code_size(), 4u);
  s.gpr[RSP] = 0x6FFF0;
  fault(vec::PF, 0x7, 0x0804'8000);
  EXPECT_EQ(s.code_size(), 8u);
  EXPECT_EQ(rsp(), kKernelStack - 48);
  EXPECT_EQ(stack64(0), 0x7u);
  EXPECT_EQ(stack64(1), 0x0804'8000u);
  EXPECT_EQ(stack64(2), kCompatUser);
  EXPECT_EQ(stack64(4), 0x6FFF0u);
  EXPECT_EQ(stack64(5), kData3);
}

// --- faults while delivering ---------------------------------------------------

// #GP's own frame after a failed delivery of INT 0x21 from CPL 0 at RSP
// 0x50000: the error code is the first quadword.
class LongModeDeliveryFault : public LongModeInterrupt {
 protected:
  uint64_t gp_error_after_int21() {
    h.cpu.s.gpr[RSP] = 0x50000;
    software_int(0x21, 0x1002);
    EXPECT_EQ(h.cpu.s.rip, handler(vec::GP));
    EXPECT_EQ(rsp(), 0x50000u - 48);
    EXPECT_EQ(stack64(1), 0x1000u) << "the INT itself faulted";
    return stack64(0);
  }
};

TEST_F(LongModeDeliveryFault, TaskGateIsGpWithTheIdtErrorCode) {
  h.mem.write(kIdt + 0x21 * 16, 8, gate_descriptor(kTssSel, 0, acc::kTaskGate));
  h.cpu.s.rip = 0x1000;
  EXPECT_EQ(gp_error_after_int21(), 0x21u * 8 + 2);
}

TEST_F(LongModeDeliveryFault, SixteenBitInterruptGateIsGpWithTheIdtErrorCode) {
  set_idt(0x21, gate64(kCode64, handler(0x21), acc::kIntGate16));
  h.cpu.s.rip = 0x1000;
  EXPECT_EQ(gp_error_after_int21(), 0x21u * 8 + 2);
}

TEST_F(LongModeDeliveryFault, EntryBeyondTheSixteenByteIdtLimit) {
  h.cpu.s.idtr.limit = 0x21 * 16 + 14;  // one byte short of entry 0x21
  h.cpu.s.rip = 0x1000;
  EXPECT_EQ(gp_error_after_int21(), 0x21u * 8 + 2);
}

TEST_F(LongModeDeliveryFault, CompatibilityModeHandlerSegmentIsGpSelector) {
  set_idt(0x21, gate64(kCompat0, handler(0x21), acc::kIntGate32));
  h.cpu.s.rip = 0x1000;
  EXPECT_EQ(gp_error_after_int21(), kCompat0);
}

TEST_F(LongModeDeliveryFault, LongAndBigHandlerSegmentIsGpSelector) {
  set_idt(0x21, gate64(kLongBig, handler(0x21), acc::kIntGate32));
  h.cpu.s.rip = 0x1000;
  EXPECT_EQ(gp_error_after_int21(), kLongBig);
}

TEST_F(LongModeDeliveryFault, NonCanonicalHandlerIsGpZeroAndCommitsNothing) {
  set_idt(0x21, gate64(kCode64, 0x0000'8000'0000'0000, acc::kIntGate32));
  h.cpu.s.rip = 0x1000;
  EXPECT_EQ(gp_error_after_int21(), 0u);
  EXPECT_EQ(stack64(4), 0x50000u);  // #GP's frame: the RSP the INT found
}

TEST_F(LongModeDeliveryFault, ExceptionsCarryExtInTheirErrorCodes) {
  // #DB is benign: the #GP is delivered serially, not as #DF.
  set_idt(vec::DB, gate64(kCompat0, handler(vec::DB), acc::kIntGate32));
  h.cpu.s.gpr[RSP] = 0x50000;
  fault(vec::DB, 0, 0x1000);
  EXPECT_EQ(h.cpu.s.rip, handler(vec::GP));
  EXPECT_EQ(stack64(0), kCompat0 + 1u);
}

TEST_F(LongModeDeliveryFault, NonCanonicalRsp0IsStackFaultOnTheIstStack) {
  enter_ring3();
  h.mem.write(kTss + 4, 8, 0x0000'8000'0000'0010);
  set_idt(vec::SS, gate64(kCode64, handler(vec::SS), acc::kIntGate32, 1));
  set_idt(0x80, gate64(kCode64, handler(0x80), 0xEE));
  h.cpu.s.rip = 0x1000;
  software_int(0x80, 0x1002);
  EXPECT_EQ(h.cpu.s.rip, handler(vec::SS));
  EXPECT_EQ(rsp(), (kIst1 & ~0xFull) - 48);
  EXPECT_EQ(stack64(0), 0u);  // #SS(0): the null new SS, no EXT for INT n
  EXPECT_EQ(stack64(1), 0x1000u);
  EXPECT_EQ(stack64(2), kCode64User);
  EXPECT_EQ(stack64(4), kUserStack);
}

TEST_F(LongModeDeliveryFault, Rsp0BeyondTheTssLimitIsInvalidTss) {
  enter_ring3();
  h.cpu.s.tr.limit = 0x0A;  // RSP0 is bytes 4..11
  h.cpu.s.rip = 0x1000;
  h.cpu.raise(vec::NP, 0x40);
  deliver(h.cpu.pending(), 0x1000);
  // #TS(TR+EXT) while delivering #NP is a double fault, and #DF needs
  // RSP0 too.
  EXPECT_EQ(h.cpu.stop_requested(), StopReason::Shutdown);
  EXPECT_EQ(h.cpu.stop_detail(),
            "triple fault: #TS(0x0029) while delivering #DF (the #DF came from #TS(0x0029) while delivering "
            "#NP(0x0040))");
}

TEST_F(LongModeDeliveryFault, NotPresentGateThenNotPresentNpGateIsDoubleFault) {
  h.mem.write(kIdt + 0x21 * 16, 8, h.mem.read(kIdt + 0x21 * 16, 8) & ~(uint64_t{0x80} << 40));
  h.mem.write(kIdt + vec::NP * 16, 8, h.mem.read(kIdt + vec::NP * 16, 8) & ~(uint64_t{0x80} << 40));
  h.cpu.s.gpr[RSP] = 0x50000;
  h.cpu.s.rip = 0x1000;
  software_int(0x21, 0x1002);
  EXPECT_EQ(h.cpu.s.rip, handler(vec::DF));
  EXPECT_EQ(stack64(0), 0u);
  EXPECT_EQ(stack64(1), 0x1000u);
}

TEST_F(LongModeDeliveryFault, SoftwareIntIsHeldToTheGateDpl) {
  enter_ring3();
  set_idt(vec::GP, gate64(kCode64, handler(vec::GP), acc::kIntGate32, 1));
  h.cpu.s.rip = 0x1000;
  software_int(0x21, 0x1002);  // the gate has DPL 0
  EXPECT_EQ(h.cpu.s.rip, handler(vec::GP));
  EXPECT_EQ(stack64(0), 0x21u * 8 + 2);  // no EXT: INT n
}

// --- through the engine ----------------------------------------------------------

TEST_F(LongModeInterrupt, IntAndIretqRoundTripAtRingThree) {
  enter_ring3();
  CpuState& s = h.cpu.s;
  set_idt(0x80, gate64(kCode64, handler(0x80), 0xEE));
  h.mem.write(handler(0x80), 2, 0xCF48);  // iretq
  s.flags.set_bits(flag::kReserved1 | flag::IF | flag::ZF);
  s.gpr[RSP] = 0x6FFF8;
  h.load_asm("int 0x80\nnop");
  h.run(1);  // INT: retired and delivered
  EXPECT_EQ(s.rip, handler(0x80));
  EXPECT_EQ(s.cpl(), 0u);
  h.run(1);  // IRETQ
  EXPECT_EQ(h.cpu.stop_requested(), StopReason::None) << h.cpu.stop_detail();
  EXPECT_EQ(s.rip, CpuHarness::kCode + 2);
  EXPECT_EQ(s.cpl(), 3u);
  EXPECT_EQ(s.seg[CS].selector, kCode64User);
  EXPECT_EQ(s.seg[SS].selector, kData3);
  EXPECT_EQ(rsp(), 0x6FFF8u);
  EXPECT_EQ(h.flags(), flag::kReserved1 | flag::IF | flag::ZF);
}

}  // namespace vtlab::test
