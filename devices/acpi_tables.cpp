// Table layouts follow ACPI 6.x chapter 5: 5.2.5.3 (RSDP), 5.2.6 (the
// description header), 5.2.7 (RSDT), 5.2.8 (XSDT), 5.2.9 (FADT, table
// 5-33's offsets), 5.2.10 (FACS), 5.2.12 (MADT and its interrupt
// controller structures), and chapter 20 (AML encoding) for the DSDT.
#include "devices/acpi_tables.h"

#include <cstring>
#include <stdexcept>
#include <string>

#include "devices/acpi_pm.h"
#include "mmu/phys_memory.h"

namespace vtlab {

namespace {

// Little-endian stores into a table under construction.
void put8(std::vector<uint8_t>& t, size_t at, uint64_t v) { t.at(at) = static_cast<uint8_t>(v); }
void put16(std::vector<uint8_t>& t, size_t at, uint64_t v) {
  for (size_t i = 0; i < 2; ++i) put8(t, at + i, v >> (8 * i));
}
void put32(std::vector<uint8_t>& t, size_t at, uint64_t v) {
  for (size_t i = 0; i < 4; ++i) put8(t, at + i, v >> (8 * i));
}
void put64(std::vector<uint8_t>& t, size_t at, uint64_t v) {
  for (size_t i = 0; i < 8; ++i) put8(t, at + i, v >> (8 * i));
}
void put_text(std::vector<uint8_t>& t, size_t at, const char* s, size_t len) {
  std::memcpy(t.data() + at, s, len);
}

constexpr size_t kHeaderSize = 36;

// A table with its description header filled in (checksum left 0).
std::vector<uint8_t> table(const char* signature, size_t length, uint8_t revision) {
  std::vector<uint8_t> t(length);
  put_text(t, 0, signature, 4);
  put32(t, 4, length);
  put8(t, 8, revision);
  put_text(t, 10, "VTLAB ", 6);    // OEMID
  put_text(t, 16, "VTLABPC ", 8);  // OEM table ID: the same in every table (FADT and XSDT must match)
  put32(t, 24, 1);                 // OEM revision
  put_text(t, 28, "VTLB", 4);      // creator ID
  put32(t, 32, 1);                 // creator revision
  return t;
}

void seal(std::vector<uint8_t>& t) { t[9] = acpi_checksum(t.data(), t.size()); }

// A Generic Address Structure (5.2.3.2) in system I/O space.
void put_io_gas(std::vector<uint8_t>& t, size_t at, uint16_t port, uint8_t bits, uint8_t access_size) {
  put8(t, at, 1);  // address space: system I/O
  put8(t, at + 1, bits);
  put8(t, at + 2, 0);  // bit offset
  put8(t, at + 3, access_size);  // 1 byte, 2 word, 3 dword
  put64(t, at + 4, port);
}

std::vector<uint8_t> make_fadt(const AcpiLayout& l, uint64_t facs, uint64_t dsdt) {
  constexpr size_t kFadtSize = 276;  // revision 6
  std::vector<uint8_t> t = table("FACP", kFadtSize, 6);
  const uint16_t evt = l.pm_base + AcpiPm::PM1_STS, cnt = l.pm_base + AcpiPm::PM1_CNT, tmr = l.pm_base + AcpiPm::PM_TMR;
  // FIRMWARE_CTRL, not X_FIRMWARE_CTRL: the FACS is below 4 GiB and the
  // specification allows only one of the two to be non-zero.
  put32(t, 36, facs);
  put32(t, 40, dsdt);
  put8(t, 45, 0);  // Preferred_PM_Profile: unspecified
  put16(t, 46, l.sci_irq);
  put32(t, 48, 0);  // SMI_CMD 0: no SMM handover, the machine is in ACPI mode already
  put32(t, 56, evt);  // PM1a_EVT_BLK
  put32(t, 64, cnt);  // PM1a_CNT_BLK
  put32(t, 76, tmr);  // PM_TMR_BLK
  put8(t, 88, AcpiPm::kEvtLen);
  put8(t, 89, AcpiPm::kCntLen);
  put8(t, 91, AcpiPm::kTmrLen);
  // No C2/C3: latencies above 100 and 1000 us say they are not supported.
  put16(t, 96, 101);
  put16(t, 98, 1001);
  put8(t, 108, 0x32);  // CENTURY: the RTC's CMOS index (devices/cmos_rtc.h)
  // IAPC_BOOT_ARCH: legacy devices and an 8042; no VGA; no MSI (no PCI).
  put16(t, 109, 0x0001 | 0x0002 | 0x0004 | 0x0008);
  // Flags: WBINVD, PROC_C1, power and sleep buttons not fixed features,
  // RESET_REG_SUP; TMR_VAL_EXT clear (a 24-bit timer); not HW_REDUCED_ACPI.
  put32(t, 112, (1u << 0) | (1u << 2) | (1u << 4) | (1u << 5) | (1u << 10));
  put_io_gas(t, 116, l.reset_port, 8, 1);  // RESET_REG
  put8(t, 128, l.reset_value);
  put8(t, 131, 0);  // FADT minor version
  put64(t, 132, 0);  // X_FIRMWARE_CTRL: see FIRMWARE_CTRL
  put64(t, 140, dsdt);  // X_DSDT
  put_io_gas(t, 148, evt, 8 * AcpiPm::kEvtLen, 2);  // X_PM1a_EVT_BLK
  put_io_gas(t, 172, cnt, 8 * AcpiPm::kCntLen, 2);  // X_PM1a_CNT_BLK
  put_io_gas(t, 208, tmr, 8 * AcpiPm::kTmrLen, 3);  // X_PM_TMR_BLK
  seal(t);
  return t;
}

std::vector<uint8_t> make_facs() {
  std::vector<uint8_t> t(64);  // no checksum; hardware signature, waking vectors, lock, flags all 0
  put_text(t, 0, "FACS", 4);
  put32(t, 4, 64);
  put8(t, 32, 2);  // version
  return t;
}

std::vector<uint8_t> make_madt(const AcpiLayout& l) {
  std::vector<uint8_t> s;  // the interrupt controller structures
  const auto add = [&s](std::initializer_list<uint8_t> bytes) { s.insert(s.end(), bytes); };
  const auto b = [](uint64_t v, unsigned n) { return static_cast<uint8_t>(v >> (8 * n)); };
  // Processor local APIC: type 0, length 8, processor UID 0, APIC ID 0, enabled.
  add({0, 8, 0, 0, 1, 0, 0, 0});
  // I/O APIC: type 1, length 12, ID 0, reserved, address, GSI base 0.
  add({1, 12, 0, 0, b(l.ioapic, 0), b(l.ioapic, 1), b(l.ioapic, 2), b(l.ioapic, 3), 0, 0, 0, 0});
  // Interrupt source override: type 2, length 10, bus 0 (ISA), source IRQ 0,
  // GSI 2, flags 0 (the bus's own: edge, active high).
  add({2, 10, 0, 0, 2, 0, 0, 0, 0, 0});
  // The SCI: ISA IRQ 9 on GSI 9, flags 0x000D (active high, level).
  add({2, 10, 0, l.sci_irq, l.sci_irq, 0, 0, 0, 0x0D, 0x00});
  // Local APIC NMI: type 4, length 6, every processor (UID 0xFF), flags 0, LINT1.
  add({4, 6, 0xFF, 0, 0, 1});
  std::vector<uint8_t> t = table("APIC", kHeaderSize + 8 + s.size(), 4);
  put32(t, 36, l.local_apic);
  put32(t, 40, 1);  // PCAT_COMPAT: the 8259A pair is there too
  std::memcpy(t.data() + kHeaderSize + 8, s.data(), s.size());
  seal(t);
  return t;
}

std::vector<uint8_t> make_dsdt() {
  const std::vector<uint8_t> aml = dsdt_aml();
  std::vector<uint8_t> t = table("DSDT", kHeaderSize + aml.size(), 2);  // revision 2: 64-bit integers
  std::memcpy(t.data() + kHeaderSize, aml.data(), aml.size());
  seal(t);
  return t;
}

std::vector<uint8_t> make_rsdp(uint64_t rsdt, uint64_t xsdt) {
  std::vector<uint8_t> t(36);
  put_text(t, 0, "RSD PTR ", 8);
  put_text(t, 9, "VTLAB ", 6);
  put8(t, 15, 2);  // revision: ACPI 2.0 and later (XSDT present)
  put32(t, 16, rsdt);
  put32(t, 20, 36);
  put64(t, 24, xsdt);
  put8(t, 8, acpi_checksum(t.data(), 20));  // the ACPI 1.0 part
  put8(t, 32, acpi_checksum(t.data(), 36));  // the whole structure
  return t;
}

}  // namespace

uint8_t acpi_checksum(const uint8_t* bytes, size_t len) {
  uint8_t sum = 0;
  for (size_t i = 0; i < len; ++i) sum = static_cast<uint8_t>(sum + bytes[i]);
  return static_cast<uint8_t>(-sum);
}

// DefinitionBlock ("", "DSDT", 2, "VTLAB", "VTLABPC", 1) { Name (_S5, Package () { 5, 0, 0, 0 }) }
std::vector<uint8_t> dsdt_aml() {
  return {
      0x08,                    // NameOp
      0x5F, 0x53, 0x35, 0x5F,  // NameSeg "_S5_" (in the root scope: \_S5_)
      0x12,                    // PackageOp
      0x07,                    // PkgLength: 7 bytes from here to the package's end (one-byte encoding)
      0x04,                    // NumElements: 4
      0x0A, 0x05,              // BytePrefix 5: SLP_TYPa, what PM1a_CNT.SLP_TYP gets (AcpiPm::kSlpTypS5)
      0x00,                    // ZeroOp: SLP_TYPb (there is no PM1b block)
      0x00,                    // ZeroOp: reserved
      0x00,                    // ZeroOp: reserved
  };
}

AcpiTables build_acpi_tables(const AcpiLayout& layout) {
  if (layout.base % 16 || layout.limit <= layout.base || layout.limit > (uint64_t{1} << 32))
    throw std::invalid_argument("ACPI tables: the base must be 16-byte aligned and below the limit, under 4 GiB");
  AcpiTables out;
  std::vector<uint8_t>& img = out.image;
  // Each table at the next multiple of `align` after the previous one.
  const auto place = [&](const std::vector<uint8_t>& t, uint64_t align) {
    const uint64_t at = (layout.base + img.size() + align - 1) / align * align;
    img.resize(at - layout.base);
    img.insert(img.end(), t.begin(), t.end());
    return at;
  };
  // The addresses go into tables placed earlier, so lay them out first
  // with stand-ins of the right sizes, then build the real ones.
  const uint64_t rsdp = layout.base;
  const uint64_t rsdt = (rsdp + 36 + 15) / 16 * 16;
  const uint64_t xsdt = (rsdt + kHeaderSize + 2 * 4 + 15) / 16 * 16;
  const uint64_t fadt = (xsdt + kHeaderSize + 2 * 8 + 15) / 16 * 16;
  const uint64_t facs = (fadt + 276 + 63) / 64 * 64;
  const uint64_t madt = (facs + 64 + 15) / 16 * 16;
  const std::vector<uint8_t> madt_bytes = make_madt(layout);
  const uint64_t dsdt = (madt + madt_bytes.size() + 15) / 16 * 16;

  std::vector<uint8_t> rsdt_bytes = table("RSDT", kHeaderSize + 2 * 4, 1);
  put32(rsdt_bytes, kHeaderSize, fadt);
  put32(rsdt_bytes, kHeaderSize + 4, madt);
  seal(rsdt_bytes);
  std::vector<uint8_t> xsdt_bytes = table("XSDT", kHeaderSize + 2 * 8, 1);
  put64(xsdt_bytes, kHeaderSize, fadt);
  put64(xsdt_bytes, kHeaderSize + 8, madt);
  seal(xsdt_bytes);

  const bool laid_out = place(make_rsdp(rsdt, xsdt), 16) == rsdp && place(rsdt_bytes, 16) == rsdt &&
                        place(xsdt_bytes, 16) == xsdt && place(make_fadt(layout, facs, dsdt), 16) == fadt &&
                        place(make_facs(), 64) == facs && place(madt_bytes, 16) == madt &&
                        place(make_dsdt(), 16) == dsdt;
  if (!laid_out) throw std::logic_error("ACPI tables: the layout and the tables disagree");
  if (layout.base + img.size() > layout.limit)
    throw std::invalid_argument("ACPI tables: " + std::to_string(img.size()) + " bytes do not fit below the limit");
  out.rsdp = rsdp;
  out.rsdt = rsdt;
  out.xsdt = xsdt;
  out.fadt = fadt;
  out.facs = facs;
  out.madt = madt;
  out.dsdt = dsdt;
  out.region_base = layout.base & ~kPageMask;
  out.region_size = ((layout.base + img.size() + kPageMask) & ~kPageMask) - out.region_base;
  return out;
}

AcpiTables install_acpi_tables(PhysicalMemory& mem, const AcpiLayout& layout) {
  AcpiTables t = build_acpi_tables(layout);
  if (!mem.is_ram(t.rsdp, t.image.size()) || !mem.write_bytes(t.rsdp, t.image.data(), t.image.size()))
    throw std::invalid_argument("ACPI tables: the range from the base is not guest RAM");
  return t;
}

}  // namespace vtlab
