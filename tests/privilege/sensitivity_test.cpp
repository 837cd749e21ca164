// The sensitivity table (privilege/sensitivity.h) checked against the
// interpreter itself: every instruction it calls privileged must raise
// #GP(0) at CPL 3 and CPL 1 and run at CPL 0; every IOPL-sensitive one
// must fault exactly when CPL > IOPL; every hole must run at CPL 1 (or 3)
// and give the different result its sentence names (Robin & Irvine 2000,
// the SDM vol. 2 page of each instruction).  The exact classify() answers
// for decoded instructions, near and far forms included, come first.
#include <gtest/gtest.h>

#include <set>

#include "core/decoder.h"
#include "core/isa/registry.h"
#include "priv_fixture.h"
#include "privilege/sensitivity.h"

namespace vtlab::test {

namespace {

// One flat machine (PrivTest's GDT, IDT and TSS) plus ring-1 code and data
// segments, so an instruction can be run at CPL 0, 1 or 3 on a fresh CPU.
class Rig : public PrivTest {
 public:
  static constexpr uint16_t kCode1 = 0x38 | 1, kData1 = 0x40 | 1, kFreeTss = 0x48;
  static constexpr uint32_t kRing1Stack = 0x60000;

  explicit Rig(unsigned cpl = 0) {
    set_gdt(7, segment_descriptor(0, 0xFFFFF, 0xBB));            // code, DPL 1
    set_gdt(8, segment_descriptor(0, 0xFFFFF, 0xB3));            // data, DPL 1
    set_gdt(9, segment_descriptor(0x14000, 0x67, 0x89, 0));      // available 32-bit TSS
    h.write32(kTss + 0x64, 0x0068u << 16);                       // I/O map base past the limit: no bitmap
    if (cpl == 1) {
      h.cpu.s.seg[CS] = segment_cache(kCode1, gdt(7));
      for (unsigned s : {ES, SS, DS, FS, GS}) h.cpu.s.seg[s] = segment_cache(kData1, gdt(8));
      h.cpu.s.gpr[RSP] = kRing1Stack;
    } else if (cpl == 3) {
      enter_ring3();
    }
    h.cpu.s.flags.set_bits(flag::kReserved1 | flag::IF);
  }
  void TestBody() override {}

  Status run(const std::string& insn) {
    h.load_asm(insn);
    return h.execute_one();
  }
  // The same, for an instruction the table must call a hole.
  Status run_hole(const std::string& insn) {
    h.load_asm(insn);
    DecodedInsn d;
    const Status st = h.execute_one(&d);
    EXPECT_EQ(classify(d).kind, Sensitivity::Hole) << insn;
    return st;
  }
  void expect_gp(Status st, uint32_t error) {
    ASSERT_EQ(st, Status::Exception);
    EXPECT_EQ(h.cpu.pending().vector, vec::GP);
    EXPECT_EQ(h.cpu.pending().error, error);
  }
  void set_iopl(unsigned iopl) {
    h.cpu.s.flags.set_bits((h.flags() & ~flag::IOPL) | (iopl << flag::kIoplShift));
  }
  void push32(uint32_t v) {
    h.cpu.s.gpr[RSP] -= 4;
    h.write32(h.reg32(RSP), v);
  }
  uint32_t top(unsigned i = 0) { return stack32(i); }
  uint32_t sp() const { return esp(); }

  using PrivTest::expect_delivered;
  using PrivTest::h;
  using PrivTest::handler;
  using PrivTest::kCode0;
  using PrivTest::kConf0;
  using PrivTest::kData0;
  using PrivTest::kKernelStack;
  using PrivTest::kTssSel;
  using PrivTest::set_idt;
  using PrivTest::software_int;
};

const Decoder& decoder() {
  static const Decoder d;
  return d;
}

DecodedInsn decode(const std::vector<uint8_t>& bytes, unsigned code_size = 4) {
  DecodedInsn d;
  EXPECT_EQ(decoder().decode(bytes.data(), bytes.size(), code_size, d), DecodeStatus::Ok);
  return d;
}

// The 64-bit-mode-only system instructions, decoded as 64-bit code.
struct Case64 {
  const char* insn;
  Sensitivity kind;
};
const Case64 kCases64[] = {{"swapgs", Sensitivity::Privileged},
                           {"sysretq", Sensitivity::Privileged},
                           {"syscall", Sensitivity::Innocuous}};

using K = Sensitivity;

// Exact answers for decoded instructions: the mnemonic, and the operand
// form where it decides.
struct ClassifyCase {
  const char* insn;
  K kind;
};
const ClassifyCase kClassifyCases[] = {
    {"add eax, ebx", K::Innocuous},          {"mov eax, ebx", K::Innocuous},
    {"mov eax, [ebx]", K::Innocuous},        {"push eax", K::Innocuous},
    {"push ds", K::Innocuous},               {"push es", K::Innocuous},
    {"push cs", K::Hole},                    {"push ss", K::Hole},
    {"pop eax", K::Innocuous},               {"pop ds", K::Hole},
    {"pop ss", K::Hole},                     {"mov eax, ds", K::Innocuous},
    {"mov eax, cs", K::Hole},                {"mov word ptr [eax], ss", K::Hole},
    {"mov ds, ax", K::Hole},                 {"lss esp, [eax]", K::Hole},
    {"lds eax, [eax]", K::Hole},             {"mov eax, cr0", K::Privileged},
    {"mov cr3, eax", K::Privileged},         {"mov eax, dr6", K::Privileged},
    {"mov dr7, eax", K::Privileged},         {"lmsw ax", K::Privileged},
    {"smsw ax", K::Hole},                    {"smsw word ptr [eax]", K::Hole},
    {"jmp eax", K::Innocuous},               {"jmp dword ptr [eax]", K::Innocuous},
    {"jmp 0x1000", K::Innocuous},            {"jmp 0x08:0x1000", K::Hole},
    {"jmp fword ptr [eax]", K::Hole},        {"call eax", K::Innocuous},
    {"call dword ptr [eax]", K::Innocuous},  {"call 0x08:0x1000", K::Hole},
    {"call fword ptr [eax]", K::Hole},       {"ret", K::Innocuous},
    {"ret 8", K::Innocuous},                 {".byte 0x66, 0xC3", K::Innocuous},
    {"retf", K::Hole},                       {"retf 8", K::Hole},
    {".byte 0x66, 0xCB", K::Hole},           {"int 0x80", K::Hole},
    {"int3", K::Hole},                       {"into", K::Hole},
    {"int1", K::Hole},                       {"iretd", K::Hole},
    {"iretw", K::Hole},                      {"pushfd", K::Hole},
    {"pushfw", K::Hole},                     {"popfd", K::Hole},
    {"sgdt [eax]", K::Hole},                 {"sidt [eax]", K::Hole},
    {"sldt ax", K::Hole},                    {"str ax", K::Hole},
    {"lar eax, bx", K::Hole},                {"lsl eax, bx", K::Hole},
    {"verr ax", K::Hole},                    {"verw ax", K::Hole},
    {"arpl ax, bx", K::Innocuous},           {"cli", K::IoplSensitive},
    {"sti", K::IoplSensitive},               {"in al, 0x60", K::IoplSensitive},
    {"out dx, eax", K::IoplSensitive},       {"rep insw", K::IoplSensitive},
    {"outsb", K::IoplSensitive},             {"hlt", K::Privileged},
    {"clts", K::Privileged},                 {"lgdt [eax]", K::Privileged},
    {"lidt [eax]", K::Privileged},           {"lldt ax", K::Privileged},
    {"ltr ax", K::Privileged},               {"invlpg [eax]", K::Privileged},
    {"wbinvd", K::Privileged},               {"invd", K::Privileged},
    {"rdmsr", K::Privileged},                {"wrmsr", K::Privileged},
    {"rdtsc", K::Privileged},                {"sysexit", K::Privileged},
    {"sysenter", K::Innocuous},              {"cpuid", K::Innocuous},
};

}  // namespace

TEST(SensitivityTable, ClassifiesDecodedInstructionsExactly) {
  std::vector<std::string> insns;
  for (const ClassifyCase& c : kClassifyCases) insns.push_back(c.insn);
  const auto code = assemble_each(insns);
  ASSERT_EQ(code.size(), insns.size());
  for (size_t n = 0; n < code.size(); ++n) {
    SCOPED_TRACE(kClassifyCases[n].insn);
    const DecodedInsn d = decode(code[n]);
    const SensitivityInfo info = classify(d);
    EXPECT_EQ(sensitivity_name(info.kind), sensitivity_name(kClassifyCases[n].kind));
    EXPECT_FALSE(info.what.empty());
    EXPECT_EQ(info.what.back(), '.') << "one sentence: " << info.what;
    // The interpreter's own privileged flag agrees, but for RDTSC, which
    // is privileged only while CR4.TSD is set.
    const bool flagged = d.info & isa::info::kPrivileged;
    if (std::string(kClassifyCases[n].insn) != "rdtsc") {
      EXPECT_EQ(flagged, info.kind == K::Privileged);
    }
  }
}

TEST(SensitivityTable, LongModeSystemInstructions) {
  for (const Case64& c : kCases64) {
    SCOPED_TRACE(c.insn);
    const DecodedInsn d = decode(assemble_each({c.insn}, 64)[0], 8);
    const SensitivityInfo info = classify(d);
    EXPECT_EQ(sensitivity_name(info.kind), sensitivity_name(c.kind));
    EXPECT_EQ(bool(d.info & isa::info::kPrivileged), c.kind == Sensitivity::Privileged);
    EXPECT_EQ(info.what.back(), '.');
  }
}

TEST(SensitivityTable, SentencesNameTheInstruction) {
  const auto code = assemble_each({"sgdt [eax]", "popfd", "push cs", "mov eax, cr3", "hlt"});
  EXPECT_EQ(classify(decode(code[0])).what,
            "SGDT stores the real GDTR: a deprivileged kernel sees the monitor's GDT, not its own.");
  EXPECT_NE(classify(decode(code[1])).what.find("POPF"), std::string_view::npos);
  EXPECT_NE(classify(decode(code[2])).what.find("PUSH CS"), std::string_view::npos);
  EXPECT_NE(classify(decode(code[3])).what.find("control register"), std::string_view::npos);
  EXPECT_NE(classify(decode(code[4])).what.find("HLT"), std::string_view::npos);
}

TEST(SensitivityTable, Names) {
  EXPECT_EQ(sensitivity_name(K::Innocuous), "innocuous");
  EXPECT_EQ(sensitivity_name(K::Privileged), "privileged");
  EXPECT_EQ(sensitivity_name(K::IoplSensitive), "iopl-sensitive");
  EXPECT_EQ(sensitivity_name(K::Hole), "hole");
}

// Every mnemonic the table names by mnemonic alone has a case above, and
// every mnemonic the interpreter registers as privileged is privileged
// here: the table cannot grow an entry these tests do not check.
TEST(SensitivityTable, EveryListedMnemonicIsTested) {
  std::set<uint16_t> tested;
  const auto code = assemble_each([] {
    std::vector<std::string> v;
    for (const ClassifyCase& c : kClassifyCases) v.push_back(c.insn);
    return v;
  }());
  for (const auto& bytes : code) tested.insert(decode(bytes).mnemonic);
  for (const Case64& c : kCases64) tested.insert(decode(assemble_each({c.insn}, 64)[0], 8).mnemonic);
  // Zydis names each width of these separately; one width is run above.
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_POPF, ZYDIS_MNEMONIC_POPFQ, ZYDIS_MNEMONIC_PUSHFQ, ZYDIS_MNEMONIC_IRETQ,
                          ZYDIS_MNEMONIC_INSB, ZYDIS_MNEMONIC_INSD, ZYDIS_MNEMONIC_OUTSW, ZYDIS_MNEMONIC_OUTSD,
                          ZYDIS_MNEMONIC_LES, ZYDIS_MNEMONIC_LFS, ZYDIS_MNEMONIC_LGS})
    tested.insert(m);
  for (unsigned m = 0; m <= ZYDIS_MNEMONIC_MAX_VALUE; ++m) {
    DecodedInsn bare;
    bare.mnemonic = static_cast<uint16_t>(m);
    const K kind = classify(bare).kind;
    if (kind != K::Innocuous) {
      EXPECT_TRUE(tested.count(m)) << "untested: " << mnemonic_name(m);
    }
    const isa::InsnEntry* e = isa::insn_table().find(static_cast<ZydisMnemonic>(m));
    if (e && (e->info & isa::info::kPrivileged)) {
      EXPECT_EQ(kind, K::Privileged) << mnemonic_name(m);
    }
  }
}

// --- privileged: #GP(0) at CPL 3 and 1, runs at CPL 0 -----------------------

namespace {

struct PrivilegedCase {
  const char* insn;
  void (*setup)(Rig&);  // operands that make the CPL 0 run succeed
  Status at_cpl0 = Status::Ok;
};

void no_setup(Rig&) {}

const PrivilegedCase kPrivilegedCases[] = {
    {"hlt", no_setup, Status::Halt},
    {"clts", no_setup},
    {"lgdt [0x20000]", no_setup},
    {"lidt [0x20000]", no_setup},
    {"lldt ax", [](Rig& r) { r.h.cpu.s.gpr[RAX] = 0; }},  // a null LDT selector is allowed
    {"ltr ax", [](Rig& r) { r.h.cpu.s.gpr[RAX] = Rig::kFreeTss; }},
    {"lmsw ax", [](Rig& r) { r.h.cpu.s.gpr[RAX] = 1; }},
    {"invlpg [0x20000]", no_setup},
    {"wbinvd", no_setup},
    {"invd", no_setup},
    {"rdmsr", [](Rig& r) { r.h.cpu.s.gpr[RCX] = msr::kSysenterCs; }},
    {"wrmsr", [](Rig& r) { r.h.cpu.s.gpr[RCX] = msr::kSysenterCs; }},
    {"sysexit", [](Rig& r) { r.h.cpu.s.msrs[msr::kSysenterCs] = 0x08; }},
    {"rdtsc", [](Rig& r) { r.h.cpu.s.cr4 |= cr4::TSD; }},
    {"mov eax, cr0", no_setup},
    {"mov cr0, eax", [](Rig& r) { r.h.cpu.s.gpr[RAX] = r.h.cpu.s.cr0; }},
    {"mov eax, cr2", no_setup},
    {"mov cr2, eax", no_setup},
    {"mov eax, cr3", no_setup},
    {"mov cr3, eax", no_setup},
    {"mov eax, cr4", no_setup},
    {"mov cr4, eax", [](Rig& r) { r.h.cpu.s.gpr[RAX] = 0; }},
    {"mov eax, dr7", no_setup},
    {"mov dr7, eax", no_setup},
    {"mov dr0, eax", no_setup},
};

}  // namespace

TEST(SensitivityVsCpu, PrivilegedFaultAboveCpl0AndRunAtCpl0) {
  for (const PrivilegedCase& c : kPrivilegedCases) {
    SCOPED_TRACE(c.insn);
    for (unsigned cpl : {3u, 1u, 0u}) {
      SCOPED_TRACE(testing::Message() << "CPL " << cpl);
      Rig r(cpl);
      ASSERT_EQ(r.h.cpu.s.cpl(), cpl);
      c.setup(r);
      r.h.load_asm(c.insn);
      DecodedInsn d;
      const Status st = r.h.execute_one(&d);
      EXPECT_EQ(classify(d).kind, K::Privileged);
      if (cpl == 0) {
        EXPECT_EQ(st, c.at_cpl0);
      } else {
        r.expect_gp(st, 0);
        EXPECT_EQ(r.h.cpu.s.rip, CpuHarness::kCode) << "a fault does not retire";
      }
    }
  }
}

TEST(SensitivityVsCpu, RdtscIsPrivilegedOnlyWithCr4Tsd) {
  for (unsigned cpl : {3u, 1u}) {
    Rig r(cpl);
    EXPECT_EQ(r.run("rdtsc"), Status::Ok) << "CPL " << cpl;
  }
}

// --- IOPL-sensitive: #GP(0) exactly when CPL > IOPL -------------------------

TEST(SensitivityVsCpu, IoplSensitiveFaultWhenCplAboveIopl) {
  const char* insns[] = {"cli", "sti", "in al, 0x60", "out 0x80, al", "in eax, dx", "out dx, ax", "insb", "outsd"};
  for (const char* insn : insns) {
    SCOPED_TRACE(insn);
    struct Run {
      unsigned cpl, iopl;
      bool faults;
    };
    for (Run run : {Run{3, 0, true}, Run{1, 0, true}, Run{3, 2, true}, Run{1, 1, false}, Run{3, 3, false},
                    Run{0, 0, false}}) {
      SCOPED_TRACE(testing::Message() << "CPL " << run.cpl << " IOPL " << run.iopl);
      Rig r(run.cpl);
      r.set_iopl(run.iopl);
      r.h.cpu.s.gpr[RDI] = r.h.cpu.s.gpr[RSI] = CpuHarness::kData;
      r.h.cpu.s.gpr[RDX] = 0x80;
      r.h.load_asm(insn);
      DecodedInsn d;
      const Status st = r.h.execute_one(&d);
      EXPECT_EQ(classify(d).kind, K::IoplSensitive);
      if (run.faults) r.expect_gp(st, 0);
      else EXPECT_EQ(st, Status::Ok);
    }
  }
}

// --- holes: no fault at CPL 1 (or 3), a different result ---------------------

TEST(SensitivityVsCpu, PushCsSsAndMovFromThemRevealTheRpl) {
  struct Case {
    const char* insn;
    bool pushes;
    uint16_t at_cpl0, at_cpl1;
  };
  for (Case c : {Case{"push cs", true, Rig::kCode0, Rig::kCode1}, Case{"push ss", true, Rig::kData0, Rig::kData1},
                 Case{"mov eax, cs", false, Rig::kCode0, Rig::kCode1},
                 Case{"mov eax, ss", false, Rig::kData0, Rig::kData1}}) {
    SCOPED_TRACE(c.insn);
    for (unsigned cpl : {0u, 1u}) {
      Rig r(cpl);
      r.h.cpu.s.gpr[RAX] = 0xFFFFFFFF;
      ASSERT_EQ(r.run_hole(c.insn), Status::Ok);
      const uint32_t got = c.pushes ? r.top() & 0xFFFF : r.h.reg32(RAX);
      EXPECT_EQ(got, cpl == 0 ? c.at_cpl0 : c.at_cpl1) << "CPL " << cpl;
      EXPECT_EQ(got & 3, cpl) << "the RPL bits are the real CPL";
    }
  }
}

TEST(SensitivityVsCpu, PopfAboveIoplKeepsIfAndIopl) {
  for (unsigned cpl : {0u, 1u}) {
    Rig r(cpl);
    r.push32(flag::kReserved1 | (3u << flag::kIoplShift));  // IF=0, IOPL=3
    ASSERT_EQ(r.run_hole("popfd"), Status::Ok);
    if (cpl == 0) {
      EXPECT_FALSE(r.h.flags() & flag::IF);
      EXPECT_EQ(r.h.flags() & flag::IOPL, 3u << flag::kIoplShift);
    } else {
      EXPECT_TRUE(r.h.flags() & flag::IF) << "the ring-1 kernel's CLI-by-POPF is lost";
      EXPECT_EQ(r.h.flags() & flag::IOPL, 0u);
    }
  }
}

TEST(SensitivityVsCpu, PushfShowsTheRealIf) {
  // The guest kernel clears IF with POPF and reads it back with PUSHF.
  for (unsigned cpl : {0u, 1u}) {
    Rig r(cpl);
    r.push32(flag::kReserved1);
    r.h.load_asm("popfd\npushfd");
    ASSERT_EQ(r.h.execute_one(), Status::Ok);
    ASSERT_EQ(r.h.execute_one(), Status::Ok);
    EXPECT_EQ(r.top() & flag::IF, cpl == 0 ? 0u : uint32_t{flag::IF}) << "CPL " << cpl;
  }
}

TEST(SensitivityVsCpu, DescriptorTableStoresShowTheRealRegisters) {
  for (unsigned cpl : {1u, 3u}) {
    SCOPED_TRACE(testing::Message() << "CPL " << cpl);
    Rig r(cpl);
    r.h.cpu.s.gdtr = {0x00ABC000, 0x1FF};  // the monitor's tables, not the guest's
    r.h.cpu.s.idtr = {0x00DEF000, 0x7FF};
    r.h.cpu.s.ldtr.selector = 0x58;
    ASSERT_EQ(r.run_hole("sgdt [0x20000]"), Status::Ok);
    EXPECT_EQ(r.h.mem.read(CpuHarness::kData, 2), 0x1FFu);
    EXPECT_EQ(r.h.read32(CpuHarness::kData + 2), 0x00ABC000u);
    ASSERT_EQ(r.run_hole("sidt [0x20010]"), Status::Ok);
    EXPECT_EQ(r.h.mem.read(CpuHarness::kData + 0x10, 2), 0x7FFu);
    EXPECT_EQ(r.h.read32(CpuHarness::kData + 0x12), 0x00DEF000u);
    ASSERT_EQ(r.run_hole("sldt eax"), Status::Ok);
    EXPECT_EQ(r.h.reg32(RAX), 0x58u);
    ASSERT_EQ(r.run_hole("str eax"), Status::Ok);
    EXPECT_EQ(r.h.reg32(RAX), Rig::kTssSel);
  }
}

TEST(SensitivityVsCpu, SmswShowsTheRealCr0) {
  for (unsigned cpl : {1u, 3u}) {
    Rig r(cpl);
    r.h.cpu.s.cr0 |= cr0::TS;  // set by a monitor for lazy FPU switching
    r.h.cpu.s.gpr[RAX] = 0xFFFF0000;
    ASSERT_EQ(r.run_hole("smsw ax"), Status::Ok) << "CPL " << cpl;
    EXPECT_EQ(r.h.reg32(RAX), 0xFFFF0000u | (r.h.cpu.s.cr0 & 0xFFFF));
    EXPECT_TRUE(r.h.reg32(RAX) & cr0::TS);
  }
}

TEST(SensitivityVsCpu, LarLslVerrVerwFailOnDpl0SegmentsAtCpl1) {
  for (const char* insn : {"lar eax, bx", "lsl eax, bx", "verr bx", "verw bx"}) {
    SCOPED_TRACE(insn);
    for (unsigned cpl : {0u, 1u}) {
      Rig r(cpl);
      r.h.cpu.s.gpr[RAX] = 0xDEADBEEF;
      r.h.cpu.s.gpr[RBX] = 0x10;  // the kernel's DPL-0 data segment
      ASSERT_EQ(r.run_hole(insn), Status::Ok);
      EXPECT_EQ(bool(r.h.flags() & flag::ZF), cpl == 0) << "CPL " << cpl;
      if (cpl == 1) {
        EXPECT_EQ(r.h.reg32(RAX), 0xDEADBEEFu) << "a failing LAR/LSL writes nothing";
      }
    }
  }
}

TEST(SensitivityVsCpu, SegmentLoadsOfKernelSelectorsFaultAtCpl1) {
  for (const char* insn : {"mov ds, ax", "mov ss, ax", "pop ds", "pop ss"}) {
    SCOPED_TRACE(insn);
    for (unsigned cpl : {0u, 1u}) {
      Rig r(cpl);
      r.h.cpu.s.gpr[RAX] = 0x10;
      r.push32(0x10);
      const Status st = r.run_hole(insn);
      if (cpl == 0) {
        EXPECT_EQ(st, Status::Ok);
      }
      else r.expect_gp(st, 0x10);
    }
  }
  // Through a ring-1 selector with RPL 0, SS still needs RPL = CPL.
  Rig r(1);
  r.h.cpu.s.gpr[RAX] = Rig::kData1 & ~3;
  ASSERT_EQ(r.run_hole("mov ds, ax"), Status::Ok);
  r.expect_gp(r.run_hole("mov ss, ax"), Rig::kData1 & ~3);
}

TEST(SensitivityVsCpu, FarCallPushesTheRealCs) {
  for (unsigned cpl : {0u, 1u}) {
    Rig r(cpl);
    // Each kernel calls its own code segment with an RPL 0 selector.
    ASSERT_EQ(r.run_hole(cpl == 0 ? "call 0x08:0x2000" : "call 0x38:0x2000"), Status::Ok);
    EXPECT_EQ(r.top(1) & 0xFFFF, cpl == 0 ? Rig::kCode0 : Rig::kCode1) << "CPL " << cpl;
    EXPECT_EQ(r.h.cpu.s.seg[CS].selector & 3, cpl);
  }
  Rig r(1);
  r.expect_gp(r.run_hole("call 0x08:0x2000"), 0x08);
}

TEST(SensitivityVsCpu, FarJmpLoadsTheRealCplIntoCs) {
  for (unsigned cpl : {0u, 1u}) {
    Rig r(cpl);
    ASSERT_EQ(r.run_hole("jmp 0x30:0x2000"), Status::Ok);  // conforming, DPL 0
    EXPECT_EQ(r.h.cpu.s.seg[CS].selector, Rig::kConf0 | cpl) << "CPL " << cpl;
  }
  Rig r(1);
  r.expect_gp(r.run_hole("jmp 0x08:0x2000"), 0x08);
}

TEST(SensitivityVsCpu, FarRetToRpl0CodeFaultsAtCpl1) {
  for (unsigned cpl : {0u, 1u}) {
    Rig r(cpl);
    r.push32(Rig::kCode0);
    r.push32(0x2000);
    const Status st = r.run_hole("retf");
    if (cpl == 0) {
      ASSERT_EQ(st, Status::Ok);
      EXPECT_EQ(r.h.cpu.s.seg[CS].selector, Rig::kCode0);
    } else {
      r.expect_gp(st, Rig::kCode0);
    }
  }
}

TEST(SensitivityVsCpu, SoftwareInterruptFramesDependOnTheRealCpl) {
  constexpr uint8_t kVector = 0x40;
  // A DPL 0 gate: the kernel at ring 1 may not use it.
  {
    Rig r(1);
    r.software_int(kVector);
    r.expect_delivered(vec::GP);
    EXPECT_EQ(r.top(0), kVector * 8u + 2);  // IDT, not EXT
  }
  // A DPL 3 gate: from ring 0 a 3-word frame on the same stack, from ring 1
  // a stack switch and a 5-word frame whose CS shows RPL 1.
  for (unsigned cpl : {0u, 1u}) {
    Rig r(cpl);
    r.set_idt(kVector, gate_descriptor(Rig::kCode0, Rig::handler(kVector), 0xEE));
    const uint32_t old_sp = r.sp();
    r.software_int(kVector);
    r.expect_delivered(kVector);
    EXPECT_EQ(r.top(1) & 0xFFFF, cpl == 0 ? Rig::kCode0 : Rig::kCode1);
    if (cpl == 0) {
      EXPECT_EQ(r.sp(), old_sp - 12);
    } else {
      EXPECT_EQ(r.sp(), Rig::kKernelStack - 20);
      EXPECT_EQ(r.top(3), old_sp);
      EXPECT_EQ(r.top(4) & 0xFFFF, Rig::kData1);
    }
  }
}

TEST(SensitivityVsCpu, IretAboveIoplKeepsIfAndIopl) {
  for (unsigned cpl : {0u, 1u}) {
    Rig r(cpl);
    r.push32(flag::kReserved1 | (3u << flag::kIoplShift));  // IF=0, IOPL=3
    r.push32(cpl == 0 ? Rig::kCode0 : Rig::kCode1);   // same level
    r.push32(0x2000);
    ASSERT_EQ(r.run_hole("iretd"), Status::Ok);
    EXPECT_EQ(r.h.cpu.s.rip, 0x2000u);
    EXPECT_EQ(bool(r.h.flags() & flag::IF), cpl != 0) << "CPL " << cpl;
    EXPECT_EQ(r.h.flags() & flag::IOPL, cpl == 0 ? 3u << flag::kIoplShift : 0u);
  }
}

}  // namespace vtlab::test
