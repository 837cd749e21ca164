// Running a guest x87 instruction on the host's own x87 (the host is
// x86-64, whose FPU is the guest's): the guest's whole FPU state is loaded
// with FRSTOR, the instruction runs with the guest's exact encoding (the
// register forms byte for byte, the memory forms with ModR/M 00 reg 000 so
// the operand is [RAX], a host buffer holding the bytes the guest read or
// will write), and FNSAVE takes the state back.  Everything SDM vol. 1,
// chapter 8 specifies then comes from silicon: rounding and precision
// control, denormals, NaN propagation, C0-C3, TOP, the tags, stack
// overflow/underflow with their masked responses, and the unmasked ones
// (destination and TOP untouched for IE/DE/ZE, the biased result for O/U,
// ES and B set).  An unmasked exception never reaches the host: FNSAVE
// does not wait, and it reinitializes the FPU, which clears it; the host's
// control word is restored after.
//
// The guest never reaches here with an unmasked exception pending
// (x87_wait_check raises #MF first); to_host strips such flags anyway, so
// no guest state can make the host's FRSTOR arm an exception.
#pragma once

#include <cstring>

#include "core/isa/x87_state.h"

#if !defined(__x86_64__)
#error "the x87 runs on the host's own x87: vtlab builds for x86-64 hosts"
#endif

namespace vtlab::isa {

// FNSAVE's 108-byte image as 64-bit code stores it (32-bit protected-mode
// layout, SDM vol. 1, figure 8-9 plus the registers in ST order).
struct HostImage {
  uint16_t fcw, fcw_hi, fsw, fsw_hi, ftw, ftw_hi;
  uint32_t fip;
  uint16_t fcs, fop;
  uint32_t fdp;
  uint16_t fds, fds_hi;
  uint8_t st[8][10];
};
static_assert(sizeof(HostImage) == 108);

struct HostRun {
  HostImage img;
  alignas(16) uint8_t mem[16];  // the memory operand
  uint32_t cond = 0;            // FCMOVcc: 1 when the guest's condition holds
  uint8_t zf = 0, pf = 0, cf = 0;  // FCOMI/FUCOMI results
  uint16_t unmasked_before = 0;
};

inline void to_host(const X87State& f, HostRun& h) {
  std::memset(&h.img, 0, sizeof h.img);
  h.img.fcw = f.fcw;
  h.unmasked_before = f.fsw & ~f.fcw & fsw::kExceptions;
  h.img.fsw = static_cast<uint16_t>(f.fsw & ~(h.unmasked_before | fsw::ES | fsw::B));
  h.img.ftw = f.ftw;
  const unsigned top = x87_top(f);
  for (unsigned k = 0; k < 8; ++k) std::memcpy(h.img.st[k], f.regs[(top + k) & 7].data(), 10);
}

// The exception flags this instruction raised with their masks clear.
inline uint16_t unmasked_raised(const X87State& f, const HostRun& h) {
  return h.img.fsw & ~f.fcw & fsw::kExceptions;
}

inline void from_host(X87State& f, const HostRun& h) {
  f.fsw = static_cast<uint16_t>(h.img.fsw | h.unmasked_before);
  if (h.unmasked_before) f.fsw |= fsw::ES | fsw::B;
  f.ftw = h.img.ftw;
  const unsigned top = x87_top(f);
  for (unsigned k = 0; k < 8; ++k) std::memcpy(f.regs[(top + k) & 7].data(), h.img.st[k], 10);
}

#define VTLAB_X87_ON_HOST(OPCODE, MODRM)                                                                    \
  uint16_t host_cw = 0;                                                                                     \
  asm volatile("fnstcw %[hcw]\n\t"                                                                          \
               "frstor %[img]\n\t"                                                                          \
               "cmpl $1, %[cond]\n\t"                                                                       \
               ".byte %c[op], %c[modrm]\n\t"                                                                \
               "setz %[zf]\n\t"                                                                             \
               "setp %[pf]\n\t"                                                                             \
               "setc %[cf]\n\t"                                                                             \
               "fnsave %[img]\n\t"                                                                          \
               "fldcw %[hcw]"                                                                               \
               : [img] "+m"(h.img), [hcw] "+m"(host_cw), [zf] "=m"(h.zf), [pf] "=m"(h.pf), [cf] "=m"(h.cf) \
               : [cond] "r"(h.cond), [op] "i"(OPCODE), [modrm] "i"(MODRM), [mem] "a"(h.mem)                 \
               : "cc", "memory", "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)")

// A register (or operand-less) form: opcode D8+Op and ModR/M C0-FF.
template <uint8_t Opcode, uint8_t ModRM> void run_on_host(HostRun& h) {
  static_assert(Opcode >= 0xD8 && ModRM >= 0xC0);
  VTLAB_X87_ON_HOST(Opcode, ModRM);
}

// A memory form /Reg with its operand in h.mem.
template <uint8_t Opcode, uint8_t Reg> void run_on_host_mem(HostRun& h) {
  static_assert(Opcode >= 0xD8 && Reg < 8);
  VTLAB_X87_ON_HOST(Opcode, Reg << 3);
}

#undef VTLAB_X87_ON_HOST

}  // namespace vtlab::isa
