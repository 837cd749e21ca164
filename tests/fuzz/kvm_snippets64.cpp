// The 64-bit differential test's guest and its non-ALU forms (see
// kvm_cases64.h): string instructions with and without REP, DF either
// way, small counts; stack instructions (PUSH/POP in every form, PUSHF/
// POPF with random images, ENTER/LEAVE, near CALL/RET); control transfers
// taken and not taken (Jcc, JMP, LOOPcc, JRCXZ: a not-taken branch runs
// into a UD2, so the frame's RIP says which way it went); and faults at
// CPL 3: #UD, #GP from privileged instructions and DPL-0 gates, #PF and
// #GP/#SS at the edges of the guest's regions, #AC.  Encodings: Intel SDM
// vol. 2; fault conditions: vol. 3 ch. 6 and the instruction pages.
#include "kvm_cases64.h"

#include <cstring>
#include <initializer_list>

namespace vtlab::kvmtest {

namespace {

using Bytes = std::vector<uint8_t>;

constexpr unsigned kRcx = 1, kRbx = 3, kRsp = 4, kRbp = 5, kRsi = 6, kRdi = 7, kR11 = 11;
constexpr uint64_t kDf = 1u << 10, kAc = 1u << 18;

void put32(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(uint8_t(v >> (8 * i)));
}
void put16(Bytes& b, uint16_t v) {
  b.push_back(uint8_t(v));
  b.push_back(uint8_t(v >> 8));
}
void poke64(State& in, uint64_t linear, uint64_t v) {
  if (linear >= kData && linear + 8 <= kData + kDataBytes) std::memcpy(in.data + (linear - kData), &v, 8);
}

// A general register for a branch target: not RSP or RBX (the stack and
// the memory operands' base), nor RCX, RSI, RDI or R11, which other
// snippets of the sequence set.
unsigned free_reg(Rng& rng) {
  unsigned r;
  do r = rng() % 16;
  while (r == kRsp || r == kRbx || r == kRcx || r == kRsi || r == kRdi || r == kR11);
  return r;
}

// `op` with register `r` in its ModRM r/m field (mod 11) or opcode, and a
// REX.B when r >= 8.
Bytes with_reg(std::initializer_list<uint8_t> op, unsigned r) {
  Bytes b;
  if (r >= 8) b.push_back(0x41);
  b.insert(b.end(), op);
  b.back() |= uint8_t(r & 7);
  return b;
}

// MOV r64, imm64.  The jumps and calls through a register or memory set
// their target in their own code, right before: a target in the start
// state could be changed by an earlier instruction of the sequence (a
// shift of the register, a store over the slot), and a jump into the
// zeros of another page runs ADD [RAX], AL for up to a million
// instructions on the CPU, far beyond the interpreter's budget.
Bytes mov_imm64(unsigned r, uint64_t v) {
  Bytes b{uint8_t(0x48 | (r >= 8)), uint8_t(0xB8 | (r & 7))};
  for (int i = 0; i < 8; ++i) b.push_back(uint8_t(v >> (8 * i)));
  return b;
}

// MOV QWORD [RBX + disp8], imm32 (sign-extended: `v` below 2 GiB).
Bytes store_imm32(uint8_t disp, uint64_t v) {
  Bytes b{0x48, 0xC7, 0x43, disp};
  put32(b, uint32_t(v));
  return b;
}

void add_strings(std::vector<Snippet>& out) {
  struct Op {
    const char* name;
    uint8_t byte_op;
    bool repne;  // CMPS and SCAS also take REPNE
  };
  for (const Op op : {Op{"movs", 0xA4, false}, {"cmps", 0xA6, true}, {"stos", 0xAA, false}, {"lods", 0xAC, false},
                      {"scas", 0xAE, true}}) {
    for (unsigned width : {8u, 16u, 32u, 64u}) {
      for (uint8_t rep : {uint8_t{0}, uint8_t{0xF3}, uint8_t{0xF2}}) {
        if (rep == 0xF2 && !op.repne) continue;
        const std::string prefix = rep == 0 ? "" : rep == 0xF3 ? (op.repne ? "repe_" : "rep_") : "repne_";
        out.push_back({prefix + op.name + std::to_string(width), [=](Rng& rng, uint64_t, State& in) {
                         Bytes b;
                         const bool a32 = rng() % 4 == 0;  // ESI, EDI, ECX
                         if (a32) b.push_back(0x67);
                         if (width == 16) b.push_back(0x66);
                         if (rep) b.push_back(rep);
                         if (width == 64) b.push_back(0x48);
                         b.push_back(uint8_t(op.byte_op + (width != 8)));
                         // Room for 8 elements of 8 bytes either way, sometimes misaligned.
                         const uint64_t high = a32 ? rng() << 32 : 0;
                         in.gpr[kRsi] = high | (kData + 0x100 + rng() % 0x100);
                         in.gpr[kRdi] = high | (kData + 0x300 + rng() % 0x100);
                         in.gpr[kRcx] = (a32 ? rng() << 32 : 0) | rng() % 9;
                         if (rng() % 2) in.flags |= kDf; else in.flags &= ~kDf;
                         return b;
                       }});
      }
    }
  }
}

void add_stack(std::vector<Snippet>& out) {
  const auto add = [&](std::string name, std::function<Bytes(Rng&, uint64_t, State&)> make) {
    out.push_back({std::move(name), [make](Rng& rng, uint64_t at, State& in) {
                     in.gpr[kRsp] = kStack - (rng() % 8 == 0 ? rng() % 8 : 0);  // misaligned: #AC with AC
                     return make(rng, at, in);
                   }});
  };
  for (bool o16 : {false, true}) {
    const std::string w = o16 ? "16" : "64";
    const auto pre = [o16](Bytes b) {
      if (o16) b.insert(b.begin(), 0x66);
      return b;
    };
    add("push_r" + w, [=](Rng& rng, uint64_t, State&) { return pre(with_reg({0x50}, unsigned(rng() % 16))); });
    add("pop_r" + w, [=](Rng& rng, uint64_t, State&) { return pre(with_reg({0x58}, unsigned(rng() % 16))); });
    add("push_m" + w, [=](Rng& rng, uint64_t, State&) { return pre({0xFF, 0x73, uint8_t(rng() % 120)}); });
    add("pop_m" + w, [=](Rng& rng, uint64_t, State&) { return pre({0x8F, 0x43, uint8_t(rng() % 120)}); });
    add("pushf" + w, [=](Rng&, uint64_t, State&) { return pre({0x9C}); });
    add("popf" + w, [=](Rng& rng, uint64_t, State& in) {
      // An image with any flag a CPL-3 POPF may or may not change.
      poke64(in, in.gpr[kRsp], rng() & 0x3F7FD7);
      return pre({0x9D});
    });
    add("leave" + w, [=](Rng& rng, uint64_t, State& in) {
      in.gpr[kRbp] = kStack - 0x100 + (rng() % 0x40) * 8;
      return pre({0xC9});
    });
    add("enter" + w, [=](Rng& rng, uint64_t, State& in) {
      in.gpr[kRbp] = kStack + 0x100 + (rng() % 0x20) * 8;
      Bytes b = pre({0xC8});
      put16(b, uint16_t(rng() % 0x40));
      b.push_back(uint8_t(rng() % 4));  // nesting level
      return b;
    });
  }
  add("push_imm8", [](Rng& rng, uint64_t, State&) { return Bytes{0x6A, uint8_t(rng())}; });
  add("push_imm32", [](Rng& rng, uint64_t, State&) {
    Bytes b{0x68};
    put32(b, uint32_t(rng()));
    return b;
  });
  add("push_imm16", [](Rng& rng, uint64_t, State&) {
    Bytes b{0x66, 0x68};
    put16(b, uint16_t(rng()));
    return b;
  });
  // Near CALL and RET that fall through: CALL to a RET that returns to a
  // JMP over it.
  add("call_ret", [](Rng&, uint64_t, State&) { return Bytes{0xE8, 2, 0, 0, 0, 0xEB, 1, 0xC3}; });
  add("call_ret_imm", [](Rng& rng, uint64_t, State&) {
    return Bytes{0xE8, 2, 0, 0, 0, 0xEB, 3, 0xC2, uint8_t(rng() % 24), 0};
  });
  add("call_r64", [](Rng& rng, uint64_t at, State&) {
    const unsigned r = free_reg(rng);
    const Bytes call = with_reg({0xFF, 0xD0}, r);
    Bytes b = mov_imm64(r, at + 10 + call.size() + 2);
    b.insert(b.end(), call.begin(), call.end());
    b.insert(b.end(), {0xEB, 1, 0xC3});
    return b;
  });
  add("call_m64", [](Rng& rng, uint64_t at, State&) {
    const uint8_t disp = uint8_t(8 * (rng() % 15));
    Bytes b = store_imm32(disp, at + 8 + 5);
    b.insert(b.end(), {0xFF, 0x53, disp, 0xEB, 1, 0xC3});
    return b;
  });
  // RET to the next byte.  It pushes its own return address: one planted
  // at the case's first RSP is not under RSP once an earlier instruction
  // of the sequence (PUSH, ENTER, ...) has moved it.
  add("ret", [](Rng&, uint64_t at, State&) {
    Bytes b{0x68};
    put32(b, uint32_t(at + 6));
    b.push_back(0xC3);
    return b;
  });
  // Stack faults: a push into the unmapped region (#PF), a pop at a
  // non-canonical RSP (#SS(0)).
  out.push_back({"push_unmapped", [](Rng& rng, uint64_t, State& in) {
                   in.gpr[kRsp] = kUnmapped + 8 + rng() % 16;
                   return Bytes{0x50};
                 }});
  out.push_back({"pop_noncanonical", [](Rng& rng, uint64_t, State& in) {
                   in.gpr[kRsp] = kNonCanonical - rng() % 8;
                   return Bytes{0x58};
                 }});
}

void add_control(std::vector<Snippet>& out) {
  const Bytes ud2{0x0F, 0x0B};
  const auto then_ud2 = [ud2](Bytes b) {
    b.insert(b.end(), ud2.begin(), ud2.end());
    return b;
  };
  out.push_back({"jcc8", [=](Rng& rng, uint64_t, State&) { return then_ud2({uint8_t(0x70 | rng() % 16), 2}); }});
  out.push_back({"jcc32", [=](Rng& rng, uint64_t, State&) {
                   return then_ud2({0x0F, uint8_t(0x80 | rng() % 16), 2, 0, 0, 0});
                 }});
  out.push_back({"jmp8", [=](Rng&, uint64_t, State&) { return then_ud2({0xEB, 2}); }});
  out.push_back({"jmp32", [=](Rng&, uint64_t, State&) { return then_ud2({0xE9, 2, 0, 0, 0}); }});
  out.push_back({"jmp_r64", [=](Rng& rng, uint64_t at, State&) {
                   const unsigned r = free_reg(rng);
                   const Bytes jmp = with_reg({0xFF, 0xE0}, r);
                   Bytes b = mov_imm64(r, at + 10 + jmp.size() + 2);
                   b.insert(b.end(), jmp.begin(), jmp.end());
                   return then_ud2(b);
                 }});
  out.push_back({"jmp_m64", [=](Rng& rng, uint64_t at, State&) {
                   const uint8_t disp = uint8_t(8 * (rng() % 15));
                   Bytes b = store_imm32(disp, at + 8 + 5);
                   b.insert(b.end(), {0xFF, 0x63, disp});
                   return then_ud2(b);
                 }});
  for (const auto& form : {std::pair{"loopne", 0xE0}, {"loope", 0xE1}, {"loop", 0xE2}, {"jrcxz", 0xE3}}) {
    const uint8_t op = uint8_t(form.second);  // (clang 14 cannot capture a structured binding)
    for (bool a32 : {false, true}) {
      out.push_back({std::string(form.first) + (a32 ? "_a32" : ""), [=](Rng& rng, uint64_t, State& in) {
                       in.gpr[kRcx] = rng() % 3 + (a32 ? rng() << 32 : rng() % 4 == 0 ? 1ull << 32 : 0);
                       Bytes b;
                       if (a32) b.push_back(0x67);
                       b.insert(b.end(), {op, 2});
                       return then_ud2(b);
                     }});
    }
  }
}

void add_faults(std::vector<Snippet>& out) {
  // Opcodes that are invalid in 64-bit mode or with LOCK: #UD.
  const std::vector<std::pair<const char*, Bytes>> invalid = {
      {"ud_push_es", {0x06}},  {"ud_pop_es", {0x07}},     {"ud_push_cs", {0x0E}},    {"ud_daa", {0x27}},
      {"ud_aaa", {0x37}},      {"ud_pusha", {0x60}},      {"ud_into", {0xCE}},       {"ud_aam", {0xD4, 0x0A}},
      {"ud_salc", {0xD6}},     {"ud_ud2", {0x0F, 0x0B}},  {"ud_ud1", {0x0F, 0xB9, 0xC0}},
      {"ud_lock_nop", {0xF0, 0x90}}, {"ud_lock_add_reg", {0xF0, 0x01, 0xC0}}, {"ud_lock_mov", {0xF0, 0x8B, 0x03}},
      {"ud_mov_cs", {0x8E, 0xC8}}, {"ud_jmp_far", {0xEA, 0, 0, 0, 0, 0, 0}}};
  const auto fixed = [&out](const std::pair<const char*, Bytes>& form) {
    out.push_back({form.first, [bytes = form.second](Rng&, uint64_t, State&) { return bytes; }});
  };
  for (const auto& form : invalid) fixed(form);
  // Privileged at CPL 3 (IOPL 0, the TSS has no I/O bitmap): #GP(0).
  const std::vector<std::pair<const char*, Bytes>> privileged = {
      {"gp_hlt", {0xF4}},           {"gp_cli", {0xFA}},           {"gp_sti", {0xFB}},
      {"gp_in", {0xE4, 0x60}},      {"gp_out_dx", {0xEE}},        {"gp_insb", {0x6C}},
      {"gp_mov_from_cr0", {0x0F, 0x20, 0xC0}}, {"gp_mov_to_cr3", {0x0F, 0x22, 0xD8}},
      {"gp_mov_from_dr7", {0x0F, 0x21, 0xF8}}, {"gp_clts", {0x0F, 0x06}}, {"gp_wbinvd", {0x0F, 0x09}},
      {"gp_wrmsr", {0x0F, 0x30}},   {"gp_rdmsr", {0x0F, 0x32}},   {"gp_rdpmc", {0x0F, 0x33}},
      {"gp_lgdt", {0x0F, 0x01, 0x53, 0x10}}, {"gp_lidt", {0x0F, 0x01, 0x5B, 0x10}},
      {"gp_lmsw", {0x0F, 0x01, 0xF0}}, {"gp_invlpg", {0x0F, 0x01, 0x7B, 0x10}}, {"gp_lldt", {0x0F, 0x00, 0xD0}},
      {"gp_ltr", {0x0F, 0x00, 0xD8}}, {"gp_swapgs", {0x0F, 0x01, 0xF8}}};
  for (const auto& form : privileged) fixed(form);
  // Left out, as this host's KVM (kvm_pvm, docs/FUZZING.md) gets them
  // wrong: INT n and INT3 through a DPL-0 gate at CPL 3 (#GP(vector * 8 +
  // 2) per the SDM; it delivers #UD or #BP), and SYSRET with EFER.SCE = 0
  // (#UD; it gives #GP(0), the host's SCE being set).  tests/privilege
  // holds vtlab to the SDM for them.
  // Loads and stores through R11 at the regions' edges: an access that
  // straddles into the next region faults on the part that lies there.
  struct Region {
    const char* name;
    uint64_t at;
  };
  for (const Region reg : {Region{"ro", kUserReadOnly}, {"supervisor", kSupervisor}, {"unmapped", kUnmapped},
                           {"noncanonical", kNonCanonical}}) {
    // (No jump into the read-only page: its zeros would run as ADD [RAX],
    // AL for up to a million instructions.)
    if (reg.at != kUserReadOnly)
      out.push_back({std::string("jmp_") + reg.name, [=](Rng& rng, uint64_t, State&) {
                       Bytes b = mov_imm64(kR11, reg.at + rng() % 0x1000);
                       b.insert(b.end(), {0x41, 0xFF, 0xE3});
                       return b;
                     }});
    for (bool store : {false, true}) {
      out.push_back({std::string(store ? "store_" : "load_") + reg.name, [=](Rng& rng, uint64_t, State& in) {
                       const unsigned width = 8u << (rng() % 4);
                       in.gpr[kR11] = reg.at + (rng() % 2 ? rng() % 0x2000 : 0) - rng() % 8;
                       Bytes b;
                       if (width == 16) b.push_back(0x66);
                       b.push_back(width == 64 ? 0x49 : 0x41);
                       b.push_back(uint8_t((store ? 0x88 : 0x8A) + (width != 8)));
                       b.push_back(0x03);  // [R11], reg RAX
                       return b;
                     }});
    }
  }
  // Alignment check: AC = 1 with CR0.AM at CPL 3, a misaligned load.
  out.push_back({"ac_load", [](Rng& rng, uint64_t, State& in) {
                   in.flags |= kAc;
                   return Bytes{0x48, 0x8B, 0x43, uint8_t(1 + rng() % 7)};
                 }});
}

void put(uint8_t* ram, uint64_t at, uint64_t v) { std::memcpy(ram + at, &v, 8); }
uint64_t gdt_code64(unsigned dpl) { return 0x00209A0000000000ull | uint64_t{dpl} << 45; }
uint64_t gdt_data(unsigned dpl) { return 0x00CF92000000FFFFull | uint64_t{dpl} << 45; }

}  // namespace

std::vector<Snippet> snippets() {
  std::vector<Snippet> out;
  add_strings(out);
  add_stack(out);
  add_control(out);
  add_faults(out);
  return out;
}

void build_guest(uint8_t* ram) {
  std::memset(ram, 0, kImageBytes);
  const uint64_t pdpt = kPml4 + 0x1000, pd = kPml4 + 0x2000;
  put(ram, kPml4, pdpt | 7);
  put(ram, pdpt, pd | 7);
  put(ram, pd + 0, 0x87);                  // 0-2 MiB: present, writable, user, 2 MiB page
  put(ram, pd + 8, kUserReadOnly | 0x85);  // 2-4 MiB: present, user, read-only
  put(ram, pd + 16, kUserReadOnly | 0x83); // 4-6 MiB: present, writable, supervisor (the same frame)
  put(ram, kGdt + 8, gdt_code64(0));
  put(ram, kGdt + 0x18, gdt_data(3));
  put(ram, kGdt + 0x20, gdt_code64(3));
  put(ram, kGdt + 0x28, 0x0000890000000067ull | (kTss & 0xFFFFFF) << 16);  // 64-bit TSS, available
  put(ram, kGdt + 0x30, 0);
  for (unsigned v = 0; v < 256; ++v) {
    const uint64_t handler = kHandler + v;
    put(ram, kIdt + 16 * v, (handler & 0xFFFF) | uint64_t{kCode0} << 16 | 0x8E0000000000ull | (handler >> 16) << 48);
    put(ram, kIdt + 16 * v + 8, 0);
    ram[handler] = 0xF4;  // HLT
  }
  put(ram, kTss + 4, kKernelStack);
  ram[kTss + 0x66] = 0x68;  // the I/O bitmap lies beyond the limit: every port faults at CPL 3
}

}  // namespace vtlab::kvmtest
