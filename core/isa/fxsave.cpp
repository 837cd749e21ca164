// FXSAVE/FXRSTOR and their REX.W forms FXSAVE64/FXRSTOR64 (Intel SDM
// vol. 1, 10.5.1, tables 10-2 and 10-3; vol. 2, FXSAVE/FXRSTOR): the x87,
// MMX and SSE state in one 512-byte, 16-byte-aligned image.
//
// Choices where the SDM leaves room, each as the Intel host does or as the
// SDM's own wording has it:
//   - bytes 0-415 are written in 64-bit mode (XMM0-15), bytes 0-287 outside
//     it (XMM0-7); reserved bytes among them are written as zero (the host
//     does so); bytes 416-511 are never written (they are software's);
//   - MXCSR_MASK is 0000FFFFH (simd::kMxcsrMask, the host's value);
//   - with CR4.OSFXSR clear, MXCSR, MXCSR_MASK and the XMM registers are
//     neither saved nor restored (the SDM: "may not" be saved, "will not"
//     be loaded); FXRSTOR then does not check MXCSR either;
//   - the REX.W forms store 64-bit FIP/FDP in place of FIP:FCS and FDP:FDS;
//     FXRSTOR64 leaves FCS and FDS as they were.
#include "core/isa/registry.h"
#include "core/isa/sse_common.h"
#include "core/isa/x87_state.h"

namespace vtlab::isa {

namespace {

using namespace simd;

constexpr unsigned kImageSize = 512;
constexpr unsigned kMxcsrOffset = 24, kStOffset = 32, kXmmOffset = 160;

template <typename T> void put(uint8_t* image, unsigned at, T v) { std::memcpy(image + at, &v, sizeof(T)); }
template <typename T> T take(const uint8_t* image, unsigned at) {
  T v;
  std::memcpy(&v, image + at, sizeof(T));
  return v;
}

unsigned top(const X87State& f) { return (f.fsw >> 11) & 7; }

Status fx_available(Cpu& cpu, const DecodedInsn& i, uint64_t& ea) {
  if (cpu.s.cr0 & cr0::EM) return cpu.raise(vec::UD);
  if (cpu.s.cr0 & cr0::TS) return cpu.raise(vec::NM);
  ea = effective_address(cpu, i);
  return check_aligned16(cpu, i.mem.seg, ea);
}

unsigned xmm_count(const Cpu& cpu) { return cpu.s.code_size() == 8 ? 16 : 8; }

template <bool kRexW> Status fxsave(Cpu& cpu, const DecodedInsn& i) {
  uint64_t ea;
  TRY(fx_available(cpu, i, ea));
  TRY(probe_write(cpu, i.mem.seg, ea, kImageSize));
  const X87State& f = cpu.s.fpu;
  std::array<uint8_t, kImageSize> image{};
  put<uint16_t>(image.data(), 0, f.fcw);
  put<uint16_t>(image.data(), 2, f.fsw);
  image[4] = x87_abridged_tag(f);
  put<uint16_t>(image.data(), 6, f.fop & 0x7FF);
  if (kRexW) {
    put<uint64_t>(image.data(), 8, f.fip);
    put<uint64_t>(image.data(), 16, f.fdp);
  } else {
    put<uint32_t>(image.data(), 8, uint32_t(f.fip));
    put<uint16_t>(image.data(), 12, f.fcs);
    put<uint32_t>(image.data(), 16, uint32_t(f.fdp));
    put<uint16_t>(image.data(), 20, f.fds);
  }
  put<uint32_t>(image.data(), kMxcsrOffset, cpu.s.sse.mxcsr);
  put<uint32_t>(image.data(), kMxcsrOffset + 4, kMxcsrMask);
  for (unsigned st = 0; st < 8; ++st)
    std::memcpy(&image[kStOffset + 16 * st], f.regs[(top(f) + st) & 7].data(), 10);
  for (unsigned n = 0; n < 16; ++n) std::memcpy(&image[kXmmOffset + 16 * n], cpu.s.sse.xmm[n].data(), 16);

  const bool sse_state = cpu.s.cr4 & cr4::OSFXSR;
  const unsigned end = kXmmOffset + 16 * xmm_count(cpu);
  const unsigned seg = i.mem.seg;
  if (sse_state) return write_bytes(cpu, seg, ea, end, image.data());
  TRY(write_bytes(cpu, seg, ea, kMxcsrOffset, image.data()));
  return write_bytes(cpu, seg, ea + kStOffset, kXmmOffset - kStOffset, &image[kStOffset]);
}

template <bool kRexW> Status fxrstor(Cpu& cpu, const DecodedInsn& i) {
  uint64_t ea;
  TRY(fx_available(cpu, i, ea));
  std::array<uint8_t, kImageSize> image;
  TRY(read_bytes(cpu, i.mem.seg, ea, kImageSize, image.data()));
  const bool sse_state = cpu.s.cr4 & cr4::OSFXSR;
  const uint32_t mxcsr = take<uint32_t>(image.data(), kMxcsrOffset);
  if (sse_state && (mxcsr & ~kMxcsrMask)) return cpu.raise(vec::GP, 0);

  X87State& f = cpu.s.fpu;
  f.fcw = take<uint16_t>(image.data(), 0);
  f.fsw = take<uint16_t>(image.data(), 2);
  f.fop = take<uint16_t>(image.data(), 6) & 0x7FF;
  if (kRexW) {
    f.fip = take<uint64_t>(image.data(), 8);
    f.fdp = take<uint64_t>(image.data(), 16);
  } else {
    f.fip = take<uint32_t>(image.data(), 8);
    f.fcs = take<uint16_t>(image.data(), 12);
    f.fdp = take<uint32_t>(image.data(), 16);
    f.fds = take<uint16_t>(image.data(), 20);
  }
  for (unsigned st = 0; st < 8; ++st) std::memcpy(f.regs[(top(f) + st) & 7].data(), &image[kStOffset + 16 * st], 10);
  f.ftw = x87_full_tag_from_abridged(f, image[4]);
  if (sse_state) {
    cpu.s.sse.mxcsr = mxcsr;
    for (unsigned n = 0; n < xmm_count(cpu); ++n) std::memcpy(cpu.s.sse.xmm[n].data(), &image[kXmmOffset + 16 * n], 16);
  }
  return Status::Ok;
}

template <Handler H> Handler bind_image(DecodedInsn& i, const ZydisDecodedInstruction&) {
  return i.nops == 1 && i.op[0].kind == OpKind::Mem ? H : nullptr;
}

}  // namespace

void register_fxsave(InsnTable& t) {
  t.add(ZYDIS_MNEMONIC_FXSAVE, bind_image<&fxsave<false>>);
  t.add(ZYDIS_MNEMONIC_FXSAVE64, bind_image<&fxsave<true>>);
  t.add(ZYDIS_MNEMONIC_FXRSTOR, bind_image<&fxrstor<false>>);
  t.add(ZYDIS_MNEMONIC_FXRSTOR64, bind_image<&fxrstor<true>>);
}

}  // namespace vtlab::isa
