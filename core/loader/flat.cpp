#include "core/loader/flat.h"

#include <fmt/format.h>

#include "core/loader/load_error.h"

namespace vtlab {

BootInfo load_flat(const std::vector<uint8_t>& file, uint64_t addr, PhysicalMemory& mem, CpuState& cpu,
                   const std::string& name) {
  if (file.empty()) throw LoadError(fmt::format("{}: empty image", name));
  const uint64_t end = addr + file.size();
  if (!mem.is_ram(addr, file.size()))
    throw LoadError(fmt::format("{}: {:#x} bytes at {:#x} (up to {:#x}) do not fit in guest RAM [0, {:#x})", name,
                                file.size(), addr, end, mem.ram_size()));
  if (!mem.write_bytes(addr, file.data(), file.size()))
    throw LoadError(fmt::format("{}: internal error: cannot write {:#x} bytes at {:#x}", name, file.size(), addr));

  set_flat_protected_mode(cpu);
  cpu.rip = addr;

  BootInfo boot;
  boot.entry = static_cast<uint32_t>(addr);  // RAM ends below 4 GiB, so addr fits
  boot.info_addr = 0;
  boot.image_start = addr;
  boot.image_end = end;
  boot.format = "flat";
  return boot;
}

}  // namespace vtlab
