// virtio 1.1 section 5.3: virtio-console's queues (5.3.2), feature bits
// (5.3.3), configuration layout (5.3.4) and port 0's data path (5.3.6).
#include "devices/virtio_console.h"

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

namespace vtlab {

VirtioConsole::VirtioConsole(PhysicalMemory& mem, std::function<void(bool)> irq, std::function<void(uint8_t)> out)
    : VirtioMmioDevice(mem, std::move(irq), kDeviceId, kFeatureEmergWrite, 2, kQueueNumMax),
      out_(std::move(out)) {}

uint8_t VirtioConsole::config_read(uint64_t) { return 0; }

void VirtioConsole::config_write(uint64_t offset, uint8_t value) {
  // emerg_wr is a 32-bit field whose low byte is the character.
  if (offset == 8 && out_) out_(value);
}

size_t VirtioConsole::receive(std::string_view bytes) {
  const size_t taken = std::min(bytes.size(), rx_space());
  rx_.insert(rx_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(taken));
  deliver();
  return taken;
}

void VirtioConsole::queue_notified(unsigned q) {
  if (q == kTransmitq)
    transmit();
  else
    deliver();  // new receive buffers: hand over what waits
}

void VirtioConsole::transmit() {
  VirtqChain chain;
  std::array<uint8_t, 4096> chunk;
  while (pop(kTransmitq, chain)) {
    // Device-writable buffers in a transmit chain have nothing to receive; they are left alone.
    for (uint64_t done = 0; done < chain.readable_bytes;) {
      const uint64_t n = std::min<uint64_t>(chunk.size(), chain.readable_bytes - done);
      chain.read(mem_, done, chunk.data(), n);
      if (out_)
        for (uint64_t i = 0; i < n; ++i) out_(chunk[i]);
      done += n;
    }
    push_used(kTransmitq, chain, 0);
  }
}

void VirtioConsole::deliver() {
  VirtqChain chain;
  std::vector<uint8_t> bytes;
  while (!rx_.empty() && has_available(kReceiveq) && pop(kReceiveq, chain)) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(chain.writable_bytes, rx_.size()));
    bytes.assign(rx_.begin(), rx_.begin() + static_cast<std::ptrdiff_t>(n));
    chain.write(mem_, 0, bytes.data(), n);
    rx_.erase(rx_.begin(), rx_.begin() + static_cast<std::ptrdiff_t>(n));
    push_used(kReceiveq, chain, static_cast<uint32_t>(n));
  }
}

}  // namespace vtlab
