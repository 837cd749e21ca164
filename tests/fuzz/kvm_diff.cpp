// Differential test of the interpreter against /dev/kvm: one random
// register-form integer instruction (ALU, shifts and rotates, multiply,
// bit scans and tests, BCD) in 8-, 16- or 32-bit operand size, from random
// GPRs and arithmetic flags, followed by HLT, run in flat 32-bit protected
// mode at CPL 0 with paging off in a KVM guest and in vtlab's interpreter;
// the eight GPRs and the six arithmetic flags are compared (undefined
// flags included: vtlab claims the host's values, docs/UNDEFINED_FLAGS.md).
// Prints a table of cases and mismatches per instruction.
//
// On a host whose KVM runs such code through its instruction emulator
// (kvm_pvm here, see docs/FUZZING.md) the reference is that emulator, not
// the silicon: an independent implementation, with its own choices where
// the SDM leaves a flag undefined (explained() lists the one seen).
// Instructions the emulator refuses are counted, not compared.
//   kvm_diff [CASES [SEED]]     exit 0: no unexplained mismatch, 1: some, 77: skipped
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "core/interpreter.h"
#include "diff_report.h"
#include "kvm_guest.h"

namespace {

using vtlab::Gpr;

constexpr uint64_t kGuestRam = 1 << 20, kCodeAt = 0x1000;
constexpr uint32_t kArith = vtlab::flag::kArith;

// One instruction form.  `op` is the opcode (with its 0x66/0x0F bytes);
// `digit` >= 0 means a group opcode with that /digit (one operand),
// otherwise ModRM names two registers.  `imm8`: an 8-bit immediate
// follows.  `width` in bits picks the register set.
struct Form {
  std::string name;
  std::vector<uint8_t> op;
  int digit;
  bool imm8;
  unsigned width;
};

std::vector<Form> forms() {
  std::vector<Form> f;
  const auto sized = [&](const std::string& name, uint8_t op8, uint8_t op32, int digit, bool imm8,
                         std::vector<uint8_t> pre = {}) {
    for (unsigned w : {8u, 16u, 32u}) {
      std::vector<uint8_t> op = pre;
      if (w == 16) op.insert(op.begin(), 0x66);
      op.push_back(w == 8 ? op8 : op32);
      f.push_back({name + std::to_string(w), op, digit, imm8, w});
    }
  };
  const char* alu[] = {"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"};
  for (int i = 0; i < 8; ++i) sized(alu[i], uint8_t(i * 8), uint8_t(i * 8 + 1), -1, false);
  sized("test", 0x84, 0x85, -1, false);
  const char* shifts[] = {"rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar"};
  for (int i = 0; i < 8; ++i) {
    if (i == 6) continue;  // SAL /6 is an alias the assembler never emits
    sized(std::string(shifts[i]) + "_1_", 0xD0, 0xD1, i, false);
    sized(std::string(shifts[i]) + "_cl_", 0xD2, 0xD3, i, false);
    sized(std::string(shifts[i]) + "_imm_", 0xC0, 0xC1, i, true);
  }
  const char* unary[] = {nullptr, nullptr, "not", "neg", "mul", "imul1_", nullptr, nullptr};
  for (int i = 2; i < 6; ++i) sized(unary[i], 0xF6, 0xF7, i, false);
  sized("inc", 0xFE, 0xFF, 0, false);
  sized("dec", 0xFE, 0xFF, 1, false);
  for (unsigned w : {16u, 32u}) {
    const auto add = [&](const char* n, std::vector<uint8_t> op, int digit, bool imm8) {
      if (w == 16) op.insert(op.begin(), 0x66);
      f.push_back({std::string(n) + std::to_string(w), op, digit, imm8, w});
    };
    add("imul2_", {0x0F, 0xAF}, -1, false);
    add("bsf", {0x0F, 0xBC}, -1, false);
    add("bsr", {0x0F, 0xBD}, -1, false);
    add("bt", {0x0F, 0xA3}, -1, false);
    add("bts", {0x0F, 0xAB}, -1, false);
    add("btr", {0x0F, 0xB3}, -1, false);
    add("btc", {0x0F, 0xBB}, -1, false);
    add("shld_cl_", {0x0F, 0xA5}, -1, false);
    add("shrd_cl_", {0x0F, 0xAD}, -1, false);
    add("shld_imm_", {0x0F, 0xA4}, -1, true);
    add("shrd_imm_", {0x0F, 0xAC}, -1, true);
  }
  for (auto [n, op] : {std::pair{"daa", 0x27}, {"das", 0x2F}, {"aaa", 0x37}, {"aas", 0x3F}})
    f.push_back({n, {uint8_t(op)}, -2, false, 8});
  return f;
}

// Operands weighted towards the boundaries where flag rules differ.
uint32_t operand(std::mt19937& rng) {
  static const uint32_t edges[] = {0, 1, 2, 7, 8, 0xF, 0x10, 0x1F, 0x20, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF,
                                   0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF};
  switch (rng() % 4) {
    case 0: return edges[rng() % std::size(edges)];
    case 1: return rng() & 0x3F;
    default: return rng();
  }
}

struct State {
  uint32_t gpr[8];
  uint32_t flags;
};

std::vector<uint8_t> encode(const Form& f, std::mt19937& rng) {
  std::vector<uint8_t> code = f.op;
  if (f.digit != -2) {
    // In 16/32-bit forms ESP stays out (the HLT path pushes nothing, but a
    // changed ESP would only compare itself); 8-bit register 4 is AH.
    auto reg = [&] {
      unsigned r;
      do r = rng() % 8;
      while (f.width != 8 && r == 4);
      return r;
    };
    const unsigned rm = reg(), r = f.digit >= 0 ? unsigned(f.digit) : reg();
    code.push_back(uint8_t(0xC0 | r << 3 | rm));
    if (f.imm8) code.push_back(uint8_t(operand(rng)));
  }
  code.push_back(0xF4);  // HLT
  return code;
}

struct Kvm : vtlab::kvmtest::KvmVm {
  bool open_vm() { return open(kGuestRam); }

  // Flat 32-bit protected mode, CPL 0, paging off.
  // Ok, or Unemulated: KVM's instruction emulator refused the instruction
  // (KVM_EXIT_INTERNAL_ERROR, emulation), or Failed: why_not says why.
  enum Result { Ok, Unemulated, Failed };
  Result run_case(const std::vector<uint8_t>& code, const State& in, State& out) {
    return try_case(code, in, out) ? Ok : unemulated ? Unemulated : Failed;
  }
  bool unemulated = false;
  bool try_case(const std::vector<uint8_t>& code, const State& in, State& out) {
    unemulated = false;
    std::memcpy(ram + kCodeAt, code.data(), code.size());
    kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) return fail("KVM_GET_SREGS failed");
    kvm_segment flat{};
    flat.base = 0;
    flat.limit = 0xFFFFFFFF;
    flat.present = 1;
    flat.s = 1;
    flat.db = 1;
    flat.g = 1;
    flat.type = 3;  // data read/write, accessed
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = flat;
    sregs.ds.selector = sregs.es.selector = sregs.fs.selector = sregs.gs.selector = sregs.ss.selector = 0x10;
    sregs.cs = flat;
    sregs.cs.type = 11;  // code execute/read, accessed
    sregs.cs.selector = 0x08;
    sregs.tr.present = 1;
    sregs.tr.type = 11;  // busy 32-bit TSS, as VM entry requires
    sregs.tr.limit = 0x67;
    sregs.tr.s = 0;
    sregs.cr0 = (sregs.cr0 | 1) & ~(uint64_t{1} << 31);
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0) return fail("KVM_SET_SREGS failed");
    kvm_regs regs{};
    __u64* g[8] = {&regs.rax, &regs.rcx, &regs.rdx, &regs.rbx, &regs.rsp, &regs.rbp, &regs.rsi, &regs.rdi};
    for (int i = 0; i < 8; ++i) *g[i] = in.gpr[i];
    regs.rip = kCodeAt;
    regs.rflags = in.flags | 2;
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0) return fail("KVM_SET_REGS failed");
    if (ioctl(vcpu, KVM_RUN, 0) < 0) return fail(std::string("KVM_RUN: ") + std::strerror(errno));
    if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR && run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION) {
      unemulated = true;
      return false;
    }
    if (run->exit_reason != KVM_EXIT_HLT)
      return fail("the guest stopped with KVM exit reason " + std::to_string(run->exit_reason) +
                  (run->exit_reason == KVM_EXIT_INTERNAL_ERROR
                       ? " (internal error " + std::to_string(run->internal.suberror) + ")"
                       : std::string()) +
                  " instead of HLT (this host's KVM cannot run flat 32-bit CPL 0 code)");
    if (ioctl(vcpu, KVM_GET_REGS, &regs) < 0) return fail("KVM_GET_REGS failed");
    for (int i = 0; i < 8; ++i) out.gpr[i] = uint32_t(*g[i]);
    out.flags = uint32_t(regs.rflags);
    return true;
  }
};

// A mismatch the project explains: ROL/ROR by an immediate count other
// than 1 leave OF (undefined there) unchanged on the silicon, which vtlab
// follows (docs/UNDEFINED_FLAGS.md), while KVM's instruction emulator
// computes OF for them (observed: the only mismatches in 50,000 cases).
const char* explained(const Form& f, const std::vector<uint8_t>& code, const State& hw, const State& emu) {
  for (int i = 0; i < 8; ++i)
    if (hw.gpr[i] != emu.gpr[i]) return nullptr;
  if (((hw.flags ^ emu.flags) & kArith) != vtlab::flag::OF) return nullptr;
  const bool rotate_imm = f.imm8 && (f.digit == 0 || f.digit == 1);  // C0/C1 /0 and /1
  const unsigned count = code[code.size() - 2] & 0x1F;
  if (rotate_imm && count != 1) return "ROL/ROR imm: OF kept (silicon), KVM's emulator computes it";
  return nullptr;
}

State run_interpreter(const std::vector<uint8_t>& code, const State& in) {
  vtlab::PhysicalMemory mem(kGuestRam);
  vtlab::IoBus io("io");
  vtlab::Cpu cpu(mem, io);
  vtlab::Interpreter engine(cpu);
  vtlab::reset_cpu_state(cpu.s);
  vtlab::set_flat_protected_mode(cpu.s);
  mem.write_bytes(kCodeAt, code.data(), code.size());
  for (int i = 0; i < 8; ++i) cpu.s.gpr[i] = in.gpr[i];
  cpu.s.flags.set_bits(in.flags | 2);
  cpu.s.rip = kCodeAt;
  engine.run(16);
  State out;
  for (int i = 0; i < 8; ++i) out.gpr[i] = uint32_t(cpu.s.gpr[i]);
  out.flags = uint32_t(cpu.s.flags.bits());
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using vtlab::kvmtest::DiffTable;
  const vtlab::kvmtest::DiffArgs args = vtlab::kvmtest::parse_diff_args(argc, argv);
  Kvm kvm;
  if (!kvm.open_vm()) return vtlab::kvmtest::skip("kvm_diff", kvm.why_not);
  const std::vector<Form> all = forms();
  std::mt19937 rng(args.seed);
  DiffTable table;
  for (unsigned n = 0; n < args.cases; ++n) {
    const Form& f = all[rng() % all.size()];
    const std::vector<uint8_t> code = encode(f, rng);
    State in;
    for (uint32_t& r : in.gpr) r = operand(rng);
    in.gpr[4] = 0x8000;  // ESP
    in.flags = rng() & kArith;
    State hw;
    const Kvm::Result kr = kvm.run_case(code, in, hw);
    if (kr == Kvm::Failed) return vtlab::kvmtest::skip("kvm_diff", kvm.why_not);
    if (kr == Kvm::Unemulated) {
      table.refused(f.name);
      continue;
    }
    const State emu = run_interpreter(code, in);
    table.compared(f.name);
    bool same = (hw.flags & kArith) == (emu.flags & kArith);
    for (int i = 0; i < 8; ++i) same = same && hw.gpr[i] == emu.gpr[i];
    const char* why = same ? nullptr : explained(f, code, hw, emu);
    if (why) {
      table.explained(f.name, why);
    } else if (!same) {
      char buf[256];
      std::snprintf(buf, sizeof buf,
                    "eax=%08x ecx=%08x edx=%08x ebx=%08x fl=%03x -> kvm eax=%08x edx=%08x fl=%03x, vtlab eax=%08x "
                    "edx=%08x fl=%03x;",
                    in.gpr[0], in.gpr[1], in.gpr[2], in.gpr[3], in.flags, hw.gpr[0], hw.gpr[2], hw.flags & kArith,
                    emu.gpr[0], emu.gpr[2], emu.flags & kArith);
      table.mismatch(f.name, buf + vtlab::kvmtest::hex_bytes(code));
    }
    table.case_done(!same && !why, why != nullptr);
  }
  return table.print("kvm_diff", args.cases, args.seed);
}
