// Block chaining: the engine goes from a block straight to the block that
// followed it last time, and never to one that a write, a TLB flush or a
// change of CS/CPL has made stale.
#include <gtest/gtest.h>

#include <vector>

#include "core/interpreter.h"
#include "core/machine.h"

namespace vtlab::test {

namespace {
struct FlatMachine {
  FlatMachine() : m(cfg()) {
    set_flat_protected_mode(m.cpu().s);
    m.cpu().s.rip = 0x1000;
  }
  static MachineConfig cfg() {
    MachineConfig c;
    c.ram_bytes = 4ull << 20;
    return c;
  }
  void put(uint64_t at, const std::vector<uint8_t>& bytes) {
    ASSERT_TRUE(m.memory().write_bytes(at, bytes.data(), bytes.size()));
  }
  Machine m;
};
}  // namespace

TEST(BlockChain, ALoopRunsThroughItsLinks) {
  FlatMachine f;
  f.put(0x1000, {
                    0xB9, 0xE8, 0x03, 0x00, 0x00,  // mov ecx, 1000
                    0x40,                          // inc eax
                    0xEB, 0x10,                    // jmp 0x1018
                });
  f.put(0x1018, {
                    0x49,                          // dec ecx
                    0x75, 0xEA,                    // jnz 0x1005
                    0xF4,                          // hlt
                });
  const RunResult r = f.m.run(100'000);
  EXPECT_EQ(r.reason, StopReason::Halted);
  EXPECT_EQ(f.m.cpu().s.gpr[RAX], 1000u);
  // 2000 block entries after the first one; the first of each block is a
  // lookup that makes the link, and the loop's first jump back too (the
  // link from the second block to the first is made then).
  EXPECT_EQ(f.m.interpreter().chained(), 1996u);
}

// The loop rewrites the block it jumps to: the link to the old decoding
// must not be followed.
TEST(BlockChain, AWriteToTheNextBlockBreaksTheLink) {
  FlatMachine f;
  f.put(0x1000, {
                    0xB9, 0x03, 0x00, 0x00, 0x00,  // mov ecx, 3
                    0xE9, 0x76, 0x00, 0x00, 0x00,  // 1005: jmp 0x1080
                });
  f.put(0x1080, {
                    0x83, 0xC0, 0x01,              // 1080: add eax, 1 (then add eax, 0x10)
                    0xEB, 0x7B,                    // jmp 0x1100
                });
  f.put(0x1100, {
                    0xC6, 0x05, 0x82, 0x10, 0x00, 0x00, 0x10,  // mov byte [0x1082], 0x10
                    0x49,                                      // dec ecx
                    0x0F, 0x85, 0xF7, 0xFE, 0xFF, 0xFF,        // jnz 0x1005
                    0xF4,                                      // hlt
                });
  const RunResult r = f.m.run(100'000);
  EXPECT_EQ(r.reason, StopReason::Halted);
  EXPECT_EQ(f.m.cpu().s.gpr[RAX], 0x21u);  // 1, then 0x10 twice
}

// The same linear address holds other code after a MOV to CR3: the link
// made under the old address space must not be followed under the new.
TEST(BlockChain, AnAddressSpaceSwitchBreaksTheLink) {
  FlatMachine f;
  PhysicalMemory& mem = f.m.memory();
  for (const uint64_t dir : {0x10000u, 0x12000u}) {
    const uint64_t table = dir + 0x1000;
    mem.write(dir, 4, table | 3);
    for (uint32_t i = 0; i < 1024; ++i) mem.write(table + i * 4, 4, (i << 12) | 3);
  }
  mem.write(0x11000 + 5 * 4, 4, 0x20000 | 3);  // linear 0x5000 -> 0x20000 in the first space
  mem.write(0x13000 + 5 * 4, 4, 0x21000 | 3);  // ... -> 0x21000 in the second
  f.put(0x20000, {0xB8, 0x01, 0x00, 0x00, 0x00, 0xC3});  // mov eax, 1; ret
  f.put(0x21000, {0xB8, 0x10, 0x00, 0x00, 0x00, 0xC3});  // mov eax, 0x10; ret
  // Three rounds, switching address spaces after each: first, second, first.
  f.put(0x1000, {
                    0xB9, 0x03, 0x00, 0x00, 0x00,  // mov ecx, 3
                    0xBC, 0x00, 0x90, 0x00, 0x00,  // mov esp, 0x9000
                    0xE8, 0xF1, 0x3F, 0x00, 0x00,  // 100a: call 0x5000
                    0x01, 0xC6,                    // add esi, eax
                    0x0F, 0x20, 0xD8,              // mov eax, cr3
                    0x35, 0x00, 0x20, 0x00, 0x00,  // xor eax, 0x2000
                    0x0F, 0x22, 0xD8,              // mov cr3, eax
                    0x49,                          // dec ecx
                    0x75, 0xEB,                    // jnz 0x100a
                    0xF4,                          // hlt
                });
  CpuState& s = f.m.cpu().s;
  s.cr3 = 0x10000;
  s.cr0 |= cr0::PG;
  const RunResult r = f.m.run(100'000);
  EXPECT_EQ(r.reason, StopReason::Halted) << r.detail;
  EXPECT_EQ(s.gpr[RSI], 0x12u);  // 1 + 0x10 + 1
}

// A debugger's stop points (Interpreter::set_stop_points): the run ends
// before the instruction at the point, found between blocks (the block
// before it ends there; a block that loops on itself does not loop past
// it), and a run that starts at a point executes it.
TEST(StopPoints, RunsStopBeforeAndStepOff) {
  FlatMachine f;
  f.put(0x1000, {
                    0xB9, 0x0A, 0x00, 0x00, 0x00,  // mov ecx, 10
                    0x40,                          // 0x1005: inc eax
                    0x43,                          // 0x1006: inc ebx   <- stop point (mid-block)
                    0x49,                          // dec ecx
                    0x75, 0xFB,                    // jnz 0x1005
                    0xF4,                          // hlt
                });
  Interpreter& in = f.m.interpreter();
  in.set_stop_points({0x1006}, {});
  for (uint64_t round = 1; round <= 10; ++round) {
    SCOPED_TRACE(round);
    const RunResult r = f.m.run(100'000);
    EXPECT_EQ(r.reason, StopReason::BudgetExhausted);
    EXPECT_TRUE(in.stopped_at_point());
    EXPECT_EQ(f.m.cpu().s.rip, 0x1006u);
    EXPECT_EQ(f.m.cpu().s.gpr[RAX], round);
    EXPECT_EQ(f.m.cpu().s.gpr[RBX], round - 1);
    EXPECT_EQ(f.m.cpu().icount, 2 + 4 * (round - 1));
  }
  EXPECT_EQ(f.m.run(100'000).reason, StopReason::Halted);
  EXPECT_FALSE(in.stopped_at_point());
  EXPECT_EQ(f.m.cpu().s.gpr[RBX], 10u);

  // A physical point at the loop's start, which its own block jumps back to.
  FlatMachine g;
  g.put(0x1000, {0xB9, 0x03, 0x00, 0x00, 0x00, 0x40, 0x49, 0x75, 0xFC, 0xF4});
  g.m.interpreter().set_stop_points({}, {0x1005});
  unsigned stops = 0;
  while (g.m.run(100'000).reason == StopReason::BudgetExhausted) {
    ASSERT_TRUE(g.m.interpreter().stopped_at_point());
    EXPECT_EQ(g.m.cpu().s.rip, 0x1005u);
    ++stops;
  }
  EXPECT_EQ(stops, 3u);
  EXPECT_EQ(g.m.cpu().s.gpr[RAX], 3u);
  // Cleared, nothing stops.
  FlatMachine h;
  h.put(0x1000, {0xB9, 0x03, 0x00, 0x00, 0x00, 0x40, 0x49, 0x75, 0xFC, 0xF4});
  h.m.interpreter().set_stop_points({0x1005}, {});
  h.m.interpreter().set_stop_points({}, {});
  EXPECT_EQ(h.m.run(100'000).reason, StopReason::Halted);
}

}  // namespace vtlab::test
