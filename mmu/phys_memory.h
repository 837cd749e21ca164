// The guest's physical address space: RAM, ROM, MMIO and holes.
//
// Guest RAM is one anonymous host mapping (so a KVM backend can hand the
// very same pages to the kernel).  A per-page kind table answers "what is
// at this physical page" in one load; pages that hold decoded code are
// flagged there too, so a write to them can invalidate the decode cache.
// Every physical access is bounds-checked here: nothing a guest does can
// reach host memory outside the mapping.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "devices/bus.h"

namespace vtlab {

inline constexpr uint64_t kPageSize = 4096;
inline constexpr unsigned kPageShift = 12;
inline constexpr uint64_t kPageMask = kPageSize - 1;

class PhysicalMemory {
 public:
  // Physical addresses are 36 bits wide (MAXPHYADDR, reachable through PAE
  // tables), but RAM, ROM and MMIO all live below 4 GiB: the kind table
  // covers 4 GiB, and anything above reads as a hole (writes are dropped).
  static constexpr uint64_t kAddressSpace = uint64_t{1} << 32;
  static constexpr uint64_t kMaxRam = uint64_t{3} << 30;  // below the PCI/APIC hole

  enum class Kind : uint8_t { Hole = 0, Ram = 1, Rom = 2, Mmio = 3 };

  // Throws std::invalid_argument for a size of 0, not a multiple of 4 KiB, or
  // above kMaxRam; std::runtime_error if the host mapping fails.
  explicit PhysicalMemory(uint64_t ram_bytes);
  ~PhysicalMemory();
  PhysicalMemory(const PhysicalMemory&) = delete;
  PhysicalMemory& operator=(const PhysicalMemory&) = delete;

  uint64_t ram_size() const { return ram_size_; }
  uint8_t* ram() { return ram_; }
  // True when every byte of [addr, addr+len) is plain guest RAM (not a hole,
  // ROM or MMIO page, nor past the end of RAM); an empty range is.  Loaders
  // check ranges with it up front, since write_bytes stops half-way on failure.
  bool is_ram(uint64_t addr, uint64_t len) const;

  // Maps a read-only image; writes to it are ignored (and counted).
  // Base and size are rounded to whole pages.  False on overlap with a
  // ROM/MMIO page or a range beyond the address space.
  bool map_rom(uint64_t base, std::vector<uint8_t> image);
  // Claims pages for MMIO: accesses go to `mmio()` instead of RAM.
  bool map_mmio(uint64_t base, uint64_t length, BusDevice* device);

  Kind kind(uint64_t paddr) const {
    if (paddr >= kAddressSpace) return Kind::Hole;
    return static_cast<Kind>(pages_[paddr >> kPageShift] & kKindMask);
  }
  // Host pointer to `len` bytes of RAM at `paddr` when the whole range is
  // plain RAM inside one page; nullptr otherwise (take the slow path).
  uint8_t* ram_ptr(uint64_t paddr, uint64_t len) {
    if (paddr >= ram_size_ || len > kPageSize - (paddr & kPageMask)) return nullptr;
    if ((pages_[paddr >> kPageShift] & kKindMask) != static_cast<uint8_t>(Kind::Ram)) return nullptr;
    return ram_ + paddr;
  }

  // The same for a write that needs no detour: plain RAM holding no
  // decoded code (a write there must invalidate blocks: see note_write).
  uint8_t* ram_ptr_for_write(uint64_t paddr, uint64_t len) {
    if (paddr >= ram_size_ || len > kPageSize - (paddr & kPageMask)) return nullptr;
    if (pages_[paddr >> kPageShift] != static_cast<uint8_t>(Kind::Ram)) return nullptr;
    return ram_ + paddr;
  }

  // Any physical access of 1, 2, 4 or 8 bytes (may cross a page: it is then
  // split into bytes).  Holes read as all ones, writes to holes and ROM are
  // dropped and counted.  Writes to code pages fire the invalidation hook.
  uint64_t read(uint64_t paddr, unsigned size);
  void write(uint64_t paddr, unsigned size, uint64_t value);

  // Bulk copies for loaders and debuggers.  They ignore MMIO (it reads as
  // zero bytes and is not written) and return false if any byte of the range
  // is not RAM or ROM.  write_bytes may write ROM (loaders place images).
  bool read_bytes(uint64_t paddr, void* dst, uint64_t len) const;
  bool write_bytes(uint64_t paddr, const void* src, uint64_t len);

  // Decode-cache support: a page with decoded code in it.
  void mark_code_page(uint64_t paddr) {
    if (paddr < kAddressSpace) pages_[paddr >> kPageShift] |= kCodeBit;
  }
  bool is_code_page(uint64_t paddr) const {
    return paddr < kAddressSpace && (pages_[paddr >> kPageShift] & kCodeBit);
  }
  // Called with the address and length of a write that touched a code
  // page (at most the part inside that page).  The hook returns whether the
  // page still holds code afterwards; if not, the page's code bit is
  // cleared, so later writes take no detour.
  using CodeWriteHook = std::function<bool(uint64_t paddr, uint64_t len)>;
  void set_code_write_hook(CodeWriteHook hook) { code_hook_ = std::move(hook); }
  // For the fast write path: report a write that touched [paddr, paddr+len).
  void note_write(uint64_t paddr, uint64_t len) {
    const uint64_t last = paddr + len - 1;
    if (paddr < kAddressSpace && (pages_[paddr >> kPageShift] & kCodeBit)) {
      const uint64_t in_page = std::min(len, kPageSize - (paddr & kPageMask));
      code_written(paddr, in_page);
    }
    if ((last >> kPageShift) != (paddr >> kPageShift) && last < kAddressSpace &&
        (pages_[last >> kPageShift] & kCodeBit))
      code_written(last & ~kPageMask, (last & kPageMask) + 1);
  }

  // Monitor-private memory: `bytes` of zeroed memory at kPrivateBase, above
  // every address a guest can name here (its page tables reach 4 GiB at
  // most in the modes a monitor virtualizes, and a walk that ends higher
  // is a hole).  A monitor keeps the tables the real CPU runs on there
  // (privilege/shadow_descriptors.h).  Returns the host pointer.
  static constexpr uint64_t kPrivateBase = kAddressSpace;
  uint8_t* reserve_private(uint64_t bytes) {
    private_.assign(bytes, 0);
    return private_.data();
  }

  MmioBus& mmio() { return mmio_; }
  uint64_t dropped_writes() const { return dropped_writes_; }
  uint64_t hole_reads() const { return hole_reads_; }

 private:
  static constexpr uint8_t kKindMask = 0x3;
  static constexpr uint8_t kCodeBit = 0x80;

  struct RomRegion {
    uint64_t base;
    std::vector<uint8_t> bytes;
  };

  void code_written(uint64_t paddr, uint64_t len);
  uint8_t read_byte(uint64_t paddr);
  void write_byte(uint64_t paddr, uint8_t v);
  const RomRegion* rom_at(uint64_t paddr) const;

  uint8_t* ram_ = nullptr;
  uint64_t ram_size_ = 0;
  std::vector<uint8_t> pages_;  // one byte per 4 KiB page of the 4 GiB space
  std::vector<RomRegion> roms_;
  std::vector<uint8_t> private_;
  MmioBus mmio_{"mmio"};
  CodeWriteHook code_hook_;
  uint64_t dropped_writes_ = 0;
  uint64_t hole_reads_ = 0;
};

}  // namespace vtlab
