// A read-modify-write instruction that faults on a not-present page reports
// a write (W=1 in the #PF error code), as measured on an Intel host: ADD,
// INC and XCHG to a PROT_NONE page give error code 6 at CPL 3, a plain read
// gives 4.
#include <gtest/gtest.h>

#include "support/cpu_harness.h"

namespace vtlab::test {

namespace {

// Identity-maps the first 4 MiB with 4 KiB pages, except the page at
// kData, which is not present; paging on.
void page_with_hole(CpuHarness& h) {
  const uint64_t pd = 0x30000, pt = 0x31000;
  h.mem.write(pd, 4, pt | 3);
  for (uint64_t i = 0; i < 1024; ++i) h.mem.write(pt + i * 4, 4, (i << 12) | 3);
  h.mem.write(pt + (CpuHarness::kData >> 12) * 4, 4, 0);
  h.cpu.s.cr3 = pd;
  h.cpu.s.cr0 |= cr0::PG;
}

uint32_t fault_error(const std::string& insn) {
  CpuHarness h;
  page_with_hole(h);
  h.load_asm(insn);
  EXPECT_EQ(h.execute_one(), Status::Exception) << insn;
  EXPECT_EQ(h.cpu.pending().vector, vec::PF) << insn;
  EXPECT_EQ(h.cpu.s.cr2, CpuHarness::kData + 4) << insn;
  return h.cpu.pending().error;
}

}  // namespace

TEST(RmwFault, ReadModifyWriteReportsAWrite) {
  EXPECT_EQ(fault_error("add dword ptr [0x20004], 1"), pfec::W);
  EXPECT_EQ(fault_error("inc byte ptr [0x20004]"), pfec::W);
  EXPECT_EQ(fault_error("xchg dword ptr [0x20004], eax"), pfec::W);
  EXPECT_EQ(fault_error("not word ptr [0x20004]"), pfec::W);
}

TEST(RmwFault, PlainReadAndWriteReportWhatTheyAre) {
  EXPECT_EQ(fault_error("mov eax, dword ptr [0x20004]"), 0u);
  EXPECT_EQ(fault_error("cmp dword ptr [0x20004], 1"), 0u);  // reads only
  EXPECT_EQ(fault_error("mov dword ptr [0x20004], 1"), pfec::W);
}

}  // namespace vtlab::test
