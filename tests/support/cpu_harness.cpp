#include "support/cpu_harness.h"

#include <gtest/gtest.h>

#include "core/decoder.h"

namespace vtlab::test {

CpuHarness::CpuHarness(unsigned bits) {
  reset_cpu_state(cpu.s);
  if (bits == 32) {
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
