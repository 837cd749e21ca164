// Flat binary loader: raw machine code copied to one physical address.
//
// A flat binary starts in 32-bit flat protected mode at `addr`, exactly as a
// multiboot kernel would (set_flat_protected_mode: CS/DS/ES/FS/GS/SS base 0,
// limit 4 GiB, 32-bit; CR0.PE = 1, PG = 0; IF = 0), with EIP = addr.  No
// boot information is built and the general registers are left as the
// caller set them, so assemble such code with `[bits 32]` / `.code32` and
// set up a stack first.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/cpu_state.h"
#include "core/loader/multiboot.h"  // BootInfo
#include "mmu/phys_memory.h"

namespace vtlab {

// Throws LoadError "NAME: ..." if the image is empty or does not lie wholly
// in guest RAM.  Returns format "flat", entry = addr, info_addr = 0.
BootInfo load_flat(const std::vector<uint8_t>& file, uint64_t addr, PhysicalMemory& mem, CpuState& cpu,
                   const std::string& name = "flat binary");

}  // namespace vtlab
