#include "devices/pci_host.h"

#include "core/snapshot.h"

namespace vtlab {

namespace {

// The 440FX's configuration header (82441FX datasheet, 3.2): vendor,
// device, command (memory and I/O decoding, bus master) and status
// (medium DEVSEL timing), revision 02, class 06/00/00 (host bridge),
// header type 0.  The chipset registers past 0x40 read 0 here.
uint32_t host_bridge_register(unsigned reg) {
  switch (reg) {
    case 0x00: return 0x12378086;
    case 0x04: return 0x02000007;
    case 0x08: return 0x06000002;
    default: return 0;
  }
}

}  // namespace

uint32_t PciHost::config_read(unsigned bus, unsigned device, unsigned function, unsigned reg) const {
  if (bus != 0 || device != 0 || function != 0) return 0xFFFFFFFF;
  return host_bridge_register(reg & 0xFC);
}

// Only a dword access reaches CONFIG_ADDRESS; narrower ones read the
// floating bus and are dropped, as on the PIIX.
uint64_t PciHost::AddressPort::read(uint64_t, unsigned size) { return size == 4 ? host->config_address_ : all_ones(size); }

void PciHost::AddressPort::write(uint64_t, unsigned size, uint64_t value) {
  if (size == 4) host->config_address_ = static_cast<uint32_t>(value) & kAddressMask;
}

uint64_t PciHost::DataPort::read(uint64_t offset, unsigned size) {
  const uint32_t a = host->config_address_;
  if (!(a & kEnable)) return all_ones(size);
  const uint32_t dword = host->config_read((a >> 16) & 0xFF, (a >> 11) & 0x1F, (a >> 8) & 7, a & 0xFC);
  return (dword >> (8 * (offset & 3))) & all_ones(size);
}

void PciHost::save(SnapshotWriter& w) const { w.put(config_address_); }

bool PciHost::load(SnapshotReader& r) { return r.get(config_address_); }

}  // namespace vtlab
