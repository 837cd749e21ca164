// The minimal ACPI tables an OS needs to find this machine's interrupt
// controllers and to power it off, following the ACPI 6.x specification,
// chapter 5 ("ACPI Software Programming Model"): an RSDP (revision 2, both
// checksums) pointing at an RSDT and an XSDT, each listing the FADT and the
// MADT; the FADT (revision 6, not hardware-reduced) pointing at the FACS,
// the DSDT and the PM blocks of devices/acpi_pm.h; the MADT (one local
// APIC, the I/O APIC of devices/ioapic.h, ISA IRQ 0 on GSI 2 and the SCI on
// IRQ 9, level and active high, LINT1 as NMI); and a DSDT whose AML is
// written out byte by byte in acpi_tables.cpp and declares only \_S5_.
//
// The tables sit in guest RAM, by default from 0xE0000 on, so the RSDP is
// where Linux's legacy scan (0xE0000-0xFFFFF, 16-byte steps) looks; the
// loader passes its address in boot_params.acpi_rsdp_addr too and marks
// the region reserved in the E820 map (the FACS must not be ordinary RAM).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vtlab {

class PhysicalMemory;

struct AcpiLayout {
  uint64_t base = 0x000E0000;   // where the RSDP goes (16-byte aligned); the other tables follow
  uint64_t limit = 0x00100000;  // the first byte the tables may not use
  uint32_t local_apic = 0xFEE00000;
  uint32_t ioapic = 0xFEC00000;
  uint16_t pm_base = 0x600;     // PM1a_EVT; PM1a_CNT at +4, PM_TMR at +8
  uint8_t sci_irq = 9;
  uint16_t reset_port = 0xCF9;  // the FADT's RESET_REG, and what to write there
  uint8_t reset_value = 0x06;
};

struct AcpiTables {
  uint64_t rsdp = 0;  // boot_params.acpi_rsdp_addr
  // What the E820 map marks reserved: the tables rounded out to whole pages.
  uint64_t region_base = 0, region_size = 0;
  // Where each table is, for tests and debuggers.
  uint64_t rsdt = 0, xsdt = 0, fadt = 0, facs = 0, madt = 0, dsdt = 0;
  // The bytes from rsdp on (the region's unused tail is not included).
  std::vector<uint8_t> image;
};

// The tables for `layout`, not yet in memory.  Throws std::invalid_argument
// when they do not fit between layout.base and layout.limit or the base is
// misaligned.
AcpiTables build_acpi_tables(const AcpiLayout& layout = {});

// Builds the tables and writes them to guest RAM.  Throws
// std::invalid_argument as above, or when the range is not RAM.
AcpiTables install_acpi_tables(PhysicalMemory& mem, const AcpiLayout& layout = {});

// The DSDT's AML (the definition block's body, after the table header).
std::vector<uint8_t> dsdt_aml();

// The byte that makes `len` bytes sum to zero, as every ACPI checksum does.
uint8_t acpi_checksum(const uint8_t* bytes, size_t len);

}  // namespace vtlab
