#include "core/loader/flat.h"

#include <fmt/format.h>

#include "core/loader/load_error.h"

namespace vtlab {

namespace {

// Every byte of [addr, addr+len) is plain RAM; checked before writing
// because write_bytes stops half-way on failure.
bool is_ram(const PhysicalMemory& mem, uint64_t addr, uint64_t len) {
  if (addr + len < addr || addr + len > mem.ram_size()) return false;
  for (uint64_t p = addr & ~kPageMask; p < addr + len; p += kPageSize)
    if (mem.kind(p) != PhysicalMemory::Kind::Ram) return false;
  return true;
}

}  // namespace

BootInfo load_flat(const std::vector<uint8_t>& file, uint64_t addr, PhysicalMemory& mem, CpuState& cpu,
                   const std::string& name) {
  if (file.empty()) throw LoadError(fmt::format("{}: empty image", name));
  const uint64_t end = addr + file.size();
  if (!is_ram(mem, addr, file.size()))
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
