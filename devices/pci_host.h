// The PCI host bridge's configuration mechanism #1 (PCI Local Bus
// Specification 3.0, 3.2.2.3.2) with one device behind it: an Intel 440FX
// host bridge at 00:00.0 (82441FX, 8086:1237), as QEMU's i440FX PC has.
//   0xCF8  CONFIG_ADDRESS: 32-bit accesses only (a byte at 0xCF9 is the
//          reset control register): bit 31 enable, bus 23:16, device 15:11,
//          function 10:8, dword register 7:2
//   0xCFC  CONFIG_DATA, 0xCFC-0xCFF: bytes, words or the dword of the
//          selected register, the byte lanes by the port's low two bits
// Nothing else sits on bus 0, so every other function reads as absent (all
// ones), and writes to configuration space change nothing: the bridge has
// no BARs, and decoding and bus mastering are always on.  Linux needs a
// host bridge it can find this way, or it reports "PCI: Fatal: No config
// space access function found".
#pragma once

#include <cstdint>

#include "devices/bus.h"

namespace vtlab {

class SnapshotReader;
class SnapshotWriter;

class PciHost {
 public:
  static constexpr uint64_t kAddressPort = 0xCF8, kDataPort = 0xCFC, kDataPorts = 4;

  BusDevice& address_port() { return address_port_; }
  BusDevice& data_port() { return data_port_; }

  // The 32-bit configuration register `reg` (byte offset, dword-aligned) of
  // bus:device.function, all ones when nothing answers.
  uint32_t config_read(unsigned bus, unsigned device, unsigned function, unsigned reg) const;

  void save(SnapshotWriter& w) const;
  bool load(SnapshotReader& r);

 private:
  struct AddressPort : BusDevice {
    PciHost* host;
    explicit AddressPort(PciHost* h) : host(h) {}
    uint64_t read(uint64_t offset, unsigned size) override;
    void write(uint64_t offset, unsigned size, uint64_t value) override;
    std::string_view name() const override { return "pci-config-address"; }
  };
  struct DataPort : BusDevice {
    PciHost* host;
    explicit DataPort(PciHost* h) : host(h) {}
    uint64_t read(uint64_t offset, unsigned size) override;
    void write(uint64_t, unsigned, uint64_t) override {}
    std::string_view name() const override { return "pci-config-data"; }
  };
  static constexpr uint32_t kEnable = 1u << 31, kAddressMask = 0x80FFFFFC;

  uint32_t config_address_ = 0;
  AddressPort address_port_{this};
  DataPort data_port_{this};
};

}  // namespace vtlab
