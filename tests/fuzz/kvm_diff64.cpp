// Differential test of the interpreter against the silicon: a random
// sequence of one to three instructions in 64-bit mode at CPL 3, from
// random RAX..R15 (RBX points at a data page), random data and random
// arithmetic flags (DF, AC and TF at times), then UD2.  The forms are
// integer ALU ones in 8-, 16-, 32- or 64-bit operand size with register
// or memory ([RBX + disp8]) operands (ALU, shifts and rotates, multiply
// and divide, bit scans and tests, SHLD/SHRD, CMOVcc, SETcc, XADD,
// CMPXCHG, MOVSXD, BSWAP, IMUL imm8, CBW/CWDE/CDQE, CWD/CDQ/CQO), and the
// string, stack, control-transfer and faulting snippets of
// kvm_snippets64.cpp, and the x87, MMX, SSE and SSE2 forms of
// kvm_simd64.cpp, from a random x87/SSE state.  In a KVM guest the code runs natively (this host's
// KVM runs long-mode CPL 3 code on the CPU itself; docs/FUZZING.md); the
// first exception (the UD2's #UD, or an earlier fault or trap) is delivered
// through the guest's IDT to vector v's ring-0 HLT.  vtlab's interpreter
// runs the same code from the same state to the same kind of HLT.
// Compared: the vector, the sixteen GPRs, the exception frame (RIP at the
// fault, CS, RFLAGS, RSP, SS, error code), CR2, the data page (which
// holds the user stack), XMM0-15, MXCSR, the x87 registers, FSW, FCW, the
// abridged tag word and FIP.  Arithmetic flags are compared undefined ones
// included: vtlab claims the silicon's values, docs/UNDEFINED_FLAGS.md.
// Prints a table per form ("/m": with the memory operand), each sequence
// counted under every form in it (diff_report.h).
//   kvm_diff64 [CASES [SEED [FORM]]]   exit 0: no mismatch, 1: some, 77: skipped
// FORM: only the snippets whose name contains it (no ALU forms), to look
// closer at one family.  With KVM_DIFF64_EVERY_CASE set, every differing
// case is printed on stderr, explained or not.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "diff_report.h"
#include "kvm_runner64.h"

namespace {

using namespace vtlab;
using namespace vtlab::kvmtest;

constexpr uint32_t kArith = flag::kArith;

// One instruction form.  `op`: opcode bytes after any 66/REX prefix.
// Encoding: TwoRegs (ModRM reg, r/m), Group (ModRM /digit, r/m),
// InOpcode (register in the opcode's low three bits, BSWAP), None.
struct Form {
  enum Enc { TwoRegs, Group, InOpcode, None };
  std::string name;
  std::vector<uint8_t> op;
  Enc enc;
  int digit;
  bool imm8;
  unsigned width;  // operand size in bits
  bool byte_form;  // 8-bit registers (op is the byte opcode)
};

std::vector<Form> forms() {
  std::vector<Form> f;
  // `op8` for the byte form (0: none), `op` for 16/32/64.
  const auto sized = [&](const std::string& name, std::vector<uint8_t> op8, std::vector<uint8_t> op, Form::Enc enc,
                         int digit, bool imm8) {
    if (!op8.empty()) f.push_back({name + "8", op8, enc, digit, imm8, 8, true});
    for (unsigned w : {16u, 32u, 64u}) f.push_back({name + std::to_string(w), op, enc, digit, imm8, w, false});
  };
  const char* alu[] = {"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"};
  for (int i = 0; i < 8; ++i) sized(alu[i], {uint8_t(i * 8)}, {uint8_t(i * 8 + 1)}, Form::TwoRegs, -1, false);
  sized("test", {0x84}, {0x85}, Form::TwoRegs, -1, false);
  const char* shifts[] = {"rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar"};
  for (int i = 0; i < 8; ++i) {
    if (i == 6) continue;
    sized(std::string(shifts[i]) + "_1_", {0xD0}, {0xD1}, Form::Group, i, false);
    sized(std::string(shifts[i]) + "_cl_", {0xD2}, {0xD3}, Form::Group, i, false);
    sized(std::string(shifts[i]) + "_imm_", {0xC0}, {0xC1}, Form::Group, i, true);
  }
  const char* unary[] = {"not", "neg", "mul", "imul1_"};
  for (int i = 2; i < 6; ++i) sized(unary[i - 2], {0xF6}, {0xF7}, Form::Group, i, false);
  sized("div", {0xF6}, {0xF7}, Form::Group, 6, false);  // #DE on a zero divisor or an overflow
  sized("idiv", {0xF6}, {0xF7}, Form::Group, 7, false);
  sized("inc", {0xFE}, {0xFF}, Form::Group, 0, false);
  sized("dec", {0xFE}, {0xFF}, Form::Group, 1, false);
  sized("xadd", {0x0F, 0xC0}, {0x0F, 0xC1}, Form::TwoRegs, -1, false);
  sized("cmpxchg", {0x0F, 0xB0}, {0x0F, 0xB1}, Form::TwoRegs, -1, false);
  sized("imul2_", {}, {0x0F, 0xAF}, Form::TwoRegs, -1, false);
  sized("imul3_", {}, {0x6B}, Form::TwoRegs, -1, true);
  sized("bsf", {}, {0x0F, 0xBC}, Form::TwoRegs, -1, false);
  sized("bsr", {}, {0x0F, 0xBD}, Form::TwoRegs, -1, false);
  sized("bt", {}, {0x0F, 0xA3}, Form::TwoRegs, -1, false);
  sized("bts", {}, {0x0F, 0xAB}, Form::TwoRegs, -1, false);
  sized("btr", {}, {0x0F, 0xB3}, Form::TwoRegs, -1, false);
  sized("btc", {}, {0x0F, 0xBB}, Form::TwoRegs, -1, false);
  sized("shld_cl_", {}, {0x0F, 0xA5}, Form::TwoRegs, -1, false);
  sized("shrd_cl_", {}, {0x0F, 0xAD}, Form::TwoRegs, -1, false);
  sized("shld_imm_", {}, {0x0F, 0xA4}, Form::TwoRegs, -1, true);
  sized("shrd_imm_", {}, {0x0F, 0xAC}, Form::TwoRegs, -1, true);
  sized("cmovcc", {}, {0x0F, 0x40}, Form::TwoRegs, -1, false);  // condition chosen per case
  sized("widen", {}, {0x98}, Form::None, -1, false);             // CBW / CWDE / CDQE
  sized("signdx", {}, {0x99}, Form::None, -1, false);            // CWD / CDQ / CQO
  f.push_back({"setcc8", {0x0F, 0x90}, Form::Group, 0, false, 8, true});
  f.push_back({"movsxd64", {0x63}, Form::TwoRegs, -1, false, 64, false});
  f.push_back({"bswap32", {0x0F, 0xC8}, Form::InOpcode, -1, false, 32, false});
  f.push_back({"bswap64", {0x0F, 0xC8}, Form::InOpcode, -1, false, 64, false});
  return f;
}

// Operands weighted towards the boundaries where flag rules differ.
uint64_t operand(Rng& rng) {
  static const uint64_t edges[] = {0, 1, 2, 7, 8, 0xF, 0x10, 0x1F, 0x20, 0x3F, 0x40, 0x7F, 0x80, 0xFF, 0x100,
                                   0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
                                   0x100000000ull, 0x7FFFFFFFFFFFFFFFull, 0x8000000000000000ull,
                                   0xFFFFFFFFFFFFFFFFull};
  switch (rng() % 4) {
    case 0: return edges[rng() % std::size(edges)];
    case 1: return rng() & 0x7F;
    case 2: return rng() & 0xFFFFFFFF;
    default: return rng();
  }
}

// Whether the form takes [RBX + disp8] in place of its r/m register.  BT*
// with a memory operand addresses by the whole bit offset (far outside the
// page), so they stay register-only.
bool memory_ok(const Form& f) {
  return (f.enc == Form::TwoRegs || f.enc == Form::Group) && !f.name.starts_with("bt") && !f.name.starts_with("movsxd");
}

// One instruction's bytes; `mem`: r/m is [RBX + disp8] inside the data page.
std::vector<uint8_t> encode(const Form& f, bool mem, Rng& rng) {
  // RSP (4) stays out: the #UD frame is what the stack is for; RBX (3)
  // too: it is the memory operands' base.
  auto reg = [&] {
    unsigned r;
    do r = rng() % 16;
    while (r == 4 || r == 3);
    return r;
  };
  const unsigned rm = reg(), r = f.enc == Form::Group ? unsigned(f.digit) : reg();
  std::vector<uint8_t> code;
  if (f.width == 16) code.push_back(0x66);
  const bool w = f.width == 64;
  const bool ext_r = f.enc == Form::TwoRegs && r >= 8, ext_b = !mem && f.enc != Form::None && rm >= 8;
  // Byte forms without REX name AH..BH for 4-7; with one, SPL..DIL.  Both
  // are worth running: a REX is added at random when none is needed.
  const bool rex = w || ext_r || ext_b || (f.byte_form && rng() % 2);
  if (rex) code.push_back(uint8_t(0x40 | w << 3 | ext_r << 2 | ext_b));
  code.insert(code.end(), f.op.begin(), f.op.end());
  if (f.name.starts_with("cmovcc") || f.name.starts_with("setcc")) code.back() |= uint8_t(rng() % 16);
  if (f.enc == Form::InOpcode) code.back() |= uint8_t(rm & 7);
  if (f.enc == Form::TwoRegs || f.enc == Form::Group) {
    if (mem) {
      code.push_back(uint8_t(0x40 | (r & 7) << 3 | RBX));  // mod 01: [RBX + disp8]
      code.push_back(uint8_t(rng() % 120));  // disp8 is signed: 0-119 keeps an 8-byte access in the page
    } else {
      unsigned modrm_rm = rm & 7;
      // Without REX, byte register 4 is AH, not SPL; 3 is BL (RBX's low
      // byte, harmless to write only when it is not the base: avoid it).
      if (f.byte_form && !rex) {
        do modrm_rm = rng() % 8;
        while (modrm_rm == 3);
      }
      code.push_back(uint8_t(0xC0 | (r & 7) << 3 | modrm_rm));
    }
  }
  if (f.imm8) code.push_back(uint8_t(operand(rng)));
  return code;
}

// One line on how two outcomes differ, for the table.
std::string difference(const State& in, const Outcome& hw, const Outcome& emu) {
  std::string d;
  char buf[200];
  const auto add = [&](const char* what, uint64_t before, uint64_t cpu, uint64_t vt) {
    std::snprintf(buf, sizeof buf, " %s in=%llx cpu=%llx vtlab=%llx;", what, (unsigned long long)before,
                  (unsigned long long)cpu, (unsigned long long)vt);
    d += buf;
  };
  std::snprintf(buf, sizeof buf, "fl=%05llx fcw=%04x fsw=%04x ftw=%02x mxcsr=%04x", (unsigned long long)in.flags,
                in.fpu.fcw, in.fpu.fsw, in.fpu.ftw, unsigned(in.fpu.mxcsr));
  d += buf;
  if (hw.rip != emu.rip) add("vector", 0, hw.rip - kHandler - 1, emu.rip - kHandler - 1);
  static const char* const kNames[] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                       "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
  for (int i = 0; i < 16; ++i)
    if (hw.gpr[i] != emu.gpr[i]) add(kNames[i], in.gpr[i], hw.gpr[i], emu.gpr[i]);
  if (hw.cr2 != emu.cr2) add("cr2", 0, hw.cr2, emu.cr2);
  // The frame, top down: SS, RSP, RFLAGS, CS, RIP, error code.
  static const char* const kFrame[] = {"errcode?", "frame.rip", "frame.cs", "frame.rflags", "frame.rsp",
                                       "frame.ss"};
  for (unsigned i = 0; i < kFrameBytes / 8; ++i) {
    uint64_t a, b;
    std::memcpy(&a, hw.frame + 8 * i, 8);
    std::memcpy(&b, emu.frame + 8 * i, 8);
    if (a != b) add(kFrame[i], 0, a, b);
  }
  const FpuState &x = hw.fpu, &y = emu.fpu, &x0 = in.fpu;
  if (x.fcw != y.fcw) add("fcw", x0.fcw, x.fcw, y.fcw);
  if (x.fsw != y.fsw) add("fsw", x0.fsw, x.fsw, y.fsw);
  if (x.ftw != y.ftw) add("ftw", x0.ftw, x.ftw, y.ftw);
  if (x.mxcsr != y.mxcsr) add("mxcsr", x0.mxcsr, x.mxcsr, y.mxcsr);
  if (x.fip != y.fip) add("fip", x0.fip, x.fip, y.fip);
  const auto part = [](const uint8_t* st, unsigned offset, unsigned bytes) {
    uint64_t v = 0;
    std::memcpy(&v, st + offset, bytes);
    return v;
  };
  for (unsigned i = 0; i < 8; ++i) {
    const std::string st = "st" + std::to_string(i);
    if (part(x.st[i], 0, 8) != part(y.st[i], 0, 8))
      add((st + ".significand").c_str(), part(x0.st[i], 0, 8), part(x.st[i], 0, 8), part(y.st[i], 0, 8));
    if (part(x.st[i], 8, 2) != part(y.st[i], 8, 2))
      add((st + ".sign_exponent").c_str(), part(x0.st[i], 8, 2), part(x.st[i], 8, 2), part(y.st[i], 8, 2));
  }
  for (unsigned r = 0; r < 16; ++r)
    for (unsigned half = 0; half < 2; ++half)
      if (x.xmm[r][half] != y.xmm[r][half])
        add(("xmm" + std::to_string(r) + (half ? ".high" : ".low")).c_str(), x0.xmm[r][half], x.xmm[r][half],
            y.xmm[r][half]);
  for (uint64_t i = 0; i < kDataBytes; ++i)
    if (hw.data[i] != emu.data[i]) {
      add("data+offset", i, hw.data[i], emu.data[i]);
      break;
    }
  return d + " bytes";
}

// RFLAGS in the frame: 64-bit delivery pushes SS, RSP, RFLAGS, CS, RIP
// (and an error code) from RSP0 down, so it lies at the same place with
// or without an error code.
uint64_t frame_flags(const Outcome& o) {
  uint64_t v;
  std::memcpy(&v, o.frame + 24, 8);
  return v;
}

// Mismatches docs/FUZZING.md explains, all of them this host's KVM's
// doing; nullptr for the others.  (The exception-priority rows once here
// are measured by kvm_priority64 and fixed.)
// Physical register j of an FXSAVE-ordered state is ST((j - TOP) & 7).
const uint8_t* physical(const FpuState& f, unsigned j) { return f.st[(j - ((f.fsw >> 11) & 7)) & 7]; }

// `faulting`: the name of the instruction the frame's RIP points at ("" if
// none); `flags_before(k)`: the arithmetic flags before the sequence's
// instruction k (the interpreter run up to it).
const char* explained(const std::vector<std::string>& names, const std::string& faulting, const Outcome& hw,
                      const Outcome& emu, const std::function<uint64_t(size_t)>& flags_before) {
  const unsigned hv = outcome_vector(hw), ev = outcome_vector(emu);
  // An MMX store to memory (MOVQ m64, mm / MOVD m32, mm) that faults #AC:
  // the silicon has already set TOP to 0 (the tags stay as they were),
  // though SDM vol. 3, 6.15 says no program-state change accompanies an
  // #AC, the instruction not being executed; vtlab leaves TOP unchanged.
  FpuState top_cleared = emu.fpu;
  top_cleared.fsw &= 0xC7FF;
  for (unsigned j = 0; j < 8; ++j) std::memcpy(top_cleared.st[j], physical(emu.fpu, j), 10);
  if (hv == 17 && ev == 17 && (faulting == "movq_mmx_store/m" || faulting.starts_with("movd_g_m")) &&
      same(top_cleared, hw.fpu) && std::memcmp(hw.gpr, emu.gpr, sizeof hw.gpr) == 0 && hw.rip == emu.rip &&
      std::memcmp(hw.frame, emu.frame, kFrameBytes) == 0 && std::memcmp(hw.data, emu.data, kDataBytes) == 0)
    return "silicon: an MMX store that faults #AC has set TOP to 0 (SDM vol. 3, 6.15: no state change)";
  // The CPU raised #GP/#SS, or any fault with RSP in the hole, and KVM ran
  // the instruction again through its emulator (beyond the handler's HLT),
  // which has no #AC and checks only an access's first byte for being
  // canonical: its answer is not the silicon's (kvm_priority64 shows both).
  // The CPU's #GP(0) for a misaligned 16-byte SSE operand went to KVM's
  // emulator too, which has no SSE or MMX forms and injects #UD at the
  // instruction instead (the frame's RIP agrees): the emulator's running
  // shows the CPU raised #GP, as vtlab does.
  if (hw.emulated > 1 && hv == 6 && ev == 13)
    return "reference: the CPU's #GP(0) (misaligned SSE operand) went to KVM's instruction emulator, which has no "
           "SSE forms and injects #UD";
  // KVM's emulator refuses ENTER with a nesting level (its em_enter) and
  // answers a failed emulation of user code with #UD (seed 21: ENTER 0x1C,
  // 3 with RSP in the hole, where vtlab and the CPU fault on the push).
  if (hw.emulated > 1 && hv == 6 && ev != 6 && faulting.starts_with("enter"))
    return "reference: the CPU's fault went to KVM's instruction emulator, which cannot run ENTER with a nesting "
           "level and injects #UD";
  if (hw.emulated > 1 && hv != ev && (ev == 12 || ev == 13 || ev == 17))
    return "reference: KVM's instruction emulator ran the faulting instruction (no #AC, canonical check on the "
           "first byte only)";
  // A REP CMPS/SCAS that ran: everything agrees but the frame's arithmetic
  // flags, which KVM leaves as they were before the instruction, though the
  // registers show that its compares ran: in the #DB frame after one
  // single-stepped iteration, and (seed 1, a REPNE SCASW whose 32-bit
  // count wrapped to 2^32 - 1) after a long scan, where the flags are
  // those from before it (the case's initial ones, or an earlier
  // instruction's: seed 1, NEG then REPE CMPSQ).
  bool rep_compare = false, old_flags = hv == 1;
  for (size_t k = 0; k < names.size(); ++k) {
    if (!names[k].starts_with("repe_") && !names[k].starts_with("repne_")) continue;
    rep_compare = true;
    old_flags = old_flags || ((frame_flags(hw) ^ flags_before(k)) & kArith) == 0;
  }
  if (hv == ev && rep_compare && old_flags && std::memcmp(hw.gpr, emu.gpr, sizeof hw.gpr) == 0 &&
      std::memcmp(hw.data, emu.data, kDataBytes) == 0 && same(hw.fpu, emu.fpu) &&
      ((frame_flags(hw) ^ frame_flags(emu)) & ~uint64_t{kArith}) == 0)
    return "reference: KVM leaves a REP CMPS/SCAS's arithmetic flags as they were before it (seen in #DB frames "
           "after one single-stepped iteration, and after long scans)";
  return nullptr;
}


const char* vector_name(unsigned v) {
  static const char* const kNames[32] = {"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "9",
                                         "#TS", "#NP", "#SS", "#GP", "#PF", "15",  "#MF", "#AC", "#MC", "#XM"};
  return v < 32 && kNames[v] ? kNames[v] : "other";
}

}  // namespace

int main(int argc, char** argv) {
  const DiffArgs args = parse_diff_args(argc, argv);
  Kvm64 kvm;
  if (!kvm.setup()) return skip("kvm_diff64", kvm.why_not);
  const std::vector<Form> alu = forms();
  std::vector<Snippet> more = snippets();
  std::vector<Snippet> simd = simd_snippets();
  if (argc > 3) {
    // One family: every instruction of a sequence is one of its forms.
    std::erase_if(simd, [&](const Snippet& sn) { return sn.name.find(argv[3]) == std::string::npos; });
    std::erase_if(more, [&](const Snippet& sn) { return sn.name.find(argv[3]) == std::string::npos; });
    more.insert(more.end(), simd.begin(), simd.end());
    if (more.empty()) return std::printf("kvm_diff64: no form matches %s\n", argv[3]), 2;
    simd = more;
  }
  Rng rng(args.seed);
  DiffTable table;
  unsigned ended[32] = {};
  // KVM_DIFF64_EVERY_CASE=1: every differing case on stderr, not only
  // each form's first.
  const bool every_case = std::getenv("KVM_DIFF64_EVERY_CASE") != nullptr;
  for (unsigned n = 0; n < args.cases; ++n) {
    State in;
    for (uint64_t& r : in.gpr) r = operand(rng);
    in.gpr[RSP] = kStack;
    in.gpr[RBX] = kData;
    // The data page: random bytes, or mostly equal ones, so that REPE
    // CMPS/SCAS run on.
    const unsigned fill = rng() % 4;
    for (uint8_t& b : in.data) b = fill < 2 ? uint8_t(rng()) : fill == 2 ? uint8_t(rng() % 2) : 0;
    // IF = 1: this host's KVM runs guest user code with the real IF set,
    // whatever RFLAGS says, and PUSHF shows it; no interrupt is pending on
    // either side.
    in.flags = (rng() & kArith) | flag::IF;
    if (rng() % 2) in.flags |= flag::DF;
    if (rng() % 4 == 0) in.flags |= flag::AC;  // CR0.AM is set: misaligned accesses fault
    if (rng() % 32 == 0) in.flags |= flag::TF;
    random_fpu(rng, in.fpu);
    // One to three instructions, a third each ALU forms (a third of those
    // that can take one with the memory operand), snippets, and x87/MMX/SSE
    // forms.
    const unsigned count = 1 + rng() % 3;
    std::vector<uint8_t> code;
    std::vector<std::string> names;
    std::vector<size_t> starts;  // each instruction's offset in `code`
    // A register an earlier snippet set up keeps its value: a later
    // snippet's setup (LOOP's count, say) would otherwise turn the earlier
    // one's small REP count into billions.
    uint32_t fixed = 0;
    for (unsigned i = 0; i < count; ++i) {
      std::vector<uint8_t> one;
      starts.push_back(code.size());
      const unsigned kind = argc > 3 ? 2 : rng() % 3;
      if (kind == 0) {
        const Form& f = alu[rng() % alu.size()];
        const bool mem = memory_ok(f) && rng() % 3 == 0;
        one = encode(f, mem, rng);
        names.push_back(f.name + (mem ? "/m" : ""));
      } else {
        const Snippet& sn = kind == 1 ? more[rng() % more.size()] : simd[rng() % simd.size()];
        uint64_t before[16];
        std::memcpy(before, in.gpr, sizeof before);
        one = sn.make(rng, kCode + code.size(), in);
        for (unsigned r = 0; r < 16; ++r) {
          if (fixed & (1u << r)) in.gpr[r] = before[r];
          else if (in.gpr[r] != before[r]) fixed |= 1u << r;
        }
        names.push_back(sn.name);
      }
      code.insert(code.end(), one.begin(), one.end());
    }
    code.push_back(0x0F);  // UD2
    code.push_back(0x0B);
    Outcome hw{}, emu{};
    if (kvm.run_case(code, in, hw) == Kvm64::Failed) {
      // The first case tells whether this host can run the guest at all;
      // a later failure is that case's, counted and shown.
      if (n == 0) return skip("kvm_diff64", kvm.why_not);
      for (const std::string& name : names) table.refused(name);
      std::printf("kvm_diff64: case %u refused: %s;%s\n", n, kvm.why_not.c_str(), hex_bytes(code).c_str());
      continue;
    }
    ++ended[std::min(outcome_vector(hw), 31u)];
    const bool halted = run_interpreter(kvm.image, code, in, emu);
    const bool ok = halted && same(hw, emu);
    const auto flags_before = [&](size_t k) {
      std::vector<uint8_t> prefix(code.begin(), code.begin() + std::ptrdiff_t(starts[k]));
      prefix.insert(prefix.end(), {0x0F, 0x0B});
      Outcome upto{};
      if (!run_interpreter(kvm.image, prefix, in, upto) || outcome_vector(upto) != 6) return ~uint64_t{0};
      return frame_flags(upto);
    };
    std::string faulting;
    uint64_t frame_rip;
    std::memcpy(&frame_rip, hw.frame + 8, 8);
    for (size_t k = 0; k < starts.size(); ++k)
      if (kCode + starts[k] == frame_rip) faulting = names[k];
    const char* why = ok || !halted ? nullptr : explained(names, faulting, hw, emu, flags_before);
    if (!ok && every_case)
      std::fprintf(stderr, "case %u: %s: %s%s (KVM emulated %llu)\n", n, why ? why : "unexplained",
                   ((halted ? "" : "vtlab did not halt;") + difference(in, hw, emu)).c_str(), hex_bytes(code).c_str(),
                   static_cast<unsigned long long>(hw.emulated));
    for (const std::string& name : names) {
      table.compared(name);
      if (why)
        table.explained(name, why);
      else if (!ok)
        table.mismatch(name, (halted ? "" : "vtlab did not halt;") + difference(in, hw, emu) + hex_bytes(code));
    }
    table.case_done(!ok && !why, why != nullptr);
  }
  // How the silicon's cases ended, so that a run shows it reached the
  // x87 (#MF) and SIMD (#XM) exceptions.
  std::printf("kvm_diff64: the CPU's cases ended in");
  for (unsigned v = 0; v < 32; ++v)
    if (ended[v]) std::printf(" %s %u", vector_name(v), ended[v]);
  std::printf("\n");
  return table.print("kvm_diff64", args.cases, args.seed);
}
