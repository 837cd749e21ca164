// See kvm_runner64.h.
#include "kvm_runner64.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/cpu.h"
#include "core/interpreter.h"
#include "core/isa/x87_state.h"
#include "core/kvm/kvm_state.h"

namespace vtlab::kvmtest {

namespace {

// Interpreter instructions per case (a REP counts once per 4096
// iterations): a 64-bit REP whose count a sequence made huge runs up to
// the first unmapped page, 2 MiB on, like the silicon.
constexpr uint64_t kInterpreterBudget = 1024;

// CR0.MP with EM = TS = 0 and CR4.OSFXSR/OSXMMEXCPT: x87, MMX and SSE run,
// WAIT/FWAIT report a pending x87 exception, unmasked SIMD exceptions are
// #XM (SDM vol. 3, 2.5 and 13.1).
constexpr uint64_t kCr0 = cr0::PE | cr0::MP | cr0::ET | cr0::NE | cr0::WP | cr0::AM | cr0::PG;
constexpr uint64_t kCr4 = cr4::PAE | cr4::OSFXSR | cr4::OSXMMEXCPT;

// A case's x87/SSE state in vtlab's CpuState and back.  FXSAVE's view:
// physical register j is ST((j - TOP) & 7); the full tag word is derived
// from the abridged one and the registers.
void to_cpu_state(const FpuState& f, CpuState& s) {
  const unsigned top = (f.fsw >> 11) & 7;
  s.fpu.fcw = f.fcw;
  s.fpu.fsw = f.fsw;
  for (unsigned i = 0; i < 8; ++i) std::memcpy(s.fpu.regs[(top + i) & 7].data(), f.st[i], 10);
  s.fpu.ftw = isa::x87_full_tag_from_abridged(s.fpu, f.ftw);
  for (unsigned r = 0; r < 16; ++r) s.sse.xmm[r] = {f.xmm[r][0], f.xmm[r][1]};
  s.sse.mxcsr = f.mxcsr;
  s.fpu.fop = f.fop;
  s.fpu.fip = f.fip;
  s.fpu.fdp = f.fdp;
}

FpuState from_cpu_state(const CpuState& s) {
  FpuState f;
  f.fcw = s.fpu.fcw;
  f.fsw = s.fpu.fsw;
  f.ftw = isa::x87_abridged_tag(s.fpu);
  const unsigned top = (s.fpu.fsw >> 11) & 7;
  for (unsigned i = 0; i < 8; ++i) std::memcpy(f.st[i], s.fpu.regs[(top + i) & 7].data(), 10);
  for (unsigned r = 0; r < 16; ++r) {
    f.xmm[r][0] = s.sse.xmm[r][0];
    f.xmm[r][1] = s.sse.xmm[r][1];
  }
  f.mxcsr = s.sse.mxcsr;
  f.fop = s.fpu.fop;
  f.fip = s.fpu.fip;
  f.fdp = s.fpu.fdp;
  return f;
}

// The guest's segment registers, control registers and tables as KVM's
// special registers; the interpreter gets the same from set_interpreter.
kvm_sregs guest_sregs(kvm_sregs s) {
  kvm_segment code{};
  code.limit = 0xFFFFFFFF;
  code.present = 1;
  code.s = 1;
  code.g = 1;
  code.l = 1;
  code.type = 11;
  code.dpl = 3;
  code.selector = kCode3;
  kvm_segment data = code;
  data.l = 0;
  data.db = 1;
  data.type = 3;
  data.selector = kData3;
  s.cs = code;
  s.ds = s.es = s.fs = s.gs = s.ss = data;
  s.tr = kvm_segment{};
  s.tr.base = kTss;
  s.tr.limit = 0x67;
  s.tr.present = 1;
  s.tr.type = 11;  // busy 64-bit TSS
  s.tr.selector = kTr;
  s.gdt.base = kGdt;
  s.gdt.limit = 0x37;
  s.idt.base = kIdt;
  s.idt.limit = 0xFFF;
  s.cr2 = 0;
  s.cr3 = kPml4;
  s.cr4 = kCr4;
  s.cr0 = kCr0;
  s.efer = efer::LME | efer::LMA;
  return s;
}

}  // namespace

bool Kvm64::setup() {
  if (!open(kGuestRam)) return false;
  build_guest(image.data());
  if (ioctl(vcpu, KVM_GET_SREGS, &sregs_) < 0) return fail("KVM_GET_SREGS failed");
  sregs_ = guest_sregs(sregs_);
  stats_.open(vcpu);  // without binary stats, Outcome::emulated stays 0
  if (!vm.check(KVM_CAP_XSAVE)) return fail("KVM has no KVM_CAP_XSAVE (the x87/SSE state cannot be set)");
  // With features beyond 4 KiB (AMX), only KVM_GET_XSAVE2 reads the image.
  const int size = vm.check(KVM_CAP_XSAVE2);
  if (size > int(sizeof(KvmXsaveRegion))) get_xsave_ = kKvmGetXsave2;
  xsave_.assign(std::max<size_t>(sizeof(KvmXsaveRegion), size_t(size > 0 ? size : 0)) / 4, 0);
  if (ioctl(vcpu, get_xsave_, xsave_.data()) < 0)
    return fail(std::string("KVM_GET_XSAVE: ") + std::strerror(errno) + " (size " + std::to_string(size) + ")");
  return true;
}

// Through the hw-kvm engine's own conversion (core/kvm/kvm_state.h).
bool Kvm64::set_fpu(const FpuState& in) {
  std::vector<uint32_t> image = xsave_;
  CpuState s;
  to_cpu_state(in, s);
  to_kvm_xsave(s, reinterpret_cast<uint8_t*>(image.data()));
  return ioctl(vcpu, kKvmSetXsave, image.data()) == 0;
}

bool Kvm64::get_fpu(FpuState& out) {
  std::vector<uint32_t> image(xsave_.size());
  if (ioctl(vcpu, get_xsave_, image.data()) < 0) return false;
  CpuState s;
  from_kvm_xsave(reinterpret_cast<const uint8_t*>(image.data()), s);
  out = from_cpu_state(s);
  return true;
}

Kvm64::Result Kvm64::run_case(const std::vector<uint8_t>& code, const State& in, Outcome& out, uint64_t cr3) {
  std::memcpy(ram, image.data(), kImageBytes);
  // The last user page below the read-only one, which the loads at the
  // region's edge read and a REP STOS running up to it writes.
  std::memset(ram + kUserReadOnly - 0x1000, 0, 0x1000);
  std::memcpy(ram + kCode, code.data(), code.size());
  std::memcpy(ram + kData, in.data, kDataBytes);
  sregs_.cr3 = cr3;
  if (ioctl(vcpu, KVM_SET_SREGS, &sregs_) < 0) return fail("KVM_SET_SREGS failed"), Failed;
  kvm_regs regs{};
  __u64* g[16] = {&regs.rax, &regs.rcx, &regs.rdx, &regs.rbx, &regs.rsp, &regs.rbp, &regs.rsi, &regs.rdi,
                  &regs.r8,  &regs.r9,  &regs.r10, &regs.r11, &regs.r12, &regs.r13, &regs.r14, &regs.r15};
  for (int i = 0; i < 16; ++i) *g[i] = in.gpr[i];
  regs.rip = kCode;
  regs.rflags = in.flags | 2;
  if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0) return fail("KVM_SET_REGS failed"), Failed;
  if (!set_fpu(in.fpu)) return fail("KVM_SET_XSAVE failed"), Failed;
  const uint64_t emulated = stats_.value("insn_emulation");
  if (ioctl(vcpu, KVM_RUN, 0) < 0) return fail(std::string("KVM_RUN: ") + std::strerror(errno)), Failed;
  if (run->exit_reason != KVM_EXIT_HLT)
    return fail("the guest stopped with KVM exit reason " + std::to_string(run->exit_reason) +
                " instead of HLT (this host's KVM cannot run the 64-bit ring-3 guest)"),
           Failed;
  kvm_sregs after;
  if (ioctl(vcpu, KVM_GET_REGS, &regs) < 0 || ioctl(vcpu, KVM_GET_SREGS, &after) < 0)
    return fail("KVM_GET_REGS failed"), Failed;
  if (!get_fpu(out.fpu)) return fail("KVM_GET_XSAVE failed"), Failed;
  for (int i = 0; i < 16; ++i) out.gpr[i] = *g[i];
  out.rip = regs.rip;
  out.cr2 = after.cr2;
  out.emulated = stats_.value("insn_emulation") - emulated;
  std::memcpy(out.frame, ram + kKernelStack - kFrameBytes, kFrameBytes);
  std::memcpy(out.data, ram + kData, kDataBytes);
  return Ok;
}

bool run_interpreter(const std::vector<uint8_t>& image, const std::vector<uint8_t>& code, const State& in,
                     Outcome& out, uint64_t cr3) {
  PhysicalMemory mem(kGuestRam);
  IoBus io("io");
  Cpu cpu(mem, io);
  Interpreter engine(cpu);
  mem.write_bytes(0, image.data(), image.size());
  mem.write_bytes(kCode, code.data(), code.size());
  mem.write_bytes(kData, in.data, kDataBytes);
  reset_cpu_state(cpu.s);
  set_flat_protected_mode(cpu.s);
  CpuState& s = cpu.s;
  constexpr uint32_t user_data = ar::kPresent | ar::kS | ar::kWritable | ar::kAccessed | ar::kDb |
                                 ar::kGranularity | (3u << ar::kDplShift);
  for (SegmentCache& sc : s.seg) sc = SegmentCache{kData3, 0, 0xFFFFFFFF, user_data};
  s.seg[CS] = SegmentCache{kCode3, 0, 0xFFFFFFFF,
                           ar::kPresent | ar::kS | ar::kCode | ar::kReadable | ar::kAccessed | ar::kLong |
                               ar::kGranularity | (3u << ar::kDplShift)};
  s.tr = SegmentCache{kTr, kTss, 0x67, ar::kPresent | 0xB};  // busy 64-bit TSS
  s.gdtr = {kGdt, 0x37};
  s.idtr = {kIdt, 0xFFF};
  s.cr4 = kCr4;
  s.cr3 = cr3;
  s.efer = efer::LME | efer::LMA;
  s.cr0 = kCr0;
  cpu.paging_changed(false);
  to_cpu_state(in.fpu, s);
  for (int i = 0; i < 16; ++i) s.gpr[i] = in.gpr[i];
  s.flags.set_bits(in.flags | 2);
  s.rip = kCode;
  const StopReason why = engine.run(kInterpreterBudget);
  for (int i = 0; i < 16; ++i) out.gpr[i] = s.gpr[i];
  out.rip = s.rip;
  out.cr2 = s.cr2;
  mem.read_bytes(kKernelStack - kFrameBytes, out.frame, kFrameBytes);
  mem.read_bytes(kData, out.data, kDataBytes);
  out.fpu = from_cpu_state(s);
  return why == StopReason::Halted && s.cpl() == 0 && s.rip > kHandler && s.rip <= kHandler + 256;
}

bool same(const FpuState& a, const FpuState& b) {
  return a.fip == b.fip && a.fcw == b.fcw && a.fsw == b.fsw && a.ftw == b.ftw && a.mxcsr == b.mxcsr &&
         std::memcmp(a.st, b.st, sizeof a.st) == 0 && std::memcmp(a.xmm, b.xmm, sizeof a.xmm) == 0;
}

bool same(const Outcome& a, const Outcome& b) {
  return same(a.fpu, b.fpu) && a.rip == b.rip && a.cr2 == b.cr2 && std::memcmp(a.gpr, b.gpr, sizeof a.gpr) == 0 &&
         std::memcmp(a.frame, b.frame, kFrameBytes) == 0 && std::memcmp(a.data, b.data, kDataBytes) == 0;
}

}  // namespace vtlab::kvmtest
