// Names for addresses in debugger commands (`b start_kernel`, `pb
// startup_64+0x70`): a Linux System.map, and names a loader defines.
//
// A System.map is nm's output for vmlinux ("ADDRESS TYPE NAME" lines, the
// format scripts/mksysmap writes): the kernel proper at its link-time
// virtual addresses (0xc1000000.. on i386, 0xffffffff81000000.. on x86-64).
// It does not describe the bzImage's decompressor, which runs first at the
// boot protocol's code32_start (0x100000) with its own startup_32: the map's
// startup_32 is vmlinux's (head_32.S), entered later at its physical address.
// Linux's linker script defines phys_startup_32 / phys_startup_64 as the
// physical address of that entry, so the map itself gives the offset from a
// symbol's virtual address to where its code sits in RAM: a physical
// breakpoint there hits before paging is on, and after. Both hold only when
// the kernel runs where it was linked: boot with `nokaslr` (KASLR moves it).
//
// Loader symbols (e.g. `linux_entry`, where the loader starts a bzImage's
// protected-mode code) are addresses with paging off: linear = physical.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace vtlab {

class SymbolTable {
 public:
  // Adds every line of a System.map; throws std::runtime_error naming
  // `source` and the line number for a line that is not "HEX TYPE NAME".
  // A name seen twice (static functions in several files) keeps its first
  // address.
  void load_system_map(std::string_view text, const std::string& source);
  // A name whose address is the same linear and physical (a loader's).
  void define(const std::string& name, uint64_t address);

  // "NAME" or "NAME+OFFSET" (OFFSET as parse_number takes it): the linear
  // address, or the physical one (see the header comment); nullopt for an
  // unknown name or a bad offset.
  std::optional<uint64_t> linear(std::string_view expr) const;
  std::optional<uint64_t> physical(std::string_view expr) const;

  // Virtual minus physical for map symbols: startup_32 - phys_startup_32 or
  // startup_64 - phys_startup_64 (0 when the map has neither).
  uint64_t load_offset() const { return load_offset_; }
  size_t size() const { return by_name_.size(); }
  bool has_map() const { return has_map_; }

 private:
  struct Entry {
    uint64_t address;
    bool from_map;  // a System.map address: virtual, `load_offset_` above physical
  };
  std::optional<std::pair<Entry, uint64_t>> find(std::string_view expr) const;

  std::map<std::string, Entry, std::less<>> by_name_;
  uint64_t load_offset_ = 0;
  bool has_map_ = false;
};

}  // namespace vtlab
