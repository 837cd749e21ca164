#include "support/cpu_harness.h"

#include <gtest/gtest.h>

#include "core/decoder.h"

namespace vtlab::test {

CpuHarness::CpuHarness(unsigned bits) {
  reset_cpu_state(cpu.s);
  if (bits == 64) {
    long_mode();
  } else if (bits == 32) {
    set_flat_protected_mode(cpu.s);
  } else {
    for (SegmentCache& sc : cpu.s.seg) {
      sc.selector = 0;
      sc.base = 0;
    }
  }
  cpu.s.rip = kCode;
  cpu.s.gpr[RSP] = kStack;
}

void CpuHarness::load(const std::vector<uint8_t>& bytes, uint64_t at) {
  mem.write_bytes(at, bytes.data(), bytes.size());
  cpu.s.rip = at - cpu.s.seg[CS].base;
  code_end_ = at + bytes.size();
}

void CpuHarness::load_asm(const std::string& source) {
  const unsigned bits = cpu.s.code_size() * 8;
  load(assemble(source, bits, kCode), kCode);
}

std::vector<std::vector<uint8_t>> assemble_each(const std::vector<std::string>& insns, unsigned bits) {
  std::string source;
  for (const std::string& i : insns) source += i + "\n";
  const std::vector<uint8_t> code = assemble(source, bits);
  static const Decoder decoder;
  std::vector<std::vector<uint8_t>> out;
  size_t at = 0;
  for (const std::string& i : insns) {
    DecodedInsn d;
    if (at >= code.size() || decoder.decode(code.data() + at, code.size() - at, bits / 8, d) != DecodeStatus::Ok) {
      ADD_FAILURE() << "cannot split the assembled instruction: " << i;
      break;
    }
    out.emplace_back(code.begin() + at, code.begin() + at + d.len);
    at += d.len;
  }
  return out;
}

void CpuHarness::identity_paging(uint64_t special, uint32_t special_flags) {
  const uint64_t pd = kPageTables, pt = kPageTables + 0x1000;
  mem.write(pd, 4, pt | 3);
  for (uint64_t i = 0; i < 1024; ++i) mem.write(pt + 4 * i, 4, (i << 12) | ((i << 12) == special ? special_flags : 3));
  cpu.s.cr3 = pd;
  cpu.s.cr0 |= cr0::PG;
  cpu.paging_changed(false);
}

// 64-bit mode as a kernel leaves it after the switch: PAE, EFER.LME/LMA
// (and SCE, NXE), paging on, CS.L=1 (selector 08), data selectors 10.  The
// tables identity-map the first 16 MiB with 2 MiB pages, writable, user.
void CpuHarness::four_level_tables() {
  const uint64_t pml4 = kPageTables, pdpt = kPageTables + 0x1000, pd = kPageTables + 0x2000;
  mem.write(pml4, 8, pdpt | 7);
  mem.write(pdpt, 8, pd | 7);
  for (uint64_t i = 0; i < 8; ++i) mem.write(pd + 8 * i, 8, (i << 21) | 0x87);
}

void CpuHarness::long_mode() {
  set_flat_protected_mode(cpu.s);
  four_level_tables();
  CpuState& s = cpu.s;
  s.cr3 = kPageTables;
  s.cr4 |= cr4::PAE;
  s.efer = efer::LME | efer::LMA | efer::SCE | efer::NXE;
  s.cr0 |= cr0::PG;
  s.seg[CS].attrs = (s.seg[CS].attrs & ~ar::kDb) | ar::kLong;
  cpu.paging_changed(false);
}

void run_reg_cases(const std::vector<RegCase>& cases) {
  std::vector<std::string> insns;
  for (const RegCase& c : cases) insns.push_back(c.insn);
  const std::vector<std::vector<uint8_t>> code = assemble_each(insns);
  ASSERT_EQ(code.size(), cases.size());
  CpuHarness h;
  for (size_t n = 0; n < cases.size(); ++n) {
    const RegCase& c = cases[n];
    SCOPED_TRACE(::testing::Message() << c.insn << " eax=" << std::hex << c.eax << " ecx=" << c.ecx
                                      << " edx=" << c.edx << " flags=" << c.flags_in);
    h.load(code[n]);
    h.engine.flush();
    h.cpu.s.gpr[RAX] = c.eax;
    h.cpu.s.gpr[RCX] = c.ecx;
    h.cpu.s.gpr[RDX] = c.edx;
    h.cpu.s.flags.set_bits(c.flags_in);
    ASSERT_EQ(h.run_to_end(), StopReason::BudgetExhausted);
    EXPECT_EQ(h.reg32(RAX), c.eax_out);
    EXPECT_EQ(h.reg32(RCX), c.ecx);  // sources are never written
    EXPECT_EQ(h.reg32(RDX), c.edx_out);
    EXPECT_EQ(h.arith_flags(), c.flags_out);
  }
}

void run_eax_ecx_cases(const std::vector<EaxEcxCase>& cases) {
  std::vector<RegCase> all;
  for (const EaxEcxCase& c : cases) all.push_back({c.insn, c.eax, c.ecx, 0, c.flags_in, c.eax_out, 0, c.flags_out});
  run_reg_cases(all);
}

StopReason CpuHarness::run_to_end() {
  StopReason r = StopReason::None;
  // Bounded: a snippet that loops forever fails the test instead of hanging.
  for (int guard = 0; guard < 1000000 && cpu.s.seg[CS].base + cpu.s.rip != code_end_; ++guard) {
    r = engine.run(1);
    if (r != StopReason::BudgetExhausted) return r;
  }
  return r;
}

Status CpuHarness::execute_one(DecodedInsn* decoded) {
  static const Decoder decoder;
  uint8_t bytes[15];
  const uint64_t lin = cpu.linear(CS, cpu.s.rip);
  for (unsigned n = 0; n < sizeof bytes; ++n) bytes[n] = static_cast<uint8_t>(mem.read(lin + n, 1));
  DecodedInsn insn;
  if (decoder.decode(bytes, sizeof bytes, cpu.s.code_size(), insn) != DecodeStatus::Ok) {
    ADD_FAILURE() << "cannot decode the instruction at " << std::hex << cpu.s.rip;
    return Status::Stop;
  }
  if (decoded) *decoded = insn;
  cpu.next_rip = (cpu.s.rip + insn.len) & all_ones(cpu.s.code_size());
  const Status st = insn.exec(cpu, insn);
  if (st == Status::Ok || st == Status::Halt) {
    cpu.s.rip = cpu.next_rip;
    ++cpu.icount;
  }
  return st;
}

}  // namespace vtlab::test
