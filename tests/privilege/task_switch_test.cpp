// Hardware task switches (SDM vol. 3, 7.3; vol. 2 JMP, CALL, INT n, IRET):
// the old task's saved state, back link, NT and busy bits, the faults of
// table 7-1 before and after the commit point, and #DF through a task gate
// surviving a kernel stack overflow.
#include <gtest/gtest.h>

#include "priv_fixture.h"
#include "privilege/tss.h"

namespace vtlab::test {

namespace {

constexpr uint64_t kTss2 = 0x13000, kTss3 = 0x14000;
constexpr uint16_t kTss2Sel = 0x38, kTaskGateSel = 0x40, kTss3Sel = 0x48, kShortTss = 0x50, kLdtSel = 0x58;
constexpr uint32_t kTask2Eip = 0x5000, kTask2Esp = 0x50000, kTask3Eip = 0x6000, kTask3Esp = 0x70000;
constexpr uint8_t kTss32Available = 0x89;

class TaskSwitch : public PrivTest {
 protected:
  TaskSwitch() {
    set_gdt(7, segment_descriptor(kTss2, 0x67, kTss32Available, 0));
    set_gdt(8, gate_descriptor(kTss2Sel, 0, acc::kTaskGate | 0x60));  // DPL 3
    set_gdt(9, segment_descriptor(kTss3, 0x67, kTss32Available, 0));
    set_gdt(10, segment_descriptor(kTss2, 0x66, kTss32Available, 0));  // one byte short
    set_gdt(11, segment_descriptor(0x15000, 0xF, 0x82, 0));             // an LDT
    make_task(kTss2, kTask2Eip, kTask2Esp, 0x2000'0000);
    make_task(kTss3, kTask3Eip, kTask3Esp, 0x3000'0000);
    for (uint32_t at : {kTask2Eip, kTask3Eip})
      for (unsigned b = 0; b < 16; ++b) h.mem.write(at + b, 1, 0x90);
  }

  // A ring-0 task: flat segments, EFLAGS with only CF, GPRs tag+0..tag+7
  // (ESP excepted).
  void make_task(uint64_t base, uint32_t eip, uint32_t esp, uint32_t tag) {
    for (uint32_t off = 0; off < 0x68; off += 4) h.write32(base + off, 0);
    h.write32(base + tss32::kCr3, static_cast<uint32_t>(h.cpu.s.cr3));
    h.write32(base + tss32::kEip, eip);
    h.write32(base + tss32::kEflags, flag::kReserved1 | flag::CF);
    for (unsigned r = 0; r < 8; ++r) h.write32(base + tss32::kGprs + 4 * r, r == RSP ? esp : tag + r);
    for (unsigned sr = 0; sr < kNumSegRegs; ++sr) h.mem.write(base + tss32::kSegs + 4 * sr, 2, sr == CS ? kCode0 : kData0);
  }
  void set_task_seg(uint64_t base, unsigned sr, uint16_t sel) { h.mem.write(base + tss32::kSegs + 4 * sr, 2, sel); }

  uint8_t gdt_access(uint16_t sel) { return static_cast<uint8_t>(h.mem.read(kGdt + sel + 5, 1)); }
  uint32_t tss_field(uint64_t base, uint32_t off) { return h.read32(base + off); }

  void set_old_task_registers() {
    for (unsigned r = 0; r < 8; ++r)
      if (r != RSP) h.cpu.s.gpr[r] = 0x1000'0000 + r;
    h.cpu.s.flags.set_bits(flag::kReserved1 | flag::ZF | flag::IF);
  }
  void expect_registers(uint32_t tag) {
    for (unsigned r = 0; r < 8; ++r) {
      if (r == RSP) continue;
      EXPECT_EQ(h.reg32(static_cast<Gpr>(r)), tag + r) << "register " << r;
    }
  }
  void expect_in_task(uint16_t tr, uint32_t eip) {
    EXPECT_EQ(h.cpu.stop_requested(), StopReason::None) << h.cpu.stop_detail();
    EXPECT_EQ(h.cpu.s.tr.selector, tr);
    EXPECT_EQ(h.cpu.s.rip, eip);
  }
};

}  // namespace

TEST_F(TaskSwitch, JmpToATssSavesTheOldTaskAndLoadsTheNew) {
  set_old_task_registers();
  h.load_asm("jmp 0x38:0x12345678");  // the offset is ignored
  h.run(1);
  expect_in_task(kTss2Sel, kTask2Eip);
  expect_registers(0x2000'0000);
  EXPECT_EQ(esp(), kTask2Esp);
  EXPECT_EQ(h.flags(), flag::kReserved1 | flag::CF);  // a JMP does not nest: no NT
  EXPECT_TRUE(h.cpu.s.cr0 & cr0::TS);
  EXPECT_EQ(h.cpu.s.seg[CS].selector, kCode0);
  EXPECT_EQ(h.cpu.s.seg[SS].selector, kData0);
  EXPECT_EQ(h.cpu.s.tr.base, kTss2);
  EXPECT_EQ(h.cpu.s.tr.attrs & ar::kTypeMask, sys_type::kTss32Busy);
  // The old TSS holds the old task's dynamic state; its busy bit is clear.
  EXPECT_EQ(tss_field(kTss, tss32::kEip), CpuHarness::kCode + 7);
  EXPECT_EQ(tss_field(kTss, tss32::kEflags), flag::kReserved1 | flag::ZF | flag::IF);
  for (unsigned r = 0; r < 8; ++r)
    EXPECT_EQ(tss_field(kTss, tss32::kGprs + 4 * r), r == RSP ? CpuHarness::kStack : 0x1000'0000 + r);
  EXPECT_EQ(tss_field(kTss, tss32::kSegs + 4 * CS), kCode0);
  EXPECT_EQ(tss_field(kTss, tss32::kSegs + 4 * SS), kData0);
  EXPECT_EQ(gdt_access(kTssSel), kTss32Available);
  EXPECT_EQ(gdt_access(kTss2Sel), acc::kTss32Busy);
  EXPECT_EQ(tss_field(kTss2, tss32::kLink), 0u);
}

TEST_F(TaskSwitch, CallThroughATaskGateNestsAndIretReturns) {
  enter_ring3();  // the gate's DPL is 3; the TSS's (0) does not matter
  set_old_task_registers();
  h.load({0xCF}, kTask2Eip);  // iretd
  h.load_asm("call 0x43:0");
  h.run(1);
  expect_in_task(kTss2Sel, kTask2Eip);
  EXPECT_EQ(h.cpu.s.cpl(), 0u);
  EXPECT_EQ(h.flags(), flag::kReserved1 | flag::CF | flag::NT);
  EXPECT_EQ(tss_field(kTss2, tss32::kLink), kTssSel);
  EXPECT_EQ(gdt_access(kTssSel), acc::kTss32Busy);  // the caller stays busy
  EXPECT_EQ(gdt_access(kTss2Sel), acc::kTss32Busy);
  EXPECT_EQ(tss_field(kTss, tss32::kSegs + 4 * CS), kCode3);

  h.run(1);  // IRET with NT: back to the caller
  expect_in_task(kTssSel, CpuHarness::kCode + 7);
  expect_registers(0x1000'0000);
  EXPECT_EQ(h.cpu.s.cpl(), 3u);
  EXPECT_EQ(h.cpu.s.seg[CS].selector, kCode3);
  EXPECT_EQ(esp(), kUserStack);
  EXPECT_EQ(h.flags(), flag::kReserved1 | flag::ZF | flag::IF);
  EXPECT_EQ(gdt_access(kTss2Sel), kTss32Available);
  EXPECT_EQ(gdt_access(kTssSel), acc::kTss32Busy);
  // The returning task was saved with NT clear, just past its IRET.
  EXPECT_EQ(tss_field(kTss2, tss32::kEip), kTask2Eip + 1);
  EXPECT_EQ(tss_field(kTss2, tss32::kEflags), flag::kReserved1 | flag::CF);
}

TEST_F(TaskSwitch, IntThroughATaskGateInTheIdt) {
  set_idt(0x40, gate_descriptor(kTss2Sel, 0, acc::kTaskGate | 0x60));
  enter_ring3();
  h.load_asm("int 0x40");
  h.run(1);
  expect_in_task(kTss2Sel, kTask2Eip);
  EXPECT_EQ(tss_field(kTss, tss32::kEip), CpuHarness::kCode + 2);
  EXPECT_EQ(tss_field(kTss2, tss32::kLink), kTssSel);
  EXPECT_EQ(esp(), kTask2Esp);  // INT n pushes no error code
  EXPECT_EQ(h.flags(), flag::kReserved1 | flag::CF | flag::NT);
}

TEST_F(TaskSwitch, DoubleFaultThroughATaskGateSurvivesAStackOverflow) {
  // The kernel stack runs into a not-present guard page at 0x5F000: the
  // push faults (#PF), delivering that #PF faults again (#DF), and #DF goes
  // to a task with a stack of its own.
  h.identity_paging(0x5F000, 0);
  make_task(kTss3, kTask3Eip, kTask3Esp, 0x3000'0000);  // with the paging CR3
  set_idt(vec::DF, gate_descriptor(kTss3Sel, 0, acc::kTaskGate));
  h.cpu.s.gpr[RSP] = 0x60000;
  h.load_asm("push eax");
  h.run(2);  // the delivery, then the #DF task's first NOP
  expect_in_task(kTss3Sel, kTask3Eip + 1);
  EXPECT_EQ(esp(), kTask3Esp - 4);
  EXPECT_EQ(h.read32(kTask3Esp - 4), 0u);  // #DF's error code
  EXPECT_EQ(h.cpu.s.cr2, 0x5FFFCu);
  EXPECT_EQ(tss_field(kTss, tss32::kEip), CpuHarness::kCode);  // the faulting PUSH
  EXPECT_EQ(tss_field(kTss, tss32::kGprs + 4 * RSP), 0x60000u);
  EXPECT_EQ(tss_field(kTss3, tss32::kLink), kTssSel);
  EXPECT_TRUE(h.flags() & flag::NT);
}

TEST_F(TaskSwitch, TssLimitBelow67hIsTsInTheOldTask) {
  h.load_asm("jmp 0x50:0");
  expect_fault(vec::TS);
  EXPECT_EQ(stack32(0), kShortTss);
  EXPECT_EQ(h.cpu.s.tr.selector, kTssSel);
  EXPECT_EQ(gdt_access(kTssSel), acc::kTss32Busy);
  EXPECT_EQ(gdt_access(kShortTss), kTss32Available);
}

// Faults after the commit point belong to the new task.  The #TS handler is
// a task, as the SDM asks: the faulting task's segment registers are not
// usable.
class TaskSwitchCommitted : public TaskSwitch {
 protected:
  TaskSwitchCommitted() { set_idt(vec::TS, gate_descriptor(kTss3Sel, 0, acc::kTaskGate)); }

  void expect_ts_in_new_task(uint32_t error) {
    h.load_asm("jmp 0x38:0");
    h.run(2);  // the JMP's switch, the #TS task's switch and its first NOP
    expect_in_task(kTss3Sel, kTask3Eip + 1);
    EXPECT_EQ(h.read32(kTask3Esp - 4), error);
    EXPECT_EQ(esp(), kTask3Esp - 4);
    EXPECT_EQ(tss_field(kTss3, tss32::kLink), kTss2Sel);
    EXPECT_EQ(gdt_access(kTss2Sel), acc::kTss32Busy);  // committed: task 2 is running
    EXPECT_EQ(gdt_access(kTssSel), kTss32Available);
    EXPECT_EQ(tss_field(kTss2, tss32::kEip), kTask2Eip);  // it resumes at its start
  }
};

TEST_F(TaskSwitchCommitted, LdtSelectorNotNamingAnLdtIsTs) {
  h.write32(kTss2 + tss32::kLdt, kTss3Sel);
  expect_ts_in_new_task(kTss3Sel);
}

TEST_F(TaskSwitchCommitted, LdtSelectorInTheLdtIsTs) {
  h.write32(kTss2 + tss32::kLdt, kLdtSel | 4);
  expect_ts_in_new_task(kLdtSel | 4);
}

TEST_F(TaskSwitchCommitted, StackSegmentOfAnotherLevelIsTs) {
  set_task_seg(kTss2, SS, kData3);
  expect_ts_in_new_task(kData3 & ~3u);
  EXPECT_EQ(tss_field(kTss2, tss32::kSegs + 4 * SS), kData3);
}

TEST_F(TaskSwitchCommitted, DataSegmentBeyondTheGdtIsTs) {
  set_task_seg(kTss2, DS, 0x0100);
  expect_ts_in_new_task(0x0100);
}

// With an interrupt gate (not a task) for #TS, the handler runs in the new
// task: the switch completed "without additional checks" (SDM 7.3), so the
// registers the bad LDT kept from being qualified hold the new task's
// descriptors and the frame lands on the new task's stack.
TEST_F(TaskSwitch, FaultPastTheCommitPointStillLoadsTheNewTasksSegments) {
  h.write32(kTss2 + tss32::kLdt, kTss3Sel);  // not an LDT
  h.load_asm("jmp 0x38:0");
  expect_fault(vec::TS);
  expect_in_task(kTss2Sel, handler(vec::TS) + 1);
  EXPECT_EQ(h.cpu.s.seg[SS].selector, kData0);
  EXPECT_TRUE(h.cpu.s.seg[SS].present());
  EXPECT_EQ(h.cpu.s.seg[DS].selector, kData0);
  EXPECT_TRUE(h.cpu.s.seg[DS].present());
  EXPECT_EQ(esp(), kTask2Esp - 16);  // error code, EIP, CS, EFLAGS at the same level
  EXPECT_EQ(stack32(0), kTss3Sel);
  EXPECT_EQ(stack32(1), kTask2Eip);
  EXPECT_EQ(stack32(2), kCode0);
}

// The unchecked completion must not change who the new task is: its CPL
// is CS.RPL (table 7-1), not the DPL of the SS that failed the checks.
// So a DPL-0 handler is entered with a stack switch to the new TSS's SS0.
TEST_F(TaskSwitch, FaultPastTheCommitPointKeepsTheNewTasksCpl) {
  set_task_seg(kTss2, CS, kCode3);
  set_task_seg(kTss2, SS, kData0);  // RPL 0 under a ring-3 CS: #TS(0x10)
  for (unsigned sr : {ES, DS, FS, GS}) set_task_seg(kTss2, sr, kData3);
  h.write32(kTss2 + 4, 0x90000);  // ESP0
  h.write32(kTss2 + 8, kData0);   // SS0
  h.load_asm("jmp 0x38:0");
  h.run(1);
  EXPECT_EQ(h.cpu.s.rip, handler(vec::TS));
  EXPECT_EQ(esp(), 0x90000u - 24);  // error code, EIP, CS, EFLAGS, ESP, SS
  EXPECT_EQ(stack32(0), kData0);
  EXPECT_EQ(stack32(2), kCode3);
  EXPECT_EQ(stack32(5), kData0);  // the SS the new task was left with
}

// Two tasks whose TSSs overlap their own GDT descriptors, each faulting in
// the other's direction past its commit point: saving a task frees its own
// descriptor, so busy bits cannot end the cycle.  A real CPU spins; vtlab
// must stop with a reason, not hang.
TEST_F(TaskSwitch, EndlessPostCommitFaultCycleStopsTheMachine) {
  h.cpu.s.gdtr = {kGdt, 64 * 8 - 1};
  const auto self_tss = [&](unsigned idx) {
    const uint64_t base = kGdt + idx * 8 - tss32::kGprs;  // its EAX/ECX fields are its descriptor
    for (uint32_t off = 0; off < 0x68; off += 4) h.write32(base + off, 0);
    set_gdt(idx, segment_descriptor(base, 0x67, kTss32Available, 0));
    h.write32(base + tss32::kEflags, flag::kReserved1);
    set_task_seg(base, CS, kCode0);
    for (unsigned sr : {ES, DS, FS, GS}) set_task_seg(base, sr, kData0);
    return base;
  };
  const uint64_t y = self_tss(20), w = self_tss(40);  // selectors 0xA0 and 0x140
  set_gdt(50, segment_descriptor(0, 0xFFFFF, 0x13));  // 0x190: data, not present
  set_task_seg(y, SS, 0x190);                          // Y: #SS(0x190) after its commit
  set_task_seg(w, SS, kData0);
  h.write32(w + tss32::kLdt, kTssSel);                 // W: #TS(0x28) after its commit
  set_idt(0x40, gate_descriptor(0xA0, 0, acc::kTaskGate));
  set_idt(vec::SS, gate_descriptor(0x140, 0, acc::kTaskGate));
  set_idt(vec::TS, gate_descriptor(0xA0, 0, acc::kTaskGate));
  h.load_asm("int 0x40");
  EXPECT_EQ(h.run(1000), StopReason::Shutdown);
  EXPECT_EQ(h.cpu.stop_detail(),
            "64 task switches in a row each faulted in the new task before its first instruction (last: "
            "#TS(0x0029)); a real CPU would loop here for ever");  // EXT: raised delivering #SS
  EXPECT_EQ(h.cpu.events, 64u + 1u);  // each completed switch, and INT 0x40 itself
}

// Under PAE paging a task switch loads the PDPTEs from the new CR3; a bad
// one is a #GP(0) in the new task, after the rest of the switch.
TEST_F(TaskSwitch, PaePdptesLoadFromTheNewTasksCr3) {
  constexpr uint64_t kPdpt = 0x16000, kPd = 0x17000;
  h.mem.write(kPdpt, 8, kPd | 1);
  for (unsigned i = 1; i < 4; ++i) h.mem.write(kPdpt + 8 * i, 8, 0);
  for (unsigned i = 0; i < 512; ++i) h.mem.write(kPd + 8 * i, 8, (uint64_t{i} << 21) | 0x83);  // 2 MiB pages
  h.cpu.s.cr4 |= cr4::PAE;
  h.cpu.s.cr3 = kPdpt;
  ASSERT_TRUE(h.cpu.walker.load_pdptes(kPdpt, h.cpu.s.pdpte));
  h.cpu.s.cr0 |= cr0::PG;
  h.cpu.paging_changed(false);
  constexpr uint64_t kPdpt2 = 0x18000;
  h.mem.write(kPdpt2, 8, kPd | 1);
  h.mem.write(kPdpt2 + 8, 8, kPd | 1 | (1u << 5));  // bit 5 is reserved in a PDPTE
  h.write32(kTss2 + tss32::kCr3, kPdpt2);
  h.load_asm("jmp 0x38:0");
  expect_fault(vec::GP);
  expect_in_task(kTss2Sel, handler(vec::GP) + 1);
  EXPECT_EQ(h.cpu.s.cr3, kPdpt2);
  EXPECT_EQ(stack32(0), 0u);
  h.mem.write(kPdpt2 + 8, 8, 0);
  h.write32(kTss + tss32::kCr3, kPdpt2);  // back to the first task, now with good PDPTEs
  h.load_asm("jmp 0x28:0");
  h.run(1);
  EXPECT_EQ(h.cpu.s.tr.selector, kTssSel);
  EXPECT_EQ(h.cpu.s.pdpte[0], kPd | 1);
  EXPECT_EQ(h.cpu.s.pdpte[1], 0u);
}

TEST_F(TaskSwitchCommitted, ValidLdtLoadsAndLdtSegmentsWork) {
  h.write32(kTss2 + tss32::kLdt, kLdtSel);
  h.mem.write(0x15000, 8, segment_descriptor(0x1000, 0xFFFF, acc::kData0, 0x4));
  set_task_seg(kTss2, ES, 0x0004);  // LDT entry 0
  h.load_asm("jmp 0x38:0");
  h.run(1);
  expect_in_task(kTss2Sel, kTask2Eip);
  EXPECT_EQ(h.cpu.s.ldtr.selector, kLdtSel);
  EXPECT_EQ(h.cpu.s.ldtr.base, 0x15000u);
  EXPECT_EQ(h.cpu.s.seg[ES].selector, 0x0004);
  EXPECT_EQ(h.cpu.s.seg[ES].base, 0x1000u);
}

TEST_F(TaskSwitch, CallToTheBusyCurrentTssIsGp) {
  h.load_asm("call 0x28:0");
  expect_fault(vec::GP);
  EXPECT_EQ(stack32(0), kTssSel);
  h.cpu.s.gpr[RSP] = CpuHarness::kStack;
  set_gdt(8, gate_descriptor(kTssSel, 0, acc::kTaskGate));
  h.load_asm("call 0x40:0");  // through a gate: the TSS named is checked
  expect_fault(vec::GP);
  EXPECT_EQ(stack32(0), kTssSel);
}

TEST_F(TaskSwitch, JmpToATssAboveItsDplIsGp) {
  enter_ring3();
  h.load_asm("jmp 0x3b:0");  // TSS DPL 0 < CPL 3
  expect_fault(vec::GP);
  EXPECT_EQ(stack32(0), kTss2Sel);
  EXPECT_EQ(h.cpu.s.tr.selector, kTssSel);
}

TEST_F(TaskSwitch, IretWithABackLinkToAnAvailableTssIsTs) {
  h.write32(kTss + tss32::kLink, kTss2Sel);
  h.cpu.s.flags.set(flag::NT, true);
  h.load_asm("iretd");
  expect_fault(vec::TS);
  EXPECT_EQ(stack32(0), kTss2Sel);
  EXPECT_EQ(h.cpu.s.tr.selector, kTssSel);
}

TEST_F(TaskSwitch, TheTFlagRaisesADebugTrapInTheNewTask) {
  h.write32(kTss2 + tss32::kTrap, 1);
  h.load_asm("jmp 0x38:0");
  h.run(2);  // the JMP, the #DB delivery
  EXPECT_EQ(h.cpu.s.tr.selector, kTss2Sel);
  EXPECT_EQ(h.cpu.s.rip, handler(vec::DB));
  EXPECT_EQ(stack32(0), kTask2Eip);  // the trap returns to the task's first instruction
  EXPECT_EQ(esp(), kTask2Esp - 12);
  EXPECT_TRUE(h.cpu.s.dr[6] & (1u << 15));  // BT
}

}  // namespace vtlab::test
