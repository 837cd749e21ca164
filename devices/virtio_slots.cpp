#include "devices/virtio_slots.h"

#include <stdexcept>
#include <utility>

#include "devices/virtio_blk.h"
#include "devices/virtio_console.h"
#include "mmu/phys_memory.h"

namespace vtlab {

static_assert(VirtioDevices::kSlotSize == VirtioMmioDevice::kWindow);

VirtioDevices::VirtioDevices(const VirtioConfig& cfg, PhysicalMemory& mem,
                             const std::function<IrqLine(unsigned irq)>& irq, std::function<void(uint8_t)> console_out) {
  if (!cfg.drive.empty()) {
    blk_ = std::make_unique<VirtioBlk>(mem, irq(slot_irq(kBlkSlot)), BlockImage(cfg.drive, cfg.drive_read_only));
    if (!mem.map_mmio(slot_base(kBlkSlot), kSlotSize, blk_.get()))
      throw std::logic_error("machine memory map: the virtio-blk slot overlaps another device");
  }
  if (cfg.console) {
    console_ = std::make_unique<VirtioConsole>(mem, irq(slot_irq(kConsoleSlot)), std::move(console_out));
    if (!mem.map_mmio(slot_base(kConsoleSlot), kSlotSize, console_.get()))
      throw std::logic_error("machine memory map: the virtio-console slot overlaps another device");
  }
}

VirtioDevices::~VirtioDevices() = default;

}  // namespace vtlab
