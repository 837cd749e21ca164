#include "core/loader/bios.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/loader/load_error.h"

namespace vtlab {

BootInfo load_bios(const std::vector<uint8_t>& image, PhysicalMemory& mem, CpuState& cpu, const std::string& name) {
  const uint64_t size = image.size();
  if (std::find(std::begin(kBiosSizes), std::end(kBiosSizes), size) == std::end(kBiosSizes))
    throw LoadError(fmt::format("{}: a ROM image must be 64, 128 or 256 KiB; this one is {} bytes", name, size));
  const uint64_t top = PhysicalMemory::kAddressSpace;
  const uint64_t shadow = std::min(size, kBiosShadowMax);
  std::vector<uint8_t> low(image.end() - static_cast<std::ptrdiff_t>(shadow), image.end());
  if (!mem.map_rom(top - size, image) || !mem.map_rom(0x100000 - shadow, std::move(low)))
    throw LoadError(name + ": the ROM's address range is already taken");
  reset_cpu_state(cpu);
  BootInfo info;
  info.format = "bios";
  info.entry = 0xFFFFFFF0;
  info.image_start = top - size;
  info.image_end = top;
  return info;
}

}  // namespace vtlab
