// debugger/system_views.h on hand-built tables: the TSS decoded field by
// field in its 16- and 32-bit layouts (SDM vol. 3, figures 7-2 and 7-11),
// the I/O map base against the limit, an LDT clipped to 8192 descriptors
// whatever its page-granular limit, a null LDTR and a TR naming no TSS;
// natively both sides are the CPU's tables.
#include <gtest/gtest.h>

#include "debugger/system_views.h"
#include "debugger/debugger_fixture.h"

namespace vtlab::test {

namespace {

class SystemViewsTest : public DebuggerTest {
 protected:
  static constexpr uint64_t kTss = 0x20000, kLdt = 0x30000;
  void put(uint64_t at, unsigned size, uint64_t v) { m.memory().write(at, size, v); }
  void tr(unsigned type, uint32_t limit) {
    SegmentCache& t = m.cpu().s.tr;
    t.selector = 0x28;
    t.base = kTss;
    t.limit = limit;
    t.attrs = ar::kPresent | type;
  }
  const TssField& field(const TssView& v, const std::string& name) {
    for (const TssField& f : v.fields)
      if (f.name == name) return f;
    ADD_FAILURE() << "no field " << name;
    return v.fields.front();
  }
};

}  // namespace

TEST_F(SystemViewsTest, Tss32FieldsAndIoMap) {
  tr(0xB, 0x67);  // busy 32-bit TSS
  put(kTss + 4, 4, 0x9F000);   // ESP0
  put(kTss + 8, 2, 0x10);      // SS0
  put(kTss + 0x1C, 4, 0x5000); // CR3
  put(kTss + 0x4C, 2, 0x1B);   // CS
  put(kTss + 0x64, 2, 0x0001); // T
  put(kTss + 0x66, 2, 0x88);   // I/O map base beyond the limit
  const SystemTables t = system_tables(dbg, TablesSide::Guest);
  EXPECT_EQ(t.whose, "the CPU's, which are the guest's own (no shadow tables in this mode)");
  const TssView v = tss_view(t);
  EXPECT_EQ(v.format, 32u);
  EXPECT_TRUE(v.readable);
  ASSERT_EQ(v.fields.size(), 27u);  // link, 3 x ESP/SS, CR3, EIP, EFLAGS, 8 GPRs, 6 Sregs, LDT, T, I/O map base
  EXPECT_EQ(field(v, "ESP0").value, 0x9F000u);
  EXPECT_EQ(field(v, "ESP0").offset, 4u);
  EXPECT_EQ(field(v, "SS0").value, 0x10u);
  EXPECT_EQ(field(v, "CR3").value, 0x5000u);
  EXPECT_EQ(field(v, "CS").value, 0x1Bu);
  EXPECT_EQ(field(v, "CS").offset, 0x4Cu);
  EXPECT_EQ(field(v, "T").value, 1u);
  EXPECT_EQ(field(v, "I/O map base").value, 0x88u);
  EXPECT_FALSE(v.io_map_in_limit);
  put(kTss + 0x66, 2, 0x68);
  tr(0xB, 0x68 + 8192);
  EXPECT_TRUE(tss_view(system_tables(dbg, TablesSide::Guest)).io_map_in_limit);
}

TEST_F(SystemViewsTest, Tss16FieldsAndNoTss) {
  tr(0x3, 0x2B);  // busy 16-bit TSS
  put(kTss + 2, 2, 0x7000);  // SP0
  put(kTss + 4, 2, 0x18);    // SS0
  put(kTss + 42, 2, 0x30);   // LDT
  TssView v = tss_view(system_tables(dbg, TablesSide::Guest));
  EXPECT_EQ(v.format, 16u);
  ASSERT_EQ(v.fields.size(), 22u);  // no I/O map base in a 16-bit TSS
  EXPECT_EQ(field(v, "SP0").value, 0x7000u);
  EXPECT_EQ(field(v, "SS0").value, 0x18u);
  EXPECT_EQ(field(v, "LDT").value, 0x30u);
  EXPECT_EQ(field(v, "LDT").offset, 42u);

  tr(0x2, 0xFFFF);  // an LDT type in TR: no TSS
  EXPECT_EQ(tss_view(system_tables(dbg, TablesSide::Guest)).format, 0u);
  m.cpu().s.tr.attrs = 0xB;  // not present
  v = tss_view(system_tables(dbg, TablesSide::Guest));
  EXPECT_EQ(v.format, 0u);
  EXPECT_TRUE(v.fields.empty());
}

TEST_F(SystemViewsTest, LdtEntriesNullAndClipped) {
  SegmentCache& l = m.cpu().s.ldtr;
  l.selector = 0;
  l.attrs = ar::kPresent | 2;
  EXPECT_TRUE(ldt_view(system_tables(dbg, TablesSide::Guest)).empty());  // null LDTR
  l.selector = 0x30;
  l.base = kLdt;
  l.limit = 0xFFFFFFFF;  // page-granular: still at most 8192 descriptors
  put(kLdt + 8, 4, 0x0000FFFF);
  put(kLdt + 12, 4, 0x00CFF300);  // DPL 3 data, read/write, accessed
  const std::vector<DescriptorView> v = ldt_view(system_tables(dbg, TablesSide::Real));
  ASSERT_EQ(v.size(), 8192u);
  EXPECT_EQ(v[1].selector, 0x0C);  // TI set
  EXPECT_TRUE(v[1].d.present());
  EXPECT_EQ(v[1].d.dpl(), 3u);
  EXPECT_EQ(v[1].type_text, "data, read/write, accessed");
  EXPECT_EQ(shadow_page_tables(m), nullptr);
  EXPECT_FALSE(shadow_descriptor_tables(m));
}

}  // namespace vtlab::test
