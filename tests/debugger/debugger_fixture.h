// Test support for the debugger core: a whole Machine (16 MiB, devices
// wired) with a snippet at kCode, in flat 32-bit protected mode or real
// mode, and a Debugger over it.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/machine.h"
#include "debugger/debugger.h"
#include "support/assemble.h"

namespace vtlab::test {

class DebuggerTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kCode = 0x1000, kStack = 0x90000, kPageDir = 0x80000;

  DebuggerTest() : m(config()), dbg(m) {
    set_flat_protected_mode(m.cpu().s);
    m.cpu().s.gpr[RSP] = kStack;
  }
  static MachineConfig config() {
    MachineConfig c;
    c.ram_bytes = 16 << 20;
    return c;
  }
  // Assembles `source` at `at` (in the current code size) and points
  // CS:RIP at it.
  void load(const std::string& source, uint64_t at = kCode) {
    place(source, at);
    m.cpu().s.rip = at - m.cpu().s.seg[CS].base;
  }
  void place(const std::string& source, uint64_t at) {
    const std::vector<uint8_t> b = assemble(source, m.cpu().s.code_size() * 8, at);
    ASSERT_TRUE(m.memory().write_bytes(at, b.data(), b.size()));
  }
  void real_mode() {
    CpuState& s = m.cpu().s;
    reset_cpu_state(s);
    s.seg[CS].selector = 0;
    s.seg[CS].base = 0;
    s.gpr[RSP] = 0x8000;
  }
  // 4 KiB pages identity-mapping the first 4 MiB, but linear `alias` maps
  // to physical `target`; paging on.
  void paging_with_alias(uint64_t alias, uint64_t target) {
    PhysicalMemory& mem = m.memory();
    const uint64_t pt = kPageDir + 0x1000;
    mem.write(kPageDir, 4, pt | 3);
    for (uint64_t i = 0; i < 1024; ++i) mem.write(pt + 4 * i, 4, (i << 12) | 3);
    mem.write(pt + 4 * (alias >> 12), 4, target | 3);
    m.cpu().s.cr3 = kPageDir;
    m.cpu().s.cr0 |= cr0::PG;
    m.cpu().paging_changed(false);
  }
  uint32_t reg(Gpr r) const { return static_cast<uint32_t>(m.cpu().s.gpr[r]); }
  uint64_t rip() const { return m.cpu().s.rip; }

  Machine m;
  Debugger dbg;
};

}  // namespace vtlab::test
