// QEMU's firmware configuration device (fw_cfg), the x86 port interface
// only, following QEMU's docs/specs/fw_cfg.rst: a 16-bit selector at 0x510
// and an 8-bit data port at 0x511 that streams the selected item a byte at
// a time.  Guests written for QEMU use it to learn the RAM size and CPU
// count without a BIOS.
//
// The two ports behave as QEMU's combined region does: a 16-bit write to
// either selects an item (and rewinds to its first byte); a byte read from
// either returns the next byte of the item, and 0 once past its end or for
// a selector with no item; byte writes are ignored (QEMU dropped data
// writes in v2.4).  Other access widths are not accepted: reads give 0 and
// writes are ignored, as on QEMU.
//
// The DMA interface (port 0x514) is not modelled, so the ID item does not
// advertise it and guests fall back to the port interface.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "devices/bus.h"

namespace vtlab {

class SnapshotReader;
class SnapshotWriter;

class FwCfg : public BusDevice {
 public:
  static constexpr uint64_t kPorts = 2;  // 0x510 selector, 0x511 data

  // Selector keys the model serves (fw_cfg.rst and QEMU's fw_cfg.h).
  enum Key : uint16_t {
    kSignature = 0x0000,  // "QEMU"
    kId = 0x0001,         // 32-bit LE feature bitmap; bit 0 = port interface
    kUuid = 0x0002,       // 16 bytes, all zero: no -uuid
    kRamSize = 0x0003,    // 64-bit LE bytes
    kNoGraphic = 0x0004,  // 16-bit LE; 1: vtlab has no display
    kNbCpus = 0x0005,     // 16-bit LE CPUs present at boot
    kBootMenu = 0x000E,   // 16-bit LE; 0: no boot menu
    kMaxCpus = 0x000F,    // 16-bit LE; on x86 QEMU puts the APIC ID limit here
    kFileDir = 0x0019,    // big-endian entry count, then 64-byte entries
  };

  FwCfg(uint64_t ram_bytes, uint16_t cpus);

  uint64_t read(uint64_t offset, unsigned size) override;
  void write(uint64_t offset, unsigned size, uint64_t value) override;
  std::string_view name() const override { return "fw_cfg"; }

  uint16_t selector() const { return selector_; }

  // Checkpoints (core/snapshot.h): the registers and internal state, not
  // the wiring.  load() is false for a snapshot this device did not write.
  void save(SnapshotWriter& w) const;
  bool load(SnapshotReader& r);

 private:
  void add_le(uint16_t key, uint64_t value, unsigned bytes);

  std::map<uint16_t, std::vector<uint8_t>> items_;
  uint16_t selector_ = 0;
  const std::vector<uint8_t>* item_ = nullptr;  // null: no item at the selector
  size_t offset_ = 0;
};

}  // namespace vtlab
