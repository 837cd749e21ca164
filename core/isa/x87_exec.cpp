// The x87's computing instructions (SDM vol. 1, chapter 8; vol. 2, each
// instruction's page): loads, stores and constants, arithmetic, compares
// and classification, transcendentals, stack and register management.
// Each runs on the host's x87 (x87_host.h) with the guest's encoding, so
// there is one handler shape per operand form rather than one per
// instruction:
//
//   families              register/no-operand forms           memory forms
//   load/store/constants  FLD/FST/FSTP ST(i), FXCH, FCMOVcc,  FLD m32/m64/m80, FILD m16/32/64, FBLD,
//                         FLD1/FLDZ/FLDPI/FLDL2E/FLDL2T/      FST(P) m32/m64, FSTP m80, FIST(P) m16/32,
//                         FLDLG2/FLDLN2, FFREE(P), FINC/DECSTP FISTP m64, FBSTP, FISTTP m16/32/64
//   arithmetic            FADD..FDIVR(P) ST(i), FCHS, FABS,   FADD..FDIVR m32/m64, FIADD..FIDIVR m16/m32
//                         FSQRT, FRNDINT, FSCALE, FXTRACT,
//                         FPREM, FPREM1
//   compare/classify      FCOM(P), FCOMPP, FUCOM(P)(P), FTST, FCOM(P) m32/m64, FICOM(P) m16/m32
//                         FXAM, FCOMI(P), FUCOMI(P)
//   transcendental        FSIN, FCOS, FSINCOS, FPTAN, FPATAN,
//                         F2XM1, FYL2X, FYL2XP1
//
// What the guest sees around the host instruction: #NM and a pending #MF
// first; the memory operand read before anything changes (so a #PF/#GP
// leaves the FPU as it was) or, for stores, written after the host ran and
// before the FPU state is committed.  A store is suppressed, as SDM 8.5
// says for memory destinations, when it raised an unmasked IE, DE, OE or
// UE; FCMOVcc evaluates the guest's EFLAGS and runs as FCMOVE with ZF set
// to the outcome; FCOMI/FUCOMI(P) take ZF, PF and CF from the host and
// clear OF, SF and AF, also after an unmasked IE: the SDM says EFLAGS are
// then not set, but an Intel Xeon sets ZF=PF=CF=1 (unordered), measured
// with those flags clear before (X87Oracle tests compare with the host).
// FISTTP (SSE3) is modelled although vtlab's CPUID does not advertise SSE3:
// the CPU executes it regardless of CPUID, and so does vtlab.
#include "core/isa/registry.h"
#include "core/isa/x87_host.h"

namespace vtlab::isa {

namespace {

struct MemForm {
  uint8_t size = 0;  // 0: not a computing memory form (control, invalid)
  bool store = false;
};

constexpr MemForm mem_form(uint8_t opcode, uint8_t reg) {
  switch (opcode) {
    case 0xD8: return {4, false};  // FADD..FDIVR m32fp, FCOM(P) m32fp
    case 0xDA: return {4, false};  // FIADD..FIDIVR m32int, FICOM(P) m32int
    case 0xDC: return {8, false};  // the same with m64fp
    case 0xDE: return {2, false};  // the same with m16int
    case 0xD9:
      if (reg == 0) return {4, false};                // FLD m32fp
      if (reg == 2 || reg == 3) return {4, true};     // FST(P) m32fp
      return {};
    case 0xDB:
      if (reg == 0) return {4, false};                // FILD m32int
      if (reg == 1) return {4, true};                 // FISTTP m32int
      if (reg == 2 || reg == 3) return {4, true};     // FIST(P) m32int
      if (reg == 5) return {10, false};               // FLD m80fp
      if (reg == 7) return {10, true};                // FSTP m80fp
      return {};
    case 0xDD:
      if (reg == 0) return {8, false};                // FLD m64fp
      if (reg == 1) return {8, true};                 // FISTTP m64int
      if (reg == 2 || reg == 3) return {8, true};     // FST(P) m64fp
      return {};
    case 0xDF:
      if (reg == 0) return {2, false};                // FILD m16int
      if (reg == 1) return {2, true};                 // FISTTP m16int
      if (reg == 2 || reg == 3) return {2, true};     // FIST(P) m16int
      if (reg == 4) return {10, false};               // FBLD m80bcd
      if (reg == 5) return {8, false};                // FILD m64int
      if (reg == 6) return {10, true};                // FBSTP m80bcd
      if (reg == 7) return {8, true};                 // FISTP m64int
      return {};
    default: return {};
  }
}

// Register forms handled elsewhere: FNCLEX, FNINIT (DB E2/E3) and FNSTSW AX
// (DF E0) are control instructions (x87_control.cpp).
constexpr bool computing_reg_form(uint8_t opcode, uint8_t modrm) {
  return !(opcode == 0xDB && (modrm == 0xE2 || modrm == 0xE3)) && !(opcode == 0xDF && modrm == 0xE0);
}

constexpr bool is_fcmov(uint8_t opcode, uint8_t modrm) { return (opcode == 0xDA || opcode == 0xDB) && modrm < 0xE0; }
constexpr bool is_fcomi(uint8_t opcode, uint8_t modrm) {
  return (opcode == 0xDB || opcode == 0xDF) && modrm >= 0xE8 && modrm < 0xF8;
}

// FCMOVB, FCMOVE, FCMOVBE, FCMOVU (DA /0-/3) as condition codes; DB negates.
constexpr uint8_t kFcmovCond[4] = {0x2, 0x4, 0x6, 0xA};

template <uint8_t Opcode, uint8_t ModRM> Status reg_form(Cpu& cpu, const DecodedInsn& i) {
  TRY(x87_wait_check(cpu));
  X87State& f = cpu.s.fpu;
  HostRun h;
  to_host(f, h);
  if constexpr (is_fcmov(Opcode, ModRM)) {
    const bool holds = cpu.s.flags.cond(kFcmovCond[(ModRM >> 3) & 3]);
    h.cond = (Opcode == 0xDB) != holds;
    run_on_host<0xDA, static_cast<uint8_t>(0xC8 | (ModRM & 7))>(h);
  } else {
    run_on_host<Opcode, ModRM>(h);
  }
  if constexpr (is_fcomi(Opcode, ModRM))
    cpu.s.flags.set_arith((h.zf ? flag::ZF : 0) | (h.pf ? flag::PF : 0) | (h.cf ? flag::CF : 0));
  from_host(f, h);
  x87_note_instruction(cpu, i, false);
  return Status::Ok;
}

template <uint8_t Opcode, uint8_t Reg> Status mem_form(Cpu& cpu, const DecodedInsn& i) {
  constexpr MemForm form = mem_form(Opcode, Reg);
  TRY(x87_wait_check(cpu));
  X87State& f = cpu.s.fpu;
  const uint64_t offset = effective_address(cpu, i);
  HostRun h;
  to_host(f, h);
  if constexpr (!form.store) TRY(x87_read_bytes(cpu, i.mem.seg, offset, form.size, 8, h.mem));
  run_on_host_mem<Opcode, Reg>(h);
  if constexpr (form.store) {
    if (!(unmasked_raised(f, h) & (fsw::IE | fsw::DE | fsw::OE | fsw::UE)))
      TRY(x87_write_bytes(cpu, i.mem.seg, offset, form.size, 8, h.mem));
  }
  from_host(f, h);
  x87_note_instruction(cpu, i, true);
  return Status::Ok;
}

template <size_t K> constexpr Handler reg_entry() {
  constexpr uint8_t opcode = static_cast<uint8_t>(0xD8 + K / 64), modrm = static_cast<uint8_t>(0xC0 + K % 64);
  if constexpr (computing_reg_form(opcode, modrm)) return &reg_form<opcode, modrm>;
  else return nullptr;
}
template <size_t K> constexpr Handler mem_entry() {
  constexpr uint8_t opcode = static_cast<uint8_t>(0xD8 + K / 8), reg = static_cast<uint8_t>(K % 8);
  if constexpr (mem_form(opcode, reg).size != 0) return &mem_form<opcode, reg>;
  else return nullptr;
}
template <size_t... K> constexpr std::array<Handler, sizeof...(K)> reg_table(std::index_sequence<K...>) {
  return {reg_entry<K>()...};
}
template <size_t... K> constexpr std::array<Handler, sizeof...(K)> mem_table(std::index_sequence<K...>) {
  return {mem_entry<K>()...};
}
constexpr auto kRegForms = reg_table(std::make_index_sequence<512>{});
constexpr auto kMemForms = mem_table(std::make_index_sequence<64>{});

// One binder for every computing mnemonic: the encoding picks the form.
Handler bind_x87(DecodedInsn& i, const ZydisDecodedInstruction& zi) {
  if (zi.opcode_map != ZYDIS_OPCODE_MAP_DEFAULT || zi.opcode < 0xD8 || zi.opcode > 0xDF) return nullptr;
  const uint8_t modrm = static_cast<uint8_t>((zi.raw.modrm.mod << 6) | (zi.raw.modrm.reg << 3) | zi.raw.modrm.rm);
  i.imm = (uint64_t{zi.opcode & 7u} << 8) | modrm;  // FOP (x87_note_instruction)
  const unsigned row = zi.opcode - 0xD8;
  if (zi.raw.modrm.mod == 3) return kRegForms[row * 64 + (modrm & 0x3F)];
  return kMemForms[row * 8 + zi.raw.modrm.reg];
}

constexpr ZydisMnemonic kComputing[] = {
    // load, store, constants, stack and register management
    ZYDIS_MNEMONIC_FLD, ZYDIS_MNEMONIC_FST, ZYDIS_MNEMONIC_FSTP, ZYDIS_MNEMONIC_FSTPNCE, ZYDIS_MNEMONIC_FILD,
    ZYDIS_MNEMONIC_FIST, ZYDIS_MNEMONIC_FISTP, ZYDIS_MNEMONIC_FISTTP, ZYDIS_MNEMONIC_FBLD, ZYDIS_MNEMONIC_FBSTP, ZYDIS_MNEMONIC_FXCH,
    ZYDIS_MNEMONIC_FCMOVB, ZYDIS_MNEMONIC_FCMOVE, ZYDIS_MNEMONIC_FCMOVBE, ZYDIS_MNEMONIC_FCMOVU,
    ZYDIS_MNEMONIC_FCMOVNB, ZYDIS_MNEMONIC_FCMOVNE, ZYDIS_MNEMONIC_FCMOVNBE, ZYDIS_MNEMONIC_FCMOVNU,
    ZYDIS_MNEMONIC_FLD1, ZYDIS_MNEMONIC_FLDZ, ZYDIS_MNEMONIC_FLDPI, ZYDIS_MNEMONIC_FLDL2E, ZYDIS_MNEMONIC_FLDL2T,
    ZYDIS_MNEMONIC_FLDLG2, ZYDIS_MNEMONIC_FLDLN2, ZYDIS_MNEMONIC_FFREE, ZYDIS_MNEMONIC_FFREEP,
    ZYDIS_MNEMONIC_FINCSTP, ZYDIS_MNEMONIC_FDECSTP, ZYDIS_MNEMONIC_FNOP, ZYDIS_MNEMONIC_FENI8087_NOP,
    ZYDIS_MNEMONIC_FDISI8087_NOP, ZYDIS_MNEMONIC_FSETPM287_NOP,
    // arithmetic
    ZYDIS_MNEMONIC_FADD, ZYDIS_MNEMONIC_FADDP, ZYDIS_MNEMONIC_FIADD, ZYDIS_MNEMONIC_FSUB, ZYDIS_MNEMONIC_FSUBP,
    ZYDIS_MNEMONIC_FISUB, ZYDIS_MNEMONIC_FSUBR, ZYDIS_MNEMONIC_FSUBRP, ZYDIS_MNEMONIC_FISUBR, ZYDIS_MNEMONIC_FMUL,
    ZYDIS_MNEMONIC_FMULP, ZYDIS_MNEMONIC_FIMUL, ZYDIS_MNEMONIC_FDIV, ZYDIS_MNEMONIC_FDIVP, ZYDIS_MNEMONIC_FIDIV,
    ZYDIS_MNEMONIC_FDIVR, ZYDIS_MNEMONIC_FDIVRP, ZYDIS_MNEMONIC_FIDIVR, ZYDIS_MNEMONIC_FCHS, ZYDIS_MNEMONIC_FABS,
    ZYDIS_MNEMONIC_FSQRT, ZYDIS_MNEMONIC_FRNDINT, ZYDIS_MNEMONIC_FSCALE, ZYDIS_MNEMONIC_FXTRACT,
    ZYDIS_MNEMONIC_FPREM, ZYDIS_MNEMONIC_FPREM1,
    // compare and classify
    ZYDIS_MNEMONIC_FCOM, ZYDIS_MNEMONIC_FCOMP, ZYDIS_MNEMONIC_FCOMPP, ZYDIS_MNEMONIC_FUCOM, ZYDIS_MNEMONIC_FUCOMP,
    ZYDIS_MNEMONIC_FUCOMPP, ZYDIS_MNEMONIC_FICOM, ZYDIS_MNEMONIC_FICOMP, ZYDIS_MNEMONIC_FTST, ZYDIS_MNEMONIC_FXAM,
    ZYDIS_MNEMONIC_FCOMI, ZYDIS_MNEMONIC_FCOMIP, ZYDIS_MNEMONIC_FUCOMI, ZYDIS_MNEMONIC_FUCOMIP,
    // transcendental
    ZYDIS_MNEMONIC_FSIN, ZYDIS_MNEMONIC_FCOS, ZYDIS_MNEMONIC_FSINCOS, ZYDIS_MNEMONIC_FPTAN, ZYDIS_MNEMONIC_FPATAN,
    ZYDIS_MNEMONIC_F2XM1, ZYDIS_MNEMONIC_FYL2X, ZYDIS_MNEMONIC_FYL2XP1};

}  // namespace

void register_x87_computing(InsnTable& t) {
  for (ZydisMnemonic m : kComputing) t.add(m, bind_x87);
}

}  // namespace vtlab::isa
