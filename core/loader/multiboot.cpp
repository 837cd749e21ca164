#include "core/loader/multiboot.h"

#include <elf.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "core/loader/load_error.h"

namespace vtlab {

static_assert(std::endian::native == std::endian::little,
              "the ELF and multiboot structures are read by memcpy from little-endian files");

namespace {

// Byte offsets inside the multiboot header (spec 3.1.1) ...
namespace hdr {
constexpr size_t kFlags = 4, kChecksum = 8, kHeaderAddr = 12, kLoadAddr = 16, kLoadEndAddr = 20,
                 kBssEndAddr = 24, kEntryAddr = 28, kAddrFieldsEnd = 32;
constexpr uint32_t kRequiredMask = 0x0000FFFF;
constexpr uint32_t kVideoMode = 1u << 2;
constexpr uint32_t kSupportedRequired = 0x7;  // bits 0, 1, 2: see multiboot.h
constexpr uint32_t kAoutKludge = 1u << 16;
}  // namespace hdr

// ... and inside the boot information structure (spec 3.3).
namespace info {
constexpr size_t kFlags = 0, kMemLower = 4, kMemUpper = 8, kBootDevice = 12, kCmdline = 16, kModsCount = 20,
                 kModsAddr = 24, kMmapLength = 44, kMmapAddr = 48, kLoaderName = 64;
constexpr size_t kMmapEntrySize = 24;  // 4-byte size field (= 20) + base, length, type
constexpr uint32_t kAvailable = 1, kReserved = 2;
}  // namespace info

static_assert(kMultibootInfoAddr + kMultibootInfoSize <= kMultibootLowMemEnd);
static_assert(kMultibootInfoBase + 6 * info::kMmapEntrySize <= kMultibootInfoAddr,
              "the memory map must end before the info structure");

constexpr char kLoaderName[] = "vtlab";

template <typename... T>
[[noreturn]] void fail(const std::string& name, fmt::format_string<T...> f, T&&... args) {
  throw LoadError(name + ": " + fmt::format(f, std::forward<T>(args)...));
}

uint32_t get32(const std::vector<uint8_t>& b, size_t off) {
  uint32_t v;
  std::memcpy(&v, b.data() + off, 4);
  return v;
}
void put32(std::vector<uint8_t>& b, size_t off, uint32_t v) { std::memcpy(b.data() + off, &v, 4); }
void put64(std::vector<uint8_t>& b, size_t off, uint64_t v) { std::memcpy(b.data() + off, &v, 8); }

struct Header {
  size_t offset;
  uint32_t flags;
};

Header find_header(const std::vector<uint8_t>& file, const std::string& name) {
  // The whole 12-byte header must sit inside the first 8192 bytes.
  const size_t limit = std::min<size_t>(file.size(), kMultibootSearchLimit);
  std::optional<size_t> bad_checksum;
  for (size_t off = 0; off + 12 <= limit; off += 4) {
    if (get32(file, off) != kMultibootHeaderMagic) continue;
    uint32_t sum = kMultibootHeaderMagic + get32(file, off + hdr::kFlags) + get32(file, off + hdr::kChecksum);
    if (sum == 0) return {off, get32(file, off + hdr::kFlags)};
    // The magic may also occur by chance in code or data: keep looking, and
    // only blame the checksum if no valid header turns up.
    if (!bad_checksum) bad_checksum = off;
  }
  if (bad_checksum) {
    size_t off = *bad_checksum;
    uint32_t sum = kMultibootHeaderMagic + get32(file, off + hdr::kFlags) + get32(file, off + hdr::kChecksum);
    fail(name, "multiboot header at offset {:#x} has a bad checksum (magic + flags + checksum = {:#010x}, must be 0)",
         off, sum);
  }
  fail(name, "not a multiboot kernel: no multiboot header in the first {} bytes", kMultibootSearchLimit);
}

// One piece of the image: `filesz` bytes from the file, zeroed up to `memsz`.
struct Piece {
  std::string label;  // for messages: "ELF segment 1", "a.out kludge image"
  uint64_t paddr, file_off, filesz, memsz;
};

struct Plan {
  std::vector<Piece> pieces;
  uint32_t entry;
  std::string format;
};

Plan plan_aout(const std::vector<uint8_t>& file, const std::string& name, const Header& h) {
  if (h.offset + hdr::kAddrFieldsEnd > std::min<size_t>(file.size(), kMultibootSearchLimit))
    fail(name, "multiboot header at offset {:#x} is truncated: flag bit 16 (a.out kludge) needs its "
               "address fields, 32 bytes within the first {} bytes of the file",
         h.offset, kMultibootSearchLimit);
  const uint32_t header_addr = get32(file, h.offset + hdr::kHeaderAddr);
  const uint32_t load_addr = get32(file, h.offset + hdr::kLoadAddr);
  const uint32_t load_end = get32(file, h.offset + hdr::kLoadEndAddr);
  const uint32_t bss_end = get32(file, h.offset + hdr::kBssEndAddr);
  const uint32_t entry = get32(file, h.offset + hdr::kEntryAddr);

  if (load_addr > header_addr)
    fail(name, "a.out kludge: load_addr {:#x} is above header_addr {:#x}", load_addr, header_addr);
  // The file offset to load from is the header's offset minus the header's
  // distance from load_addr (spec 3.1.3).
  const uint64_t lead = header_addr - load_addr;
  if (lead > h.offset)
    fail(name, "a.out kludge: header_addr - load_addr = {:#x}, but the header is at file offset {:#x} "
               "(the image would start before the file)",
         lead, h.offset);
  const uint64_t file_off = h.offset - lead;
  if (load_end != 0 && load_end < load_addr)
    fail(name, "a.out kludge: load_end_addr {:#x} is below load_addr {:#x}", load_end, load_addr);
  // load_end_addr == 0 means "text and data take the rest of the file".
  const uint64_t size = load_end != 0 ? uint64_t{load_end} - load_addr : file.size() - file_off;
  if (file_off + size > file.size())
    fail(name, "a.out kludge: image of {:#x} bytes from file offset {:#x} is larger than the file ({:#x} bytes)",
         size, file_off, file.size());
  const uint64_t end = uint64_t{load_addr} + size;
  if (bss_end != 0 && bss_end < end)
    fail(name, "a.out kludge: bss_end_addr {:#x} is below load_end_addr {:#x}", bss_end, end);
  if (entry < load_addr || entry >= end)
    fail(name, "a.out kludge: entry point {:#x} is outside the loaded image [{:#x}, {:#x})", entry, load_addr,
         end);
  const uint64_t memsz = bss_end != 0 ? uint64_t{bss_end} - load_addr : size;
  return {{{"a.out kludge image", load_addr, file_off, size, memsz}}, entry, "a.out-kludge"};
}

Plan plan_elf(const std::vector<uint8_t>& file, const std::string& name) {
  if (file.size() < SELFMAG || std::memcmp(file.data(), ELFMAG, SELFMAG) != 0)
    fail(name, "not an ELF file, and its multiboot header does not set flag bit 16 (a.out kludge) "
               "to give load addresses");
  if (file.size() < EI_NIDENT) fail(name, "truncated ELF header ({} bytes)", file.size());
  if (file[EI_CLASS] == ELFCLASS64)
    fail(name, "64-bit ELF (ELFCLASS64): multiboot v1 loads only 32-bit ELF kernels; link it as elf32-i386 "
               "(gcc -m32, ld -m elf_i386) or set flag bit 16 with load addresses in the multiboot header");
  if (file[EI_CLASS] != ELFCLASS32) fail(name, "unknown ELF class {}", file[EI_CLASS]);
  if (file[EI_DATA] != ELFDATA2LSB) fail(name, "big-endian ELF: an i386 kernel is little-endian (ELFDATA2LSB)");
  if (file.size() < sizeof(Elf32_Ehdr))
    fail(name, "truncated ELF header ({} bytes, need {})", file.size(), sizeof(Elf32_Ehdr));

  Elf32_Ehdr eh;
  std::memcpy(&eh, file.data(), sizeof eh);
  if (eh.e_machine != EM_386)
    fail(name, "ELF machine {} is not i386 (EM_386 = {}): not a 32-bit x86 kernel", eh.e_machine, EM_386);
  if (eh.e_phnum == 0) fail(name, "ELF file has no program headers");
  if (eh.e_phentsize < sizeof(Elf32_Phdr))
    fail(name, "ELF program header size {} is below {}", eh.e_phentsize, sizeof(Elf32_Phdr));
  const uint64_t ph_end = uint64_t{eh.e_phoff} + uint64_t{eh.e_phnum} * eh.e_phentsize;
  if (ph_end > file.size())
    fail(name, "ELF program headers [{:#x}, {:#x}) lie outside the file ({:#x} bytes)", eh.e_phoff, ph_end,
         file.size());

  Plan plan{{}, 0, "elf"};
  std::vector<Elf32_Phdr> loaded;  // parallel to plan.pieces, for the entry lookup
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf32_Phdr ph;
    std::memcpy(&ph, file.data() + eh.e_phoff + uint64_t{i} * eh.e_phentsize, sizeof ph);
    if (ph.p_type != PT_LOAD || ph.p_memsz == 0) continue;
    if (ph.p_filesz > ph.p_memsz)
      fail(name, "ELF segment {}: p_filesz {:#x} exceeds p_memsz {:#x}", i, ph.p_filesz, ph.p_memsz);
    if (uint64_t{ph.p_offset} + ph.p_filesz > file.size())
      fail(name, "ELF segment {}: file bytes [{:#x}, {:#x}) lie outside the file ({:#x} bytes; truncated?)", i,
           ph.p_offset, uint64_t{ph.p_offset} + ph.p_filesz, file.size());
    plan.pieces.push_back({fmt::format("ELF segment {}", i), ph.p_paddr, ph.p_offset, ph.p_filesz, ph.p_memsz});
    loaded.push_back(ph);
  }
  if (plan.pieces.empty()) fail(name, "ELF file has no loadable (PT_LOAD) segments");

  // The entry must land in bytes that come from the file.  Paging is off at
  // entry, so it is a physical address; a higher-half kernel whose e_entry
  // is virtual gets it translated through the segment that holds it.
  const uint32_t e = eh.e_entry;
  for (const Elf32_Phdr& ph : loaded)
    if (e >= ph.p_paddr && e - ph.p_paddr < ph.p_filesz) {
      plan.entry = e;
      return plan;
    }
  for (const Elf32_Phdr& ph : loaded)
    if (e >= ph.p_vaddr && e - ph.p_vaddr < ph.p_filesz) {
      plan.entry = e - ph.p_vaddr + ph.p_paddr;
      return plan;
    }
  fail(name, "ELF entry point {:#x} is not inside a loaded segment", e);
}

// The low boot information block, [kMultibootInfoBase, kMultibootInfoEnd),
// built in host memory and copied in one go: the memory map at 0x9000, zeros,
// the info structure at 0x9500 (see multiboot.h).  `high` is where the
// command line goes, followed by the boot loader name; QEMU's module list
// would start there too, so mods_addr points at it (with a count of 0).
std::vector<uint8_t> build_low_info(uint64_t ram, uint32_t high, size_t cmdline_size) {
  struct Region {
    uint64_t base, len;
    uint32_t type;
  };
  std::vector<Region> map;
  // A PC's low memory: conventional RAM, the EBDA, the BIOS ROM.  The VGA
  // window 0xA0000-0xEFFFF is left out, as on a PC's e820 map.
  map.push_back({0, std::min(ram, kMultibootLowMemEnd), info::kAvailable});
  map.push_back({kMultibootLowMemEnd, 0xA0000 - kMultibootLowMemEnd, info::kReserved});
  map.push_back({0xF0000, 0x10000, info::kReserved});
  // Extended memory, less its top 128 KiB, which SeaBIOS keeps for its
  // tables and reports as reserved.
  uint64_t upper_end = 0x100000;
  if (ram > 0x100000) {
    upper_end = std::max<uint64_t>(0x100000, ram - kMultibootBiosTablesSize);
    if (upper_end > 0x100000) map.push_back({0x100000, upper_end - 0x100000, info::kAvailable});
    map.push_back({upper_end, ram - upper_end, info::kReserved});
  }
  map.push_back({kMultibootBiosFlashBase, kMultibootBiosFlashSize, info::kReserved});

  std::vector<uint8_t> b(kMultibootInfoEnd - kMultibootInfoBase, 0);
  for (size_t i = 0; i < map.size(); ++i) {
    size_t off = i * info::kMmapEntrySize;
    put32(b, off, info::kMmapEntrySize - 4);  // "size" excludes itself
    put64(b, off + 4, map[i].base);
    put64(b, off + 12, map[i].len);
    put32(b, off + 20, map[i].type);
  }

  const size_t i = kMultibootInfoAddr - kMultibootInfoBase;
  put32(b, i + info::kFlags,
        mbi::kMem | mbi::kBootDevice | mbi::kCmdline | mbi::kMods | mbi::kMmap | mbi::kLoaderName);
  put32(b, i + info::kMemLower, static_cast<uint32_t>(std::min(ram, kMultibootLowMemEnd) / 1024));
  put32(b, i + info::kMemUpper, static_cast<uint32_t>((upper_end - 0x100000) / 1024));
  put32(b, i + info::kBootDevice, kMultibootBootDevice);
  put32(b, i + info::kCmdline, high);
  put32(b, i + info::kModsCount, 0);
  put32(b, i + info::kModsAddr, high);
  put32(b, i + info::kMmapLength, static_cast<uint32_t>(map.size() * info::kMmapEntrySize));
  put32(b, i + info::kMmapAddr, static_cast<uint32_t>(kMultibootInfoBase));
  put32(b, i + info::kLoaderName, static_cast<uint32_t>(high + cmdline_size + 1));
  return b;
}

// The high block at `high`: the command line, then the boot loader name.
std::vector<uint8_t> build_high_info(const std::string& cmdline) {
  std::vector<uint8_t> b(cmdline.size() + 1 + sizeof kLoaderName, 0);
  std::memcpy(b.data(), cmdline.data(), cmdline.size());  // NUL already there
  std::memcpy(b.data() + cmdline.size() + 1, kLoaderName, sizeof kLoaderName);
  return b;
}

void write_or_throw(PhysicalMemory& mem, uint64_t paddr, const void* src, uint64_t len, const std::string& name) {
  // Ranges were checked as RAM before; failing here is a loader bug.
  if (!mem.write_bytes(paddr, src, len))
    fail(name, "internal error: cannot write {:#x} bytes at {:#x}", len, paddr);
}

}  // namespace

BootInfo load_multiboot(const std::vector<uint8_t>& file, const std::string& name, const std::string& cmdline,
                        PhysicalMemory& mem, CpuState& cpu) {
  const Header h = find_header(file, name);
  const uint32_t required = h.flags & hdr::kRequiredMask;
  if (required & ~hdr::kSupportedRequired)
    fail(name, "the multiboot header requires features this loader does not support (required flag bits {:#06x})",
         required & ~hdr::kSupportedRequired);

  BootInfo boot;
  if (h.flags & hdr::kVideoMode)
    boot.notes.push_back("the kernel asks for a video mode (multiboot flag bit 2); none is set up and the "
                         "info structure's video fields (flags 11, 12) stay clear");

  const Plan plan = (h.flags & hdr::kAoutKludge) ? plan_aout(file, name, h) : plan_elf(file, name);

  if (!mem.is_ram(kMultibootInfoBase, kMultibootInfoEnd - kMultibootInfoBase))
    fail(name, "guest RAM ({} KiB) is too small for the boot information at {:#x}", mem.ram_size() / 1024,
         kMultibootInfoBase);

  boot.image_start = UINT64_MAX;
  for (const Piece& p : plan.pieces) {
    const uint64_t end = p.paddr + p.memsz;
    if (!mem.is_ram(p.paddr, p.memsz))
      fail(name, "{} [{:#x}, {:#x}) is outside guest RAM [0, {:#x})", p.label, p.paddr, end, mem.ram_size());
    if (p.paddr < kMultibootInfoEnd && end > kMultibootInfoBase)
      fail(name, "{} [{:#x}, {:#x}) overlaps the boot information area [{:#x}, {:#x})", p.label, p.paddr, end,
           kMultibootInfoBase, kMultibootInfoEnd);
    boot.image_start = std::min(boot.image_start, p.paddr);
    boot.image_end = std::max(boot.image_end, end);
  }

  // The command line (kernel name first, as QEMU and GRUB pass it: see
  // multiboot.h) and the boot loader name go right after the kernel image
  // rounded up to a page, where QEMU puts them.  The image lies in RAM, so
  // `high` is below 4 GiB.
  const uint64_t high = boot.image_start + ((boot.image_end - boot.image_start + kPageMask) & ~kPageMask);
  const std::string full_cmdline = name + " " + cmdline;
  const std::vector<uint8_t> high_blob = build_high_info(full_cmdline);
  const uint64_t high_end = high + high_blob.size();
  if (high >= mem.ram_size())
    fail(name, "no room for the command line: the kernel image, rounded up to a page, ends at {:#x}, the end of "
               "guest RAM",
         high);
  if (high_end > mem.ram_size())
    fail(name, "command line too long ({} bytes): with the boot loader name it must fit in guest RAM between "
               "the page-aligned end of the kernel image ({:#x}) and {:#x}",
         cmdline.size(), high, mem.ram_size());
  if (!mem.is_ram(high, high_blob.size()))
    fail(name, "the command line area [{:#x}, {:#x}) after the kernel image is not all plain guest RAM", high,
         high_end);
  if (high < kMultibootInfoEnd && high_end > kMultibootInfoBase)
    fail(name, "the command line area [{:#x}, {:#x}) after the kernel image overlaps the boot information "
               "area [{:#x}, {:#x})",
         high, high_end, kMultibootInfoBase, kMultibootInfoEnd);
  const std::vector<uint8_t> low_blob =
      build_low_info(mem.ram_size(), static_cast<uint32_t>(high), full_cmdline.size());

  // Everything checked: commit to guest memory, then to the CPU.
  static const std::vector<uint8_t> zeros(64 * 1024, 0);
  for (const Piece& p : plan.pieces) {
    write_or_throw(mem, p.paddr, file.data() + p.file_off, p.filesz, name);
    for (uint64_t done = p.filesz; done < p.memsz;) {
      uint64_t n = std::min<uint64_t>(zeros.size(), p.memsz - done);
      write_or_throw(mem, p.paddr + done, zeros.data(), n, name);
      done += n;
    }
  }
  write_or_throw(mem, kMultibootInfoBase, low_blob.data(), low_blob.size(), name);
  write_or_throw(mem, high, high_blob.data(), high_blob.size(), name);

  set_flat_protected_mode(cpu);
  cpu.gpr[RAX] = kMultibootBootMagic;
  cpu.gpr[RBX] = kMultibootInfoAddr;
  cpu.rip = plan.entry;

  boot.entry = plan.entry;
  boot.info_addr = static_cast<uint32_t>(kMultibootInfoAddr);
  boot.format = plan.format;
  return boot;
}

}  // namespace vtlab
