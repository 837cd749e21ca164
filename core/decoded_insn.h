// One instruction, decoded once and executed many times.
//
// The decoder (Zydis underneath) turns raw bytes into this record; after
// that nothing looks at the bytes again.  The record carries its handler,
// chosen at decode time for the exact operand form and width, so a handler
// never re-examines the encoding (Bochs' bxInstruction_c idea).
#pragma once

#include <cstdint>

namespace vtlab {

class Cpu;
struct DecodedInsn;

// What executing one instruction did.  A handler that faults records the
// pending exception in the Cpu and returns Exception without having
// committed any architectural state.
enum class Status : uint8_t {
  Ok,         // retired
  Exception,  // a fault or trap is pending in Cpu::pending()
  Halt,       // HLT retired; the engine idles until an interrupt
  Stop,       // the machine must stop (guest exit, shutdown, unsupported)
};

using Handler = Status (*)(Cpu&, const DecodedInsn&);

enum class OpKind : uint8_t {
  None,
  Reg,      // general register; `reg` is the index (see reg8 encoding below)
  Mem,      // the instruction's memory operand (see DecodedInsn::mem)
  Imm,      // DecodedInsn::imm (second immediate: imm2)
  Sreg,     // segment register ES..GS
  Creg,     // control register CRn
  Dreg,     // debug register DRn
  Rel,      // relative branch: target = next RIP + imm
  Far,      // far pointer: selector imm2, offset imm
  St,       // x87 stack register ST(reg)
  Mmx,      // MMX register MM(reg)
  Xmm,      // SSE register XMM(reg)
};

// 8-bit register operands: 0..15 are the low bytes (AL, CL, ..., SPL, ...,
// R15B); 16..19 are AH, CH, DH, BH (only encodable without REX).
inline constexpr uint8_t kRegAH = 16;
inline constexpr uint8_t kNoReg = 0xFF;
inline constexpr uint8_t kRegRip = 0xFE;  // RIP-relative base

struct Operand {
  OpKind kind = OpKind::None;
  uint8_t size = 0;  // bytes
  uint8_t reg = kNoReg;
};

struct MemRef {
  uint8_t seg = 3;  // effective segment (override applied); SegReg value
  uint8_t base = kNoReg;
  uint8_t index = kNoReg;
  uint8_t scale_shift = 0;  // the SIB scale as a shift count (log2 of 1, 2, 4, 8)
  int64_t disp = 0;
};

namespace prefix {
inline constexpr uint8_t kRep = 1, kRepne = 2, kLock = 4, kSegOverride = 8;
}

struct DecodedInsn {
  Handler exec = nullptr;
  uint64_t imm = 0;   // first immediate, sign- or zero-extended as the encoding says
  uint16_t imm2 = 0;  // second immediate: far selector, ENTER nesting level
  uint16_t mnemonic = 0;  // ZydisMnemonic, for messages and the debugger
  uint8_t len = 0;
  uint8_t opsize = 4;    // operand-size attribute in bytes (2, 4, 8; 1 for byte forms)
  uint8_t addrsize = 4;  // address-size attribute in bytes
  uint8_t prefixes = 0;
  uint8_t cond = 0;      // condition code for Jcc/SETcc/CMOVcc/LOOPcc
  uint8_t nops = 0;      // visible operands
  uint8_t info = 0;      // InsnInfo flags (see core/isa/registry.h)
  // A CMP or TEST fused with the Jcc after it (core/isa/fusion.h): the
  // Jcc's operand size and displacement; `len` then covers both and
  // `info` and `cond` are the Jcc's.
  uint8_t jcc_opsize = 0;
  int32_t jcc_disp = 0;
  MemRef mem;
  Operand op[3];
  uint8_t jcc_len = 0;   // the fused Jcc's length
  // The instruction's own handler when a monitor replaced `exec` at decode
  // time (Monitor::on_block); nullptr otherwise.
  Handler original = nullptr;

  bool has_rep() const { return prefixes & (prefix::kRep | prefix::kRepne); }
};
// The fused-pair fields sit in what was padding: a block's records stay 72 bytes.
static_assert(sizeof(DecodedInsn) == 72);

}  // namespace vtlab
