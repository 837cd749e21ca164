// Firmware at the reset vector (`vtlab run --bios ROM.bin`).
//
// A PC maps its firmware ROM at the top of the 4 GiB space, where the CPU
// fetches its first instruction (F000:FFF0 with CS.base FFFF0000, SDM vol.
// 3, 9.1.4), and shadows the ROM's last 128 KiB below 1 MiB at
// 0xE0000-0xFFFFF for real-mode code (QEMU's -bios does the same; a 64 KiB
// image appears at 0xF0000-0xFFFFF).  The CPU starts in the power-on state
// of SDM table 9-1 (reset_cpu_state); no boot information is built.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/cpu_state.h"
#include "core/loader/multiboot.h"  // BootInfo
#include "mmu/phys_memory.h"

namespace vtlab {

// Image sizes a PC's firmware flash comes in, and that vtlab maps.
inline constexpr uint64_t kBiosSizes[] = {64 << 10, 128 << 10, 256 << 10};
inline constexpr uint64_t kBiosShadowMax = 128 << 10;

// Throws LoadError "NAME: ..." for a size other than 64, 128 or 256 KiB.
// Returns format "bios", entry = 0xFFFFFFF0.
BootInfo load_bios(const std::vector<uint8_t>& image, PhysicalMemory& mem, CpuState& cpu,
                   const std::string& name = "ROM image");

}  // namespace vtlab
