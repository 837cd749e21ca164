// Shared by the x87 tests: run an x87 snippet in the guest and the same
// snippet on the host's own x87 (the oracle), each with EBX pointing at a
// data area, and compare the areas byte for byte.  The host area comes from
// mmap(MAP_32BIT), so `[ebx+n]` addresses it from 64-bit host code too.
//
// Layout of the area: inputs from 0, results from 0x100, an FNSAVE image at
// 0x200 (snippets end with `fnsave [ebx+0x200]`, which does not wait, so an
// unmasked exception never traps on the host).
#pragma once

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "support/cpu_harness.h"

namespace vtlab::test::x87 {

inline constexpr size_t kArea = 0x300;
inline constexpr uint64_t kGuestArea = CpuHarness::kData;
inline constexpr size_t kImage = 0x200;

using Area = std::array<uint8_t, kArea>;

// An 80-bit value from its sign/exponent and significand.
struct F80 {
  uint16_t se;
  uint64_t sig;
};
inline void put_f80(Area& a, size_t at, F80 v) {
  std::memcpy(&a[at], &v.sig, 8);
  std::memcpy(&a[at + 8], &v.se, 2);
}
inline F80 get_f80(const uint8_t* p) {
  F80 v;
  std::memcpy(&v.sig, p, 8);
  std::memcpy(&v.se, p + 8, 2);
  return v;
}

inline uint8_t* host_area() {
  static uint8_t* p = static_cast<uint8_t*>(
      mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0));
  return p;
}

// The snippet as text for the guest and as host code.
#define X87_SNIPPET(NAME, TEXT)                                                                           \
  inline void NAME##_host(uint8_t* area) {                                                                \
    asm volatile(".intel_syntax noprefix\n\t" TEXT "\n\t.att_syntax prefix"                               \
                 :                                                                                        \
                 : "b"(area)                                                                              \
                 : "cc", "memory", "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)"); \
  }                                                                                                       \
  inline const Snippet NAME{#NAME, TEXT, NAME##_host};

struct Snippet {
  const char* name;
  const char* text;
  void (*host)(uint8_t*);
};

// One harness per snippet, assembled once and rerun on new inputs.
class GuestRunner {
 public:
  explicit GuestRunner(const Snippet& s) : code_(assemble(s.text, 32, CpuHarness::kCode)) {}

  Area run(const Area& in) {
    h_.mem.write_bytes(kGuestArea, in.data(), in.size());
    h_.cpu.s.fpu = X87State{};
    h_.cpu.s.gpr[RBX] = kGuestArea;
    h_.load(code_);
    h_.run_to_end();
    Area out;
    h_.mem.read_bytes(kGuestArea, out.data(), out.size());
    return out;
  }
  CpuHarness& harness() { return h_; }

 private:
  std::vector<uint8_t> code_;
  CpuHarness h_;
};

inline Area host_run(const Snippet& s, const Area& in) {
  uint8_t* p = host_area();
  std::memcpy(p, in.data(), in.size());
  s.host(p);
  Area out;
  std::memcpy(out.data(), p, out.size());
  return out;
}

inline uint16_t image_fsw(const Area& a) { return static_cast<uint16_t>(a[kImage + 4] | (a[kImage + 5] << 8)); }
inline uint16_t image_ftw(const Area& a) { return static_cast<uint16_t>(a[kImage + 8] | (a[kImage + 9] << 8)); }
inline F80 image_st(const Area& a, unsigned i) { return get_f80(&a[kImage + 28 + 10 * i]); }

// Everything but the image's FIP, FCS/FOP, FDP and FDS (bytes 12-27),
// which name host addresses, and the contents of empty registers (FNINIT
// leaves the host's physical registers as earlier host code left them).
inline ::testing::AssertionResult same_as_host(const Area& guest, const Area& host) {
  const unsigned top = (image_fsw(host) >> 11) & 7;
  for (size_t k = 0; k < kArea; ++k) {
    if (k >= kImage + 12 && k < kImage + 28) continue;
    if (k >= kImage + 28 && k < kImage + 108) {
      const unsigned phys = (top + (k - kImage - 28) / 10) & 7;
      if (((image_ftw(host) >> (2 * phys)) & 3) == 3) continue;
    }
    if (guest[k] != host[k]) {
      char msg[96];
      std::snprintf(msg, sizeof msg, "byte %#zx: guest %02x host %02x", k, guest[k], host[k]);
      return ::testing::AssertionFailure() << msg;
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace vtlab::test::x87
