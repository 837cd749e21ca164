// The Linux/x86 boot protocol (Documentation/arch/x86/boot.rst, protocol
// 2.06 and later) for bzImage kernels, as a boot loader that skips the
// kernel's real-mode setup code: vtlab fills in the zero page (boot_params)
// itself and enters the protected-mode kernel directly, through the 32-bit
// entry ("32-bit boot protocol") or, for x86_64 kernels, the 64-bit entry.
//
// Where things go (all in conventional memory, which the E820 map below
// reports as usable RAM, so the kernel may reuse it once it has copied what
// it needs out of it):
//   0x1000  the GDT: null, null, __BOOT_CS (0x10), __BOOT_DS (0x18), flat
//   0x2000  64-bit entry only: identity page tables for the first 4 GiB
//           (PML4 at 0x2000, PDPT at 0x3000, four page directories of 2 MiB
//           pages at 0x4000-0x7FFF)
//   0x8000  boot_params (the zero page)
//   0x9000  the command line, NUL-terminated, at most cmdline_size bytes
//   1 MiB   the protected-mode kernel (file offset (setup_sects + 1) * 512),
//           at code32_start as GRUB and QEMU load it; a relocatable kernel
//           moves itself to its preferred address before decompressing
//   top     the initrd, page-aligned, as high as RAM and initrd_addr_max
//           allow, clear of the kernel's [load, load + init_size) area
// The E820 map: [0, 0x9FC00) RAM, [0x9FC00, 0xA0000) reserved (the EBDA a
// PC has), [0xE0000, 0x100000) reserved (the BIOS area, where ACPI tables
// live when the machine has them), [1 MiB, RAM size) RAM.
//
// Machine state at entry, as boot.rst requires: interrupts off; 32-bit: flat
// protected mode, paging off, CS = 0x10, DS = ES = SS = 0x18, ESI = the zero
// page, EBP = EDI = EBX = 0, EIP = code32_start.  64-bit: long mode with the
// identity map above, CS = 0x10 (64-bit), DS = ES = SS = 0x18, RSI = the
// zero page, RIP = load address + 0x200.
//
// Every check runs before the first byte reaches guest memory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/cpu_state.h"
#include "mmu/phys_memory.h"

namespace vtlab {

// True when `file` carries a boot-protocol setup header ("HdrS" at 0x202
// and the 0xAA55 boot flag): a bzImage or zImage, not a multiboot ELF.
bool is_linux_kernel(const std::vector<uint8_t>& file);

enum class LinuxEntry { Auto, Entry32, Entry64 };

struct LinuxBootOptions {
  std::string cmdline;
  std::vector<uint8_t> initrd;  // empty: no initrd
  LinuxEntry entry = LinuxEntry::Auto;  // Auto: 64-bit for x86_64 kernels, else 32-bit
  uint64_t acpi_rsdp = 0;       // boot_params.acpi_rsdp_addr (0: the kernel scans for it)
};

struct LinuxBootInfo {
  uint16_t protocol = 0;         // e.g. 0x020F for 2.15
  bool kernel64 = false;         // XLF_KERNEL_64: an x86_64 kernel with a 64-bit entry
  bool entry64 = false;          // the entry vtlab used
  uint64_t entry = 0;            // where execution starts
  uint64_t load_addr = 0;        // the protected-mode kernel
  uint64_t load_size = 0;
  uint64_t init_size = 0;        // memory the kernel needs from its load address on
  uint64_t boot_params = 0;
  uint64_t cmdline_addr = 0;
  uint64_t initrd_addr = 0, initrd_size = 0;
  std::string version;           // the kernel_version string, when the header points at one
};

// Zero-page and setup-header offsets (boot.rst, "the real-mode kernel header"
// and zero-page.rst); exported for tests and the debugger.
namespace linux_boot {
inline constexpr uint64_t kGdtAddr = 0x1000, kPageTablesAddr = 0x2000, kBootParamsAddr = 0x8000,
                          kCmdlineAddr = 0x9000, kLoadAddr = 0x100000;
inline constexpr uint16_t kBootCs = 0x10, kBootDs = 0x18;
inline constexpr uint16_t kMinProtocol = 0x0206;  // cmdline_size, and a 32-bit entry every kernel since 2.6.22 has
inline constexpr size_t kSetupSects = 0x1F1, kBootFlag = 0x1FE, kJump = 0x200, kHeader = 0x202,
                        kVersion = 0x206, kKernelVersion = 0x20E, kTypeOfLoader = 0x210, kLoadFlags = 0x211,
                        kCode32Start = 0x214, kRamdiskImage = 0x218, kRamdiskSize = 0x21C, kCmdLinePtr = 0x228,
                        kInitrdAddrMax = 0x22C, kXLoadFlags = 0x236, kCmdlineSize = 0x238, kInitSize = 0x260;
inline constexpr size_t kAcpiRsdpAddr = 0x070, kExtRamdiskImage = 0x0C0, kExtRamdiskSize = 0x0C4,
                        kExtCmdLinePtr = 0x0C8, kAltMemK = 0x1E0, kE820Entries = 0x1E8, kSentinel = 0x1EF,
                        kE820Table = 0x2D0;
inline constexpr uint8_t kLoadedHigh = 0x01;   // loadflags bit 0: the kernel runs at 1 MiB (bzImage)
inline constexpr uint16_t kXlfKernel64 = 0x01; // xloadflags bit 0: a 64-bit entry at load + 0x200
inline constexpr uint32_t kE820Ram = 1, kE820Reserved = 2;
}  // namespace linux_boot

// Loads `kernel` (named `name` in messages) and its initrd into `mem` and
// sets `cpu` up for the chosen entry.  Throws LoadError with one line
// naming the file and the reason (not a bzImage, protocol too old, needs
// more RAM, initrd does not fit, no 64-bit entry).
LinuxBootInfo load_linux(const std::vector<uint8_t>& kernel, const std::string& name,
                         const LinuxBootOptions& options, PhysicalMemory& mem, CpuState& cpu);

}  // namespace vtlab
