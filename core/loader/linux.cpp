#include "core/loader/linux.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "core/loader/load_error.h"

namespace vtlab {

using namespace linux_boot;

namespace {

template <typename T> T get(const std::vector<uint8_t>& f, size_t off) {
  T v{};
  if (off + sizeof(T) <= f.size()) std::memcpy(&v, f.data() + off, sizeof(T));
  return v;
}

template <typename T, size_t N> void put(std::array<uint8_t, N>& page, size_t off, T v) {
  std::memcpy(page.data() + off, &v, sizeof(T));
}

std::string version_text(uint16_t v) { return fmt::format("{}.{:02}", v >> 8, v & 0xFF); }

// The header's kernel_version field points (relative to offset 0x200) at a
// NUL-terminated string such as "6.1.0-50-686 (debian-kernel@...) #1 SMP ...".
std::string kernel_version_string(const std::vector<uint8_t>& f) {
  const uint16_t rel = get<uint16_t>(f, kKernelVersion);
  if (rel == 0) return {};
  std::string s;
  for (size_t i = 0x200 + size_t{rel}; i < f.size() && f[i] != 0 && s.size() < 160; ++i)
    s.push_back(f[i] >= 0x20 && f[i] < 0x7F ? static_cast<char>(f[i]) : '?');
  return s;
}

// Descriptors for the boot GDT (SDM vol. 3, 3.4.5): flat 4 GiB, present,
// DPL 0; code execute/read, data read/write.  The 64-bit code segment has
// L = 1 and D = 0.
constexpr uint64_t kCode32 = 0x00CF9B000000FFFF, kCode64 = 0x00AF9B000000FFFF, kData = 0x00CF93000000FFFF;

void set_boot_segments(CpuState& s, bool long_mode) {
  const uint32_t data = ar::kPresent | ar::kS | ar::kWritable | ar::kAccessed | ar::kDb | ar::kGranularity;
  const uint32_t code = ar::kPresent | ar::kS | ar::kCode | ar::kReadable | ar::kAccessed | ar::kGranularity |
                        (long_mode ? ar::kLong : ar::kDb);
  for (int i = 0; i < kNumSegRegs; ++i) {
    SegmentCache& sc = s.seg[i];
    sc.base = 0;
    sc.limit = 0xFFFFFFFF;
    sc.attrs = i == CS ? code : data;
    sc.selector = i == CS ? kBootCs : kBootDs;
  }
  s.gdtr = {kGdtAddr, 4 * 8 - 1};
}

struct E820Entry {
  uint64_t addr, size;
  uint32_t type;
};

}  // namespace

bool is_linux_kernel(const std::vector<uint8_t>& file) {
  return get<uint16_t>(file, kBootFlag) == 0xAA55 && get<uint32_t>(file, kHeader) == 0x53726448;  // "HdrS"
}

LinuxBootInfo load_linux(const std::vector<uint8_t>& f, const std::string& name, const LinuxBootOptions& o,
                         PhysicalMemory& mem, CpuState& cpu) {
  const auto fail = [&](const std::string& why) { throw LoadError(fmt::format("{}: {}", name, why)); };
  if (!is_linux_kernel(f)) fail("not a Linux kernel (no \"HdrS\" boot-protocol header at offset 0x202)");

  // The setup code (at least 5 sectors) holds the whole header, so past
  // this check every header field is inside the file.
  const unsigned setup_sects = f[kSetupSects] ? f[kSetupSects] : 4;
  const size_t pm_offset = size_t{setup_sects + 1} * 512;
  if (pm_offset >= f.size())
    fail(fmt::format("truncated: the setup code ends at {:#x} but the file is {:#x} bytes", pm_offset, f.size()));
  LinuxBootInfo info;
  info.protocol = get<uint16_t>(f, kVersion);
  if (info.protocol < kMinProtocol)
    fail(fmt::format("boot protocol {} is too old: vtlab needs {} or later (Linux 2.6.22+)",
                     version_text(info.protocol), version_text(kMinProtocol)));
  if (!(f[kLoadFlags] & kLoadedHigh)) fail("a zImage (loaded low, below 1 MiB) is not supported: use a bzImage");
  info.version = kernel_version_string(f);

  const uint16_t xloadflags = info.protocol >= 0x020C ? get<uint16_t>(f, kXLoadFlags) : 0;
  info.kernel64 = xloadflags & kXlfKernel64;
  info.entry64 = o.entry == LinuxEntry::Entry64 || (o.entry == LinuxEntry::Auto && info.kernel64);
  if (info.entry64 && !info.kernel64)
    fail("no 64-bit entry (xloadflags bit 0 clear: not an x86_64 kernel, or boot protocol before 2.12)");

  // Memory the kernel needs: it decompresses itself to its preferred address
  // (pref_address, 2.10+) when that is above where it was loaded.
  info.load_addr = kLoadAddr;
  info.load_size = f.size() - pm_offset;
  const uint64_t pref = info.protocol >= 0x020A ? get<uint64_t>(f, 0x258) : kLoadAddr;
  info.init_size = info.protocol >= 0x020A ? get<uint32_t>(f, kInitSize) : info.load_size;
  const uint64_t kernel_end = std::max(kLoadAddr, pref) + std::max(info.init_size, info.load_size);
  if (kernel_end > mem.ram_size())
    fail(fmt::format("needs {} MiB of RAM to decompress and run (init_size {:#x} from {:#x}); the machine has {} MiB: "
                     "give more with -m",
                     (kernel_end + (1 << 20) - 1) >> 20, info.init_size, std::max(kLoadAddr, pref),
                     mem.ram_size() >> 20));

  const uint32_t cmdline_size = get<uint32_t>(f, kCmdlineSize);
  if (o.cmdline.size() > cmdline_size)
    fail(fmt::format("the command line is {} bytes; this kernel takes at most {}", o.cmdline.size(), cmdline_size));

  if (!o.initrd.empty()) {
    const uint64_t max = info.protocol >= 0x0203 ? get<uint32_t>(f, kInitrdAddrMax) : 0x37FFFFFF;
    const uint64_t top = std::min<uint64_t>(mem.ram_size(), max + 1);
    info.initrd_size = o.initrd.size();
    if (info.initrd_size > top || ((top - info.initrd_size) & ~uint64_t{0xFFF}) < kernel_end)
      fail(fmt::format("the initrd ({} KiB) does not fit between the kernel's area (up to {:#x}) and {:#x}: give "
                       "more RAM with -m",
                       info.initrd_size >> 10, kernel_end, top));
    info.initrd_addr = (top - info.initrd_size) & ~uint64_t{0xFFF};
  }

  // The zero page: the setup header as the file has it (it ends where the
  // jump at 0x200 lands), then what a boot loader fills in.
  std::array<uint8_t, 4096> bp{};
  const size_t header_end = std::min<size_t>({size_t{0x202} + f[kJump + 1], f.size(), 0x290});
  std::memcpy(bp.data() + kSetupSects, f.data() + kSetupSects, header_end - kSetupSects);
  bp[kTypeOfLoader] = 0xFF;  // "undefined": vtlab has no assigned boot loader ID
  put<uint32_t>(bp, kCode32Start, kLoadAddr);
  put<uint32_t>(bp, kRamdiskImage, static_cast<uint32_t>(info.initrd_addr));
  put<uint32_t>(bp, kRamdiskSize, static_cast<uint32_t>(info.initrd_size));
  put<uint32_t>(bp, kCmdLinePtr, static_cast<uint32_t>(kCmdlineAddr));
  put<uint64_t>(bp, kAcpiRsdpAddr, o.acpi_rsdp);
  put<uint32_t>(bp, kAltMemK, static_cast<uint32_t>((mem.ram_size() - (1 << 20)) >> 10));
  const E820Entry map[] = {{0, 0x9FC00, kE820Ram},
                           {0x9FC00, 0x400, kE820Reserved},
                           {0xE0000, 0x20000, kE820Reserved},
                           {0x100000, mem.ram_size() - 0x100000, kE820Ram}};
  bp[kE820Entries] = static_cast<uint8_t>(std::size(map));
  for (size_t i = 0; i < std::size(map); ++i) {
    put<uint64_t>(bp, kE820Table + 20 * i, map[i].addr);
    put<uint64_t>(bp, kE820Table + 20 * i + 8, map[i].size);
    put<uint32_t>(bp, kE820Table + 20 * i + 16, map[i].type);
  }
  info.boot_params = kBootParamsAddr;
  info.cmdline_addr = kCmdlineAddr;

  const uint64_t gdt[4] = {0, 0, info.entry64 ? kCode64 : kCode32, kData};
  std::vector<uint8_t> cmdline(o.cmdline.begin(), o.cmdline.end());
  cmdline.push_back(0);
  bool ok = mem.write_bytes(kGdtAddr, gdt, sizeof gdt) && mem.write_bytes(kBootParamsAddr, bp.data(), bp.size()) &&
            mem.write_bytes(kCmdlineAddr, cmdline.data(), cmdline.size()) &&
            mem.write_bytes(kLoadAddr, f.data() + pm_offset, info.load_size) &&
            (o.initrd.empty() || mem.write_bytes(info.initrd_addr, o.initrd.data(), o.initrd.size()));

  reset_cpu_state(cpu);
  set_flat_protected_mode(cpu);
  set_boot_segments(cpu, info.entry64);
  for (auto& r : cpu.gpr) r = 0;
  cpu.gpr[RSI] = kBootParamsAddr;
  if (info.entry64) {
    // PML4[0] -> PDPT; PDPT[0..3] -> four directories of 2 MiB pages
    // (present, writable, PS): the first 4 GiB mapped to themselves.
    std::array<uint64_t, 512 * 6> pt{};
    const uint64_t pdpt = kPageTablesAddr + 0x1000, pd = kPageTablesAddr + 0x2000;
    pt[0] = pdpt | 0x3;
    for (uint64_t i = 0; i < 4; ++i) pt[512 + i] = (pd + 0x1000 * i) | 0x3;
    for (uint64_t i = 0; i < 4 * 512; ++i) pt[1024 + i] = (i << 21) | 0x83;
    ok = ok && mem.write_bytes(kPageTablesAddr, pt.data(), sizeof(uint64_t) * pt.size());
    cpu.cr3 = kPageTablesAddr;
    cpu.cr4 |= cr4::PAE;
    cpu.efer |= efer::LME | efer::LMA;
    cpu.cr0 |= cr0::PG;
    info.entry = kLoadAddr + 0x200;
  } else {
    info.entry = kLoadAddr;
  }
  if (!ok) fail("internal error: a boot structure fell outside guest RAM");
  cpu.rip = info.entry;
  return info;
}

}  // namespace vtlab
