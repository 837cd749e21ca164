// Multiboot v1 (specification 0.6.96) kernel loader, behaving like QEMU's
// `-kernel` so test kernels written for QEMU boot unchanged.
//
// What is supported, and the choices made where the spec leaves room:
//  * Header: magic 0x1BADB002 at a 4-byte aligned offset, wholly inside the
//    first 8192 bytes, magic + flags + checksum == 0 (mod 2^32).
//  * Required flag bits 0..15 (a loader must refuse what it cannot honour):
//      bit 0 (page-align modules): honoured trivially, we load no modules;
//      bit 1 (memory information): always provided;
//      bit 2 (video mode table): accepted but NOT provided, as QEMU does.
//        Kernels asking for a mode check info flags bit 11/12 before using
//        it; refusing would stop QEMU-tested kernels from booting.  The
//        load records a note so the front end can say so;
//      bits 3..15: refused (nothing defines them, so we cannot honour them).
//    Optional bits 17..31 are ignored.
//  * Bit 16 (a.out kludge: address fields in the header) wins over the ELF
//    headers even for ELF files, as in QEMU; otherwise the file must be a
//    32-bit little-endian i386 ELF and its PT_LOAD segments are loaded at
//    p_paddr (p_filesz bytes copied, the rest up to p_memsz zeroed).  An ELF
//    entry that is a virtual address inside a segment (higher-half kernels)
//    is translated to its physical address.
//  * The boot information is laid out exactly as qemu-system-i386 (7.2, with
//    SeaBIOS) lays it out, so a kernel that prints or dumps its boot
//    information shows the same bytes under vtlab as under QEMU (only the
//    boot loader name differs: "vtlab").  Measured with `-kernel k.elf -m 128
//    -append "a b"`; QEMU's multiboot option ROM builds the low part:
//      0x9000  the memory map (e820 as SeaBIOS reports it), 24-byte entries:
//                [0, 0x9FC00) RAM, [0x9FC00, 0xA0000) reserved (EBDA),
//                [0xF0000, 0x100000) reserved (BIOS ROM),
//                [1 MiB, RAM - 128 KiB) RAM, [RAM - 128 KiB, RAM) reserved
//                (SeaBIOS keeps its tables there), [0xFFFC0000, 4 GiB)
//                reserved (the 256 KiB BIOS flash);
//      0x9500  the info structure (EBX at entry), zeros up to 0x9580.
//    QEMU's loader puts the rest at P = image_start + the image size (bss
//    included) rounded up to a page: the module list (empty here, but
//    mods_addr = P all the same), then the command line, then the boot
//    loader name right after the command line's NUL.
//    Flags 0x24F: 0 (mem_lower = 639, mem_upper = (RAM - 1 MiB - 128 KiB) /
//    1 KiB), 1 (boot_device = 0x8000FFFF: BIOS drive 0x80, no partition),
//    2 (cmdline), 3 (mods, count 0), 6 (mmap), 9 (boot loader name).
//    A kernel overlapping [0x9000, 0x9580) is refused, and so is one whose
//    command line area would not lie in RAM or would run into [0x9000,
//    0x9580) (only an image ending below 0x9000 can; it cannot overlap the
//    image, since P is at or past its end).
//  * The command line is "NAME CMDLINE": the kernel's name as given, a
//    space, then the user's command line (even when that is empty, leaving a
//    trailing space).  This is what QEMU passes (checked with qemu-system-i386
//    7.2: `-kernel ./k.elf` gives "./k.elf ", `-append "a b"` gives
//    "./k.elf a b"); GRUB likewise puts the kernel path first, so kernels
//    treat the first word as argv[0].
//  * Machine state per the spec's "Machine state" section: EAX = 0x2BADB002,
//    EBX = info address, flat 32-bit protected mode (set_flat_protected_mode:
//    CS/DS/ES/FS/GS/SS base 0 limit 4 GiB, PE = 1, PG = 0, IF = 0, VM = 0),
//    EIP = entry.  Other registers are left as the caller set them (the spec
//    leaves them undefined; the kernel must set up its own stack and GDT).
//
// Every check runs before the first byte reaches guest memory: a refused
// image leaves RAM and the CPU untouched.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/cpu_state.h"
#include "mmu/phys_memory.h"

namespace vtlab {

inline constexpr uint32_t kMultibootHeaderMagic = 0x1BADB002;
inline constexpr uint32_t kMultibootBootMagic = 0x2BADB002;  // in EAX at entry
inline constexpr uint32_t kMultibootSearchLimit = 8192;
// The low boot information area [kMultibootInfoBase, kMultibootInfoEnd):
// the memory map at its start, the info structure at kMultibootInfoAddr.
inline constexpr uint64_t kMultibootInfoBase = 0x9000;
inline constexpr uint64_t kMultibootInfoAddr = 0x9500;
inline constexpr uint64_t kMultibootInfoSize = 128;  // 116 bytes in 0.6.96 (framebuffer fields), rounded up
inline constexpr uint64_t kMultibootInfoEnd = kMultibootInfoAddr + kMultibootInfoSize;
// End of conventional memory: the top KiB below 640 KiB is the EBDA.
inline constexpr uint64_t kMultibootLowMemEnd = 0x9FC00;
// Reserved in the memory map: the top of RAM (SeaBIOS tables) and the flash.
inline constexpr uint64_t kMultibootBiosTablesSize = 128 * 1024;
inline constexpr uint64_t kMultibootBiosFlashBase = 0xFFFC0000, kMultibootBiosFlashSize = 0x40000;
inline constexpr uint32_t kMultibootBootDevice = 0x8000FFFF;

// Info structure flags this loader sets (spec section 3.3).
namespace mbi {
inline constexpr uint32_t kMem = 1u << 0, kBootDevice = 1u << 1, kCmdline = 1u << 2, kMods = 1u << 3,
                          kMmap = 1u << 6, kLoaderName = 1u << 9;
}

struct BootInfo {
  uint32_t entry = 0;                  // physical address EIP starts at
  uint32_t info_addr = 0;              // multiboot info structure (0: none)
  uint64_t image_start = 0, image_end = 0;  // [start, end) incl. bss
  std::string format;                  // "elf", "a.out-kludge" or "flat"
  std::vector<std::string> notes;      // things the user should know, e.g. ignored requests
};

// Loads `file` (named `name` in messages and in the command line) into
// `mem` and sets `cpu` up for entry.  Throws LoadError on a refused image.
BootInfo load_multiboot(const std::vector<uint8_t>& file, const std::string& name,
                        const std::string& cmdline, PhysicalMemory& mem, CpuState& cpu);

}  // namespace vtlab
