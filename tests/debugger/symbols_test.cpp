// SymbolTable: System.map parsing and the virtual -> physical offset Linux's
// phys_startup_32/64 give, on small maps laid out as the Debian 6.1 kernels'
// (addresses from their System.map files).
#include "debugger/symbols.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace vtlab {
namespace {

// The head of linux-image-6.1.0-50-686's map, and a static function twice.
constexpr const char* kI386Map =
    "000001ce A kexec_control_code_size\n"
    "01000000 A phys_startup_32\n"
    "c1000000 T _text\n"
    "c1000000 T startup_32\n"
    "c1d861b5 T i386_start_kernel\n"
    "c1d869c1 T start_kernel\n"
    "c1200000 t show_stats\n"
    "c1300000 t show_stats\n";

constexpr const char* kAmd64Map =
    "0000000001000000 A phys_startup_64\r\n"
    "ffffffff81000000 T _text\r\n"
    "ffffffff81000000 T startup_64\r\n"
    "ffffffff81000070 T secondary_startup_64\r\n"
    "\r\n"
    "ffffffff83077e46 T start_kernel\r\n";

TEST(Symbols, I386MapLinearIsTheLinkAddressPhysicalFollowsPhysStartup32) {
  SymbolTable t;
  t.load_system_map(kI386Map, "System.map");
  EXPECT_TRUE(t.has_map());
  EXPECT_EQ(t.size(), 7u);
  EXPECT_EQ(t.load_offset(), 0xc0000000u);
  EXPECT_EQ(t.linear("start_kernel"), 0xc1d869c1u);
  EXPECT_EQ(t.physical("start_kernel"), 0x01d869c1u);
  EXPECT_EQ(t.physical("startup_32"), 0x01000000u);
  // An absolute symbol is a value, not moved by the offset.
  EXPECT_EQ(t.linear("phys_startup_32"), 0x01000000u);
  EXPECT_EQ(t.physical("phys_startup_32"), 0x01000000u);
  EXPECT_EQ(t.physical("kexec_control_code_size"), 0x1ceu);
  // The first of two same-named statics.
  EXPECT_EQ(t.linear("show_stats"), 0xc1200000u);
}

TEST(Symbols, Amd64MapWithCrLfAndPhysStartup64) {
  SymbolTable t;
  t.load_system_map(kAmd64Map, "System.map");
  EXPECT_EQ(t.load_offset(), 0xffffffff80000000u);
  EXPECT_EQ(t.linear("startup_64"), 0xffffffff81000000u);
  EXPECT_EQ(t.physical("startup_64"), 0x01000000u);
  EXPECT_EQ(t.physical("secondary_startup_64"), 0x01000070u);
  EXPECT_EQ(t.physical("start_kernel"), 0x03077e46u);
}

TEST(Symbols, NamePlusOffsetAndUnknownNames) {
  SymbolTable t;
  t.load_system_map(kI386Map, "System.map");
  EXPECT_EQ(t.linear("start_kernel+0x10"), 0xc1d869d1u);
  EXPECT_EQ(t.physical("start_kernel+16"), 0x01d869d1u);
  EXPECT_EQ(t.linear("start_kernel+"), std::nullopt);
  EXPECT_EQ(t.linear("start_kernel+zz"), std::nullopt);
  EXPECT_EQ(t.linear("no_such_symbol"), std::nullopt);
  EXPECT_EQ(t.linear("start_kerne"), std::nullopt);
}

// A map without phys_startup_*: physical = linear.
TEST(Symbols, MapWithoutPhysStartupIsIdentity) {
  SymbolTable t;
  t.load_system_map("00100000 T _start\n0010002a T kmain\n", "kernel.map");
  EXPECT_EQ(t.load_offset(), 0u);
  EXPECT_EQ(t.physical("kmain"), 0x10002au);
}

TEST(Symbols, LoaderSymbolsAreLinearEqualsPhysical) {
  SymbolTable t;
  EXPECT_FALSE(t.has_map());
  t.load_system_map(kI386Map, "System.map");
  t.define("linux_entry", 0x100000);
  EXPECT_EQ(t.linear("linux_entry"), 0x100000u);
  EXPECT_EQ(t.physical("linux_entry"), 0x100000u);
  // A loader name replaces a map name of the same spelling.
  t.define("startup_32", 0x100000);
  EXPECT_EQ(t.physical("startup_32"), 0x100000u);
}

TEST(Symbols, MalformedLineNamesFileAndLine) {
  SymbolTable t;
  try {
    t.load_system_map("c1000000 T _text\nnot a map line at all\n", "bad.map");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "bad.map:2: not a System.map line (want ADDRESS TYPE NAME): not a map line at all");
  }
  EXPECT_THROW(t.load_system_map("c1000000 T\n", "m"), std::runtime_error);
  EXPECT_THROW(t.load_system_map("c1000000 TT name\n", "m"), std::runtime_error);
  EXPECT_THROW(t.load_system_map("1c1000000c1000000 T name\n", "m"), std::runtime_error);
}

}  // namespace
}  // namespace vtlab
