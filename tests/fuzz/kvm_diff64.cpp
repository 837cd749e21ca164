// Differential test of the interpreter against the silicon: a random
// sequence of one to three instructions in 64-bit mode at CPL 3, from
// random RAX..R15 (RBX points at a data page), random data and random
// arithmetic flags (DF, AC and TF at times), then UD2.  The forms are
// integer ALU ones in 8-, 16-, 32- or 64-bit operand size with register
// or memory ([RBX + disp8]) operands (ALU, shifts and rotates, multiply
// and divide, bit scans and tests, SHLD/SHRD, CMOVcc, SETcc, XADD,
// CMPXCHG, MOVSXD, BSWAP, IMUL imm8, CBW/CWDE/CDQE, CWD/CDQ/CQO), and the
// string, stack, control-transfer and faulting snippets of
// kvm_snippets64.cpp.  In a KVM guest the code runs natively (this host's
// KVM runs long-mode CPL 3 code on the CPU itself; docs/FUZZING.md); the
// first exception (the UD2's #UD, or an earlier fault or trap) is delivered
// through the guest's IDT to vector v's ring-0 HLT.  vtlab's interpreter
// runs the same code from the same state to the same kind of HLT.
// Compared: the vector, the sixteen GPRs, the exception frame (RIP at the
// fault, CS, RFLAGS, RSP, SS, error code), CR2 and the data page (which
// holds the user stack).  Arithmetic flags are compared undefined ones
// included: vtlab claims the silicon's values, docs/UNDEFINED_FLAGS.md.
// Prints a table per form ("/m": with the memory operand), each sequence
// counted under every form in it (diff_report.h).
//   kvm_diff64 [CASES [SEED]]   exit 0: no mismatch, 1: some, 77: skipped
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "core/interpreter.h"
#include "diff_report.h"
#include "kvm_cases64.h"
#include "kvm_guest.h"

namespace {

using namespace vtlab;
using namespace vtlab::kvmtest;

constexpr uint32_t kArith = flag::kArith;
// Interpreter instructions per case (a REP counts once per 4096
// iterations): a 64-bit REP whose count a sequence made huge runs up to
// the first unmapped page, 2 MiB on, like the silicon.
constexpr uint64_t kInterpreterBudget = 1024;

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

// The guest's segment registers, control registers and tables as KVM's
// special registers; the interpreter gets the same from set_interpreter.
kvm_sregs guest_sregs(kvm_sregs s) {
  kvm_segment code{};
  code.limit = 0xFFFFFFFF;
  code.present = 1;
  code.s = 1;
  code.g = 1;
  code.l = 1;
  code.type = 11;
  code.dpl = 3;
  code.selector = kCode3;
  kvm_segment data = code;
  data.l = 0;
  data.db = 1;
  data.type = 3;
  data.selector = kData3;
  s.cs = code;
  s.ds = s.es = s.fs = s.gs = s.ss = data;
  s.tr = kvm_segment{};
  s.tr.base = kTss;
  s.tr.limit = 0x67;
  s.tr.present = 1;
  s.tr.type = 11;  // busy 64-bit TSS
  s.tr.selector = kTr;
  s.gdt.base = kGdt;
  s.gdt.limit = 0x37;
  s.idt.base = kIdt;
  s.idt.limit = 0xFFF;
  s.cr2 = 0;
  s.cr3 = kPml4;
  s.cr4 = cr4::PAE;
  s.cr0 = cr0::PE | cr0::ET | cr0::NE | cr0::WP | cr0::AM | cr0::PG;
  s.efer = efer::LME | efer::LMA;
  return s;
}

struct Kvm : kvmtest::KvmVm {
  enum Result { Ok, Failed };
  std::vector<uint8_t> image = std::vector<uint8_t>(kImageBytes);
  kvm_sregs sregs{};

  bool setup() {
    if (!open(kGuestRam)) return false;
    build_guest(image.data());
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) return fail("KVM_GET_SREGS failed");
    sregs = guest_sregs(sregs);
    return true;
  }

  // Ok with `out` filled, or Failed: the guest did not end at one of the
  // handlers' HLTs (why_not says how).
  Result run_case(const std::vector<uint8_t>& code, const State& in, Outcome& out) {
    std::memcpy(ram, image.data(), kImageBytes);
    // The last user page below the read-only one, which the loads at the
    // region's edge read and a REP STOS running up to it writes.
    std::memset(ram + kUserReadOnly - 0x1000, 0, 0x1000);
    std::memcpy(ram + kCode, code.data(), code.size());
    std::memcpy(ram + kData, in.data, kDataBytes);
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0) return fail("KVM_SET_SREGS failed"), Failed;
    kvm_regs regs{};
    __u64* g[16] = {&regs.rax, &regs.rcx, &regs.rdx, &regs.rbx, &regs.rsp, &regs.rbp, &regs.rsi, &regs.rdi,
                    &regs.r8,  &regs.r9,  &regs.r10, &regs.r11, &regs.r12, &regs.r13, &regs.r14, &regs.r15};
    for (int i = 0; i < 16; ++i) *g[i] = in.gpr[i];
    regs.rip = kCode;
    regs.rflags = in.flags | 2;
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0) return fail("KVM_SET_REGS failed"), Failed;
    if (ioctl(vcpu, KVM_RUN, 0) < 0) return fail(std::string("KVM_RUN: ") + std::strerror(errno)), Failed;
    if (run->exit_reason != KVM_EXIT_HLT)
      return fail("the guest stopped with KVM exit reason " + std::to_string(run->exit_reason) +
                  " instead of HLT (this host's KVM cannot run the 64-bit ring-3 guest)"),
             Failed;
    kvm_sregs after;
    if (ioctl(vcpu, KVM_GET_REGS, &regs) < 0 || ioctl(vcpu, KVM_GET_SREGS, &after) < 0)
      return fail("KVM_GET_REGS failed"), Failed;
    for (int i = 0; i < 16; ++i) out.gpr[i] = *g[i];
    out.rip = regs.rip;
    out.cr2 = after.cr2;
    std::memcpy(out.frame, ram + kKernelStack - kFrameBytes, kFrameBytes);
    std::memcpy(out.data, ram + kData, kDataBytes);
    return Ok;
  }
};

// False if the interpreter did not end at a handler's HLT within the budget.
bool run_interpreter(const std::vector<uint8_t>& image, const std::vector<uint8_t>& code, const State& in,
                     Outcome& out) {
  PhysicalMemory mem(kGuestRam);
  IoBus io("io");
  Cpu cpu(mem, io);
  Interpreter engine(cpu);
  mem.write_bytes(0, image.data(), image.size());
  mem.write_bytes(kCode, code.data(), code.size());
  mem.write_bytes(kData, in.data, kDataBytes);
  reset_cpu_state(cpu.s);
  set_flat_protected_mode(cpu.s);
  CpuState& s = cpu.s;
  constexpr uint32_t user_data = ar::kPresent | ar::kS | ar::kWritable | ar::kAccessed | ar::kDb |
                                 ar::kGranularity | (3u << ar::kDplShift);
  for (SegmentCache& sc : s.seg) sc = SegmentCache{kData3, 0, 0xFFFFFFFF, user_data};
  s.seg[CS] = SegmentCache{kCode3, 0, 0xFFFFFFFF,
                           ar::kPresent | ar::kS | ar::kCode | ar::kReadable | ar::kAccessed | ar::kLong |
                               ar::kGranularity | (3u << ar::kDplShift)};
  s.tr = SegmentCache{kTr, kTss, 0x67, ar::kPresent | 0xB};  // busy 64-bit TSS
  s.gdtr = {kGdt, 0x37};
  s.idtr = {kIdt, 0xFFF};
  s.cr4 |= cr4::PAE;
  s.cr3 = kPml4;
  s.efer = efer::LME | efer::LMA;
  s.cr0 |= cr0::NE | cr0::WP | cr0::AM | cr0::PG;
  cpu.paging_changed(false);
  for (int i = 0; i < 16; ++i) s.gpr[i] = in.gpr[i];
  s.flags.set_bits(in.flags | 2);
  s.rip = kCode;
  const StopReason why = engine.run(kInterpreterBudget);
  for (int i = 0; i < 16; ++i) out.gpr[i] = s.gpr[i];
  out.rip = s.rip;
  out.cr2 = s.cr2;
  mem.read_bytes(kKernelStack - kFrameBytes, out.frame, kFrameBytes);
  mem.read_bytes(kData, out.data, kDataBytes);
  return why == StopReason::Halted && s.cpl() == 0 && s.rip > kHandler && s.rip <= kHandler + 256;
}

// One line on how two outcomes differ, for the table.
std::string difference(const State& in, const Outcome& hw, const Outcome& emu) {
  std::string d;
  char buf[160];
  const auto add = [&](const char* what, uint64_t before, uint64_t cpu, uint64_t vt) {
    std::snprintf(buf, sizeof buf, " %s in=%llx cpu=%llx vtlab=%llx;", what, (unsigned long long)before,
                  (unsigned long long)cpu, (unsigned long long)vt);
    d += buf;
  };
  std::snprintf(buf, sizeof buf, "fl=%05llx", (unsigned long long)in.flags);
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
  for (uint64_t i = 0; i < kDataBytes; ++i)
    if (hw.data[i] != emu.data[i]) {
      add("data+offset", i, hw.data[i], emu.data[i]);
      break;
    }
  return d + " bytes";
}

uint64_t frame_flags(const Outcome& o, bool error_code) {
  uint64_t v;
  std::memcpy(&v, o.frame + (error_code ? 24 : 16), 8);
  return v;
}

// Mismatches docs/FUZZING.md explains (exception priorities vtlab does not
// model yet, and one this host's KVM gets wrong); nullptr for the others.
const char* explained(const std::vector<std::string>& names, const Outcome& hw, const Outcome& emu) {
  const unsigned hv = unsigned(hw.rip - kHandler - 1), ev = unsigned(emu.rip - kHandler - 1);
  const bool canonical_fault = ev == 12 || ev == 13;  // #SS(0) or #GP(0)
  if (hv == 14 && canonical_fault && hw.cr2 >= kNonCanonical - 8 && hw.cr2 < kNonCanonical)
    return "priority: #PF on the canonical part of an access that crosses into non-canonical space, before #GP";
  if (hv == 17 && canonical_fault) return "priority: #AC before the non-canonical #GP/#SS";
  if (hv == 14 && ev == 17) return "priority: #PF on a misaligned page-crossing access before #AC";
  bool enter = false, rep_compare = false;
  for (const std::string& n : names) {
    enter = enter || n.starts_with("enter");
    rep_compare = rep_compare || n.starts_with("repe_") || n.starts_with("repne_");
  }
  if (enter && hv == 17) return "ENTER faults #AC for a misaligned new frame pointer before it writes";
  // #DB after one iteration of a REP CMPS/SCAS under TF: everything agrees
  // but the frame's arithmetic flags, which KVM leaves as they were before
  // the instruction.
  if (hv == 1 && ev == 1 && rep_compare &&
      std::memcmp(hw.gpr, emu.gpr, sizeof hw.gpr) == 0 && std::memcmp(hw.data, emu.data, kDataBytes) == 0 &&
      ((frame_flags(hw, false) ^ frame_flags(emu, false)) & ~uint64_t{kArith}) == 0)
    return "reference: KVM's #DB frame after a single-stepped REP CMPS/SCAS iteration keeps the old arithmetic flags";
  return nullptr;
}

bool same(const Outcome& a, const Outcome& b) {
  return a.rip == b.rip && a.cr2 == b.cr2 && std::memcmp(a.gpr, b.gpr, sizeof a.gpr) == 0 &&
         std::memcmp(a.frame, b.frame, kFrameBytes) == 0 && std::memcmp(a.data, b.data, kDataBytes) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  const DiffArgs args = parse_diff_args(argc, argv);
  Kvm kvm;
  if (!kvm.setup()) return skip("kvm_diff64", kvm.why_not);
  const std::vector<Form> alu = forms();
  const std::vector<Snippet> more = snippets();
  Rng rng(args.seed);
  DiffTable table;
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
    // One to three instructions, half of them ALU forms (a third of those
    // that can take one with the memory operand), half snippets.
    const unsigned count = 1 + rng() % 3;
    std::vector<uint8_t> code;
    std::vector<std::string> names;
    // A register an earlier snippet set up keeps its value: a later
    // snippet's setup (LOOP's count, say) would otherwise turn the earlier
    // one's small REP count into billions.
    uint32_t fixed = 0;
    for (unsigned i = 0; i < count; ++i) {
      std::vector<uint8_t> one;
      if (rng() % 2) {
        const Form& f = alu[rng() % alu.size()];
        const bool mem = memory_ok(f) && rng() % 3 == 0;
        one = encode(f, mem, rng);
        names.push_back(f.name + (mem ? "/m" : ""));
      } else {
        const Snippet& sn = more[rng() % more.size()];
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
    if (kvm.run_case(code, in, hw) == Kvm::Failed) {
      // The first case tells whether this host can run the guest at all;
      // a later failure is that case's, counted and shown.
      if (n == 0) return skip("kvm_diff64", kvm.why_not);
      for (const std::string& name : names) table.refused(name);
      std::printf("kvm_diff64: case %u refused: %s;%s\n", n, kvm.why_not.c_str(), hex_bytes(code).c_str());
      continue;
    }
    const bool halted = run_interpreter(kvm.image, code, in, emu);
    const bool ok = halted && same(hw, emu);
    const char* why = ok || !halted ? nullptr : explained(names, hw, emu);
    for (const std::string& name : names) {
      table.compared(name);
      if (why)
        table.explained(name, why);
      else if (!ok)
        table.mismatch(name, (halted ? "" : "vtlab did not halt;") + difference(in, hw, emu) + hex_bytes(code));
    }
    table.case_done(!ok && !why, why != nullptr);
  }
  return table.print("kvm_diff64", args.cases, args.seed);
}
