// A read-modify-write instruction that faults on a not-present page reports
// a write (W=1 in the #PF error code), as measured on an Intel host: ADD,
// INC and XCHG to a PROT_NONE page give error code 6 at CPL 3, a plain read
// gives 4.
#include <gtest/gtest.h>

#include "support/cpu_harness.h"

namespace vtlab::test {

namespace {

uint32_t fault_error(const std::string& insn) {
  CpuHarness h;
  h.identity_paging(CpuHarness::kData, /*not present*/ 0);
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
