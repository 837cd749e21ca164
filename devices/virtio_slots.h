// Where vtlab's PC puts its virtio-mmio devices (docs/VIRTIO.md): fixed
// slots of 0x200 bytes from 0xFEB00000, each with its own ISA IRQ, so a
// guest (or a Linux command line: virtio_mmio.device=512@0xfeb00000:5)
// can find them without discovery.  Slot 0 holds virtio-blk (--drive),
// slot 1 virtio-console (--virtio-console); an absent device leaves its
// slot unclaimed (reads all ones, so MagicValue does not match).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace vtlab {

class PhysicalMemory;
class VirtioBlk;
class VirtioConsole;

struct VirtioConfig {
  std::string drive;  // virtio-blk image file; empty: no block device
  bool drive_read_only = false;
  bool console = false;
};

class VirtioDevices {
 public:
  static constexpr uint64_t kBase = 0xFEB00000, kSlotSize = 0x200;
  static constexpr unsigned kBlkSlot = 0, kConsoleSlot = 1;
  static constexpr uint64_t slot_base(unsigned slot) { return kBase + kSlotSize * slot; }
  // IRQs 5 and 6: free on this PC (0 PIT, 1 keyboard, 2 cascade, 3/4 the
  // COM ports' conventional lines, 8 RTC) and not 7, the master PIC's
  // spurious line.
  static constexpr unsigned slot_irq(unsigned slot) { return 5 + slot; }

  using IrqLine = std::function<void(bool)>;
  // Creates and maps the configured devices.  Throws LoadError for an image
  // that cannot be opened; std::logic_error if a slot is already taken.
  VirtioDevices(const VirtioConfig& cfg, PhysicalMemory& mem, const std::function<IrqLine(unsigned irq)>& irq,
                std::function<void(uint8_t)> console_out);
  ~VirtioDevices();

  VirtioBlk* blk() { return blk_.get(); }
  VirtioConsole* console() { return console_.get(); }

 private:
  std::unique_ptr<VirtioBlk> blk_;
  std::unique_ptr<VirtioConsole> console_;
};

}  // namespace vtlab
