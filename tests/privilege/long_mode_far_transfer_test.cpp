// Far JMP, CALL and RET in IA-32e mode (SDM vol. 2, JMP / CALL / RET with
// IA32_EFER.LMA = 1; vol. 3, 5.8.3.1 and 5.8.5.1): the m16:64 forms, 64-bit
// and compatibility-mode targets, L=1 with D=1 refused, no task switches,
// and 16-byte 64-bit call gates with their 8-byte frames and null SS.
#include <gtest/gtest.h>

#include <vector>

#include "long_mode_fixture.h"

namespace vtlab::test {

namespace {
// Hand-encoded, as the assembler spells m16:64 operands differently.
const std::vector<uint8_t> kJmpFarRbx64 = {0x48, 0xFF, 0x2B};   // REX.W jmp far [rbx]
const std::vector<uint8_t> kJmpFarRbx32 = {0xFF, 0x2B};         // jmp far [rbx] (m16:32)
const std::vector<uint8_t> kCallFarRbx64 = {0x48, 0xFF, 0x1B};  // REX.W call far [rbx]
const std::vector<uint8_t> kCallFarRbx32 = {0xFF, 0x1B};        // call far [rbx] (m16:32)
const std::vector<uint8_t> kRetfq = {0x48, 0xCB};
const std::vector<uint8_t> kRetf = {0xCB};
}  // namespace

class LongModeFarTransfer : public LongModeTest {
 protected:
  static constexpr uint64_t kPointer = 0x20000, kFrame = 0x50000;
  static constexpr uint16_t kGateSel = 0x60;  // GDT entries 12 and 13

  // Runs `code` at kCode with RBX at a far pointer (offset of `width`
  // bytes, then the selector).
  Status far_via_pointer(const std::vector<uint8_t>& code, uint64_t offset, uint16_t sel, unsigned width = 8) {
    h.mem.write(kPointer, width, offset);
    h.mem.write(kPointer + width, 2, sel);
    h.cpu.s.gpr[RBX] = kPointer;
    h.load(code);
    return h.execute_one();
  }
  void expect_fault(Status st, uint8_t vector, uint32_t error) {
    ASSERT_EQ(st, Status::Exception);
    EXPECT_EQ(h.cpu.pending().vector, vector);
    EXPECT_EQ(h.cpu.pending().error, error);
  }
  // A 64-bit call gate (type C) with access byte `access` to sel:offset.
  void set_call_gate(uint16_t sel, uint64_t offset, uint8_t access = 0xEC, uint64_t upper_extra = 0) {
    set_gdt16(kGateSel >> 3, Wide{gate_descriptor(sel, static_cast<uint32_t>(offset), access),
                                  (offset >> 32) | upper_extra});
  }
};

TEST_F(LongModeFarTransfer, JmpM16_64ToA64BitSegment) {
  ASSERT_EQ(far_via_pointer(kJmpFarRbx64, 0xFFFF'8000'0000'4000, kCode64), Status::Ok);
  EXPECT_EQ(h.cpu.s.rip, 0xFFFF'8000'0000'4000u);
  EXPECT_EQ(h.cpu.s.seg[CS].selector, kCode64);
}

TEST_F(LongModeFarTransfer, JmpM16_32ToCompatibilityMode) {
  ASSERT_EQ(far_via_pointer(kJmpFarRbx32, 0x3000, kCompat0, 4), Status::Ok);
  EXPECT_EQ(h.cpu.s.rip, 0x3000u);
  EXPECT_EQ(h.cpu.s.code_size(), 4u);
}

TEST_F(LongModeFarTransfer, NonCanonicalTargetIsGpZero) {
  expect_fault(far_via_pointer(kJmpFarRbx64, 0x0000'8000'0000'0000, kCode64), vec::GP, 0);
  EXPECT_EQ(h.cpu.s.rip, CpuHarness::kCode);
}

TEST_F(LongModeFarTransfer, CompatibilityTargetBeyondFourGigabytesIsGpZero) {
  expect_fault(far_via_pointer(kJmpFarRbx64, 0x1'0000'0000, kCompat0), vec::GP, 0);
}

TEST_F(LongModeFarTransfer, LongAndBigCodeSegmentIsGpSelector) {
  expect_fault(far_via_pointer(kJmpFarRbx64, 0x3000, kLongBig), vec::GP, kLongBig);
}

TEST_F(LongModeFarTransfer, TssAndTaskGateAreGpSelector) {
  expect_fault(far_via_pointer(kJmpFarRbx64, 0, kTssSel), vec::GP, kTssSel);
  set_gdt(12, gate_descriptor(kTssSel, 0, acc::kTaskGate));
  expect_fault(far_via_pointer(kCallFarRbx64, 0, kGateSel), vec::GP, kGateSel);
}

TEST_F(LongModeFarTransfer, CallM16_64PushesQuadwordsAndRetfqReturns) {
  h.cpu.s.gpr[RSP] = kFrame;
  h.mem.write_bytes(0x3000, kRetfq.data(), kRetfq.size());
  ASSERT_EQ(far_via_pointer(kCallFarRbx64, 0x3000, kConforming64), Status::Ok);
  EXPECT_EQ(h.cpu.s.rip, 0x3000u);
  EXPECT_EQ(h.cpu.s.seg[CS].selector, kConforming64);  // RPL = CPL 0
  EXPECT_EQ(rsp(), kFrame - 16);
  EXPECT_EQ(stack64(0), CpuHarness::kCode + 3);
  EXPECT_EQ(stack64(1), kCode64);
  ASSERT_EQ(h.execute_one(), Status::Ok);
  EXPECT_EQ(h.cpu.s.rip, CpuHarness::kCode + 3);
  EXPECT_EQ(h.cpu.s.seg[CS].selector, kCode64);
  EXPECT_EQ(rsp(), kFrame);
}

TEST_F(LongModeFarTransfer, RetfqToRingOneMayLoadANullSs) {
  put_frame(kFrame, {0x4000, kCode64Ring1, 0x6C000, 1});
  h.cpu.s.gpr[RSP] = kFrame;
  h.load(kRetfq);
  ASSERT_EQ(h.execute_one(), Status::Ok);
  EXPECT_EQ(h.cpu.s.cpl(), 1u);
  EXPECT_EQ(h.cpu.s.seg[SS].selector, 1u);
  EXPECT_EQ(rsp(), 0x6C000u);
  EXPECT_EQ(h.cpu.s.rip, 0x4000u);
}

TEST_F(LongModeFarTransfer, RetfqToRingThreeWithANullSsIsGpZero) {
  put_frame(kFrame, {0x4000, kCode64User, 0x6C000, 3});
  h.cpu.s.gpr[RSP] = kFrame;
  h.load(kRetfq);
  expect_fault(h.execute_one(), vec::GP, 0);
  EXPECT_EQ(h.cpu.s.cpl(), 0u);
}

TEST_F(LongModeFarTransfer, RetfToCompatibilityModeAtRingThree) {
  for (uint32_t i = 0; uint32_t v : {0x0804'8000u, uint32_t{kCompatUser}, 0xBFFF'0000u, uint32_t{kData3}})
    h.mem.write(kFrame + 4 * i++, 4, v);
  h.cpu.s.gpr[RSP] = kFrame;
  h.load(kRetf);
  ASSERT_EQ(h.execute_one(), Status::Ok);
  EXPECT_EQ(h.cpu.s.cpl(), 3u);
  EXPECT_EQ(h.cpu.s.code_size(), 4u);
  EXPECT_EQ(h.cpu.s.rip, 0x0804'8000u);
  EXPECT_EQ(rsp(), 0xBFFF'0000u);
}

// --- 64-bit call gates ----------------------------------------------------------

TEST_F(LongModeFarTransfer, CallGateFromRingThreeLoadsRsp0AndANullSs) {
  enter_ring3();
  set_call_gate(kCode64, 0xFFFF'8000'0000'5000);
  h.cpu.s.gpr[RSP] = 0x6FF08;
  ASSERT_EQ(far_via_pointer(kCallFarRbx32, 0xDEAD, kGateSel | 3, 4), Status::Ok);
  EXPECT_EQ(h.cpu.s.cpl(), 0u);
  EXPECT_EQ(h.cpu.s.rip, 0xFFFF'8000'0000'5000u);
  EXPECT_EQ(h.cpu.s.seg[CS].selector, kCode64);
  EXPECT_EQ(h.cpu.s.seg[SS].selector, 0u);
  EXPECT_EQ(rsp(), kKernelStack - 32);  // no alignment for call gates
  EXPECT_EQ(stack64(0), CpuHarness::kCode + 2);
  EXPECT_EQ(stack64(1), kCode64User);
  EXPECT_EQ(stack64(2), 0x6FF08u);
  EXPECT_EQ(stack64(3), kData3);
}

TEST_F(LongModeFarTransfer, SameLevelCallGateFromCompatibilityModePushesQuadwords) {
  h.cpu.s.seg[CS] = segment_cache(kCompat0, gdt(7));
  set_call_gate(kCode64, 0x5000, 0x8C);
  h.cpu.s.gpr[RSP] = kFrame;
  ASSERT_EQ(far_via_pointer(kCallFarRbx32, 0, kGateSel, 4), Status::Ok);
  EXPECT_EQ(h.cpu.s.code_size(), 8u);
  EXPECT_EQ(rsp(), kFrame - 16);
  EXPECT_EQ(stack64(0), CpuHarness::kCode + 2);
  EXPECT_EQ(stack64(1), kCompat0);
  EXPECT_EQ(h.cpu.s.seg[SS].selector, kData0);
}

TEST_F(LongModeFarTransfer, JmpThroughACallGateKeepsTheStack) {
  set_call_gate(kCode64, 0x1'2345'6000, 0x8C);
  h.cpu.s.gpr[RSP] = kFrame;
  ASSERT_EQ(far_via_pointer(kJmpFarRbx64, 0, kGateSel), Status::Ok);
  EXPECT_EQ(h.cpu.s.rip, 0x1'2345'6000u);
  EXPECT_EQ(rsp(), kFrame);
}

TEST_F(LongModeFarTransfer, UpperHalfWithANonZeroTypeIsGpGate) {
  set_call_gate(kCode64, 0x5000, 0x8C, uint64_t{0x0C} << 40);
  expect_fault(far_via_pointer(kCallFarRbx64, 0, kGateSel), vec::GP, kGateSel);
}

TEST_F(LongModeFarTransfer, UpperHalfBeyondTheGdtLimitIsGpGate) {
  set_call_gate(kCode64, 0x5000, 0x8C);
  h.cpu.s.gdtr.limit = 13 * 8 - 1;  // the gate's lower half fits, its upper does not
  expect_fault(far_via_pointer(kCallFarRbx64, 0, kGateSel), vec::GP, kGateSel);
}

TEST_F(LongModeFarTransfer, CallGateToCompatibilityCodeIsGpCodeSelector) {
  set_call_gate(kCompat0, 0x5000, 0x8C);
  expect_fault(far_via_pointer(kCallFarRbx64, 0, kGateSel), vec::GP, kCompat0);
}

TEST_F(LongModeFarTransfer, SixteenBitCallGateIsGpGate) {
  set_gdt16(kGateSel >> 3, Wide{gate_descriptor(kCode64, 0x5000, 0x84), 0});
  expect_fault(far_via_pointer(kCallFarRbx64, 0, kGateSel), vec::GP, kGateSel);
}

TEST_F(LongModeFarTransfer, NonCanonicalGateOffsetIsGpZero) {
  set_call_gate(kCode64, 0x0000'8000'0000'0000, 0x8C);
  h.cpu.s.gpr[RSP] = kFrame;
  expect_fault(far_via_pointer(kCallFarRbx64, 0, kGateSel), vec::GP, 0);
  EXPECT_EQ(rsp(), kFrame);
}

}  // namespace vtlab::test
