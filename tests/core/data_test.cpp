#include <gtest/gtest.h>

#include "core/decoder.h"
#include "support/assemble.h"
#include "support/cpu_harness.h"

namespace vtlab::test {

namespace {

// The SDM's condition table (vol. 2, Jcc / SETcc / CMOVcc), by code 0..15.
bool sdm_condition(unsigned cc, uint32_t f) {
  const bool cf = f & flag::CF, pf = f & flag::PF, zf = f & flag::ZF, sf = f & flag::SF, of = f & flag::OF;
  switch (cc) {
    case 0x0: return of;              // O
    case 0x1: return !of;             // NO
    case 0x2: return cf;              // B/C/NAE
    case 0x3: return !cf;             // AE/NB/NC
    case 0x4: return zf;              // E/Z
    case 0x5: return !zf;             // NE/NZ
    case 0x6: return cf || zf;        // BE/NA
    case 0x7: return !cf && !zf;      // A/NBE
    case 0x8: return sf;              // S
    case 0x9: return !sf;             // NS
    case 0xA: return pf;              // P/PE
    case 0xB: return !pf;             // NP/PO
    case 0xC: return sf != of;        // L/NGE
    case 0xD: return sf == of;        // GE/NL
    case 0xE: return zf || sf != of;  // LE/NG
    default: return !zf && sf == of;  // G/NLE
  }
}

// 64-bit mode as far as the handlers can tell: EFER.LMA and CS.L set, no
// page tables (translation stays the identity).  Code as raw bytes.
void enter_64bit_mode(CpuHarness& h) {
  h.cpu.s.efer |= efer::LME | efer::LMA;
  h.cpu.s.seg[CS].attrs = (h.cpu.s.seg[CS].attrs | ar::kLong) & ~ar::kDb;
}

}  // namespace

TEST(Data, MovRegImmRegMem) {
  CpuHarness h;
  h.load_asm(R"(
    mov eax, 0x12345678
    mov ebx, eax
    mov dword ptr [0x20000], ebx
    mov cl, byte ptr [0x20001]
    mov ah, cl
    lea edx, [eax + ebx*2 + 8]
    mov si, 0xBEEF
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RAX), (0x12345678u & 0xFFFF00FFu) | 0x5600u);
  EXPECT_EQ(h.reg32(RBX), 0x12345678u);
  EXPECT_EQ(h.read32(0x20000), 0x12345678u);
  EXPECT_EQ(h.reg32(RCX) & 0xFF, 0x56u);
  EXPECT_EQ(h.reg32(RDX), 0x12345678u + 2 * 0x12345678u + 8);
  EXPECT_EQ(h.reg32(RSI) & 0xFFFF, 0xBEEFu);
  EXPECT_EQ(h.cpu.icount, 7u);
}

// ENDBR32/ENDBR64 are hint NOPs on a CPU without CET: they retire and
// change nothing (flags included).
TEST(Data, EndbrIsANop) {
  CpuHarness h;
  h.load_asm(R"(
    mov eax, 7
    endbr32
    endbr64
    inc eax
  )");
  h.cpu.s.flags.set_bits(flag::kReserved1 | flag::CF);
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RAX), 8u);
  EXPECT_TRUE(h.cpu.s.flags.test(flag::CF));
  EXPECT_EQ(h.cpu.icount, 4u);
}

TEST(Data, MovSixteenBitRealMode) {
  CpuHarness h(16);
  h.load_asm(R"(
    mov ax, 0x1234
    mov word ptr [0x2000], ax
    mov bx, word ptr [0x2000]
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RBX) & 0xFFFF, 0x1234u);
  EXPECT_EQ(h.mem.read(0x2000, 2), 0x1234u);
}

TEST(Data, MovzxMovsxForms) {
  CpuHarness h;
  h.mem.write(0x20000, 2, 0x8080);
  h.load_asm(R"(
    mov ecx, 0x8081F0F1
    mov edi, 0x12345678
    movzx eax, cl
    movsx ebx, cl
    movzx edx, cx
    movsx esi, cx
    movsx di, cl
    movzx ebp, byte ptr [0x20000]
    movsx ecx, word ptr [0x20000]
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RAX), 0xF1u);
  EXPECT_EQ(h.reg32(RBX), 0xFFFFFFF1u);
  EXPECT_EQ(h.reg32(RDX), 0xF0F1u);
  EXPECT_EQ(h.reg32(RSI), 0xFFFFF0F1u);
  EXPECT_EQ(h.reg32(RDI), 0x1234FFF1u);  // 16-bit destination: upper half kept
  EXPECT_EQ(h.reg32(RBP), 0x80u);
  EXPECT_EQ(h.reg32(RCX), 0xFFFF8080u);
}

TEST(Data, XchgRegistersAndMemory) {
  CpuHarness h;
  h.load_asm(R"(
    mov eax, 1
    mov ecx, 2
    xchg eax, ecx
    mov dword ptr [0x20000], 0xAABBCCDD
    mov edx, 5
    xchg [0x20000], edx
    mov ebx, 0x1234
    xchg bh, bl
    mov esi, 0x11110001
    mov edi, 0x22220002
    xchg si, di
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RAX), 2u);
  EXPECT_EQ(h.reg32(RCX), 1u);
  EXPECT_EQ(h.read32(0x20000), 5u);
  EXPECT_EQ(h.reg32(RDX), 0xAABBCCDDu);
  EXPECT_EQ(h.reg32(RBX), 0x3412u);
  EXPECT_EQ(h.reg32(RSI), 0x11110002u);
  EXPECT_EQ(h.reg32(RDI), 0x22220001u);
}

TEST(Data, XaddRegisterSetsAddFlags) {
  CpuHarness h;
  h.load_asm(R"(
    mov eax, 0xFFFFFFFF
    mov ecx, 1
    xadd eax, ecx
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RAX), 0u);
  EXPECT_EQ(h.reg32(RCX), 0xFFFFFFFFu);
  EXPECT_EQ(h.arith_flags(), flag::CF | flag::PF | flag::AF | flag::ZF);
}

TEST(Data, XaddMemoryAndSameRegister) {
  CpuHarness h;
  h.write32(0x20000, 10);
  h.load_asm(R"(
    mov edx, 7
    xadd [0x20000], edx
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.read32(0x20000), 17u);
  EXPECT_EQ(h.reg32(RDX), 10u);
  EXPECT_EQ(h.arith_flags(), flag::AF | flag::PF);  // 10 + 7 = 0x11: nibble carry, even parity

  h.load_asm(R"(
    mov eax, 3
    xadd eax, eax
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RAX), 6u);  // SRC = DEST first, then DEST = sum
}

TEST(Data, CmpxchgRegisterEqualAndDifferent) {
  CpuHarness h;
  h.load_asm(R"(
    mov eax, 5
    mov ebx, 5
    mov ecx, 9
    cmpxchg ebx, ecx
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RBX), 9u);
  EXPECT_EQ(h.reg32(RAX), 5u);
  EXPECT_EQ(h.arith_flags(), flag::ZF | flag::PF);

  h.load_asm(R"(
    mov eax, 5
    mov ebx, 7
    mov ecx, 9
    cmpxchg ebx, ecx
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RBX), 7u);
  EXPECT_EQ(h.reg32(RAX), 7u);
  EXPECT_EQ(h.arith_flags(), flag::CF | flag::AF | flag::SF);  // 5 - 7 = 0xFFFFFFFE
}

TEST(Data, CmpxchgMemory) {
  CpuHarness h;
  h.write32(0x20000, 0x33);
  h.write32(0x20004, 0x10);
  h.load_asm(R"(
    mov eax, 0x33
    mov ecx, 0x44
    cmpxchg byte ptr [0x20000], cl
    mov eax, 0x20
    mov ecx, 0x99
    cmpxchg [0x20004], ecx
  )");
  ASSERT_EQ(h.run(3), StopReason::BudgetExhausted);
  EXPECT_EQ(h.read32(0x20000), 0x44u);
  EXPECT_EQ(h.arith_flags(), flag::ZF | flag::PF);
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.read32(0x20004), 0x10u);
  EXPECT_EQ(h.reg32(RAX), 0x10u);
  EXPECT_EQ(h.arith_flags(), 0u);  // 0x20 - 0x10 = 0x10
}

// A mismatching CMPXCHG still writes its memory destination back, so on a
// read-only page it page-faults (the host does the same), and commits
// nothing: EAX keeps its value.
TEST(Data, CmpxchgMismatchStillWritesMemory) {
  CpuHarness h;
  constexpr uint64_t kPd = 0x200000, kPt = 0x201000;
  h.mem.write(kPd, 4, kPt | 0x3);  // present, writable
  for (uint32_t page = 0; page < 1024; ++page)
    h.mem.write(kPt + 4 * page, 4, (page << 12) | (page == 0x20 ? 0x1 : 0x3));  // 0x20000 read-only
  h.cpu.s.cr3 = kPd;
  h.cpu.s.cr0 |= cr0::PG | cr0::WP;
  h.cpu.paging_changed(false);
  h.write32(0x20000, 5);
  h.load_asm(R"(
    mov eax, 1
    mov ecx, 2
    cmpxchg [0x20000], ecx
  )");
  ASSERT_EQ(h.run(2), StopReason::BudgetExhausted);
  h.cpu.s.flags.set_bits(0);
  ASSERT_EQ(h.execute_one(), Status::Exception);
  EXPECT_EQ(h.cpu.pending().vector, vec::PF);
  EXPECT_EQ(h.cpu.pending().error, 0x3u);  // present, write
  EXPECT_EQ(h.cpu.s.cr2, 0x20000u);
  EXPECT_EQ(h.reg32(RAX), 1u);
  EXPECT_EQ(h.flags(), flag::kReserved1);
  EXPECT_EQ(h.read32(0x20000), 5u);
}

TEST(Data, Cmpxchg8bChangesOnlyZf) {
  CpuHarness h;
  h.mem.write(0x20000, 8, 0x1111111122222222ull);
  h.cpu.s.flags.set_bits(flag::CF | flag::SF | flag::OF);
  h.load_asm(R"(
    mov edx, 0x11111111
    mov eax, 0x22222222
    mov ecx, 0x33333333
    mov ebx, 0x44444444
    cmpxchg8b [0x20000]
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.mem.read(0x20000, 8), 0x3333333344444444ull);
  EXPECT_EQ(h.arith_flags(), flag::CF | flag::ZF | flag::SF | flag::OF);
  EXPECT_EQ(h.reg32(RDX), 0x11111111u);
  EXPECT_EQ(h.reg32(RAX), 0x22222222u);

  h.mem.write(0x20000, 8, 0x5555555566666666ull);
  h.cpu.s.flags.set_bits(flag::ZF | flag::PF | flag::AF);
  h.load_asm("cmpxchg8b [0x20000]");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.mem.read(0x20000, 8), 0x5555555566666666ull);
  EXPECT_EQ(h.reg32(RDX), 0x55555555u);
  EXPECT_EQ(h.reg32(RAX), 0x66666666u);
  EXPECT_EQ(h.arith_flags(), flag::PF | flag::AF);
}

// BSWAP r16 is undefined in the SDM; the host clears the low word.
TEST(Data, BswapDwordAndWord) {
  CpuHarness h;
  h.load_asm(R"(
    mov eax, 0x11223344
    bswap eax
    mov ebx, 0x12345678
    .byte 0x66, 0x0F, 0xCB
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RAX), 0x44332211u);
  EXPECT_EQ(h.reg32(RBX), 0x12340000u);
}

TEST(Data, CmovMovesOnlyWhenTheConditionHolds) {
  CpuHarness h;
  h.write32(0x20000, 0xAAAA5555);
  h.cpu.s.flags.set_bits(flag::ZF);
  h.load_asm(R"(
    mov eax, 1
    mov ebx, 2
    mov ecx, 0xC
    mov edx, 4
    mov esi, 0x11112222
    mov edi, 6
    cmovz eax, ecx
    cmovnz ebx, ecx
    cmovnz edx, [0x20000]
    cmovz si, cx
    cmove edi, [0x20000]
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RAX), 0xCu);
  EXPECT_EQ(h.reg32(RBX), 2u);
  EXPECT_EQ(h.reg32(RDX), 4u);
  EXPECT_EQ(h.reg32(RSI), 0x1111000Cu);
  EXPECT_EQ(h.reg32(RDI), 0xAAAA5555u);
  EXPECT_EQ(h.flags(), flag::ZF | flag::kReserved1);
}

TEST(Data, CmovReadsItsSourceEvenWhenFalse) {
  CpuHarness h;
  h.cpu.s.seg[DS].limit = 0xFFFF;
  h.cpu.s.flags.set_bits(0);
  h.cpu.s.gpr[RAX] = 0x1234;
  h.load_asm("cmovz eax, [0x20000]");
  ASSERT_EQ(h.execute_one(), Status::Exception);
  EXPECT_EQ(h.cpu.pending().vector, vec::GP);
  EXPECT_EQ(h.cpu.pending().error, 0u);
  EXPECT_EQ(h.reg32(RAX), 0x1234u);
}

// SETcc al and CMOVcc eax, ecx for all 16 conditions and every combination
// of the five status flags they test, against the SDM table.
TEST(Data, SetccAndCmovEveryCondition) {
  CpuHarness h;
  for (unsigned cc = 0; cc < 16; ++cc) {
    h.load({0x0F, uint8_t(0x90 + cc), 0xC0}, 0x2000 + cc * 0x10);  // setcc al
    h.load({0x0F, uint8_t(0x40 + cc), 0xC1}, 0x3000 + cc * 0x10);  // cmovcc eax, ecx
  }
  const uint32_t bits[] = {flag::CF, flag::PF, flag::ZF, flag::SF, flag::OF};
  for (unsigned m = 0; m < 32; ++m) {
    uint32_t f = 0;
    for (unsigned b = 0; b < 5; ++b)
      if (m & (1u << b)) f |= bits[b];
    for (unsigned cc = 0; cc < 16; ++cc) {
      const bool holds = sdm_condition(cc, f);
      h.cpu.s.flags.set_bits(f);
      h.cpu.s.gpr[RAX] = 0xFFFFFF77;
      h.cpu.s.rip = 0x2000 + cc * 0x10;
      ASSERT_EQ(h.run(1), StopReason::BudgetExhausted);
      EXPECT_EQ(h.reg32(RAX), holds ? 0xFFFFFF01u : 0xFFFFFF00u) << "setcc " << cc << " flags " << f;

      h.cpu.s.gpr[RAX] = 0xAAAA;
      h.cpu.s.gpr[RCX] = 0xCCCC;
      h.cpu.s.rip = 0x3000 + cc * 0x10;
      ASSERT_EQ(h.run(1), StopReason::BudgetExhausted);
      EXPECT_EQ(h.reg32(RAX), holds ? 0xCCCCu : 0xAAAAu) << "cmov " << cc << " flags " << f;
      EXPECT_EQ(h.arith_flags(), f);
    }
  }
}

TEST(Data, SetccToMemory) {
  CpuHarness h;
  h.write32(0x20000, 0xFFFFFFFF);
  h.cpu.s.flags.set_bits(flag::ZF);
  h.load_asm(R"(
    setz byte ptr [0x20000]
    setnz byte ptr [0x20001]
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.read32(0x20000), 0xFFFF0001u);
}

TEST(Data, XlatLooksUpAlInTheBxTable) {
  CpuHarness h;
  for (unsigned k = 0; k < 256; ++k) h.mem.write(0x20000 + k, 1, k ^ 0x5A);
  h.load_asm(R"(
    mov ebx, 0x20000
    mov eax, 0x111111F0
    xlat
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RAX), 0x111111AAu);  // AL zero-extended: 0x20000 + 0xF0
}

TEST(Data, XlatHonoursSegmentOverrideAndAddressSize) {
  CpuHarness h;
  h.cpu.s.seg[ES].base = 0x1000;
  h.mem.write(0x21010, 1, 0x99);
  h.mem.write(0x10, 1, 0x42);
  h.load_asm(R"(
    mov ebx, 0x20000
    mov eax, 0x10
    .byte 0x26
    xlat
    mov ecx, eax
    mov ebx, 0xABCDFFF0
    mov eax, 0x20
    addr16 xlat
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RCX), 0x99u);  // ES:0x20010
  EXPECT_EQ(h.reg32(RAX), 0x42u);  // DS:(0xFFF0 + 0x20) & 0xFFFF
}

TEST(Data, AccumulatorSignExtensions) {
  CpuHarness h;
  h.load_asm(R"(
    mov eax, 0x12340080
    cbw
    mov ebx, eax
    mov eax, 0x00008001
    cwde
    mov ecx, eax
    mov eax, 0x8000
    mov edx, 0x12341234
    cwd
    mov esi, edx
    mov eax, 0x80000000
    cdq
    mov edi, edx
    mov eax, 0x7FFFFFFF
    cdq
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RBX), 0x1234FF80u);
  EXPECT_EQ(h.reg32(RCX), 0xFFFF8001u);
  EXPECT_EQ(h.reg32(RSI), 0x1234FFFFu);
  EXPECT_EQ(h.reg32(RDI), 0xFFFFFFFFu);
  EXPECT_EQ(h.reg32(RDX), 0u);
}

// The A0-A3 moffs forms decode to a plain memory operand.
TEST(Data, MovMoffsForms) {
  ASSERT_EQ(assemble("mov eax, [0x20000]").at(0), 0xA1);
  ASSERT_EQ(assemble("mov [0x20004], al").at(0), 0xA2);
  CpuHarness h;
  h.cpu.s.seg[FS].base = 0x20000;
  h.write32(0x20000, 0xCAFEBABE);
  h.write32(0x20100, 0x600DF00D);
  h.load_asm(R"(
    mov eax, [0x20000]
    mov [0x20004], al
    mov ebx, eax
    mov eax, fs:[0x100]
  )");
  ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(h.reg32(RBX), 0xCAFEBABEu);
  EXPECT_EQ(h.read32(0x20004), 0xBEu);
  EXPECT_EQ(h.reg32(RAX), 0x600DF00Du);

  CpuHarness r(16);
  r.mem.write(0x2000, 2, 0xBEEF);
  r.load_asm("mov ax, [0x2000]");
  ASSERT_EQ(assemble("mov ax, [0x2000]", 16).at(0), 0xA1);
  ASSERT_EQ(r.run_to_end(), StopReason::BudgetExhausted);
  EXPECT_EQ(r.reg32(RAX) & 0xFFFF, 0xBEEFu);
}

// 64-bit forms whose register write-back was checked on the host: a false
// 32-bit CMOV still zero-extends its destination; a failing 32-bit CMPXCHG
// zero-extends RAX and leaves the destination register alone.
TEST(Data, SixtyFourBitRegisterWriteBack) {
  CpuHarness h;
  enter_64bit_mode(h);
  h.load({0x0F, 0x45, 0xC1});  // cmovnz eax, ecx
  h.cpu.s.flags.set_bits(flag::ZF);
  h.cpu.s.gpr[RAX] = 0xFFFFFFFF00000001ull;
  h.cpu.s.gpr[RCX] = 0x5555555500000003ull;
  ASSERT_EQ(h.execute_one(), Status::Ok);
  EXPECT_EQ(h.cpu.s.gpr[RAX], 0x1ull);

  h.load({0x0F, 0xB1, 0xCB});  // cmpxchg ebx, ecx
  h.cpu.s.gpr[RAX] = 0xAAAAAAAA00000001ull;
  h.cpu.s.gpr[RBX] = 0xDDDDDDDD00000002ull;
  ASSERT_EQ(h.execute_one(), Status::Ok);
  EXPECT_EQ(h.cpu.s.gpr[RAX], 0x2ull);
  EXPECT_EQ(h.cpu.s.gpr[RBX], 0xDDDDDDDD00000002ull);

  h.load({0x0F, 0xB1, 0xCB});  // cmpxchg ebx, ecx, equal this time
  h.cpu.s.gpr[RAX] = 0xAAAAAAAA00000002ull;
  ASSERT_EQ(h.execute_one(), Status::Ok);
  EXPECT_EQ(h.cpu.s.gpr[RAX], 0xAAAAAAAA00000002ull);
  EXPECT_EQ(h.cpu.s.gpr[RBX], 0x3ull);
}

}  // namespace vtlab::test
