// Differential test of the interpreter against the silicon: a random
// sequence of one to three integer instructions, each with a register or
// a memory operand ([RBX + disp8] in a data page), in 64-bit mode at CPL 3
// (ALU, shifts
// and rotates, multiply, bit scans and tests, SHLD/SHRD, CMOVcc, SETcc,
// XADD, CMPXCHG, MOVSXD, BSWAP, IMUL imm8, CBW/CWDE/CDQE, CWD/CDQ/CQO) in
// 8-, 16-, 32- or 64-bit operand size with REX-extended registers, from
// random RAX..R15 (RBX fixed: it points at the data page), random data and
// arithmetic flags, then UD2.  In a KVM guest the
// instruction runs natively (this host's KVM runs long-mode CPL 3 code on
// the CPU itself; docs/FUZZING.md), and the UD2's #UD is delivered
// through the guest's IDT to a ring-0 HLT, whose frame holds RFLAGS; in
// vtlab's interpreter the same instruction runs from the same state.
// The sixteen GPRs, the six arithmetic flags (undefined ones included:
// vtlab claims the silicon's values, docs/UNDEFINED_FLAGS.md) and the data
// page are compared.  Prints a table per instruction form ("/m": with the
// memory operand), each sequence counted under every form in it.
//   kvm_diff64 [CASES [SEED]]   exit 0: no mismatch, 1: some, 77: skipped
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "core/interpreter.h"
#include "kvm_guest.h"

namespace {

using namespace vtlab;

constexpr uint64_t kGuestRam = 4 << 20;
constexpr uint64_t kCode = 0x1000, kHandler = 0x2000, kPml4 = 0x10000, kGdt = 0x20000, kIdt = 0x21000,
                   kTss = 0x22000, kUserStack = 0x70000, kKernelStack = 0x80000;
constexpr uint64_t kImageBytes = 0x30000;  // everything build_guest writes lies below
constexpr uint64_t kData = 0x40000, kDataBytes = 256;  // the memory operands' page (RBX points here)
constexpr uint16_t kCode0 = 0x08, kData3 = 0x1B, kCode3 = 0x23, kTr = 0x28;
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
uint64_t operand(std::mt19937_64& rng) {
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
std::vector<uint8_t> encode(const Form& f, bool mem, std::mt19937_64& rng) {
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

struct State {
  uint64_t gpr[16];
  uint64_t flags;
  uint8_t data[kDataBytes];
};

uint64_t gdt_code64(unsigned dpl) { return 0x00209A0000000000ull | uint64_t{dpl} << 45; }
uint64_t gdt_data(unsigned dpl) { return 0x00CF92000000FFFFull | uint64_t{dpl} << 45; }

// The guest both sides run: 4-level tables identity-mapping 2 MiB as a
// user page, a GDT (64-bit code at ring 0 and 3, ring-3 data, a 64-bit
// TSS), 256 interrupt gates to a HLT at kHandler, RSP0 in the TSS.
void build_guest(uint8_t* ram) {
  auto put = [ram](uint64_t at, uint64_t v) { std::memcpy(ram + at, &v, 8); };
  put(kPml4, (kPml4 + 0x1000) | 7);
  put(kPml4 + 0x1000, (kPml4 + 0x2000) | 7);
  put(kPml4 + 0x2000, 0x87);  // 2 MiB at 0: present, writable, user
  put(kGdt + 8, gdt_code64(0));
  put(kGdt + 0x18, gdt_data(3));
  put(kGdt + 0x20, gdt_code64(3));
  put(kGdt + 0x28, 0x0000890000000067ull | (kTss & 0xFFFFFF) << 16);  // 64-bit TSS, available
  put(kGdt + 0x30, 0);
  for (unsigned v = 0; v < 256; ++v) {
    put(kIdt + 16 * v, (kHandler & 0xFFFF) | uint64_t{kCode0} << 16 | 0x8E0000000000ull | (kHandler >> 16) << 48);
    put(kIdt + 16 * v + 8, 0);
  }
  put(kTss + 4, kKernelStack);
  ram[kHandler] = 0xF4;  // HLT
}

struct Kvm : kvmtest::KvmVm {
  enum Result { Ok, Failed };
  bool ready = false;

  bool setup() {
    if (!open(kGuestRam)) return false;
    build_guest(ram);
    kvm_sregs s;
    if (ioctl(vcpu, KVM_GET_SREGS, &s) < 0) return fail("KVM_GET_SREGS failed");
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
    s.cr3 = kPml4;
    s.cr4 = cr4::PAE;
    s.cr0 = cr0::PE | cr0::ET | cr0::WP | cr0::PG;
    s.efer = efer::LME | efer::LMA;
    if (ioctl(vcpu, KVM_SET_SREGS, &s) < 0) return fail("KVM_SET_SREGS failed");
    return true;
  }

  Result run_case(const std::vector<uint8_t>& code, const State& in, State& out) {
    std::memcpy(ram + kCode, code.data(), code.size());
    std::memcpy(ram + kData, in.data, kDataBytes);
    kvm_sregs s;
    if (ioctl(vcpu, KVM_GET_SREGS, &s) < 0) return fail("KVM_GET_SREGS failed"), Failed;
    // Back to ring 3 for each case (the previous one ended at ring 0).
    if (s.cs.selector != kCode3) {
      if (!setup_again()) return Failed;
    }
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
    if (ioctl(vcpu, KVM_GET_REGS, &regs) < 0) return fail("KVM_GET_REGS failed"), Failed;
    // The #UD frame on RSP0: RIP, CS, RFLAGS, RSP, SS.
    uint64_t frame[5];
    if (regs.rsp + sizeof frame > kGuestRam) return fail("the #UD frame is outside RAM"), Failed;
    std::memcpy(frame, ram + regs.rsp, sizeof frame);
    if (frame[0] != kCode + code.size() - 2)
      return fail("the guest did not stop at the UD2 (rip " + std::to_string(frame[0]) + ")"), Failed;
    for (int i = 0; i < 16; ++i) out.gpr[i] = *g[i];
    out.gpr[RSP] = frame[3];
    out.flags = frame[2];
    std::memcpy(out.data, ram + kData, kDataBytes);
    return Ok;
  }

  bool setup_again() { return setup_sregs_only(); }
  bool setup_sregs_only() {
    kvm_sregs s;
    if (ioctl(vcpu, KVM_GET_SREGS, &s) < 0) return fail("KVM_GET_SREGS failed");
    s.cs.selector = kCode3;
    s.cs.dpl = 3;
    s.cs.l = 1;
    s.cs.db = 0;
    s.cs.type = 11;
    s.cs.present = 1;
    s.cs.s = 1;
    s.cs.g = 1;
    s.cs.base = 0;
    s.cs.limit = 0xFFFFFFFF;
    kvm_segment data = s.cs;
    data.l = 0;
    data.db = 1;
    data.type = 3;
    data.selector = kData3;
    s.ss = data;
    return ioctl(vcpu, KVM_SET_SREGS, &s) >= 0 || fail("KVM_SET_SREGS failed");
  }
};

State run_interpreter(const std::vector<uint8_t>& code, unsigned insns, const State& in) {
  PhysicalMemory mem(kGuestRam);
  IoBus io("io");
  Cpu cpu(mem, io);
  Interpreter engine(cpu);
  std::vector<uint8_t> image(kImageBytes);
  build_guest(image.data());
  std::memcpy(image.data() + kCode, code.data(), code.size());
  mem.write_bytes(0, image.data(), image.size());
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
  s.cr4 |= cr4::PAE;
  s.cr3 = kPml4;
  s.efer = efer::LME | efer::LMA;
  s.cr0 |= cr0::PG | cr0::WP;
  cpu.paging_changed(false);
  for (int i = 0; i < 16; ++i) s.gpr[i] = in.gpr[i];
  s.flags.set_bits(in.flags | 2);
  s.rip = kCode;
  engine.run(insns);  // the sequence alone, not the UD2: its result is what is compared
  State out;
  for (int i = 0; i < 16; ++i) out.gpr[i] = s.gpr[i];
  out.flags = s.flags.bits();
  mem.read_bytes(kData, out.data, kDataBytes);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const unsigned cases = argc > 1 ? unsigned(std::strtoul(argv[1], nullptr, 0)) : 20000;
  const unsigned seed = argc > 2 ? unsigned(std::strtoul(argv[2], nullptr, 0)) : 1;
  Kvm kvm;
  if (!kvm.setup()) {
    std::printf("kvm_diff64: skipped: %s\n", kvm.why_not.c_str());
    return 77;
  }
  const std::vector<Form> all = forms();
  std::mt19937_64 rng(seed);
  struct Tally {
    unsigned cases = 0, mismatches = 0;
    std::string example;
  };
  std::map<std::string, Tally> table;
  unsigned mismatches = 0;
  for (unsigned n = 0; n < cases; ++n) {
    // One to three instructions; a third of those that can take one get
    // the memory operand.
    const unsigned count = 1 + rng() % 3;
    std::vector<uint8_t> code;
    std::vector<std::string> names;
    for (unsigned i = 0; i < count; ++i) {
      const Form& f = all[rng() % all.size()];
      const bool mem = memory_ok(f) && rng() % 3 == 0;
      const std::vector<uint8_t> one = encode(f, mem, rng);
      code.insert(code.end(), one.begin(), one.end());
      names.push_back(f.name + (mem ? "/m" : ""));
    }
    code.push_back(0x0F);  // UD2
    code.push_back(0x0B);
    State in;
    for (uint64_t& r : in.gpr) r = operand(rng);
    in.gpr[RSP] = kUserStack;
    in.gpr[RBX] = kData;
    for (uint8_t& b : in.data) b = uint8_t(rng());
    in.flags = rng() & kArith;
    State hw;
    if (kvm.run_case(code, in, hw) == Kvm::Failed) {
      std::printf("kvm_diff64: skipped: %s\n", kvm.why_not.c_str());
      return 77;
    }
    const State emu = run_interpreter(code, count, in);
    bool same = (hw.flags & kArith) == (emu.flags & kArith) && std::memcmp(hw.data, emu.data, kDataBytes) == 0;
    for (int i = 0; i < 16; ++i) same = same && hw.gpr[i] == emu.gpr[i];
    for (const std::string& name : names) ++table[name].cases;
    if (same) continue;
    ++mismatches;
    for (const std::string& name : names) {
      Tally& t = table[name];
      ++t.mismatches;
      if (!t.example.empty()) continue;
      char buf[512];
      std::snprintf(buf, sizeof buf, "fl=%03llx -> cpu fl=%03llx, vtlab fl=%03llx;",
                    (unsigned long long)in.flags, (unsigned long long)(hw.flags & kArith),
                    (unsigned long long)(emu.flags & kArith));
      t.example = buf;
      for (int i = 0; i < 16; ++i)
        if (hw.gpr[i] != emu.gpr[i]) {
          std::snprintf(buf, sizeof buf, " r%d in=%llx cpu=%llx vtlab=%llx;", i, (unsigned long long)in.gpr[i],
                        (unsigned long long)hw.gpr[i], (unsigned long long)emu.gpr[i]);
          t.example += buf;
        }
      for (uint64_t i = 0; i < kDataBytes; ++i)
        if (hw.data[i] != emu.data[i]) {
          std::snprintf(buf, sizeof buf, " data+%llu cpu=%02x vtlab=%02x;", (unsigned long long)i, hw.data[i],
                        emu.data[i]);
          t.example += buf;
          break;
        }
      t.example += " bytes";
      for (uint8_t b : code) {
        std::snprintf(buf, sizeof buf, " %02x", b);
        t.example += buf;
      }
    }
  }
  std::printf("%-16s %8s %10s  first mismatch\n", "instruction", "cases", "mismatches");
  for (const auto& [name, t] : table)
    std::printf("%-16s %8u %10u  %s\n", name.c_str(), t.cases, t.mismatches, t.example.c_str());
  std::printf("kvm_diff64: %u cases, %zu forms, %u mismatches (seed %u)\n", cases, table.size(), mismatches, seed);
  return mismatches ? 1 : 0;
}
