#include "mmu/phys_memory.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace vtlab {

PhysicalMemory::PhysicalMemory(uint64_t ram_bytes) : pages_(kAddressSpace >> kPageShift, 0) {
  if (ram_bytes == 0 || (ram_bytes & kPageMask) || ram_bytes > kMaxRam)
    throw std::invalid_argument("RAM size must be a non-zero multiple of 4 KiB, at most 3 GiB");
  void* p = mmap(nullptr, ram_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (p == MAP_FAILED) throw std::runtime_error("cannot map guest RAM");
  ram_ = static_cast<uint8_t*>(p);
  ram_size_ = ram_bytes;
  std::memset(pages_.data(), static_cast<uint8_t>(Kind::Ram), ram_bytes >> kPageShift);
}

PhysicalMemory::~PhysicalMemory() {
  if (ram_) munmap(ram_, ram_size_);
}

bool PhysicalMemory::map_rom(uint64_t base, std::vector<uint8_t> image) {
  if (image.empty()) return false;
  uint64_t first = base & ~kPageMask;
  uint64_t end = (base + image.size() + kPageMask) & ~kPageMask;
  if (end > kAddressSpace || end < first) return false;
  for (uint64_t p = first; p < end; p += kPageSize) {
    Kind k = kind(p);
    if (k == Kind::Rom || k == Kind::Mmio) return false;
  }
  for (uint64_t p = first; p < end; p += kPageSize)
    pages_[p >> kPageShift] = static_cast<uint8_t>(Kind::Rom);
  roms_.push_back(RomRegion{base, std::move(image)});
  return true;
}

bool PhysicalMemory::map_mmio(uint64_t base, uint64_t length, BusDevice* device) {
  if (length == 0 || base + length > kAddressSpace || base + length < base) return false;
  uint64_t first = base & ~kPageMask;
  uint64_t end = (base + length + kPageMask) & ~kPageMask;
  for (uint64_t p = first; p < end; p += kPageSize) {
    Kind k = kind(p);
    if (k == Kind::Rom) return false;
  }
  if (!mmio_.insert(base, length, device)) return false;
  for (uint64_t p = first; p < end; p += kPageSize)
    pages_[p >> kPageShift] = static_cast<uint8_t>(Kind::Mmio);
  return true;
}

bool PhysicalMemory::is_ram(uint64_t addr, uint64_t len) const {
  if (len == 0) return true;
  if (addr + len < addr || addr + len > ram_size_) return false;
  for (uint64_t p = addr & ~kPageMask; p < addr + len; p += kPageSize)
    if (kind(p) != Kind::Ram) return false;
  return true;
}

const PhysicalMemory::RomRegion* PhysicalMemory::rom_at(uint64_t paddr) const {
  for (const RomRegion& r : roms_)
    if (paddr >= r.base && paddr - r.base < r.bytes.size()) return &r;
  return nullptr;
}

uint8_t PhysicalMemory::read_byte(uint64_t paddr) {
  switch (kind(paddr)) {
    case Kind::Ram:
      if (paddr < ram_size_) return ram_[paddr];
      break;
    case Kind::Rom:
      if (const RomRegion* r = rom_at(paddr)) return r->bytes[paddr - r->base];
      return 0xFF;
    case Kind::Mmio:
      return static_cast<uint8_t>(mmio_.read(paddr, 1));
    case Kind::Hole:
      if (paddr - kPrivateBase < private_.size()) return private_[paddr - kPrivateBase];
      break;
  }
  ++hole_reads_;
  return 0xFF;
}

void PhysicalMemory::write_byte(uint64_t paddr, uint8_t v) {
  switch (kind(paddr)) {
    case Kind::Ram:
      if (paddr < ram_size_) {
        ram_[paddr] = v;
        note_write(paddr, 1);
        return;
      }
      break;
    case Kind::Mmio:
      mmio_.write(paddr, 1, v);
      return;
    case Kind::Hole:
      if (paddr - kPrivateBase < private_.size()) {
        private_[paddr - kPrivateBase] = v;
        return;
      }
      break;
    case Kind::Rom:
      break;
  }
  ++dropped_writes_;
}

uint64_t PhysicalMemory::read(uint64_t paddr, unsigned size) {
  if (uint8_t* p = ram_ptr(paddr, size)) {
    uint64_t v = 0;
    std::memcpy(&v, p, size);
    return v;
  }
  if (kind(paddr) == Kind::Mmio && (paddr & kPageMask) + size <= kPageSize) return mmio_.read(paddr, size);
  uint64_t v = 0;
  for (unsigned i = 0; i < size; ++i) v |= uint64_t{read_byte(paddr + i)} << (8 * i);
  return v;
}

void PhysicalMemory::write(uint64_t paddr, unsigned size, uint64_t value) {
  if (uint8_t* p = ram_ptr(paddr, size)) {
    std::memcpy(p, &value, size);
    note_write(paddr, size);
    return;
  }
  if (kind(paddr) == Kind::Mmio && (paddr & kPageMask) + size <= kPageSize) {
    mmio_.write(paddr, size, value);
    return;
  }
  for (unsigned i = 0; i < size; ++i) write_byte(paddr + i, static_cast<uint8_t>(value >> (8 * i)));
}

bool PhysicalMemory::read_bytes(uint64_t paddr, void* dst, uint64_t len) const {
  auto* out = static_cast<uint8_t*>(dst);
  if (paddr + len < paddr || paddr + len > kAddressSpace) return false;
  bool ok = true;
  for (uint64_t i = 0; i < len; ++i) {
    uint64_t a = paddr + i;
    switch (kind(a)) {
      case Kind::Ram:
        if (a < ram_size_) {
          out[i] = ram_[a];
          continue;
        }
        break;
      case Kind::Rom:
        if (const RomRegion* r = rom_at(a)) {
          out[i] = r->bytes[a - r->base];
          continue;
        }
        break;
      default:
        break;
    }
    out[i] = 0;
    ok = false;
  }
  return ok;
}

bool PhysicalMemory::write_bytes(uint64_t paddr, const void* src, uint64_t len) {
  const auto* in = static_cast<const uint8_t*>(src);
  if (paddr + len < paddr || paddr + len > kAddressSpace) return false;
  uint64_t done = 0;
  bool ok = true;
  for (; done < len; ++done) {
    uint64_t a = paddr + done;
    Kind k = kind(a);
    if (k == Kind::Ram && a < ram_size_) {
      ram_[a] = in[done];
      continue;
    }
    if (k == Kind::Rom) {
      for (RomRegion& r : roms_)
        if (a >= r.base && a - r.base < r.bytes.size()) {
          r.bytes[a - r.base] = in[done];
          break;
        }
      continue;
    }
    ok = false;
    break;
  }
  // Every code page written hears of exactly the bytes written in it, also
  // when the copy stopped early at a byte that is neither RAM nor ROM.
  for (uint64_t a = paddr, end = paddr + done; a < end;) {
    const uint64_t n = std::min(end - a, kPageSize - (a & kPageMask));
    note_write(a, n);
    a += n;
  }
  return ok;
}

void PhysicalMemory::code_written(uint64_t paddr, uint64_t len) {
  if (!code_hook_ || !code_hook_(paddr, len)) pages_[paddr >> kPageShift] &= static_cast<uint8_t>(~kCodeBit);
}

}  // namespace vtlab
