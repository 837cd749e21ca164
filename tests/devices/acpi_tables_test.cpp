#include "devices/acpi_tables.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "devices/acpi_pm.h"
#include "mmu/phys_memory.h"

namespace vtlab {
namespace {

// Reads of the built image by guest-physical address.
class AcpiTablesTest : public ::testing::Test {
 protected:
  const uint8_t* at(uint64_t addr) { return t.image.data() + (addr - t.rsdp); }
  uint64_t le(uint64_t addr, unsigned n) {
    uint64_t v = 0;
    for (unsigned i = 0; i < n; ++i) v |= uint64_t{at(addr)[i]} << (8 * i);
    return v;
  }
  std::string text(uint64_t addr, size_t n) { return std::string(reinterpret_cast<const char*>(at(addr)), n); }
  std::vector<uint8_t> bytes(uint64_t addr, size_t n) { return std::vector<uint8_t>(at(addr), at(addr) + n); }
  static unsigned sum(const uint8_t* p, size_t n) {
    unsigned s = 0;
    for (size_t i = 0; i < n; ++i) s += p[i];
    return s & 0xFF;
  }
  // A description header: signature, length, revision, checksum over the length.
  void expect_table(uint64_t addr, const char* sig, uint32_t length, uint8_t revision) {
    SCOPED_TRACE(sig);
    EXPECT_EQ(text(addr, 4), sig);
    EXPECT_EQ(le(addr + 4, 4), length);
    EXPECT_EQ(le(addr + 8, 1), revision);
    EXPECT_EQ(sum(at(addr), length), 0u);
    EXPECT_EQ(text(addr + 10, 6), "VTLAB ");
    EXPECT_EQ(text(addr + 16, 8), "VTLABPC ");
  }

  AcpiTables t = build_acpi_tables();
};

TEST_F(AcpiTablesTest, LayoutFromTheRsdpAtE0000) {
  EXPECT_EQ(t.rsdp, 0xE0000u);
  EXPECT_EQ(t.rsdt, 0xE0030u);
  EXPECT_EQ(t.xsdt, 0xE0060u);
  EXPECT_EQ(t.fadt, 0xE00A0u);
  EXPECT_EQ(t.facs, 0xE01C0u);  // 64-byte aligned
  EXPECT_EQ(t.madt, 0xE0200u);
  EXPECT_EQ(t.dsdt, 0xE0260u);
  EXPECT_EQ(t.image.size(), 0x291u);
  EXPECT_EQ(t.region_base, 0xE0000u);
  EXPECT_EQ(t.region_size, 0x1000u);
}

TEST_F(AcpiTablesTest, RsdpRevision2WithBothChecksums) {
  EXPECT_EQ(text(t.rsdp, 8), "RSD PTR ");
  EXPECT_EQ(sum(at(t.rsdp), 20), 0u);  // the ACPI 1.0 checksum
  EXPECT_EQ(sum(at(t.rsdp), 36), 0u);  // the extended checksum
  EXPECT_EQ(text(t.rsdp + 9, 6), "VTLAB ");
  EXPECT_EQ(le(t.rsdp + 15, 1), 2u);
  EXPECT_EQ(le(t.rsdp + 16, 4), t.rsdt);
  EXPECT_EQ(le(t.rsdp + 20, 4), 36u);
  EXPECT_EQ(le(t.rsdp + 24, 8), t.xsdt);
  EXPECT_EQ(bytes(t.rsdp + 33, 3), (std::vector<uint8_t>{0, 0, 0}));
  // The checksum bytes themselves, for this layout.
  EXPECT_EQ(le(t.rsdp + 8, 1), 0x08u);  // "RSD PTR " 543 + "VTLAB " 409 + 2 + RSDT 62 = 1016
  EXPECT_EQ(le(t.rsdp + 32, 1), 0x6Eu);  // length 36 + XSDT 110 = 146
}

TEST_F(AcpiTablesTest, RsdtAndXsdtListTheFadtAndTheMadt) {
  expect_table(t.rsdt, "RSDT", 44, 1);
  EXPECT_EQ(le(t.rsdt + 36, 4), t.fadt);
  EXPECT_EQ(le(t.rsdt + 40, 4), t.madt);
  expect_table(t.xsdt, "XSDT", 52, 1);
  EXPECT_EQ(le(t.xsdt + 36, 8), t.fadt);
  EXPECT_EQ(le(t.xsdt + 44, 8), t.madt);
}

TEST_F(AcpiTablesTest, FadtPointsAtThePmBlocksTheFacsAndTheDsdt) {
  expect_table(t.fadt, "FACP", 276, 6);
  const uint64_t f = t.fadt;
  EXPECT_EQ(le(f + 36, 4), t.facs);  // FIRMWARE_CTRL
  EXPECT_EQ(le(f + 132, 8), 0u);     // X_FIRMWARE_CTRL: only one of the two may be set
  EXPECT_EQ(le(f + 40, 4), t.dsdt);  // DSDT
  EXPECT_EQ(le(f + 140, 8), t.dsdt);  // X_DSDT
  EXPECT_EQ(le(f + 46, 2), 9u);      // SCI_INT
  EXPECT_EQ(le(f + 48, 4), 0u);      // SMI_CMD: already in ACPI mode
  EXPECT_EQ(le(f + 52, 2), 0u);      // ACPI_ENABLE, ACPI_DISABLE
  EXPECT_EQ(le(f + 56, 4), 0x600u);  // PM1a_EVT_BLK
  EXPECT_EQ(le(f + 60, 4), 0u);      // PM1b_EVT_BLK
  EXPECT_EQ(le(f + 64, 4), 0x604u);  // PM1a_CNT_BLK
  EXPECT_EQ(le(f + 68, 4), 0u);      // PM1b_CNT_BLK
  EXPECT_EQ(le(f + 72, 4), 0u);      // PM2_CNT_BLK
  EXPECT_EQ(le(f + 76, 4), 0x608u);  // PM_TMR_BLK
  EXPECT_EQ(le(f + 80, 8), 0u);      // GPE0_BLK, GPE1_BLK
  EXPECT_EQ(bytes(f + 88, 8), (std::vector<uint8_t>{4, 2, 0, 4, 0, 0, 0, 0}));  // block lengths
  EXPECT_EQ(le(f + 96, 2), 101u);    // P_LVL2_LAT: no C2
  EXPECT_EQ(le(f + 98, 2), 1001u);   // P_LVL3_LAT: no C3
  EXPECT_EQ(le(f + 108, 1), 0x32u);  // CENTURY
  EXPECT_EQ(le(f + 109, 2), 0x000Fu);  // IAPC_BOOT_ARCH: legacy devices, 8042, no VGA, no MSI
  EXPECT_EQ(le(f + 112, 4), 0x00000435u);  // WBINVD, PROC_C1, PWR/SLP_BUTTON, RESET_REG_SUP
  EXPECT_EQ(le(f + 112, 4) & (1u << 20), 0u);  // not HW_REDUCED_ACPI
  // TMR_VAL_EXT (bit 8) clear matches the PM device's 24-bit timer.
  EXPECT_EQ(AcpiPm::kTimerBits, 24u);
  EXPECT_EQ(le(f + 112, 4) & (1u << 8), 0u);
  // RESET_REG: system I/O, 8 bits at 0xCF9; RESET_VALUE 6.
  EXPECT_EQ(bytes(f + 116, 12), (std::vector<uint8_t>{1, 8, 0, 1, 0xF9, 0x0C, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(le(f + 128, 1), 6u);
  // X_PM1a_EVT_BLK, X_PM1a_CNT_BLK, X_PM_TMR_BLK: the same ports as GASes.
  EXPECT_EQ(bytes(f + 148, 12), (std::vector<uint8_t>{1, 32, 0, 2, 0x00, 0x06, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(bytes(f + 172, 12), (std::vector<uint8_t>{1, 16, 0, 2, 0x04, 0x06, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(bytes(f + 208, 12), (std::vector<uint8_t>{1, 32, 0, 3, 0x08, 0x06, 0, 0, 0, 0, 0, 0}));
  for (uint64_t gas : {160, 184, 196, 220, 232, 244, 256}) EXPECT_EQ(le(f + gas, 8) | le(f + gas + 8, 4), 0u) << gas;  // PM1b, PM2, GPE0/1, sleep control/status: none
  EXPECT_EQ(le(f + 268, 8), 0u);  // hypervisor vendor identity
}

TEST_F(AcpiTablesTest, Facs) {
  EXPECT_EQ(t.facs % 64, 0u);
  EXPECT_EQ(text(t.facs, 4), "FACS");
  EXPECT_EQ(le(t.facs + 4, 4), 64u);
  EXPECT_EQ(le(t.facs + 32, 1), 2u);  // version
  EXPECT_EQ(sum(at(t.facs + 8), 24), 0u);  // signature, vectors, lock, flags all 0
}

TEST_F(AcpiTablesTest, MadtDeclaresTheApicsAndTheIsaOverrides) {
  expect_table(t.madt, "APIC", 90, 4);
  EXPECT_EQ(le(t.madt + 36, 4), 0xFEE00000u);  // local APIC address
  EXPECT_EQ(le(t.madt + 40, 4), 1u);           // PCAT_COMPAT
  EXPECT_EQ(bytes(t.madt + 44, 46), (std::vector<uint8_t>{
                                        0, 8, 0, 0, 1, 0, 0, 0,                    // local APIC 0, enabled
                                        1, 12, 0, 0, 0, 0, 0xC0, 0xFE, 0, 0, 0, 0,  // I/O APIC 0 at 0xFEC00000, GSI 0
                                        2, 10, 0, 0, 2, 0, 0, 0, 0, 0,              // ISA IRQ 0 -> GSI 2
                                        2, 10, 0, 9, 9, 0, 0, 0, 0x0D, 0,           // IRQ 9: level, active high
                                        4, 6, 0xFF, 0, 0, 1,                        // NMI on LINT1, all CPUs
                                    }));
}

TEST_F(AcpiTablesTest, DsdtDeclaresOnlyS5) {
  expect_table(t.dsdt, "DSDT", 49, 2);
  const std::vector<uint8_t> aml = {0x08, '_', 'S', '5', '_', 0x12, 0x07, 0x04, 0x0A, 0x05, 0x00, 0x00, 0x00};
  EXPECT_EQ(dsdt_aml(), aml);
  EXPECT_EQ(bytes(t.dsdt + 36, 13), aml);
  // PkgLength counts itself and everything after it in the package.
  EXPECT_EQ(aml[6], aml.size() - 6);
  EXPECT_EQ(aml[9], AcpiPm::kSlpTypS5);
}

TEST_F(AcpiTablesTest, InstallWritesThemToRam) {
  PhysicalMemory mem(2ull << 20);
  const AcpiTables installed = install_acpi_tables(mem);
  EXPECT_EQ(installed.rsdp, 0xE0000u);
  std::vector<uint8_t> back(installed.image.size());
  ASSERT_TRUE(mem.read_bytes(installed.rsdp, back.data(), back.size()));
  EXPECT_EQ(back, t.image);
}

TEST_F(AcpiTablesTest, BadLayoutsAreRefused) {
  AcpiLayout l;
  l.base = 0xE0008;
  EXPECT_THROW(build_acpi_tables(l), std::invalid_argument);
  l.base = 0xFFF00;  // 0x291 bytes do not fit below 1 MiB
  EXPECT_THROW(build_acpi_tables(l), std::invalid_argument);
  PhysicalMemory small(512ull << 10);  // no RAM at 0xE0000
  EXPECT_THROW(install_acpi_tables(small), std::invalid_argument);
}

TEST(AcpiChecksum, MakesTheBytesSumToZero) {
  const uint8_t b[] = {0x01, 0xFF, 0x10};
  EXPECT_EQ(acpi_checksum(b, 3), 0xF0);
  EXPECT_EQ(acpi_checksum(b, 0), 0x00);
}

}  // namespace
}  // namespace vtlab
