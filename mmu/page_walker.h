// Linear-to-physical translation as the paging structures say (Intel SDM
// vol. 3, chapter 4).  One walker per format; this file has 32-bit paging
// with 4 KiB and 4 MiB (CR4.PSE) pages.  The walker sets accessed and dirty
// bits like hardware does and builds the #PF error code in one place.
#pragma once

#include <cstdint>

namespace vtlab {

class PhysicalMemory;

enum class Access : uint8_t { Read, Write, Execute };

// #PF error code bits (SDM 4.7).
namespace pfec {
inline constexpr uint32_t P = 1u << 0, W = 1u << 1, U = 1u << 2, RSVD = 1u << 3, I = 1u << 4;
}

// What the walk found: the physical address and the rights the whole chain
// grants.  Rights are ANDed over every level (R/W, U/S) as the SDM's
// "access rights" section says.
struct Translation {
  uint64_t phys = 0;
  uint64_t page_size = 4096;
  bool user = false;      // U/S=1 at every level
  bool writable = false;  // R/W=1 at every level
  bool dirty = false;     // D set in the final entry (a write needs no walk)
  bool global = false;
};

struct WalkRequest {
  uint64_t linear;
  Access access;
  bool user;  // CPL 3 access (not an implicit supervisor access)
  uint64_t cr0, cr3, cr4, efer;
};

struct WalkResult {
  bool ok = false;
  Translation t;
  uint32_t error_code = 0;  // for #PF when !ok
};

class PageWalker {
 public:
  explicit PageWalker(PhysicalMemory& mem) : mem_(mem) {}
  // Walks the tables, checks the access, and on success sets A (and D on a
  // write) in the entries.  On failure nothing is written.
  WalkResult walk(const WalkRequest& req);
  // Whether a cached translation allows this access (no walk needed).
  static bool permits(const Translation& t, Access access, bool user, uint64_t cr0);
  // Error code for an access the translation's rights refuse (P=1).
  static uint32_t protection_error(Access access, bool user);

 private:
  WalkResult walk32(const WalkRequest& req);
  PhysicalMemory& mem_;
};

}  // namespace vtlab
