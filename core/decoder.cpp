#include "core/decoder.h"

#include <bit>
#include <string>

#include "core/cpu_state.h"
#include "core/isa/registry.h"

namespace vtlab {

namespace {

struct RegMap {
  OpKind kind;
  uint8_t index;
};

// Zydis register -> (operand kind, our index).  GPR8 numbering follows
// DecodedInsn: low bytes 0..15, AH..BH 16..19.
RegMap map_register(ZydisRegister r) {
  if (r >= ZYDIS_REGISTER_AL && r <= ZYDIS_REGISTER_BL) return {OpKind::Reg, uint8_t(r - ZYDIS_REGISTER_AL)};
  if (r >= ZYDIS_REGISTER_AH && r <= ZYDIS_REGISTER_BH)
    return {OpKind::Reg, uint8_t(kRegAH + (r - ZYDIS_REGISTER_AH))};
  if (r >= ZYDIS_REGISTER_SPL && r <= ZYDIS_REGISTER_R15B)
    return {OpKind::Reg, uint8_t(4 + (r - ZYDIS_REGISTER_SPL))};
  if (r >= ZYDIS_REGISTER_AX && r <= ZYDIS_REGISTER_R15W) return {OpKind::Reg, uint8_t(r - ZYDIS_REGISTER_AX)};
  if (r >= ZYDIS_REGISTER_EAX && r <= ZYDIS_REGISTER_R15D)
    return {OpKind::Reg, uint8_t(r - ZYDIS_REGISTER_EAX)};
  if (r >= ZYDIS_REGISTER_RAX && r <= ZYDIS_REGISTER_R15) return {OpKind::Reg, uint8_t(r - ZYDIS_REGISTER_RAX)};
  if (r >= ZYDIS_REGISTER_ES && r <= ZYDIS_REGISTER_GS) return {OpKind::Sreg, uint8_t(r - ZYDIS_REGISTER_ES)};
  if (r >= ZYDIS_REGISTER_CR0 && r <= ZYDIS_REGISTER_CR15)
    return {OpKind::Creg, uint8_t(r - ZYDIS_REGISTER_CR0)};
  if (r >= ZYDIS_REGISTER_DR0 && r <= ZYDIS_REGISTER_DR15)
    return {OpKind::Dreg, uint8_t(r - ZYDIS_REGISTER_DR0)};
  if (r >= ZYDIS_REGISTER_ST0 && r <= ZYDIS_REGISTER_ST7) return {OpKind::St, uint8_t(r - ZYDIS_REGISTER_ST0)};
  if (r >= ZYDIS_REGISTER_MM0 && r <= ZYDIS_REGISTER_MM7) return {OpKind::Mmx, uint8_t(r - ZYDIS_REGISTER_MM0)};
  if (r >= ZYDIS_REGISTER_XMM0 && r <= ZYDIS_REGISTER_XMM15) return {OpKind::Xmm, uint8_t(r - ZYDIS_REGISTER_XMM0)};
  if (r == ZYDIS_REGISTER_IP || r == ZYDIS_REGISTER_EIP || r == ZYDIS_REGISTER_RIP) return {OpKind::Reg, kRegRip};
  return {OpKind::None, kNoReg};
}

uint8_t map_gpr(ZydisRegister r) {
  if (r == ZYDIS_REGISTER_NONE) return kNoReg;
  RegMap m = map_register(r);
  return m.kind == OpKind::Reg ? m.index : kNoReg;
}

uint8_t seg_override(ZyanU64 attrs) {
  if (attrs & ZYDIS_ATTRIB_HAS_SEGMENT_ES) return ES;
  if (attrs & ZYDIS_ATTRIB_HAS_SEGMENT_CS) return CS;
  if (attrs & ZYDIS_ATTRIB_HAS_SEGMENT_SS) return SS;
  if (attrs & ZYDIS_ATTRIB_HAS_SEGMENT_DS) return DS;
  if (attrs & ZYDIS_ATTRIB_HAS_SEGMENT_FS) return FS;
  if (attrs & ZYDIS_ATTRIB_HAS_SEGMENT_GS) return GS;
  return kNoReg;
}

// Branches, calls, returns, interrupts and system instructions end a block:
// after them the next instruction's address or the CPU mode may change.
bool category_ends_block(ZydisInstructionCategory c) {
  switch (c) {
    case ZYDIS_CATEGORY_CALL:
    case ZYDIS_CATEGORY_COND_BR:
    case ZYDIS_CATEGORY_UNCOND_BR:
    case ZYDIS_CATEGORY_RET:
    case ZYDIS_CATEGORY_INTERRUPT:
    case ZYDIS_CATEGORY_SYSTEM:
    case ZYDIS_CATEGORY_SYSCALL:
    case ZYDIS_CATEGORY_SYSRET:
      return true;
    default:
      return false;
  }
}

}  // namespace

Decoder::Decoder() {
  ZydisDecoderInit(&dec16_, ZYDIS_MACHINE_MODE_LEGACY_16, ZYDIS_STACK_WIDTH_16);
  ZydisDecoderInit(&dec32_, ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32);
  ZydisDecoderInit(&dec64_, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  // This CPU has neither BMI1 nor ABM (CPUID), so F3 0F BC/BD are BSF/BSR
  // with an ignored REP prefix, as on every processor before them; Linux
  // writes "rep; bsf" for __ffs exactly because old CPUs read it that way.
  for (ZydisDecoder* d : {&dec16_, &dec32_, &dec64_}) {
    ZydisDecoderEnableMode(d, ZYDIS_DECODER_MODE_TZCNT, ZYAN_FALSE);
    ZydisDecoderEnableMode(d, ZYDIS_DECODER_MODE_LZCNT, ZYAN_FALSE);
  }
}

DecodeStatus Decoder::decode(const uint8_t* bytes, size_t avail, unsigned code_size, DecodedInsn& out) const {
  const ZydisDecoder* d = code_size == 8 ? &dec64_ : (code_size == 4 ? &dec32_ : &dec16_);
  ZydisDecodedInstruction zi;
  ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];
  ZyanStatus st = ZydisDecoderDecodeFull(d, bytes, avail, &zi, zo);
  if (st == ZYDIS_STATUS_NO_MORE_DATA) return avail >= 15 ? DecodeStatus::Invalid : DecodeStatus::NeedMore;
  if (!ZYAN_SUCCESS(st)) return DecodeStatus::Invalid;

  out = DecodedInsn{};
  out.mnemonic = static_cast<uint16_t>(zi.mnemonic);
  out.len = zi.length;
  out.opsize = static_cast<uint8_t>(zi.operand_width / 8);
  out.addrsize = static_cast<uint8_t>(zi.address_width / 8);
  if (zi.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE)) out.prefixes |= prefix::kRep;
  if (zi.attributes & ZYDIS_ATTRIB_HAS_REPNE) out.prefixes |= prefix::kRepne;
  if (zi.attributes & ZYDIS_ATTRIB_HAS_LOCK) out.prefixes |= prefix::kLock;
  const uint8_t ovr = seg_override(zi.attributes);
  if (ovr != kNoReg) out.prefixes |= prefix::kSegOverride;

  bool have_mem = false, have_imm = false;
  out.nops = zi.operand_count_visible > 3 ? 3 : zi.operand_count_visible;
  for (unsigned i = 0; i < out.nops; ++i) {
    const ZydisDecodedOperand& o = zo[i];
    Operand& op = out.op[i];
    op.size = static_cast<uint8_t>(o.size / 8);
    switch (o.type) {
      case ZYDIS_OPERAND_TYPE_REGISTER: {
        RegMap m = map_register(o.reg.value);
        if (m.kind == OpKind::None) return DecodeStatus::Unsupported;  // AVX, mask, bound, ... registers
        op.kind = m.kind;
        op.reg = m.index;
        break;
      }
      case ZYDIS_OPERAND_TYPE_MEMORY:
        op.kind = OpKind::Mem;
        if (!have_mem) {
          have_mem = true;
          out.mem.seg = o.mem.segment >= ZYDIS_REGISTER_ES && o.mem.segment <= ZYDIS_REGISTER_GS
                            ? uint8_t(o.mem.segment - ZYDIS_REGISTER_ES)
                            : uint8_t(DS);
          out.mem.base = map_gpr(o.mem.base);
          out.mem.index = map_gpr(o.mem.index);
          out.mem.scale_shift = static_cast<uint8_t>(std::countr_zero(o.mem.scale ? o.mem.scale : 1u));
          out.mem.disp = o.mem.disp.has_displacement ? o.mem.disp.value : 0;
        }
        break;
      case ZYDIS_OPERAND_TYPE_POINTER:
        op.kind = OpKind::Far;
        out.imm = o.ptr.offset;
        out.imm2 = o.ptr.segment;
        break;
      case ZYDIS_OPERAND_TYPE_IMMEDIATE:
        op.kind = o.imm.is_relative ? OpKind::Rel : OpKind::Imm;
        if (!have_imm) {
          have_imm = true;
          out.imm = o.imm.value.u;
        } else {
          out.imm2 = static_cast<uint16_t>(o.imm.value.u);
        }
        break;
      default:
        return DecodeStatus::Unsupported;
    }
  }
  // Implicit memory operands (the source of MOVS/LODS/CMPS/OUTS, XLAT's
  // table) are DS-relative unless a prefix overrides it; stack and ES:DI
  // operands ignore mem.seg.
  if (!have_mem || zi.meta.category == ZYDIS_CATEGORY_STRINGOP) out.mem.seg = ovr != kNoReg ? ovr : uint8_t(DS);

  const isa::InsnEntry* e = isa::insn_table().find(zi.mnemonic);
  if (!e) return DecodeStatus::Unsupported;
  out.info = e->info;
  if (category_ends_block(zi.meta.category)) out.info |= isa::info::kEndsBlock;
  if (zi.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR) {
    out.info |= isa::info::kFarBranch;
    out.info &= ~isa::info::kNearBranch;
  }
  out.exec = e->bind(out, zi);
  return out.exec ? DecodeStatus::Ok : DecodeStatus::Unsupported;
}

std::string Decoder::format(const uint8_t* bytes, size_t avail, unsigned code_size, uint64_t ip, bool att,
                            unsigned* length) {
  if (length) *length = 0;
  // Decoded as decode() does (BSF, not TZCNT), so the text names what runs.
  static const Decoder decoder;
  const ZydisDecoder* d = code_size == 8 ? &decoder.dec64_ : (code_size == 4 ? &decoder.dec32_ : &decoder.dec16_);
  ZydisDecodedInstruction zi;
  ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];
  if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(d, bytes, avail, &zi, zo))) return "(bad)";
  ZydisFormatter formatter;
  ZydisFormatterInit(&formatter, att ? ZYDIS_FORMATTER_STYLE_ATT : ZYDIS_FORMATTER_STYLE_INTEL);
  char text[256];
  if (!ZYAN_SUCCESS(ZydisFormatterFormatInstruction(&formatter, &zi, zo, zi.operand_count_visible, text, sizeof text, ip,
                                                    nullptr)))
    return "(bad)";
  if (length) *length = zi.length;
  return text;
}

const char* mnemonic_name(uint16_t mnemonic) {
  const char* s = ZydisMnemonicGetString(static_cast<ZydisMnemonic>(mnemonic));
  return s ? s : "?";
}

}  // namespace vtlab
